// How fast does pvbench write a workload, in large files and in small ones?
//   node bench/generation.ts [--runs 5] [--compare DIR] [--dir /tmp]
// Two mesh-proxy workloads of 4 proxies: "large" (access logs of about 42 MB each, 170 MB in all) and "small"
// (20,000 stats snapshots of 2.5 KB). Each is seeded with seedWorkload on one worker thread and on every core, and
// with --compare DIR by the seedWorkload of the checkout in DIR (e.g. the code before issue 11); every run seeds
// each variant once, in an order that rotates from run to run, each into a fresh directory. Wall and CPU time of the
// seeding into the page cache (the write-back to disk is not timed: pvbench does it after seeding, outside any
// measurement). Prints a Markdown table and writes bench/results/generation.json.
import { readFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { workloadSchema } from '../src/config/schema.ts';
import type { WorkloadConfig } from '../src/config/schema.ts';
import { removeTree, writeBack } from '../src/platform/local/fsutil.ts';
import { seedWorkload } from '../src/workloads/mesh-proxy.ts';
import { median } from '../src/baseline/stats.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, compare: { type: 'string' }, dir: { type: 'string', default: tmpdir() } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error('usage: node bench/generation.ts [--runs 5] [--compare DIR] [--dir /tmp]');
const cores = availableParallelism();

const WORKLOADS: { name: string; workload: WorkloadConfig; files: number }[] = [
  { name: 'large', workload: workloadSchema.parse({ proxies: 4, accessLogLines: 200_000, statsSnapshots: 0, clusters: 1 }), files: 4 * 2 },
  { name: 'small', workload: workloadSchema.parse({ proxies: 4, accessLogLines: 0, statsSnapshots: 5000, clusters: 1 }), files: 4 * 5002 },
];

type Seed = (root: string, w: WorkloadConfig, seed: number) => Promise<{ bytes: number }>;
const variants: { name: string; seed: Seed }[] = [
  { name: 'seedWorkload, 1 worker', seed: (root, w, seed) => seedWorkload(root, w, seed, { workers: 1 }) },
  { name: `seedWorkload, ${cores} workers (every core, the default)`, seed: (root, w, seed) => seedWorkload(root, w, seed) },
];
if (values.compare) {
  const other = (await import(pathToFileURL(join(resolve(values.compare), 'src/workloads/mesh-proxy.ts')).href)) as { seedWorkload: Seed };
  variants.push({ name: `seedWorkload of ${values.compare}`, seed: (root, w, seed) => other.seedWorkload(root, w, seed) });
}

/**
 * The CPU this process can get on every core at once: `cores` threads spin for a second; their CPU seconds over
 * the wall time. On a shared machine (other sessions get their share whatever their nice value) it can be far
 * below the core count, and no parallel speed-up can show beyond it.
 */
async function coresAvailable(): Promise<number> {
  const spin = `const { parentPort } = process.getBuiltinModule('node:worker_threads'); const end = Date.now() + 1000; let x = 0; while (Date.now() < end) x++; parentPort.postMessage(x);`;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: cores }, () => {
      const w = new Worker(spin, { eval: true });
      return new Promise((res) => w.once('message', res)).finally(() => w.terminate());
    }),
  );
  const used = process.cpuUsage(cpu0);
  return (used.user + used.system) / 1000 / (performance.now() - t0);
}

const loadNow = (): string => readFileSync('/proc/loadavg', 'utf8').trim();

interface Row {
  workload: string;
  variant: string;
  bytes: number;
  files: number;
  medianS: number;
  /** CPU seconds of the seeding (all threads of this process), median. */
  cpuS: number;
  mbPerSec: number;
  filesPerSec: number;
  runsS: number[];
}

const work = mkdtempSync(join(values.dir, 'pvbench-genbench-'));
const cleanUp = (): void => rmSync(work, { recursive: true, force: true });
process.once('SIGINT', () => {
  cleanUp();
  process.exit(130);
});

const rows: Row[] = [];
const load: { at: string; loadavg: string; coresAvailable: number }[] = [{ at: 'start', loadavg: loadNow(), coresAvailable: await coresAvailable() }];
try {
  for (const wl of WORKLOADS) {
    const times = new Map<string, number[]>();
    const cpu = new Map<string, number[]>();
    let bytes = 0;
    // Every run into a fresh directory, removed only after the last run: on a disk that discards freed blocks,
    // removing a tree slows the file creation that follows for tens of seconds.
    const trees = join(work, wl.name);
    for (let r = 0; r < runs; r++) {
      for (let i = 0; i < variants.length; i++) {
        const v = variants[(i + r) % variants.length]!;
        const root = join(trees, `${r}-${i}`);
        await writeBack(work); // untimed: no earlier run's pages left to write back during this one
        const cpu0 = process.cpuUsage(); // every thread of this process: the worker threads too
        const t0 = performance.now();
        bytes = (await v.seed(root, wl.workload, 42)).bytes;
        times.set(v.name, [...(times.get(v.name) ?? []), (performance.now() - t0) / 1000]);
        const used = process.cpuUsage(cpu0);
        cpu.set(v.name, [...(cpu.get(v.name) ?? []), (used.user + used.system) / 1e6]);
      }
      process.stderr.write(`  ${wl.name}: run ${r + 1}/${runs} done (load ${loadNow()})\n`);
    }
    for (const v of variants) {
      const runsS = times.get(v.name)!;
      const medianS = median(runsS);
      const cpuS = median(cpu.get(v.name)!);
      rows.push({ workload: wl.name, variant: v.name, bytes, files: wl.files, medianS, cpuS, mbPerSec: bytes / 1e6 / medianS, filesPerSec: wl.files / medianS, runsS });
    }
    load.push({ at: `after ${wl.name}`, loadavg: loadNow(), coresAvailable: await coresAvailable() });
    await removeTree(trees);
    await writeBack(work);
  }
} finally {
  cleanUp();
}

const table = [
  '| Workload | Generator | Files | MB | Seconds (median) | CPU s (median) | MB/s | Files/s |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map((r) => `| ${r.workload} | ${r.variant} | ${r.files} | ${(r.bytes / 1e6).toFixed(0)} | ${r.medianS.toFixed(2)} | ${r.cpuS.toFixed(2)} | ${r.mbPerSec.toFixed(0)} | ${r.filesPerSec.toFixed(0)} |`),
].join('\n');
process.stdout.write(`\nWorkload generation (median of ${runs} interleaved runs, MB = 10^6 bytes; load ${load.map((l) => `${l.at}: ${l.loadavg}, ${l.coresAvailable.toFixed(2)} of ${cores} cores available`).join('; ')})\n\n${table}\n`);
const resultsFile = resolve(HERE, 'results', 'generation.json');
mkdirSync(dirname(resultsFile), { recursive: true });
writeFileSync(
  resultsFile,
  JSON.stringify({ benchmark: 'generation', date: new Date().toISOString(), host: { cpus: cores, cpuModel: cpus()[0]?.model, kernel: release(), node: process.version }, load, params: { runs, workloads: WORKLOADS }, rows }, null, 2) + '\n',
);
process.stderr.write(`\nwrote ${resultsFile}\n`);
process.exit(0);
