// The hash pool seen from its worker threads: node:worker_threads' Worker is replaced (before manifest.ts is loaded)
// by a subclass that records every worker, its messages, ref/unref and exit, and can hold messages back so a test
// answers for the worker. So the pool's bookkeeping is checked exactly: how many workers a batch gets, batch ids,
// the first failure by position, replies for unknown batches, a worker that dies or errors, ref'd while busy and
// unref'd when idle, and the shared pool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const wt = require('node:worker_threads') as typeof import('node:worker_threads');
const Real = wt.Worker;

let hold = false;
class Tracked extends Real {
  refd = true;
  exited = false;
  posted: { id: number; paths: string[] }[] = [];
  constructor(...args: ConstructorParameters<typeof Real>) {
    super(...args);
    made.push(this);
    this.on('exit', () => {
      this.exited = true;
    });
  }
  override ref(): void {
    this.refd = true;
    super.ref();
  }
  override unref(): void {
    this.refd = false;
    super.unref();
  }
  override postMessage(message: { id: number; paths: string[] }): void {
    this.posted.push(message);
    if (!hold) super.postMessage(message);
  }
}
const made: Tracked[] = [];
wt.Worker = Tracked as unknown as typeof Real;
syncBuiltinESMExports();
const { buildManifest, closeSharedPool, createHashPool } = await import('../../src/metrics/manifest.ts');

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const dir = mkdtempSync(join(tmpdir(), 'pvbench-workers-'));
writeFileSync(join(dir, 'a.txt'), 'hello\n');
writeFileSync(join(dir, 'big.bin'), Buffer.alloc(8 * 1024 * 1024, 7));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const A = { path: join(dir, 'a.txt') };
const HELLO = { size: 6, sha256: sha256('hello\n') };
const tick = () => new Promise((r) => setImmediate(r));

test('a batch goes to as many workers as it has files, at most the pool size; batch ids count up', async () => {
  const from = made.length;
  const pool = createHashPool(3);
  try {
    assert.deepEqual(await pool.hashMany([A]), [HELLO]);
    assert.equal(made.length - from, 1);
    assert.deepEqual(await pool.hashMany([A, A, A, A, A]), [HELLO, HELLO, HELLO, HELLO, HELLO]);
    assert.equal(made.length - from, 3);
    // Three workers, one file: one message, and the answer is there every time.
    for (let i = 0; i < 20; i++) assert.deepEqual(await pool.hashMany([A]), [HELLO]);
    const mine = made.slice(from);
    assert.deepEqual(
      mine.map((w) => w.posted.map((m) => m.id)),
      [[0, 1, ...Array.from({ length: 20 }, (_, i) => i + 2)], [1], [1]],
    );
  } finally {
    await pool.close();
  }
  assert.ok(made.slice(from).every((w) => w.exited));
});

test('replies: the first failure by position wins, a vanished file is null, unknown batches are ignored', async () => {
  const from = made.length;
  const pool = createHashPool(2);
  hold = true;
  try {
    const jobs = [A, { path: join(dir, 'x') }, { path: join(dir, 'y') }];
    const settled = pool.hashMany(jobs).then(
      () => assert.fail('resolved'),
      (e: Error & { code?: string; path?: string }) => e,
    );
    const [w0, w1] = made.slice(from) as [Tracked, Tracked];
    const id = w0.posted[0]!.id;
    assert.equal(w1.posted[0]!.id, id);
    // A reply for a batch the pool does not know: ignored.
    w0.emit('message', { id: id + 100, results: [] });
    w1.emit('message', { id, results: [{ i: 2, ok: false, code: 'EIO', message: 'two' }] });
    await tick();
    w0.emit('message', { id, results: [{ i: 0, ok: true, size: 1, sha256: 'a' }, { i: 1, ok: false, code: 'EACCES', message: 'one' }] });
    const err = await settled;
    assert.deepEqual([err.message, err.code, err.path], ['one', 'EACCES', join(dir, 'x')]);

    // ENOENT is a vanished file; a failure at a position the batch does not have has no path.
    const second = pool.hashMany([A, A]);
    const id2 = w0.posted[1]!.id;
    w0.emit('message', { id: id2, results: [{ i: 0, ok: false, code: 'ENOENT', message: 'gone' }] });
    w1.emit('message', { id: id2, results: [{ i: 1, ok: true, size: 2, sha256: 'b' }] });
    assert.deepEqual(await second, [null, { size: 2, sha256: 'b' }]);
    const third = pool.hashMany([A]).then(
      () => assert.fail('resolved'),
      (e: Error & { path?: string }) => e,
    );
    const id3 = w0.posted[2]!.id;
    w0.emit('message', { id: id3, results: [{ i: 7, ok: false, code: 'EIO', message: 'odd' }] });
    const odd = await third;
    assert.deepEqual([odd.message, odd.path], ['odd', undefined]);
  } finally {
    hold = false;
    await pool.close();
  }
});

