// E-divisive change points by simulation: how often a shift is found where it is, and how often one is found where
// there is none. Slow (hundreds of series × 199 permutations), and left out of mutation runs of other subjects
// (stryker.config.mjs); the exact tests are in trend.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../src/baseline/stats.ts';
import { changePoints } from '../../src/baseline/trend.ts';

/** n values around 1000 with lognormal noise of σ (Box–Muller from the seeded PRNG). */
function noise(seed: number, n: number, sigma: number): number[] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, () => 1000 * Math.exp(sigma * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())));
}

const shifted = (xs: number[], k: number, factor: number) => xs.map((v, i) => (i >= k ? v * factor : v));

test('a level shift at run k of 20 noisy runs is found alone at k ± 1 in nearly every series', () => {
  for (const k of [5, 10, 15]) {
    let exact = 0;
    for (let s = 0; s < 30; s++) {
      const found = changePoints(shifted(noise(100 * k + s, 20, 0.05), k, 1.25), { seed: s });
      if (found.length === 1 && Math.abs(found[0]!.index - k) <= 1) exact++;
    }
    assert.ok(exact >= 27, `shift at run ${k}: found alone at k ± 1 in ${exact} of 30 series`);
  }
});

test('in 100 series of 20 runs without a shift, a change point is found about as often as the level says', () => {
  let any = 0;
  for (let s = 0; s < 100; s++) if (changePoints(noise(5000 + s, 20, 0.05), { seed: s }).length) any++;
  // The test's level is 1%: about one series in a hundred.
  assert.ok(any <= 3, `a change point in ${any} of 100 series without a shift`);
});
