// Does pvbench report what the tool takes? The same restic commands on the same data, run bare (a plain spawn,
// timed from spawn to exit) and through pvbench (`pvbench run` of a suite of restic × no-fault × 1 trial), A/B
// interleaved in one process (the order alternating per pair), medians per size (issue 11: within 3%).
// Both arms do what a no-fault trial does: the seeded volumes copied from a golden copy and written back (sync),
// full backup, churn, incremental backup, restore of the latest snapshot into an empty folder, each of the three
// preceded by sync(1); the restic repository from `restic init` with its key rewritten to pvbench's fixed scrypt
// parameters. Bare skips only pvbench's manifests, verification and /proc sampling.
// Usage: node bench/bare-vs-pvbench.ts [--sizes 10,500,5000] [--pairs 3 | --pairs 5,3,2] [--dir /var/tmp] [--drop-caches]
//   [--out bench/results/bare-vs-pvbench.json] (relative to the repository; rewritten after every pair, so a stopped run keeps its samples)
// --drop-caches (root): both arms start from the same machine state: dirty pages written back and the page cache
// dropped before each arm. Each sample also records the free memory right before its restore (the pvbench arm's from
// its results: restore.machine) and restic's system CPU in the restore (bare: the cstime of this process's reaped
// children around it).
// (--pairs: one count for every size, or one per size). One unrecorded warm-up pair at the first size.
// Sizes are MB of workload (4 proxies' access logs). Needs restic on PATH. Writes --out.
// No assertions: figures to quote, not a test.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile, rename, readdir } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { workloadSchema } from '../src/config/schema.ts';
import type { WorkloadConfig } from '../src/config/schema.ts';
import { churnWorkload, seedWorkload } from '../src/workloads/mesh-proxy.ts';
import { copyTree, removeTree, writeBack } from '../src/platform/local/fsutil.ts';
import { rewriteRepositoryKey, FIXED_SCRYPT } from '../src/tools/restic-key.ts';
import { toolEnv } from '../src/tools/tool-env.ts';
import { bootstrapRatioCI, median } from '../src/baseline/stats.ts';
import { readMemInfo } from '../src/metrics/meminfo.ts';
import { clockTicksPerSecond, selfChildrenTicks } from '../src/metrics/process.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { sizes: { type: 'string', default: '10,500,5000' }, pairs: { type: 'string', default: '3' }, dir: { type: 'string', default: tmpdir() }, 'drop-caches': { type: 'boolean', default: false }, out: { type: 'string', default: 'bench/results/bare-vs-pvbench.json' } } });
const sizes = values.sizes.split(',').map(Number);
const pairList = values.pairs.split(',').map(Number);
const pairsFor = (i: number) => pairList[Math.min(i, pairList.length - 1)]!;
const SEED = 42;
const PROXIES = 4;
/** Bytes of access log per line, about (measured: 402 MB from 1,886,792 lines). */
const BYTES_PER_LINE = 213;

const workloadFor = (mb: number): WorkloadConfig => workloadSchema.parse({ proxies: PROXIES, accessLogLines: Math.max(1000, Math.round((mb * 1e6) / PROXIES / BYTES_PER_LINE)) });

/** Runs a command (argument array) to its end, with a timeout; resolves its wall time in ms and its stdout. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 3_600_000): Promise<{ ms: number; stdout: string }> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', rej);
    child.on('close', (code) => {
      clearTimeout(timer);
      const ms = performance.now() - t0;
      if (code !== 0) rej(new Error(`${cmd} ${args.slice(0, 3).join(' ')} exited ${code}: ${stderr}`));
      else res({ ms, stdout });
    });
  });
}
const sync = () => timed('sync', [], process.env);

interface Sample { arm: 'bare' | 'pvbench'; sizeMb: number; pair: number; backupMs: number; incrementalMs: number; restoreMs: number; load: number; restoreFreeMiB?: number; restoreSysMs?: number }

/** System CPU of this process's reaped children so far (their cstime), ms: restic's, around its restore. */
const msPerTick = 1000 / (await clockTicksPerSecond());
const childrenSysMs = () => selfChildrenTicks().sys * msPerTick;

