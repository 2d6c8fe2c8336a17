import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, detectableRatio, mannWhitneyU, median, mulberry32, smallestPValue } from '../../src/baseline/stats.ts';
import type { DecideOptions } from '../../src/baseline/stats.ts';
import { projectedRatio } from '../../src/baseline/power.ts';

const close = (actual: number | undefined, expected: number, tol: number, what = '') =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) <= tol, `${what} expected ${expected} ± ${tol}, got ${actual}`);

test('smallestPValue: 2 / C(n1 + n2, n1) up to 30 values, the normal approximation of U = 0 beyond', () => {
  close(smallestPValue(3, 3), 0.1, 1e-15, '3 vs 3');
  close(smallestPValue(3, 6), 2 / 84, 1e-15, '3 vs 6');
  close(smallestPValue(4, 4), 2 / 70, 1e-15, '4 vs 4');
  close(smallestPValue(2, 2), 1 / 3, 1e-15, '2 vs 2');
  // 16 vs 16: μ = 128, σ = √704, z = 127.5/σ, p = 1.5449e-6 (the stats test's figure).
  close(smallestPValue(16, 16) / 1.5449101737495955e-6, 1, 1e-6, '16 vs 16');
  // The same figure the test reports for fully separated samples of these sizes.
  for (const [n1, n2] of [[2, 3], [3, 3], [3, 9], [5, 5], [10, 20], [15, 16], [3, 40]] as const) {
    const x = Array.from({ length: n1 }, (_, i) => 100 + i);
    const y = Array.from({ length: n2 }, (_, i) => i);
    close(smallestPValue(n1, n2), mannWhitneyU(x, y).minPValue, 1e-15, `${n1} vs ${n2}`);
  }
});

const OPTS: DecideOptions = { threshold: 0.1, confidence: 0.95, seed: 7 };

test('detectableRatio: tight samples are limited by the threshold', () => {
  close(detectableRatio([1000, 1001, 1002], [1000, 1001, 1002], OPTS), 1.1, 1e-12, 'threshold-limited');
  // A noise floor of 300 ms on a 1 s baseline median: a change must be at least 30%.
  close(detectableRatio([999, 1000, 1001], [999, 1000, 1001], { ...OPTS, minDelta: 300 }), 1.3, 1e-9, 'floor-limited');
});

test('detectableRatio: noisy 3 vs 3 samples are limited by the spread', () => {
  // The rank test cannot reach 0.05 with 3 vs 3, so every trial must be worse than every baseline trial:
  // r·900 > 1200 → r > 4/3. The bootstrap's 2.5% quantile of the ratio is its minimum 900/1200 (that ratio has
  // probability (7/27)² = 0.067), so the interval clears 1 at the same r = 4/3.
  close(detectableRatio([900, 1000, 1100], [800, 1000, 1200], OPTS), 4 / 3, 1e-9, 'spread-limited');
  // Only the shape of the current trials counts, not their level: the same trials 10% slower give the same figure.
  close(detectableRatio([990, 1100, 1210], [800, 1000, 1200], OPTS), 4 / 3, 1e-9, 'shifted current');
});

test('detectableRatio: undefined with fewer than 2 values or a zero median; infinite when nothing can be flagged', () => {
  assert.equal(detectableRatio([1000], [1000, 1001], OPTS), undefined);
  assert.equal(detectableRatio([1000, 1001], [1000], OPTS), undefined);
  assert.equal(detectableRatio([0, 0, 0], [1, 2, 3], OPTS), undefined);
  assert.equal(detectableRatio([1, 2, 3], [0, 0, 0], OPTS), undefined);
  // One current trial measured 0: no multiple of 0 is worse than the baseline, and 4 vs 3 trials cannot reach
  // p ≤ 0.05 (2/35), so every trial would have to be worse.
  assert.equal(detectableRatio([0, 5, 6, 7], [4, 5, 6], OPTS), Number.POSITIVE_INFINITY);
});

