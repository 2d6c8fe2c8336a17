import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import assert from 'node:assert/strict';
import { build } from 'esbuild';
import { buildManifest, compareManifests, createHashPool, hashFile, hashPrefix, listFiles, manifestEntries, manifestList, openManifestFile, verifyManifest, writeManifestFile } from '../../src/metrics/manifest.ts';
import type { ManifestList } from '../../src/metrics/types.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MANIFEST_MODULE = pathToFileURL(join(ROOT, 'src/metrics/manifest.ts')).href;

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

// The generated tree: path → content. big.bin is 5 MB and not a multiple of the hashing chunk.
const CONTENT: Record<string, Buffer> = {
  'a.txt': Buffer.from('hello\n'),
  'empty.bin': Buffer.alloc(0),
  'space name.txt': Buffer.from('spaces are fine'),
  'big.bin': randomBytes(5 * 1024 * 1024 + 123),
  'nested/deep/er/file.dat': randomBytes(1000),
  'nested/b.txt': Buffer.from('b'),
  'logs/access.log': Buffer.from('line1\n'),
};

let tmp: string;
let src: string;
let expected: ManifestList;
let copies = 0;

/** A fresh copy of the generated tree. */
function copyOfSource(): string {
  const dir = join(tmp, `copy-${copies++}`);
  cpSync(src, dir, { recursive: true, verbatimSymlinks: true });
  return dir;
}

function run(file: string, args: string[], timeout: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    execFile(file, args, { timeout, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stdout, stderr }));
      else resolvePromise({ stdout, stderr });
    });
  });
}

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'pvbench-manifest-'));
  src = join(tmp, 'src');
  for (const [path, data] of Object.entries(CONTENT)) {
    mkdirSync(dirname(join(src, path)), { recursive: true });
    writeFileSync(join(src, path), data);
  }
  symlinkSync('a.txt', join(src, 'link-to-a'));
  symlinkSync('nested', join(src, 'link-to-dir'));
  mkdirSync(join(src, 'empty-dir'));
  // Computed independently of the module under test.
  const files = Object.keys(CONTENT)
    .sort()
    .map((path) => ({ path, size: CONTENT[path]!.length, sha256: sha256(CONTENT[path]!) }));
  expected = { files, bytes: files.reduce((n, f) => n + f.size, 0) };
});

after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('buildManifest', () => {
  test('hashes every regular file, sorted, without following symlinks', async () => {
    assert.deepEqual(await buildManifest(src), expected);
  });

  test('gives the same manifest with one worker', async () => {
    assert.deepEqual(await buildManifest(src, { workers: 1 }), expected);
  });

  test('leaves out excluded paths and does not descend into excluded directories', async () => {
    const seen: string[] = [];
    const m = await buildManifest(src, {
      exclude: (rel) => {
        seen.push(rel);
        return rel === 'nested' || rel === 'a.txt';
      },
    });
    assert.deepEqual(
      m.files.map((f) => f.path),
      expected.files.map((f) => f.path).filter((p) => !p.startsWith('nested/') && p !== 'a.txt'),
    );
    assert.ok(!seen.some((rel) => rel.startsWith('nested/')), 'walked into an excluded directory');
  });

  test('an empty tree has an empty manifest', async () => {
    const dir = join(tmp, 'empty-tree');
    mkdirSync(dir);
    assert.deepEqual(await buildManifest(dir), { files: [], bytes: 0 });
  });

  test('rejects when the root does not exist', async () => {
    await assert.rejects(buildManifest(join(tmp, 'no-such-dir')), { code: 'ENOENT' });
  });

  test('works from a single-file esbuild bundle (no worker file on disk)', async () => {
    const outfile = join(tmp, 'bundle', 'manifest.mjs');
    await build({
      stdin: {
        contents: "import { buildManifest } from './src/metrics/manifest.ts';\nprocess.stdout.write(JSON.stringify(await buildManifest(process.argv[2])));\n",
        resolveDir: ROOT,
        loader: 'ts',
        sourcefile: 'entry.ts',
      },
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      logLevel: 'silent',
    });
    const { stdout } = await run(process.execPath, [outfile, src], 60_000);
    assert.deepEqual(JSON.parse(stdout), expected);
  });
});

