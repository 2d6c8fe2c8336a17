// Small, pure statistics for comparing benchmark samples with a baseline: descriptive statistics, a seeded PRNG,
// the Mann–Whitney U rank test (exact or normal approximation), a bootstrap interval for a ratio of medians and the
// decision rule that turns all of them into a status. No I/O, no global state, deterministic for the same input.
import { hashSeed, mulberry32 } from '../workloads/random.ts';

// The project's one PRNG and seed hash, re-exported for the comparison's per-metric seeds.
export { hashSeed, mulberry32 };

/** Sorted copy, ascending. */
function sorted(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

/**
 * Quantile of an already sorted array, "type 7" (the R / NumPy default): h = (n − 1)·q and linear interpolation
 * between the order statistics x⌊h⌋ and x⌈h⌉. Handles infinite values without producing NaN.
 */
function quantileSorted(s: ArrayLike<number>, q: number): number {
  if (s.length === 0) return Number.NaN;
  const h = (s.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(h);
  const a = s[lo]!;
  const frac = h - lo;
  if (frac === 0) return a;
  const b = s[Math.min(lo + 1, s.length - 1)]!;
  if (a === b) return a;
  return a + (b - a) * frac;
}

/** Median of an already sorted array. */
function sortedMedian(s: ArrayLike<number>): number {
  return quantileSorted(s, 0.5);
}

/** The q-quantile (0 ≤ q ≤ 1), type 7 (see quantileSorted). NaN for an empty sample. */
export function quantile(xs: readonly number[], q: number): number {
  return quantileSorted(sorted(xs), q);
}

/** The median: the middle order statistic, or the mean of the two middle ones. NaN for an empty sample. */
export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/** Arithmetic mean, Σx / n. NaN for an empty sample. */
export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Sample standard deviation with Bessel's correction, √(Σ(x − x̄)² / (n − 1)). NaN below 2 values. */
export function stdev(xs: readonly number[]): number {
  if (xs.length < 2) return Number.NaN;
  const m = mean(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) * (x - m);
  return Math.sqrt(ss / (xs.length - 1));
}

/**
 * Median absolute deviation, median(|x − median(x)|) · scale. Pass scale = 1.4826 for a consistent estimator of σ
 * under normality. NaN for an empty sample.
 */
export function mad(xs: readonly number[], scale = 1): number {
  if (xs.length === 0) return Number.NaN;
  const m = median(xs);
  return median(xs.map((x) => Math.abs(x - m))) * scale;
}



/**
 * Complementary error function, erfc(x) = 1 − erf(x), to about 1e-14 relative accuracy.
 * For |x| < 2 the everywhere-positive series erf(x) = (2/√π)·e^(−x²)·Σₙ 2ⁿ x^(2n+1) / (1·3·5···(2n+1))
 * (no cancellation); for x ≥ 2 the continued fraction
 * erfc(x) = (e^(−x²)/√π) · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))), evaluated backwards from a fixed depth.
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < 2) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (2 * x * x) / (2 * n + 1);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
  }
  if (x > 27) return 0;
  let t = x;
  for (let k = 120; k >= 1; k--) t = x + k / 2 / t;
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * t);
}

/** Standard normal CDF, Φ(z) = erfc(−z/√2) / 2. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** Ranks 1..n of the pooled values, ties get the average of the ranks they span. Also Σ(t³ − t) over tie groups. */
export function rankWithTies(values: readonly number[]): { ranks: number[]; tieSum: number; hasTies: boolean } {
  const idx = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length).fill(0);
  let tieSum = 0;
  let i = 0;
  while (i < idx.length) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1]![0] === idx[i]![0]) j++;
    const avg = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) ranks[idx[k]![1]] = avg;
    const t = j - i + 1;
    if (t > 1) tieSum += t * t * t - t;
    i = j + 1;
  }
  return { ranks, tieSum, hasTies: tieSum > 0 };
}