/** The current trials scaled so that their median is the baseline's, then by r: a shift of r with this run's noise. */
function shifted(current: number[], baseline: number[], r: number): number[] {
  const k = (median(baseline) / median(current)) * r;
  return current.map((v) => v * k);
}

test('detectableRatio is exactly where decide starts to flag: just above it a regression, just below it none', () => {
  const rand = mulberry32(99);
  const sample = (n: number, centre: number, spread: number) => Array.from({ length: n }, () => centre * (1 + spread * (rand() - 0.5)));
  let checked = 0;
  for (const [n, m] of [[2, 2], [3, 3], [3, 6], [5, 5], [4, 12], [10, 10], [8, 24]] as const) {
    for (const spread of [0.02, 0.1, 0.4]) {
      for (const opts of [OPTS, { ...OPTS, threshold: 0.3 }, { ...OPTS, confidence: 0.99 }, { ...OPTS, minDelta: 80 }]) {
        const cur = sample(n, 1000, spread);
        const base = sample(m, 1000, spread);
        const r = detectableRatio(cur, base, opts);
        assert.ok(r !== undefined && Number.isFinite(r) && r > 1, `a figure for ${n} vs ${m}`);
        assert.equal(decide(shifted(cur, base, r * (1 + 1e-7)), base, opts).status, 'regression', `${n} vs ${m}, spread ${spread}: flagged just above ×${r}`);
        assert.notEqual(decide(shifted(cur, base, r * (1 - 1e-7)), base, opts).status, 'regression', `${n} vs ${m}, spread ${spread}: not flagged just below ×${r}`);
        checked++;
      }
    }
  }
  assert.equal(checked, 84);
});


test('decide: with no spread on either side the threshold alone decides, without a p-value', () => {
  const tight = { threshold: 0.02, confidence: 0.95 };
  const up = decide([103, 103, 103], [100, 100, 100], tight);
  assert.equal(up.status, 'regression');
  assert.equal(up.rule, 'zero-spread');
  assert.equal(up.pValue, undefined);
  assert.deepEqual(up.ci, [1.03, 1.03]);
  // 2 against 2, where the rank test alone could never get there.
  assert.equal(decide([103, 103], [100, 100], tight).rule, 'zero-spread');
  assert.equal(decide([103, 103], [100, 100], tight).status, 'regression');
  assert.equal(decide([101, 101], [100, 100], tight).status, 'unchanged');
  assert.equal(decide([97, 97, 97], [100, 100, 100], tight).status, 'improvement');
  // The noise floor still applies.
  assert.equal(decide([103, 103], [100, 100], { ...tight, minDelta: 4 }).status, 'unchanged');
  // Spread on one side: the usual rule, with its p-value.
  const spread = decide([103, 103.5, 104], [100, 100, 100], tight);
  assert.equal(spread.rule, undefined);
  assert.equal(typeof spread.pValue, 'number');
  // The detectable figure follows the same rule: the threshold, or the floor.
  close(detectableRatio([100, 100], [100, 100], tight), 1.02, 1e-12, 'zero spread, 2 vs 2');
  close(detectableRatio([100, 100, 100], [100, 100, 100], { ...tight, minDelta: 5 }), 1.05, 1e-12, 'zero spread with a floor');
});

test('the projection keeps the noise floor in the unit of the measurements (a 50 ms floor on ~1 s operations)', () => {
  // Found on a default run: "even 30 trials would only see ~5000%". The draws were relative to the medians (≈ 1)
  // while the floor stayed 50 ms, so every projection needed a factor of 51.
  const s = { current: [1204, 1534, 962], baseline: [1152, 1073, 1028], opts: { threshold: 0.2, confidence: 0.95, minDelta: 50, seed: 7 } };
  for (const n of [4, 10, 30]) {
    const r = projectedRatio(s, n, n)!;
    assert.ok(r >= 1.2 && r < 1.6, `${n} trials: ${r}`);
  }
  // With many trials the figure comes down to what the threshold allows.
  assert.ok(projectedRatio(s, 30, 30)! < 1.3, `30 trials: ${projectedRatio(s, 30, 30)}`);
});