describe('hash pool', () => {
  test('a worker error rejects the job, and closing terminates the workers so the process can exit', async () => {
    // In a child process with no process.exit(): a worker left running would keep it alive until the timeout.
    const script = `
      import { buildManifest, createHashPool } from ${JSON.stringify(MANIFEST_MODULE)};
      const m = await buildManifest(${JSON.stringify(src)}, { workers: 2 });
      const pool = createHashPool(2);
      const jobs = [${JSON.stringify(join(src, 'a.txt'))}, ${JSON.stringify(src)}, ${JSON.stringify(join(src, 'big.bin'))}].map((path) => ({ path }));
      const error = await pool.hashMany(jobs).then(() => 'none', (err) => err.code);
      await pool.close();
      const closed = await pool.hashMany(jobs.slice(0, 1)).then(() => 'resolved', () => 'rejected');
      const missing = await buildManifest(${JSON.stringify(join(tmp, 'missing'))}).then(() => 'resolved', (err) => err.code);
      process.stdout.write(JSON.stringify({ files: m.files.length, error, closed, missing }));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], 60_000);
    assert.deepEqual(JSON.parse(stdout), { files: expected.files.length, error: 'EISDIR', closed: 'rejected', missing: 'ENOENT' });
  });

  test('the shared pool (no worker count given) serves many calls and never keeps the process alive', async () => {
    // No closeSharedPool() and no process.exit(): idle shared workers must be unref'd, busy ones ref'd.
    const script = `
      import { buildManifest, verifyManifest } from ${JSON.stringify(MANIFEST_MODULE)};
      const results = [];
      for (let i = 0; i < 5; i++) results.push((await buildManifest(${JSON.stringify(src)})).files.length);
      const m = await buildManifest(${JSON.stringify(src)});
      const v = await verifyManifest(${JSON.stringify(src)}, m);
      await new Promise((r) => setTimeout(r, 50)); // the loop empties while workers idle: exit must follow
      process.stdout.write(JSON.stringify({ results, ok: v.ok, matched: v.matched }));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], 60_000);
    const n = expected.files.length;
    assert.deepEqual(JSON.parse(stdout), { results: [n, n, n, n, n], ok: true, matched: n });
  });

  test('hashes whole files and prefixes in order; a vanished file is null; an unreadable one rejects', async () => {
    const pool = createHashPool(2);
    try {
      const big = CONTENT['big.bin']!;
      const files = Object.keys(CONTENT).map((path) => ({ path: join(src, path) }));
      assert.deepEqual(
        await pool.hashMany([{ path: join(src, 'big.bin'), limit: 4096 }, { path: join(src, 'gone.txt') }, ...files]),
        [
          { size: 4096, sha256: sha256(big.subarray(0, 4096)) },
          null,
          ...Object.values(CONTENT).map((data) => ({ size: data.length, sha256: sha256(data) })),
        ],
      );
      assert.deepEqual(await pool.hashMany([]), []);
      await assert.rejects(pool.hashMany([...files, { path: join(src, 'nested') }]), { code: 'EISDIR', path: join(src, 'nested') });
      // A failed batch does not break the pool.
      assert.equal((await pool.hashMany(files)).length, files.length);
    } finally {
      await pool.close();
    }
  });
});

describe('hashFile and hashPrefix', () => {
  test('hashFile streams a whole file', async () => {
    const big = CONTENT['big.bin']!;
    assert.deepEqual(await hashFile(join(src, 'big.bin')), { size: big.length, sha256: sha256(big) });
    assert.deepEqual(await hashFile(join(src, 'empty.bin')), { size: 0, sha256: sha256('') });
  });

  test('hashPrefix hashes the first bytes, and reports a shorter file by its size', async () => {
    const big = CONTENT['big.bin']!;
    const length = (1 << 20) + 7; // crosses a chunk boundary
    assert.deepEqual(await hashPrefix(join(src, 'big.bin'), length), { size: length, sha256: sha256(big.subarray(0, length)) });
    assert.deepEqual(await hashPrefix(join(src, 'a.txt'), 1000), { size: 6, sha256: sha256('hello\n') });
  });
});

