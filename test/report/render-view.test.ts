// The data the templates see (buildView), field by field: custom templates rely on these names and values. And the
// two sentences built in render.ts: the gates and the trend note.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Comparison } from '../../src/baseline/compare.ts';
import { buildView, gatesText, renderReport, trendNote } from '../../src/report/render.ts';
import type { RenderInput } from '../../src/report/render.ts';
import { comparisonOf, results, timed, trial } from './fixtures.ts';

const comparison = (over: Partial<Comparison> = {}): Comparison => comparisonOf({ baseline: { source: 'history', runs: 2, available: true }, ...over });

const cell = (tool: string, over: Partial<Comparison['cells'][number]> = {}): Comparison['cells'][number] => ({
  tool,
  scenario: 'no-fault',
  trials: 1,
  passed: 1,
  failed: 0,
  errored: 0,
  skipped: 0,
  notInjected: 0,
  integrityOk: true,
  faults: [],
  metrics: [],
  ...over,
});

function input(c: Comparison, over: Partial<RenderInput> = {}): RenderInput {
  const r = results({ trials: [...timed('restic', 'no-fault', [1000, 1100]), trial({ tool: 'kopia', scenario: 'crash', status: 'error' })] });
  return { results: r, comparison: c, title: 'T', marker: '<!-- m -->', maxChars: 1000, ...over };
}

test('buildView: the verdict, its counts and reasons', () => {
  const c = comparison({
    verdict: 'fail',
    regressions: 1,
    improvements: 2,
    integrityFailures: 1,
    erroredTrials: 3,
    reasons: ['r1', 'x'.repeat(400), 'y'.repeat(401)],
    settings: { threshold: 0.1, confidence: 0.95, failOnRegression: false, metrics: [] },
  });
  const v = buildView(input(c));
  assert.deepEqual(v.verdict, {
    pass: false,
    word: 'fail',
    counts: '**1 integrity failure** · **3 errored trials** · **1 regression** · 2 improvements — 3 trials of 2 tools × 2 scenarios',
    note: 'Regressions are reported but do not fail the run (compare.failOnRegression is off).',
    reasons: ['r1', 'x'.repeat(400), `${'y'.repeat(399)}…`],
    moreReasons: 0,
    gates: undefined,
  });
  assert.equal(v.marker, '<!-- m -->');
  assert.equal(v.title, 'T');
  assert.equal(v.baseline, c.baseline);
  assert.equal(v.comparison, c);

  const ok = buildView({ ...input(comparison({ notInjectedTrials: 1, improvements: 1 })), results: results({ trials: [trial()] }) });
  assert.deepEqual(ok.verdict, {
    pass: true,
    word: 'pass',
    counts: '**0 integrity failures** · **0 errored trials** · **0 regressions** · 1 improvement · **1 fault not injected** — 1 trial of 1 tool × 1 scenario',
    note: undefined,
    reasons: [],
    moreReasons: 0,
    gates: undefined,
  });
  assert.match(buildView(input(comparison({ notInjectedTrials: 2 }))).verdict.counts, / · \*\*2 faults not injected\*\* — /);
  // Regressions that fail the run, or no regressions: no note.
  assert.equal(buildView(input(comparison({ regressions: 1, settings: { threshold: 0.1, confidence: 0.95, failOnRegression: true, metrics: [] } }))).verdict.note, undefined);
  assert.equal(buildView(input(comparison({ regressions: 0, settings: { threshold: 0.1, confidence: 0.95, failOnRegression: false, metrics: [] } }))).verdict.note, undefined);
  // Without settings, regressions fail the run.
  assert.equal(buildView(input(comparison({ regressions: 1 }))).verdict.note, undefined);
});

test('buildView: 25 reasons in full, then a count; 5 when the reasons were cut', () => {
  const reasons = Array.from({ length: 27 }, (_, i) => `reason ${i + 1}`);
  const v = buildView(input(comparison({ reasons })));
  assert.deepEqual(v.verdict.reasons, reasons.slice(0, 25));
  assert.equal(v.verdict.moreReasons, 2);
  const cut = buildView(input(comparison({ reasons })), new Set(['reasons']));
  assert.deepEqual(cut.verdict.reasons, reasons.slice(0, 5));
  assert.equal(cut.verdict.moreReasons, 22);
  const exactly = buildView(input(comparison({ reasons: reasons.slice(0, 25) })));
  assert.equal(exactly.verdict.reasons.length, 25);
  assert.equal(exactly.verdict.moreReasons, 0);
});

