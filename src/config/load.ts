// Loads a suite file: YAML (or JSON) → schema validation → errors that name the file, line, column, key and fix.
import { readFile, stat } from 'node:fs/promises';
import { fileKind, mebibytes } from '../platform/local/fsutil.ts';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node } from 'yaml';
import type { z } from 'zod';
import { suiteSchema } from './schema.ts';
import { expandWorkloadPreset } from '../workloads/presets.ts';
import type { Suite } from './schema.ts';

export const EMBEDDED_DEFAULT = '(embedded default)';

export interface ConfigProblem {
  file: string;
  line: number;
  column: number;
  /** Dotted key path, e.g. "scenarios[1].fault.kind". */
  key: string;
  message: string;
  fix: string;
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  return `${where}: ${p.key || '(top level)'}: ${p.message}. Fix: ${p.fix}`;
}

/** The embedded default suite: every default of the schema. */
export function defaultSuite(): Suite {
  return suiteSchema.parse({});
}

/** A suite is a few kilobytes; a file of megabytes is a mistake (or an attack), refused before it is read. */
export const MAX_SUITE_BYTES = 1024 * 1024;

export async function loadSuiteFile(file: string): Promise<Suite> {
  let text: string;
  const refuse = (message: string, fix: string) => new ConfigError([{ file, line: 0, column: 0, key: '', message, fix }]);
  try {
    // Looked at before it is opened: reading a FIFO or a device would block or never end.
    const s = await stat(file);
    if (!s.isFile()) throw refuse(`not a regular file (${fileKind(s)})`, 'pass the path of a YAML suite file');
    if (s.size > MAX_SUITE_BYTES) throw refuse(`the suite file is ${mebibytes(s.size)}, more than the ${MAX_SUITE_BYTES / 1024 / 1024} MiB a suite may have`, 'pass the suite file itself (a few kilobytes of YAML), not a data file');
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError([
      {
        file,
        line: 0,
        column: 0,
        key: '',
        message: code === 'ENOENT' ? 'the suite file does not exist' : `cannot read the suite file (${code ?? String(err)})`,
        fix: 'pass the path of a YAML suite file, or none for the embedded default (`pvbench schema` prints the schema)',
      },
    ]);
  }
  return parseSuite(text, file);
}

/** Alias uses allowed per document: far more than any suite needs, far fewer than an alias bomb. */
const MAX_ALIAS_COUNT = 1000;

export function parseSuite(text: string, file: string): Suite {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
        return {
          file,
          line: pos?.line ?? 0,
          column: pos?.col ?? 0,
          key: '',
          message: `YAML syntax: ${e.message.split('\n')[0]}`,
          fix: 'correct the YAML syntax at that position (indentation, quoting, a missing colon)',
        };
      }),
    );
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (err) {
    // The yaml library stops alias expansion that would explode (a "billion laughs"); ordinary anchors are fine.
    if (!(err instanceof ReferenceError)) throw err;
    throw new ConfigError([{ file, line: 0, column: 0, key: '', message: `the YAML expands its aliases into too many nodes (more than ${MAX_ALIAS_COUNT} alias uses)`, fix: 'write the repeated blocks out, or use fewer nested aliases' }]);
  }
  // A workload preset becomes the keys it stands for; keys that contradict it are refused where they stand.
  const expanded = expandWorkloadPreset(data);
  if (expanded.problems.length > 0) {
    throw new ConfigError(
      expanded.problems.map((p) => {
        const pos = nodeAt(doc, p.path, true)?.range;
        const lc = pos ? lineCounter.linePos(pos[0]) : undefined;
        return { file, line: lc?.line ?? 0, column: lc?.col ?? 0, key: formatPath(p.path), message: p.message, fix: p.fix };
      }),
    );
  }
  const parsed = suiteSchema.safeParse(expanded.data);
  if (parsed.success) return parsed.data;
  throw new ConfigError(parsed.error.issues.map((issue) => toProblem(issue, doc, lineCounter, file)));
}

type Path = (string | number)[];

function toProblem(issue: z.core.$ZodIssue, doc: Document, lc: LineCounter, file: string): ConfigProblem {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  let target = path;
  let message = issue.message;
  let fix = 'see `pvbench schema` for the allowed keys and values';
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    target = [...path, key];
    const known = knownKeys(path, doc);
    const guess = closest(key, known);
    message = `unknown key "${issue.keys.join('", "')}"`;
    fix = guess ? `did you mean "${guess}"? Allowed here: ${known.join(', ')}` : `remove it; allowed here: ${known.join(', ')}`;
  } else if (issue.code === 'invalid_value') {
    const allowed = issue.values.map((v) => JSON.stringify(v)).join(', ');
    message = `${describeValue(doc, path)} is not allowed`;
    fix = `use one of ${allowed}`;
  } else if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') {
    target = path[path.length - 1] === 'kind' ? path : [...path, 'kind'];
    message = `${describeValue(doc, target)} is not a known kind`;
    fix = `set kind to one of ${kindsAt(target.slice(0, -1))}`;
  } else if (issue.code === 'invalid_type') {
    const present = getIn(doc, path) !== undefined;
    message = present ? `expected ${issue.expected}, got ${describeValue(doc, path)}` : `missing required key (expected ${issue.expected})`;
    fix = present ? `give a ${issue.expected}` : `add the key "${String(path[path.length - 1] ?? '')}"`;
  } else if (issue.code === 'too_small' || issue.code === 'too_big') {
    const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
    const op = issue.code === 'too_small' ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
    const what = issue.origin === 'array' ? 'entries' : issue.origin === 'string' ? 'characters' : 'a value';
    message = `${describeValue(doc, path)} is out of range`;
    fix = `use ${what} ${op} ${String(bound)}`;
  } else if (issue.code === 'custom' && typeof issue.params?.fix === 'string') {
    fix = issue.params.fix;
  } else if (issue.code === 'invalid_format') {
    message = `${describeValue(doc, path)} is not valid`;
    fix = issue.message;
  }
  const node = nodeAt(doc, target, issue.code === 'unrecognized_keys');
  const range = node?.range;
  const pos = range ? lc.linePos(range[0]) : undefined;
  return { file, line: pos?.line ?? 0, column: pos?.col ?? 0, key: formatPath(target), message, fix };
}

