// Change points in a series of per-run medians: E-divisive means (Matteson & James, "A nonparametric approach for
// multiple change point analysis of multivariate data", 2014), the method Hunter and Otava use on benchmark
// histories, with a seeded permutation test for significance and binary segmentation for more than one change.
// Pure and deterministic: the same series gives the same change points.
import { mulberry32 } from './stats.ts';

export interface ChangePoint {
  /** Index of the first value of the new level. */
  index: number;
  /** Permutation p-value of the split. */
  pValue: number;
}

export interface EDivisiveOptions {
  /** Permutations per significance test (default 199: the smallest p is 1/200). */
  permutations?: number;
  /** A split counts when its p-value is at most this (default 0.01). */
  alpha?: number;
  /** Fewest values on each side of a split (default 2, the least the within-sample distances need). */
  minSize?: number;
  seed?: number;
}

/**
 * The divergence statistic of splitting `xs` before index tau, with exponent 1:
 * Q(τ) = (n·m / (n + m)) · (2/(n·m) Σᵢⱼ |xᵢ − yⱼ| − 1/C(n,2) Σᵢ<ₖ |xᵢ − xₖ| − 1/C(m,2) Σⱼ<ₖ |yⱼ − yₖ|),
 * x = xs[0..τ), y = xs[τ..), n = τ, m = length − τ: the energy distance between the two sides, scaled by their sizes.
 */
export function divergence(xs: readonly number[], tau: number): number {
  if (!(tau >= 1 && tau < xs.length)) return Number.NaN;
  return bestSplit(xs, tau, tau)!.q;
}

/**
 * The split with the largest divergence among τ in [lo, hi] (the first of equal ones), in O(T²): the three sums are
 * updated as each value moves from the right side to the left one. For 1 ≤ lo and hi ≤ T − 1; undefined when lo > hi.
 */
function bestSplit(xs: readonly number[], lo: number, hi: number): { tau: number; q: number } | undefined {
  const T = xs.length;
  // Start with τ = 0: everything on the right.
  let between = 0;
  let left = 0;
  let right = 0;
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) right += Math.abs(xs[i]! - xs[j]!);
  let best: { tau: number; q: number } | undefined;
  for (let tau = 1; tau <= hi; tau++) {
    // Move xs[tau − 1] from the right side to the left one.
    const v = xs[tau - 1]!;
    let toLeft = 0;
    for (let i = 0; i < tau - 1; i++) toLeft += Math.abs(v - xs[i]!);
    let toRight = 0;
    for (let j = tau; j < T; j++) toRight += Math.abs(v - xs[j]!);
    left += toLeft;
    right -= toRight;
    between += toRight - toLeft;
    if (tau < lo) continue;
    const n = tau;
    const m = T - tau;
    const e = (2 / (n * m)) * between - (n > 1 ? (2 / (n * (n - 1))) * left : 0) - (m > 1 ? (2 / (m * (m - 1))) * right : 0);
    const q = ((n * m) / (n + m)) * e;
    if (!best || q > best.q) best = { tau, q };
  }
  return best;
}

/**
 * The best split of a segment and its permutation p-value: how often a shuffled segment splits at least as well,
 * (1 + the permutations whose best split scores at least q·(1 − 10⁻¹²)) / (permutations + 1). The permutations are
 * successive Fisher–Yates shuffles of one copy of the segment (i from its last index down to 1, swapped with
 * j = ⌊rand()·(i + 1)⌋); none is drawn for a segment without a split of positive divergence.
 */
function testSegment(xs: readonly number[], minSize: number, permutations: number, rand: () => number): { tau: number; pValue: number } | undefined {
  const best = bestSplit(xs, minSize, xs.length - minSize);
  if (!best || !(best.q > 0)) return undefined;
  const shuffled = [...xs];
  let atLeast = 0;
  for (let r = 0; r < permutations; r++) {
    // Fisher–Yates with the seeded PRNG.
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = shuffled[i]!;
      shuffled[i] = shuffled[j]!;
      shuffled[j] = t;
    }
    const q = bestSplit(shuffled, minSize, shuffled.length - minSize)!.q;
    // A small tolerance: a permutation equal to the original up to rounding counts as at least as good.
    if (q >= best.q * (1 - 1e-12)) atLeast++;
  }
  return { tau: best.tau, pValue: (atLeast + 1) / (permutations + 1) };
}

/**
 * Change points of a series by E-divisive means: the best split of the whole series is kept when its permutation
 * p-value is at most alpha, then each side is searched the same way (binary segmentation), until no segment of at
 * least 2·minSize values splits significantly. Sorted by index.
 */
export function changePoints(series: readonly number[], opts: EDivisiveOptions = {}): ChangePoint[] {
  const permutations = opts.permutations ?? 199;
  const alpha = opts.alpha ?? 0.01;
  const minSize = Math.max(2, opts.minSize ?? 2);
  const rand = mulberry32(opts.seed ?? 0x7e4d);
  const found: ChangePoint[] = [];
  const segments: [number, number][] = [[0, series.length]];
  while (segments.length) {
    const [start, end] = segments.shift()!;
    // A segment of fewer than 2·minSize values has no split: testSegment gives none.
    const t = testSegment(series.slice(start, end), minSize, permutations, rand);
    if (!t || t.pValue > alpha) continue;
    found.push({ index: start + t.tau, pValue: t.pValue });
    segments.push([start, start + t.tau], [start + t.tau, end]);
  }
  return found.sort((a, b) => a.index - b.index);
}