test('buildView: the run: suite, commit (12 characters), ref, a safe workflow URL only, and whether it finished', () => {
  const i = input(comparison());
  assert.deepEqual(buildView(i).run, {
    suite: 'default',
    platform: 'local',
    trialsPerCell: 3,
    seed: 42,
    version: '0.1.0',
    commit: '0123456789ab',
    ref: 'refs/pull/7/merge',
    url: 'https://github.com/o/r/actions/runs/99',
    startedAt: '2025-01-01T00:00:00.000Z',
    incomplete: false,
  });
  const r = i.results;
  const withGit = (git: NonNullable<typeof r.run.git>, complete = true) => buildView({ ...i, results: { ...r, run: { ...r.run, git, complete } } }).run;
  assert.equal(withGit({ runUrl: 'http://example.com/run/1' }).url, 'http://example.com/run/1');
  for (const bad of ['javascript:alert(1)', 'https://x.com/a b', 'https://x.com/"a', "https://x.com/'a", 'https://x.com/(a)', 'https://x.com/<a>', 'https://', ' https://x.com', 'https://x.com\n', 'ftp://x.com', '']) {
    assert.equal(withGit({ runUrl: bad }).url, undefined, bad);
  }
  assert.deepEqual(withGit({}, false), { ...buildView(i).run, commit: undefined, ref: undefined, url: undefined, incomplete: true });
  assert.equal(withGit({ sha: '' }).commit, undefined);
  const noGit = buildView({ ...i, results: { ...r, run: { ...r.run, git: undefined } } }).run;
  assert.deepEqual([noGit.commit, noGit.ref, noGit.url], [undefined, undefined, undefined]);
});

