// The pipeline in-process (the CLI tests run it as a child process, out of the mutation tests' sight): the overrides
// and their errors, the baseline and the template a suite names, the findings of an analysis, and runPipeline on a
// fake platform (test/helpers/fake.ts): what it checks before the first trial, what it logs, and what joins the history.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, defaultSuite } from '../../src/config/load.ts';
import type { ConfigProblem } from '../../src/config/load.ts';
import { suiteSchema } from '../../src/config/schema.ts';
import type { Suite } from '../../src/config/schema.ts';
import { loadBaselineFile, loadHistory, saveToHistory } from '../../src/baseline/store.ts';
import { analyse, formatRatio, loadBaseline, readTemplate, resolveSuite, runPipeline, suiteMarker } from '../../src/suite/pipeline.ts';
import type { Finding, Logger, PipelineOptions } from '../../src/suite/pipeline.ts';
import type { ResultsFile } from '../../src/suite/results.ts';
import { results as resultsOf, timed, trial } from '../report/fixtures.ts';
import { FakePlatform, OK_INTEGRITY } from '../helpers/fake.ts';

const removeTree = rm;
const WORKLOAD = '{ proxies: 1, accessLogLines: 5, statsSnapshots: 1, clusters: 1 }';
const SUITE = `name: units
trials: 1
workload: ${WORKLOAD}
tools:
  - type: copy
scenarios:
  - name: no-fault
    incremental: false
compare:
  baseline: { source: none }
`;

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-pipeline-'));
  t.after(() => removeTree(dir, { recursive: true, force: true }));
  return dir;
}

async function suiteFile(t: TestContext, text: string): Promise<{ dir: string; file: string }> {
  const dir = await tempDir(t);
  const file = join(dir, 'suite.yaml');
  await writeFile(file, text);
  return { dir, file };
}

