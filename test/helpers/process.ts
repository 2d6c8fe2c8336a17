// Run a program from a test: argument array, output collected, SIGKILL at the deadline.
import { execFileSync, spawn } from 'node:child_process';
import { after } from 'node:test';

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export function runProcess(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; onSpawn?: (kill: (signal: NodeJS.Signals) => void, pid: number | undefined) => void } = {},
): Promise<ProcessResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    opts.onSpawn?.((signal) => child.kill(signal), child.pid);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

/** Is a process with this pid running (ours to signal or not; a zombie has exited)? pvbench's own check. */
export { pidAlive as running } from '../../src/platform/processes.ts';

/** Does `cmd args` run and exit 0 (a tool the tests need is installed)? */
export function runs(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { timeout: 10_000, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}


/** Waits until `ok()` holds, looking every `stepMs`; throws naming `what` after `ms`. */
export async function until(what: string, ok: () => boolean, ms = 5000, stepMs = 10): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Pids a test file's processes may leave behind (a grandchild started by a child): SIGKILLed after the file. */
export function leftoverPids(): number[] {
  const pids: number[] = [];
  after(() => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });
  return pids;
}
