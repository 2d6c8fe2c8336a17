// The faultfs process (scripts/faultfs/): a FUSE pass-through layer mounted over a directory that strikes at an exact
// byte of the reads or writes through it. This file finds the binary, starts it (argument array, dies with pvbench),
// waits for its mount, reads what it reports (JSON lines on stdout), and takes it down again: fusermount -u of its
// path, then its pid. A mount left by a pvbench that dies anyway is detached on exit.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { diesWithParent, executable, onPath, settlesWithin } from '../platform/processes.ts';

export type FaultfsAction = 'none' | 'kill' | 'eio' | 'enospc' | 'delay';

export interface FaultfsPlan {
  /** The directory to mount over; it stays the same path for the tool. */
  dir: string;
  op: 'read' | 'write';
  action: FaultfsAction;
  atByte: number;
  /** eio: operations that fail (0: all from the point on). */
  count?: number;
  /** delay: milliseconds added to each operation past the point. */
  delayMs?: number;
}

/** Where faultfs struck: `byte` bytes had gone through (the crossing operation is cut exactly at the point). */
export interface FaultfsStrike {
  action: FaultfsAction;
  op: string;
  byte: number;
  /** The size of the operation held and struck (0: struck with no operation held, the tool stopped at the point). */
  opBytes: number;
  path: string;
  callerPid: number;
  killed?: number;
  killHow?: string;
  /** When pvbench read the report (ms since epoch). */
  at: number;
}

export interface FaultfsStats {
  bytes: number;
  ops: number;
  failed: number;
  delayed: number;
  struck: boolean;
}

export interface FaultfsMount {
  readonly plan: FaultfsPlan;
  readonly pid: number;
  /** Tell it the process to kill (the tool, once started). */
  tellPid(pid: number): void;
  strike(): FaultfsStrike | undefined;
  /** Unmount and end it; resolves with its final account (undefined when it did not give one). Idempotent. */
  stop(): Promise<{ strike?: FaultfsStrike; stats?: FaultfsStats }>;
}

const BINARY = 'pvbench-faultfs';

/** Where scripts/setup.sh puts the binary: .tools/bin of this checkout (src/faults/ and dist/cli/ are both two levels below it). */
export const LOCAL_FAULTFS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.tools', 'bin', BINARY);

/** The faultfs binary: $PVBENCH_FAULTFS, pvbench-faultfs on PATH, or `local` (.tools/bin of this checkout). */
export function faultfsBinary(env: NodeJS.ProcessEnv = process.env, local = LOCAL_FAULTFS): string | undefined {
  if (env.PVBENCH_FAULTFS) return executable(env.PVBENCH_FAULTFS) ? env.PVBENCH_FAULTFS : undefined;
  const found = onPath(BINARY, env.PATH);
  if (found) return found;
  return executable(local) ? local : undefined;
}

/** Why faultfs cannot be used here, or undefined when it can (`platform` and `fuseDevice`: this machine's). */
export function faultfsUnavailable(env: NodeJS.ProcessEnv = process.env, platform: string = process.platform, fuseDevice = '/dev/fuse'): string | undefined {
  if (platform !== 'linux') return 'faultfs needs Linux (FUSE)';
  if (!existsSync(fuseDevice)) return `no ${fuseDevice} on this machine`;
  if (!faultfsBinary(env)) return 'the faultfs binary is not built (scripts/setup.sh builds it where Go is available; or set PVBENCH_FAULTFS)';
  return undefined;
}

// Mounts of this process, detached on exit should pvbench end without stopping them (the faultfs process itself
// dies with pvbench, and a FUSE mount without its server is a dead directory).
const live = new Set<string>();
let exitHook = false;
function unmountOnExit(dir: string): void {
  live.add(dir);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const d of live) spawnSync('fusermount', ['-u', '-z', d], { stdio: 'ignore', timeout: 5000 });
  });
}

function wait(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}


/** Runs fusermount; true when it succeeded (what it says on failure is not used: a failed unmount is retried or detached). */
function runUnmount(args: string[], timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = spawn('fusermount', args, { stdio: 'ignore', timeout: timeoutMs, killSignal: 'SIGKILL' });
    // A spawn that fails (no fusermount on $PATH) emits 'error', then 'close' with a negative code.
    c.on('error', () => undefined);
    c.on('close', (code) => resolve(code === 0));
  });
}

