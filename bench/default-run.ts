// Times the main job: `pvbench run` on the embedded default suite (goal: at most 20 s on 2 cores, issue 11).
// Usage: node bench/default-run.ts [--runs 2] [--entry dist|src] [--compare DIR] [--without kopia] [--out FILE]
// --without: the named programs are hidden from the runs' PATH (each PATH folder holding one is replaced by a folder
// of links to everything else in it), so an optional tool of the default suite (kopia) is skipped as on a machine
// without it: with --compare in both checkouts' runs; alone, as a second arm (this checkout without them) interleaved
// with this checkout as it is. --out: where the figures go (default bench/results/default-run.json, relative to the repository).
// With the trials' process tally in results.json, it also splits the wall time: measured operations, other tool
// processes, pvbench's own work in trials, and outside trials.
// With --compare, the checkout in DIR runs the same command (from the same kind of entry) right after each run of
// this one, so both meet the same machine. Prints a Markdown table and writes --out.
// No assertions: figures to quote, not a test.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { timeSplit } from '../src/suite/results.ts';
import type { TrialResult } from '../src/suite/results.ts';
import { median } from '../src/baseline/stats.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '2' }, entry: { type: 'string', default: 'dist' }, compare: { type: 'string' }, without: { type: 'string', default: '' }, out: { type: 'string', default: 'bench/results/default-run.json' } } });
const hidden = values.without.split(',').filter(Boolean);
const entryOf = (dir: string) => (values.entry === 'src' ? join(dir, 'src/cli/index.ts') : join(dir, 'dist/cli/index.js'));
const runs = Number(values.runs);
/** The arms: this checkout, and either the --compare checkout or, with --without alone, this checkout without those tools. */
const checkouts: { label: string; dir: string; hide: boolean }[] = [
  { label: 'this', dir: root, hide: hidden.length > 0 && values.compare !== undefined },
  ...(values.compare ? [{ label: 'compare', dir: resolve(values.compare), hide: hidden.length > 0 }] : hidden.length ? [{ label: `without ${hidden.join(',')}`, dir: root, hide: true }] : []),
];

/** split: the run's wall time in the trials' processes (measured operations and the rest), pvbench's own work in trials, and outside trials. */
interface Split { measuredS: number; otherProcessesS: number; processes: number; ownInTrialsS: number; outsideTrialsS: number }
interface Row { checkout: string; run: number; wallS: number; exit: number | null; trials: number; passed: number; byTool: Record<string, number>; toolOpsByTool: Record<string, number>; split?: Split; load: number }

/** One `pvbench run` of the default suite from `dir`, in a fresh output directory, without a baseline. */
async function once(dir: string, out: string, env: NodeJS.ProcessEnv): Promise<{ wallS: number; exit: number | null }> {
  const t0 = performance.now();
  const exit = await new Promise<number | null>((res, rej) => {
    const child = spawn(process.execPath, [entryOf(dir), 'run', '--output', out, '--baseline', 'none'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`${dir}: run exceeded 600 s\n${err}`));
    }, 600_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0 && code !== 1) process.stderr.write(err);
      res(code);
    });
  });
  return { wallS: (performance.now() - t0) / 1000, exit };
}

const rows: Row[] = [];
const work = await mkdtemp(join(tmpdir(), 'pvbench-bench-'));

/** PATH with the hidden programs left out: every folder that holds one becomes a folder of links to the rest. */
async function pathWithout(names: string[]): Promise<string> {
  const dirs = (process.env.PATH ?? '').split(delimiter);
  const out: string[] = [];
  for (const [i, d] of dirs.entries()) {
    const entries = await readdir(d).catch(() => [] as string[]);
    if (!entries.some((e) => names.includes(e))) {
      out.push(d);
      continue;
    }
    const copy = join(work, `path-${i}`);
    await mkdir(copy);
    for (const e of entries) if (!names.includes(e)) await symlink(join(d, e), join(copy, e));
    out.push(copy);
  }
  return out.join(delimiter);
}

