// Integrity manifests: the sha256 of every regular file under a directory, hashed on all cores by a small pool of
// worker threads, and the comparison of a restored tree against the manifest of its source.
//
// The workers run an eval'd, self-contained script string rather than a worker file, so the same code works from
// the .ts sources under Node 24 and from the single-file esbuild bundle in dist/. The script loads built-ins with
// process.getBuiltinModule, which exists whether the worker inherits CommonJS or ES module evaluation (a parent
// started with --input-type=module makes eval'd workers ES modules, where require is undefined).
import { createHash } from 'node:crypto';
import { open, readdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { IntegrityResult } from '../suite/results.ts';
import type { Manifest, ManifestEntry } from './types.ts';

/** Read size of one hashing step; memory stays flat whatever the file size. */
const CHUNK_BYTES = 1 << 20;
/** How many example paths an IntegrityResult carries per category. */
const MAX_EXAMPLES = 5;

export interface FileHash {
  /** Bytes hashed: the file size, or the prefix length when a limit was given and the file is long enough. */
  size: number;
  sha256: string;
}

// A batch is shared by the workers: each claims the next index from a shared counter (so big and small files balance
// across threads without a round trip per file) and posts its results when the batch is exhausted. A failure other
// than a vanished file (ENOENT) ends the batch for every worker by moving the counter to the end.
const WORKER_SOURCE = `
'use strict';
const { parentPort } = process.getBuiltinModule('node:worker_threads');
const { openSync, readSync, closeSync } = process.getBuiltinModule('node:fs');
const { createHash } = process.getBuiltinModule('node:crypto');
const buf = Buffer.allocUnsafe(${CHUNK_BYTES});
function hashOne(path, limit) {
  const fd = openSync(path, 'r');
  try {
    const hash = createHash('sha256');
    let size = 0;
    while (size < limit) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, limit - size), null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      size += n;
    }
    return { size, sha256: hash.digest('hex') };
  } finally {
    closeSync(fd);
  }
}
parentPort.on('message', ({ id, paths, limits, next }) => {
  const claim = new Int32Array(next);
  const results = [];
  for (let i = Atomics.add(claim, 0, 1); i < paths.length; i = Atomics.add(claim, 0, 1)) {
    try {
      const limit = limits[i];
      results.push({ i, ok: true, ...hashOne(paths[i], limit === null ? Infinity : limit) });
    } catch (err) {
      const code = err && err.code;
      results.push({ i, ok: false, code, message: String(err && err.message) });
      if (code !== 'ENOENT') Atomics.store(claim, 0, paths.length);
    }
  }
  parentPort.postMessage({ id, results });
});
`;

type WorkerResult = { i: number; ok: true; size: number; sha256: string } | { i: number; ok: false; code?: string; message: string };

export interface HashJob {
  path: string;
  /** Hash only the first `limit` bytes. */
  limit?: number;
}

interface Batch {
  jobs: HashJob[];
  results: (FileHash | null)[];
  failures: Extract<WorkerResult, { ok: false }>[];
  /** Workers yet to report. */
  waiting: number;
  resolve: (results: (FileHash | null)[]) => void;
  reject: (err: Error) => void;
}

export interface HashPool {
  /** Hashes the files in parallel; null for a file that does not exist (any more). Rejects on any other error. */
  hashMany(jobs: HashJob[]): Promise<(FileHash | null)[]>;
  /** Rejects pending batches and terminates every worker. */
  close(): Promise<void>;
  /** True once the pool was closed or lost a worker: it hashes nothing more. */
  readonly broken: boolean;
}

/** A pool of at most `maxWorkers` hashing threads, started as batches need them (never more than the files). */
/**
 * `unrefWhenIdle`: idle workers do not keep the process alive (for a pool kept across calls); they are ref'd
 * again while a batch is in flight, so the process cannot exit mid-hash.
 */
export function createHashPool(maxWorkers: number, opts: { unrefWhenIdle?: boolean } = {}): HashPool {
  const max = Math.max(1, Math.floor(maxWorkers));
  const idle = (): void => {
    if (opts.unrefWhenIdle && batches.size === 0) for (const w of workers) w.unref();
  };
  const workers: Worker[] = [];
  const batches = new Map<number, Batch>();
  let nextId = 0;
  let closed: Error | undefined;

  const fail = (err: Error): void => {
    closed ??= err;
    for (const batch of batches.values()) batch.reject(closed);
    batches.clear();
    idle();
  };

  const collect = (reply: { id: number; results: WorkerResult[] }): void => {
    const batch = batches.get(reply.id);
    if (!batch) return;
    for (const r of reply.results) {
      if (r.ok) batch.results[r.i] = { size: r.size, sha256: r.sha256 };
      else if (r.code !== 'ENOENT') batch.failures.push(r);
    }
    if (--batch.waiting > 0) return;
    batches.delete(reply.id);
    idle();
    const first = batch.failures.sort((a, b) => a.i - b.i)[0];
    if (!first) return batch.resolve(batch.results);
    batch.reject(Object.assign(new Error(first.message), { code: first.code, path: batch.jobs[first.i]?.path }));
  };

  // A worker that dies on its own breaks the pool: every pending batch fails with the cause.
  const lost = (worker: Worker, err: Error): void => {
    const i = workers.indexOf(worker);
    if (i < 0) return;
    workers.splice(i, 1);
    fail(err);
  };

  const spawnWorker = (): void => {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.on('message', collect);
    worker.on('error', (err: Error) => lost(worker, err));
    worker.on('exit', (code: number) => lost(worker, new Error(`hash worker exited with code ${code}`)));
    workers.push(worker);
  };

  return {
    hashMany(jobs) {
      return new Promise((resolve, reject) => {
        if (closed) return reject(closed);
        if (jobs.length === 0) return resolve([]);
        const share = Math.min(max, jobs.length);
        while (workers.length < share) spawnWorker();
        const id = nextId++;
        batches.set(id, { jobs, results: new Array<FileHash | null>(jobs.length).fill(null), failures: [], waiting: share, resolve, reject });
        const message = { id, paths: jobs.map((j) => j.path), limits: jobs.map((j) => j.limit ?? null), next: new SharedArrayBuffer(4) };
        for (const worker of workers.slice(0, share)) {
          worker.ref();
          worker.postMessage(message);
        }
      });
    },
    async close() {
      fail(new Error('hash pool closed'));
      await Promise.all(workers.splice(0).map((w) => w.terminate()));
    },
    get broken() {
      return closed !== undefined;
    },
  };
}

// One pool kept across calls that do not ask for a worker count: starting worker threads costs more than hashing
// a small volume (~40 ms against ~10 ms for 10 MB), and a trial builds several manifests.
let shared: HashPool | undefined;

function sharedPool(): HashPool {
  if (!shared || shared.broken) shared = createHashPool(availableParallelism(), { unrefWhenIdle: true });
  return shared;
}

/** Terminate the shared pool's workers (idle workers never keep the process alive; this is for tidy tests). */
export async function closeSharedPool(): Promise<void> {
  const pool = shared;
  shared = undefined;
  await pool?.close();
}

/** Runs `fn` with a pool of `workers` threads (default: every core) and always tears the pool down. */
async function withPool<T>(workers: number | undefined, fn: (pool: HashPool) => Promise<T>): Promise<T> {
  if (workers === undefined) return fn(sharedPool());
  const pool = createHashPool(workers);
  try {
    return await fn(pool);
  } finally {
    await pool.close();
  }
}

/** Code-unit order: stable across locales and platforms. */
function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Regular files under `root`, relative with '/' separators, sorted. Symlinks are neither followed nor listed;
 * an excluded directory is not descended into.
 */
export async function listFiles(root: string, exclude?: (rel: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    await Promise.all(
      entries.map(async (entry) => {
        const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
        if (exclude?.(rel)) return;
        if (entry.isDirectory()) await walk(join(dir, entry.name), rel);
        else if (entry.isFile()) out.push(rel);
      }),
    );
  };
  await walk(root, '');
  return out.sort(comparePaths);
}

async function manifestWith(pool: HashPool, root: string, exclude?: (rel: string) => boolean): Promise<Manifest> {
  const paths = await listFiles(root, exclude);
  const hashes = await pool.hashMany(paths.map((rel) => ({ path: join(root, rel) })));
  const files: ManifestEntry[] = [];
  let bytes = 0;
  paths.forEach((path, i) => {
    const h = hashes[i];
    if (!h) return; // removed between the walk and the hash
    files.push({ path, size: h.size, sha256: h.sha256 });
    bytes += h.size;
  });
  return { files, bytes };
}

/** The manifest of every regular file under `root`, hashed by `workers` threads (default: every core). */
export function buildManifest(root: string, opts: { workers?: number; exclude?: (rel: string) => boolean } = {}): Promise<Manifest> {
  return withPool(opts.workers, (pool) => manifestWith(pool, root, opts.exclude));
}

/** sha256 of up to `limit` leading bytes of a file, streamed in this thread. */
async function hashRange(path: string, limit: number): Promise<FileHash> {
  const file = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    let size = 0;
    while (size < limit) {
      const { bytesRead } = await file.read(buf, 0, Math.min(buf.length, limit - size), null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      size += bytesRead;
    }
    return { size, sha256: hash.digest('hex') };
  } finally {
    await file.close();
  }
}

/** sha256 and size of one file, in this thread. */
export function hashFile(path: string): Promise<FileHash> {
  return hashRange(path, Infinity);
}

/** sha256 of the first `length` bytes of a file; `size` is less than `length` when the file is shorter. */
export function hashPrefix(path: string, length: number): Promise<FileHash> {
  return hashRange(path, length);
}

export interface ManifestDiff {
  matched: string[];
  mismatched: string[];
  missing: string[];
  extra: string[];
}

/** Which expected paths matched, differ or are missing, and which actual paths are extra. Pure. */
export function diffManifests(expected: Manifest, actual: Manifest): ManifestDiff {
  const present = new Map(actual.files.map((f) => [f.path, f]));
  const diff: ManifestDiff = { matched: [], mismatched: [], missing: [], extra: [] };
  for (const want of expected.files) {
    const got = present.get(want.path);
    if (!got) {
      diff.missing.push(want.path);
      continue;
    }
    present.delete(want.path);
    (got.size === want.size && got.sha256 === want.sha256 ? diff.matched : diff.mismatched).push(want.path);
  }
  diff.extra = [...present.keys()];
  return diff;
}

/** Move mismatched files that passed the append-only prefix check to matched. */
export function acceptPrefixes(diff: ManifestDiff, prefixOk: ReadonlySet<string>): ManifestDiff {
  return {
    ...diff,
    matched: [...diff.matched, ...diff.mismatched.filter((p) => prefixOk.has(p))],
    mismatched: diff.mismatched.filter((p) => !prefixOk.has(p)),
  };
}

export function integrityFromDiff(expected: Manifest, actual: Manifest, diff: ManifestDiff): IntegrityResult {
  return {
    files: expected.files.length,
    matched: diff.matched.length,
    mismatched: diff.mismatched.length,
    missing: diff.missing.length,
    extra: diff.extra.length,
    bytes: actual.bytes,
    ok: diff.mismatched.length === 0 && diff.missing.length === 0,
    examples: {
      mismatched: diff.mismatched.slice(0, MAX_EXAMPLES),
      missing: diff.missing.slice(0, MAX_EXAMPLES),
      extra: diff.extra.slice(0, MAX_EXAMPLES),
    },
  };
}

/** Set arithmetic of two manifests: same path with same size and hash matches; extras do not fail the check. */
export function compareManifests(expected: Manifest, actual: Manifest): IntegrityResult {
  return integrityFromDiff(expected, actual, diffManifests(expected, actual));
}

export interface VerifyOptions {
  /** Files that may legitimately differ from the manifest as long as they are a byte prefix of `prefixRoot`'s copy. */
  appendOnly?: (rel: string) => boolean;
  /** The tree (typically the live source) whose append-only files the restored ones must be prefixes of. */
  prefixRoot?: string;
  workers?: number;
  /** Paths left out of the check, as for buildManifest. */
  exclude?: (rel: string) => boolean;
}

/**
 * Hashes `root` and compares it with `expected`. An append-only file whose content differs still matches when it
 * is a byte prefix of the same file under `prefixRoot` (restored logs that stop at a consistent point).
 */
export function verifyManifest(root: string, expected: Manifest, opts: VerifyOptions = {}): Promise<IntegrityResult> {
  return withPool(opts.workers, async (pool) => {
    const actual = await manifestWith(pool, root, opts.exclude);
    let diff = diffManifests(expected, actual);
    const { appendOnly, prefixRoot } = opts;
    if (appendOnly && prefixRoot !== undefined && diff.mismatched.length > 0) {
      const restored = new Map(actual.files.map((f) => [f.path, f]));
      const candidates = diff.mismatched.filter((rel) => appendOnly(rel));
      const sources = await pool.hashMany(candidates.map((rel) => ({ path: join(prefixRoot, rel), limit: restored.get(rel)!.size })));
      const prefixes = new Set(
        candidates.filter((rel, i) => {
          const got = restored.get(rel)!;
          return sources[i]?.size === got.size && sources[i]?.sha256 === got.sha256;
        }),
      );
      diff = acceptPrefixes(diff, prefixes);
    }
    return integrityFromDiff(expected, actual, diff);
  });
}