export function formatPath(path: Path): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out;
}

function getIn(doc: Document, path: Path): unknown {
  return doc.getIn(path, true);
}

function describeValue(doc: Document, path: Path): string {
  const v = doc.getIn(path, false);
  if (v === undefined) return 'nothing';
  if (isScalar(v)) return JSON.stringify(v.value);
  if (typeof v === 'object' && v !== null) return isSeq(v) ? 'a list' : isMap(v) ? 'a mapping' : JSON.stringify(v);
  return JSON.stringify(v);
}

/** The YAML node at a path; for a key, the key node itself (so the position points at the key). */
function nodeAt(doc: Document, path: Path, wantKey: boolean): Node | undefined {
  let node: unknown = doc.contents;
  let deepest: Node | undefined = isNodeLike(node) ? node : undefined;
  for (let i = 0; i < path.length; i++) {
    const step = path[i];
    if (isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && it.key.value === step);
      if (!pair) break;
      if (i === path.length - 1 && wantKey && isNodeLike(pair.key)) return pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof step === 'number') {
      node = node.items[step];
    } else break;
    if (isNodeLike(node)) deepest = node;
  }
  return deepest;
}

function isNodeLike(n: unknown): n is Node {
  return typeof n === 'object' && n !== null && 'range' in n;
}

function knownKeys(path: Path, doc: Document): string[] {
  // Walk the zod schema along the path to list the keys an object accepts there.
  let schema: unknown = suiteSchema;
  for (const step of path) {
    schema = unwrap(schema);
    const def = (schema as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
    if (!def) return [];
    if (def.type === 'object') schema = (def.shape as Record<string, unknown>)[String(step)];
    else if (def.type === 'array') schema = def.element;
    else if (def.type === 'union') {
      const kind = doc.getIn([...path.slice(0, path.indexOf(step)), 'kind']);
      schema = (def.options as unknown[]).find((o) => {
        const shape = (unwrap(o) as { _zod: { def: { shape?: Record<string, unknown> } } })._zod.def.shape;
        const lit = shape?.kind as { _zod?: { def?: { values?: unknown[] } } } | undefined;
        return lit?._zod?.def?.values?.includes(kind);
      });
      schema = (unwrap(schema) as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape?.[String(step)];
    } else return [];
  }
  schema = unwrap(schema);
  const def = (schema as { _zod?: { def?: Record<string, unknown> } } | undefined)?._zod?.def;
  if (def?.type === 'object') return Object.keys(def.shape as object);
  if (def?.type === 'union') {
    const kind = doc.getIn([...path, 'kind']);
    for (const o of def.options as unknown[]) {
      const shape = (unwrap(o) as { _zod: { def: { shape?: Record<string, { _zod?: { def?: { values?: unknown[] } } }> } } })._zod.def.shape;
      if (shape?.kind?._zod?.def?.values?.includes(kind)) return Object.keys(shape);
    }
  }
  return [];
}

/** The discriminator values of the union at a path, for the fix hint. */
function kindsAt(path: Path): string {
  let schema: unknown = suiteSchema;
  for (const step of path) {
    const def = (unwrap(schema) as { _zod?: { def?: Record<string, unknown> } } | undefined)?._zod?.def;
    if (def?.type === 'object') schema = (def.shape as Record<string, unknown>)[String(step)];
    else if (def?.type === 'array') schema = def.element;
    else return 'the kinds in `pvbench schema`';
  }
  const def = (unwrap(schema) as { _zod?: { def?: { type?: string; options?: unknown[] } } } | undefined)?._zod?.def;
  if (def?.type !== 'union' || !def.options) return 'the kinds in `pvbench schema`';
  const kinds = def.options.map((o) => {
    const shape = (unwrap(o) as { _zod: { def: { shape?: Record<string, { _zod?: { def?: { values?: unknown[] } } }> } } })._zod.def.shape;
    return JSON.stringify(shape?.kind?._zod?.def?.values?.[0]);
  });
  return kinds.join(', ');
}

function unwrap(schema: unknown): unknown {
  let s = schema as { _zod?: { def?: { type?: string; innerType?: unknown } } } | undefined;
  while (s?._zod?.def && ['default', 'optional', 'nullable', 'prefault'].includes(s._zod.def.type ?? '')) {
    s = s._zod.def.innerType as typeof s;
  }
  return s;
}

/** The known key nearest to a typo (edit distance ≤ 3), if any. */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = 4;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