/**
 * Exact null distribution of U for sample sizes m and n (no ties): counts[u] = number of the C(m+n, m) equally likely
 * orderings with U = u. Dynamic programming over the position of the largest value: if it belongs to the first sample
 * it exceeds all j values of the second, so N(i, j, u) = N(i − 1, j, u − j) + N(i, j − 1, u), N(0, j, 0) = N(i, 0, 0) = 1.
 */
export function exactUCounts(m: number, n: number): number[] {
  // table[i][j] is the count array for (i, j); built row by row.
  let prev: number[][] = [];
  for (let i = 0; i <= m; i++) {
    const row: number[][] = [];
    for (let j = 0; j <= n; j++) {
      const size = i * j + 1;
      const c = new Array<number>(size).fill(0);
      if (i === 0 || j === 0) c[0] = 1;
      else {
        const up = prev[j]!; // (i − 1, j)
        const left = row[j - 1]!; // (i, j − 1)
        for (let u = 0; u < size; u++) c[u] = (u - j >= 0 && u - j < up.length ? up[u - j]! : 0) + (u < left.length ? left[u]! : 0);
      }
      row.push(c);
    }
    prev = row;
  }
  return prev[n]!;
}

export interface MannWhitneyResult {
  /** U of the first sample: the number of pairs (x, y) with x > y, ties counting ½. */
  u1: number;
  /** U of the second sample, n1·n2 − u1. */
  u2: number;
  /** Two-sided p-value. */
  pValue: number;
  /** The smallest two-sided p-value this test could give for these sample sizes (and ties). */
  minPValue: number;
  method: 'exact' | 'normal';
}

/** Largest n1 + n2 for the exact distribution: C(30, 15) ≈ 1.6e8 counts stay exact in doubles. */
export const EXACT_MAX_TOTAL = 30;

/** The exact null distribution of U for (m, n) with its cumulative sums, kept: the power figures ask for it often. */
const exactCache = new Map<string, { counts: number[]; below: number[]; total: number }>();

function exactTable(m: number, n: number): { counts: number[]; below: number[]; total: number } {
  const k = `${m},${n}`;
  let t = exactCache.get(k);
  if (!t) {
    const counts = exactUCounts(m, n);
    // below[u] = Σ counts[0..u].
    const below: number[] = [];
    let sum = 0;
    for (const c of counts) below.push((sum += c));
    t = { counts, below, total: sum };
    if (exactCache.size > 64) exactCache.clear();
    exactCache.set(k, t);
  }
  return t;
}

/**
 * The two-sided p-value of the rank test as a function of U₁, for sample sizes n1, n2 and the tie sum Σ(t³ − t) of
 * the pooled sample: exact without ties up to EXACT_MAX_TOTAL values, else the normal approximation (see
 * mannWhitneyU). minP is its smallest value, at U₁ = 0 (or n1·n2).
 */
export function rankTestP(n1: number, n2: number, tieSum: number): { method: 'exact' | 'normal'; p: (u1: number) => number; minP: number } {
  if (tieSum === 0 && n1 + n2 <= EXACT_MAX_TOTAL) {
    const { counts, below, total } = exactTable(n1, n2);
    const p = (u1: number) => {
      const k = Math.min(counts.length - 1, Math.max(0, Math.round(u1)));
      const lower = below[k]!;
      const upper = total - (k > 0 ? below[k - 1]! : 0);
      return Math.min(1, (2 * Math.min(lower, upper)) / total);
    };
    return { method: 'exact', p, minP: Math.min(1, 2 / total) };
  }
  const n = n1 + n2;
  const mu = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieSum / (n * (n - 1)));
  const p = (u: number) => {
    if (!(variance > 0)) return 1;
    const z = Math.max(0, Math.abs(u - mu) - 0.5) / Math.sqrt(variance);
    return Math.min(1, 2 * (1 - normalCdf(z)));
  };
  return { method: 'normal', p, minP: p(0) };
}