describe('compareManifests', () => {
  const entry = (path: string, sha = 'x', size = 1) => ({ path, size, sha256: sha });
  const manifest = (files: ReturnType<typeof entry>[]): ManifestList => ({ files, bytes: files.reduce((n, f) => n + f.size, 0) });

  test('counts matched, mismatched (hash or size), missing and extra', () => {
    const r = compareManifests(
      manifest([entry('a'), entry('b'), entry('c'), entry('d')]),
      manifest([entry('a'), entry('b', 'y'), entry('c', 'x', 2), entry('e', 'z', 10)]),
    );
    assert.deepEqual(r, {
      files: 4,
      matched: 1,
      mismatched: 2,
      missing: 1,
      extra: 1,
      bytes: 14,
      ok: false,
      examples: { mismatched: ['b', 'c'], missing: ['d'], extra: ['e'] },
    });
  });

  test('extra files alone do not fail the check, and examples are capped at five', () => {
    const many = Array.from({ length: 8 }, (_, i) => entry(`x${i}`));
    const r = compareManifests(manifest([entry('a')]), manifest([entry('a'), ...many]));
    assert.equal(r.ok, true);
    assert.equal(r.extra, 8);
    assert.deepEqual(r.examples.extra, ['x0', 'x1', 'x2', 'x3', 'x4']);
    const missing = compareManifests(manifest(many), manifest([]));
    assert.equal(missing.ok, false);
    assert.equal(missing.missing, 8);
    assert.equal(missing.examples.missing.length, 5);
  });
});

describe('verifyManifest', () => {
  test('an identical copy matches', async () => {
    const r = await verifyManifest(copyOfSource(), expected);
    assert.equal(r.ok, true);
    assert.equal(r.matched, expected.files.length);
    assert.equal(r.bytes, expected.bytes);
  });

  test('detects a flipped bit', async () => {
    const dir = copyOfSource();
    const data = readFileSync(join(dir, 'big.bin'));
    data[3 * 1024 * 1024] = data[3 * 1024 * 1024]! ^ 0x10;
    writeFileSync(join(dir, 'big.bin'), data);
    const r = await verifyManifest(dir, expected);
    assert.equal(r.ok, false);
    assert.equal(r.mismatched, 1);
    assert.deepEqual(r.examples.mismatched, ['big.bin']);
    assert.equal(r.matched, expected.files.length - 1);
  });

  test('detects truncation', async () => {
    const dir = copyOfSource();
    truncateSync(join(dir, 'nested/deep/er/file.dat'), 10);
    const r = await verifyManifest(dir, expected);
    assert.equal(r.ok, false);
    assert.deepEqual(r.examples.mismatched, ['nested/deep/er/file.dat']);
  });

  test('detects a deleted file', async () => {
    const dir = copyOfSource();
    unlinkSync(join(dir, 'empty.bin'));
    const r = await verifyManifest(dir, expected);
    assert.equal(r.ok, false);
    assert.equal(r.missing, 1);
    assert.deepEqual(r.examples.missing, ['empty.bin']);
  });

  test('reports extra files without failing', async () => {
    const dir = copyOfSource();
    writeFileSync(join(dir, 'nested', 'new.txt'), 'new');
    const r = await verifyManifest(dir, expected);
    assert.equal(r.ok, true);
    assert.equal(r.extra, 1);
    assert.deepEqual(r.examples.extra, ['nested/new.txt']);
  });

  describe('append-only files', () => {
    const LOG = 'logs/access.log';
    const appendOnly = (rel: string): boolean => rel.startsWith('logs/');
    let live: string;

    before(() => {
      // The live source kept growing after the manifest was taken.
      live = copyOfSource();
      appendFileSync(join(live, LOG), 'line2\nline3\n');
    });

    /** A restored tree whose log holds `content`. */
    const restoredWithLog = (content: string): string => {
      const dir = copyOfSource();
      writeFileSync(join(dir, LOG), content);
      return dir;
    };

    test('a restored log that is a byte prefix of the live log matches', async () => {
      const r = await verifyManifest(restoredWithLog('line1\nline2\nli'), expected, { appendOnly, prefixRoot: live });
      assert.equal(r.ok, true);
      assert.equal(r.matched, expected.files.length);
      assert.equal(r.mismatched, 0);
    });

    test('the same file fails without the append-only rule or without a prefix root', async () => {
      const dir = restoredWithLog('line1\nline2\nli');
      assert.deepEqual((await verifyManifest(dir, expected, { prefixRoot: live })).examples.mismatched, [LOG]);
      assert.deepEqual((await verifyManifest(dir, expected, { appendOnly })).examples.mismatched, [LOG]);
    });

    test('a log with a changed byte inside the prefix is rejected', async () => {
      const r = await verifyManifest(restoredWithLog('line1\nlinX2\nli'), expected, { appendOnly, prefixRoot: live });
      assert.equal(r.ok, false);
      assert.deepEqual(r.examples.mismatched, [LOG]);
    });

    test('a log longer than the live one is rejected', async () => {
      const r = await verifyManifest(restoredWithLog('line1\nline2\nline3\nline4\n'), expected, { appendOnly, prefixRoot: live });
      assert.equal(r.ok, false);
      assert.equal(r.mismatched, 1);
    });

    test('the rule does not cover files outside appendOnly', async () => {
      const dir = restoredWithLog('line1\nline2\n');
      writeFileSync(join(dir, 'a.txt'), 'hel');
      writeFileSync(join(live, 'a.txt'), 'hello\nmore');
      const r = await verifyManifest(dir, expected, { appendOnly, prefixRoot: live });
      assert.deepEqual(r.examples.mismatched, ['a.txt']);
    });
  });
});

