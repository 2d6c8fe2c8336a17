// The bytes of all regular files below a directory, walked on every core.
//
// A walk is one lstat per entry: the kernel's part of it costs as much as du's, and Node adds about half again per
// entry. On one thread that is 1.3-1.8x `du -sb` (whose figure also counts directories' own sizes, so it is not the
// same number); split over the cores it is as fast or faster, and the event loop stays free meanwhile.
//
// The walk is shared out by donation: each worker walks its task (a directory, or some of the names of one) depth
// first, and while another worker is idle (a shared counter says so) it hands subdirectories and the second half of
// long name lists back to this thread, which passes them on. No message per directory when every worker is busy,
// and a single flat directory of 100k files is still split. As in metrics/manifest.ts, the workers run an eval'd,
// self-contained script, so the same code works from the .ts sources and from the esbuild bundle in dist/.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = process.getBuiltinModule('node:worker_threads');
const { readdirSync, lstatSync } = process.getBuiltinModule('node:fs');
const idle = new Int32Array(workerData.idle);
let job = 0;
function walk(dir, names) {
  if (names === undefined) {
    try {
      names = readdirSync(dir);
    } catch {
      return 0; // gone, not a directory, or not readable: nothing to count
    }
  }
  let total = 0;
  for (let i = 0; i < names.length; i++) {
    if ((i & 127) === 127 && names.length - i > 256 && Atomics.load(idle, 0) > 0) {
      const half = i + ((names.length - i) >> 1);
      parentPort.postMessage({ job, donate: { dir, names: names.slice(half) } });
      names = names.slice(0, half);
    }
    const path = dir + '/' + names[i];
    let st;
    try {
      st = lstatSync(path);
    } catch {
      continue; // vanished mid-walk: a tree being copied or removed
    }
    if (st.isFile()) total += st.size;
    else if (st.isDirectory()) {
      if (Atomics.load(idle, 0) > 0) parentPort.postMessage({ job, donate: { dir: path } });
      else total += walk(path);
    }
  }
  return total;
}
parentPort.on('message', (task) => {
  job = task.job;
  try {
    parentPort.postMessage({ job, bytes: walk(task.dir, task.names) });
  } catch (err) {
    parentPort.postMessage({ job, error: String((err && err.stack) || err) });
  }
});
`;

interface Task {
  job: number;
  dir: string;
  names?: string[];
}

interface Job {
  bytes: number;
  /** Tasks queued or being walked. */
  open: number;
  resolve: (bytes: number) => void;
  reject: (err: Error) => void;
}

type Reply = { job: number; donate: { dir: string; names?: string[] } } | { job: number; bytes: number } | { job: number; error: string };

interface SizePool {
  size(dir: string): Promise<number>;
  close(): Promise<void>;
  readonly broken: boolean;
}

function createSizePool(threads: number): SizePool {
  const idleBuffer = new SharedArrayBuffer(4);
  const idle = new Int32Array(idleBuffer);
  const workers: Worker[] = [];
  const free: Worker[] = [];
  const queue: Task[] = [];
  const jobs = new Map<number, Job>();
  let nextJob = 0;
  let broken: Error | undefined;

  const pump = (): void => {
    while (queue.length > 0 && free.length > 0) {
      const worker = free.pop()!;
      worker.postMessage(queue.shift());
    }
    // Workers donate work only while one of them has nothing to do.
    Atomics.store(idle, 0, queue.length === 0 ? free.length : 0);
    if (jobs.size === 0) for (const w of workers) w.unref(); // idle workers never keep the process alive
  };

  const fail = (err: Error): void => {
    broken ??= err;
    for (const job of jobs.values()) job.reject(err);
    jobs.clear();
    queue.length = 0;
  };

  const onReply = (worker: Worker, reply: Reply): void => {
    const job = jobs.get(reply.job);
    if ('donate' in reply) {
      if (job) {
        job.open++;
        queue.push({ job: reply.job, ...reply.donate });
      }
    } else {
      free.push(worker);
      if (job && 'error' in reply) {
        jobs.delete(reply.job);
        job.reject(new Error(`tree size walk failed: ${reply.error}`));
      } else if (job && 'bytes' in reply) {
        job.bytes += reply.bytes;
        if (--job.open === 0) {
          jobs.delete(reply.job);
          job.resolve(job.bytes);
        }
      }
    }
    pump();
  };

  const spawnWorker = (): void => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { idle: idleBuffer } });
    worker.on('message', (reply: Reply) => onReply(worker, reply));
    worker.on('error', (err: Error) => fail(err));
    worker.on('exit', (code: number) => fail(new Error(`tree size worker exited with code ${code}`)));
    workers.push(worker);
    free.push(worker);
  };

  return {
    size(dir) {
      return new Promise<number>((resolve, reject) => {
        if (broken) return reject(broken);
        while (workers.length < threads) spawnWorker();
        for (const w of workers) w.ref(); // a walk in flight keeps the process alive
        const id = nextJob++;
        jobs.set(id, { bytes: 0, open: 1, resolve, reject });
        queue.push({ job: id, dir });
        pump();
      });
    },
    async close() {
      fail(new Error('tree size pool closed'));
      await Promise.all(workers.splice(0).map((w) => w.terminate()));
    },
    get broken() {
      return broken !== undefined;
    },
  };
}

let shared: SizePool | undefined;

/** Bytes of all regular files below `dir` (symlinks neither followed nor counted); 0 for what vanishes during the walk. */
export function walkTreeSize(dir: string): Promise<number> {
  if (!shared || shared.broken) shared = createSizePool(Math.min(8, availableParallelism()));
  return shared.size(dir);
}

/** Terminates the walkers (they never keep the process alive when idle; this is for tidy tests). */
export async function closeTreeSizePool(): Promise<void> {
  const pool = shared;
  shared = undefined;
  await pool?.close();
}
