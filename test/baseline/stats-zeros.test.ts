// detectableRatio with a zero on both sides (issue 8: the tie term of the zeros, which no test reached): zeros are
// ties with each other at every scale, so the rank test's tie correction counts them as one group, and the figure
// must still be exactly where decide starts to flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapRatioCI, decide, detectableRatio, median } from '../../src/baseline/stats.ts';

/** The current trials scaled so that their median is the baseline's, then by r. */
function shifted(current: number[], baseline: number[], r: number): number[] {
  const k = (median(baseline) / median(current)) * r;
  return current.map((v) => v * k);
}

test('zeros on both sides: the rank bound sets the figure, exactly where decide flags', () => {
  const opts = { threshold: 0.001, confidence: 0.95, seed: 4 };
  const current = [0, 1000, 1010, 990, 1005, 995, 1002, 998, 1001, 1004, 996, 1003];
  const baseline = [0, 0, 1000, 1010, 990, 1005, 995, 1002, 998, 1001, 999, 1007];
  const r = detectableRatio(current, baseline, opts)!;
  // Neither the threshold nor the bootstrap's bound: the rank test's.
  const [lower] = bootstrapRatioCI(shifted(current, baseline, 1), baseline, opts);
  assert.ok(r > 1 / lower! && r > 1.001, `figure ${r}, bootstrap bound ${1 / lower!}`);
  assert.equal(decide(shifted(current, baseline, r * (1 + 1e-7)), baseline, opts).status, 'regression');
  assert.equal(decide(shifted(current, baseline, r * (1 - 1e-7)), baseline, opts).status, 'unchanged');
});

test('zeros twice on each side and a tie among the baseline values: the tie term counts the zeros once, as one group', () => {
  // The pooled zeros are one tie group of 4 (60), the two 1001s of the baseline one of 2 (6): Σ(t³ − t) = 66. Counting
  // the zeros again within each sample (78), leaving out the non-zero tie (60 or 72), or 4³ − 0 for the zeros (70)
  // moves the normal approximation's p enough to cross α at one U₁ for one of these levels, and the figure to
  // another ratio.
  const current = [0, 0, 1000, 1010, 990, 1005, 995, 1002, 998, 1001, 1004, 996, 1003];
  const baseline = [0, 0, 1000, 1010, 990, 1005, 995, 1002, 998, 1001, 1001, 1007];
  for (const confidence of [0.94, 0.947, 0.8355]) {
    const opts = { threshold: 0.001, confidence, seed: 4 };
    const r = detectableRatio(current, baseline, opts)!;
    const [lower] = bootstrapRatioCI(shifted(current, baseline, 1), baseline, opts);
    assert.ok(r > 1 / lower! && r > 1.001, `${confidence}: figure ${r}, bootstrap bound ${1 / lower!}`);
    assert.equal(decide(shifted(current, baseline, r * (1 + 1e-7)), baseline, opts).status, 'regression', `${confidence}`);
    assert.equal(decide(shifted(current, baseline, r * (1 - 1e-7)), baseline, opts).status, 'unchanged', `${confidence}`);
  }
});
