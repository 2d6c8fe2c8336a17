// trend.ts's E-divisive search on small series with a given seed and few permutations, so that every split and
// p-value is known: divergence at the ends of its range, the split among equal ones, the permutation test checked
// against the steps its comment documents, the minimum segment size, binary segmentation's second level and the
// order of the change points (issue 8: the mutants of trend.ts that only the simulation reached, or none).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../src/baseline/stats.ts';
import { changePoints, divergence } from '../../src/baseline/trend.ts';

test('divergence: a side of one value, both ends of the range, and no split outside it', () => {
  // [1 | 5,5]: between 2/(1·2)·(4 + 4) = 8, no within-sum on a side of one, none in 5,5: Q = (2/3)·8.
  assert.equal(divergence([1, 5, 5], 1), (2 / 3) * 8);
  assert.equal(divergence([5, 5, 1], 2), (2 / 3) * 8);
  // [9,1 | 1,1]: between 2/4·16 = 8, within 2/2·8 = 8 on the left: Q = 0 (the split at 1 would score 12).
  assert.equal(divergence([9, 1, 1, 1], 2), 0);
  assert.ok(Number.isNaN(divergence([1, 5, 5], 0)));
  assert.ok(Number.isNaN(divergence([1, 5, 5], 3)));
  assert.ok(Number.isNaN(divergence([1, 5, 5], -1)));
});

/** The best split over τ in [minSize, T − minSize], the first of equal ones, scored with divergence. */
function best(xs: number[], minSize: number): { tau: number; q: number } {
  let b = { tau: 0, q: Number.NEGATIVE_INFINITY };
  for (let tau = minSize; tau <= xs.length - minSize; tau++) {
    const q = divergence(xs, tau);
    if (q > b.q) b = { tau, q };
  }
  return b;
}

/** The documented permutation p-value of a whole series, with a fresh PRNG of this seed. */
function documentedP(xs: number[], minSize: number, permutations: number, seed: number): number {
  const rand = mulberry32(seed);
  const { q } = best(xs, minSize);
  const a = [...xs];
  let atLeast = 0;
  for (let r = 0; r < permutations; r++) {
    for (let i = a.length - 1; i >= 1; i--) {
      const j = Math.floor(rand() * (i + 1));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    if (best(a, minSize).q >= q * (1 - 1e-12)) atLeast++;
  }
  return (atLeast + 1) / (permutations + 1);
}

test('changePoints: the p-value of the first split is exactly the documented permutation test', () => {
  // Series of 6: both sides of the split are too short to split again, so the p-value is the whole series' one.
  for (const [xs, permutations, seed] of [
    [[0, 0, 0, 10, 10, 10], 19, 5],
    [[1, 7, 2, 8, 9, 3], 99, 11],
    [[4, 4, 1, 9, 9, 9], 39, 0x7e4d],
  ] as [number[], number, number][]) {
    const want = documentedP(xs, 2, permutations, seed);
    assert.ok(want > 1 / (permutations + 1) && want < 1, `${xs}: some but not every permutation splits as well (${want})`);
    assert.deepStrictEqual(changePoints(xs, { alpha: 1, permutations, seed }), [{ index: best(xs, 2).tau, pValue: want }]);
  }
});

test('changePoints: the default seed is 0x7e4d', () => {
  const xs = [1, 7, 2, 8, 9, 3];
  assert.deepStrictEqual(changePoints(xs, { alpha: 1, permutations: 99 }), changePoints(xs, { alpha: 1, permutations: 99, seed: 0x7e4d }));
  assert.notDeepStrictEqual(changePoints(xs, { alpha: 1, permutations: 99 }), changePoints(xs, { alpha: 1, permutations: 99, seed: 1 }));
});

test('changePoints: without permutations the p-value is 1, which a level of 1 accepts (a p equal to it counts); no split of divergence 0', () => {
  assert.deepStrictEqual(changePoints([0, 0, 10, 10], { alpha: 1, permutations: 0 }), [{ index: 2, pValue: 1 }]);
  // Flat: the best split scores 0, so there is no test at all, even at a level of 1.
  assert.deepStrictEqual(changePoints([3, 3, 3, 3, 3, 3], { alpha: 1, permutations: 9 }), []);
  // [9,1,1,1]: the only split allowed (at 2) scores 0.
  assert.deepStrictEqual(changePoints([9, 1, 1, 1], { alpha: 1, permutations: 9 }), []);
});

test('changePoints: of two equal splits the first is tested on the whole series', () => {
  // [0,0 | 10,10 | 0,0]: the splits at 2 and at 4 score the same; 2 gets the whole series' p-value, 4 its segment's.
  const xs = [0, 0, 10, 10, 0, 0];
  const found = changePoints(xs, { alpha: 1, permutations: 19, seed: 3 });
  assert.deepStrictEqual(found.map((c) => c.index), [2, 4]);
  assert.equal(divergence(xs, 2), divergence(xs, 4));
  assert.equal(found[0]!.pValue, documentedP(xs, 2, 19, 3));
  assert.notEqual(found[1]!.pValue, found[0]!.pValue);
});

test('changePoints: minSize values at least on each side, never fewer than 2', () => {
  const xs = [0, 0, 10, 10, 10, 10];
  assert.deepStrictEqual(changePoints(xs, { alpha: 1, permutations: 0 }).map((c) => c.index), [2]);
  // With 3 the only split is at 3; with 1 it is 2 all the same.
  assert.deepStrictEqual(changePoints(xs, { alpha: 1, permutations: 0, minSize: 3 }), [{ index: 3, pValue: 1 }]);
  assert.deepStrictEqual(changePoints(xs, { alpha: 1, permutations: 0, minSize: 1 }).map((c) => c.index), [2]);
  // 4 values are enough for 2 each side, 3 are not.
  assert.deepStrictEqual(changePoints([0, 0, 10], { alpha: 1, permutations: 0 }), []);
});

test('changePoints: the second level is searched from the split on; sorted by index', () => {
  // Three levels of 7: the first split is at 14 (0,1 against 100), the second at 7, in the segment [0, 14).
  const xs = [...Array(7).fill(0), ...Array(7).fill(1), ...Array(7).fill(100)];
  assert.equal(best(xs, 2).tau, 14);
  const found = changePoints(xs, { seed: 1 });
  assert.deepStrictEqual(found.map((c) => c.index), [7, 14]);
  assert.deepStrictEqual(found.map((c) => c.pValue), [0.005, 0.005]);
});
