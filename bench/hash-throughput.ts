// How fast does buildManifest hash a volume, next to what the machine can do?
//   node bench/hash-throughput.ts [--mb 512] [--runs 3] [--mix mixed|large|small]
// Builds a temporary tree of mixed file sizes, times buildManifest with one worker and with every core, and compares
// with `openssl speed` (the CPU's sha256 ceiling, no I/O) and `sha256sum` over the same files (one process, and one
// per core), and `cat` (reading the files, nothing else). --mix large: 64 MiB files only; small: 4 KiB files only.
// Prints a Markdown table and writes bench/results/hash-throughput[-large|-small].json. See bench/README.md.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomFillSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildManifest } from '../src/metrics/manifest.ts';
import { runMeasured } from '../src/metrics/run.ts';
import { startTimer } from '../src/metrics/timer.ts';
import { median } from '../src/baseline/stats.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const MIB = 1024 * 1024;
const MB = 1e6;
const TIMEOUT_MS = 10 * 60_000;

/** Share of the tree's bytes per file size: a few large blobs, many small records. */
const SIZE_MIX: { size: number; share: number }[] = [
  { size: 64 * MIB, share: 0.4 },
  { size: 8 * MIB, share: 0.25 },
  { size: 1 * MIB, share: 0.2 },
  { size: 128 * 1024, share: 0.1 },
  { size: 8 * 1024, share: 0.05 },
];

interface Figure {
  method: string;
  parallelism: number;
  mbPerSec: number;
  /** CPU seconds spent, where it could be measured for this method alone. */
  cpuSec?: number;
  /** Wall seconds of each run. */
  runsSec: number[];
}

const { values } = parseArgs({ options: { mb: { type: 'string', default: '512' }, runs: { type: 'string', default: '3' }, mix: { type: 'string', default: 'mixed' } } });
const MIXES: Record<string, { size: number; share: number }[]> = { mixed: SIZE_MIX, large: [{ size: 64 * MIB, share: 1 }], small: [{ size: 4096, share: 1 }] };
const mix = MIXES[values.mix];
if (!mix) throw new Error(`--mix ${values.mix}: use mixed, large or small`);
const totalMiB = Number(values.mb);
const runs = Number(values.runs);
if (!(totalMiB > 0) || !Number.isInteger(runs) || runs < 1) throw new Error('usage: node bench/hash-throughput.ts [--mb 512] [--runs 3]');
const cores = availableParallelism();

/** File sizes adding up to exactly `total` bytes, in the proportions of SIZE_MIX. */
function planSizes(total: number): number[] {
  const sizes: number[] = [];
  let left = total;
  for (const { size, share } of mix!) {
    const count = Math.min(Math.floor((total * share) / size), Math.floor(left / size));
    for (let i = 0; i < count; i++) sizes.push(size);
    left -= count * size;
  }
  for (const { size } of mix!) {
    while (left >= size) {
      sizes.push(size);
      left -= size;
    }
  }
  if (left > 0) sizes.push(left);
  return sizes;
}

/** Writes the tree (random content, 256 files per directory); returns relative paths and sizes. */
function writeTree(root: string, sizes: number[]): { path: string; size: number }[] {
  const block = randomFillSync(Buffer.alloc(MIB));
  return sizes.map((size, i) => {
    const path = `d${String(Math.floor(i / 256)).padStart(3, '0')}/f${String(i).padStart(6, '0')}.bin`;
    mkdirSync(join(root, dirname(path)), { recursive: true });
    const fd = openSync(join(root, path), 'w');
    try {
      block.writeUInt32LE(i, 0); // no two files alike
      for (let done = 0; done < size; ) done += writeSync(fd, block, 0, Math.min(block.length, size - done));
    } finally {
      closeSync(fd);
    }
    return { path, size };
  });
}

/** Splits files into `n` groups of about equal bytes (largest first, onto the lightest group). */
function splitByBytes(files: { path: string; size: number }[], n: number): string[][] {
  const groups = Array.from({ length: n }, () => ({ bytes: 0, paths: [] as string[] }));
  for (const f of [...files].sort((a, b) => b.size - a.size)) {
    const lightest = groups.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    lightest.paths.push(f.path);
    lightest.bytes += f.size;
  }
  return groups.filter((g) => g.paths.length > 0).map((g) => g.paths);
}


