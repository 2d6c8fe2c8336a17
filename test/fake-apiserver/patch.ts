// TEST-ONLY. Patch formats the fake API server accepts:
// - JSON merge patch (RFC 7386, application/merge-patch+json)
// - JSON patch (RFC 6902, application/json-patch+json)
// - strategic merge patch for built-in kinds (application/strategic-merge-patch+json), approximated: merge patch plus
//   merge-by-key for the well-known list fields (containers by name, volumeMounts by mountPath, ports by
//   containerPort/port, conditions by type, ownerReferences by uid, ...), set-merge of metadata.finalizers,
//   `$patch: delete|replace`, `$deleteFromPrimitiveList/<field>`; `$setElementOrder` and `$retainKeys` are dropped.
// - apply (server-side apply, application/apply-patch+yaml), approximated as a recursive merge without field
//   ownership: maps merge, lists with known keys merge by key, other lists are replaced; nothing is removed.

export class PatchError extends Error {
  /** 400 for a malformed patch document, 422 when a well-formed patch cannot be applied. */
  code: 400 | 422;
  constructor(message: string, code: 400 | 422) {
    super(message);
    this.code = code;
  }
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canon(a)) === JSON.stringify(canon(b));
}
function canon(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canon);
  if (isObj(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])]));
  return v;
}

export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  const out: Obj = isObj(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

function parsePointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw new PatchError(`invalid JSON pointer: ${JSON.stringify(p)}`, 400);
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function getAt(doc: unknown, tokens: string[], op: string, path: string): unknown {
  let cur = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) {
      const i = Number(t);
      if (!/^\d+$/.test(t) || i >= cur.length) throw new PatchError(`${op} operation does not apply: doc is missing path: "${path}"`, 422);
      cur = cur[i];
    } else if (isObj(cur) && Object.hasOwn(cur, t)) cur = cur[t];
    else throw new PatchError(`${op} operation does not apply: doc is missing path: "${path}"`, 422);
  }
  return cur;
}

function remove(doc: unknown, tokens: string[], op: string, path: string): unknown {
  const parent = getAt(doc, tokens.slice(0, -1), op, path);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) {
    const i = Number(last);
    if (!/^\d+$/.test(last) || i >= parent.length) throw new PatchError(`${op} operation does not apply: doc is missing path: "${path}"`, 422);
    return parent.splice(i, 1)[0];
  }
  if (isObj(parent) && Object.hasOwn(parent, last)) {
    const v = parent[last];
    delete parent[last];
    return v;
  }
  throw new PatchError(`${op} operation does not apply: doc is missing path: "${path}"`, 422);
}

function add(doc: unknown, tokens: string[], value: unknown, op: string, path: string, replace: boolean): unknown {
  if (tokens.length === 0) return value;
  const parent = getAt(doc, tokens.slice(0, -1), op, path);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) {
    if (replace) {
      const i = Number(last);
      if (!/^\d+$/.test(last) || i >= parent.length) throw new PatchError(`replace operation does not apply: doc is missing key: ${path}`, 422);
      parent[i] = value;
    } else if (last === '-') parent.push(value);
    else {
      const i = Number(last);
      if (!/^\d+$/.test(last) || i > parent.length) throw new PatchError(`add operation does not apply: index out of bounds: ${path}`, 422);
      parent.splice(i, 0, value);
    }
  } else if (isObj(parent)) {
    if (replace && !Object.hasOwn(parent, last)) throw new PatchError(`replace operation does not apply: doc is missing key: ${path}`, 422);
    parent[last] = value;
  } else throw new PatchError(`${op} operation does not apply: doc is missing path: "${path}"`, 422);
  return doc;
}

export function applyJsonPatch(target: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw new PatchError('json patch must be an array of operations', 400);
  let doc = clone(target);
  for (const opv of patch) {
    if (!isObj(opv) || typeof opv.op !== 'string' || typeof opv.path !== 'string') {
      throw new PatchError(`invalid json patch operation: ${JSON.stringify(opv)}`, 400);
    }
    const { op, path } = opv;
    const tokens = parsePointer(path);
    switch (op) {
      case 'add':
        if (!Object.hasOwn(opv, 'value')) throw new PatchError('add operation missing value', 400);
        doc = add(doc, tokens, clone(opv.value), op, path, false);
        break;
      case 'replace':
        if (!Object.hasOwn(opv, 'value')) throw new PatchError('replace operation missing value', 400);
        doc = tokens.length === 0 ? clone(opv.value) : add(doc, tokens, clone(opv.value), op, path, true);
        break;
      case 'remove':
        if (tokens.length === 0) throw new PatchError('remove operation cannot remove the document root', 422);
        remove(doc, tokens, op, path);
        break;
      case 'move':
      case 'copy': {
        if (typeof opv.from !== 'string') throw new PatchError(`${op} operation missing from`, 400);
        const from = parsePointer(opv.from);
        const v = op === 'move' ? remove(doc, from, op, opv.from) : clone(getAt(doc, from, op, opv.from));
        doc = add(doc, tokens, v, op, path, false);
        break;
      }
      case 'test': {
        let cur: unknown;
        try {
          cur = getAt(doc, tokens, op, path);
        } catch {
          throw new PatchError(`testing value ${path} failed: doc is missing path`, 422);
        }
        if (!deepEqual(cur, opv.value)) throw new PatchError(`testing value ${path} failed: test failed`, 422);
        break;
      }
      default:
        throw new PatchError(`Unexpected kind: ${op}`, 400);
    }
  }
  return doc;
}

