// Processes pvbench owns. Every process it starts dies with it, however pvbench ends: also on SIGKILL or a crash of Node, when no
// handler of ours runs. The kernel does this for a process that asked for it (prctl PR_SET_PDEATHSIG: a signal
// when its parent dies; kept across exec). Node cannot ask for it between fork and exec, so the command is started
// through util-linux's setpriv (`--pdeathsig KILL`), which asks and then execs the command with the same argv.
// A process stopped by a fault trigger (SIGSTOP) dies too: SIGKILL needs no CONT.
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const SETPRIV_DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'];
let setpriv: string | null | undefined;

/** May this process run the file at `path`? */
export function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findSetpriv(): string | null {
  for (const d of SETPRIV_DIRS) if (executable(join(d, 'setpriv'))) return join(d, 'setpriv');
  return null;
}

/** The first executable `name` in the directories of `path` ($PATH), or undefined. */
export function onPath(name: string, path: string | undefined): string | undefined {
  for (const d of (path ?? '').split(delimiter)) if (d !== '' && executable(join(d, name))) return join(d, name);
  return undefined;
}

/** Is `cmd` runnable: a path that is executable, or a name found on `path` ($PATH)? */
function resolvable(cmd: string, path: string | undefined): boolean {
  return cmd.includes('/') ? executable(cmd) : onPath(cmd, path) !== undefined;
}

/**
 * The command and arguments to spawn so that the process dies with pvbench. Unchanged where that cannot be
 * arranged (not Linux, no setpriv) and for a command that is not there, so that spawn still fails with ENOENT.
 * The process keeps `cmd` as its argv[0] (setpriv looks it up on the same PATH).
 */
export function diesWithParent(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): { cmd: string; args: string[] } {
  if (process.platform !== 'linux') return { cmd, args };
  setpriv ??= findSetpriv();
  if (!setpriv || !resolvable(cmd, env.PATH)) return { cmd, args };
  return { cmd: setpriv, args: ['--pdeathsig', 'KILL', '--', cmd, ...args] };
}

/** The kernel's start time of a process (field 22 of /proc/<pid>/stat), which tells a pid's reuse apart. */
export function processStartTime(pid: number): string | undefined {
  return procStatFields(pid)?.[19];
}

/** Who made a file or directory pvbench will look for later: this process, told apart from a later one with its pid. */
export interface Owner {
  pid: number;
  /** processStartTime(pid) when the owner wrote it; absent in hand-made files, then the pid alone counts. */
  starttime?: string;
}

export function selfOwner(): Owner {
  const starttime = processStartTime(process.pid);
  return starttime ? { pid: process.pid, starttime } : { pid: process.pid };
}

/**
 * Is a process with this pid running (ours to signal or not)? One that has exited is not, also while it is a zombie
 * that its parent has not reaped yet: kill(pid, 0) still succeeds then, and on machines whose init reaps orphans
 * only every few seconds (these: about 2 s) every wait for an exit would last that long.
 */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const state = processState(pid);
  return state !== 'Z' && state !== 'X';
}

/** The state letter of /proc/<pid>/stat (field 3: R, S, D, T, Z...), or undefined where it cannot be read. */
function processState(pid: number): string | undefined {
  return procStatFields(pid)?.[0];
}

/** The fields of /proc/<pid>/stat after the command name (field 3 on), or undefined. */
function procStatFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing parenthesis.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Is the process that wrote `owner` still running (the same process, not another with its pid)? */
export function ownerAlive(owner: Owner): boolean {
  if (!pidAlive(owner.pid)) return false;
  if (owner.starttime === undefined) return true;
  const now = processStartTime(owner.pid);
  return now === undefined || now === owner.starttime;
}

/**
 * Resolves true once `event` has settled (a child exited, its output read), false after `ms`; the timer is cleared
 * either way, so a wait that ended early keeps nothing alive.
 */
export function settlesWithin(event: Promise<unknown>, ms: number): Promise<boolean> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((r) => (t = setTimeout(() => r(false), ms)));
  return Promise.race([event.then(() => true, () => true), timeout]).finally(() => clearTimeout(t));
}