/**
 * The smallest two-sided p-value the rank test can give for sample sizes n1 and n2 (no ties): 2 / C(n1 + n2, n1)
 * with the exact distribution (0.1 for 3 vs 3), the normal approximation at U = 0 beyond EXACT_MAX_TOTAL values.
 */
export function smallestPValue(n1: number, n2: number): number {
  if (n1 === 0 || n2 === 0) return 1;
  return rankTestP(n1, n2, 0).minP;
}

/**
 * Two-sided Mann–Whitney U test (Wilcoxon rank-sum) of x against y.
 * U₁ = R₁ − n₁(n₁ + 1)/2 with R₁ the rank sum of x in the pooled sample (average ranks for ties).
 * - Exact (n₁ + n₂ ≤ 30 and no ties): p = min(1, 2·min(P(U ≤ U₁), P(U ≥ U₁))) from the exact null distribution
 *   (see exactUCounts); the smallest reachable p is 2 / C(n₁ + n₂, n₁).
 * - Otherwise the normal approximation with tie and continuity corrections:
 *   μ = n₁n₂/2, σ² = n₁n₂/12 · ((n + 1) − Σ(t³ − t) / (n(n − 1))), z = (|U₁ − μ| − ½) / σ, p = 2·(1 − Φ(z)), capped at 1.
 *   When σ = 0 (every value tied) p = 1.
 */
export function mannWhitneyU(x: readonly number[], y: readonly number[]): MannWhitneyResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) return { u1: Number.NaN, u2: Number.NaN, pValue: 1, minPValue: 1, method: 'exact' };
  const { ranks, tieSum } = rankWithTies([...x, ...y]);
  let r1 = 0;
  for (let i = 0; i < n1; i++) r1 += ranks[i]!;
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const u2 = n1 * n2 - u1;
  const test = rankTestP(n1, n2, tieSum);
  return { u1, u2, pValue: test.p(u1), minPValue: test.minP, method: test.method };
}

export interface BootstrapOptions {
  /** Resamples (default 2000). */
  resamples?: number;
  /** Two-sided level of the interval (default 0.95). */
  confidence?: number;
  /** PRNG seed (default 0x5eed); the same seed gives the same interval. */
  seed?: number;
}

/** a / b, with 0/0 = 1 and x/0 = +∞ for x > 0 so ratios of medians never become NaN. */
export function safeRatio(a: number, b: number): number {
  if (b === 0) return a === 0 ? 1 : a > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  return a / b;
}

/**
 * Percentile bootstrap interval of median(current) / median(baseline): draw each sample with replacement
 * (independently, same sizes), take the ratio of the resampled medians, repeat `resamples` times, and report the
 * α/2 and 1 − α/2 quantiles (type 7) of those ratios, α = 1 − confidence. Seeded with mulberry32: reproducible.
 */
export function bootstrapRatioCI(current: readonly number[], baseline: readonly number[], opts: BootstrapOptions = {}): [number, number] {
  const resamples = opts.resamples ?? 2000;
  const confidence = opts.confidence ?? 0.95;
  if (current.length === 0 || baseline.length === 0) return [Number.NaN, Number.NaN];
  const rand = mulberry32(opts.seed ?? 0x5eed);
  // Typed arrays sort numerically in place: no copies inside the loop.
  const a = new Float64Array(current.length);
  const b = new Float64Array(baseline.length);
  const ratios = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < a.length; i++) a[i] = current[Math.floor(rand() * current.length)]!;
    for (let i = 0; i < b.length; i++) b[i] = baseline[Math.floor(rand() * baseline.length)]!;
    ratios[r] = safeRatio(sortedMedian(a.sort()), sortedMedian(b.sort()));
  }
  ratios.sort();
  const alpha = 1 - confidence;
  return [quantileSorted(ratios, alpha / 2), quantileSorted(ratios, 1 - alpha / 2)];
}

export type ChangeStatus = 'regression' | 'improvement' | 'unchanged' | 'insufficient';

