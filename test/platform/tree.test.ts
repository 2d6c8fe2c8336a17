// The local platform's tree helpers: size (regular files only), copy and removal of whole trees.
import { execFile } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { build } from 'esbuild';
import { copyTree, removeTree, treeSize } from '../../src/platform/local/fsutil.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

let tmp: string;
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'pvbench-tree-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Writes `files` (relative path → bytes) under a fresh directory; returns it. */
function makeTree(name: string, files: Record<string, number>): string {
  const root = join(tmp, name);
  for (const [path, size] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), Buffer.alloc(size, 0x61));
  }
  mkdirSync(root, { recursive: true });
  return root;
}

const sum = (files: Record<string, number>): number => Object.values(files).reduce((a, b) => a + b, 0);

describe('treeSize', () => {
  test('counts the bytes of regular files only: not directories, not symlinks (never followed)', async () => {
    const files = { 'a.txt': 5, 'empty': 0, 'd/b.bin': 1000, 'd/e/f/g.dat': 4097, 'x/y': 1 };
    const root = makeTree('mixed', files);
    mkdirSync(join(root, 'empty-dir'));
    symlinkSync('a.txt', join(root, 'link-to-file'));
    symlinkSync('d', join(root, 'link-to-dir'));
    symlinkSync('/', join(root, 'link-to-root'));
    assert.equal(await treeSize(root), 5 + 1000 + 4097 + 1);
  });

  test('0 for a path that does not exist or is not a directory', async () => {
    assert.equal(await treeSize(join(tmp, 'no-such-dir')), 0);
    const root = makeTree('single', { 'f': 10 });
    assert.equal(await treeSize(join(root, 'f')), 0);
  });

  test('exact for wide directories and for many small ones, also when several sizes are asked at once', async () => {
    const wide: Record<string, number> = {};
    for (let i = 0; i < 6000; i++) wide[`flat/f${i}`] = i % 701;
    const many: Record<string, number> = {};
    for (let i = 0; i < 1500; i++) many[`d${i % 300}/s${i % 7}/f${i}`] = (i * 37) % 1013;
    const a = makeTree('wide', wide);
    const b = makeTree('many', many);
    const [sa, sb, sa2] = await Promise.all([treeSize(a), treeSize(b), treeSize(a)]);
    assert.equal(sa, sum(wide));
    assert.equal(sb, sum(many));
    assert.equal(sa2, sum(wide));
  });

  test('works from a single-file esbuild bundle (no worker file on disk)', async () => {
    const root = makeTree('bundled', { 'p/q': 123, 'r': 7 });
    const outfile = join(tmp, 'bundle', 'tree.mjs');
    await build({
      stdin: {
        contents: "import { treeSize } from './src/platform/local/fsutil.ts';\nprocess.stdout.write(String(await treeSize(process.argv[2])));\n",
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
    const stdout = await new Promise<string>((res, rej) =>
      execFile(process.execPath, [outfile, root], { timeout: 60_000, killSignal: 'SIGKILL' }, (err, out) => (err ? rej(err) : res(out))),
    );
    assert.equal(stdout, '130');
  });
});

describe('copyTree', () => {
  test('copies a tree to a path whose parents do not exist yet: contents, modes, mtimes, empty directories, symlinks as symlinks', async () => {
    const src = makeTree('copy-src', { 'a.txt': 3, 'd/e/f.bin': 70_000, 'd/g': 0 });
    writeFileSync(join(src, 'a.txt'), 'abc');
    chmodSync(join(src, 'd/g'), 0o640);
    utimesSync(join(src, 'd/e/f.bin'), 1_700_000_000, 1_700_000_000);
    mkdirSync(join(src, 'empty'));
    symlinkSync('a.txt', join(src, 'link'));
    const dst = join(tmp, 'copy-parent', 'not-yet', 'dst');
    await copyTree(src, dst);
    assert.equal(readFileSync(join(dst, 'a.txt'), 'utf8'), 'abc');
    assert.deepEqual(readFileSync(join(dst, 'd/e/f.bin')), readFileSync(join(src, 'd/e/f.bin')));
    assert.equal(statSync(join(dst, 'd/g')).mode & 0o777, 0o640);
    assert.equal(statSync(join(dst, 'd/e/f.bin')).mtimeMs, 1_700_000_000_000);
    assert.deepEqual(readdirSync(join(dst, 'empty')), []);
    assert.equal(lstatSync(join(dst, 'link')).isSymbolicLink(), true);
    assert.equal(readlinkSync(join(dst, 'link')), 'a.txt');
    assert.equal(await treeSize(dst), 70_003);
  });

  test('into an existing empty directory: the contents land in it, not in a subdirectory named after the source', async () => {
    const src = makeTree('copy-src2', { 'x/y.txt': 4 });
    const dst = join(tmp, 'copy-existing');
    mkdirSync(dst);
    await copyTree(src, dst);
    assert.deepEqual(readdirSync(dst).sort(), ['x']);
    assert.equal(statSync(join(dst, 'x/y.txt')).size, 4);
  });

  test('a tree wide enough to be split across processes: every file, and the modes and mtimes of its directories', async () => {
    const files: Record<string, number> = {};
    for (let i = 0; i < 1200; i++) files[`p${i % 3}/${i % 2 ? 'stats' : 'logs'}/f${i}`] = i % 300;
    for (let i = 0; i < 40; i++) files[`-top${i}`] = 1;
    const src = makeTree('copy-wide', files);
    mkdirSync(join(src, 'p1/empty'));
    chmodSync(join(src, 'p2/stats'), 0o750);
    for (const d of ['p0', 'p1/stats', 'p2/stats', 'p1/empty', '.']) utimesSync(join(src, d), 1_600_000_000, 1_600_000_000);
    const dst = join(tmp, 'copy-wide-dst');
    await copyTree(src, dst);
    const list = (root: string): string[] => (readdirSync(root, { recursive: true }) as string[]).sort();
    assert.deepEqual(list(dst), list(src));
    for (const [path, size] of Object.entries(files)) assert.equal(statSync(join(dst, path)).size, size, path);
    assert.equal(statSync(join(dst, 'p2/stats')).mode & 0o777, 0o750);
    for (const d of ['p0', 'p1/stats', 'p2/stats', 'p1/empty', '.']) assert.equal(statSync(join(dst, d)).mtimeMs, 1_600_000_000_000, d);
  });

  test('a small tree (copied in this process): modes and mtimes of its directories and files, a read-only file, symlinks kept as links', async () => {
    const src = makeTree('copy-small', { 'p0/stats/s1': 5, 'p0/ro': 2, 'top': 1 });
    chmodSync(join(src, 'p0/ro'), 0o400);
    chmodSync(join(src, 'p0/stats'), 0o750);
    symlinkSync('../top', join(src, 'p0/up'));
    for (const d of ['p0/stats', 'p0', '.']) utimesSync(join(src, d), 1_600_000_000, 1_600_000_000);
    const dst = join(tmp, 'copy-small-dst');
    await copyTree(src, dst);
    assert.equal(statSync(join(dst, 'p0/ro')).mode & 0o777, 0o400);
    assert.equal(statSync(join(dst, 'p0/stats')).mode & 0o777, 0o750);
    for (const d of ['p0/stats', 'p0', '.']) assert.equal(statSync(join(dst, d)).mtimeMs, 1_600_000_000_000, d);
    assert.equal(readlinkSync(join(dst, 'p0/up')), '../top');
    assert.equal(readFileSync(join(dst, 'p0/up'), 'utf8'), 'a');
    assert.equal(await treeSize(dst), 8);
  });

  test('a source that does not exist is an error that names it', async () => {
    await assert.rejects(copyTree(join(tmp, 'missing-src'), join(tmp, 'copy-none')), /missing-src/);
    assert.equal(existsSync(join(tmp, 'copy-none')), false);
  });
});

describe('removeTree', () => {
  test('removes a whole tree (symlinks as links, never what they point to) and is quiet about a path that is not there', async () => {
    const files: Record<string, number> = {};
    for (let i = 0; i < 1200; i++) files[`d${i % 20}/f${i}`] = 10;
    const root = makeTree('remove-me', files);
    symlinkSync('/', join(root, 'link-to-root'));
    await removeTree(root);
    assert.equal(existsSync(root), false);
    assert.equal(existsSync('/'), true);
    await removeTree(root);
  });

  test('a small tree (removed in this process): symlinks as links, and a single file', async () => {
    const keep = makeTree('remove-small-keep', { kept: 1 });
    const root = makeTree('remove-small', { 'a/b': 1, c: 2 });
    symlinkSync(keep, join(root, 'a/link'));
    await removeTree(root);
    assert.equal(existsSync(root), false);
    assert.deepEqual(readdirSync(keep), ['kept']);
    await removeTree(join(keep, 'kept'));
    assert.deepEqual(readdirSync(keep), []);
  });

  test('a wide tree (split across processes), names like options included', async () => {
    const files: Record<string, number> = {};
    for (let i = 0; i < 1200; i++) files[`v${i % 4}/${i % 3 ? 'stats' : '-rf'}/f${i}`] = 3;
    for (let i = 0; i < 30; i++) files[`--f${i}`] = 1;
    const root = makeTree('remove-wide', files);
    await removeTree(root);
    assert.equal(existsSync(root), false);
  });

  test('a name that looks like an option is removed as a path', async () => {
    const parent = makeTree('dash', { '-rf/inner': 1 });
    const cwd = process.cwd();
    process.chdir(parent);
    try {
      await removeTree('-rf');
    } finally {
      process.chdir(cwd);
    }
    assert.deepEqual(readdirSync(parent), []);
  });
});
