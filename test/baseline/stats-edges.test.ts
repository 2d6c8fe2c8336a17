// Edge cases of stats.ts that the mutation run (npm run mutate -- baseline) showed untested: empty samples, the
// boundaries of the decision rule, the bootstrap procedure step by step, numerically delicate inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapRatioCI, decide, erfc, mannWhitneyU, mulberry32, quantile, safeRatio, stdev } from '../../src/baseline/stats.ts';
import type { DecideOptions } from '../../src/baseline/stats.ts';

const opts = (over: Partial<DecideOptions> = {}): DecideOptions => ({ threshold: 0.1, confidence: 0.95, ...over });

const relClose = (actual: number, expected: number, rel: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${what}: expected ${expected} (±${rel} relative), got ${actual}`);

test('quantile clamps q to [0, 1]', () => {
  assert.equal(quantile([3, 1, 2], -0.5), 1);
  assert.equal(quantile([3, 1, 2], 1.5), 3);
});

test('stdev: NaN below two values, Bessel-corrected with two, no cancellation far from zero', () => {
  assert.ok(Number.isNaN(stdev([])));
  assert.ok(Number.isNaN(stdev([4])));
  assert.equal(stdev([1, 3]), Math.SQRT2);
  // Deviations from the mean (1e9 + 0.35) are −0.25, −0.15, 0.05, 0.35: Σd² = 0.21, s = √(0.21 / 3).
  // Σ(x² − x̄²) would lose everything to rounding here; Σ(x − x̄)² does not.
  relClose(stdev([1e9 + 0.1, 1e9 + 0.2, 1e9 + 0.4, 1e9 + 0.7]), Math.sqrt(0.07), 1e-6, 'stdev near 1e9');
});

test('erfc at the switch from the series to the continued fraction keeps its 1e-14 accuracy', () => {
  // erfc(2) = 0.004677734981047265838… (Abramowitz & Stegun table 7.1); the series alone is 5e-14 off here.
  relClose(erfc(2), 0.004677734981047266, 1e-14, 'erfc(2)');
});

test('Mann–Whitney U: an empty side gives no evidence; U₂ = n₁n₂ − U₁; 15 vs 15 is still exact', () => {
  const empty = { u1: Number.NaN, u2: Number.NaN, pValue: 1, minPValue: 1, method: 'exact' };
  assert.deepEqual(mannWhitneyU([], [1, 2]), empty);
  assert.deepEqual(mannWhitneyU([1, 2], []), empty);
  const t = mannWhitneyU([1, 3, 5], [2, 4, 6]);
  assert.equal(t.u1, 3);
  assert.equal(t.u2, 6);
  // n₁ + n₂ = 30 = EXACT_MAX_TOTAL without ties: exact, smallest p = 2 / C(30, 15).
  const xs = Array.from({ length: 15 }, (_, i) => i + 1);
  const at = mannWhitneyU(xs, xs.map((v) => v + 15));
  assert.equal(at.method, 'exact');
  assert.equal(at.pValue, 2 / 155117520);
});

test('safeRatio: 0/0 = 1, ±x/0 = ±∞, otherwise a / b', () => {
  assert.equal(safeRatio(0, 0), 1);
  assert.equal(safeRatio(3, 0), Number.POSITIVE_INFINITY);
  assert.equal(safeRatio(-3, 0), Number.NEGATIVE_INFINITY);
  assert.equal(safeRatio(6, 3), 2);
});

/** The documented procedure, written out independently: per resample, draw `current` then `baseline` with replacement. */
function referenceBootstrap(current: number[], baseline: number[], resamples: number, confidence: number, seed: number): [number, number] {
  const rand = mulberry32(seed);
  const type7 = (s: number[], q: number) => {
    const h = (s.length - 1) * q;
    const lo = Math.floor(h);
    const hi = Math.min(lo + 1, s.length - 1);
    return s[lo]! + (s[hi]! - s[lo]!) * (h - lo);
  };
  const med = (xs: number[]) => type7([...xs].sort((a, b) => a - b), 0.5);
  const ratios: number[] = [];
  for (let r = 0; r < resamples; r++) {
    const a = current.map(() => current[Math.floor(rand() * current.length)]!);
    const b = baseline.map(() => baseline[Math.floor(rand() * baseline.length)]!);
    ratios.push(med(a) / med(b));
  }
  ratios.sort((x, y) => x - y);
  const alpha = 1 - confidence;
  return [type7(ratios, alpha / 2), type7(ratios, 1 - alpha / 2)];
}

test('bootstrapRatioCI follows the documented procedure draw by draw', () => {
  // Unsorted inputs, an even and an odd sample size, a level other than the default.
  const cur = [14, 10, 13, 11];
  const base = [7, 5, 6.5, 5.5, 6];
  const got = bootstrapRatioCI(cur, base, { seed: 99, resamples: 500, confidence: 0.9 });
  const want = referenceBootstrap(cur, base, 500, 0.9, 99);
  relClose(got[0], want[0], 1e-12, 'lower bound');
  relClose(got[1], want[1], 1e-12, 'upper bound');
  // Defaults: 2000 resamples, 95 %, seed 0x5eed.
  const d = bootstrapRatioCI(cur, base);
  const dw = referenceBootstrap(cur, base, 2000, 0.95, 0x5eed);
  relClose(d[0], dw[0], 1e-12, 'default lower bound');
  relClose(d[1], dw[1], 1e-12, 'default upper bound');
  assert.deepEqual(bootstrapRatioCI([], [1, 2]).length, 2);
  assert.ok(bootstrapRatioCI([], [1, 2]).every(Number.isNaN));
  // Also against a baseline whose median is 0: resampling an empty current side would give safeRatio(NaN, 0), −∞.
  assert.deepEqual(bootstrapRatioCI([], [0, 0]), [Number.NaN, Number.NaN]);
});

test('decide passes its confidence, seed and resamples to the bootstrap', () => {
  const cur = [2, 2.3, 1.9, 2.6];
  const base = [1, 1.2, 0.9, 1.1, 1.3];
  const o = { confidence: 0.8, seed: 7, resamples: 300 };
  assert.deepEqual(decide(cur, base, opts(o)).ci, bootstrapRatioCI(cur, base, o));
});

test('decide: an empty side is insufficient without a ratio; two values on each side are enough', () => {
  assert.deepEqual(decide([], [1, 2, 3], opts()), { status: 'insufficient' });
  assert.deepEqual(decide([1, 2, 3], [], opts()), { status: 'insufficient' });
  // 2 vs 3 and 3 vs 2, fully separated: the test cannot reach 0.05 (min p 0.2), so the escape applies.
  assert.equal(decide([2, 2.1], [1, 1.05, 1.1], opts()).status, 'regression');
  assert.equal(decide([2, 2.1, 2.2], [1, 1.05], opts()).status, 'regression');
});

test('decide: the noise floor compares the difference of the medians, and only a smaller one is noise', () => {
  // |31 − 12| = 19 < 40: noise, although 31 + 12 = 43 is not.
  assert.equal(decide([30, 31, 32], [11.5, 12, 12.5], opts({ minDelta: 40 })).status, 'unchanged');
  // A difference of exactly the floor counts.
  assert.equal(decide([1.9, 2, 2.1], [0.9, 1, 1.1], opts({ minDelta: 1 })).status, 'regression');
});

test('decide: a ratio of exactly 1 ± threshold is not a change', () => {
  assert.equal(decide([1.09, 1.1, 1.11], [0.99, 1, 1.01], opts()).status, 'unchanged');
  assert.equal(decide([0.89, 0.9, 0.91], [0.99, 1, 1.01], opts()).status, 'unchanged');
});

test('decide: the escape for unreachable significance needs every value on one side, not just separated medians', () => {
  // 3 vs 4: smallest p 2/35 = 0.057 > 0.05, so the test cannot be significant; CI ×1.02–×2.19 lies above 1, but
  // 2.0 < 2.05: one pair is the wrong way round (p = 4/35), so this is not a regression.
  const up = decide([2, 2.1, 2.2], [1, 1.01, 1.02, 2.05], opts());
  assert.equal(up.status, 'unchanged');
  assert.ok(up.ci![0] > 1 && up.pValue! > 0.05 && up.minPValue! > 0.05, JSON.stringify(up));
  const down = decide([0.45, 0.46, 0.47], [1, 0.99, 0.98, 0.465], opts());
  assert.equal(down.status, 'unchanged');
  assert.ok(down.ci![1] < 1 && down.pValue! > 0.05 && down.minPValue! > 0.05, JSON.stringify(down));
  // A tie between the slowest baseline and the fastest current value is not "every value worse" either (96 %: the
  // tied samples' smallest p, 0.0497, is above α = 0.04).
  const tiedUp = decide([2.05, 2.1, 2.2], [1, 1.01, 1.02, 2.05], opts({ confidence: 0.96 }));
  assert.equal(tiedUp.status, 'unchanged');
  assert.ok(tiedUp.ci![0] > 1 && tiedUp.minPValue! > 0.04, JSON.stringify(tiedUp));
  const tiedDown = decide([0.45, 0.46, 0.47], [1, 0.99, 0.98, 0.47], opts({ confidence: 0.96 }));
  assert.equal(tiedDown.status, 'unchanged');
  assert.ok(tiedDown.ci![1] < 1 && tiedDown.minPValue! > 0.04, JSON.stringify(tiedDown));
});

test('decide: a significant rank test alone is not enough when the interval touches 1', () => {
  // 11 of 20 current values at 10, 9 at 1; every baseline value 1: p ≈ 0.0001, ratio 10, but a quarter of the
  // resampled current medians are 1, so the interval's lower bound is exactly 1.
  const up = decide([...Array(11).fill(10), ...Array(9).fill(1)], Array(20).fill(1), opts());
  assert.equal(up.status, 'unchanged');
  assert.equal(up.ci![0], 1);
  assert.ok(up.pValue! < 0.001);
  const down = decide([...Array(11).fill(0.1), ...Array(9).fill(1)], Array(20).fill(1), opts());
  assert.equal(down.status, 'unchanged');
  assert.equal(down.ci![1], 1);
});

test('decide: p equal to α is significant; a reachable significant improvement is one', () => {
  // 16 vs 16 with one pair the wrong way round (1.145 < 1.15): not every current value is worse, so the rank test
  // alone decides (U₁ = 255 of 256, p ≈ 1.9e-6, not the smallest p of these sizes).
  const cur = [1.145, ...Array.from({ length: 15 }, (_, i) => 2.01 + i * 0.01)];
  const base = Array.from({ length: 16 }, (_, i) => 1 + i * 0.01);
  const t = mannWhitneyU(cur, base);
  assert.equal(t.u1, 255);
  assert.ok(t.pValue > t.minPValue);
  const p = t.pValue;
  // The normal approximation's p is a multiple of 2⁻⁵³, so 1 − (1 − p) is p again: α = p exactly.
  assert.equal(1 - (1 - p), p);
  assert.equal(decide(cur, base, opts({ confidence: 1 - p })).status, 'regression');
  // α just below p: the same samples are no longer a regression (the interval and the ratio still clear).
  const below = decide(cur, base, opts({ confidence: 1 - p * (1 - 1e-9) }));
  assert.equal(below.status, 'unchanged');
  assert.ok(below.ci![0] > 1.1 && below.ratio! > 1.1, JSON.stringify(below));
  const curI = cur.map((v) => 1 / v);
  const baseI = base.map((v) => 1 / v);
  const tI = mannWhitneyU(curI, baseI);
  assert.equal(tI.u1, 1);
  const pI = tI.pValue;
  assert.equal(1 - (1 - pI), pI);
  assert.equal(decide(curI, baseI, opts({ confidence: 1 - pI })).status, 'improvement');
  const belowI = decide(curI, baseI, opts({ confidence: 1 - pI * (1 - 1e-9) }));
  assert.equal(belowI.status, 'unchanged');
  assert.ok(belowI.ci![1] < 0.9 && belowI.ratio! < 0.9, JSON.stringify(belowI));
  // 3 vs 6 can reach 0.05: a separated improvement is significant (p = 2/84) without the escape.
  const d = decide([0.5, 0.51, 0.52], [1, 1.01, 1.02, 1.03, 1.04, 1.05], opts());
  assert.equal(d.status, 'improvement');
  assert.ok(d.minPValue! < 0.05);
});

test('decide, zero spread: a ratio of exactly 1 ± threshold is no change; the interval is the ratio itself', () => {
  const opts = { threshold: 0.1, confidence: 0.95 };
  assert.equal(1.1 / 1, 1 + 0.1, 'the ratio is the bound exactly');
  assert.deepStrictEqual(decide([1.1, 1.1], [1, 1], opts), { status: 'unchanged', rule: 'zero-spread', ratio: 1.1, ci: [1.1, 1.1] });
  assert.equal(0.9 / 1, 1 - 0.1);
  assert.deepStrictEqual(decide([0.9, 0.9], [1, 1], opts), { status: 'unchanged', rule: 'zero-spread', ratio: 0.9, ci: [0.9, 0.9] });
  assert.deepStrictEqual(decide([1.2, 1.2], [1, 1], opts), { status: 'regression', rule: 'zero-spread', ratio: 1.2, ci: [1.2, 1.2] });
  assert.deepStrictEqual(decide([0.8, 0.8], [1, 1], opts), { status: 'improvement', rule: 'zero-spread', ratio: 0.8, ci: [0.8, 0.8] });
});
