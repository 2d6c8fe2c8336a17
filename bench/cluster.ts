// Times the local cluster (scripts/cluster/): start (up.sh) and stop (down.sh), warm (binaries and images cached),
// and with --cold also the whole build from empty caches (a fresh Go module cache, Go build cache and component cache
// in a temporary folder, so the machine's own caches are left alone).
// Usage: node bench/cluster.ts [--runs 3] [--cold] [--compare-down PATH]
// --compare-down: another down.sh (e.g. of an older checkout: git worktree add ../base REV, then
// ../base/scripts/cluster/down.sh) stops the cluster too: each run starts it twice, once stopped by each down.sh,
// the order alternating, so both meet the same machine.
// Needs root. Prints a Markdown table and writes bench/results/cluster.json. No assertions: figures to quote.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, cold: { type: 'boolean', default: false }, 'compare-down': { type: 'string' } } });
const runs = Number(values.runs);

/** Runs a script of scripts/cluster/ (or one at an absolute path) and returns its wall time; stderr's last lines go with a failure. */
function timed(script: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ seconds: number; stderr: string }> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const child = spawn('bash', [resolve(root, 'scripts', 'cluster', script)], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const built: string[] = [];
    child.stderr.on('data', (d: Buffer) => {
      const text = d.toString();
      // Every component's "built in" line is kept (a cold build's output is far longer than the tail kept).
      for (const line of text.split('\n')) if (/ built in \d+ s/.test(line)) built.push(line);
      err = (err + text).slice(-20_000);
    });
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      rej(new Error(`${script} exceeded ${timeoutMs / 1000} s\n${err.slice(-3000)}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) rej(new Error(`${script} exited ${code}\n${err.slice(-3000)}`));
      else res({ seconds: (performance.now() - t0) / 1000, stderr: [...built, err].join('\n') });
    });
  });
}

const rows: { what: string; seconds: number }[] = [];
let coldDetail: string[] = [];
if (values.cold) {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-cold-'));
  try {
    const env = { ...process.env, PVBENCH_CLUSTER_CACHE: join(dir, 'cache'), GOMODCACHE: join(dir, 'gomod'), GOCACHE: join(dir, 'gobuild') };
    const build = await timed('build.sh', env, 5400_000);
    rows.push({ what: 'cold build (every component, empty module and build caches)', seconds: build.seconds });
    coldDetail = build.stderr.split('\n').filter((l) => / built in \d+ s/.test(l)).map((l) => l.replace(/^\[cluster\] /, ''));
    const images = await timed('images.sh', env, 1800_000);
    rows.push({ what: 'cold images (debootstrap, Node 24 from npm, buildah)', seconds: images.seconds });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
const downs = [{ label: 'down.sh', path: 'down.sh' }, ...(values['compare-down'] ? [{ label: `${values['compare-down']}`, path: resolve(values['compare-down']) }] : [])];
for (let i = 1; i <= runs; i++) {
  for (const d of i % 2 ? downs : [...downs].reverse()) {
    const up = await timed('up.sh', process.env, 900_000);
    rows.push({ what: `warm start #${i} (up.sh: certificates to ready add-ons)`, seconds: up.seconds });
    const down = await timed(d.path, process.env, 300_000);
    rows.push({ what: `stop #${i} (${d.label})`, seconds: down.seconds });
  }
}

const table = ['| what | seconds |', '|---|---:|', ...rows.map((r) => `| ${r.what} | ${r.seconds.toFixed(1)} |`)].join('\n');
process.stdout.write(`${table}\n${coldDetail.length ? `\ncold build by component: ${coldDetail.join('; ')}\n` : ''}`);
await mkdir(join(root, 'bench', 'results'), { recursive: true });
await writeFile(
  join(root, 'bench', 'results', values.cold ? 'cluster-cold.json' : 'cluster.json'),
  `${JSON.stringify({ date: new Date().toISOString(), cpus: availableParallelism(), rows, coldDetail }, null, 2)}\n`,
);
