// One run per output directory: two runs writing one results.json would replace each other's results, and one
// would become the other's baseline mid-run. The lock is a file made with O_EXCL; a lock whose run is gone (killed
// before it could remove it) is taken over.
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../config/load.ts';
import type { Owner } from '../platform/processes.ts';
import { ownerAlive, selfOwner } from '../platform/processes.ts';

export const LOCK_FILE = '.pvbench.lock';

interface LockContent extends Owner {
  startedAt: string;
}

export interface OutputLock {
  release(): Promise<void>;
}

function inUse(dir: string, held: LockContent): ConfigError {
  return new ConfigError([
    {
      file: '(overrides)',
      line: 0,
      column: 0,
      key: 'output.dir',
      message: `${dir} is in use by another pvbench run (pid ${held.pid}, started ${held.startedAt})`,
      fix: 'wait for it to finish, or pass --output with another directory (output.dir)',
    },
  ]);
}

/** Takes the output directory's lock, or throws a ConfigError naming the run that holds it. */
export async function lockOutputDir(dir: string, warn: (msg: string) => void): Promise<OutputLock> {
  const path = join(dir, LOCK_FILE);
  const mine: LockContent = { ...selfOwner(), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx');
      try {
        await fh.writeFile(JSON.stringify(mine) + '\n');
      } finally {
        await fh.close();
      }
      return {
        release: async () => {
          // Only a lock that is still this run's: never one another run took over. A lock that cannot be read
          // (gone) reads as its error's text, which is never a lock's content.
          const now = await readFile(path, 'utf8').catch(String);
          if (now === JSON.stringify(mine) + '\n') await rm(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let held: LockContent | undefined;
    try {
      held = JSON.parse(await readFile(path, 'utf8')) as LockContent;
    } catch {
      // unreadable or half-written: its writer died mid-write (held stays undefined)
    }
    // ownerAlive takes only a whole positive pid: a lock without one is no one's.
    if (held && ownerAlive(held)) throw inUse(dir, held);
    warn(`took over ${path}: its run (pid ${held?.pid ?? 'unknown'}) is gone`);
    await rm(path, { force: true });
  }
  throw new Error(`could not take ${path}: another run took it at the same moment`);
}