/** Runs `once` `runs` times; throughput from the median wall time. */
async function measure(method: string, parallelism: number, bytes: number, once: () => Promise<{ cpuSec?: number }>): Promise<Figure> {
  const runsSec: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const elapsed = startTimer();
    const { cpuSec } = await once();
    runsSec.push(elapsed() / 1000);
    if (cpuSec !== undefined) cpu.push(cpuSec);
  }
  const figure: Figure = { method, parallelism, mbPerSec: bytes / MB / median(runsSec), runsSec };
  if (cpu.length > 0) figure.cpuSec = median(cpu);
  process.stderr.write(`  ${method} ×${parallelism}: ${figure.mbPerSec.toFixed(0)} MB/s\n`);
  return figure;
}

/** workers undefined: the shared pool a run uses, its threads already started by the warm-up. */
async function buildManifestRun(root: string, workers: number | undefined, bytes: number): Promise<{ cpuSec: number }> {
  const before = process.cpuUsage(); // process-wide: includes the worker threads
  const m = await buildManifest(root, workers === undefined ? {} : { workers });
  if (m.bytes !== bytes) throw new Error(`buildManifest hashed ${m.bytes} bytes, expected ${bytes}`);
  const used = process.cpuUsage(before);
  return { cpuSec: (used.user + used.system) / 1e6 };
}

async function sha256sum(root: string, paths: string[]): Promise<{ cpuSec: number }> {
  const res = await runMeasured('sha256sum', ['--', ...paths], { cwd: root, timeoutMs: TIMEOUT_MS });
  if (res.exitCode !== 0) throw new Error(`sha256sum failed (${res.exitCode ?? res.signal}): ${res.stderr.slice(0, 300)}`);
  return { cpuSec: (res.usage.cpuUserMs + res.usage.cpuSysMs) / 1000 };
}

/** `cat` of the files to /dev/null: what reading them costs, with no hashing and no per-file result. */
function cat(root: string, paths: string[]): Promise<{ cpuSec?: number }> {
  return new Promise((res, rej) => {
    const child = spawn('cat', ['--', ...paths], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.on('error', rej);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) res({});
      else rej(new Error(`cat exited ${code}`));
    });
  });
}

/** `openssl speed -evp sha256`: its "sha256" line ends with the rate in thousands of bytes per second. */
async function opensslSpeed(processes: number): Promise<number> {
  const args = ['speed', '-evp', 'sha256', '-bytes', '16384', '-seconds', '3', ...(processes > 1 ? ['-multi', String(processes)] : [])];
  const res = await runMeasured('openssl', args, { timeoutMs: 120_000 });
  const line = res.stdout.split('\n').find((l) => /^sha256\s/.test(l));
  const kbPerSec = Number(line?.trim().split(/\s+/).at(-1)?.replace(/k$/, ''));
  if (res.exitCode !== 0 || !Number.isFinite(kbPerSec)) throw new Error(`cannot read openssl speed output: ${res.stdout.slice(-300)} ${res.stderr.slice(-300)}`);
  return (kbPerSec * 1000) / MB;
}

async function toolVersion(cmd: string, args: string[]): Promise<string | undefined> {
  try {
    const res = await runMeasured(cmd, args, { timeoutMs: 10_000 });
    return res.stdout.split('\n')[0]?.trim();
  } catch {
    return undefined;
  }
}

function table(figures: Figure[], opensslOne: number | undefined): string {
  const rows = [
    '| Method | Parallelism | MB/s | vs openssl 1 core | CPU s (median) |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...figures.map(
      (f) =>
        `| ${f.method} | ${f.parallelism} | ${f.mbPerSec.toFixed(0)} | ${opensslOne ? `${((100 * f.mbPerSec) / opensslOne).toFixed(0)}%` : '–'} | ${f.cpuSec === undefined ? '–' : f.cpuSec.toFixed(2)} |`,
    ),
  ];
  return rows.join('\n');
}

const tmp = mkdtempSync(join(tmpdir(), 'pvbench-hashbench-'));
const cleanUp = (): void => rmSync(tmp, { recursive: true, force: true });
process.once('SIGINT', () => {
  cleanUp();
  process.exit(130);
});

