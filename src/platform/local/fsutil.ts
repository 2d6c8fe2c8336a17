// Small filesystem helpers for the local platform and the local tools.
import { execFile, spawn } from 'node:child_process';
import type { Stats } from 'node:fs';
import { chmod, cp, lchown, lstat, lutimes, mkdir, readdir, readFile, readlink, rename, rm, symlink, utimes, writeFile, open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { diesWithParent } from '../processes.ts';
import { walkTreeSize } from './tree-size.ts';

/**
 * Bytes of all regular files below `dir` (what a repository occupies): symlinks are neither followed nor counted,
 * directories' own sizes are not counted; 0 for what vanishes during the walk, and for a `dir` that is not one.
 * Walked on every core (see tree-size.ts).
 */
export function treeSize(dir: string): Promise<number> {
  return walkTreeSize(dir);
}

/**
 * Write a file atomically: a uniquely named temporary sibling (created exclusively), fsync, then rename over the
 * target. Readers see the old content or the new, never a torn file; the temporary file is removed on failure.
 */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, content, { flag: 'wx' });
    const fh = await open(tmp, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** How long a helper's cp or rm of a whole tree may take before it is killed (a hung file system, not a big tree). */
const TREE_OP_TIMEOUT_MS = 60 * 60_000;
/** The tail of a failed helper's stderr kept for its error. */
const STDERR_TAIL = 2000;

/**
 * Runs a file tool (argument array, no shell) that dies with pvbench and is killed after `timeoutMs`; rejects with
 * its exit and the tail of its stderr unless it exits 0, with the spawn error (ENOENT ...) when it cannot start.
 */
function runFileTool(cmd: string, args: string[], timeoutMs: number, cwd?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const run = diesWithParent(cmd, args);
    const child = spawn(run.cmd, run.args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-STDERR_TAIL)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      const how = timedOut ? `timed out after ${timeoutMs} ms` : signal ? `was killed by ${signal}` : `exited with code ${code}`;
      // A split tree's part is hundreds of names: the first few say which command it was.
      const shown = [cmd, ...args.slice(0, 8)].join(' ') + (args.length > 8 ? ` … (${args.length - 8} more)` : '');
      reject(new Error(`${shown} ${how}${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
    });
  });
}

let gnuCp: Promise<boolean> | undefined;

/** Is `cp` GNU's (it knows -t, -T and --reflink)? Asked once. */
function hasGnuCp(): Promise<boolean> {
  gnuCp ??= new Promise((resolve) => {
    execFile('cp', ['--version'], { timeout: 10_000 }, (err, stdout) => resolve(!err && /GNU coreutils/.test(String(stdout))));
  });
  return gnuCp;
}

/**
 * How many cp or rm processes share a tree. On a busy or slow file system most of a copy's or removal's time is
 * spent waiting (a freshly written file cannot be unlinked before its pages are written back), so more processes
 * than cores still help; with idle disks they spread the CPU over the cores.
 */
const TREE_PROCESSES = Math.max(4, availableParallelism());
/** Parts a tree is split into at most (a few per process, so that they even out). */
const SPLIT_PARTS = 4 * TREE_PROCESSES;
/** Below this many entries and with no directory among them, one process does the whole tree. */
const SPLIT_MIN_ENTRIES = 64;
/** Bytes of names on one command line (far below the kernel's limit). */
const ARG_BYTES = 64 * 1024;
/** Levels a split goes down at most. */
const SPLIT_DEPTH = 4;

interface TreeSplit {
  /** Directories taken apart (relative to the root, '' for the root itself), parents first. */
  dirs: string[];
  /** Entries handed whole to one process each time: names inside one of `dirs`, SPLIT_PARTS groups at most. */
  groups: { parent: string; names: string[] }[];
  entries: number;
  /** Whether some entries are directories (whose size is unknown: the tree may be large whatever `entries`). */
  anyDir: boolean;
}

/**
 * Takes a directory apart a level at a time, down to the first level with at least TREE_PROCESSES subdirectories
 * (or with none, or SPLIT_DEPTH down): whole subdirectories are shared out where there are enough of them, so that
 * two processes rarely work in one directory (they would queue on its lock); a directory's files are split only
 * where there is nothing else to share, e.g. the stats of a single proxy.
 */
async function splitTree(root: string): Promise<TreeSplit> {
  const dirs: string[] = [];
  const leaves = new Map<string, string[]>();
  const leaf = (parent: string, name: string): void => void leaves.set(parent, [...(leaves.get(parent) ?? []), name]);
  let open = [''];
  let entries = 0;
  let anyDir = false;
  for (let depth = 0; open.length > 0; depth++) {
    const found: { parent: string; name: string; dir: boolean }[] = [];
    for (const rel of open) {
      dirs.push(rel);
      for (const e of await readdir(join(root, rel), { withFileTypes: true })) found.push({ parent: rel, name: e.name, dir: e.isDirectory() });
    }
    open = [];
    const subdirs = found.filter((f) => f.dir).length;
    const deeper = subdirs > 0 && subdirs < TREE_PROCESSES && depth + 1 < SPLIT_DEPTH;
    for (const f of found) {
      if (deeper && f.dir) {
        open.push(f.parent ? `${f.parent}/${f.name}` : f.name);
        continue;
      }
      leaf(f.parent, f.name);
      entries++;
      anyDir ||= f.dir;
    }
  }
  const perGroup = Math.max(1, Math.ceil(entries / SPLIT_PARTS));
  const groups: TreeSplit['groups'] = [];
  for (const [parent, names] of leaves) {
    let group: string[] = [];
    let bytes = 0;
    for (const name of names) {
      if (group.length >= perGroup || (group.length > 0 && bytes + name.length + 1 > ARG_BYTES)) {
        groups.push({ parent, names: group });
        group = [];
        bytes = 0;
      }
      group.push(name);
      bytes += name.length + 1;
    }
    if (group.length > 0) groups.push({ parent, names: group });
  }
  return { dirs, groups, entries, anyDir };
}

/** Whether a tree is worth several processes. */
function worthSplitting(split: TreeSplit | undefined): split is TreeSplit {
  return split !== undefined && split.groups.length > 1 && (split.anyDir || split.entries >= SPLIT_MIN_ENTRIES);
}

/** Runs `tasks` at most `limit` at a time; after a failure starts no more, and rejects with it once all are done. */
async function runLimited(tasks: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (!failure && next < tasks.length) {
      const task = tasks[next++]!;
      await task().catch((err: unknown) => void (failure ??= { err }));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
  if (failure) throw failure.err;
}

/**
 * A tree this small is copied or removed in this process: starting a cp or rm (through setpriv) costs more than the
 * work, and a trial copies and removes a few dozen such trees (repositories, staging folders, seeded volumes).
 */
const SMALL_TREE_ENTRIES = 1024;
/** Bytes a small tree's regular files may hold in all (they are read whole into memory to be copied). */
const SMALL_TREE_BYTES = 32 * 1024 * 1024;

interface SmallEntry {
  rel: string;
  kind: 'dir' | 'file' | 'link';
  st: Stats;
}

/**
 * Every entry below `root` (the root itself first, as ''), parents before their children, when there are at most
 * SMALL_TREE_ENTRIES of them holding at most `maxBytes`, all directories, regular files and symlinks; otherwise
 * undefined (also for a root that is not a directory). Stops reading as soon as the tree is known not to be small.
 */
async function smallTree(root: string, maxBytes: number): Promise<SmallEntry[] | undefined> {
  const rootSt = await lstat(root);
  if (!rootSt.isDirectory()) return undefined;
  const out: SmallEntry[] = [{ rel: '', kind: 'dir', st: rootSt }];
  let bytes = 0;
  for (let i = 0; i < out.length; i++) {
    const parent = out[i]!;
    if (parent.kind !== 'dir') continue;
    const names = await readdir(join(root, parent.rel));
    if (out.length + names.length > SMALL_TREE_ENTRIES + 1) return undefined;
    for (const name of names) {
      const rel = parent.rel ? `${parent.rel}/${name}` : name;
      const st = await lstat(join(root, rel));
      const kind = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'link' : undefined;
      if (!kind) return undefined;
      if (kind === 'file' && (bytes += st.size) > maxBytes) return undefined;
      out.push({ rel, kind, st });
    }
  }
  return out;
}

/** Copies a tree listed by smallTree into `dst` as cp -a does (contents, modes, times, owners as root, symlinks). */
async function copySmall(src: string, dst: string, entries: SmallEntry[]): Promise<void> {
  const root = process.getuid?.() === 0;
  for (const e of entries) {
    const to = join(dst, e.rel);
    if (e.kind === 'dir') await mkdir(to, { recursive: true, mode: 0o700 });
    else if (e.kind === 'link') {
      await rm(to, { force: true });
      await symlink(await readlink(join(src, e.rel)), to);
    } else await writeFile(to, await readFile(join(src, e.rel)), { mode: 0o600 });
  }
  // Deepest first: adding entries changes a directory's times.
  for (const e of [...entries].reverse()) {
    const to = join(dst, e.rel);
    if (root) await lchown(to, e.st.uid, e.st.gid);
    if (e.kind === 'link') {
      await lutimes(to, e.st.atime, e.st.mtime);
      continue;
    }
    await chmod(to, e.st.mode & 0o7777);
    await utimes(to, e.st.atime, e.st.mtime);
  }
}

/**
 * Copies the tree `src` to `dst` (created with its parents; when `dst` is an existing directory, the contents of
 * `src` land in it): contents, modes, timestamps, ownership where allowed, symlinks as symlinks. With GNU cp
 * (`cp -a --reflink=never`, argument arrays, a timeout, dying with pvbench): a wide tree is split into parts (whole
 * subdirectories where it has enough of them) copied by several cp processes at once, the directories taken apart made here (mode, owner and times set
 * after their contents); a small one (SMALL_TREE_ENTRIES entries, SMALL_TREE_BYTES) is copied in this process, a
 * narrow one is one `cp -a -T`. Never a reflink: a copy's pages are its own on
 * copy-on-write file systems as on others. Elsewhere Node's fs.cp.
 */
export async function copyTree(src: string, dst: string, opts: { timeoutMs?: number } = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? TREE_OP_TIMEOUT_MS;
  await mkdir(dirname(dst), { recursive: true });
  if (!(await hasGnuCp())) {
    await cp(src, dst, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    return;
  }
  const small = await smallTree(src, SMALL_TREE_BYTES);
  if (small) {
    await copySmall(src, dst, small);
    return;
  }
  const whole = (await lstat(src)).isDirectory() ? await splitTree(src) : undefined;
  if (!worthSplitting(whole)) {
    await runFileTool('cp', ['-a', '-T', '--reflink=never', '--', src, dst], timeoutMs);
    return;
  }
  for (const rel of whole.dirs) await mkdir(join(dst, rel), { recursive: true, mode: 0o700 });
  await runLimited(
    whole.groups.map((g) => () => runFileTool('cp', ['-a', '--reflink=never', '-t', join(dst, g.parent), '--', ...g.names], timeoutMs, join(src, g.parent))),
    TREE_PROCESSES,
  );
  // What cp -a would have kept of the directories made here; deepest first, as adding entries changes a
  // directory's times.
  const root = process.getuid?.() === 0;
  for (const rel of [...whole.dirs].reverse()) {
    const st = await lstat(join(src, rel));
    const to = join(dst, rel);
    if (root) await lchown(to, st.uid, st.gid);
    await chmod(to, st.mode & 0o7777);
    await utimes(to, st.atime, st.mtime);
  }
}

/**
 * Removes `path` and everything below it (symlinks as links); quiet when it is not there. `rm -rf` (argument
 * arrays, a timeout, dying with pvbench): a wide tree is split into parts (as for copyTree) removed by several rm
 * processes at once, then the rest. Faster than one rm (which waits for each freshly written file's write-back in
 * turn) and than Node's fs.rm (a walk in JavaScript), and the event loop stays free. A small tree (SMALL_TREE_ENTRIES
 * entries) goes with Node's fs.rm, a path that is not there with no process at all. A failure is retried (a
 * process still writing into the tree makes rm find a directory not empty); Node's fs.rm where there is no rm.
 */
export async function removeTree(path: string, opts: { timeoutMs?: number } = {}): Promise<void> {
  if (!path) throw new Error('removeTree: no path given');
  const timeoutMs = opts.timeoutMs ?? TREE_OP_TIMEOUT_MS;
  // Not there (the usual case before a trial's folders are made): nothing to start a process for.
  const st = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!st) return;
  if (!st.isDirectory() || (await smallTree(path, Infinity).catch(() => undefined))) {
    await rm(path, { recursive: true, force: true, maxRetries: 3 });
    return;
  }
  for (let attempt = 1; ; attempt++) {
    try {
      const whole = await splitTree(path).catch(() => undefined); // not a directory (or gone): one rm
      if (worthSplitting(whole)) {
        await runLimited(
          whole.groups.map((g) => () => runFileTool('rm', ['-rf', '--', ...g.names], timeoutMs, join(path, g.parent))),
          TREE_PROCESSES,
        );
      }
      await runFileTool('rm', ['-rf', '--', path], timeoutMs);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && (err as NodeJS.ErrnoException).syscall?.startsWith('spawn')) {
        await rm(path, { recursive: true, force: true, maxRetries: 3 });
        return;
      }
      if (attempt >= 4) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

/**
 * Writes the dirty pages of the file system that holds `path` back to disk (syncfs, through coreutils' `sync -f`;
 * a plain `sync` where -f is unknown; nothing where there is no sync). Freshly written volumes would otherwise be
 * written back while a tool reads them, and the tool's figures would pay for it.
 */
export async function writeBack(path: string, opts: { timeoutMs?: number } = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? TREE_OP_TIMEOUT_MS;
  try {
    await runFileTool('sync', ['-f', '--', path], timeoutMs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    await runFileTool('sync', [], timeoutMs);
  }
}

/** Flip one bit of a file in place; returns the offset and bit. */
export async function flipBit(path: string, random: () => number): Promise<{ offset: number; bit: number }> {
  const fh = await open(path, 'r+');
  try {
    const { size } = await fh.stat();
    if (size === 0) return { offset: -1, bit: -1 };
    const offset = Math.floor(random() * size);
    const bit = Math.floor(random() * 8);
    const buf = Buffer.alloc(1);
    await fh.read(buf, 0, 1, offset);
    buf[0] = (buf[0] ?? 0) ^ (1 << bit);
    await fh.write(buf, 0, 1, offset);
    await fh.sync();
    return { offset, bit };
  } finally {
    await fh.close();
  }
}

/** Distinct picks from a list, in a deterministic order for the given random stream. */
export function pickDistinct<T>(items: readonly T[], n: number, random: () => number): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (out.length < n && pool.length > 0) out.push(pool.splice(Math.floor(random() * pool.length), 1)[0] as T);
  return out;
}

/** "a directory", "a FIFO" ...: what a path is when it is not a regular file. */
export function fileKind(s: Stats): string {
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a FIFO';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSocket()) return 'a socket';
  return 'a special file';
}

export function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