/** Start faultfs over plan.dir and wait (at most `timeoutMs`) until it is mounted. */
export async function mountFaultfs(plan: FaultfsPlan, timeoutMs = 15_000): Promise<FaultfsMount> {
  const bin = faultfsBinary();
  if (!bin) throw new Error(faultfsUnavailable() ?? 'faultfs is not available');
  const args = ['-dir', plan.dir, '-op', plan.op, '-action', plan.action, '-at-byte', String(Math.max(0, Math.round(plan.atByte)))];
  if (plan.count !== undefined) args.push('-count', String(plan.count));
  if (plan.delayMs !== undefined) args.push('-delay-ms', String(plan.delayMs));
  const run = diesWithParent(bin, args);
  const child = spawn(run.cmd, run.args);
  child.on('error', () => undefined);
  child.stdin!.on('error', () => undefined);
  const closed = new Promise<void>((r) => child.once('close', () => r()));
  /** Has it exited (and its output been read) within `ms`? With 0: has it already. */
  const exited = (ms: number) => settlesWithin(closed, ms);
  let strike: FaultfsStrike | undefined;
  let stats: FaultfsStats | undefined;
  let stderr = '';
  let ready: () => void = () => undefined;
  const mounted = new Promise<void>((r) => (ready = r));
  let buf = '';
  child.stdout!.on('data', (b: Buffer) => {
    buf += b.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let ev: Record<string, unknown>;
      try {
        ev = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (ev.event === 'ready') ready();
      else if (ev.event === 'struck') strike = { ...(ev as unknown as FaultfsStrike), at: Date.now() };
      else if (ev.event === 'stats') stats = ev as unknown as FaultfsStats;
    }
  });
  child.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-2000)));
  const pid = child.pid ?? 0;
  const outcome = await Promise.race([mounted.then(() => 'ready' as const), exited(timeoutMs).then((gone) => (gone ? ('exited' as const) : ('timeout' as const)))]);
  if (outcome !== 'ready') {
    child.kill('SIGKILL');
    await exited(5000);
    const why = outcome === 'exited' ? `it exited: ${stderr.trim() || `code ${child.exitCode}`}` : `no mount after ${timeoutMs} ms`;
    throw new Error(`faultfs (pid ${pid}) did not mount over ${plan.dir}: ${why}`);
  }
  unmountOnExit(plan.dir);
  let stopping: Promise<{ strike?: FaultfsStrike; stats?: FaultfsStats }> | undefined;
  const stop = async () => {
    // Unmount by path; a busy mount (a process still inside) is retried, then detached.
    let ok = await runUnmount(['-u', plan.dir], 10_000);
    for (let n = 0; !ok && n < 20 && !(await exited(0)); n++) {
      await wait(50);
      ok = await runUnmount(['-u', plan.dir], 10_000);
    }
    if (!ok) await runUnmount(['-u', '-z', plan.dir], 10_000);
    live.delete(plan.dir);
    if (!(await exited(10_000))) {
      child.kill('SIGKILL');
      await exited(5000);
    }
    return { strike, stats };
  };
  return {
    plan,
    pid,
    tellPid: (p) => {
      if (child.stdin!.writable) child.stdin!.write(`pid ${p}\n`);
    },
    strike: () => strike,
    stop: () => (stopping ??= stop()),
  };
}

/** Mount points in /proc/mounts escape space, tab, newline and backslash as octal. */
function unescapeMount(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * Detaches the faultfs mounts at or below `under` (left by a pvbench that was killed: its faultfs died with it, and
 * a FUSE mount without its server is a dead directory nothing can remove). Resolves the mount points detached.
 */
export async function detachFaultfsMounts(under: string, mountsFile = '/proc/mounts'): Promise<string[]> {
  let text: string;
  try {
    text = readFileSync(mountsFile, 'utf8');
  } catch {
    return [];
  }
  const points = text
    .split('\n')
    .map((l) => l.split(' '))
    // A line with a type (third field) has a mount point (second).
    .filter((f) => f[2] === 'fuse.faultfs')
    .map((f) => unescapeMount(f[1]!))
    .filter((p) => p === under || p.startsWith(under.endsWith('/') ? under : `${under}/`))
    .sort((a, b) => b.length - a.length);
  const done: string[] = [];
  for (const p of points) if (await runUnmount(['-u', '-z', p], 10_000)) done.push(p);
  return done;
}
