// Resource figures of a child process tree on Linux, sampled from /proc: CPU time, peak resident memory and I/O
// counters. run.ts spawns a command and measures it with this watch.
//
// Sampling misses the last few milliseconds of a process. For CPU the watch therefore also takes the delta of this
// process's own reaped-children time (cutime/cstime of /proc/self/stat) and reports the larger figure; note that
// this delta also includes any other child of this process reaped during the watch.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { startTimer } from './timer.ts';
import type { ProcessUsage } from './types.ts';

const IS_LINUX = process.platform === 'linux';
const DEFAULT_INTERVAL_MS = 20;

// ---------------------------------------------------------------------------------------------------------------
// /proc parsing (pure)

export interface ProcStat {
  ppid: number;
  /** Clock ticks. */
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
  /** Start time since boot in clock ticks, as text: with the pid, identifies a process across pid reuse. */
  starttime: string;
  /** The command name (at most 15 characters): the parent's until the child has exec'd. */
  comm: string;
}

/** Parses /proc/<pid>/stat; the command name may contain spaces and parentheses, so fields count from the last ')'. */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // After ") ": state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17) ... starttime(22).
  const f = text.slice(close + 2).trim().split(/\s+/);
  if (f.length < 20) return undefined;
  const num = (i: number): number => Number(f[i]);
  const open = text.indexOf('(');
  return { ppid: num(1), utime: num(11), stime: num(12), cutime: num(13), cstime: num(14), starttime: f[19]!, comm: text.slice(open + 1, close) };
}

/** VmRSS and VmHWM of /proc/<pid>/status, in bytes (0 when absent, e.g. for zombies). */
export function parseProcStatus(text: string): { rssBytes: number; hwmBytes: number } {
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+)\\s*kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  };
  return { rssBytes: kb('VmRSS'), hwmBytes: kb('VmHWM') };
}

/** rchar and wchar of /proc/<pid>/io. */
export function parseProcIo(text: string): { rchar: number; wchar: number } {
  const field = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  };
  return { rchar: field('rchar'), wchar: field('wchar') };
}

// ---------------------------------------------------------------------------------------------------------------
// /proc access

/** Errors that mean "the process is gone or not ours to read": normal while a tree is changing. */
const VANISHED = new Set(['ENOENT', 'ESRCH', 'EACCES', 'EPERM', 'EINVAL']);

/** Reads a file as text. The seam of watchProcess's `readFile` option: tests fail a read with a code of their choice. */
type ReadText = (path: string) => string;
const readText: ReadText = (path) => readFileSync(path, 'utf8');

// procfs files are generated in memory: synchronous reads cost microseconds and far less CPU than the async
// machinery, which matters when sampling every 20 ms next to the tool being measured.
export function readProc(path: string, read: ReadText = readText): string | undefined {
  try {
    return read(path);
  } catch (err) {
    if (VANISHED.has((err as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw err;
  }
}

let clockTicks: Promise<number> | undefined;

/** Kernel clock ticks per second (getconf CLK_TCK, read once); 100 when getconf is unavailable. */
export function clockTicksPerSecond(): Promise<number> {
  clockTicks ??= new Promise((resolve) => {
    execFile('getconf', ['CLK_TCK'], { timeout: 2_000 }, (err, stdout) => {
      const hz = err ? NaN : Number(stdout); // Number() passes the newline by
      resolve(Number.isFinite(hz) && hz > 0 ? hz : 100);
    });
  });
  return clockTicks;
}

let childrenFiles: boolean | undefined;

/** Whether the kernel has /proc/<pid>/task/<tid>/children (CONFIG_PROC_CHILDREN); else the tree comes from ppids. */
function hasChildrenFiles(): boolean {
  childrenFiles ??= existsSync(`/proc/${process.pid}/task/${process.pid}/children`);
  return childrenFiles;
}

function childrenFromTasks(proc: string, pid: number, read: ReadText): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`${proc}/${pid}/task`);
  } catch {
    return [];
  }
  return tasks.flatMap((tid) => (readProc(`${proc}/${pid}/task/${tid}/children`, read)?.match(/\d+/g) ?? []).map(Number));
}