test('a worker that exits fails the batch in flight and every later one with its exit code; close ends the others', async () => {
  const from = made.length;
  const pool = createHashPool(2);
  const big = Array.from({ length: 16 }, () => ({ path: join(dir, 'big.bin') }));
  const settled = pool.hashMany(big).then(
    () => assert.fail('resolved'),
    (e: Error) => e,
  );
  const [w0, w1] = made.slice(from) as [Tracked, Tracked];
  await w0.terminate();
  const err = await settled;
  assert.match(err.message, /^hash worker exited with code \d+$/);
  assert.equal(pool.broken, true);
  await assert.rejects(pool.hashMany([A]), (e) => e === err);
  await pool.close();
  await tick();
  assert.equal(w1.exited, true);
});

test('a worker error fails the pool with that error; its exit afterwards changes nothing; close ends every other worker', async () => {
  const from = made.length;
  const pool = createHashPool(3, { unrefWhenIdle: true });
  assert.deepEqual(await pool.hashMany([A, A, A]), [HELLO, HELLO, HELLO]);
  const [w0, w1, w2] = made.slice(from) as [Tracked, Tracked, Tracked];
  const boom = new Error('boom');
  w0.emit('error', boom);
  assert.equal(pool.broken, true);
  await assert.rejects(pool.hashMany([A]), (e) => e === boom);
  await w0.terminate();
  await tick();
  await pool.close();
  await tick();
  assert.deepEqual([w0.exited, w1.exited, w2.exited], [true, true, true]);
  await assert.rejects(pool.hashMany([A]), (e) => e === boom);
});

test('unrefWhenIdle: workers are ref\'d while any batch is in flight and unref\'d when none is, also after a failure', async () => {
  const from = made.length;
  const pool = createHashPool(2, { unrefWhenIdle: true });
  try {
    const big = Array.from({ length: 16 }, () => ({ path: join(dir, 'big.bin') }));
    // A one-file batch (first worker only), then a big one for both: the small one finishes first, while the big
    // one is still in flight, so the workers stay ref'd.
    const quick = pool.hashMany([A]);
    const slow = pool.hashMany(big);
    const [w0, w1] = made.slice(from) as [Tracked, Tracked];
    assert.deepEqual([w0.refd, w1.refd], [true, true]);
    await quick;
    assert.deepEqual([w0.refd, w1.refd], [true, true]);
    await slow;
    assert.deepEqual([w0.refd, w1.refd], [false, false]);
    // A worker's error fails the batch in flight and leaves the others unref'd.
    const failing = pool.hashMany(big).then(
      () => 'resolved',
      (e: Error) => e.message,
    );
    assert.deepEqual([w0.refd, w1.refd], [true, true]);
    w0.emit('error', new Error('lost'));
    assert.equal(await failing, 'lost');
    assert.equal(w1.refd, false);
    // A real error ends its thread; this one was made up, so end it here (the pool no longer knows it).
    await w0.terminate();
  } finally {
    await pool.close();
  }
  // Without the option, workers stay ref'd between batches (the caller closes the pool).
  const from2 = made.length;
  const plain = createHashPool(1);
  try {
    await plain.hashMany([A]);
    assert.equal(made[from2]!.refd, true);
  } finally {
    await plain.close();
  }
});