export interface ChangeDecision {
  status: ChangeStatus;
  /** 'zero-spread': every value on each side was the same, so the threshold alone decided (no p-value). */
  rule?: 'zero-spread';
  /** median(current) / median(baseline); absent when a side has no values. */
  ratio?: number;
  ci?: [number, number];
  pValue?: number;
  minPValue?: number;
  method?: 'exact' | 'normal';
}

export interface DecideOptions {
  /** Relative change of the median that counts (0.1 = 10 %). */
  threshold: number;
  /** Level of the bootstrap interval and of the rank test (0.95 → α = 0.05). */
  confidence: number;
  /** Noise floor: a change of the medians smaller than this, in the metric's unit, is never a change. */
  minDelta?: number;
  seed?: number;
  resamples?: number;
}

/** Every value the same (and at least one). */
function noSpread(xs: readonly number[]): boolean {
  return xs.length > 0 && xs.every((v) => v === xs[0]);
}

/**
 * The decision rule (lower is better for every metric), α = 1 − confidence:
 * - fewer than 2 values on either side → 'insufficient' (shown, never failing);
 * - no spread on either side (every current value equal, every baseline value equal): there is no noise to test
 *   against, so the threshold alone decides: 'regression' when ratio > 1 + threshold, 'improvement' when
 *   ratio < 1 − threshold, both only above the noise floor (rule 'zero-spread', no p-value);
 * - 'regression' when ratio > 1 + threshold AND the bootstrap CI's lower bound > 1 AND either the rank test is
 *   significant (p ≤ α) or the test cannot reach α with these sample sizes at all (smallest possible p > α, e.g.
 *   0.1 for 3 vs 3) and every current value is worse than every baseline value;
 * - 'improvement' symmetrically: ratio < 1 − threshold AND CI upper bound < 1 AND (p ≤ α OR (smallest p > α AND every
 *   current value is better than every baseline value));
 * - otherwise 'unchanged'.
 */
export function decide(current: readonly number[], baseline: readonly number[], opts: DecideOptions): ChangeDecision {
  if (current.length < 2 || baseline.length < 2) {
    if (current.length === 0 || baseline.length === 0) return { status: 'insufficient' };
    return { status: 'insufficient', ratio: safeRatio(median(current), median(baseline)) };
  }
  const ratio = safeRatio(median(current), median(baseline));
  const belowFloor = Math.abs(median(current) - median(baseline)) < (opts.minDelta ?? 0);
  if (noSpread(current) && noSpread(baseline)) {
    let status: ChangeStatus = 'unchanged';
    if (!belowFloor && ratio > 1 + opts.threshold) status = 'regression';
    else if (!belowFloor && ratio < 1 - opts.threshold) status = 'improvement';
    return { status, rule: 'zero-spread', ratio, ci: [ratio, ratio] };
  }
  const ci = bootstrapRatioCI(current, baseline, { confidence: opts.confidence, seed: opts.seed, resamples: opts.resamples });
  const test = mannWhitneyU(current, baseline);
  const alpha = 1 - opts.confidence;
  // Every current value on one side of every baseline value is U₁ = n₁n₂ (or 0), whose p is the smallest these sizes
  // allow: where that is ≤ α the test alone already passes, so "smallest p > α AND all worse" is just "all worse".
  const allWorse = Math.min(...current) > Math.max(...baseline);
  const allBetter = Math.max(...current) < Math.min(...baseline);
  let status: ChangeStatus = 'unchanged';
  if (belowFloor) status = 'unchanged';
  else if (ratio > 1 + opts.threshold && ci[0] > 1 && (test.pValue <= alpha || allWorse)) status = 'regression';
  else if (ratio < 1 - opts.threshold && ci[1] < 1 && (test.pValue <= alpha || allBetter)) status = 'improvement';
  return { status, ratio, ci, pValue: test.pValue, minPValue: test.minPValue, method: test.method };
}

