// detectableRatio's early exits (issue 8: mutants of src/baseline/stats.ts no test told apart): the threshold alone
// only when neither side has spread, +∞ when even the largest rank count cannot pass the test, and a p equal to α
// passing as it does in decide.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapRatioCI, decide, detectableRatio, mannWhitneyU, median, mulberry32, rankTestP } from '../../src/baseline/stats.ts';

const opts = { threshold: 0.1, confidence: 0.95 };

/** The current trials scaled so that their median is the baseline's, then by r. */
function shifted(current: number[], baseline: number[], r: number): number[] {
  const k = (median(baseline) / median(current)) * r;
  return current.map((v) => v * k);
}

test('detectableRatio: one side without spread is not the zero-spread rule; the rank test sets the figure', () => {
  // Every current value the same, the baseline spread: decide tests as usual, and with 5 vs 5 equal current values
  // it flags only once they are all above the largest baseline value, 1500 = 1.5 × the median.
  const current = [1000, 1000, 1000, 1000, 1000];
  const baseline = [500, 1000, 1500, 700, 1300];
  const r = detectableRatio(current, baseline, opts)!;
  assert.equal(r, 1.5);
  assert.equal(decide(shifted(current, baseline, r * (1 + 1e-7)), baseline, opts).status, 'regression');
  assert.equal(decide(shifted(current, baseline, r * (1 - 1e-7)), baseline, opts).status, 'unchanged');
});

test('detectableRatio: +∞ when even every positive current value above every baseline value would not pass', () => {
  // 7 vs 2 cannot reach α = 0.05 (smallest p 2/36), so only "every current value worse" passes, and the current 0
  // never beats a baseline value. The bootstrap alone would allow a figure (its lower bound is above 0).
  const current = [0, 10, 11, 12, 13, 14, 15];
  const baseline = [10, 12];
  const [lower] = bootstrapRatioCI(shifted(current, baseline, 1), baseline, opts);
  assert.ok(lower! > 0.5, `${lower}`);
  assert.equal(detectableRatio(current, baseline, opts), Number.POSITIVE_INFINITY);
  assert.equal(decide(shifted(current, baseline, 100), baseline, opts).status, 'unchanged');
});

test('detectableRatio: a rank count whose p equals α passes, as in decide (p ≤ α)', () => {
  const rand = mulberry32(7);
  const current = Array.from({ length: 16 }, () => 1000 + 400 * rand());
  const baseline = Array.from({ length: 16 }, () => 1000 + 400 * rand());
  // 16 vs 16 is the normal approximation, whose p is a multiple of 2⁻⁵³: α = 1 − (1 − p) is p exactly. With α the p
  // of U₁ = 220 of 256, the figure (here the bootstrap's bound) is a ratio where U₁ is 220 and the test passes.
  const p = rankTestP(16, 16, 0).p(220);
  assert.equal(1 - (1 - p), p);
  const o = { threshold: 0.001, confidence: 1 - p, resamples: 500 };
  const r = detectableRatio(current, baseline, o)!;
  const at = shifted(current, baseline, r * (1 + 1e-7));
  assert.deepEqual([mannWhitneyU(at, baseline).u1, mannWhitneyU(at, baseline).pValue], [220, p]);
  assert.equal(decide(at, baseline, o).status, 'regression');
  assert.equal(decide(shifted(current, baseline, r * (1 - 1e-7)), baseline, o).status, 'unchanged');
});

test('detectableRatio: +∞ when the bootstrap interval reaches below 0, although the rank test alone would pass', () => {
  // 6 of 20 current values negative: enough resampled medians are negative that the interval's lower bound is below
  // 0, and scaling by any factor keeps it there; 14 positive values above all 20 baseline values would pass the test.
  const current = [...Array(6).fill(-100), ...Array.from({ length: 14 }, (_, i) => 10 + i)];
  const baseline = Array.from({ length: 20 }, (_, i) => 10 + i);
  const [lower] = bootstrapRatioCI(shifted(current, baseline, 1), baseline, opts);
  assert.ok(lower! < 0, `${lower}`);
  assert.equal(detectableRatio(current, baseline, opts), Number.POSITIVE_INFINITY);
  assert.equal(decide(shifted(current, baseline, 1000), baseline, opts).status, 'unchanged');
});