test('the shared pool: made once, used by calls without a worker count, replaced after closeSharedPool; a worker count gets its own pool, closed after', async () => {
  await closeSharedPool();
  const from = made.length;
  const small = (rel: string) => rel === 'big.bin';
  const want = { files: [{ path: 'a.txt', ...HELLO }], bytes: 6 };
  assert.deepEqual(await buildManifest(dir, { exclude: small }), want);
  const shared = made.slice(from);
  assert.equal(shared.length, 1);
  assert.deepEqual(await buildManifest(dir, { exclude: small }), want);
  assert.equal(made.length, from + 1);
  assert.equal(shared[0]!.refd, false);
  // Its own pool: a new worker, terminated when the call is done.
  assert.deepEqual(await buildManifest(dir, { exclude: small, workers: 1 }), want);
  assert.equal(made.length, from + 2);
  await tick();
  assert.equal(made[from + 1]!.exited, true);
  assert.equal(shared[0]!.exited, false);
  await closeSharedPool();
  await tick();
  assert.equal(shared[0]!.exited, true);
  assert.deepEqual(await buildManifest(dir, { exclude: small }), want);
  assert.equal(made.length, from + 3);
  await closeSharedPool();
});

/** A tree of `n` one-byte files in one directory. */
function flat(n: number): string {
  const root = mkdtempSync(join(tmpdir(), 'pvbench-workers-flat-'));
  process.on('exit', () => rmSync(root, { recursive: true, force: true }));
  for (let i = 0; i < n; i++) writeFileSync(join(root, String(i).padStart(4, '0')), String(i % 10));
  return root;
}

test('the walk hands the pool 256 paths at a time, and keeps four batches in flight while it waits for the first', async () => {
  const root = flat(5 * 256 + 10);
  const from = made.length;
  const answered = new Set<number>();
  hold = true;
  const built = buildManifest(root, { workers: 1 });
  const answer = (k: number): void => {
    const w = made[from]!;
    if (answered.has(k) || !w.posted[k]) return;
    answered.add(k);
    w.emit('message', { id: w.posted[k]!.id, results: w.posted[k]!.paths.map((_, i) => ({ i, ok: true, size: 1, sha256: `h${k}` })) });
  };
  const waitFor = async (count: number): Promise<Tracked> => {
    for (let t = 0; t < 300 && (made.length === from || made[from]!.posted.length < count); t++) await new Promise((r) => setTimeout(r, 10));
    return made[from]!;
  };
  try {
    const w = await waitFor(4);
    // Nothing answered yet: four batches out, no fifth until the first is answered.
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(w.posted.map((m) => m.paths.length), [256, 256, 256, 256]);
    answer(0);
    await waitFor(5);
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(w.posted.map((m) => m.paths.length), [256, 256, 256, 256, 256]);
    answer(1);
    await waitFor(6);
    for (let k = 2; k < 6; k++) answer(k);
    const m = await built;
    assert.deepEqual(w.posted.map((p) => p.paths.length), [256, 256, 256, 256, 256, 10]);
    assert.equal(made.length, from + 1);
    assert.deepEqual(w.posted[1]!.paths.slice(0, 2), [join(root, '0256'), join(root, '0257')]);
    assert.equal(m.files.length, 1290);
    assert.equal(m.bytes, 1290);
    assert.deepEqual(m.files[1289], { path: '1289', size: 1, sha256: 'h5' });
    assert.deepEqual(m.files[256], { path: '0256', size: 1, sha256: 'h1' });
  } finally {
    // On a failure above: answer whatever is still out, so that the call ends and its pool is closed.
    hold = false;
    for (let round = 0; round < 50 && made.length > from; round++) {
      for (let k = 0; k < made[from]!.posted.length; k++) answer(k);
      const done = await Promise.race([built.then(() => true, () => true), new Promise((r) => setTimeout(() => r(false), 20))]);
      if (done) break;
    }
  }
});