test('buildView: tables, the summary note and what was cut', () => {
  const c = comparison({ cells: [cell('restic'), cell('kopia', { scenario: 'crash', errored: 1, passed: 0 })] });
  const full = buildView(input(c));
  assert.match(full.summaryTable, /^\| Tool \| Scenario \| Status \|/);
  assert.equal(full.summaryNote, undefined);
  assert.match(full.chart, /^```mermaid\n/);
  assert.match(full.resourcesTable, /^\| Tool \| Scenario \| Backup CPU \|/);
  assert.match(full.integrityTable, /^\| Tool \| Scenario \| Trials verified \|/);
  assert.match(full.toolsTable, /^\| Tool \| Type \| Status \| Version \/ reason \|/);
  assert.match(full.trialsTable, /^\| Tool \| Scenario \| # \|/);
  assert.deepEqual([full.faultsTable, full.recoveryTable, full.trendTable, full.powerTable], ['', '', '', '']);
  assert.deepEqual([full.trialsShown, full.trialsTotal, full.trialsOnlyProblems, full.powerRows, full.footnote], [3, 3, false, 0, true]);
  assert.equal(full.trend, undefined);
  assert.equal(full.power, undefined);

  // Summary rows without changes left out: counted in the note.
  const ok = buildView(input(c), new Set(['summary-ok']));
  assert.equal(ok.summaryTable.split('\n').length, 3);
  assert.equal(ok.summaryNote, '1 row without failures or changes not shown.');
  const twoOk = buildView(input(comparison({ cells: [cell('restic'), cell('a'), cell('kopia', { errored: 1 })] })), new Set(['summary-ok']));
  assert.equal(twoOk.summaryNote, '2 rows without failures or changes not shown.');
  // The whole summary left out.
  const none = buildView(input(c), new Set(['summary']));
  assert.equal(none.summaryTable, '');
  assert.equal(none.summaryNote, 'The summary table (2 rows) was left out to fit.');
  assert.equal(buildView(input(comparison({ cells: [cell('x')] })), new Set(['summary'])).summaryNote, 'The summary table (1 row) was left out to fit.');
  // Every row hidden by summary-ok: the table is gone, said as such.
  assert.equal(buildView(input(comparison({ cells: [cell('restic')] })), new Set(['summary-ok'])).summaryNote, 'The summary table (1 row) was left out to fit.');

  const cut = buildView(input(c), new Set(['chart', 'faults', 'integrity', 'resources', 'recovery', 'trends', 'tools', 'trials', 'power', 'footnote']));
  assert.deepEqual(
    [cut.chart, cut.faultsTable, cut.integrityTable, cut.resourcesTable, cut.recoveryTable, cut.trendTable, cut.toolsTable, cut.trialsTable, cut.powerTable],
    ['', '', '', '', '', '', '', '', ''],
  );
  assert.deepEqual([cut.trialsShown, cut.powerRows, cut.footnote], [0, 0, false]);
  const passedCut = buildView(input(c), new Set(['passed-trials']));
  assert.deepEqual([passedCut.trialsShown, passedCut.trialsTotal, passedCut.trialsOnlyProblems], [1, 3, true]);
  assert.match(passedCut.trialsTable, /\| kopia \| crash \| 1 \| ⚠️ error \|/);
  // Integrity rows without loss left out: no row here.
  assert.equal(buildView(input(c), new Set(['integrity-ok'])).integrityTable, '');
});

test('buildView: the statistics settings, with defaults for hand-made comparisons', () => {
  assert.deepEqual(buildView(input(comparison())).stats, { threshold: 0.1, deterministicThreshold: undefined, confidence: 0.95, alpha: 0.05, resamples: 2000, failOnRegression: true });
  const c = comparison({ settings: { threshold: 0.25, confidence: 0.99, failOnRegression: false, metrics: [], deterministicThreshold: 0.02 } });
  assert.deepEqual(buildView(input(c)).stats, { threshold: 0.25, deterministicThreshold: 0.02, confidence: 0.99, alpha: 0.01, resamples: 2000, failOnRegression: false });
  // 1 - 0.9 is 0.09999999999999998: three significant digits.
  assert.equal(buildView(input(comparison({ settings: { threshold: 0.1, confidence: 0.9, failOnRegression: true, metrics: [] } }))).stats.alpha, 0.1);
  assert.equal(buildView(input(comparison({ power: { line: 'p line' } as never }))).power, 'p line');
});

test('gatesText: thresholds grouped in the configured order; none without per-metric thresholds', () => {
  const settings = (thresholds: Record<string, number> | undefined, metrics: string[]) => comparison({ settings: { threshold: 0.1, confidence: 0.95, failOnRegression: true, metrics: metrics as never, ...(thresholds ? { thresholds } : {}) } });
  assert.equal(gatesText(comparison()), undefined);
  assert.equal(gatesText(settings(undefined, ['backup.wallMs'])), undefined);
  assert.equal(gatesText(settings({}, ['backup.wallMs'])), undefined);
  assert.equal(gatesText(settings({ 'restore.wallMs': 0.1 }, ['backup.wallMs'])), undefined);
  const tail = '; with no spread on either side the threshold alone decides, without a p-value.';
  assert.equal(gatesText(settings({ 'backup.wallMs': 0.2 }, ['backup.wallMs'])), `a median worse by more than +20% is a regression for Backup time${tail}`);
  assert.equal(
    gatesText(settings({ 'backup.wallMs': 0.2, 'restore.wallMs': 0.2, 'repository.sizeBytes': 0.02, rtoMs: 0.5, rpoMs: 0.2, writesLost: 0 }, ['repository.sizeBytes', 'backup.wallMs', 'restore.wallMs', 'rpoMs', 'rtoMs', 'writesLost', 'backup.cpuMs'])),
    `a median worse by more than +2% is a regression for Repository size, by more than +20% for Backup time, Restore time and RPO, by more than +50% for RTO, by more than +0% for Writes lost${tail}`,
  );
  assert.equal(gatesText(settings({ 'backup.wallMs': 0.1, 'restore.wallMs': 0.1 }, ['backup.wallMs', 'restore.wallMs'])), `a median worse by more than +10% is a regression for Backup time and Restore time${tail}`);
});

test('trendNote: what was searched, and how many series shifted', () => {
  const f = (tool: string, metric: string) => ({ tool, scenario: 's', metric }) as never;
  assert.equal(trendNote({ runs: 12, series: 3, findings: [] }), 'No level shift in the history of up to 12 runs (3 series), searched by E-divisive means with a permutation test.');
  assert.equal(trendNote({ runs: 1, series: 1, findings: [] }), 'No level shift in the history of up to 1 run (1 series), searched by E-divisive means with a permutation test.');
  assert.equal(
    trendNote({ runs: 10, series: 4, findings: [f('a', 'backup.wallMs'), f('a', 'backup.wallMs'), f('a', 'restore.wallMs'), f('b', 'backup.wallMs')] }),
    'Level shifts in the history of up to 10 runs (3 of 4 series), found by E-divisive means with a permutation test; they do not change the verdict.',
  );
  assert.equal(
    trendNote({ runs: 11, series: 1, findings: [f('a', 'backup.wallMs')] }),
    'Level shifts in the history of up to 11 runs (1 of 1 series), found by E-divisive means with a permutation test; they do not change the verdict.',
  );
  // The key separates tool, scenario and metric: "a b" + "c" is not "a" + "b c".
  assert.equal(trendNote({ runs: 10, series: 2, findings: [{ tool: 'a b', scenario: 'c', metric: 'm' } as never, { tool: 'a', scenario: 'b c', metric: 'm' } as never] }).split('(')[1], '2 of 2 series), found by E-divisive means with a permutation test; they do not change the verdict.');
  const v = buildView(input(comparison({ trend: { runs: 12, series: 3, findings: [] } })));
  assert.deepEqual(v.trend, { note: 'No level shift in the history of up to 12 runs (3 series), searched by E-divisive means with a permutation test.' });
});

test("buildView and the report: the machine's memory before the operations, on the run line, when the trials recorded it", () => {
  const i = input(comparison());
  assert.equal('machine' in buildView(i).run, false, 'none recorded: no key');
  const r = i.results;
  const machine = { memFreeBytes: 2 ** 30, memAvailableBytes: 3 * 2 ** 30, cachedBytes: 2 * 2 ** 30, dirtyBytes: 0, writebackBytes: 0 };
  const trials = r.trials.map((t, k) => (k === 0 ? { ...t, restore: { ...t.restore!, machine } } : t));
  const withMachine = { ...i, results: { ...r, trials } };
  const phrase = 'memory before the measured operations: 1.00 GiB free, 2.00 GiB page cache, nothing dirty';
  assert.equal(buildView(withMachine).run.machine, phrase);
  assert.ok(renderReport({ ...withMachine, maxChars: 65_000 }).includes(` · local · ${phrase} · 3 trials per tool × scenario`), renderReport({ ...withMachine, maxChars: 65_000 }).slice(0, 600));
  assert.ok(!renderReport({ ...i, maxChars: 65_000 }).includes('memory before'));
});
