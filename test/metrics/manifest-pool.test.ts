// The hash pool's error and shutdown paths (issue 8: the mutation run of src/metrics/manifest.ts left them
// untested): the exact error of a batch, the first failure by position, a vanished file among others, closing with a
// batch in flight, a pool that stays closed, and pools torn down when the work fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildManifest, closeSharedPool, createHashPool, writeManifestFile } from '../../src/metrics/manifest.ts';

const MANIFEST_MODULE = pathToFileURL(resolve(import.meta.dirname, '../../src/metrics/manifest.ts')).href;
const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

function tree(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'pvbench-pool-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'a.txt'), 'hello\n');
  writeFileSync(join(dir, 'b.txt'), 'b');
  writeFileSync(join(dir, 'big.bin'), Buffer.alloc(8 * 1024 * 1024, 7));
  mkdirSync(join(dir, 'sub'));
  return dir;
}

function child(script: string): Promise<string> {
  return new Promise((done, fail) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => (err ? fail(Object.assign(err, { stderr })) : done(stdout)));
  });
}

test('a batch that fails rejects with the first failure by position: its message, code and path', async (t) => {
  const dir = tree(t);
  const pool = createHashPool(1);
  try {
    // One worker takes the files in order: the vanished file is skipped, the first real failure ends the batch.
    const jobs = [{ path: join(dir, 'gone') }, { path: join(dir, 'a.txt') }, { path: join(dir, 'a.txt', 'x') }, { path: join(dir, 'sub') }];
    const err = await pool.hashMany(jobs).then(
      () => assert.fail('resolved'),
      (e: NodeJS.ErrnoException & { path?: string }) => e,
    );
    assert.ok(err instanceof Error);
    assert.equal(err.message, `ENOTDIR: not a directory, open '${join(dir, 'a.txt', 'x')}'`);
    assert.equal(err.code, 'ENOTDIR');
    assert.equal(err.path, join(dir, 'a.txt', 'x'));
    assert.equal(pool.broken, false);
    // Two workers, two failures: still the first by position.
    const two = createHashPool(2);
    try {
      const failing = [{ path: join(dir, 'a.txt') }, { path: join(dir, 'sub') }, { path: join(dir, 'b.txt', 'y') }];
      for (let i = 0; i < 5; i++) await assert.rejects(two.hashMany(failing), { code: 'EISDIR', path: join(dir, 'sub'), message: `EISDIR: illegal operation on a directory, read` });
    } finally {
      await two.close();
    }
  } finally {
    await pool.close();
  }
});

test('a vanished file is null and the others are hashed, whatever its position', async (t) => {
  const dir = tree(t);
  const pool = createHashPool(3);
  try {
    const hello = { size: 6, sha256: sha256('hello\n') };
    const b = { size: 1, sha256: sha256('b') };
    assert.deepEqual(await pool.hashMany([{ path: join(dir, 'gone1') }, { path: join(dir, 'a.txt') }, { path: join(dir, 'gone2') }, { path: join(dir, 'b.txt') }, { path: join(dir, 'gone3') }]), [null, hello, null, b, null]);
    assert.deepEqual(await pool.hashMany([{ path: join(dir, 'gone') }]), [null]);
    // Prefixes: a limit of 0 hashes nothing, a limit past the end the whole file.
    assert.deepEqual(await pool.hashMany([{ path: join(dir, 'a.txt'), limit: 0 }, { path: join(dir, 'a.txt'), limit: 3 }, { path: join(dir, 'a.txt'), limit: 100 }]), [
      { size: 0, sha256: sha256('') },
      { size: 3, sha256: sha256('hel') },
      hello,
    ]);
  } finally {
    await pool.close();
  }
});

test('close: a batch in flight is rejected with "hash pool closed", and so is every later batch; the pool says it is broken', async (t) => {
  const dir = tree(t);
  const pool = createHashPool(2);
  assert.equal(pool.broken, false);
  const big = Array.from({ length: 8 }, () => ({ path: join(dir, 'big.bin') }));
  const inFlight = pool.hashMany(big).then(
    () => assert.fail('resolved'),
    (e: Error) => e,
  );
  await pool.close();
  assert.equal(pool.broken, true);
  const closed = await inFlight;
  assert.ok(closed instanceof Error);
  assert.equal(closed.message, 'hash pool closed');
  // The same error for every batch after: the pool hashes nothing more, even an empty batch.
  await assert.rejects(pool.hashMany([{ path: join(dir, 'a.txt') }]), (e) => e === closed);
  await assert.rejects(pool.hashMany([]), (e) => e === closed);
  // Closing twice is fine and keeps the first cause.
  await pool.close();
  await assert.rejects(pool.hashMany([{ path: join(dir, 'a.txt') }]), (e) => e === closed);
});

test('a fractional or zero worker count still hashes (at least one worker)', async (t) => {
  const dir = tree(t);
  for (const n of [0, 0.5, -3, 1.9, 2.5]) {
    const pool = createHashPool(n);
    try {
      assert.deepEqual(await pool.hashMany([{ path: join(dir, 'a.txt') }, { path: join(dir, 'b.txt') }]), [
        { size: 6, sha256: sha256('hello\n') },
        { size: 1, sha256: sha256('b') },
      ], String(n));
    } finally {
      await pool.close();
    }
  }
});

test('the shared pool: closed, then a new one serves the next call', async (t) => {
  const dir = tree(t);
  const want = { files: [{ path: 'a.txt', size: 6, sha256: sha256('hello\n') }, { path: 'b.txt', size: 1, sha256: sha256('b') }], bytes: 7 };
  const small = (rel: string) => rel === 'big.bin' || rel === 'sub';
  assert.deepEqual(await buildManifest(dir, { exclude: small }), want);
  await closeSharedPool();
  await closeSharedPool();
  assert.deepEqual(await buildManifest(dir, { exclude: small }), want);
  await closeSharedPool();
});

test('pools made for one call are torn down when the call fails, so the process can exit', async (t) => {
  const dir = tree(t);
  // No process.exit(): a worker left running would keep the child alive until the timeout.
  const script = `
    import { buildManifest, writeManifestFile } from ${JSON.stringify(MANIFEST_MODULE)};
    const out = [];
    for (const workers of [1, 3]) {
      out.push(await buildManifest(${JSON.stringify(join(dir, 'missing'))}, { workers }).then(() => 'resolved', (e) => e.code));
      out.push(await writeManifestFile(${JSON.stringify(join(dir, 'missing'))}, ${JSON.stringify(join(dir, 'm.txt'))}, { workers }).then(() => 'resolved', (e) => e.code));
      out.push((await buildManifest(${JSON.stringify(dir)}, { workers })).files.length);
    }
    process.stdout.write(JSON.stringify(out));
  `;
  assert.deepEqual(JSON.parse(await child(script)), ['ENOENT', 'ENOENT', 3, 'ENOENT', 'ENOENT', 3]);
  // In this process too: the failed call leaves no manifest file behind.
  await assert.rejects(writeManifestFile(join(dir, 'missing'), join(dir, 'out', 'm.txt'), { workers: 1 }), { code: 'ENOENT' });
});
