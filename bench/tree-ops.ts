// How fast are pvbench's whole-tree helpers (size, copy, removal) next to du, cp and rm?
//   node bench/tree-ops.ts [--files 10000,100000] [--runs 5,3] [--no-before] [--dir /tmp]
// For each tree size: a temporary tree of small files, then in every run each method once, in an order that rotates
// from run to run (so drift on a busy machine hits every method alike). Medians of wall and CPU time. Prints a
// Markdown table and writes bench/results/tree-ops.json. See bench/README.md.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cp, lstat, readdir, rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execFile } from 'node:child_process';
import { clockTicksPerSecond, parseProcStat } from '../src/metrics/process.ts';
import { copyTree, removeTree, treeSize, writeBack } from '../src/platform/local/fsutil.ts';
import { median } from '../src/baseline/stats.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const TIMEOUT_MS = 30 * 60_000;
/** Files per directory of the generated tree (a stats directory of a big mesh-proxy volume looks like this). */
const PER_DIR = 1000;

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '10000,100000' },
    runs: { type: 'string', default: '5,3' },
    'no-before': { type: 'boolean', default: false },
    dir: { type: 'string', default: tmpdir() },
  },
});
const counts = values.files.split(',').map(Number);
/** Runs per tree size: one figure for all, or one per size (a run of 100k files takes minutes). */
const runList = values.runs.split(',').map(Number);
const runsFor = (i: number): number => runList[Math.min(i, runList.length - 1)]!;
if (counts.some((n) => !Number.isInteger(n) || n < 1) || runList.some((r) => !Number.isInteger(r) || r < 1)) {
  throw new Error('usage: node bench/tree-ops.ts [--files 10000,100000] [--runs 5,3] [--no-before] [--dir /tmp]');
}
const before = !values['no-before'];

/** Writes `n` files of 512 B to 4 KiB (about 2.3 KB on average) under `root`; returns their bytes. */
function writeTree(root: string, n: number): number {
  const block = Buffer.alloc(4096, 0x61);
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const dir = join(root, `d${String(Math.floor(i / PER_DIR)).padStart(4, '0')}`);
    if (i % PER_DIR === 0) mkdirSync(dir, { recursive: true });
    const size = 512 + ((i * 7919) % 3585);
    writeFileSync(join(dir, `f${i}.dat`), block.subarray(0, size));
    bytes += size;
  }
  return bytes;
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((res, rej) => {
    execFile(cmd, args, { timeout: TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) rej(new Error(`${cmd} ${args.join(' ')}: ${err.message} ${stderr}`));
      else res(stdout);
    });
  });
}

/** The size walk pvbench had before issue 11: one awaited readdir/lstat at a time. */
async function treeSizeBefore(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await treeSizeBefore(p);
    else if (e.isFile()) total += await lstat(p).then((st) => st.size, () => 0);
  }
  return total;
}

/** CPU time of this process (every thread) plus that of its reaped children, in ms. */
async function cpuMs(): Promise<number> {
  const self = process.cpuUsage();
  const stat = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
  const children = (((stat?.cutime ?? 0) + (stat?.cstime ?? 0)) * 1000) / (await clockTicksPerSecond());
  return (self.user + self.system) / 1000 + children;
}


interface Sample {
  wallMs: number;
  cpuMs: number;
}

async function timed(fn: () => Promise<unknown>): Promise<Sample> {
  const cpu0 = await cpuMs();
  const t0 = performance.now();
  await fn();
  const wallMs = performance.now() - t0;
  return { wallMs, cpuMs: (await cpuMs()) - cpu0 };
}

interface Method {
  op: 'size' | 'copy' | 'remove' | 'remove written-back';
  name: string;
  pvbench: boolean;
}

interface Row extends Method {
  files: number;
  runs: number;
  medianWallMs: number;
  medianCpuMs: number;
  /** Median wall time over that of the command-line tool of the same operation (du -sb, cp -a, rm -rf). */
  vsTool: number;
  wallMs: number[];
  cpuMs: number[];
}

const SIZE: Method[] = [
  { op: 'size', name: 'treeSize (pvbench)', pvbench: true },
  { op: 'size', name: 'du -sb', pvbench: false },
  ...(before ? [{ op: 'size' as const, name: 'treeSize before (awaited lstat per file)', pvbench: false }] : []),
];
const COPY: Method[] = [
  { op: 'copy', name: 'copyTree (pvbench)', pvbench: true },
  { op: 'copy', name: 'cp -a', pvbench: false },
  ...(before ? [{ op: 'copy' as const, name: 'fs.cp (before)', pvbench: false }] : []),
];
/** Removal of copies just made (small files not yet on disk: ext4 has not even allocated their blocks). */
const REMOVE: Method[] = [
  { op: 'remove', name: 'removeTree (pvbench)', pvbench: true },
  { op: 'remove', name: 'rm -rf', pvbench: false },
  ...(before ? [{ op: 'remove' as const, name: 'fs.rm (before)', pvbench: false }] : []),
];
/** Removal of copies written back to disk first (as pvbench's seeded volumes are): every unlink frees blocks. */
const REMOVE_WRITTEN: Method[] = REMOVE.map((m) => ({ ...m, op: 'remove written-back' as const }));

async function sizeWith(m: Method, dir: string, expected: number): Promise<void> {
  let got: number;
  if (m.name.startsWith('treeSize (')) got = await treeSize(dir);
  else if (m.name === 'du -sb') return void (await run('du', ['-sb', '--', dir]));
  else got = await treeSizeBefore(dir);
  if (got !== expected) throw new Error(`${m.name} said ${got} bytes, expected ${expected}`);
}

