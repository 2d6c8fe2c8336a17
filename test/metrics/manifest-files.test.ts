// Manifest files read and written exactly (issue 8: the mutation run of src/metrics/manifest.ts): the parser's errors
// word for word (a count that disagrees, a malformed line, a cut file, an end line with more after it), paths with
// escapes and non-ASCII names, files longer than one read chunk with a character split between chunks, the end line
// read back by openManifestFile, and the writer's chunked output, fsync and temporary file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashFile, hashPrefix, manifestEntries, manifestList, openManifestFile, verifyManifest, writeManifestFile } from '../../src/metrics/manifest.ts';
import type { ManifestEntry, ManifestFile } from '../../src/metrics/types.ts';

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const dir = mkdtempSync(join(tmpdir(), 'pvbench-mfiles-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const H = (c: string): string => c.repeat(64);
let n = 0;
/** A manifest file with this exact text; count and bytes as given (the reader takes them from the caller). */
function manifestText(text: string, count = 0, bytes = 0): ManifestFile {
  const file = join(dir, `m${n++}.manifest`);
  writeFileSync(file, text);
  return { file, count, bytes };
}

async function read(m: ManifestFile): Promise<ManifestEntry[]> {
  const out: ManifestEntry[] = [];
  for await (const e of manifestEntries(m)) out.push(e);
  return out;
}

test('reads sha256, size and path; a path with an escape is JSON, any other is taken between the quotes', async () => {
  const m = manifestText(`${H('a')} 0 "plain name"\n${H('b')} 12 "q\\"uote\\\\b\\nl"\n${H('c')} 345 "ü/日本"\nend 3 357\n`);
  assert.deepEqual(await read(m), [
    { path: 'plain name', size: 0, sha256: H('a') },
    { path: 'q"uote\\b\nl', size: 12, sha256: H('b') },
    { path: 'ü/日本', size: 345, sha256: H('c') },
  ]);
  assert.deepEqual(await manifestList(m), {
    files: [
      { path: 'plain name', size: 0, sha256: H('a') },
      { path: 'q"uote\\b\nl', size: 12, sha256: H('b') },
      { path: 'ü/日本', size: 345, sha256: H('c') },
    ],
    bytes: 0,
  });
  // An empty manifest is its end line.
  assert.deepEqual(await read(manifestText('end 0 0\n')), []);
});

test('an end line whose count is not the number of lines read is an error', async () => {
  const m = manifestText(`${H('a')} 1 "x"\n${H('b')} 1 "y"\nend 3 2\n`);
  await assert.rejects(read(m), { message: `manifest file ${m.file} says 3 files but holds 2` });
  const m2 = manifestText(`${H('a')} 1 "x"\nend 0 1\n`);
  await assert.rejects(read(m2), { message: `manifest file ${m2.file} says 0 files but holds 1` });
});

test('counts of ten and more (several digits) are read whole', async () => {
  const lines = Array.from({ length: 12 }, (_, i) => `${H('d')} ${100 + i} "f${String(i).padStart(2, '0')}"\n`).join('');
  const m = manifestText(`${lines}end 12 1266\n`);
  assert.deepEqual((await read(m)).map((e) => e.size), [100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111]);
  assert.deepEqual(await openManifestFile(m.file), { file: m.file, count: 12, bytes: 1266 });
});

test('a line that is not "<64 hex> <size> <path>" is an error naming its line number', async () => {
  for (const [bad, lineNo] of [
    [`${H('a')}x1 "p"`, 2],
    [`${H('a').slice(1)} 1 "p"`, 2],
    [`${H('a')} 1`, 2],
    [`${H('a')} `, 2],
    ['', 2],
    [`end 1 5 more`, 2],
    [`xend 1 5`, 2],
    [`end 1 5x`, 2],
    [`end a 5`, 2],
    [`end 1`, 2],
  ] as const) {
    const m = manifestText(`${H('f')} 5 "ok"\n${bad}\nend 1 5\n`);
    await assert.rejects(read(m), { message: `manifest file ${m.file}: line ${lineNo} is not a manifest line` }, bad);
  }
  const third = manifestText(`${H('f')} 5 "a"\n${H('f')} 5 "b"\nnonsense\nend 2 10\n`);
  await assert.rejects(read(third), { message: `manifest file ${third.file}: line 3 is not a manifest line` });
});

test('a file without an end line is incomplete; lines after the end line are not read', async () => {
  const cut = manifestText(`${H('a')} 1 "x"\n`);
  await assert.rejects(read(cut), { message: `manifest file ${cut.file} is incomplete: it has no end line` });
  const unterminated = manifestText(`${H('a')} 1 "x"\nend 1 1`);
  await assert.rejects(read(unterminated), { message: `manifest file ${unterminated.file} is incomplete: it has no end line` });
  await assert.rejects(read(manifestText('')), /is incomplete: it has no end line$/);
  const after = manifestText(`${H('a')} 1 "x"\nend 1 1\ngarbage after the end\n`);
  assert.deepEqual(await read(after), [{ path: 'x', size: 1, sha256: H('a') }]);
});

test('a manifest longer than one 64 KiB read: lines and a multi-byte character split between reads come out whole', async () => {
  // Each line is 64 + 1 + 1 + 1 + name: names of 'é' (2 bytes) put character boundaries at odd offsets.
  const entries: ManifestEntry[] = Array.from({ length: 2000 }, (_, i) => ({ path: `${String(i).padStart(4, '0')}-${'é'.repeat(20 + (i % 7))}`, size: i % 10, sha256: H('0123456789abcdef'[i % 16]!) }));
  const text = entries.map((e) => `${e.sha256} ${e.size} "${e.path}"\n`).join('') + `end 2000 9000\n`;
  const bytes = Buffer.from(text);
  assert.ok(bytes.length > 3 * 65536);
  // The read boundaries fall inside a character at least once (a UTF-8 continuation byte right after one).
  assert.ok([1, 2, 3].some((k) => (bytes[k * 65536]! & 0xc0) === 0x80));
  const m = manifestText(text, 2000, 9000);
  assert.deepEqual(await read(m), entries);
  assert.deepEqual(await openManifestFile(m.file), { file: m.file, count: 2000, bytes: 9000 });
});

test('openManifestFile: the end line of a short or long file; none, or a last line without a newline, is incomplete', async () => {
  const short = manifestText('end 0 0\n');
  assert.deepEqual(await openManifestFile(short.file), { file: short.file, count: 0, bytes: 0 });
  const long = manifestText(`${H('a')} 1 "${'x'.repeat(300)}"\nend 1 1\n`);
  assert.deepEqual(await openManifestFile(long.file), { file: long.file, count: 1, bytes: 1 });
  for (const text of ['', '\n', 'end 0 0', 'end 0 0\nxyz', `end 1 1\n${H('a')} 1 "x"\n`, 'end 0 0\n\n']) {
    const m = manifestText(text);
    await assert.rejects(openManifestFile(m.file), { message: `manifest file ${m.file} is incomplete: it has no end line` }, JSON.stringify(text));
  }
  await assert.rejects(openManifestFile(join(dir, 'none.manifest')), { code: 'ENOENT' });
});

function tree(name: string, files: Record<string, string>): string {
  const root = join(dir, name);
  for (const [rel, data] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), data);
  }
  return root;
}

