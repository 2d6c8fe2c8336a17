// Running cluster tooling (kind, kubectl, helm, velero, git): argument arrays only, never a shell; every call has a
// timeout. Injectable so the tests can check the exact argv without the tools installed.
import { spawn } from 'node:child_process';
import { diesWithParent } from '../processes.ts';
import { maskSecrets } from '../secrets.ts';

export interface SpawnResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

export interface SpawnOptions {
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
}

export type Spawner = (cmd: string, args: string[], opts: SpawnOptions) => Promise<SpawnResult>;

/** The real spawner: child_process.spawn without a shell, SIGKILL at the timeout, ENOENT reported as exit null. */
export const spawnProcess: Spawner = (cmd, args, opts) =>
  new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let settled = false;
    const run = diesWithParent(cmd, args, opts.env ?? process.env);
    const child = spawn(run.cmd, run.args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'], shell: false });
    const timer = setTimeout(() => {
      stderr += `\n(${cmd} killed after ${Math.round(opts.timeoutMs / 1000)} s)`;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    const done = (exitCode: number | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ exitCode, stdout, stderr });
    };
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err: NodeJS.ErrnoException) => {
      stderr += err.code === 'ENOENT' ? `${cmd} is not on PATH` : err.message;
      done(null);
    });
    child.on('close', (code) => done(code));
    child.stdin.on('error', () => undefined);
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });

export class CommandError extends Error {
  readonly result: SpawnResult;
  constructor(cmd: string, args: string[], result: SpawnResult, hint = '') {
    const tail = maskSecrets((result.stderr || result.stdout).trim()).slice(-600);
    const words: string[] = [];
    for (const a of args) {
      if (a.startsWith('-') || words.length === 3) break;
      words.push(a);
    }
    super(`${[cmd, ...words].join(' ')} failed (exit ${result.exitCode ?? 'none'}): ${tail}${hint ? `. ${hint}` : ''}`);
    this.name = 'CommandError';
    this.result = result;
  }
}

/** Run and throw a CommandError unless it exits 0. */
export async function runChecked(spawner: Spawner, cmd: string, args: string[], opts: SpawnOptions, hint?: string): Promise<SpawnResult> {
  const res = await spawner(cmd, args, opts);
  if (res.exitCode !== 0) throw new CommandError(cmd, args, res, res.exitCode === null && /not on PATH/.test(res.stderr) ? `install ${cmd} or put it on PATH` : hint);
  return res;
}