try {
  const hiddenEnv = hidden.length ? { ...process.env, PATH: await pathWithout(hidden) } : process.env;
  for (let i = 1; i <= runs; i++) {
    // Alternate which checkout goes first, so that neither always meets the other's leftovers.
    const order = i % 2 ? checkouts : [...checkouts].reverse();
    for (const c of order) {
      const out = join(work, `${c.label.replace(/\W+/g, '-')}-${i}`);
      const load = loadavg()[0]!;
      const { wallS, exit } = await once(c.dir, out, c.hide ? hiddenEnv : process.env);
      const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as { trials: TrialResult[] };
      const byTool: Record<string, number> = {};
      const toolOpsByTool: Record<string, number> = {};
      for (const t of results.trials) {
        byTool[t.tool] = (byTool[t.tool] ?? 0) + t.durationMs / 1000;
        const ops = (t.backup?.wallMs ?? 0) + (t.incremental?.wallMs ?? 0) + (t.restore?.wallMs ?? 0);
        toolOpsByTool[t.tool] = (toolOpsByTool[t.tool] ?? 0) + ops / 1000;
      }
      // Where the time went, from the trials' own tally of their processes (results.json `processes`; older
      // checkouts do not record it): the same split as the run's last log line.
      const t = timeSplit(results.trials);
      const split: Split | undefined =
        t && t.trials === results.trials.length
          ? { measuredS: t.measuredMs / 1000, otherProcessesS: (t.processMs - t.measuredMs) / 1000, processes: t.processes, ownInTrialsS: (t.durationMs - t.processMs) / 1000, outsideTrialsS: wallS - t.durationMs / 1000 }
          : undefined;
      rows.push({ checkout: c.label, run: i, wallS, exit, trials: results.trials.length, passed: results.trials.filter((t) => t.status === 'passed').length, byTool, toolOpsByTool, split, load });
      process.stderr.write(`${c.label} run ${i}: ${wallS.toFixed(1)} s\n`);
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

const tools = [...new Set(rows.flatMap((r) => Object.keys(r.byTool)))];
const f1 = (x: number | undefined) => (x ?? 0).toFixed(1);
const lines = [
  `Default suite, ${availableParallelism()} cores, entry ${values.entry}${values.compare ? `, compared with ${values.compare}` : ''}${hidden.length ? `, without ${hidden.join(', ')} on PATH` : ''}`,
  '',
  `| checkout | run | load | wall (s) | exit | passed | ${tools.map((t) => `${t} trials / measured ops (s)`).join(' | ')} |`,
  `|---|---:|---:|---:|---:|---:|${tools.map(() => '---:').join('|')}|`,
  ...rows.map((r) => `| ${r.checkout} | ${r.run} | ${r.load.toFixed(1)} | ${f1(r.wallS)} | ${r.exit} | ${r.passed}/${r.trials} | ${tools.map((t) => `${f1(r.byTool[t])} / ${f1(r.toolOpsByTool[t])}`).join(' | ')} |`),
  '',
  ...checkouts.map((c) => `median wall, ${c.label}: ${f1(median(rows.filter((r) => r.checkout === c.label).map((r) => r.wallS)))} s`),
  '',
  'Where the wall time went (s): the measured backups and restores, the other tool processes of the trials (init, checks, repairs, listings, the outage writer), pvbench\'s own work inside trials (seeding, manifests, verifying, faultfs mounts, fixed waits), and outside trials (start, probes, each trial\'s clean-up and results write, comparison, report, exit)',
  '',
  '| checkout | run | wall | measured ops | other processes (count) | pvbench in trials | outside trials |',
  '|---|---:|---:|---:|---:|---:|---:|',
  ...rows.filter((r) => r.split).map((r) => `| ${r.checkout} | ${r.run} | ${f1(r.wallS)} | ${f1(r.split!.measuredS)} | ${f1(r.split!.otherProcessesS)} (${r.split!.processes}) | ${f1(r.split!.ownInTrialsS)} | ${f1(r.split!.outsideTrialsS)} |`),
];
process.stdout.write(lines.join('\n') + '\n');
const outPath = resolve(root, values.out);
await mkdir(dirname(outPath), { recursive: true });
await writeFile(
  outPath,
  JSON.stringify({ measuredAt: new Date().toISOString(), cores: availableParallelism(), entry: values.entry, compare: values.compare, ...(hidden.length ? { without: hidden } : {}), medianWallS: Object.fromEntries(checkouts.map((c) => [c.label, median(rows.filter((r) => r.checkout === c.label).map((r) => r.wallS))])), rows }, null, 2) + '\n',
);