test('writeManifestFile: every line in order past the 64 KiB write chunk, into a directory it makes, no temporary file left', async () => {
  // 800 files with 100-character names: about 140 KB of manifest, written in several chunks.
  const files: Record<string, string> = {};
  for (let i = 0; i < 800; i++) files[`d${i % 3}/${String(i).padStart(4, '0')}${'n'.repeat(95)}`] = String(i);
  const root = tree('many', files);
  const out = join(dir, 'out', 'deeper', 'many.manifest');
  const written = await writeManifestFile(root, out);
  const paths = Object.keys(files).sort();
  const bytes = paths.reduce((s, p) => s + files[p]!.length, 0);
  assert.deepEqual(written, { file: out, count: 800, bytes });
  assert.equal(readFileSync(out, 'utf8'), paths.map((p) => `${sha256(files[p]!)} ${files[p]!.length} "${p}"\n`).join('') + `end 800 ${bytes}\n`);
  assert.deepEqual(readdirSync(join(dir, 'out', 'deeper')), ['many.manifest']);
  // Written again over the old one: replaced whole.
  const small = tree('small', { 'a': 'aa' });
  assert.deepEqual(await writeManifestFile(small, out), { file: out, count: 1, bytes: 2 });
  assert.equal(readFileSync(out, 'utf8'), `${sha256('aa')} 2 "a"\nend 1 2\n`);
  assert.deepEqual(readdirSync(join(dir, 'out', 'deeper')), ['many.manifest']);
});

