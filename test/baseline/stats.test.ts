import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bootstrapRatioCI,
  decide,
  erfc,
  exactUCounts,
  hashSeed,
  mad,
  mannWhitneyU,
  mean,
  median,
  mulberry32,
  normalCdf,
  quantile,
  rankWithTies,
  stdev,
} from '../../src/baseline/stats.ts';

const close = (actual: number, expected: number, tol: number, what = '') =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what} expected ${expected} ± ${tol}, got ${actual}`);

test('descriptive statistics', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
  assert.equal(quantile([1, 2, 3, 4, 5], 0.25), 2);
  close(quantile([10, 20, 30, 40], 0.9), 37, 1e-12, 'type 7 quantile');
  assert.equal(quantile([5, 1], 0), 1);
  assert.equal(quantile([5, 1], 1), 5);
  assert.equal(mean([1, 2, 3, 4]), 2.5);
  // Σ(x − 5)² = 32 over n − 1 = 7.
  close(stdev([2, 4, 4, 4, 5, 5, 7, 9]), Math.sqrt(32 / 7), 1e-12, 'stdev');
  assert.ok(Number.isNaN(stdev([1])));
  // median 2, |deviations| 1 1 0 0 2 4 7 → median 1.
  assert.equal(mad([1, 1, 2, 2, 4, 6, 9]), 1);
  close(mad([1, 1, 2, 2, 4, 6, 9], 1.4826), 1.4826, 1e-12, 'scaled MAD');
});

test('quantile never returns NaN next to infinite values', () => {
  assert.equal(quantile([1, Number.POSITIVE_INFINITY], 0), 1);
  assert.equal(quantile([1, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY], 0.75), Number.POSITIVE_INFINITY);
});

test('mulberry32 is deterministic, seeded and uniform enough', () => {
  const a = mulberry32(1);
  // The first output of the reference mulberry32 for seed 1.
  close(a(), 0.6270739405881613, 1e-15, 'mulberry32(1) first value');
  const x = mulberry32(42);
  const y = mulberry32(42);
  const xs = Array.from({ length: 5 }, () => x());
  assert.deepEqual(Array.from({ length: 5 }, () => y()), xs);
  const z = mulberry32(43);
  assert.notDeepEqual(Array.from({ length: 5 }, () => z()), xs);
  const r = mulberry32(7);
  const draws = Array.from({ length: 20000 }, () => r());
  assert.ok(draws.every((v) => v >= 0 && v < 1));
  close(mean(draws), 0.5, 0.01, 'mean of uniform draws');
  assert.notEqual(hashSeed('restic/no-fault/backup.wallMs'), hashSeed('kopia/no-fault/backup.wallMs'));
  assert.equal(hashSeed(''), 0x811c9dc5);
});

test('erfc and the normal CDF match tabulated values', () => {
  close(erfc(0), 1, 1e-15);
  close(erfc(1), 0.157299207050285, 1e-14, 'erfc(1)');
  close(erfc(-1), 1.842700792949715, 1e-14, 'erfc(-1)');
  close(erfc(2.5) / 0.0004069520174449589, 1, 1e-10, 'erfc(2.5) relative');
  close(erfc(3.5) / 7.430983723414128e-7, 1, 1e-10, 'erfc(3.5) relative');
  close(normalCdf(1.96), 0.9750021048517795, 1e-12, 'Φ(1.96)');
  close(normalCdf(-1.6448536269514722), 0.05, 1e-12, 'Φ(−1.645)');
});

test('ranks average ties and count the tie correction', () => {
  const r = rankWithTies([10, 20, 20, 30, 20]);
  assert.deepEqual(r.ranks, [1, 3, 3, 5, 3]);
  assert.equal(r.tieSum, 24); // one group of 3: 3³ − 3
  assert.equal(r.hasTies, true);
  assert.equal(rankWithTies([3, 1, 2]).hasTies, false);
});

test('exact U distribution by dynamic programming', () => {
  // 3 vs 3: the 20 orderings by U (a textbook table).
  assert.deepEqual(exactUCounts(3, 3), [1, 1, 2, 3, 3, 3, 3, 2, 1, 1]);
  const c55 = exactUCounts(5, 5);
  assert.equal(c55.reduce((a, b) => a + b, 0), 252); // C(10, 5)
  assert.deepEqual(c55.slice(0, 5), [1, 1, 2, 3, 5]);
  assert.equal(exactUCounts(15, 15).reduce((a, b) => a + b, 0), 155117520); // C(30, 15)
});

test('Mann–Whitney U, exact two-sided p-values', () => {
  const a = mannWhitneyU([1, 2, 3], [4, 5, 6]);
  assert.equal(a.method, 'exact');
  assert.equal(a.u1, 0);
  assert.equal(a.u2, 9);
  close(a.pValue, 0.1, 1e-15, '[1,2,3] vs [4,5,6]');
  close(a.minPValue, 0.1, 1e-15, 'smallest p for 3 vs 3');
  // Symmetric in the order of the samples.
  close(mannWhitneyU([4, 5, 6], [1, 2, 3]).pValue, 0.1, 1e-15);
  // 3 vs 6 fully separated: 2 / C(9, 3) = 2/84.
  close(mannWhitneyU([7, 8, 9], [1, 2, 3, 4, 5, 6]).pValue, 2 / 84, 1e-15, '3 vs 6');
  // 5 vs 5 with U = 2: P(U ≤ 2) = 4/252, two-sided 8/252 = 0.0317 (the 0.05 critical value of U is 2).
  close(mannWhitneyU([1, 2, 3, 4, 5], [3.5, 6, 7, 8, 9]).pValue, 8 / 252, 1e-15, '5 vs 5, U = 2');
  // Interleaved [1,3,5] vs [2,4,6]: U = 3, P(U ≤ 3) = 7/20 → p = 0.7.
  close(mannWhitneyU([1, 3, 5], [2, 4, 6]).pValue, 0.7, 1e-15, 'interleaved');
  // Identical distributions at the centre: p capped at 1.
  assert.equal(mannWhitneyU([1, 4], [2, 3]).pValue, 1);
});

test('Mann–Whitney U, normal approximation with tie and continuity corrections', () => {
  // x = [1,2,2,3,4], y = [2,5,6,7,8]: three tied 2s (ranks 2–4 → 3), R₁ = 1+3+3+5+6 = 18, U₁ = 18 − 15 = 3.
  // μ = 12.5; σ² = 25/12·(11 − 24/90) = 22.3611, σ = 4.72875; z = (9.5 − 0.5)/σ = 1.90325; p = 2(1 − Φ(z)) = 0.057008.
  const t = mannWhitneyU([1, 2, 2, 3, 4], [2, 5, 6, 7, 8]);
  assert.equal(t.method, 'normal');
  assert.equal(t.u1, 3);
  close(t.pValue, 0.057008, 1e-6, 'tied 5 vs 5');
  // 16 vs 16 without ties is beyond the exact limit: U = 0, μ = 128, σ = √704 = 26.533, z = 127.5/σ = 4.80534,
  // p = 2(1 − Φ(z)) = 1.5449e-6.
  const xs = Array.from({ length: 16 }, (_, i) => i + 1);
  const big = mannWhitneyU(xs, xs.map((v) => v + 16));
  assert.equal(big.method, 'normal');
  close(big.pValue / 1.5449101737495955e-6, 1, 1e-6, '16 vs 16');
  // Everything tied: no evidence at all.
  assert.equal(mannWhitneyU([5, 5, 5], [5, 5, 5]).pValue, 1);
});

test('bootstrap CI of the ratio of medians is reproducible and covers the true ratio', () => {
  const cur = [10, 11, 12, 13, 14];
  const base = [5, 5.5, 6, 6.5, 7];
  const a = bootstrapRatioCI(cur, base, { seed: 123 });
  const b = bootstrapRatioCI(cur, base, { seed: 123 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(bootstrapRatioCI(cur, base, { seed: 124, resamples: 500 }), bootstrapRatioCI(cur, base, { seed: 125, resamples: 500 }));
  assert.ok(a[0] <= 2 && 2 <= a[1], `CI ${a} contains the true ratio 2`);
  assert.ok(a[0] > 1, 'clearly separated samples: lower bound above 1');
  // Every resampled ratio lies between min(cur)/max(base) and max(cur)/min(base).
  assert.ok(a[0] >= 10 / 7 && a[1] <= 14 / 5);
  assert.ok(a[0] < a[1]);
  // A wider level gives an interval at least as wide.
  const wide = bootstrapRatioCI(cur, base, { seed: 123, confidence: 0.99 });
  assert.ok(wide[0] <= a[0] && wide[1] >= a[1]);
  // Equal samples: ratio 1 always.
  assert.deepEqual(bootstrapRatioCI([3, 3, 3], [3, 3, 3]), [1, 1]);
});

test('decide: a clear 2x regression with 3 vs 3 is flagged although p cannot go below 0.1', () => {
  const d = decide([2.0, 2.1, 2.2], [1.0, 1.05, 1.1], { threshold: 0.1, confidence: 0.95 });
  assert.equal(d.status, 'regression');
  close(d.ratio!, 2, 1e-12);
  close(d.pValue!, 0.1, 1e-15);
  assert.ok(d.ci![0] > 1);
});

test('decide: overlapping samples are not flagged even with a large median change', () => {
  // U₁ = 6 → p = 0.7; the samples overlap, so the small-sample escape does not apply.
  const d = decide([1.0, 2.2, 2.4], [1.1, 1.2, 1.3], { threshold: 0.1, confidence: 0.95 });
  assert.equal(d.status, 'unchanged');
  close(d.pValue!, 0.7, 1e-15);
});

test('decide: separated but below the threshold is unchanged; improvements are symmetric', () => {
  assert.equal(decide([1.05, 1.051, 1.052], [1.0, 1.001, 1.002], { threshold: 0.1, confidence: 0.95 }).status, 'unchanged');
  assert.equal(decide([0.5, 0.52, 0.51], [1.0, 1.01, 0.99], { threshold: 0.1, confidence: 0.95 }).status, 'improvement');
  // With 3 vs 6 the test can reach 0.05 (2/84), so it must: a separated sample does.
  const d = decide([2, 2.1, 2.2], [1, 1.01, 1.02, 1.03, 1.04, 1.05], { threshold: 0.1, confidence: 0.95 });
  assert.equal(d.status, 'regression');
  close(d.pValue!, 2 / 84, 1e-15);
  // At 99% confidence 2/84 = 0.024 is not significant, but reachable: min p 0.024 > 0.01 → the escape applies.
  assert.equal(decide([2, 2.1, 2.2], [1, 1.01, 1.02, 1.03, 1.04, 1.05], { threshold: 0.1, confidence: 0.99 }).status, 'regression');
});

test('decide: fewer than 2 values on a side is insufficient', () => {
  const d = decide([5], [1, 1.1, 1.2], { threshold: 0.1, confidence: 0.95 });
  assert.equal(d.status, 'insufficient');
  close(d.ratio!, 5 / 1.1, 1e-12);
  assert.equal(d.pValue, undefined);
  assert.equal(decide([1, 2], [3], { threshold: 0.1, confidence: 0.95 }).status, 'insufficient');
});