async function bare(work: string, golden: string, w: WorkloadConfig, volumes: string[]): Promise<Omit<Sample, 'arm' | 'sizeMb' | 'pair' | 'load'>> {
  const src = join(work, 'volumes');
  const repo = join(work, 'repo');
  const target = join(work, 'restore');
  const password = randomBytes(24).toString('hex');
  const env = toolEnv('RESTIC_', { RESTIC_REPOSITORY: repo, RESTIC_PASSWORD: password, RESTIC_PROGRESS_FPS: '0.1' }).env;
  await timed('restic', ['init', '--no-cache'], env);
  await rewriteRepositoryKey(repo, password, FIXED_SCRYPT);
  await copyTree(golden, src);
  await writeBack(src);
  const backup = async () => {
    await sync();
    const r = await timed('restic', ['backup', '--no-cache', '--json', '--host', 'pvbench', '--tag', 'bare', src], env);
    return r;
  };
  const full = await backup();
  await churnWorkload(src, volumes, w, SEED);
  const inc = await backup();
  const id = (JSON.parse(inc.stdout.split('\n').filter((l) => l.includes('"summary"')).pop()!) as { snapshot_id: string }).snapshot_id.slice(0, 8);
  await sync();
  const free = (await readMemInfo())?.memFreeBytes;
  const staging = `${target}.restic-staging`;
  const sys0 = childrenSysMs();
  const restore = await timed('restic', ['restore', '--no-cache', id, '--target', staging], env);
  const restoreSysMs = childrenSysMs() - sys0;
  await mkdir(target, { recursive: true });
  for (const e of await readdir(join(staging, src))) await rename(join(staging, src, e), join(target, e));
  for (const p of [src, repo, target, staging]) await removeTree(p);
  return { backupMs: full.ms, incrementalMs: inc.ms, restoreMs: restore.ms, restoreSysMs, ...(free !== undefined ? { restoreFreeMiB: Math.round(free / 2 ** 20) } : {}) };
}

async function viaPvbench(work: string, w: WorkloadConfig): Promise<Omit<Sample, 'arm' | 'sizeMb' | 'pair' | 'load'>> {
  const suite = join(work, 'suite.yaml');
  const out = join(work, 'out');
  await writeFile(
    suite,
    [
      'name: bare-vs-pvbench',
      `seed: ${SEED}`,
      'trials: 1',
      'tools:\n  - type: restic',
      'scenarios:\n  - name: no-fault\n    fault:\n      kind: none',
      `workload:\n  proxies: ${w.proxies}\n  accessLogLines: ${w.accessLogLines}`,
      `platform:\n  kind: local\n  workdir: ${join(work, 'pv')}`,
      '',
    ].join('\n'),
  );
  await timed(process.execPath, [join(root, 'src/cli/index.ts'), 'run', suite, '--output', out, '--baseline', 'none'], process.env);
  const r = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as { trials: { status: string; backup: { wallMs: number }; incremental: { wallMs: number }; restore: { wallMs: number; cpuSysMs: number; machine?: { memFreeBytes: number } } }[] };
  const t = r.trials[0]!;
  if (t.status !== 'passed') throw new Error(`the pvbench trial ${t.status}`);
  await rm(out, { recursive: true, force: true });
  await removeTree(join(work, 'pv'));
  const free = t.restore.machine?.memFreeBytes;
  return { backupMs: t.backup.wallMs, incrementalMs: t.incremental.wallMs, restoreMs: t.restore.wallMs, restoreSysMs: t.restore.cpuSysMs, ...(free !== undefined ? { restoreFreeMiB: Math.round(free / 2 ** 20) } : {}) };
}

/** Per size with samples: each arm's medians, their ratio, and its 95% bootstrap interval. */
function summarise(): Record<string, number>[] {
  return sizes
    .filter((mb) => samples.some((s) => s.sizeMb === mb))
    .map((mb) => {
      const row: Record<string, number> = { sizeMb: mb, bytes: seeded[mb]! };
      for (const k of ['backupMs', 'incrementalMs', 'restoreMs'] as const) {
        const arm = (a: Sample['arm']) => samples.filter((x) => x.sizeMb === mb && x.arm === a).map((x) => x[k]);
        row[`bare.${k}`] = median(arm('bare'));
        row[`pvbench.${k}`] = median(arm('pvbench'));
        row[`ratio.${k}`] = row[`pvbench.${k}`]! / row[`bare.${k}`]!;
        // How sure: the 95% bootstrap interval of the ratio of medians (pvbench's own rule, src/baseline/stats.ts).
        const [lo, hi] = bootstrapRatioCI(arm('pvbench'), arm('bare'), { confidence: 0.95, seed: 42 });
        row[`low.${k}`] = lo;
        row[`high.${k}`] = hi;
      }
      return row;
    });
}

