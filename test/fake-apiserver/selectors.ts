// TEST-ONLY. Kubernetes label selectors (equality, inequality, set-based in/notin, exists / !exists, gt/lt) and field
// selectors (=, ==, != on dotted paths, with \, \= \\ escapes), as the apiserver parses them from query strings.

export class SelectorError extends Error {}

export type LabelRequirement =
  | { key: string; op: 'exists' | '!exists' }
  | { key: string; op: '=' | '!='; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'gt' | 'lt'; value: number };

export type Labels = Record<string, string> | undefined | null;

const KEY_CHARS = /[A-Za-z0-9._\/-]/;

/** Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h`. Throws SelectorError with Kubernetes-like wording. */
export function parseLabelSelector(sel: string): LabelRequirement[] {
  const reqs: LabelRequirement[] = [];
  let i = 0;
  const s = sel;
  const ws = () => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  const word = (): string => {
    const start = i;
    while (i < s.length && KEY_CHARS.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  const fail = (msg: string): never => {
    throw new SelectorError(`unable to parse requirement: ${msg}`);
  };
  ws();
  if (i >= s.length) return reqs;
  for (;;) {
    ws();
    let neg = false;
    if (s[i] === '!') {
      neg = true;
      i++;
      ws();
    }
    const key = word();
    if (!key) fail(`found '${s[i] ?? ''}', expected: identifier`);
    validateLabelKey(key);
    ws();
    if (neg) {
      reqs.push({ key, op: '!exists' });
    } else if (i >= s.length || s[i] === ',') {
      reqs.push({ key, op: 'exists' });
    } else if (s.startsWith('!=', i)) {
      i += 2;
      ws();
      reqs.push({ key, op: '!=', value: checkValue(word()) });
    } else if (s.startsWith('==', i)) {
      i += 2;
      ws();
      reqs.push({ key, op: '=', value: checkValue(word()) });
    } else if (s[i] === '=') {
      i += 1;
      ws();
      reqs.push({ key, op: '=', value: checkValue(word()) });
    } else if (s[i] === '>' || s[i] === '<') {
      const op = s[i] === '>' ? 'gt' : 'lt';
      i++;
      ws();
      const w = word();
      if (!/^-?\d+$/.test(w)) fail(`for 'gt', 'lt' operators, the value must be an integer`);
      reqs.push({ key, op, value: Number(w) });
    } else {
      const opWord = word();
      if (opWord !== 'in' && opWord !== 'notin') fail(`found '${opWord || s[i]}', expected: in, notin, =, ==, !=, gt, lt`);
      ws();
      if (s[i] !== '(') fail(`found '${s[i] ?? ''}', expected: '('`);
      i++;
      const values: string[] = [];
      for (;;) {
        ws();
        values.push(checkValue(word()));
        ws();
        if (s[i] === ',') {
          i++;
          continue;
        }
        if (s[i] === ')') {
          i++;
          break;
        }
        fail(`found '${s[i] ?? ''}', expected: ',', ')'`);
      }
      reqs.push({ key, op: opWord === 'in' ? 'in' : 'notin', values });
    }
    ws();
    if (i >= s.length) break;
    if (s[i] !== ',') fail(`found '${s[i]}', expected: ',' or 'end of string'`);
    i++;
  }
  return reqs;
}

function validateLabelKey(key: string): void {
  const parts = key.split('/');
  const name = parts[parts.length - 1]!;
  if (parts.length > 2 || name.length === 0 || name.length > 63 || !/^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/.test(name)) {
    throw new SelectorError(`unable to parse requirement: invalid label key "${key}"`);
  }
}

function checkValue(v: string): string {
  if (v.length > 63 || !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v)) {
    throw new SelectorError(`unable to parse requirement: invalid label value: "${v}"`);
  }
  return v;
}

export function matchLabels(reqs: LabelRequirement[], labels: Labels): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.hasOwn(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case 'exists':
        return has;
      case '!exists':
        return !has;
      case '=':
        return has && v === r.value;
      case '!=':
        return !has || v !== r.value;
      case 'in':
        return has && r.values.includes(v!);
      case 'notin':
        return !has || !r.values.includes(v!);
      case 'gt':
      case 'lt': {
        if (!has || !/^-?\d+$/.test(v!)) return false;
        return r.op === 'gt' ? Number(v) > r.value : Number(v) < r.value;
      }
    }
  });
}

/** A metav1.LabelSelector ({matchLabels, matchExpressions}) as requirements. */
export function labelSelectorFromObject(sel: unknown): LabelRequirement[] {
  const out: LabelRequirement[] = [];
  if (typeof sel !== 'object' || sel === null) return out;
  const { matchLabels: ml, matchExpressions: me } = sel as { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
  for (const [k, v] of Object.entries(ml ?? {})) out.push({ key: k, op: '=', value: v });
  for (const e of me ?? []) {
    if (e.operator === 'In') out.push({ key: e.key, op: 'in', values: e.values ?? [] });
    else if (e.operator === 'NotIn') out.push({ key: e.key, op: 'notin', values: e.values ?? [] });
    else if (e.operator === 'Exists') out.push({ key: e.key, op: 'exists' });
    else if (e.operator === 'DoesNotExist') out.push({ key: e.key, op: '!exists' });
  }
  return out;
}

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

/** Parses `metadata.name=x,status.phase!=Running`. */
export function parseFieldSelector(sel: string): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  if (sel.trim() === '') return out;
  // split on unescaped commas
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < sel.length; i++) {
    const c = sel[i]!;
    if (c === '\\' && i + 1 < sel.length) {
      cur += c + sel[i + 1];
      i++;
    } else if (c === ',') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  for (const part of parts) {
    let idx = -1;
    let op: '=' | '!=' = '=';
    let oplen = 1;
    for (let i = 0; i < part.length; i++) {
      if (part[i] === '\\') {
        i++;
        continue;
      }
      if (part.startsWith('!=', i)) {
        idx = i;
        op = '!=';
        oplen = 2;
        break;
      }
      if (part.startsWith('==', i)) {
        idx = i;
        oplen = 2;
        break;
      }
      if (part[i] === '=') {
        idx = i;
        break;
      }
    }
    if (idx <= 0) throw new SelectorError(`invalid selector: '${sel}'; can't understand '${part}'`);
    const unescape = (x: string) => x.replace(/\\(.)/g, '$1');
    out.push({ field: part.slice(0, idx).trim(), op, value: unescape(part.slice(idx + oplen).trim()) });
  }
  return out;
}

/** The string a field selector compares against: nested value at a dotted path, '' when absent. */
export function fieldValue(obj: unknown, dotted: string): string {
  let cur: unknown = obj;
  for (const k of dotted.split('.')) {
    if (typeof cur !== 'object' || cur === null) return '';
    cur = (cur as Record<string, unknown>)[k];
  }
  if (cur === undefined || cur === null) return '';
  return typeof cur === 'string' ? cur : String(cur);
}

export function matchFields(reqs: FieldRequirement[], obj: unknown): boolean {
  return reqs.every((r) => {
    const v = fieldValue(obj, r.field);
    return r.op === '=' ? v === r.value : v !== r.value;
  });
}
