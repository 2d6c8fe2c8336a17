// The walk and the streamed comparison exactly (issue 8: the mutation run of src/metrics/manifest.ts): listFiles and
// buildManifest over more than one batch of 256 files, what exclude is asked, verifyManifest's counts, bytes and
// capped examples from a merge of two sorted streams, an expected manifest file out of order, and the append-only
// check over more than one batch of candidates (one without a source copy among them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildManifest, listFiles, verifyManifest } from '../../src/metrics/manifest.ts';
import type { ManifestEntry, ManifestList } from '../../src/metrics/types.ts';

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const dir = mkdtempSync(join(tmpdir(), 'pvbench-mverify-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function tree(name: string, files: Record<string, string>): string {
  const root = join(dir, name);
  mkdirSync(root, { recursive: true });
  for (const [rel, data] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), data);
  }
  return root;
}

const entry = (path: string, data: string): ManifestEntry => ({ path, size: Buffer.byteLength(data), sha256: sha256(data) });
const listOf = (files: Record<string, string>): ManifestList => {
  const entries = Object.keys(files)
    .sort()
    .map((p) => entry(p, files[p]!));
  return { files: entries, bytes: entries.reduce((s, e) => s + e.size, 0) };
};

/** `n` files named 0000..n-1 (under `sub/` for the odd ones), content their index. */
function numbered(n: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < n; i++) files[`${i % 2 ? 'sub/' : ''}${String(i).padStart(4, '0')}`] = `content ${i}`;
  return files;
}

test('listFiles and buildManifest: every file, once, in order, in one batch or more than the four hashed at once', async () => {
  for (const count of [3, 1100]) {
    const files = numbered(count);
    const root = tree(`n${count}`, files);
    const want = Object.keys(files).sort();
    assert.deepEqual(await listFiles(root), want, String(count));
    assert.deepEqual(await buildManifest(root), listOf(files), String(count));
  }
});

test('exclude is asked with the path relative to the root, for files and directories, and not for what is under an excluded one', async () => {
  const root = tree('excl', { 'a/b/c.txt': 'c', 'a/b/d.txt': 'd', 'a/e.txt': 'e', 'f.txt': 'f', 'g/h.txt': 'h' });
  symlinkSync('f.txt', join(root, 'link'));
  const asked: string[] = [];
  const files = await listFiles(root, (rel) => {
    asked.push(rel);
    return rel === 'a/b' || rel === 'g/h.txt';
  });
  assert.deepEqual(files, ['a/e.txt', 'f.txt']);
  assert.deepEqual(asked.sort(), ['a', 'a/b', 'a/e.txt', 'f.txt', 'g', 'g/h.txt', 'link']);
  assert.deepEqual(await listFiles(root), ['a/b/c.txt', 'a/b/d.txt', 'a/e.txt', 'f.txt', 'g/h.txt']);
});

test('verifyManifest: counts, the bytes of the files found, and five examples of each kind in path order', async () => {
  const want: Record<string, string> = {};
  const have: Record<string, string> = {};
  for (let i = 0; i < 7; i++) {
    want[`miss${i}`] = `m${i}`;
    want[`same${i}`] = `s${i}`;
    have[`same${i}`] = `s${i}`;
    want[`diff${i}`] = `d${i}`;
    have[`diff${i}`] = `D${i}x`;
    have[`xtra${i}`] = `extra ${i}`;
  }
  // Same size, other content; and the same content one byte longer.
  want['size'] = 'abc';
  have['size'] = 'abcd';
  want['hash'] = 'abc';
  have['hash'] = 'abd';
  const root = tree('verify', have);
  const r = await verifyManifest(root, listOf(want));
  const bytes = Object.values(have).reduce((s, d) => s + Buffer.byteLength(d), 0);
  assert.deepEqual(r, {
    files: 23,
    matched: 7,
    mismatched: 9,
    missing: 7,
    extra: 7,
    bytes,
    ok: false,
    examples: {
      mismatched: ['diff0', 'diff1', 'diff2', 'diff3', 'diff4'],
      missing: ['miss0', 'miss1', 'miss2', 'miss3', 'miss4'],
      extra: ['xtra0', 'xtra1', 'xtra2', 'xtra3', 'xtra4'],
    },
  });
  // Only missing files, then only extra ones: the merge runs one side to its end.
  const empty = tree('verify-empty', {});
  assert.deepEqual(await verifyManifest(empty, listOf({ a: '1', b: '22' })), {
    files: 2,
    matched: 0,
    mismatched: 0,
    missing: 2,
    extra: 0,
    bytes: 0,
    ok: false,
    examples: { mismatched: [], missing: ['a', 'b'], extra: [] },
  });
  assert.deepEqual(await verifyManifest(tree('verify-extra', { a: '1', b: '22' }), { files: [], bytes: 0 }), {
    files: 0,
    matched: 0,
    mismatched: 0,
    missing: 0,
    extra: 2,
    bytes: 3,
    ok: true,
    examples: { mismatched: [], missing: [], extra: ['a', 'b'] },
  });
});