async function problems(p: Promise<unknown>): Promise<ConfigProblem[]> {
  const err = await p.then(
    () => assert.fail('expected a ConfigError'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
  return err.problems;
}

const over = (key: string, message: string, fix: string): ConfigProblem[] => [{ file: '(overrides)', line: 0, column: 0, key, message, fix }];

test('suiteMarker names the suite in an HTML comment', () => {
  assert.equal(suiteMarker('nightly'), '<!-- pvbench:suite=nightly -->');
});

test('resolveSuite without overrides: the embedded default suite as it is', async () => {
  assert.deepStrictEqual(await resolveSuite(undefined), defaultSuite());
  assert.deepStrictEqual(await resolveSuite(undefined, {}), defaultSuite());
});

test('resolveSuite applies each override and leaves the rest as the suite has it', async () => {
  const s = await resolveSuite(undefined, { trials: 7, threshold: 0.3, failOnRegression: false, outputDir: 'out', templateFile: 't.hbs', title: 'Nightly', baseline: 'old/results.json' });
  const expected = defaultSuite();
  expected.trials = 7;
  expected.compare.threshold = 0.3;
  expected.compare.failOnRegression = false;
  expected.output.dir = 'out';
  expected.report.template = 't.hbs';
  expected.report.title = 'Nightly';
  expected.compare.baseline = { source: 'file', maxRuns: 5, path: 'old/results.json' };
  assert.deepStrictEqual(s, expected);
  assert.deepStrictEqual((await resolveSuite(undefined, { baseline: 'none' })).compare.baseline, { source: 'none', maxRuns: 5 });
  assert.equal((await resolveSuite(undefined, { failOnRegression: true })).compare.failOnRegression, true);
  // The bounds are allowed.
  for (const trials of [1, 100]) assert.equal((await resolveSuite(undefined, { trials })).trials, trials);
  for (const threshold of [0, 10]) assert.equal((await resolveSuite(undefined, { threshold })).compare.threshold, threshold);
});

test('resolveSuite refuses trials and thresholds out of range, naming the override', async () => {
  for (const trials of [0, 101, 2.5, Number.NaN]) {
    assert.deepStrictEqual(await problems(resolveSuite(undefined, { trials })), over('trials', `${trials} is not a whole number from 1 to 100`, 'pass e.g. --trials 3'));
  }
  for (const threshold of [-0.01, 10.5, Number.NaN]) {
    assert.deepStrictEqual(await problems(resolveSuite(undefined, { threshold })), over('threshold', `${threshold} is not a fraction from 0 to 10`, 'pass e.g. --threshold 0.1 for 10%'));
  }
});

test('resolveSuite --platform: the same kind changes nothing; kubernetes needs the suite file; local replaces a cluster, unless a node outage needs it', async (t) => {
  const { file } = await suiteFile(t, `${SUITE}platform: { kind: local, timeoutSeconds: 60, cache: cold }\n`);
  assert.deepStrictEqual((await resolveSuite(file, { platform: 'local' })).platform, { kind: 'local', keep: false, timeoutSeconds: 60, cache: 'cold' });
  assert.deepStrictEqual(await problems(resolveSuite(file, { platform: 'kubernetes' })), over('platform', 'the kubernetes platform needs its cluster settings', `set platform.kind: kubernetes with a cluster block in the suite file (${file})`));
  assert.deepStrictEqual(await problems(resolveSuite(undefined, { platform: 'kubernetes' })), over('platform', 'the kubernetes platform needs its cluster settings', 'set platform.kind: kubernetes with a cluster block in the suite file ((embedded default))'));

  const cluster = `${SUITE}platform: { kind: kubernetes, cluster: { mode: kind } }\n`;
  const k = await suiteFile(t, cluster);
  assert.deepStrictEqual((await resolveSuite(k.file, { platform: 'local' })).platform, { kind: 'local', keep: false, timeoutSeconds: 3600, cache: 'warm' });
  assert.equal((await resolveSuite(k.file, { platform: 'kubernetes' })).platform.kind, 'kubernetes');
  const node = await suiteFile(t, cluster.replace('  - name: no-fault\n    incremental: false\n', '  - name: no-fault\n    incremental: false\n  - name: node-down\n    fault: { kind: outage, scope: node }\n'));
  assert.deepStrictEqual(
    await problems(resolveSuite(node.file, { platform: 'local' })),
    over(
      'platform',
      `platform=local (--platform, or the action's platform input) runs ${node.file} locally, but scenarios[1].fault.scope is "node": a node outage needs a kind cluster`,
      `drop the platform override, or set scenarios[1].fault.scope: workload in ${node.file}`,
    ),
  );
});

test('resolveSuite refuses tools or scenarios of the same name', async (t) => {
  const { file } = await suiteFile(t, SUITE.replace('  - type: copy\n', '  - type: copy\n  - type: copy\n').replace('  - name: no-fault\n    incremental: false\n', '  - name: a\n  - name: a\n'));
  const fix = 'give each a unique name (tools: the name key)';
  assert.deepStrictEqual(await problems(resolveSuite(file)), [
    { file, line: 0, column: 0, key: 'tools', message: 'tool name "copy" is used 2 times', fix },
    { file, line: 0, column: 0, key: 'scenarios', message: 'scenario name "a" is used 2 times', fix },
  ]);
});

test('loadBaseline: none, a file (its path resolved), or the history under the output directory', async (t) => {
  const dir = await tempDir(t);
  const suite = (baseline: Record<string, unknown>): Suite => suiteSchema.parse({ name: 'units', compare: { baseline } });
  assert.deepStrictEqual(await loadBaseline(suite({ source: 'none' }), dir), {
    runs: [],
    source: 'none',
    notice: 'no baseline: compare.baseline.source is "none" (or --baseline none, or the action\'s baseline: none), so nothing is compared',
  });
  assert.deepStrictEqual(await loadBaseline(suite({ source: 'file' }), dir), { runs: [], source: 'file', notice: 'compare.baseline.source is "file" but compare.baseline.path is not set' });
  const fromFile = await loadBaseline(suite({ source: 'file', path: 'no-such/results.json' }), dir);
  assert.deepStrictEqual(fromFile, await loadBaselineFile(resolve('no-such/results.json'), 'units'));
  assert.match(fromFile.source, new RegExp(`^file \\(${resolve('no-such/results.json')}\\)$`));
  // Two complete runs in the history; maxRuns 1 takes the newest.
  for (const [id, startedAt] of [
    ['run000000001', '2026-01-01T00:00:00.000Z'],
    ['run000000002', '2026-01-02T00:00:00.000Z'],
  ] as const) {
    await saveToHistory(join(dir, 'history'), resultsOf({ suite: 'units', id, startedAt, trials: [trial({ tool: 'copy' })] }));
  }
  const history = await loadBaseline(suite({ source: 'history', maxRuns: 1 }), dir);
  assert.deepStrictEqual(history, await loadHistory(join(dir, 'history'), { suiteName: 'units', maxRuns: 1 }));
  assert.deepStrictEqual(history.runs.map((r) => r.run.id), ['run000000002']);
  assert.equal(history.source, `history (${join(dir, 'history', 'units')})`);
});

test('readTemplate: none, one that compiles (its text), one that cannot be read', async (t) => {
  const dir = await tempDir(t);
  const suite = (template?: string) => suiteSchema.parse({ report: { template } });
  assert.equal(await readTemplate(suite()), undefined);
  await writeFile(join(dir, 'ok.hbs'), '# {{title}}\n');
  assert.equal(await readTemplate(suite(join(dir, 'ok.hbs'))), '# {{title}}\n');
  const missing = join(dir, 'missing.hbs');
  assert.deepStrictEqual(await problems(readTemplate(suite(missing))), [
    { file: missing, line: 0, column: 0, key: 'report.template', message: 'cannot read the template (ENOENT)', fix: 'point report.template (or --template) at a Handlebars file that compiles, e.g. a copy of templates/report.md.hbs' },
  ]);
});

test('formatRatio: a signed whole percentage, "changed" without a ratio', () => {
  assert.deepStrictEqual([1.5, 1.004, 1, 0.996, 0.75, 2.345, undefined].map(formatRatio), ['+50%', '+0%', '+0%', '+0%', '-25%', '+135%', 'changed']);
});

function suiteFor(over: Record<string, unknown> = {}): Suite {
  return suiteSchema.parse({ name: 'units', tools: [{ type: 'copy' }], scenarios: [{ name: 'no-fault' }], ...over });
}

test('analyse: a clean run has no findings; the report carries the title and marker (the suite\'s by default)', async () => {
  const run = resultsOf({ suite: 'units', trials: timed('copy', 'no-fault', [1000, 1010, 990]) });
  const a = await analyse(run, { runs: [], source: 'none' }, suiteFor());
  assert.deepStrictEqual(a.findings, []);
  assert.ok(a.report.startsWith('<!-- pvbench:suite=units -->\n'), a.report.slice(0, 80));
  assert.match(a.report, /^# pvbench: units$/m);
  const b = await analyse(run, { runs: [], source: 'none' }, suiteFor({ report: { title: 'Nightly' } }), '<!-- mine -->');
  assert.ok(b.report.startsWith('<!-- mine -->\n'), b.report.slice(0, 80));
  assert.match(b.report, /^# Nightly$/m);
  assert.doesNotMatch(b.report, /pvbench: units/);
});

test('analyse: a regression is a finding, an error when the suite fails on regressions and a warning when not', async () => {
  // Backup time with a spread (a p-value), the repository size without one (every trial the same size).
  const baseline = { runs: [1, 2, 3].map(() => resultsOf({ suite: 'units', trials: timed('copy', 'no-fault', [1000, 1005, 995], { repoBytes: 100_000_000 }) })), source: 'test' };
  const run = resultsOf({ suite: 'units', trials: timed('copy', 'no-fault', [2000, 2010, 1990], { repoBytes: 150_000_000 }) });
  for (const failOnRegression of [true, false]) {
    const a = await analyse(run, baseline, suiteFor({ compare: { failOnRegression, metrics: ['backup.wallMs', 'repository.sizeBytes'] } }));
    const level = failOnRegression ? 'error' : 'warning';
    assert.deepStrictEqual(a.findings, [
      { level, title: 'pvbench regression: copy / no-fault', message: 'Backup time +100% vs baseline (p=0.014)' },
      { level, title: 'pvbench regression: copy / no-fault', message: 'Repository size +50% vs baseline' },
    ] satisfies Finding[]);
  }
});

test('analyse: failed, errored and not-injected trials are findings, with their own error or a default', async () => {
  const fault = { kind: 'crash' as const, injected: false, description: 'missed', details: {} };
  const trials = [
    trial({ tool: 'copy', status: 'failed', trial: 1, error: 'integrity loss after restore: 1 missing' }),
    { ...trial({ tool: 'copy', status: 'failed', trial: 2 }), error: undefined },
    trial({ tool: 'copy', status: 'error', trial: 3, error: 'copy exited 1' }),
    { ...trial({ tool: 'copy', status: 'error', trial: 4 }), error: undefined },
    trial({ tool: 'copy', scenario: 'crash-backup', status: 'not-injected', trial: 1, fault, error: 'the crash fault was not injected' }),
    trial({ tool: 'copy', scenario: 'crash-backup', status: 'not-injected', trial: 2, fault }),
    trial({ tool: 'copy', trial: 5 }),
  ];
  for (const failOnNotInjected of [false, true]) {
    const a = await analyse(resultsOf({ suite: 'units', trials }), { runs: [], source: 'none' }, suiteFor({ compare: { failOnNotInjected } }));
    const ni = failOnNotInjected ? 'error' : 'warning';
    assert.deepStrictEqual(a.findings, [
      { level: 'error', title: 'pvbench integrity: copy / no-fault #1', message: 'integrity loss after restore: 1 missing' },
      { level: 'error', title: 'pvbench integrity: copy / no-fault #2', message: 'integrity loss after restore' },
      { level: 'error', title: 'pvbench error: copy / no-fault #3', message: 'copy exited 1' },
      { level: 'error', title: 'pvbench error: copy / no-fault #4', message: 'the trial did not complete' },
      { level: ni, title: 'pvbench fault not injected: copy / crash-backup #1', message: 'the crash fault was not injected' },
      { level: ni, title: 'pvbench fault not injected: copy / crash-backup #2', message: 'the crash fault did not land' },
    ] satisfies Finding[]);
  }
});

test('analyse: an in-run A/B names b worse (an error only when the A/B fails the run) and b better (a notice)', async () => {
  // b takes twice as long to back up, and restores in half the time.
  const a = timed('a', 'no-fault', [1000, 1010, 990, 1005, 995]);
  const b = [1000, 1010, 990, 1005, 995].map((ms, i) => trial({ tool: 'b', trial: i + 1, backupMs: ms * 2, restoreMs: ms / 4 }));
  for (const failOnRegression of [false, true]) {
    const run = resultsOf({ suite: 'units', trials: [...a, ...b] });
    run.suite.ab = { a: 'a', b: 'b', threshold: 0.05, failOnRegression };
    const suite = suiteFor({ tools: [{ type: 'copy', name: 'a' }, { type: 'copy', name: 'b' }], ab: { a: 'a', b: 'b', failOnRegression }, compare: { metrics: ['backup.wallMs', 'restore.wallMs'], baseline: { source: 'none' } } });
    const { findings, comparison } = await analyse(run, { runs: [], source: 'none' }, suite);
    assert.deepStrictEqual(findings, [
      ...comparison.ab!.worse.map((message) => ({ level: failOnRegression ? 'error' : 'warning', title: 'pvbench A/B: b worse than a', message })),
      ...comparison.ab!.better.map((message) => ({ level: 'notice', title: 'pvbench A/B: b better than a', message })),
    ]);
    assert.deepStrictEqual([comparison.ab!.worse.length, comparison.ab!.better.length], [1, 1]);
    assert.match(comparison.ab!.worse[0]!, /Backup time/);
    assert.match(comparison.ab!.better[0]!, /Restore time/);
  }
});

// ---------------------------------------------------------------------------------------------------------------
// runPipeline on the fake platform

interface Recorded {
  log: Logger;
  lines: string[];
}

function recorder(): Recorded {
  const lines: string[] = [];
  return {
    lines,
    log: {
      info: (m) => void lines.push(`info ${m}`),
      warn: (m) => void lines.push(`warn ${m}`),
      error: (m) => void lines.push(`error ${m}`),
      group: async (name, fn) => {
        lines.push(`group ${name}`);
        try {
          return await fn();
        } finally {
          lines.push('end group');
        }
      },
    },
  };
}

/** process.getuid as an unprivileged user, or as given ('none': a platform without it), for the test. */
function uid(t: TestContext, value: (() => number) | 'none' = () => 1000): void {
  const real = process.getuid;
  process.getuid = value === 'none' ? undefined : value;
  t.after(() => {
    process.getuid = real;
  });
}

async function run(opts: Omit<PipelineOptions, 'log'>, rec = recorder()) {
  return { outcome: await runPipeline({ ...opts, log: rec.log }), lines: rec.lines };
}

test('runPipeline: a complete passing run: its log, the report written over the in-progress note, results and history, the platform cleaned up', async (t) => {
  uid(t);
  t.mock.timers.enable({ apis: ['Date'], now: Date.parse('2026-11-30T08:00:00.000Z') });
  const { dir, file } = await suiteFile(t, SUITE);
  const out = join(dir, 'out');
  const platform = new FakePlatform('local');
  let during = '';
  platform.prepare = async (log) => {
    platform.events.push('prepare');
    log?.('removed an old work directory');
    during = await readFile(join(out, 'report.md'), 'utf8');
  };
  platform.created = () => [{ kind: 'dir', value: '/fake/work' }];
  const created: unknown[] = [];
  const { outcome, lines } = await run({ suiteFile: file, overrides: { outputDir: out }, platform, onCreated: (c) => created.push(c), git: { sha: 'abc' } });
  const results = join(out, 'results.json');
  assert.equal(during, `# pvbench: units\n\nA run started at 2026-11-30T08:00:00.000Z is in progress, or was stopped before it could write its report. ${results} holds what it measured; \`pvbench report ${results}\` renders it.\n`);
  assert.deepStrictEqual(lines, [
    'group pvbench: running suite "units" on local (1 trial(s))',
    'warn removed an old work directory',
    'info tool copy: fake 1.0',
    'info [1/1] copy / no-fault #1: passed in 0.0 s',
    "info time: 1 trial took 0.0 s; 0 processes ran for 0.0 s of it (the measured backups and restores 0.1 s); pvbench's own work (seeding, manifests, verifying, settling the machine) about 0.0 s",
    'end group',
    'warn baseline: no baseline: compare.baseline.source is "none" (or --baseline none, or the action\'s baseline: none), so nothing is compared',
  ]);
  assert.deepStrictEqual(created, [{ kind: 'dir', value: '/fake/work' }]);
  assert.equal(platform.events.filter((e) => e === 'prepare' || e === 'cleanup').join(' '), 'prepare prepare cleanup');
  assert.equal(outcome.verdict, 'pass');
  assert.deepStrictEqual(outcome.paths, { dir: out, results, report: join(out, 'report.md') });
  assert.equal(outcome.results.suite.file, file);
  assert.deepStrictEqual(outcome.results.run.git, { sha: 'abc' });
  assert.deepStrictEqual([outcome.regressions, outcome.integrityFailures, outcome.reasons, outcome.findings], [0, 0, [], []]);
  assert.equal(await readFile(join(out, 'report.md'), 'utf8'), outcome.report);
  assert.equal(await readFile(results, 'utf8'), JSON.stringify(outcome.results, null, 2) + '\n');
  assert.deepStrictEqual(await readdir(out), ['history', 'report.md', 'results.json']);
  const history = await readdir(join(out, 'history', 'units'));
  assert.deepStrictEqual(history, [`2026-11-30T08-00-00.000Z-${outcome.results.run.id}.json`]);
});

test('runPipeline: a failing run is not kept in the history; a baseline given by the caller is used as it is; a failed clean-up is a warning', async (t) => {
  uid(t);
  const { dir, file } = await suiteFile(t, SUITE);
  const out = join(dir, 'out');
  const platform = new FakePlatform('kubernetes');
  // The restore lost a file; the source is intact.
  let lost = true;
  platform.verify = async (v) => (lost && v.id.endsWith('-restore-0') ? { files: 3, matched: 2, mismatched: 0, missing: 1, extra: 0, bytes: 200, ok: false, examples: { mismatched: [], missing: ['proxy-0/a.log'], extra: [] } } : OK_INTEGRITY);
  platform.cleanup = async () => {
    throw new Error('namespace stuck');
  };
  const { outcome, lines } = await run({ suiteFile: file, overrides: { outputDir: out }, platform, baseline: { runs: [], source: 'given' } });
  assert.equal(outcome.verdict, 'fail');
  assert.equal(outcome.integrityFailures, 1);
  assert.equal(outcome.comparison.baseline.source, 'given');
  assert.deepStrictEqual(lines.slice(-2), ['end group', 'warn cleanup: namespace stuck']);
  assert.deepStrictEqual(await readdir(out), ['report.md', 'results.json']);
  // A clean-up that throws something other than an Error.
  platform.cleanup = () => Promise.reject('gone');
  lost = false;
  const second = await run({ suiteFile: file, overrides: { outputDir: out }, platform, baseline: { runs: [], source: 'given' } });
  assert.deepStrictEqual(second.lines.slice(-1), ['warn cleanup: gone']);
  assert.equal(second.outcome.verdict, 'pass');
  assert.deepStrictEqual(await readdir(out), ['history', 'report.md', 'results.json']);
});

test('runPipeline without a suite file runs the embedded default suite, named so in the results', async (t) => {
  uid(t);
  const dir = await tempDir(t);
  const { outcome } = await run({ overrides: { outputDir: join(dir, 'out'), trials: 1, baseline: 'none' }, platform: new FakePlatform('kubernetes') });
  assert.equal(outcome.results.suite.file, '(embedded default)');
  assert.equal(outcome.results.trials.length, 15);
});

test('runPipeline: a cold page cache needs root, checked before anything is written', async (t) => {
  const { dir, file } = await suiteFile(t, `${SUITE}platform: { kind: local, cache: cold }\n`);
  const out = join(dir, 'out');
  const expected = [{ file, line: 0, column: 0, key: 'platform.cache', message: 'cold drops the page cache before each operation, which needs root', fix: 'run pvbench as root, or set platform.cache: warm' }];
  uid(t);
  assert.deepStrictEqual(await problems(runPipeline({ suiteFile: file, overrides: { outputDir: out }, platform: new FakePlatform('local'), log: recorder().log })), expected);
  await assert.rejects(readdir(out), { code: 'ENOENT' });
  // Where there is no getuid (not POSIX), nobody is root.
  uid(t, 'none');
  assert.deepStrictEqual(await problems(runPipeline({ suiteFile: file, overrides: { outputDir: out }, platform: new FakePlatform('local'), log: recorder().log })), expected);
  uid(t, () => 0);
  const { outcome } = await run({ suiteFile: file, overrides: { outputDir: out }, platform: new FakePlatform('local') });
  assert.equal(outcome.verdict, 'pass');
});

test('runPipeline: an output directory that cannot be made, or written, or that another run holds', async (t) => {
  uid(t);
  const { dir, file } = await suiteFile(t, SUITE);
  await writeFile(join(dir, 'a-file'), 'x');
  const fix = 'pass --output with a directory you can write (or set output.dir)';
  const notDir = join(dir, 'a-file', 'out');
  assert.deepStrictEqual(await problems(runPipeline({ suiteFile: file, overrides: { outputDir: notDir }, platform: new FakePlatform(), log: recorder().log })), over('output.dir', `cannot create the output directory ${notDir} (ENOTDIR)`, fix));
  // sysfs refuses new files, even to root.
  assert.deepStrictEqual(await problems(runPipeline({ suiteFile: file, overrides: { outputDir: '/sys' }, platform: new FakePlatform(), log: recorder().log })), over('output.dir', 'cannot write to the output directory /sys (EACCES)', fix));
  // Held by a live run (this process): its own ConfigError, as it is.
  const out = join(dir, 'out');
  await mkdir(out);
  await writeFile(join(out, '.pvbench.lock'), JSON.stringify({ pid: process.pid, startedAt: '2026-11-30T07:00:00.000Z' }));
  assert.deepStrictEqual(
    await problems(runPipeline({ suiteFile: file, overrides: { outputDir: out }, platform: new FakePlatform(), log: recorder().log })),
    over('output.dir', `${out} is in use by another pvbench run (pid ${process.pid}, started 2026-11-30T07:00:00.000Z)`, 'wait for it to finish, or pass --output with another directory (output.dir)'),
  );
});

test('runPipeline: losing the race for the lock is an error of its own, not a ConfigError about the directory', async (t) => {
  uid(t);
  const { dir, file } = await suiteFile(t, SUITE);
  const out = join(dir, 'out');
  await mkdir(out);
  const lock = join(out, '.pvbench.lock');
  const gone = JSON.stringify({ pid: 2 ** 22 + 17, startedAt: 'x' });
  await writeFile(lock, gone);
  const fsp = createRequire(import.meta.url)('node:fs/promises') as { rm: typeof rm };
  const real = fsp.rm;
  let removals = 0;
  fsp.rm = (async (p: string, o: Parameters<typeof rm>[1]) => {
    await real(p, o);
    if (p === lock && ++removals === 1) await writeFile(p, gone);
  }) as typeof rm;
  syncBuiltinESMExports();
  t.after(() => {
    fsp.rm = real;
    syncBuiltinESMExports();
  });
  const err = await runPipeline({ suiteFile: file, overrides: { outputDir: out }, platform: new FakePlatform(), log: recorder().log }).catch((e: unknown) => e);
  assert.ok(err instanceof Error && !(err instanceof ConfigError), String(err));
  assert.equal(err.message, `could not take ${lock}: another run took it at the same moment`);
});

test('runPipeline: the lock is released when the run fails', async (t) => {
  uid(t);
  const { dir, file } = await suiteFile(t, SUITE);
  const out = join(dir, 'out');
  const platform = new FakePlatform();
  platform.prepare = async () => {
    throw new Error('cluster unreachable');
  };
  await assert.rejects(runPipeline({ suiteFile: file, overrides: { outputDir: out }, platform, log: recorder().log }), { message: 'cluster unreachable' });
  assert.deepStrictEqual((await readdir(out)).sort(), ['report.md']);
});

export type { ResultsFile };