const samples: Sample[] = [];
const seeded: Record<number, number> = {};
const work = await mkdtemp(join(values.dir, 'pvbench-bare-'));
const version = execFileSync('restic', ['version']).toString().trim();
const outPath = resolve(root, values.out);
async function save(): Promise<Record<string, number>[]> {
  const rows = summarise();
  await mkdir(dirname(outPath), { recursive: true });
  await writeFile(outPath, JSON.stringify({ measuredAt: new Date().toISOString(), cores: availableParallelism(), restic: version, dropCaches: values['drop-caches'], pairs: sizes.map((_, i) => pairsFor(i)), rows, samples }, null, 2) + '\n');
  return rows;
}

try {
  for (const [i, mb] of sizes.entries()) {
    const w = workloadFor(mb);
    const pairs = pairsFor(i);
    const golden = join(work, 'golden');
    const g = await seedWorkload(golden, w, SEED);
    seeded[mb] = g.bytes;
    await writeBack(golden);
    process.stderr.write(`${mb} MB: seeded ${g.bytes} bytes\n`);
    for (let pair = i === 0 ? 0 : 1; pair <= pairs; pair++) {
      // Pair 0 (at the first size) warms up both arms and is not recorded.
      const arms = (pair % 2 ? ['pvbench', 'bare'] : ['bare', 'pvbench']) as Sample['arm'][];
      for (const arm of arms) {
        if (values['drop-caches']) {
          await sync();
          await writeFile('/proc/sys/vm/drop_caches', '3');
        }
        const load = loadavg()[0]!;
        const s = arm === 'bare' ? await bare(work, golden, w, g.volumes) : await viaPvbench(work, w);
        if (pair > 0) {
          samples.push({ arm, sizeMb: mb, pair, load, ...s });
          await save();
        }
        process.stderr.write(`${mb} MB pair ${pair} ${arm}: backup ${s.backupMs.toFixed(0)} incremental ${s.incrementalMs.toFixed(0)} restore ${s.restoreMs.toFixed(0)} ms (load ${load.toFixed(1)}; before the restore ${s.restoreFreeMiB ?? '?'} MiB free${s.restoreSysMs !== undefined ? `; restic's system CPU ${s.restoreSysMs.toFixed(0)} ms` : ''})\n`);
      }
    }
    await removeTree(golden);
  }
} finally {
  await removeTree(work);
}
const rows = await save();

/** Within 3%: the whole interval inside ±3%; outside: the whole interval beyond it; else the pairs cannot tell. */
const within3 = (lo: number, hi: number) => (lo >= 0.97 && hi <= 1.03 ? 'within 3%' : lo > 1.03 || hi < 0.97 ? 'beyond 3%' : 'not shown');
const pct = (r: number) => `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(1)}%`;
const s1 = (ms: number) => (ms / 1000).toFixed(2);
process.stdout.write(
  [
    `restic (${version}), ${availableParallelism()} cores, ${sizes.map((mb, i) => `${pairsFor(i)} pairs at ${mb} MB`).join(', ')}, medians (s)`,
    '',
    '| Size | backup bare | pvbench | Δ | incremental bare | pvbench | Δ | restore bare | pvbench | Δ |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${(r.bytes! / 1e6).toFixed(0)} MB | ${['backupMs', 'incrementalMs', 'restoreMs'].map((k) => `${s1(r[`bare.${k}`]!)} | ${s1(r[`pvbench.${k}`]!)} | ${pct(r[`ratio.${k}`]!)}`).join(' | ')} |`),
    '',
    'pvbench / bare, ratio of medians with its 95% bootstrap interval',
    '',
    '| Size | backup | incremental | restore |',
    '| ---: | --- | --- | --- |',
    ...rows.map((r) => `| ${(r.bytes! / 1e6).toFixed(0)} MB | ${['backupMs', 'incrementalMs', 'restoreMs'].map((k) => `${pct(r[`ratio.${k}`]!)} [${pct(r[`low.${k}`]!)}, ${pct(r[`high.${k}`]!)}] ${within3(r[`low.${k}`]!, r[`high.${k}`]!)}`).join(' | ')} |`),
  ].join('\n') + '\n',
);
process.stderr.write(`wrote ${outPath}\n`);
