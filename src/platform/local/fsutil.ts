// Small filesystem helpers for the local platform and the local tools.
import { execFile, spawn } from 'node:child_process';
import type { Stats } from 'node:fs';
import { cp, mkdir, rename, rm, writeFile, open } from 'node:fs/promises';
import { dirname } from 'node:path';
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
function runFileTool(cmd: string, args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const run = diesWithParent(cmd, args);
    const child = spawn(run.cmd, run.args, { stdio: ['ignore', 'ignore', 'pipe'] });
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
      reject(new Error(`${cmd} ${args.join(' ')} ${how}${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
    });
  });
}

let gnuCp: Promise<boolean> | undefined;

/** Is `cp` GNU's (it knows -T and --reflink)? Asked once. */
function hasGnuCp(): Promise<boolean> {
  gnuCp ??= new Promise((resolve) => {
    execFile('cp', ['--version'], { timeout: 10_000 }, (err, stdout) => resolve(!err && /GNU coreutils/.test(String(stdout))));
  });
  return gnuCp;
}

/**
 * Copies the tree `src` to `dst` (created with its parents; when `dst` is an existing directory, the contents of
 * `src` land in it): contents, modes, timestamps, symlinks as symlinks. With GNU cp this is `cp -a -T
 * --reflink=never`: as fast as anything can be on every file system (a walk in Node costs more per file), the event
 * loop stays free, and never a reflink, so a copy's pages are its own on copy-on-write file systems as on others.
 * Elsewhere Node's fs.cp.
 */
export async function copyTree(src: string, dst: string, opts: { timeoutMs?: number } = {}): Promise<void> {
  await mkdir(dirname(dst), { recursive: true });
  if (await hasGnuCp()) {
    await runFileTool('cp', ['-a', '-T', '--reflink=never', '--', src, dst], opts.timeoutMs ?? TREE_OP_TIMEOUT_MS);
    return;
  }
  await cp(src, dst, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
}

/**
 * Removes `path` and everything below it (symlinks as links); quiet when it is not there. `rm -rf`: faster than
 * Node's fs.rm, which walks in JavaScript, and than fs.rmSync, which would hold the event loop for seconds on a big
 * tree. A failure is retried (a process still writing into the tree makes rm find a directory not empty); Node's
 * fs.rm where there is no rm.
 */
export async function removeTree(path: string, opts: { timeoutMs?: number } = {}): Promise<void> {
  if (!path) throw new Error('removeTree: no path given');
  for (let attempt = 1; ; attempt++) {
    try {
      await runFileTool('rm', ['-rf', '--', path], opts.timeoutMs ?? TREE_OP_TIMEOUT_MS);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        await rm(path, { recursive: true, force: true, maxRetries: 3 });
        return;
      }
      if (attempt >= 4) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
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
