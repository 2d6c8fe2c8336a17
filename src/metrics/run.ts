// Running a measured command: spawn it (no shell) so that it dies with pvbench, measure its process tree with
// process.ts's watch, keep the tail of its output, and enforce a timeout and the run's interrupt.
import { AsyncLocalStorage } from 'node:async_hooks';
import { spawn } from 'node:child_process';
import type { PhaseMetrics } from '../suite/results.ts';
import { startTimer } from './timer.ts';
import { readProc, watchProcess } from './process.ts';
import type { ProcessWatch } from './process.ts';
import { diesWithParent } from '../platform/processes.ts';
import { withTrialInterrupt } from '../platform/interrupt.ts';
import type { ProcessUsage } from './types.ts';

const DEFAULT_MAX_OUTPUT_BYTES = 4 << 20;
/** After SIGKILL, or after exit while a grandchild still holds the output pipes, wait no longer than this. */
const GRACE_MS = 5_000;

export interface RunMeasuredOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** The child (and its known descendants) get SIGKILL after this long. */
  timeoutMs: number;
  /**
   * Called once the child is spawned (synchronously, possibly before it has exec'd), e.g. to hand fault
   * injectors a way to watch, hold and kill it. `signal` sends a signal to the child only while it has not been
   * reaped, so never to another process that reuses its pid; it returns whether the signal was sent.
   */
  onStart?: (pid: number, watch: ProcessWatch, signal: (sig: NodeJS.Signals) => boolean, held: boolean) => void;
  /**
   * Stop the child (SIGSTOP) as soon as it runs the command itself, before onStart: once the launcher that makes
   * it die with pvbench (see platform/processes.ts) has handed over, so a held child never outlives pvbench.
   * onStart's `held` says whether it was stopped.
   */
  holdAtExec?: boolean;
  /** Written to the child's stdin, which is then closed; without it stdin is /dev/null. */
  input?: string;
  intervalMs?: number;
  /** Per stream; the tail is kept when a stream says more. Default 4 MiB. */
  maxOutputBytes?: number;
  /** Aborting kills the child and its known descendants at once (an interrupt of the run), like the timeout. */
  signal?: AbortSignal;
}

export interface MeasuredRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  usage: ProcessUsage;
  timedOut: boolean;
  /** Killed because `signal` was aborted. */
  aborted: boolean;
}