/** Merge keys of well-known built-in list fields (by field name; `ports` picks containerPort or port). */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  conditions: 'type',
  ownerReferences: 'uid',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
  containerStatuses: 'name',
  initContainerStatuses: 'name',
};
const SET_LISTS = new Set(['finalizers']);

function mergeKeyFor(field: string, items: unknown[]): string | undefined {
  if (field === 'ports') return items.some((i) => isObj(i) && 'containerPort' in i) ? 'containerPort' : 'port';
  return MERGE_KEYS[field];
}

function smpValue(field: string, target: unknown, patch: unknown): unknown {
  if (isObj(patch)) {
    if (patch.$patch === 'replace') {
      const p = clone(patch);
      delete p.$patch;
      return stripDirectives(p);
    }
    if (patch.$patch === 'delete') return undefined;
    return smpObject(isObj(target) ? target : {}, patch);
  }
  if (Array.isArray(patch)) {
    const tgt = Array.isArray(target) ? target : [];
    if (SET_LISTS.has(field)) {
      const out = clone(tgt);
      for (const v of patch) if (!out.some((x) => deepEqual(x, v))) out.push(clone(v));
      return out;
    }
    const key = mergeKeyFor(field, [...tgt, ...patch]);
    if (!key) return stripDirectives(clone(patch));
    const out: unknown[] = clone(tgt);
    for (const item of patch) {
      if (isObj(item) && item.$patch === 'replace' && !(key in item)) return [];
      const idx = isObj(item) ? out.findIndex((o) => isObj(o) && deepEqual(o[key], item[key])) : -1;
      if (isObj(item) && item.$patch === 'delete') {
        if (idx >= 0) out.splice(idx, 1);
      } else if (idx >= 0) out[idx] = smpObject(out[idx] as Obj, item as Obj);
      else out.push(stripDirectives(clone(item)));
    }
    return out;
  }
  return clone(patch);
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x);
  return out;
}

function smpObject(target: Obj, patch: Obj): Obj {
  const out = clone(target);
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const f = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[f]) && Array.isArray(v)) out[f] = (out[f] as unknown[]).filter((x) => !v.some((d) => deepEqual(d, x)));
      continue;
    }
    if (k.startsWith('$')) continue;
    if (v === null) {
      delete out[k];
      continue;
    }
    const merged = smpValue(k, out[k], v);
    if (merged === undefined) delete out[k];
    else out[k] = merged;
  }
  return out;
}

export function applyStrategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) throw new PatchError('strategic merge patch must be a JSON object', 400);
  return smpObject(isObj(target) ? target : {}, patch);
}

/**
 * Server-side apply, approximated: recursive merge where `listKeys(path)` names the key of list-map fields (from the
 * CRD schema's x-kubernetes-list-map-keys, or MERGE_KEYS for built-ins). No field ownership, nothing is removed.
 */
export function applyApply(target: unknown, config: unknown, listKeys: (path: string[]) => string[] | undefined, p: string[] = []): unknown {
  if (isObj(config)) {
    const out: Obj = isObj(target) ? clone(target) : {};
    for (const [k, v] of Object.entries(config)) {
      if (v === null) delete out[k];
      else out[k] = applyApply(out[k], v, listKeys, [...p, k]);
    }
    return out;
  }
  if (Array.isArray(config)) {
    const field = p[p.length - 1] ?? '';
    const keys = listKeys(p) ?? (mergeKeyFor(field, config) ? [mergeKeyFor(field, config)!] : undefined);
    if (!keys || !Array.isArray(target)) return clone(config);
    const out = clone(target);
    for (const item of config) {
      const idx = isObj(item) ? out.findIndex((o) => isObj(o) && keys.every((k) => deepEqual(o[k], item[k]))) : -1;
      if (idx >= 0) out[idx] = applyApply(out[idx], item, listKeys, [...p, '[]']);
      else out.push(clone(item));
    }
    return out;
  }
  return clone(config);
}
