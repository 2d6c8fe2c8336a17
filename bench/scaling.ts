// How do pvbench's own memory and CPU grow with the number of files in the volumes, and with their bytes?
//   node bench/scaling.ts [--files 1000,10000,100000,1000000] [--compare DIR [--compare-max 100000]] [--dir /tmp]
//   node bench/scaling.ts --bytes 10M,100M,1G,5G        (4 proxies; the access logs grow, the file count stays)
//   node bench/scaling.ts --preset velero-fsb-100b      (named workload presets at full size; scaling-presets.json)
// For each file count: `pvbench run` (from src/) of one trial of the copy tool, no-fault scenario (full backup,
// churn, incremental backup, restore, verify), on a mesh-proxy workload made of small files. Measured for the pvbench
// process alone (its own threads, not the cp processes it starts): peak RSS and CPU time from getrusage at exit,
// and the wall time of the whole command. With --compare DIR, the same runs of the checkout in DIR too, interleaved
// (this one, then that one, per file count), up to --compare-max files. Prints a Markdown table and writes
// bench/results/scaling.json.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { presetInfo, WORKLOAD_PRESET_NAMES } from '../src/workloads/presets.ts';
import type { WorkloadPresetName } from '../src/workloads/presets.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const MIB = 1024 * 1024;

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '1000,10000,100000,1000000' },
    bytes: { type: 'string' },
    preset: { type: 'string' },
    compare: { type: 'string' },
    'compare-max': { type: 'string' },
    dir: { type: 'string', default: tmpdir() },
  },
});
const UNITS: Record<string, number> = { '': 1, K: 1e3, M: 1e6, G: 1e9 };
/** "10M" → 10,000,000 (decimal units, as disk sizes are given). */
function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)$/.exec(text.trim());
  if (!m) throw new Error(`--bytes: ${JSON.stringify(text)} is not a size like 500M or 5G`);
  return Math.round(Number(m[1]) * UNITS[m[2]!]!);
}
/** Bytes mode: the sizes asked for; files mode otherwise. The x axis of a row is its file count or its bytes. */
const sizes = values.bytes ? values.bytes.split(',').map(parseSize) : undefined;
/** Preset mode: each named preset at full size; a row's x is the preset's file count. */
const presets = values.preset ? values.preset.split(',').map((name) => {
  if (!(WORKLOAD_PRESET_NAMES as readonly string[]).includes(name)) throw new Error(`--preset: ${JSON.stringify(name)} is not one of ${WORKLOAD_PRESET_NAMES.join(', ')}`);
  return name as WorkloadPresetName;
}) : undefined;
const counts = presets ? presets.map((p) => presetInfo(p).files) : (sizes ?? values.files.split(',').map(Number));
if (!sizes && counts.some((n) => !Number.isInteger(n) || n < 10)) throw new Error('usage: node bench/scaling.ts [--files 1000,10000,100000,1000000] [--compare DIR] [--dir /tmp]');

/** About what one access log line of the mesh-proxy workload takes (Envoy's default format; 5G at 245 B gave 4.34 GB); each row records the bytes the backup processed. */
const BYTES_PER_LINE = 212;

/** A workload of about `bytes` bytes: 4 proxies, their access logs sized to it, 6 stats snapshots each (32 files). */
function workloadOfBytes(bytes: number): { proxies: number; statsSnapshots: number; accessLogLines: number; clusters: number } {
  return { proxies: 4, statsSnapshots: 6, accessLogLines: Math.max(1000, Math.round(bytes / 4 / BYTES_PER_LINE)), clusters: 40 };
}

/**
 * A workload of `files` files: each proxy holds a config dump, an access log and its stats snapshots (2.5 KB each
 * with one cluster), so the count is proxies × (snapshots + 2). Access logs stay small: files, not bytes, scale.
 */
function workloadFor(files: number): { proxies: number; statsSnapshots: number; accessLogLines: number; clusters: number } {
  const proxies = files <= 1000 ? 4 : files <= 10_000 ? 10 : files <= 100_000 ? 20 : 100;
  return { proxies, statsSnapshots: Math.max(0, Math.round(files / proxies) - 2), accessLogLines: 1000, clusters: 1 };
}

// Loaded into the measured process: its own peak RSS and CPU (every thread, no children) when it exits.
const USAGE_HOOK = `
import { writeFileSync } from 'node:fs';
process.on('exit', () => {
  const u = process.resourceUsage();
  writeFileSync(process.env.PVBENCH_BENCH_USAGE, JSON.stringify({ maxRssKiB: u.maxRSS, userUs: u.userCPUTime, systemUs: u.systemCPUTime }));
});
`;

interface Measured {
  checkout: string;
  files: number;
  preset?: string;
  exit: number | null;
  wallS: number;
  peakRssMiB: number;
  cpuS: number;
  trial?: { status: string; error?: string; durationS: number; backupS?: number; incrementalS?: number; restoreS?: number; integrityFiles?: number; bytes?: number };
  loadBefore: string;
  loadAfter: string;
}

const loadNow = (): string => readFileSync('/proc/loadavg', 'utf8').trim();

