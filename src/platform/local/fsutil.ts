// Small filesystem helpers for the local platform and the local tools.
import type { Stats } from 'node:fs';
import { lstat, mkdir, readdir, rename, rm, writeFile, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Bytes of all regular files below `dir` (what a repository occupies); 0 for what vanishes during the walk. */
export async function treeSize(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await treeSize(p);
    else if (e.isFile()) total += await lstat(p).then((st) => st.size, () => 0); // vanished mid-walk: a tree being copied or renamed
  }
  return total;
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

export async function removeTree(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true, maxRetries: 3 });
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
