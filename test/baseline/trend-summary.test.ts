// compare's trend analysis over a history of runs (trendSummary), on histories without noise inside a level, so that
// every series, change point and median is known exactly: how many runs it needs, which trials each series takes
// (its tool and scenario, impossible values of the history only, tools excluded from a run), the levels on either side
// of each of several shifts, and which shifts are too small to report (issue 8: compare.ts's trend mutants).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare, MIN_TREND_RUNS } from '../../src/baseline/compare.ts';
import type { CompareConfig } from '../../src/config/schema.ts';
import type { ResultsFile, TrialResult } from '../../src/suite/results.ts';
import { config, results, timed, trial } from '../report/fixtures.ts';

const day = (i: number) => `2025-01-${String(i + 1).padStart(2, '0')}T00:00:00.000Z`;
const cfg = (over: Partial<CompareConfig> = {}) => config({ baseline: { source: 'history', maxRuns: 40 }, metrics: ['backup.wallMs'], ...over });

/**
 * One run per level, oldest first: restic / no-fault at that level, 3 trials. The last one is the current run, with 1
 * trial: too few to be compared, so that compare spends no time on the power line's projection.
 */
function history(levels: number[], extra: (i: number) => TrialResult[] = () => []): ResultsFile[] {
  return levels.map((level, i) =>
    results({ id: `r${String(i + 1).padStart(2, '0')}`, startedAt: day(i), trials: [...timed('restic', 'no-fault', i === levels.length - 1 ? [level] : [level, level, level]), ...extra(i)] }),
  );
}

/** compare's trend over runs[0..n−1) as the history (given newest first) and runs[n−1] as this run. */
function trend(runs: ResultsFile[], over: Partial<CompareConfig> = {}) {
  const cur = runs[runs.length - 1]!;
  return compare(cur, { runs: runs.slice(0, -1).reverse(), source: 'history' }, cfg(over)).trend;
}

const step = (n: number, at: number, from: number, to: number) => Array.from({ length: n }, (_, i) => (i < at ? from : to));

test(`trends: ${MIN_TREND_RUNS} runs with this one are searched, ${MIN_TREND_RUNS - 1} are not`, () => {
  assert.equal(MIN_TREND_RUNS, 10);
  assert.equal(trend(history(step(9, 5, 1000, 1300))), undefined);
  // 10 runs: one series of 10 values (a 5/5 split of 10 is not significant at 0.01 with 199 permutations).
  assert.deepStrictEqual(trend(history(step(10, 5, 1000, 1300))), { runs: 10, series: 1, findings: [] });
  // A series of 9 values (this run's one trial failed with an error: no time): not searched.
  const short = history(step(10, 5, 1000, 1300));
  short[9]!.trials = [trial({ status: 'error' })];
  assert.deepStrictEqual(trend(short), { runs: 0, series: 0, findings: [] });
  // 14 runs, 7/7.
  const t = trend(history(step(14, 7, 1000, 1300)))!;
  assert.equal(t.runs, 14);
  assert.equal(t.series, 1);
  assert.deepStrictEqual(t.findings, [
    {
      tool: 'restic',
      scenario: 'no-fault',
      metric: 'backup.wallMs',
      label: 'Backup time',
      unit: 'ms',
      index: 7,
      run: { id: 'r08', startedAt: day(7), sha: '0123456789abcdef0123456789abcdef01234567', current: false },
      before: 1000,
      after: 1300,
      ratio: 1.3,
      pValue: 0.005,
    },
  ]);
});

test('trends: each series takes its own tool and scenario; a run without a sha names none', () => {
  // kopia flat at 5000 beside restic, and restic in a second scenario flat at 2000.
  const runs = history(step(14, 7, 1000, 1300), () => [...timed('kopia', 'no-fault', [5000, 5000, 5000]), ...timed('restic', 'crash', [2000, 2000, 2000])]);
  delete (runs[7]!.run as { git?: unknown }).git;
  const t = trend(runs)!;
  assert.equal(t.series, 3);
  assert.equal(t.runs, 14);
  assert.deepStrictEqual(
    t.findings.map((f) => [f.tool, f.scenario, f.index, f.before, f.after, f.run]),
    [['restic', 'no-fault', 7, 1000, 1300, { id: 'r08', startedAt: day(7), current: false }]],
  );
});