async function measure(checkout: string, files: number, work: string, preset?: WorkloadPresetName): Promise<Measured> {
  const dir = mkdtempSync(join(work, `run-${files}-`));
  const suite = join(dir, 'suite.yaml');
  const w = sizes ? workloadOfBytes(files) : workloadFor(files);
  writeFileSync(
    suite,
    [
      `name: scaling-${preset ?? `${sizes ? 'bytes-' : ''}${files}`}`,
      'seed: 42',
      'trials: 1',
      `platform: { kind: local, workdir: ${JSON.stringify(join(dir, 'work'))} }`,
      preset ? `workload: { preset: ${preset} }` : `workload: { proxies: ${w.proxies}, statsSnapshots: ${w.statsSnapshots}, accessLogLines: ${w.accessLogLines}, clusters: ${w.clusters} }`,
      'tools: [ { type: copy } ]',
      'scenarios: [ { name: no-fault } ]',
      '',
    ].join('\n'),
  );
  const hook = join(dir, 'usage-hook.mjs');
  writeFileSync(hook, USAGE_HOOK);
  const usageFile = join(dir, 'usage.json');
  const out = join(dir, 'out');
  const loadBefore = loadNow();
  const t0 = performance.now();
  const exit = await new Promise<number | null>((res, rej) => {
    const child = spawn(process.execPath, ['--import', hook, join(checkout, 'src/cli/index.ts'), 'run', suite, '--output', out, '--baseline', 'none'], {
      env: { ...process.env, PVBENCH_BENCH_USAGE: usageFile },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`${files} files (${checkout}) exceeded 4 h\n${err}`));
    }, 4 * 3600_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) process.stderr.write(err);
      res(code);
    });
  });
  const wallS = (performance.now() - t0) / 1000;
  const usage = JSON.parse(readFileSync(usageFile, 'utf8')) as { maxRssKiB: number; userUs: number; systemUs: number };
  const m: Measured = { checkout, files, ...(preset ? { preset } : {}), exit, wallS, peakRssMiB: (usage.maxRssKiB * 1024) / MIB, cpuS: (usage.userUs + usage.systemUs) / 1e6, loadBefore, loadAfter: loadNow() };
  try {
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
      trials: { status: string; error?: string; durationMs: number; backup?: { wallMs: number; bytesProcessed: number }; incremental?: { wallMs: number }; restore?: { wallMs: number }; integrity?: { files: number } }[];
    };
    const t = results.trials[0];
    if (t) {
      m.trial = {
        status: t.status,
        ...(t.error ? { error: t.error } : {}),
        durationS: t.durationMs / 1000,
        backupS: t.backup && t.backup.wallMs / 1000,
        incrementalS: t.incremental && t.incremental.wallMs / 1000,
        restoreS: t.restore && t.restore.wallMs / 1000,
        integrityFiles: t.integrity?.files,
        bytes: t.backup?.bytesProcessed,
      };
    }
  } catch {
    // no results: the exit code and stderr say why
  }
  rmSync(dir, { recursive: true, force: true });
  process.stderr.write(`  ${files} ${sizes ? 'bytes' : 'files'}, ${checkout}: ${m.peakRssMiB.toFixed(0)} MiB peak, ${m.cpuS.toFixed(1)} s CPU, ${wallS.toFixed(0)} s wall, trial ${m.trial?.status ?? 'missing'} (load ${m.loadAfter})\n`);
  return m;
}

const work = mkdtempSync(join(values.dir, 'pvbench-scaling-'));
const cleanUp = (): void => rmSync(work, { recursive: true, force: true });
process.once('SIGINT', () => {
  cleanUp();
  process.exit(130);
});

const checkouts = [ROOT, ...(values.compare ? [resolve(values.compare)] : [])];
const compareMax = values['compare-max'] === undefined ? Infinity : Number(values['compare-max']);
const rows: Measured[] = [];
try {
  for (const [i, files] of counts.entries()) for (const checkout of checkouts) if (checkout === ROOT || files <= compareMax) rows.push(await measure(checkout, files, work, presets?.[i]));
} finally {
  cleanUp();
}

const table = [
  `| ${sizes ? 'Bytes asked' : presets ? 'Preset (files)' : 'Files'} | Checkout | Peak RSS (MiB) | CPU (s) | Wall (s) | Trial | Backup (s) | Restore (s) |`,
  '| ---: | --- | ---: | ---: | ---: | --- | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.preset ? `${r.preset} (${r.files})` : r.files} | ${r.checkout === ROOT ? 'this' : r.checkout} | ${r.peakRssMiB.toFixed(0)} | ${r.cpuS.toFixed(1)} | ${r.wallS.toFixed(0)} | ${r.trial?.status ?? `exit ${r.exit}`} | ${r.trial?.backupS?.toFixed(1) ?? '–'} | ${r.trial?.restoreS?.toFixed(1) ?? '–'} |`,
  ),
].join('\n');
process.stdout.write(`\npvbench's own peak RSS, CPU and wall against the ${sizes ? 'bytes' : presets ? 'workload preset' : 'number of files'} (copy tool, no-fault, 1 trial)\n\n${table}\n`);
const resultsFile = resolve(HERE, 'results', sizes ? 'scaling-bytes.json' : presets ? 'scaling-presets.json' : 'scaling.json');
mkdirSync(dirname(resultsFile), { recursive: true });
writeFileSync(
  resultsFile,
  JSON.stringify(
    {
      benchmark: 'scaling',
      date: new Date().toISOString(),
      host: { cpus: availableParallelism(), cpuModel: cpus()[0]?.model, memoryBytes: totalmem(), kernel: release(), node: process.version },
      params: sizes ? { bytes: sizes, workloads: sizes.map(workloadOfBytes), checkouts } : presets ? { presets, files: counts, checkouts } : { files: counts, workloads: counts.map(workloadFor), checkouts },
      rows,
    },
    null,
    2,
  ) + '\n',
);
process.stderr.write(`\nwrote ${resultsFile}\n`);
