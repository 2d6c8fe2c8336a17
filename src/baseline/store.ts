// The baseline store: earlier results files kept under <history>/<suite>/, or given as a file or directory.
// The only module of baseline/ that does file I/O. Loading never throws for bad files: it skips them and says so
// in the notice, because a broken baseline must not hide the current run's results.
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileKind, mebibytes, writeFileAtomic } from '../platform/local/fsutil.ts';
import { RESULTS_SCHEMA_VERSION } from '../suite/results.ts';
import type { ResultsFile } from '../suite/results.ts';
import type { BaselineInput } from './compare.ts';

const STATUSES = new Set(['passed', 'failed', 'error', 'skipped', 'not-injected']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A results file that cannot be used; `problem` is the short reason without the file name and the fix. */
export class ResultsFileError extends Error {
  readonly problem: string;
  constructor(file: string, problem: string, fix: string) {
    super(`${file}: ${problem}; ${fix}`);
    this.name = 'ResultsFileError';
    this.problem = problem;
  }
}

/** Why a file was skipped, short: "a.json (not valid JSON (…))" or "a.json (EACCES)". */
function skipped(label: string, err: unknown): string {
  return `${label} (${err instanceof ResultsFileError ? err.problem : errorText(err)})`;
}

/**
 * Parse and check a results file: JSON, schemaVersion, the top-level keys and the shape of every trial that the
 * comparison reads. Throws an Error naming the file, the problem and the fix.
 */
export function parseResults(text: string, fileLabel: string): ResultsFile {
  const fail = (problem: string, fix = 'pass a results.json written by `pvbench run`'): never => {
    throw new ResultsFileError(fileLabel, problem, fix);
  };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    fail(`not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!isObject(data)) return fail('not a JSON object');
  if (!('schemaVersion' in data)) fail('no schemaVersion (not a pvbench results file?)');
  if (data.schemaVersion !== RESULTS_SCHEMA_VERSION) {
    fail(
      `schemaVersion ${JSON.stringify(data.schemaVersion)} is not supported (this pvbench reads schemaVersion ${RESULTS_SCHEMA_VERSION})`,
      'produce it again with this pvbench version, or compare without it (--baseline none)',
    );
  }
  const suite = data.suite;
  if (!isObject(suite) || typeof suite.name !== 'string') fail('"suite.name" is missing or not a string');
  const run = data.run;
  if (!isObject(run)) return fail('"run" is missing or not an object');
  if (typeof run.id !== 'string') fail('"run.id" is missing or not a string');
  if (typeof run.startedAt !== 'string') fail('"run.startedAt" is missing or not a string');
  if (typeof run.complete !== 'boolean') fail('"run.complete" is missing or not a boolean');
  for (const k of ['tools', 'scenarios', 'trials'] as const) {
    if (!Array.isArray(data[k])) fail(`"${k}" is missing or not an array`);
  }
  const trials = data.trials as unknown[];
  trials.forEach((t, i) => {
    const where = `trials[${i}]`;
    if (!isObject(t)) return fail(`${where} is not an object`);
    if (typeof t.tool !== 'string' || typeof t.scenario !== 'string') fail(`${where} has no "tool" or "scenario" name`);
    if (typeof t.trial !== 'number') fail(`${where}.trial is not a number`);
    if (!STATUSES.has(t.status as string)) fail(`${where}.status ${JSON.stringify(t.status)} is not one of passed, failed, error, skipped, not-injected`);
    if (!isObject(t.fault)) fail(`${where}.fault is missing`);
    return undefined;
  });
  return data as unknown as ResultsFile;
}

/** Far above any real run (a 100-trial run of every tool and scenario is a few MiB), far below memory trouble. */
export const MAX_RESULTS_BYTES = 256 * 1024 * 1024;

/** Read and check a results file; its size and kind are looked at first, so a huge or special file is never read. */
export async function readResults(path: string, label: string): Promise<ResultsFile> {
  const s = await stat(path);
  const fix = 'pass a results.json written by `pvbench run`';
  if (!s.isFile()) throw new ResultsFileError(label, `not a regular file (${fileKind(s)})`, fix);
  if (s.size > MAX_RESULTS_BYTES) throw new ResultsFileError(label, `the file is ${mebibytes(s.size)}, more than the ${MAX_RESULTS_BYTES / 1024 / 1024} MiB a results file may have`, fix);
  return parseResults(await readFile(path, 'utf8'), label);
}

/** A path segment from untrusted text: letters, digits, '.', '_' and '-' only; never empty, '.' or '..'. */
export function safeSegment(text: string): string {
  const s = text.replace(/[^A-Za-z0-9._-]/g, '-');
  return s === '' || /^\.+$/.test(s) ? '_' : s;
}

/**
 * Keep a complete run as a future baseline: <historyDir>/<suite>/<startedAt>-<run id>.json (names sanitized, so they
 * sort by start time). Returns the path. Refuses an incomplete run: its missing trials would skew the baseline.
 */
export async function saveToHistory(historyDir: string, results: ResultsFile): Promise<string> {
  if (!results.run.complete) {
    throw new Error(`run ${results.run.id} is incomplete: only complete runs are kept as a baseline (let the run finish)`);
  }
  const dir = join(historyDir, safeSegment(results.suite.name));
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${safeSegment(results.run.startedAt)}-${safeSegment(results.run.id)}.json`);
  await writeFileAtomic(path, JSON.stringify(results, null, 2) + '\n');
  return path;
}

function errorText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code) return code;
  return err instanceof Error ? err.message : String(err);
}