async function copyWith(m: Method, src: string, dst: string): Promise<void> {
  if (m.pvbench) await copyTree(src, dst);
  else if (m.name === 'cp -a') await run('cp', ['-a', '--reflink=never', '--', src, dst]);
  else await cp(src, dst, { recursive: true });
}

async function removeWith(m: Method, dir: string): Promise<void> {
  if (m.pvbench) await removeTree(dir);
  else if (m.name === 'rm -rf') await run('rm', ['-rf', '--', dir]);
  else await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

const rotate = <T>(xs: T[], by: number): T[] => xs.map((_, i) => xs[(i + by) % xs.length]!);

const loadNow = (): string => readFileSync('/proc/loadavg', 'utf8').trim();
const pressure = (): string | undefined => {
  try {
    return readFileSync('/proc/pressure/cpu', 'utf8').split('\n')[0];
  } catch {
    return undefined;
  }
};

const work = mkdtempSync(join(values.dir, 'pvbench-treeops-'));
const cleanUp = (): void => rmSync(work, { recursive: true, force: true });
process.once('SIGINT', () => {
  cleanUp();
  process.exit(130);
});

const rows: Row[] = [];
const load: { at: string; loadavg: string; cpuPressure?: string }[] = [{ at: 'start', loadavg: loadNow(), cpuPressure: pressure() }];
try {
  for (const [index, n] of counts.entries()) {
    const runs = runsFor(index);
    const src = join(work, `src-${n}`);
    process.stderr.write(`writing ${n} files under ${src}\n`);
    const bytes = writeTree(src, n);
    // Untimed: the tree's metadata in cache for every method alike, and the size walkers started (once per run of
    // pvbench, as here once per process).
    await run('du', ['-sb', src]);
    await treeSize(src);
    const samples = new Map<Method, Sample[]>();
    const add = (m: Method, s: Sample): void => void samples.set(m, [...(samples.get(m) ?? []), s]);
    for (let r = 0; r < runs; r++) {
      for (const m of rotate(SIZE, r)) add(m, await timed(() => sizeWith(m, src, bytes)));
      // Each copy method makes one copy; each removal method removes one of them: over the runs, each removes
      // copies of every age and every maker.
      const copies: string[] = [];
      for (const [i, m] of rotate(COPY, r).entries()) {
        const dst = join(work, `copy-${n}-${r}-${i}`);
        add(m, await timed(() => copyWith(m, src, dst)));
        copies.push(dst);
      }
      for (const [i, m] of rotate(REMOVE, r).entries()) add(m, await timed(() => removeWith(m, copies[(i + 2 * r) % copies.length]!)));
      // The same again with copies on disk before they are removed.
      const written: string[] = [];
      for (const [i, m] of rotate(COPY, r).entries()) {
        const dst = join(work, `copy-${n}-${r}-w${i}`);
        add(m, await timed(() => copyWith(m, src, dst)));
        written.push(dst);
      }
      await writeBack(work);
      for (const [i, m] of rotate(REMOVE_WRITTEN, r).entries()) add(m, await timed(() => removeWith(m, written[(i + 2 * r) % written.length]!)));
      process.stderr.write(`  ${n} files: run ${r + 1}/${runs} done (load ${loadNow()})\n`);
    }
    for (const methods of [SIZE, COPY, REMOVE, REMOVE_WRITTEN]) {
      const tool = median(samples.get(methods[1]!)!.map((s) => s.wallMs));
      for (const m of methods) {
        const s = samples.get(m)!;
        const wall = median(s.map((x) => x.wallMs));
        rows.push({ ...m, files: n, runs, medianWallMs: wall, medianCpuMs: median(s.map((x) => x.cpuMs)), vsTool: wall / tool, wallMs: s.map((x) => x.wallMs), cpuMs: s.map((x) => x.cpuMs) });
      }
    }
    await removeTree(src);
    load.push({ at: `after ${n} files`, loadavg: loadNow(), cpuPressure: pressure() });
  }

  const table = [
    '| Files | Operation | Method | Wall ms (median) | vs tool | CPU ms (median) |',
    '| ---: | --- | --- | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.files} | ${r.op} | ${r.name} | ${r.medianWallMs.toFixed(0)} | ${r.vsTool.toFixed(2)}x | ${r.medianCpuMs.toFixed(0)} |`),
  ].join('\n');
  process.stdout.write(`\nWhole-tree helpers against du, cp and rm (medians of interleaved runs: ${counts.map((n, i) => `${runsFor(i)} at ${n} files`).join(', ')}; load ${load.map((l) => `${l.at}: ${l.loadavg}`).join('; ')})\n\n${table}\n`);

  const coreutils = (await run('cp', ['--version']).catch(() => '')).split('\n')[0];
  const out = {
    benchmark: 'tree-ops',
    date: new Date().toISOString(),
    host: { cpus: availableParallelism(), cpuModel: cpus()[0]?.model, kernel: release(), node: process.version, coreutils, loadavg: loadavg() },
    load,
    params: { files: counts, runs: counts.map((_, i) => runsFor(i)), filesPerDirectory: PER_DIR, fileBytes: '512 to 4096', dir: values.dir },
    rows,
  };
  const resultsFile = resolve(HERE, 'results', 'tree-ops.json');
  mkdirSync(dirname(resultsFile), { recursive: true });
  writeFileSync(resultsFile, JSON.stringify(out, null, 2) + '\n');
  process.stderr.write(`\nwrote ${resultsFile}\n`);
} finally {
  cleanUp();
}
process.exit(0); // the size walkers are idle and unref'd; exit without waiting for anything else
