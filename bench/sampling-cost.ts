// What pvbench's /proc sampling of a measured operation costs the operation (issue 11, bare vs pvbench): the same
// restic backup of the same data, started with a plain spawn (timed from spawn to exit), and through runMeasured
// (src/metrics/process.ts: the process tree sampled every 20 ms, pvbench's default, and every 1,000 ms), the order
// rotating from round to round. Each backup goes into a fresh copy of one repository (key with pvbench's fixed
// scrypt parameters); dirty pages are written back (sync) before each.
// Usage: node bench/sampling-cost.ts [--mb 500] [--rounds 5]
// Prints a Markdown table and writes bench/results/sampling-cost.json. No assertions: figures to quote, not a test.
import { spawn, execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { workloadSchema } from '../src/config/schema.ts';
import { seedWorkload } from '../src/workloads/mesh-proxy.ts';
import { copyTree, removeTree, writeBack } from '../src/platform/local/fsutil.ts';
import { runMeasured } from '../src/metrics/run.ts';
import { FIXED_SCRYPT, rewriteRepositoryKey } from '../src/tools/restic-key.ts';
import { toolEnv } from '../src/tools/tool-env.ts';
import { median } from '../src/baseline/stats.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { mb: { type: 'string', default: '500' }, rounds: { type: 'string', default: '5' } } });
const rounds = Number(values.rounds);
const lines = Math.round((Number(values.mb) * 1e6) / 4 / 213);

function plain(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.resume();
    child.stderr.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_600_000);
    child.on('error', rej);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) res(performance.now() - t0);
      else rej(new Error(`${cmd} exited ${code}`));
    });
  });
}

type Arm = 'plain spawn' | 'runMeasured 20 ms' | 'runMeasured 1000 ms';
const ARMS: Arm[] = ['plain spawn', 'runMeasured 20 ms', 'runMeasured 1000 ms'];
const samples: { arm: Arm; round: number; wallMs: number; cpuMs?: number; load: number }[] = [];
const work = await mkdtemp(join(tmpdir(), 'pvbench-sampling-'));
const version = execFileSync('restic', ['version']).toString().trim();
try {
  const data = join(work, 'data');
  const seeded = await seedWorkload(data, workloadSchema.parse({ proxies: 4, accessLogLines: lines }), 42);
  await writeBack(data);
  const password = randomBytes(24).toString('hex');
  const template = join(work, 'template');
  const env = (repo: string) => toolEnv('RESTIC_', { RESTIC_REPOSITORY: repo, RESTIC_PASSWORD: password, RESTIC_PROGRESS_FPS: '0.1' }).env;
  await plain('restic', ['init', '--no-cache'], env(template));
  await rewriteRepositoryKey(template, password, FIXED_SCRYPT);
  process.stderr.write(`${seeded.bytes} bytes seeded\n`);
  for (let round = 0; round <= rounds; round++) {
    const order = ARMS.map((_, i) => ARMS[(i + round) % ARMS.length]!);
    for (const arm of order) {
      const repo = join(work, 'repo');
      await removeTree(repo);
      await copyTree(template, repo);
      await writeBack(repo);
      await plain('sync', [], process.env);
      const args = ['backup', '--no-cache', '--json', '--host', 'pvbench', data];
      const load = loadavg()[0]!;
      let wallMs: number;
      let cpuMs: number | undefined;
      if (arm === 'plain spawn') wallMs = await plain('restic', args, env(repo));
      else {
        const r = await runMeasured('restic', args, { env: env(repo), timeoutMs: 3_600_000, intervalMs: arm === 'runMeasured 20 ms' ? undefined : 1000 });
        if (r.exitCode !== 0) throw new Error(`restic backup exited ${r.exitCode}: ${r.stderr.slice(-300)}`);
        wallMs = r.usage.wallMs;
        cpuMs = r.usage.cpuUserMs + r.usage.cpuSysMs;
      }
      if (round > 0) samples.push({ arm, round, wallMs, cpuMs, load });
      process.stderr.write(`round ${round} ${arm}: ${(wallMs / 1000).toFixed(2)} s (load ${load.toFixed(1)})\n`);
    }
  }
} finally {
  await removeTree(work);
}
const base = median(samples.filter((s) => s.arm === 'plain spawn').map((s) => s.wallMs));
const rows = ARMS.map((arm) => {
  const of = samples.filter((s) => s.arm === arm);
  const wall = median(of.map((s) => s.wallMs));
  const cpu = of[0]?.cpuMs === undefined ? undefined : median(of.map((s) => s.cpuMs!));
  return { arm, wallMs: wall, vsPlain: wall / base, cpuMs: cpu };
});
process.stdout.write(
  [`restic backup of ${values.mb} MB (${version}), ${availableParallelism()} cores, ${rounds} rounds, medians`, '', '| How it was started | wall | vs plain | restic CPU |', '| --- | ---: | ---: | ---: |', ...rows.map((r) => `| ${r.arm} | ${(r.wallMs / 1000).toFixed(2)} s | ${((r.vsPlain - 1) * 100).toFixed(1)}% | ${r.cpuMs === undefined ? '–' : `${(r.cpuMs / 1000).toFixed(2)} s`} |`)].join('\n') + '\n',
);
await mkdir(join(root, 'bench/results'), { recursive: true });
await writeFile(join(root, 'bench/results/sampling-cost.json'), JSON.stringify({ measuredAt: new Date().toISOString(), cores: availableParallelism(), restic: version, mb: Number(values.mb), rounds, rows, samples }, null, 2) + '\n');
