// What restic's key derivation costs pvbench's figures (issue 11): the same restic backup and restore of the same
// data, with the key as `restic init` calibrated it and with pvbench's fixed scrypt parameters, interleaved in one
// process (calibrated, fixed, then fixed, calibrated, and so on: the order alternates so that neither always runs
// second, on the caches the other warmed) so machine drift hits both alike. One unrecorded warm-up pair first.
// Usage: node bench/restic-kdf.ts [--runs 7] [--restic /path/to/restic] [--out bench/results/restic-kdf.json]
// Prints a Markdown table and writes the figures to --out. No assertions: figures to quote, not a test.
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { workloadSchema } from '../src/config/schema.ts';
import { runMeasured } from '../src/metrics/run.ts';
import { seedWorkload } from '../src/workloads/mesh-proxy.ts';
import { FIXED_SCRYPT, measureKeyDerivation, openKeyFile, readRepositoryKey, rewriteRepositoryKey } from '../src/tools/restic-key.ts';
import type { ScryptParams } from '../src/tools/restic-key.ts';
import { toolEnv } from '../src/tools/tool-env.ts';
import { median } from '../src/baseline/stats.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' }, restic: { type: 'string', default: 'restic' }, out: { type: 'string', default: 'bench/results/restic-kdf.json' } } });
const runs = Number(values.runs);
const restic = values.restic;
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs ${values.runs}: give a whole number of runs, at least 1 (5 or more for medians worth quoting)`);
const version = execFileSync(restic, ['version']).toString().trim();

type Mode = 'calibrated' | 'fixed';
interface Sample {
  iteration: number;
  mode: Mode;
  backupWallMs: number;
  backupCpuMs: number;
  restoreWallMs: number;
  restoreCpuMs: number;
}


const work = await mkdtemp(join(tmpdir(), 'pvbench-restic-kdf-'));
const password = randomBytes(24).toString('hex');
const env = (repo: string) => toolEnv('RESTIC_', { RESTIC_REPOSITORY: repo, RESTIC_PASSWORD: password }).env;

async function run(repo: string, args: string[]) {
  const res = await runMeasured(restic, ['--no-cache', ...args], { env: env(repo), timeoutMs: 300_000 });
  if (res.exitCode !== 0) throw new Error(`restic ${args[0]} exited ${res.exitCode}: ${res.stderr.slice(-500)}`);
  return res;
}

const samples: Sample[] = [];
const templates: Record<Mode, { dir: string; params: ScryptParams }> = {} as never;
const derivation: Record<Mode, number[]> = { calibrated: [], fixed: [] };
let dataBytes = 0;
try {
  // The default suite's workload (4 proxies, about 12 MB), seeded as pvbench seeds it.
  const data = join(work, 'data');
  dataBytes = (await seedWorkload(data, workloadSchema.parse({}), 42)).bytes;
  for (const mode of ['calibrated', 'fixed'] as const) {
    const dir = join(work, `template-${mode}`);
    await run(dir, ['init']);
    if (mode === 'fixed') await rewriteRepositoryKey(dir, password, FIXED_SCRYPT);
    const key = await readRepositoryKey(dir);
    const { params } = await openKeyFile(key.text, password, key.name);
    templates[mode] = { dir, params };
  }
  for (let i = 0; i <= runs; i++) {
    for (const mode of i % 2 ? (['calibrated', 'fixed'] as const) : (['fixed', 'calibrated'] as const)) {
      const repo = join(work, `repo-${mode}-${i}`);
      const target = join(work, `restore-${mode}-${i}`);
      await cp(templates[mode].dir, repo, { recursive: true });
      const backup = await run(repo, ['backup', '--json', '--host', 'pvbench', data]);
      const summary = backup.stdout.split('\n').filter((l) => l.includes('"summary"')).pop();
      const id = (JSON.parse(summary ?? '{}') as { snapshot_id?: string }).snapshot_id;
      if (!id) throw new Error('restic backup printed no snapshot id');
      await mkdir(target);
      const restore = await run(repo, ['restore', id, '--target', target]);
      if (i === 0) {
        await rm(repo, { recursive: true, force: true });
        await rm(target, { recursive: true, force: true });
        continue; // the warm-up
      }
      samples.push({
        iteration: i,
        mode,
        backupWallMs: backup.usage.wallMs,
        backupCpuMs: backup.usage.cpuUserMs + backup.usage.cpuSysMs,
        restoreWallMs: restore.usage.wallMs,
        restoreCpuMs: restore.usage.cpuUserMs + restore.usage.cpuSysMs,
      });
      derivation[mode].push(await measureKeyDerivation(templates[mode].params));
      await rm(repo, { recursive: true, force: true });
      await rm(target, { recursive: true, force: true });
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

const modes = ['calibrated', 'fixed'] as const;
const summary = Object.fromEntries(
  modes.map((mode) => {
    const s = samples.filter((x) => x.mode === mode);
    return [
      mode,
      {
        params: templates[mode].params,
        n: s.length,
        keyDerivationMs: median(derivation[mode]),
        backupWallMs: median(s.map((x) => x.backupWallMs)),
        backupCpuMs: median(s.map((x) => x.backupCpuMs)),
        restoreWallMs: median(s.map((x) => x.restoreWallMs)),
        restoreCpuMs: median(s.map((x) => x.restoreCpuMs)),
      },
    ];
  }),
) as Record<Mode, { params: ScryptParams; n: number; keyDerivationMs: number; backupWallMs: number; backupCpuMs: number; restoreWallMs: number; restoreCpuMs: number }>;

const ms = (v: number) => `${Math.round(v)}`;
const lines = [
  `${version}; ${(dataBytes / 1e6).toFixed(1)} MB of mesh-proxy data; ${runs} runs per mode, interleaved (order alternating); ${availableParallelism()} cores; load average at the end ${loadavg()[0]!.toFixed(2)}`,
  '',
  '| key | scrypt | one derivation, node (ms) | backup wall (ms) | backup CPU (ms) | restore wall (ms) | restore CPU (ms) |',
  '|---|---|---:|---:|---:|---:|---:|',
  ...modes.map((m) => {
    const s = summary[m];
    return `| ${m} | N=${s.params.N},r=${s.params.r},p=${s.params.p} | ${ms(s.keyDerivationMs)} | ${ms(s.backupWallMs)} | ${ms(s.backupCpuMs)} | ${ms(s.restoreWallMs)} | ${ms(s.restoreCpuMs)} |`;
  }),
  '',
  'Medians. Wall and CPU are those of the restic process tree, measured as pvbench measures a phase.',
];
process.stdout.write(lines.join('\n') + '\n');
const out = resolve(root, values.out);
await mkdir(dirname(out), { recursive: true });
await writeFile(
  out,
  JSON.stringify(
    {
      measuredAt: new Date().toISOString(),
      restic: version,
      cores: availableParallelism(),
      cpu: cpus()[0]?.model,
      node: process.version,
      loadAverageAtEnd: loadavg(),
      dataBytes,
      runs,
      order: 'a warm-up pair, then runs alternating: odd runs calibrated first, even runs fixed first',
      summary,
      samples,
      keyDerivationMs: derivation,
    },
    null,
    2,
  ) + '\n',
);
