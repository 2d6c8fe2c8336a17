import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare } from '../../src/baseline/compare.ts';
import { mulberry32 } from '../../src/baseline/stats.ts';
import { changePoints, divergence } from '../../src/baseline/trend.ts';
import { config, results, timed } from '../report/fixtures.ts';

/** n values around 1000 with lognormal noise of σ (Box–Muller from the seeded PRNG). */
function noise(seed: number, n: number, sigma: number): number[] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, () => 1000 * Math.exp(sigma * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())));
}

const shifted = (xs: number[], k: number, factor: number) => xs.map((v, i) => (i >= k ? v * factor : v));

test('divergence: the energy statistic of a split, by hand', () => {
  // [1,1 | 5,5]: between 2/(2·2)·16 = 8, no spread within: Q = (2·2/4)·8 = 8.
  assert.equal(divergence([1, 1, 5, 5], 2), 8);
  // [1,2 | 5,7]: between 2/4·(4+6+3+5) = 9, within 2/2·1 = 1 and 2/2·2 = 2: Q = 1·(9 − 1 − 2) = 6.
  assert.equal(divergence([1, 2, 5, 7], 2), 6);
  // The same split scored directly, for a longer series: [1,2,3 | 10,11].
  const between = [1, 2, 3].reduce((s, x) => s + [10, 11].reduce((t, y) => t + Math.abs(x - y), 0), 0);
  const q = ((3 * 2) / 5) * ((2 / 6) * between - (2 / 6) * (1 + 2 + 1) - (2 / 2) * 1);
  assert.ok(Math.abs(divergence([1, 2, 3, 10, 11], 3) - q) < 1e-12);
});

test('a level shift at run 10 of 20 noisy runs is found there (trend-sim.test.ts: at k ± 1 in nearly every series)', () => {
  // One series, in full: 5% noise, +25% from run 10 on.
  assert.deepEqual(changePoints(shifted(noise(7, 20, 0.05), 10, 1.25), { seed: 1 }).map((c) => c.index), [10]);
});

test('nothing is found in 20 runs without a shift', () => {
  assert.deepEqual(changePoints(noise(7, 20, 0.05), { seed: 1 }), []);
  // Too short to split, or flat: nothing.
  assert.deepEqual(changePoints([1, 2, 3]), []);
  assert.deepEqual(changePoints(Array.from({ length: 20 }, () => 5)), []);
});

test('change points are deterministic for the same series and seed', () => {
  const xs = shifted(noise(11, 20, 0.08), 8, 1.2);
  assert.deepEqual(changePoints(xs, { seed: 3 }), changePoints(xs, { seed: 3 }));
});

test('trends: a level shift in the history of medians per tool × scenario names the run where it started', () => {
  const levels = noise(21, 12, 0.03).map((v, i) => (i >= 7 ? v * 1.3 : v));
  const runs = levels.map((level, i) => {
    const id = `r${String(i + 1).padStart(2, '0')}`;
    return results({ id, startedAt: `2025-01-${String(i + 1).padStart(2, '0')}T00:00:00.000Z`, trials: timed('restic', 'no-fault', [level * 0.99, level, level * 1.01]) });
  });
  const cur = results({ id: 'now', startedAt: '2025-02-01T00:00:00.000Z', trials: timed('restic', 'no-fault', [1300, 1310, 1290]) });
  // Loaded newest first, as the stores do: the series is ordered by start time all the same.
  const c = compare(cur, { runs: [...runs].reverse(), source: 'history' }, config({ baseline: { source: 'history', maxRuns: 20 } }));
  assert.ok(c.trend, 'a trend analysis');
  assert.equal(c.trend.runs, 13);
  const backup = c.trend.findings.filter((f) => f.metric === 'backup.wallMs');
  assert.equal(backup.length, 1);
  const f = backup[0]!;
  assert.equal(f.tool, 'restic');
  assert.equal(f.scenario, 'no-fault');
  assert.equal(f.run.id, 'r08');
  assert.equal(f.run.startedAt, '2025-01-08T00:00:00.000Z');
  assert.equal(f.index, 7);
  assert.ok(Math.abs(f.ratio - 1.3) < 0.05, `ratio ${f.ratio}`);
  assert.ok(f.pValue <= 0.01);
  // Restore time and CPU follow backup time in these fixtures; peak RSS and repository size never change.
  assert.deepEqual(c.trend.findings.map((x) => x.metric).sort(), ['backup.cpuMs', 'backup.wallMs', 'restore.wallMs']);
  // Too few runs for a trend: none is attempted.
  assert.equal(compare(cur, { runs: runs.slice(-3), source: 'history' }, config()).trend, undefined);
});

test('trends: a flat history has no finding', () => {
  const runs = noise(33, 12, 0.03).map((level, i) =>
    results({ id: `f${i}`, startedAt: `2025-01-${String(i + 1).padStart(2, '0')}T00:00:00.000Z`, trials: timed('restic', 'no-fault', [level * 0.99, level, level * 1.01]) }),
  );
  const cur = results({ id: 'now', startedAt: '2025-02-01T00:00:00.000Z', trials: timed('restic', 'no-fault', [1000, 1010, 990]) });
  const c = compare(cur, { runs, source: 'history' }, config({ baseline: { source: 'history', maxRuns: 20 } }));
  assert.ok(c.trend);
  assert.deepEqual(c.trend.findings, []);
  assert.equal(c.trend.series, 5);
});
