// The post step's work: stop processes the run left behind, remove what it created. Each step is independent
// and reports its problems instead of throwing: cleanup never fails the job.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, resolve, sep } from 'node:path';
import { pidAlive as alive } from '../platform/processes.ts';
import { RUN_MARKER_ENV } from './state.ts';
import type { CleanupState } from './state.ts';

export interface CleanupReport {
  killed: number[];
  removed: string[];
  clusters: string[];
  problems: string[];
}

export interface CleanupOptions {
  log: (msg: string) => void;
  /** /proc, for tests. */
  procDir?: string;
  /** How long processes get after SIGTERM before SIGKILL. */
  graceMs?: number;
  env?: Record<string, string | undefined>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Processes whose environment carries this run's marker (every process the main step started inherits it). */
export async function markedProcesses(marker: string, procDir = '/proc'): Promise<number[]> {
  const entry = `${RUN_MARKER_ENV}=${marker}`;
  const out: number[] = [];
  let names: string[];
  try {
    names = await readdir(procDir);
  } catch {
    return out;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    try {
      const env = (await readFile(`${procDir}/${name}/environ`)).toString('utf8').split('\0');
      if (env.includes(entry)) out.push(pid);
    } catch {
      // Gone, or another user's process.
    }
  }
  return out;
}

async function cmdlineOf(pid: number, procDir: string): Promise<string> {
  try {
    return (await readFile(`${procDir}/${pid}/cmdline`)).toString('utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

async function stopProcesses(pids: number[], graceMs: number): Promise<number[]> {
  const targets = pids.filter(alive);
  for (const pid of targets) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
  const deadline = Date.now() + graceMs;
  while (targets.some(alive) && Date.now() < deadline) await sleep(50);
  for (const pid of targets.filter(alive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  return targets;
}

/** Refuse to remove paths that cannot be a run's own directory. */
export function safeToRemove(path: string, env: Record<string, string | undefined> = process.env): boolean {
  if (!isAbsolute(path)) return false;
  const p = resolve(path);
  const forbidden = new Set(['/', homedir(), env.GITHUB_WORKSPACE, env.RUNNER_TEMP, env.RUNNER_TOOL_CACHE, process.cwd()].filter((x): x is string => !!x).map((x) => resolve(x)));
  if (forbidden.has(p)) return false;
  return p.split(sep).filter(Boolean).length >= 2;
}

function runKind(args: string[], timeoutMs: number): Promise<void> {
  return new Promise((res, rej) => {
    execFile('kind', args, { timeout: timeoutMs }, (err, _stdout, stderr) => (err ? rej(new Error(`${err.message.split('\n')[0]}${stderr ? `: ${stderr.trim().split('\n').pop()}` : ''}`)) : res()));
  });
}

export async function cleanup(state: CleanupState, o: CleanupOptions): Promise<CleanupReport> {
  const report: CleanupReport = { killed: [], removed: [], clusters: [], problems: [] };
  const procDir = o.procDir ?? '/proc';
  const env = o.env ?? process.env;

  // 1. Processes: the main step (if a cancel left it running) and everything carrying the run marker.
  try {
    const pids = new Set<number>();
    for (const pid of state.pids) {
      if (pid === process.pid || !alive(pid)) continue;
      const cmd = await cmdlineOf(pid, procDir);
      if (state.mainScript && cmd.includes(state.mainScript)) pids.add(pid);
    }
    if (state.runMarker) for (const pid of await markedProcesses(state.runMarker, procDir)) pids.add(pid);
    if (pids.size) {
      report.killed = await stopProcesses([...pids], o.graceMs ?? 3000);
      if (report.killed.length) o.log(`stopped ${report.killed.length} leftover process(es): ${report.killed.join(', ')}`);
    }
  } catch (err) {
    report.problems.push(`stopping processes: ${err instanceof Error ? err.message : String(err)}`);
  }

  // 2. What the platform created, unless the pipeline already cleaned up or the suite keeps it.
  const platformWork = !state.finished && !state.keep;
  if (!platformWork && (state.platformDirs.length || state.kindClusters.length)) {
    o.log(state.keep ? 'the suite keeps its work directory / cluster (keep: true): left in place' : 'the run finished and removed its own work directory');
  }
  if (platformWork) {
    for (const name of state.kindClusters) {
      try {
        await runKind(['delete', 'cluster', '--name', name], 180_000);
        report.clusters.push(name);
        o.log(`deleted kind cluster ${name}`);
      } catch (err) {
        report.problems.push(`deleting kind cluster ${name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
  const dirs = [...(platformWork ? state.platformDirs : []), ...state.tempDirs];
  for (const dir of dirs) {
    if (!safeToRemove(dir, env)) {
      report.problems.push(`not removing ${dir}: not a directory the run created`);
      continue;
    }
    try {
      if (!existsSync(dir)) continue;
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
      report.removed.push(dir);
      o.log(`removed ${dir}`);
    } catch (err) {
      report.problems.push(`removing ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  return report;
}
