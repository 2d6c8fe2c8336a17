// Which earlier runs may be pooled into one baseline: only runs measured the same way. A run of another results
// schema, suite (seed, platform, workload settings) or host class (CPUs, memory) is left out whole; the trials of a
// tool whose version (or key derivation) differs from the newest baseline run's are left out of that tool's pool.
// Whatever is left out is named, never silently pooled. Pure.
import { describeKeyDerivation } from '../suite/results.ts';
import type { ResultsFile, ToolInfo } from '../suite/results.ts';

/** What must match between this run and a baseline run, known before the run starts. */
export interface RunIdentity {
  schemaVersion: number;
  suite: { seed: number; platform: string; workload?: Record<string, unknown> };
  host?: { cpus: number; memoryBytes: number };
}

/** Memory totals within this fraction of each other are one host class (one machine type reports a little more or less). */
export const MEMORY_TOLERANCE = 0.1;

export function runIdentity(r: Pick<ResultsFile, 'schemaVersion' | 'suite' | 'run'>): RunIdentity {
  const id: RunIdentity = { schemaVersion: r.schemaVersion, suite: { seed: r.suite.seed, platform: r.suite.platform } };
  if (r.suite.workload) id.suite.workload = r.suite.workload;
  const h = r.run?.host;
  if (h && typeof h.cpus === 'number' && typeof h.memoryBytes === 'number') id.host = { cpus: h.cpus, memoryBytes: h.memoryBytes };
  return id;
}

function hostText(h: { cpus: number; memoryBytes: number }): string {
  return `${h.cpus} ${h.cpus === 1 ? 'CPU' : 'CPUs'}, ${(h.memoryBytes / 1024 ** 3).toFixed(1)} GiB`;
}

/** Nested settings as dotted keys: { churn: { appendLines: 1 } } → churn.appendLines. */
function flatten(o: Record<string, unknown>, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  for (const [k, v] of Object.entries(o)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, `${prefix}${k}.`, out);
    else out.set(`${prefix}${k}`, v);
  }
  return out;
}

function valueText(v: unknown): string {
  return v === undefined ? '(unset)' : typeof v === 'string' ? v : JSON.stringify(v);
}

/** How a baseline run differs from this one in what makes figures comparable; empty when it may be pooled. */
export function runDifferences(cur: RunIdentity, other: Pick<ResultsFile, 'schemaVersion' | 'suite' | 'run'>): string[] {
  const out: string[] = [];
  const o = runIdentity(other);
  if (o.schemaVersion !== cur.schemaVersion) out.push(`results schema ${valueText(o.schemaVersion)} (this run: ${cur.schemaVersion})`);
  if (o.suite.seed !== cur.suite.seed) out.push(`seed ${valueText(o.suite.seed)} (this run: ${cur.suite.seed})`);
  if (o.suite.platform !== cur.suite.platform) out.push(`platform ${valueText(o.suite.platform)} (this run: ${cur.suite.platform})`);
  if (o.suite.workload && cur.suite.workload) {
    const a = flatten(cur.suite.workload);
    const b = flatten(o.suite.workload);
    for (const k of new Set([...a.keys(), ...b.keys()])) {
      if (JSON.stringify(a.get(k)) !== JSON.stringify(b.get(k))) out.push(`workload ${k} ${valueText(b.get(k))} (this run: ${valueText(a.get(k))})`);
    }
  }
  if (o.host && cur.host) {
    const mem = Math.abs(o.host.memoryBytes - cur.host.memoryBytes) / Math.max(o.host.memoryBytes, cur.host.memoryBytes, 1);
    if (o.host.cpus !== cur.host.cpus || mem > MEMORY_TOLERANCE) out.push(`host ${hostText(o.host)} (this run: ${hostText(cur.host)})`);
  }
  return out;
}

/**
 * What a tool's figures depend on besides the machine: its type, its version, how the repository key is derived
 * (restic: pvbench's fixed scrypt parameters, or "calibrated", whose parameters differ on every run; kopia: pbkdf2 or
 * scrypt) and, for restic, its chunker polynomial (pvbench's fixed one, or a random one).
 */
export function toolIdentity(t: ToolInfo | undefined): string | undefined {
  if (!t) return undefined;
  const kd = t.keyDerivation;
  const key = kd ? ` key ${kd.mode === 'calibrated' ? 'calibrated' : describeKeyDerivation(kd)}` : '';
  // restic's chunks (what a backup adds, the repository's size) follow its chunker polynomial: pvbench's fixed one
  // is named, so results with a random one (options.chunker: random, or from before it was fixed) stay apart.
  const chunker = t.type === 'restic' && t.chunker?.mode === 'fixed' ? ` chunker ${t.chunker.polynomial}` : '';
  return `${t.type} ${t.version ?? '(version unknown)'}${key}${chunker}`;
}

export interface BaselineSplit {
  /** The runs that may be pooled, in the order given. */
  runs: ResultsFile[];
  /** Per pooled run, the tools whose trials are left out. */
  excludedTools: Map<ResultsFile, Set<string>>;
  /** What was left out and why, newest first: whole runs, then tools' trials. */
  leftOut: string[];
  /** Tools this run measured with another version than the baseline has. */
  acrossVersions: string[];
}

function startTime(r: ResultsFile): number {
  const t = Date.parse(r.run.startedAt);
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
}

/** Newest first by start time, then by run id, whatever order the loader gave. */
function newestFirst(a: ResultsFile, b: ResultsFile): number {
  return startTime(b) - startTime(a) || (a.run.id < b.run.id ? 1 : a.run.id > b.run.id ? -1 : 0);
}

/** Which runs, and which tools' trials of them, may be pooled as the baseline of `current`. */
export function splitBaseline(current: ResultsFile, runs: readonly ResultsFile[]): BaselineSplit {
  const id = runIdentity(current);
  const leftOut: string[] = [];
  const keep = new Set<ResultsFile>();
  // Named newest first, whatever order the loader gave.
  const byAge = [...runs].sort(newestFirst);
  for (const r of byAge) {
    const diffs = runDifferences(id, r);
    if (diffs.length) leftOut.push(`run ${r.run.id}: ${diffs.join(', ')}`);
    else keep.add(r);
  }
  const kept = byAge.filter((r) => keep.has(r));
  // The newest pooled run that ran a tool sets that tool's version for the pool.
  const reference = new Map<string, string>();
  for (const r of kept) {
    for (const t of r.tools) {
      const ident = toolIdentity(t);
      if (t.status === 'ok' && ident && !reference.has(t.name)) reference.set(t.name, ident);
    }
  }
  const excludedTools = new Map<ResultsFile, Set<string>>();
  for (const r of kept) {
    for (const t of r.tools) {
      const ident = toolIdentity(t);
      const ref = reference.get(t.name);
      if (t.status !== 'ok' || !ident || !ref || ident === ref) continue;
      if (!r.trials.some((x) => x.tool === t.name)) continue;
      let set = excludedTools.get(r);
      if (!set) excludedTools.set(r, (set = new Set()));
      set.add(t.name);
      leftOut.push(`the ${t.name} trials of run ${r.run.id}: ${ident} (the newest baseline run has ${ref})`);
    }
  }
  const acrossVersions: string[] = [];
  for (const t of current.tools) {
    const ident = toolIdentity(t);
    const ref = reference.get(t.name);
    if (t.status === 'ok' && ident && ref && ident !== ref) acrossVersions.push(`${t.name} is ${ident} in this run and ${ref} in the baseline: compared across versions`);
  }
  return { runs: runs.filter((r) => keep.has(r)), excludedTools, leftOut, acrossVersions };
}
