// Integrity manifests: the sha256 of every regular file under a directory, hashed on all cores by a small pool of
// worker threads, and the comparison of a restored tree against the manifest of its source.
//
// The workers run an eval'd, self-contained script string rather than a worker file, so the same code works from
// the .ts sources under Node 24 and from the single-file esbuild bundle in dist/. The script loads built-ins with
// process.getBuiltinModule, which exists whether the worker inherits CommonJS or ES module evaluation (a parent
// started with --input-type=module makes eval'd workers ES modules, where require is undefined).
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { Worker } from 'node:worker_threads';
import type { IntegrityResult } from '../suite/results.ts';
import type { Manifest, ManifestEntry, ManifestFile, ManifestList } from './types.ts';

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

/** Files per batch handed to the hash pool: nothing per file piles up, and messages stay few. */
const WALK_BATCH = 256;
/** Batches hashed at once, so that every worker stays busy while results are taken in order. */
const BATCHES_AHEAD = 4;

/**
 * The regular files under `root`, as relative paths with '/' separators, in batches, sorted: a depth-first walk
 * that takes each directory's entries in the order that makes whole paths come out in code-unit order (a
 * subdirectory sorts as its name followed by '/'). Symlinks are neither followed nor listed; an excluded entry is
 * neither listed nor descended into. Memory: the entry lists of the directories on the current path, nothing for
 * the files already passed.
 */
async function* walkSorted(root: string, exclude: ((rel: string) => boolean) | undefined, batchSize: number): AsyncGenerator<string[]> {
  interface Level {
    dir: string;
    prefix: string;
    /** Entry names, a directory's followed by '/', sorted. */
    keys: string[];
    next: number;
  }
  const list = async (dir: string, prefix: string): Promise<Level> => {
    const keys: string[] = [];
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (exclude?.(prefix + entry.name)) continue;
      if (entry.isDirectory()) keys.push(entry.name + '/');
      else if (entry.isFile()) keys.push(entry.name);
    }
    return { dir, prefix, keys: keys.sort(comparePaths), next: 0 };
  };
  const stack = [await list(root, '')];
  let batch: string[] = [];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const key = top.keys[top.next++];
    if (key === undefined) {
      stack.pop();
      continue;
    }
    if (key.endsWith('/')) {
      stack.push(await list(join(top.dir, key.slice(0, -1)), top.prefix + key));
      continue;
    }
    batch.push(top.prefix + key);
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * Regular files under `root`, relative with '/' separators, sorted. Symlinks are neither followed nor listed;
 * an excluded directory is not descended into.
 */