/** Σ(t³ − t) over the groups of equal values of one sample, zeros left out (counted by the caller). */
function tieSumWithoutZeros(xs: readonly number[]): number {
  const s = sorted(xs.filter((v) => v !== 0));
  let sum = 0;
  let i = 0;
  while (i < s.length) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[i]) j++;
    const t = j - i + 1;
    if (t > 1) sum += t * t * t - t;
    i = j + 1;
  }
  return sum;
}

/**
 * The smallest regression `decide` could have flagged with these samples: the ratio r such that the current trials,
 * rescaled to the baseline's median and then multiplied by any factor above r (this run's noise, shifted by that
 * factor), are a 'regression' against this baseline. Every condition of the rule is a bound on r:
 * - the threshold: r > 1 + threshold;
 * - the noise floor: (r − 1)·median(baseline) ≥ minDelta;
 * - the bootstrap interval: scaling the current sample scales every resampled ratio, so with the same seed the
 *   interval at r is r times the interval at 1, and its lower bound clears 1 for r > 1 / lower(1);
 * - the rank test: U₁ at r counts the pairs with r·xᵢ > yⱼ, so it rises by one at each ratio yⱼ / xᵢ; the test is
 *   satisfied (p ≤ α, or every current value worse when the sizes cannot reach α) from some U₁ on, hence above the
 *   matching one of those ratios. Ties within each sample stay ties at every r.
 * The largest bound is the answer; with no spread on either side only the first two apply (decide's zero-spread
 * rule). Undefined below 2 values on a side or when a median is not positive;
 * +∞ when no factor would do (e.g. most current values are 0).
 */
export function detectableRatio(current: readonly number[], baseline: readonly number[], opts: DecideOptions): number | undefined {
  const n = current.length;
  const m = baseline.length;
  if (n < 2 || m < 2) return undefined;
  const mc = median(current);
  const mb = median(baseline);
  if (!(mc > 0 && mb > 0 && Number.isFinite(mc) && Number.isFinite(mb))) return undefined;
  const k = mb / mc;
  const shape = current.map((v) => v * k);
  let r = Math.max(1 + opts.threshold, 1 + (opts.minDelta ?? 0) / mb);
  // No spread on either side: the threshold and the floor alone decide (see decide).
  if (noSpread(current) && noSpread(baseline)) return r;
  const [lower] = bootstrapRatioCI(shape, baseline, { confidence: opts.confidence, seed: opts.seed, resamples: opts.resamples });
  if (!(lower! > 0)) return Number.POSITIVE_INFINITY;
  r = Math.max(r, 1 / lower!);

  // U₁(r) = fixed + #{ratios below r}: a zero of each sample is a tie at every r (½ each pair), a current zero never
  // beats a positive baseline value, a baseline zero is beaten by every positive current value.
  const zc = shape.filter((v) => v === 0).length;
  const zb = baseline.filter((v) => v === 0).length;
  const fixed = 0.5 * zc * zb;
  const ratios: number[] = [];
  for (const x of shape) if (x > 0) for (const y of baseline) ratios.push(y / x);
  ratios.sort((a, b) => a - b);
  const zeroTies = zc + zb > 1 ? (zc + zb) ** 3 - (zc + zb) : 0;
  const test = rankTestP(n, m, tieSumWithoutZeros(shape) + tieSumWithoutZeros(baseline) + zeroTies);
  const alpha = 1 - opts.confidence;
  // As in decide: significant, or every current value worse (U₁ = n·m, the smallest p these sizes allow).
  const passes = (u: number) => test.p(u) <= alpha || u === n * m;
  // The smallest count j of ratios below r from which the test passes for every larger count.
  let j = ratios.length + 1;
  while (j > 0 && passes(fixed + j - 1)) j--;
  if (j > ratios.length) return Number.POSITIVE_INFINITY;
  if (j > 0) r = Math.max(r, ratios[j - 1]!);
  return r;
}