/** Collects the last `cap` bytes of a stream. */
function tailCollector(cap: number): { push(chunk: Buffer): void; text(): string } {
  const chunks: Buffer[] = [];
  let total = 0;
  return {
    push(chunk) {
      chunks.push(chunk);
      total += chunk.length;
      while (total > cap && chunks.length > 0) {
        const first = chunks[0]!;
        const excess = total - cap;
        if (first.length <= excess) {
          chunks.shift();
          total -= first.length;
        } else {
          chunks[0] = first.subarray(excess);
          total -= excess;
        }
      }
    },
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

/** How many processes runMeasured started, and their summed wall time (ms), within one tallyProcesses call. */
export interface ProcessTally {
  count: number;
  wallMs: number;
}

const tallies = new AsyncLocalStorage<ProcessTally>();

/**
 * Runs `fn` with a tally of every process runMeasured starts within it, however deep (a trial's tool commands,
 * measured or not, and its helpers): what of a trial's time went to processes, and so what was pvbench's own. `fn`
 * reads the tally when its processes are done. Processes that overlap (the outage's writer beside a backup) each
 * count their whole wall time.
 */
export function tallyProcesses<T>(fn: (tally: Readonly<ProcessTally>) => Promise<T>): Promise<T> {
  const tally: ProcessTally = { count: 0, wallMs: 0 };
  return tallies.run(tally, () => fn(tally));
}

/**
 * Spawns `cmd args` (no shell), measures its process tree, and resolves once it has exited and its output is
 * drained. Rejects only when the command cannot be started (e.g. ENOENT); a non-zero exit, a signal or a
 * timeout are reported in the result.
 */
export function runMeasured(cmd: string, args: string[], options: RunMeasuredOptions): Promise<MeasuredRun> {
  // Whatever a trial starts stops at the run's interrupt, also a helper command nobody passed a signal to.
  const opts = { ...options, signal: withTrialInterrupt(options.signal) };
  const tally = tallies.getStore();
  return new Promise<MeasuredRun>((resolve, reject) => {
    const run = diesWithParent(cmd, args, opts.env);
    const timer = startTimer(); // before spawn(): the child's life begins inside it
    const child = spawn(run.cmd, run.args, {
      env: opts.env,
      cwd: opts.cwd,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const cap = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    const stdout = tailCollector(cap);
    const stderr = tailCollector(cap);
    const out = child.stdout!; // piped, per stdio above
    const err = child.stderr!;
    out.on('data', (chunk: Buffer) => stdout.push(chunk));
    err.on('data', (chunk: Buffer) => stderr.push(chunk));
    const childPid = child.pid;
    if (childPid === undefined) {
      child.once('error', reject);
      return;
    }
    child.on('error', () => undefined); // a failed kill() after start; exit still follows

    const watch = watchProcess(childPid, { intervalMs: opts.intervalMs, expectArgv: [cmd, ...args], timer });
    let timedOut = false;
    let aborted = false;
    let finished = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let startError: unknown;
    /** The grace timers, cleared by finish() (by then the deadline has fired or been cleared, at exit or abort). */
    const timers: NodeJS.Timeout[] = [];

    const finish = (): void => {
      if (finished) return;
      finished = true;
      for (const t of timers) clearTimeout(t);
      opts.signal?.removeEventListener('abort', onAbort);
      out.destroy();
      err.destroy();
      if (startError !== undefined) {
        void watch.stop().finally(() => reject(startError));
        return;
      }
      void watch.stop().then((usage) => {
        if (tally) {
          tally.count++;
          tally.wallMs += usage.wallMs;
        }
        resolve({
          exitCode: exit?.code ?? null,
          signal: exit?.signal ?? null,
          stdout: stdout.text(),
          stderr: stderr.text(),
          usage,
          timedOut,
          aborted,
        });
      });
    };

    /** SIGKILL to the child and every descendant seen, then give up waiting after a grace period. */
    const killTree = (): void => {
      void watch.sample(); // synchronous inside: the tree as of now, not of the last tick
      for (const p of new Set([childPid, ...watch.pids()])) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      // A process stuck in uninterruptible sleep may not die: give up waiting rather than hang.
      timers.push(setTimeout(finish, GRACE_MS));
    };
    const deadline = setTimeout(() => {
      timedOut = true;
      killTree();
    }, opts.timeoutMs);
    // Only before the child has exited: afterwards its pid may be another process's.
    // Never after finish(), which removes it.
    const onAbort = (): void => {
      if (exit) return;
      aborted = true;
      clearTimeout(deadline);
      killTree();
    };
    if (opts.signal?.aborted) queueMicrotask(onAbort);
    else opts.signal?.addEventListener('abort', onAbort);

    // Node emits 'close' only after 'exit', once the output pipes are closed too.
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      clearTimeout(deadline); // exited in time, even if a grandchild still holds the pipes
      void watch.stop(); // ends the wall time and reads the reaped-children CPU now
      timers.push(setTimeout(finish, GRACE_MS)); // a grandchild may keep the pipes open
    });
    child.on('close', finish);

    if (child.stdin) {
      child.stdin.on('error', () => undefined); // EPIPE when the child does not read its input
      child.stdin.end(opts.input);
    }
    // Node sets exitCode/signalCode in the same callback in which libuv reaps the child: while both are null, the
    // pid is still this child's.
    const signalChild = (sig: NodeJS.Signals): boolean => {
      if (child.exitCode !== null || child.signalCode !== null) return false;
      try {
        process.kill(childPid, sig);
        return true;
      } catch {
        return false;
      }
    };
    const held = opts.holdAtExec === true && holdOnceExeced(childPid, [cmd, ...args].join('\0'), signalChild);
    try {
      opts.onStart?.(childPid, watch, signalChild, held);
    } catch (error) {
      // A failing observer must not leave the child running: kill it, and reject once it has gone.
      startError = error;
      child.kill('SIGKILL');
    }
  });
}

const HOLD_WAIT_MS = 250;

/**
 * Waits (synchronously: a few milliseconds at most, so nothing else runs in between) until the child's cmdline is
 * the command's own, then stops it. spawn() returns once the child has exec'd its launcher; the launcher execs the
 * command right after arranging its death with pvbench. Gives up waiting after HOLD_WAIT_MS (and stops it then).
 */
function holdOnceExeced(pid: number, expectCmdline: string, signal: (sig: NodeJS.Signals) => boolean): boolean {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const until = Date.now() + HOLD_WAIT_MS;
  // The child cannot vanish meanwhile: Node reaps it only after this returns (a zombie's cmdline is empty).
  for (;;) {
    if (readProc(`/proc/${pid}/cmdline`)?.replace(/\0$/, '') === expectCmdline || Date.now() > until) return signal('SIGSTOP');
    Atomics.wait(nap, 0, 0, 0.2);
  }
}

/** Turns measured usage into a phase's metrics. */
export function toPhaseMetrics(usage: ProcessUsage, bytesProcessed: number, attempts: number, source: PhaseMetrics['source']): PhaseMetrics {
  const cpuMs = usage.cpuUserMs + usage.cpuSysMs;
  return {
    wallMs: usage.wallMs,
    cpuUserMs: usage.cpuUserMs,
    cpuSysMs: usage.cpuSysMs,
    cpuCores: usage.wallMs > 0 ? cpuMs / usage.wallMs : 0,
    peakRssBytes: usage.peakRssBytes,
    bytesRead: usage.bytesRead,
    bytesWritten: usage.bytesWritten,
    bytesProcessed,
    throughputBytesPerSec: usage.wallMs > 0 ? bytesProcessed / (usage.wallMs / 1000) : 0,
    attempts,
    source,
  };
}
