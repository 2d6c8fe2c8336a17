// Times the main job: `pvbench run` on the embedded default suite (goal: under 60 s on 2 cores).
// Usage: node bench/default-run.ts [--runs 2] [--entry dist|src]
// Prints a Markdown table and writes bench/results/default-run.json. No assertions: figures to quote, not a test.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '2' }, entry: { type: 'string', default: 'dist' } } });
const entry = values.entry === 'src' ? join(root, 'src/cli/index.ts') : join(root, 'dist/cli/index.js');
const runs = Number(values.runs);

interface Trial { tool: string; scenario: string; status: string; durationMs: number }

const rows: { run: number; wallS: number; exit: number | null; trials: number; byTool: Record<string, number> }[] = [];
const work = await mkdtemp(join(tmpdir(), 'pvbench-bench-'));
try {
  for (let i = 1; i <= runs; i++) {
    const out = join(work, `out-${i}`);
    const t0 = performance.now();
    const exit = await new Promise<number | null>((res, rej) => {
      const child = spawn(process.execPath, [entry, 'run', '--output', out, '--baseline', 'none'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        rej(new Error(`run ${i} exceeded 600 s\n${err}`));
      }, 600_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        if (code !== 0 && code !== 1) process.stderr.write(err);
        res(code);
      });
    });
    const wallS = (performance.now() - t0) / 1000;
    const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as { trials: Trial[] };
    const byTool: Record<string, number> = {};
    for (const t of results.trials) byTool[t.tool] = (byTool[t.tool] ?? 0) + t.durationMs / 1000;
    rows.push({ run: i, wallS, exit, trials: results.trials.length, byTool });
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

const tools = [...new Set(rows.flatMap((r) => Object.keys(r.byTool)))];
const lines = [
  `Default suite, ${availableParallelism()} cores, entry ${values.entry}`,
  '',
  `| run | wall (s) | exit | trials | ${tools.map((t) => `${t} trials (s)`).join(' | ')} |`,
  `|---:|---:|---:|---:|${tools.map(() => '---:').join('|')}|`,
  ...rows.map((r) => `| ${r.run} | ${r.wallS.toFixed(1)} | ${r.exit} | ${r.trials} | ${tools.map((t) => (r.byTool[t] ?? 0).toFixed(1)).join(' | ')} |`),
];
process.stdout.write(lines.join('\n') + '\n');
await mkdir(join(root, 'bench/results'), { recursive: true });
await writeFile(join(root, 'bench/results/default-run.json'), JSON.stringify({ measuredAt: new Date().toISOString(), cores: availableParallelism(), entry: values.entry, rows }, null, 2) + '\n');
