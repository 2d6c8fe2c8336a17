// What every local tool does to run one measured operation: spawn (argument array), sample its process tree,
// hand a crashable handle to fault injectors, turn the figures into PhaseMetrics, mask secrets in errors.
import { setPriority } from 'node:os';
import { runMeasured, toPhaseMetrics } from '../metrics/run.ts';
import type { PhaseMetrics } from '../suite/results.ts';
import { excerpt } from '../platform/secrets.ts';
import { ToolError } from './types.ts';
import type { OpHooks } from './types.ts';

export interface LocalOp {
  tool: string;
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs: number;
  /** Bytes of volume data the operation moves, for progress and throughput. */
  sourceBytes: number;
  /**
   * How progress is measured: bytes read (a backup reads the volume), written (a restore writes it; cp's copies,
   * copy_file_range included), or a function giving the bytes done (for tools whose I/O the /proc counters do not
   * see). A fault trigger asks for it on every look: it must be cheap (no walk of the tree being written).
   */
  progressBy?: 'read' | 'written' | (() => Promise<number>);
  hooks?: OpHooks;
  /** Test knob (PVBENCH_TEST_SLOWDOWN): stretch a successful operation's wall time (50 ms at least) by this factor, by waiting. */
  slowdown?: number;
}

export interface LocalOpResult {
  stdout: string;
  stderr: string;
  metrics: PhaseMetrics;
}

/** Run a tool command; throws ToolError (with the masked tail of its output) unless it exits 0. */
export async function runLocalOp(op: LocalOp): Promise<LocalOpResult> {
  const label = `${op.cmd} ${op.args[0] ?? ''}`.trim();
  const res = await runMeasured(op.cmd, op.args, {
    env: op.env,
    cwd: op.cwd,
    timeoutMs: op.timeoutMs,
    signal: op.hooks?.signal,
    // Held from the start when asked: stopped as soon as it runs the tool's own code (and no sooner: before that
    // it is the launcher that makes it die with pvbench), so a trigger sees it before it moves.
    holdAtExec: op.hooks?.holdAtStart === true && op.hooks.onStart !== undefined,
    onStart: (pid, watch, signal, heldAtStart) => {
      const by = op.progressBy;
      // A fresh sample of the counters, not the sampler's last one: a held process must be seen where it is.
      const moved = async () => {
        if (typeof by === 'function') return by();
        await watch.sample();
        return by === 'written' ? watch.bytesWritten() : watch.bytesRead();
      };
      if (!op.hooks?.onStart) return;
      // A held operation also runs at the lowest CPU priority: on a busy machine the trigger's timer can fire late,
      // and the operation must not get the CPU ahead of the trigger that is due to hold it again.
      let held = heldAtStart;
      if (held) {
        try {
          setPriority(pid, 19);
        } catch {
          // not ours to renice (it exited): the hold alone still applies
        }
      }
      op.hooks.onStart({
        pid,
        describe: () => `${label} (pid ${pid})`,
        progress: async () => (op.sourceBytes > 0 ? Math.min(1, (await moved()) / op.sourceBytes) : 0),
        pause: async () => (held ||= signal('SIGSTOP')),
        resume: async () => {
          if (held) signal('SIGCONT');
          held = false;
        },
        kill: async () => {
          if (!signal('SIGKILL')) return `${label} (pid ${pid}) had already exited`;
          const done = Math.round((await moved()) / 1024);
          return `SIGKILL ${label} (pid ${pid}) after ${done} KiB ${typeof by === 'function' ? 'copied' : by === 'written' ? 'written' : 'read'}`;
        },
      });
    },
  });
  if (res.aborted) throw new ToolError(op.tool, `${label} was stopped: the run was interrupted`, null, excerpt(res.stderr));
  if (res.timedOut) throw new ToolError(op.tool, `${label} timed out after ${op.timeoutMs} ms`, null, excerpt(res.stderr));
  if (res.signal) throw new ToolError(op.tool, `${label} was killed by ${res.signal}`, null, excerpt(res.stderr));
  if (res.exitCode !== 0) {
    throw new ToolError(op.tool, `${label} exited with code ${res.exitCode}: ${excerpt(res.stderr || res.stdout, 300)}`, res.exitCode, excerpt(res.stderr + res.stdout));
  }
  const usage = { ...res.usage };
  if (op.slowdown && op.slowdown > 1) {
    // Stretched from at least 50 ms: a copy of a few milliseconds varies by more than itself on a busy machine, and
    // the injected regression must stand out of that noise whatever the machine is doing.
    const extra = Math.round(Math.max(usage.wallMs, 50) * (op.slowdown - 1));
    await new Promise((resolve) => setTimeout(resolve, extra));
    usage.wallMs += extra;
  }
  return { stdout: res.stdout, stderr: res.stderr, metrics: toPhaseMetrics(usage, op.sourceBytes, 1, 'proc') };
}

/** How often a helper command's process tree is sampled. */
const HELPER_SAMPLE_MS = 500;

/** Run a short helper command (version, unlock, list); returns its output or throws ToolError. */
export async function runQuick(tool: string, cmd: string, args: string[], env?: NodeJS.ProcessEnv, timeoutMs = 60_000, cwd?: string): Promise<{ stdout: string; stderr: string; exitCode: number | null }> {
  // Nobody reads a helper's figures: its process tree is looked at twice a second (to kill it on a timeout), not
  // every 20 ms as a measured operation's is, so that pvbench takes less CPU from the machine meanwhile.
  const res = await runMeasured(cmd, args, { env, timeoutMs, cwd, intervalMs: HELPER_SAMPLE_MS });
  if (res.timedOut) throw new ToolError(tool, `${cmd} ${args.join(' ')} timed out after ${timeoutMs} ms`);
  return { stdout: res.stdout, stderr: res.stderr, exitCode: res.exitCode };
}

/** Is `cmd` runnable? Resolves its first output line, or undefined when it is not on PATH. */
/** The program a local tool runs: its options.binary (a command on PATH, or a path), or `command` from PATH. */
export function toolBinary(options: Readonly<Record<string, unknown>>, command: string): string {
  return typeof options.binary === 'string' && options.binary.trim() !== '' ? options.binary : command;
}

/** The probe's reason when the program did not answer: options.binary named when that is what was set. */
export function notFound(options: Readonly<Record<string, unknown>>, command: string, install: string): string {
  if (typeof options.binary === 'string' && options.binary.trim() !== '') {
    return `options.binary ${JSON.stringify(options.binary)} did not run as ${command} (not found, not executable, or its version command failed): point it at a ${command} program`;
  }
  return `${command} is not on PATH (${install})`;
}

export async function whichVersion(tool: string, cmd: string, args: string[]): Promise<string | undefined> {
  try {
    const res = await runQuick(tool, cmd, args, undefined, 15_000);
    if (res.exitCode !== 0) return undefined;
    return (res.stdout || res.stderr).trim().split('\n')[0];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (err instanceof ToolError) return undefined;
    throw err;
  }
}