/** Newest first by run start time, then by run id (deterministic). */
function newestFirst(a: ResultsFile, b: ResultsFile): number {
  const ta = Date.parse(a.run.startedAt);
  const tb = Date.parse(b.run.startedAt);
  const na = Number.isNaN(ta) ? -Infinity : ta;
  const nb = Number.isNaN(tb) ? -Infinity : tb;
  if (na !== nb) return nb - na;
  return a.run.id < b.run.id ? 1 : a.run.id > b.run.id ? -1 : 0;
}

function joinNotices(parts: string[]): string | undefined {
  return parts.length ? parts.join('; ') : undefined;
}

function withNotice(input: BaselineInput, notices: string[]): BaselineInput {
  const notice = joinNotices(notices);
  if (notice) input.notice = notice;
  return input;
}

/** Up to a few file names, then "and N more". */
function listSome(names: string[], max = 3): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

/**
 * The newest `maxRuns` complete runs of a suite from <historyDir>/<suite>/. A missing directory is an empty
 * baseline (the first run); unreadable or invalid files are skipped and named in the notice.
 */
export async function loadHistory(historyDir: string, opts: { suiteName: string; maxRuns: number }): Promise<BaselineInput> {
  const dir = join(historyDir, safeSegment(opts.suiteName));
  const source = `history (${dir})`;
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && e.name.endsWith('.json')).map((e) => e.name);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const notice =
      code === 'ENOENT'
        ? `no earlier runs of suite "${opts.suiteName}" in ${dir} yet; this run becomes the baseline for the next one`
        : `cannot read the history directory ${dir} (${errorText(err)}); comparing without a baseline`;
    return { runs: [], source, notice };
  }
  // File names start with the sanitized start time, so the newest come last in name order.
  names.sort().reverse();
  const runs: ResultsFile[] = [];
  const bad: string[] = [];
  let incomplete = 0;
  let otherSuite = 0;
  for (const name of names) {
    if (runs.length >= opts.maxRuns) break;
    let r: ResultsFile;
    try {
      r = await readResults(join(dir, name), name);
    } catch (err) {
      bad.push(skipped(name, err));
      continue;
    }
    if (!r.run.complete) {
      incomplete++;
      continue;
    }
    if (r.suite.name !== opts.suiteName) {
      otherSuite++;
      continue;
    }
    runs.push(r);
  }
  runs.sort(newestFirst);
  const notices: string[] = [];
  if (bad.length) notices.push(`skipped ${plural(bad.length, 'unreadable history file')} in ${dir}: ${listSome(bad)}`);
  if (incomplete) notices.push(`skipped ${plural(incomplete, 'incomplete run')}`);
  if (otherSuite) notices.push(`skipped ${plural(otherSuite, 'run')} of another suite`);
  if (names.length === 0) notices.push(`no earlier runs of suite "${opts.suiteName}" in ${dir} yet; this run becomes the baseline for the next one`);
  else if (runs.length === 0) notices.push('no usable earlier run; comparing without a baseline');
  return withNotice({ runs, source }, notices);
}

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? '' : 's'}`;
}

/** .json files below a directory, at most three levels deep, sorted. */
async function jsonFiles(dir: string, depth = 0): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() && depth < 3) out.push(...(await jsonFiles(p, depth + 1)));
    else if (e.isFile() && e.name.endsWith('.json')) out.push(p);
  }
  return out.sort();
}

/**
 * A baseline given explicitly: one results file, or a directory of them (searched three levels deep, e.g. a
 * downloaded artifact). A missing path or a bad file gives an empty baseline with a notice, never an exception.
 * From a directory only complete runs of `suiteName` are used; a single file is used as given (with a notice when
 * it is incomplete or of another suite).
 */
export async function loadBaselineFile(path: string, suiteName: string): Promise<BaselineInput> {
  const source = `file (${path})`;
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const notice =
      code === 'ENOENT'
        ? `baseline ${path} does not exist; comparing without a baseline (check compare.baseline.path or --baseline)`
        : `cannot read the baseline ${path} (${errorText(err)}); comparing without a baseline`;
    return { runs: [], source, notice };
  }

  if (!isDir) {
    let r: ResultsFile;
    try {
      r = await readResults(path, path);
    } catch (err) {
      const why = err instanceof ResultsFileError ? err.message : `cannot read ${path} (${errorText(err)})`;
      return { runs: [], source, notice: `${why}; comparing without a baseline` };
    }
    const notices: string[] = [];
    if (!r.run.complete) notices.push(`baseline run ${r.run.id} is incomplete; using the trials it has`);
    if (r.suite.name !== suiteName) notices.push(`baseline is from suite "${r.suite.name}", not "${suiteName}"; comparing tools and scenarios by name`);
    return withNotice({ runs: [r], source }, notices);
  }

  let files: string[];
  try {
    files = await jsonFiles(path);
  } catch (err) {
    return { runs: [], source, notice: `cannot list the baseline directory ${path} (${errorText(err)}); comparing without a baseline` };
  }
  const runs: ResultsFile[] = [];
  const bad: string[] = [];
  let incomplete = 0;
  let otherSuite = 0;
  for (const f of files) {
    let r: ResultsFile;
    try {
      r = await readResults(f, f);
    } catch (err) {
      bad.push(skipped(relative(path, f), err));
      continue;
    }
    if (!r.run.complete) incomplete++;
    else if (r.suite.name !== suiteName) otherSuite++;
    else runs.push(r);
  }
  runs.sort(newestFirst);
  const notices: string[] = [];
  if (bad.length) notices.push(`skipped ${plural(bad.length, 'invalid results file')} in ${path}: ${listSome(bad)}`);
  if (incomplete) notices.push(`skipped ${plural(incomplete, 'incomplete run')}`);
  if (otherSuite) notices.push(`skipped ${plural(otherSuite, 'run')} of other suites (not "${suiteName}")`);
  if (runs.length === 0) notices.push(`no complete run of suite "${suiteName}" in ${path}; comparing without a baseline`);
  return withNotice({ runs, source }, notices);
}