try {
  const bytes = totalMiB * MIB;
  process.stderr.write(`writing ${totalMiB} MiB under ${tmp}\n`);
  const files = writeTree(tmp, planSizes(bytes));
  const paths = files.map((f) => f.path);
  process.stderr.write(`${files.length} files; warming the page cache\n`);
  await buildManifest(tmp); // untimed: every later run reads from the page cache alike

  const figures: Figure[] = [];
  figures.push(await measure('buildManifest (worker threads)', 1, bytes, () => buildManifestRun(tmp, 1, bytes)));
  if (cores > 1) figures.push(await measure('buildManifest (worker threads)', cores, bytes, () => buildManifestRun(tmp, cores, bytes)));
  // A run keeps one pool across its manifests: no thread start-up in the timed region.
  figures.push(await measure('buildManifest (the shared pool a run uses, threads started)', cores, bytes, () => buildManifestRun(tmp, undefined, bytes)));
  figures.push(await measure('sha256sum', 1, bytes, () => sha256sum(tmp, paths)));
  if (cores > 1) {
    const groups = splitByBytes(files, cores);
    figures.push(await measure('sha256sum (files split)', groups.length, bytes, async () => (await Promise.all(groups.map((g) => sha256sum(tmp, g))), {})));
  }

  figures.push(await measure('cat', 1, bytes, () => cat(tmp, paths)));
  if (cores > 1) {
    const groups = splitByBytes(files, cores);
    figures.push(await measure('cat (files split)', groups.length, bytes, async () => (await Promise.all(groups.map((g) => cat(tmp, g))), {})));
  }

  let opensslOne: number | undefined;
  let opensslAll: number | undefined;
  try {
    opensslOne = await opensslSpeed(1);
    figures.push({ method: 'openssl speed -evp sha256 (16 KiB blocks, no I/O)', parallelism: 1, mbPerSec: opensslOne, runsSec: [3] });
    if (cores > 1) {
      opensslAll = await opensslSpeed(cores);
      figures.push({ method: 'openssl speed -evp sha256 (16 KiB blocks, no I/O)', parallelism: cores, mbPerSec: opensslAll, runsSec: [3] });
    }
  } catch (err) {
    process.stderr.write(`openssl speed unavailable: ${(err as Error).message}\n`);
  }

  // What a hasher that reads its files can reach: each byte is copied once from the page cache by read() (cat's
  // cost per byte) and hashed once (openssl's), on every core. openssl speed hashes a buffer it never reads.
  const catOne = figures.find((f) => f.method === 'cat' && f.parallelism === 1)?.mbPerSec;
  const manifestAll = figures.find((f) => f.method.startsWith('buildManifest (the shared pool'))?.mbPerSec;
  let summary = '';
  if (opensslOne && catOne) {
    const ceiling = cores / (1 / opensslOne + 1 / catOne);
    figures.push({ method: 'ceiling: openssl 1 core per core, each byte also copied once by read() at cat\'s 1-core rate', parallelism: cores, mbPerSec: ceiling, runsSec: [] });
    if (manifestAll && opensslAll) {
      summary = `\nbuildManifest with the shared pool on ${cores} cores: ${((100 * manifestAll) / opensslAll).toFixed(0)}% of openssl speed -multi ${cores}, ${((100 * manifestAll) / ceiling).toFixed(0)}% of the ceiling of a hasher that reads (${((100 * ceiling) / opensslAll).toFixed(0)}% of openssl -multi ${cores})\n`;
    }
  }

  const markdown = table(figures, opensslOne);
  process.stdout.write(`\nHashing ${totalMiB} MiB in ${files.length} files (median of ${runs} runs, warm page cache, MB = 10^6 bytes)\n\n${markdown}\n${summary}`);

  const out = {
    benchmark: 'hash-throughput',
    date: new Date().toISOString(),
    host: {
      cpus: cores,
      cpuModel: cpus()[0]?.model,
      node: process.version,
      openssl: await toolVersion('openssl', ['version']),
      sha256sum: await toolVersion('sha256sum', ['--version']),
    },
    params: { mib: totalMiB, files: files.length, runs, mix: values.mix, sizeMix: mix },
    figures,
  };
  const resultsFile = resolve(HERE, 'results', values.mix === 'mixed' ? 'hash-throughput.json' : `hash-throughput-${values.mix}.json`);
  mkdirSync(dirname(resultsFile), { recursive: true });
  writeFileSync(resultsFile, JSON.stringify(out, null, 2) + '\n');
  process.stderr.write(`\nwrote ${resultsFile}\n`);
} finally {
  cleanUp();
}