test('verifyManifest interleaves missing, extra and matched paths in order', async () => {
  const root = tree('interleave', { b: 'b', c: 'c', e: 'e', f: 'F' });
  assert.deepEqual(await verifyManifest(root, listOf({ a: 'a', c: 'c', d: 'd', f: 'f', g: 'g' })), {
    files: 5,
    matched: 1,
    mismatched: 1,
    missing: 3,
    extra: 2,
    bytes: 4,
    ok: false,
    examples: { mismatched: ['f'], missing: ['a', 'd', 'g'], extra: ['b', 'e'] },
  });
});

test('an expected manifest file out of path order, or with a path twice, is an error', async () => {
  const root = tree('order', { a: 'a', b: 'b', c: 'c' });
  const line = (p: string) => `${sha256(p)} 1 "${p}"\n`;
  const unsorted = join(dir, 'unsorted.manifest');
  writeFileSync(unsorted, `${line('a')}${line('c')}${line('b')}end 3 3\n`);
  await assert.rejects(verifyManifest(root, { file: unsorted, count: 3, bytes: 3 }), {
    message: 'the expected manifest is not sorted by path ("b" after "c")',
  });
  const twice = join(dir, 'twice.manifest');
  writeFileSync(twice, `${line('a')}${line('b')}${line('b')}${line('c')}end 4 4\n`);
  await assert.rejects(verifyManifest(root, { file: twice, count: 4, bytes: 4 }), {
    message: 'the expected manifest is not sorted by path ("b" after "b")',
  });
  const sorted = join(dir, 'sorted.manifest');
  writeFileSync(sorted, `${line('a')}${line('b')}${line('c')}end 3 3\n`);
  assert.deepEqual(await verifyManifest(root, { file: sorted, count: 3, bytes: 3 }), {
    files: 3,
    matched: 3,
    mismatched: 0,
    missing: 0,
    extra: 0,
    bytes: 3,
    ok: true,
    examples: { mismatched: [], missing: [], extra: [] },
  });
});

test('append-only files over more than one batch: prefixes accepted, the others and those without a source copy rejected', async () => {
  // 300 logs: the live copy grew; the restored one stops at a prefix, except every 50th (a changed byte) and 7 with
  // no live copy at all. Plus one ordinary mismatch ('a-plain') that sorts before them.
  const manifest: Record<string, string> = { 'a-plain': 'plain' };
  const restored: Record<string, string> = { 'a-plain': 'PLAIN' };
  const live: Record<string, string> = {};
  const rejected: string[] = [];
  for (let i = 0; i < 300; i++) {
    const p = `logs/${String(i).padStart(3, '0')}.log`;
    manifest[p] = `start ${i}\n`;
    restored[p] = i % 50 === 0 ? `start ${i}\nchanged` : `start ${i}\nmore`;
    if (i % 50 === 0) rejected.push(p);
    if (i >= 293) rejected.push(p);
    else live[p] = `start ${i}\nmore and more\n`;
  }
  const root = tree('restored-logs', restored);
  const liveRoot = tree('live-logs', live);
  const appendOnly = (rel: string) => rel.startsWith('logs/');
  const r = await verifyManifest(root, listOf(manifest), { appendOnly, prefixRoot: liveRoot });
  const bytes = Object.values(restored).reduce((s, d) => s + Buffer.byteLength(d), 0);
  assert.deepEqual(r, {
    files: 301,
    matched: 300 - rejected.length,
    mismatched: 1 + rejected.length,
    missing: 0,
    extra: 0,
    bytes,
    ok: false,
    examples: { mismatched: ['a-plain', 'logs/000.log', 'logs/050.log', 'logs/100.log', 'logs/150.log'], missing: [], extra: [] },
  });
  assert.equal(rejected.length, 13);
});