test('writeManifestFile: fsync\'d only when durable', async () => {
  const root = tree('durable', { a: 'x', b: 'y' });
  const probe = await open(join(root, 'a'), 'r');
  const proto = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
  await probe.close();
  const real = proto.sync;
  let syncs = 0;
  proto.sync = function (this: unknown) {
    syncs++;
    return real.call(this);
  };
  try {
    await writeManifestFile(root, join(dir, 'plain.manifest'));
    assert.equal(syncs, 0);
    await writeManifestFile(root, join(dir, 'plain.manifest'), { durable: false });
    assert.equal(syncs, 0);
    await writeManifestFile(root, join(dir, 'durable.manifest'), { durable: true });
    assert.equal(syncs, 1);
  } finally {
    proto.sync = real;
  }
  assert.equal(readFileSync(join(dir, 'durable.manifest'), 'utf8'), `${sha256('x')} 1 "a"\n${sha256('y')} 1 "b"\nend 2 2\n`);
});

test('writeManifestFile: a walk that fails midway leaves neither the file nor its temporary sibling', async () => {
  const root = tree('fails', { a: 'x' });
  const out = join(dir, 'fails-out', 'f.manifest');
  await assert.rejects(
    writeManifestFile(root, out, {
      workers: 1,
      exclude: (rel) => {
        if (rel === 'a') throw new Error('exclude failed');
        return false;
      },
    }),
    { message: 'exclude failed' },
  );
  assert.deepEqual(readdirSync(join(dir, 'fails-out')), []);
});

/** FileHandle.prototype, from a handle opened once. */
async function fileHandleProto(): Promise<Record<string, unknown>> {
  const probe = await open(dir, 'r');
  const proto = Object.getPrototypeOf(probe) as Record<string, unknown>;
  await probe.close();
  return proto;
}

test('writeManifestFile writes 64 KiB at a time: a chunk as soon as the text reaches it, the rest with the end line', async () => {
  // 257 files whose lines are 256 characters each: the first 256 (one walk batch) are exactly 64 KiB.
  const files: Record<string, string> = {};
  for (let i = 0; i < 257; i++) files[String(i).padStart(4, '0') + 'n'.repeat(182)] = String(i % 10);
  const root = tree('chunks', files);
  const proto = await fileHandleProto();
  const real = proto.writeFile as (this: unknown, data: string) => Promise<void>;
  const writes: number[] = [];
  proto.writeFile = function (this: unknown, data: string) {
    writes.push(data.length);
    return real.call(this, data);
  };
  try {
    await writeManifestFile(root, join(dir, 'chunks.manifest'));
  } finally {
    proto.writeFile = real;
  }
  assert.deepEqual(writes, [65536, 256 + 'end 257 257\n'.length]);
  assert.equal(readFileSync(join(dir, 'chunks.manifest'), 'utf8').split('\n')[256], `${sha256('6')} 1 "0256${'n'.repeat(182)}"`);
});

test('every file handle is closed: reading, writing and hashing, and a comparison stopped by an unsorted manifest', async () => {
  if (process.platform !== 'linux') return;
  const root = tree('fds', { a: 'a', b: 'bb' });
  const written = join(dir, 'fds.manifest');
  const unsorted = manifestText(`${sha256('b')} 2 "b"\n${sha256('a')} 1 "a"\nend 2 3\n`, 2, 3);
  const round = async (): Promise<void> => {
    const m = await writeManifestFile(root, written);
    assert.equal((await read(m)).length, 2);
    assert.deepEqual(await openManifestFile(written), m);
    assert.equal((await hashFile(join(root, 'b'))).size, 2);
    assert.equal((await hashPrefix(join(root, 'b'), 1)).size, 1);
    await assert.rejects(verifyManifest(root, unsorted), /not sorted by path/);
  };
  const fds = () => readdirSync('/proc/self/fd').length;
  await round(); // the shared pool's workers start here
  const before = fds();
  for (let i = 0; i < 3; i++) await round();
  assert.equal(fds(), before);
});