export async function listFiles(root: string, exclude?: (rel: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  for await (const batch of walkSorted(root, exclude, WALK_BATCH)) for (const rel of batch) out.push(rel);
  return out;
}

/**
 * The entries of every regular file under `root`, sorted, in batches: the walk feeds the pool a batch at a time,
 * a few batches ahead, and results are taken in order. A file removed between the walk and its hash is left out.
 */
async function* hashTree(pool: HashPool, root: string, exclude?: (rel: string) => boolean): AsyncGenerator<ManifestEntry[]> {
  const inFlight: Promise<ManifestEntry[]>[] = [];
  const hashed = async (paths: string[]): Promise<ManifestEntry[]> => {
    const hashes = await pool.hashMany(paths.map((rel) => ({ path: join(root, rel) })));
    const entries: ManifestEntry[] = [];
    paths.forEach((path, i) => {
      const h = hashes[i];
      if (h) entries.push({ path, size: h.size, sha256: h.sha256 }); // else: removed between the walk and the hash
    });
    return entries;
  };
  for await (const paths of walkSorted(root, exclude, WALK_BATCH)) {
    const batch = hashed(paths);
    batch.catch(() => undefined); // awaited in turn below; a walk that fails first must not leave it unhandled
    inFlight.push(batch);
    if (inFlight.length >= BATCHES_AHEAD) yield await inFlight.shift()!;
  }
  while (inFlight.length > 0) yield await inFlight.shift()!;
}

// ---------------------------------------------------------------------------------------------------------------
// Manifest files: one line per file, "<sha256> <size> <path as a JSON string>", sorted by path, then
// "end <count> <bytes>". JSON keeps any file name on one line; the end line tells a complete file from a cut one.

/** Read and write sizes of manifest files: a batch of a few hundred entries, short-lived. */
const READ_CHUNK = 1 << 16;
const WRITE_CHUNK = 1 << 16;

function manifestLine(e: ManifestEntry): string {
  return `${e.sha256} ${e.size} ${JSON.stringify(e.path)}\n`;
}

function parseEnd(line: string): { count: number; bytes: number } | undefined {
  const m = /^end (\d+) (\d+)$/.exec(line);
  return m ? { count: Number(m[1]), bytes: Number(m[2]) } : undefined;
}

/** The entries of a manifest file, a read chunk at a time; rejects on a malformed or incomplete file. */
async function* fileBatches(m: ManifestFile): AsyncGenerator<ManifestEntry[]> {
  const fh = await open(m.file, 'r');
  try {
    const decoder = new StringDecoder('utf8');
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    let rest = '';
    let count = 0;
    let lineNo = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      const text = rest + (bytesRead > 0 ? decoder.write(buf.subarray(0, bytesRead)) : decoder.end());
      const lines = text.split('\n');
      rest = lines.pop() ?? '';
      const batch: ManifestEntry[] = [];
      for (const line of lines) {
        lineNo++;
        const end = parseEnd(line);
        if (end) {
          if (end.count !== count) throw new Error(`manifest file ${m.file} says ${end.count} files but holds ${count}`);
          if (batch.length > 0) yield batch;
          return;
        }
        const space = line.indexOf(' ', 65);
        if (line.charCodeAt(64) !== 32 || space < 0) throw new Error(`manifest file ${m.file}: line ${lineNo} is not a manifest line`);
        const quoted = line.slice(space + 1);
        const path = quoted.includes('\\') ? (JSON.parse(quoted) as string) : quoted.slice(1, -1);
        batch.push({ path, size: Number(line.slice(65, space)), sha256: line.slice(0, 64) });
        count++;
      }
      if (batch.length > 0) yield batch;
      if (bytesRead === 0) throw new Error(`manifest file ${m.file} is incomplete: it has no end line`);
    }
  } finally {
    await fh.close();
  }
}

/** A manifest file written before: its count and bytes from its end line. Rejects when it has none. */
export async function openManifestFile(file: string): Promise<ManifestFile> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const tail = Buffer.alloc(Math.min(size, 128));
    await fh.read(tail, 0, tail.length, size - tail.length);
    const lines = tail.toString('utf8').split('\n');
    const end = lines.at(-1) === '' ? parseEnd(lines.at(-2) ?? '') : undefined;
    if (!end) throw new Error(`manifest file ${file} is incomplete: it has no end line`);
    return { file, ...end };
  } finally {
    await fh.close();
  }
}