/** Fallback: parent → children from every /proc/<pid>/stat. */
function childrenByScan(proc: string, read: ReadText): Map<number, number[]> {
  const map = new Map<number, number[]>();
  for (const name of readdirSync(proc)) {
    if (!/^\d+$/.test(name)) continue;
    const text = readProc(`${proc}/${name}/stat`, read);
    const stat = text ? parseProcStat(text) : undefined;
    if (!stat) continue;
    const list = map.get(stat.ppid);
    if (list) list.push(Number(name));
    else map.set(stat.ppid, [Number(name)]);
  }
  return map;
}

/**
 * This process's reaped-children CPU time, in ticks; zero without /proc (off Linux). `statPath` is a seam for the
 * tests, which have no Linux without /proc: a path that cannot be read, or that holds no stat line.
 */
export function selfChildrenTicks(statPath = '/proc/self/stat'): { user: number; sys: number } {
  try {
    // The kernel's own line always parses; were it not to, the TypeError lands in the catch like a missing /proc.
    const stat = parseProcStat(readFileSync(statPath, 'utf8'))!;
    return { user: stat.cutime, sys: stat.cstime };
  } catch {
    return { user: 0, sys: 0 };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The watch

export interface ProcessWatch {
  readonly pid: number;
  /** Takes one sample now. */
  sample(): Promise<void>;
  /** Stops sampling, takes a last sample, and returns the figures (the same ones on every call). Wall time ends
   * at the first call. Off Linux only the wall time is measured (samples = 0). */
  stop(): Promise<ProcessUsage>;
  /** Bytes read so far by the tree (rchar), as of the latest sample. */
  bytesRead(): number;
  /** Latest known wchar of the tree: progress of an operation that writes the volume (a restore). */
  bytesWritten(): number;
  /** Pids currently believed to be in the tree. */
  pids(): number[];
}

interface Member {
  starttime: string;
  ppid: number;
  rchar: number;
  wchar: number;
}

/**
 * Samples the tree of `pid` (the process and its descendants, including orphans that were once in the tree) every
 * `intervalMs` until stop(). Descendants come from /proc/<pid>/task/<tid>/children, or from scanning every process's
 * parent pid where the kernel lacks those files (or `scanPpids` asks for it). CPU is the sum over every process seen
 * of its latest utime/stime (the kernel keeps them monotonic). Memory is the largest of any process's VmHWM and of the
 * tree's summed VmRSS at a sample. I/O: a process's counters include its reaped children's, so a process that
 * vanishes while its parent is still in the tree is taken to be absorbed by that parent; others keep their last
 * counters.
 *
 * `expectArgv`: the argv the root will exec. Until its /proc cmdline shows it, the root is still the forked copy of
 * this Node process, and that copy's memory (RSS and VmHWM of the fork) must not count as the tool's.
 * `procRoot`: where to read the processes' files (default /proc; tests lay out a tree of their own there).
 * `readFile`: how to read them as text (default readFileSync); tests fail a read with the codes of a process that goes
 * while it is read (ESRCH, EACCES, ...), which files of their own cannot give.
 * `timer`: the stopwatch whose reading at stop() is the wall time (default: one started now). runMeasured starts it
 * before spawn(), so that a command's wall time covers its whole life, not only what follows spawn()'s return.
 */
export function watchProcess(
  pid: number,
  opts: { intervalMs?: number; scanPpids?: boolean; expectArgv?: string[]; procRoot?: string; timer?: () => number; readFile?: ReadText } = {},
): ProcessWatch {
  const proc = opts.procRoot ?? '/proc';
  const readFile = opts.readFile ?? readText;
  const expectCmdline = opts.expectArgv?.join('\0');
  let execed = expectCmdline === undefined;
  /** The root's start time once seen: after the root has gone, a process that reuses its pid is another. */
  let rootStart: string | undefined;
  const elapsed = opts.timer ?? startTimer();
  const selfStart = selfChildrenTicks();
  const intervalMs = Math.max(1, opts.intervalMs ?? DEFAULT_INTERVAL_MS);

  const cpu = new Map<string, { user: number; sys: number }>(); // by pid/starttime
  const members = new Map<number, Member>();
  let retiredRead = 0;
  let retiredWritten = 0;
  let maxRead = 0;
  let maxWritten = 0;
  let peakRss = 0;
  let samples = 0;

  // One pass over the tree: synchronous, so samples never interleave.
  const takeSample = (): void => {
    const byScan = opts.scanPpids || !hasChildrenFiles() ? childrenByScan(proc, readFile) : undefined;
    const seen = new Map<number, Member>();
    let rss = 0;
    // Root and known members are re-checked by start time (pid reuse); children found now are trusted. A root still
    // in the tree comes twice, with the same start time: the second is passed by as seen.
    const pending: { pid: number; starttime?: string }[] = [
      { pid, starttime: rootStart },
      ...[...members].map(([p, m]) => ({ pid: p, starttime: m.starttime })),
    ];
    for (let next = pending.pop(); next; next = pending.pop()) {
      if (seen.has(next.pid)) continue;
      const statText = readProc(`${proc}/${next.pid}/stat`, readFile);
      const stat = statText ? parseProcStat(statText) : undefined;
      if (!stat || (next.starttime !== undefined && next.starttime !== stat.starttime)) continue;
      if (next.pid === pid) {
        execed ||= readProc(`${proc}/${pid}/cmdline`, readFile)?.replace(/\0$/, '') === expectCmdline;
        if (!execed) continue; // still the fork of this process
        rootStart = stat.starttime;
      }
      const ioText = readProc(`${proc}/${next.pid}/io`, readFile);
      const statusText = readProc(`${proc}/${next.pid}/status`, readFile);
      const io = ioText ? parseProcIo(ioText) : { rchar: 0, wchar: 0 };
      const mem = statusText ? parseProcStatus(statusText) : { rssBytes: 0, hwmBytes: 0 };
      seen.set(next.pid, { starttime: stat.starttime, ppid: stat.ppid, ...io });
      cpu.set(`${next.pid}/${stat.starttime}`, { user: stat.utime, sys: stat.stime });
      rss += mem.rssBytes;
      peakRss = Math.max(peakRss, mem.hwmBytes);
      const kids = byScan ? byScan.get(next.pid) : childrenFromTasks(proc, next.pid, readFile);
      if (kids) for (const kid of kids) pending.push({ pid: kid });
    }
    for (const [p, m] of members) {
      if (seen.get(p)?.starttime === m.starttime) continue;
      // Gone: a parent still in the tree has reaped it and now counts its I/O; otherwise keep its last counters.
      if (!seen.has(m.ppid)) {
        retiredRead += m.rchar;
        retiredWritten += m.wchar;
      }
    }
    members.clear();
    let read = retiredRead;
    let written = retiredWritten;
    for (const [p, m] of seen) {
      members.set(p, m);
      read += m.rchar;
      written += m.wchar;
    }
    maxRead = Math.max(maxRead, read);
    maxWritten = Math.max(maxWritten, written);
    peakRss = Math.max(peakRss, rss);
    samples++;
  };

  // A failed sample (an unexpected /proc error) is dropped: measuring must not break the measured operation.
  let frozen = false; // after stop()'s last sample the figures no longer change
  const sample = (): void => {
    if (!IS_LINUX || frozen) return;
    try {
      takeSample();
    } catch {
      // dropped
    }
  };

  let timer: NodeJS.Timeout | undefined;
  let stopping: Promise<ProcessUsage> | undefined;
  const schedule = (): void => {
    // stop() clears the pending timer: sample() and schedule() never run after it.
    timer = setTimeout(() => {
      sample();
      schedule();
    }, intervalMs);
    timer.unref(); // the watched child, not the watch, keeps the event loop alive
  };

  sample();
  if (IS_LINUX) schedule();

  return {
    pid,
    sample: async () => sample(),
    bytesRead: () => maxRead,
    bytesWritten: () => maxWritten,
    pids: () => [...members.keys()],
    stop() {
      stopping ??= (async () => {
        const wallMs = elapsed();
        const selfEnd = selfChildrenTicks();
        clearTimeout(timer);
        // Off Linux sample() does nothing and selfChildrenTicks() is zero: every figure but the wall time stays 0.
        sample();
        frozen = true;
        const msPerTick = 1000 / (await clockTicksPerSecond());
        let user = 0;
        let sys = 0;
        for (const c of cpu.values()) {
          user += c.user;
          sys += c.sys;
        }
        return {
          wallMs,
          cpuUserMs: Math.max(user, selfEnd.user - selfStart.user) * msPerTick,
          cpuSysMs: Math.max(sys, selfEnd.sys - selfStart.sys) * msPerTick,
          peakRssBytes: peakRss,
          bytesRead: maxRead,
          bytesWritten: maxWritten,
          samples,
        };
      })();
      return stopping;
    },
  };
}
