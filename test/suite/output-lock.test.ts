// The output directory's lock (src/suite/output-lock.ts), in-process: taken and released, refused while its owner
// lives, taken over when it is gone or the file is unreadable, and the races with another run. No child processes:
// a live owner is this process, a gone one a pid above the kernel's limit; a race is played by wrapping fs.rm.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/load.ts';
import { selfOwner } from '../../src/platform/processes.ts';
import { LOCK_FILE, lockOutputDir } from '../../src/suite/output-lock.ts';

const removeTree = rm; // the real one, whatever wrapRm does later
const GONE = 2 ** 22 + 17; // above pid_max (at most 2^22): never a live process

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-lock-'));
  t.after(() => removeTree(dir, { recursive: true, force: true }));
  return dir;
}

/** Replaces fs/promises' rm for lock files (as output-lock.ts sees it) for the rest of the test. */
function wrapRm(t: TestContext, wrapper: (real: typeof rm, path: string, opts: Parameters<typeof rm>[1]) => Promise<void>): void {
  const fsp = createRequire(import.meta.url)('node:fs/promises') as { rm: typeof rm };
  const real = fsp.rm;
  fsp.rm = ((path: string, opts: Parameters<typeof rm>[1]) => (path.endsWith(LOCK_FILE) ? wrapper(real, path, opts) : real(path, opts))) as typeof rm;
  syncBuiltinESMExports();
  t.after(() => {
    fsp.rm = real;
    syncBuiltinESMExports();
  });
}

test('the lock holds this run (pid, start time, when) while it runs, its file closed, and is removed on release', async (t) => {
  const dir = await tempDir(t);
  t.mock.timers.enable({ apis: ['Date'], now: Date.parse('2026-11-29T10:00:00.000Z') });
  const fds = readdirSync('/proc/self/fd').length;
  const warnings: string[] = [];
  const lock = await lockOutputDir(dir, (m) => warnings.push(m));
  assert.equal(readdirSync('/proc/self/fd').length, fds, 'the lock file is closed once written');
  assert.equal(await readFile(join(dir, LOCK_FILE), 'utf8'), JSON.stringify({ ...selfOwner(), startedAt: '2026-11-29T10:00:00.000Z' }) + '\n');
  assert.deepStrictEqual(warnings, []);
  await lock.release();
  assert.deepStrictEqual(await readdir(dir), []);
  // Released twice, or after someone removed it: nothing to do, no error.
  await lock.release();
});

test('a lock whose owner lives refuses the run with a ConfigError naming it', async (t) => {
  const dir = await tempDir(t);
  const held = JSON.stringify({ pid: process.pid, startedAt: '2026-11-29T09:00:00.000Z' });
  await writeFile(join(dir, LOCK_FILE), held);
  const err = await lockOutputDir(dir, () => assert.fail('no take-over')).catch((e: unknown) => e);
  assert.ok(err instanceof ConfigError);
  assert.deepStrictEqual(err.problems, [
    {
      file: '(overrides)',
      line: 0,
      column: 0,
      key: 'output.dir',
      message: `${dir} is in use by another pvbench run (pid ${process.pid}, started 2026-11-29T09:00:00.000Z)`,
      fix: 'wait for it to finish, or pass --output with another directory (output.dir)',
    },
  ]);
  assert.equal(await readFile(join(dir, LOCK_FILE), 'utf8'), held, 'the live run keeps its lock');
});

test('a lock whose owner is gone, or that is unreadable or has no pid, is taken over with a warning naming it', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, LOCK_FILE);
  const cases: [string, string][] = [
    [JSON.stringify({ pid: GONE, startedAt: 'x' }), String(GONE)],
    ['{"pid": 12', 'unknown'],
    ['null', 'unknown'],
    [JSON.stringify({ pid: 'abc', startedAt: 'x' }), 'abc'],
    [JSON.stringify({ startedAt: 'x' }), 'unknown'],
  ];
  for (const [content, pid] of cases) {
    await writeFile(path, content);
    const warnings: string[] = [];
    const lock = await lockOutputDir(dir, (m) => warnings.push(m));
    assert.deepStrictEqual(warnings, [`took over ${path}: its run (pid ${pid}) is gone`]);
    assert.equal((JSON.parse(await readFile(path, 'utf8')) as { pid: number }).pid, process.pid);
    await lock.release();
  }
});

test('release leaves a lock that another run has taken over since', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, LOCK_FILE);
  const lock = await lockOutputDir(dir, () => undefined);
  const theirs = JSON.stringify({ pid: GONE + 1, startedAt: 'later' }) + '\n';
  await writeFile(path, theirs);
  await lock.release();
  assert.equal(await readFile(path, 'utf8'), theirs);
});

test('a lock removed by another run between the look and the removal is no error (release, and take-over)', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, LOCK_FILE);
  // Every removal finds the file already gone: someone else removed it a moment before.
  wrapRm(t, async (real, p, opts) => {
    await real(p, { force: true });
    return real(p, opts);
  });
  const lock = await lockOutputDir(dir, () => undefined);
  await lock.release();
  await writeFile(path, JSON.stringify({ pid: GONE, startedAt: 'x' }));
  const warnings: string[] = [];
  const again = await lockOutputDir(dir, (m) => warnings.push(m));
  assert.deepStrictEqual(warnings, [`took over ${path}: its run (pid ${GONE}) is gone`]);
  await again.release();
  assert.deepStrictEqual(await readdir(dir), []);
});

test('a stale lock replaced by another stale one at the moment it is taken over: the run gives up after two tries', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, LOCK_FILE);
  await writeFile(path, JSON.stringify({ pid: GONE, startedAt: 'x' }));
  let removals = 0;
  // The first removal is followed at once by another run's lock, whose run dies as well.
  wrapRm(t, async (real, p, opts) => {
    await real(p, opts);
    if (++removals === 1) await writeFile(p, JSON.stringify({ pid: GONE + 2, startedAt: 'y' }));
  });
  const warnings: string[] = [];
  await assert.rejects(lockOutputDir(dir, (m) => warnings.push(m)), (err: Error) => {
    assert.ok(!(err instanceof ConfigError));
    assert.equal(err.message, `could not take ${path}: another run took it at the same moment`);
    return true;
  });
  assert.deepStrictEqual(warnings, [`took over ${path}: its run (pid ${GONE}) is gone`, `took over ${path}: its run (pid ${GONE + 2}) is gone`]);
});

test('a directory that cannot hold the lock: the error of the file system, nothing taken over', async (t) => {
  const dir = await tempDir(t);
  const warnings: string[] = [];
  await assert.rejects(lockOutputDir(join(dir, 'missing'), (m) => warnings.push(m)), { code: 'ENOENT' });
  assert.deepStrictEqual(warnings, []);
});