/** Writes entries to `file` (through a temporary sibling renamed into place; fsync'd first when `durable`). */
async function writeEntries(file: string, batches: AsyncIterable<ManifestEntry[]>, durable: boolean): Promise<ManifestFile> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fh = await open(tmp, 'wx');
  let count = 0;
  let bytes = 0;
  try {
    try {
      let text = '';
      for await (const batch of batches) {
        for (const e of batch) {
          text += manifestLine(e);
          count++;
          bytes += e.size;
        }
        if (text.length >= WRITE_CHUNK) {
          await fh.writeFile(text);
          text = '';
        }
      }
      await fh.writeFile(`${text}end ${count} ${bytes}\n`);
      if (durable) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  return { file, count, bytes };
}

/**
 * Hashes every regular file under `root` into the manifest file `file` as the walk goes: memory stays flat
 * whatever the number of files. `durable`: fsync'd before it replaces `file`.
 */
export function writeManifestFile(root: string, file: string, opts: { workers?: number; exclude?: (rel: string) => boolean; durable?: boolean } = {}): Promise<ManifestFile> {
  return withPool(opts.workers, (pool) => writeEntries(file, hashTree(pool, root, opts.exclude), opts.durable ?? false));
}

// ---------------------------------------------------------------------------------------------------------------
// Either kind of manifest, as a stream

function isSorted(files: readonly ManifestEntry[]): boolean {
  for (let i = 1; i < files.length; i++) if (files[i - 1]!.path >= files[i]!.path) return false;
  return true;
}

/** The entries of a manifest in path order, in batches. */
function manifestBatches(m: Manifest): AsyncIterable<ManifestEntry[]> {
  if ('file' in m) return fileBatches(m);
  const files = isSorted(m.files) ? m.files : [...m.files].sort((a, b) => comparePaths(a.path, b.path));
  return (async function* () {
    for (let i = 0; i < files.length; i += WALK_BATCH) yield files.slice(i, i + WALK_BATCH);
  })();
}

/** The entries of a manifest in path order. */
export async function* manifestEntries(m: Manifest): AsyncGenerator<ManifestEntry> {
  for await (const batch of manifestBatches(m)) yield* batch;
}

export function manifestCount(m: Manifest): number {
  return 'file' in m ? m.count : m.files.length;
}

/** The manifest in memory (for small trees: every entry at once). */
export async function manifestList(m: Manifest): Promise<ManifestList> {
  if (!('file' in m)) return m;
  const files: ManifestEntry[] = [];
  for await (const batch of manifestBatches(m)) for (const e of batch) files.push(e);
  return { files, bytes: m.bytes };
}

/** The manifest of every regular file under `root`, in memory, hashed by `workers` threads (default: every core). */
export function buildManifest(root: string, opts: { workers?: number; exclude?: (rel: string) => boolean } = {}): Promise<ManifestList> {
  return withPool(opts.workers, async (pool) => {
    const files: ManifestEntry[] = [];
    let bytes = 0;
    for await (const batch of hashTree(pool, root, opts.exclude)) {
      for (const e of batch) {
        files.push(e);
        bytes += e.size;
      }
    }
    return { files, bytes };
  });
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
export function diffManifests(expected: ManifestList, actual: ManifestList): ManifestDiff {
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

export function integrityFromDiff(expected: ManifestList, actual: ManifestList, diff: ManifestDiff): IntegrityResult {
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
export function compareManifests(expected: ManifestList, actual: ManifestList): IntegrityResult {
  return integrityFromDiff(expected, actual, diffManifests(expected, actual));
}

/** Reads one sorted stream of entry batches an entry at a time; awaits only to fetch the next batch. */
class Cursor {
  private readonly source: AsyncIterator<ManifestEntry[]>;
  private readonly what: string;
  private batch: ManifestEntry[] = [];
  private i = 0;
  private last: string | undefined;
  current: ManifestEntry | undefined;

  constructor(source: AsyncIterable<ManifestEntry[]>, what: string) {
    this.source = source[Symbol.asyncIterator]();
    this.what = what;
  }

  /** Moves to the next entry (current is undefined at the end); rejects when the stream is out of order. */
  async advance(): Promise<void> {
    while (this.i >= this.batch.length) {
      const next = await this.source.next();
      if (next.done) {
        this.current = undefined;
        return;
      }
      this.batch = next.value;
      this.i = 0;
    }
    this.step();
  }

  /** advance() without a wait when the batch has more: true when it moved. */
  stepInBatch(): boolean {
    if (this.i >= this.batch.length) return false;
    this.step();
    return true;
  }

  private step(): void {
    const e = this.batch[this.i++]!;
    if (this.last !== undefined && e.path <= this.last) throw new Error(`the ${this.what} is not sorted by path (${JSON.stringify(e.path)} after ${JSON.stringify(this.last)})`);
    this.last = e.path;
    this.current = e;
  }

  async close(): Promise<void> {
    await this.source.return?.();
  }
}

const next = async (c: Cursor): Promise<void> => {
  if (!c.stepInBatch()) await c.advance();
};

/** What a merge of expected and actual found; mismatches under `candidate` are kept whole for a later check. */
interface Tally {
  files: number;
  matched: number;
  mismatched: number;
  missing: number;
  extra: number;
  bytes: number;
  examples: { mismatched: string[]; missing: string[]; extra: string[] };
  /** Mismatched entries of the actual tree that `candidate` picked, in path order. */
  candidates: ManifestEntry[];
}

/**
 * Compares two sorted entry streams by merging them: only the current entry of each is held. Mismatched paths
 * that `candidate` accepts go to `candidates` (with the actual entry) instead of the mismatched count.
 */
async function mergeCompare(expected: AsyncIterable<ManifestEntry[]>, actual: AsyncIterable<ManifestEntry[]>, candidate?: (rel: string) => boolean): Promise<Tally> {
  const t: Tally = { files: 0, matched: 0, mismatched: 0, missing: 0, extra: 0, bytes: 0, examples: { mismatched: [], missing: [], extra: [] }, candidates: [] };
  const note = (list: string[], path: string): void => {
    if (list.length < MAX_EXAMPLES) list.push(path);
  };
  const want = new Cursor(expected, 'expected manifest');
  const got = new Cursor(actual, 'tree being verified');
  try {
    await want.advance();
    await got.advance();
    for (;;) {
      const w = want.current;
      const g = got.current;
      if (!w && !g) break;
      if (w && (!g || w.path < g.path)) {
        t.files++;
        t.missing++;
        note(t.examples.missing, w.path);
        await next(want);
      } else if (g && (!w || g.path < w.path)) {
        t.extra++;
        t.bytes += g.size;
        note(t.examples.extra, g.path);
        await next(got);
      } else if (w && g) {
        t.files++;
        t.bytes += g.size;
        if (g.size === w.size && g.sha256 === w.sha256) t.matched++;
        else if (candidate?.(g.path)) t.candidates.push(g);
        else {
          t.mismatched++;
          note(t.examples.mismatched, g.path);
        }
        await next(want);
        await next(got);
      }
    }
  } finally {
    await Promise.all([want.close(), got.close()]);
  }
  return t;
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
 * Hashes `root` and compares it with `expected` as the walk goes (merging two sorted streams: nothing per file is
 * kept). An append-only file whose content differs still matches when it is a byte prefix of the same file under
 * `prefixRoot` (restored logs that stop at a consistent point).
 */
export function verifyManifest(root: string, expected: Manifest, opts: VerifyOptions = {}): Promise<IntegrityResult> {
  return withPool(opts.workers, async (pool) => {
    const { appendOnly, prefixRoot } = opts;
    const checkPrefixes = appendOnly !== undefined && prefixRoot !== undefined;
    const t = await mergeCompare(manifestBatches(expected), hashTree(pool, root, opts.exclude), checkPrefixes ? appendOnly : undefined);
    const rejected: string[] = [];
    for (let i = 0; i < t.candidates.length; i += WALK_BATCH) {
      const part = t.candidates.slice(i, i + WALK_BATCH);
      const sources = await pool.hashMany(part.map((got) => ({ path: join(prefixRoot!, got.path), limit: got.size })));
      part.forEach((got, j) => {
        const source = sources[j];
        if (source?.size === got.size && source.sha256 === got.sha256) t.matched++;
        else rejected.push(got.path);
      });
    }
    const mismatched = t.mismatched + rejected.length;
    return {
      files: t.files,
      matched: t.matched,
      mismatched,
      missing: t.missing,
      extra: t.extra,
      bytes: t.bytes,
      ok: mismatched === 0 && t.missing === 0,
      examples: {
        mismatched: [...t.examples.mismatched, ...rejected].sort(comparePaths).slice(0, MAX_EXAMPLES),
        missing: t.examples.missing,
        extra: t.examples.extra,
      },
    };
  });
}