describe('manifest files (on disk, streamed)', () => {
  test('sorted by whole path in code-unit order, whatever the directory layout and the names', async () => {
    const dir = join(tmp, 'names');
    // '-' (0x2d) and '.' (0x2e) sort before '/' (0x2f), '0' after it: "a-c" < "a.txt" < "a/b" < "a0".
    const names = ['a/b', 'a-c', 'a0', 'a.txt', 'a/b0/c', 'a/b-', 'Z', 'ü/x', 'sp ace/"q"\\b\nl\tt'];
    for (const n of names) {
      mkdirSync(dirname(join(dir, n)), { recursive: true });
      writeFileSync(join(dir, n), n);
    }
    const sorted = [...names].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    assert.deepEqual(await listFiles(dir), sorted);
    const list = await buildManifest(dir);
    assert.deepEqual(list.files.map((f) => f.path), sorted);
    const file = await writeManifestFile(dir, join(tmp, 'names.manifest'));
    assert.deepEqual(file, { file: join(tmp, 'names.manifest'), count: names.length, bytes: list.bytes });
    const back: unknown[] = [];
    for await (const e of manifestEntries(file)) back.push(e);
    assert.deepEqual(back, list.files);
    assert.deepEqual(await openManifestFile(file.file), file);
    assert.deepEqual(await manifestList(file), list);
  });

  test('one line per file, sha256, size and the path as a JSON string, then an end line with the count and bytes', async () => {
    const file = await writeManifestFile(src, join(tmp, 'src.manifest'));
    const lines = readFileSync(file.file, 'utf8').split('\n');
    assert.equal(lines.pop(), '');
    assert.equal(lines.pop(), `end ${expected.files.length} ${expected.bytes}`);
    assert.deepEqual(lines, expected.files.map((f) => `${f.sha256} ${f.size} ${JSON.stringify(f.path)}`));
  });

  test('verifying against a manifest file finds what verifying against the list finds', async () => {
    const file = await writeManifestFile(src, join(tmp, 'expected.manifest'));
    const dir = copyOfSource();
    truncateSync(join(dir, 'nested/b.txt'), 0);
    unlinkSync(join(dir, 'a.txt'));
    writeFileSync(join(dir, 'zz-extra'), 'x');
    const fromFile = await verifyManifest(dir, file);
    assert.deepEqual(fromFile, await verifyManifest(dir, expected));
    assert.deepEqual(fromFile, {
      files: expected.files.length,
      matched: expected.files.length - 2,
      mismatched: 1,
      missing: 1,
      extra: 1,
      bytes: expected.bytes - 6 - 1 + 1,
      ok: false,
      examples: { mismatched: ['nested/b.txt'], missing: ['a.txt'], extra: ['zz-extra'] },
    });
  });

  test('a manifest file cut short (no end line) is an error, never a shorter manifest', async () => {
    const file = await writeManifestFile(src, join(tmp, 'cut.manifest'));
    const text = readFileSync(file.file, 'utf8');
    writeFileSync(file.file, text.slice(0, text.lastIndexOf('end ')));
    await assert.rejects(openManifestFile(file.file), /cut\.manifest.*(incomplete|end line)/);
    await assert.rejects(verifyManifest(src, file), /cut\.manifest.*(incomplete|end line)/);
  });

  test('a failed build leaves no manifest file behind', async () => {
    await assert.rejects(writeManifestFile(join(tmp, 'no-such-dir'), join(tmp, 'none.manifest')), { code: 'ENOENT' });
    assert.deepEqual(
      readdirSync(tmp).filter((n) => n.startsWith('none.manifest')),
      [],
    );
  });
});