test('append-only: rejected candidates are sorted in among the other mismatches', async () => {
  const root = tree('mixed', { 'a.log': 'aX', 'b.txt': 'B', 'c.log': 'c+' });
  const liveRoot = tree('mixed-live', { 'a.log': 'a+', 'c.log': 'c++' });
  const r = await verifyManifest(root, listOf({ 'a.log': 'a', 'b.txt': 'b', 'c.log': 'c' }), { appendOnly: (rel) => rel.endsWith('.log'), prefixRoot: liveRoot });
  assert.deepEqual(r, {
    files: 3,
    matched: 1,
    mismatched: 2,
    missing: 0,
    extra: 0,
    bytes: 5,
    ok: false,
    examples: { mismatched: ['a.log', 'b.txt'], missing: [], extra: [] },
  });
  // Every candidate accepted: ok.
  const good = tree('mixed-good', { 'a.log': 'a+', 'c.log': 'c+' });
  assert.deepEqual(await verifyManifest(good, listOf({ 'a.log': 'a', 'c.log': 'c' }), { appendOnly: (rel) => rel.endsWith('.log'), prefixRoot: liveRoot }), {
    files: 2,
    matched: 2,
    mismatched: 0,
    missing: 0,
    extra: 0,
    bytes: 4,
    ok: true,
    examples: { mismatched: [], missing: [], extra: [] },
  });
});

test('a file removed between the walk and its hash is left out; a directory removed before the walk reaches it fails it', async () => {
  const root = tree('vanish', { a: 'a', b: 'bb', c: 'ccc' });
  // exclude runs while a directory's entries are taken, after they were read: removing 'b' there is a file that
  // vanishes between the walk and the hash.
  const m = await buildManifest(root, {
    exclude: (rel) => {
      if (rel === 'a') unlinkSync(join(root, 'b'));
      return false;
    },
  });
  assert.deepEqual(m, { files: [entry('a', 'a'), entry('c', 'ccc')], bytes: 4 });
  const dirs = tree('vanish-dir', { 'a/x': 'x', 'b/y': 'y' });
  await assert.rejects(
    listFiles(dirs, (rel) => {
      if (rel === 'a/x') rmSync(join(dirs, 'b'), { recursive: true });
      return false;
    }),
    { code: 'ENOENT', syscall: 'scandir', path: join(dirs, 'b') },
  );
});

test('a walk that fails while a failed batch is still in flight rejects with the walk\'s error, and leaves no unhandled rejection', async () => {
  const files: Record<string, string> = { 'b/x': 'x' };
  for (let i = 0; i < 256; i++) files[`a/${String(i).padStart(3, '0')}`] = 'a';
  const root = tree('fail-both', files);
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    await assert.rejects(
      buildManifest(root, {
        exclude: (rel) => {
          // The first batch (a/000..a/255) fails: a/000 is a directory by the time it is hashed.
          if (rel === 'a/000') {
            unlinkSync(join(root, rel));
            mkdirSync(join(root, rel));
          }
          if (rel === 'b/x') throw new Error('exclude failed');
          return false;
        },
      }),
      { message: 'exclude failed' },
    );
    // Let the batch's own rejection arrive.
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('the same hash with another size in the expected manifest is a mismatch', async () => {
  const root = tree('size-only', { a: 'a content' });
  const r = await verifyManifest(root, { files: [{ path: 'a', size: 99, sha256: sha256('a content') }], bytes: 99 });
  assert.deepEqual([r.matched, r.mismatched, r.ok, r.examples.mismatched], [0, 1, false, ['a']]);
});