test("trends: the history's impossible values are left out of its series, this run's are kept", () => {
  // Run 3 of the history measured a negative backup time: the series skips it and has 14 values, the shift at 7.
  const runs = history(step(15, 8, 1000, 1300));
  runs[2]!.trials = timed('restic', 'no-fault', [-1, -1, -1]);
  const t = trend(runs)!;
  assert.equal(t.runs, 14);
  assert.deepStrictEqual(t.findings.map((f) => [f.index, f.run.id, f.before, f.after]), [[7, 'r09', 1000, 1300]]);
  // Nine runs of history and this run with a zero (impossible for a time) backup: still ten values, the zero last.
  const zero = history([...step(9, 4, 1000, 1300), 0]);
  assert.deepStrictEqual(trend(zero), { runs: 10, series: 1, findings: [] });
});

test('trends: the trials of a tool excluded from a run (another version) are not in its series', () => {
  // 15 runs; the second one ran restic 0.9, the newest baseline run restic 1.0: that run drops out, 14 values left.
  const runs = history(step(15, 8, 1000, 1300));
  runs[1]!.tools = [{ name: 'restic', type: 'restic', status: 'ok', version: 'restic 0.9.0' }];
  const t = trend(runs)!;
  assert.equal(t.runs, 14);
  assert.deepStrictEqual(t.findings.map((f) => [f.index, f.run.id]), [[7, 'r09']]);
});

test('trends: two shifts, each measured between its neighbours', () => {
  const levels = [...step(14, 7, 1000, 1300), ...step(7, 0, 0, 1690)];
  const t = trend(history(levels))!;
  assert.deepStrictEqual(
    t.findings.map((f) => [f.index, f.before, f.after, f.ratio]),
    [
      [7, 1000, 1300, 1.3],
      [14, 1300, 1690, 1.3],
    ],
  );
});

test('trends: shifts below half the threshold or the noise floor are not reported; at either exactly they are', () => {
  // Threshold 0.5: half is 0.25, and 1000 → 1250 is exactly that.
  assert.equal(trend(history(step(14, 7, 1000, 1250)), { threshold: 0.5 })!.findings.length, 1);
  assert.equal(trend(history(step(14, 7, 1000, 1240)), { threshold: 0.5 })!.findings.length, 0);
  // Threshold 0.1: +3% is below half of it, +10% is not (nor below twice it).
  assert.equal(trend(history(step(14, 7, 1000, 1030)))!.findings.length, 0);
  assert.equal(trend(history(step(14, 7, 1000, 1100)))!.findings.length, 1);
  // A floor of 250 ms: +250 ms is reported, +200 ms (20%, well above the threshold) is not.
  const floor = { noiseFloor: { ms: 250, bytes: 0, deterministicBytes: 0, writes: 0 } };
  assert.equal(trend(history(step(14, 7, 1000, 1250)), floor)!.findings.length, 1);
  assert.equal(trend(history(step(14, 7, 1000, 1200)), floor)!.findings.length, 0);
  // A fall is a shift too: its change is measured as a distance, not a signed one.
  const down = trend(history(step(14, 7, 1300, 1000)), floor)!.findings;
  assert.deepStrictEqual(down.map((f) => [f.before, f.after]), [[1300, 1000]]);
});

test('trends: each series has a seed of its own (tool, scenario, metric)', () => {
  // 6/6 of 12 runs: whether a permutation splits as well (p 0.01) or none does (p 0.005) depends on the permutations
  // drawn, which the seed picks: with one seed for every series, all of these would have the same p.
  const p = (tool: string) => {
    const runs = history(step(12, 6, 1000, 1300)).map((r) => ({
      ...r,
      tools: [{ name: tool, type: 'restic' as const, status: 'ok' as const, version: `${tool} 1.0.0` }],
      trials: r.trials.map((x) => ({ ...x, tool })),
    }));
    return trend(runs)!.findings.map((f) => f.pValue);
  };
  const ps = ['restic', 'kopia', 'borg', 'copy', 'rustic'].map(p);
  assert.deepStrictEqual(ps.map((x) => x.length), [1, 1, 1, 1, 1]);
  assert.ok(new Set(ps.map((x) => x[0])).size > 1, `p-values: ${ps.join(' ')}`);
});
