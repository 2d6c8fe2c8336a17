// Detection power: what size of regression a comparison could have seen, per metric and for the whole run, and how
// many trials would see a smaller one. Built on stats.detectableRatio (the decision rule itself, solved for the
// shift). Pure and deterministic.
import { detectableRatio, median, mulberry32, quantile, smallestPValue } from './stats.ts';
import type { DecideOptions } from './stats.ts';

/** What one metric's comparison could detect. */
export interface MetricPower {
  /** The smallest two-sided p the rank test can give for these sample sizes. */
  smallestP: number;
  /**
   * The smallest ratio median(current) / median(baseline) that would have been flagged with this run's spread
   * (see stats.detectableRatio); +∞ when none would; absent when it cannot be said (a median of 0).
   */
  detectable?: number;
}

/** One metric's samples and rule, kept for the run's summary. */
export interface PowerSample {
  current: readonly number[];
  baseline: readonly number[];
  opts: DecideOptions;
  detectable: number;
  /** A near-deterministic metric (held to compare.deterministicThreshold): summed up on its own. */
  deterministic?: boolean;
  label?: string;
}

export interface PowerSummary {
  /** The most common sample sizes of the compared metrics: this run's trials and the baseline's. */
  current: number;
  baseline: number;
  /** smallestPValue(current, baseline), and α = 1 − confidence. */
  smallestP: number;
  alpha: number;
  /** Metrics the median is taken over. */
  metrics: number;
  /** The median of their detectable ratios. */
  detectable: number;
  /** What the threshold and the noise floor alone allow for the median metric: more trials cannot go below it. */
  limit: number;
  /**
   * More trials per run and the ratio they would typically detect for the median metric: the fewest that come within
   * a quarter of `limit` (reached), else the most tried (30).
   */
  suggestion?: { trials: number; detectable: number; reached: boolean };
  /** The near-deterministic metrics, summed up on their own when there are others too. */
  deterministic?: { metrics: number; detectable: number; labels: string[] };
  /** The sentence for the report. */
  line: string;
}

/** Trial counts tried for the suggestion (the suite allows up to 100; beyond 30 a run gets long). */
const SUGGESTED_TRIALS = [4, 5, 6, 8, 10, 12, 15, 20, 25, 30];
/** Simulated runs per projection, and bootstrap resamples in each (an estimate: fewer than the verdict's 2000). */
const DRAWS = 9;
const PROJECTION_RESAMPLES = 1000;
/** Close enough to what the threshold and noise floor allow: within a quarter of that change. */
const NEAR_LIMIT = 1.25;

export function metricPower(current: readonly number[], baseline: readonly number[], opts: DecideOptions): MetricPower {
  const p: MetricPower = { smallestP: smallestPValue(current.length, baseline.length) };
  const d = detectableRatio(current, baseline, opts);
  if (d !== undefined) p.detectable = d;
  return p;
}

/**
 * The ratio that runs of `trials` trials against `baselineTrials` baseline trials with this metric's spread would
 * typically detect: the median of detectableRatio over simulated pairs of samples, drawn (seeded) from the
 * distribution of both samples' values relative to their medians (the type-7 quantile function of those values at
 * uniform random levels: the observed values, interpolated, so that a few trials do not become heavy ties), at the
 * baseline's median, so that the noise floor applies as it does to the measurements. Each pair of sizes gets its own
 * stream: mulberry32 seeded with (opts.seed, default 0x5eed) XOR (trials · 7919 + baselineTrials); each simulated
 * pair draws its `trials` current values first, then its baseline values. At most 1000 bootstrap resamples each.
 */
export function projectedRatio(s: Pick<PowerSample, 'current' | 'baseline' | 'opts'>, trials: number, baselineTrials: number, draws = DRAWS): number | undefined {
  const mc = median(s.current as number[]);
  const mb = median(s.baseline as number[]);
  if (!(mc > 0 && mb > 0)) return undefined;
  const pool = [...s.current.map((v) => v / mc), ...s.baseline.map((v) => v / mb)];
  const rand = mulberry32((s.opts.seed ?? 0x5eed) ^ (trials * 7919 + baselineTrials));
  // Drawn relative to the medians, then put back at the baseline's median: the noise floor is in the metric's unit.
  const draw = (k: number) => Array.from({ length: k }, () => quantile(pool, rand()) * mb);
  const opts = { ...s.opts, resamples: Math.min(s.opts.resamples ?? PROJECTION_RESAMPLES, PROJECTION_RESAMPLES) };
  const figures: number[] = [];
  for (let i = 0; i < draws; i++) {
    const f = detectableRatio(draw(trials), draw(baselineTrials), opts);
    if (f !== undefined) figures.push(f);
  }
  return figures.length ? median(figures) : undefined;
}

/** A ratio as a change for prose: 1.333 → "33%", 1.052 → "5.2%". */
export function changeText(ratio: number): string {
  if (!Number.isFinite(ratio)) return '∞';
  const pct = (ratio - 1) * 100;
  return `${pct < 10 ? String(Number(pct.toFixed(1))) : String(Math.round(pct))}%`;
}

/** A smallest p for prose: two significant digits, "<0.001" below 0.001. */
export function pValueText(p: number): string {
  return p < 0.001 ? '<0.001' : String(Number(p.toPrecision(2)));
}

/**
 * The run's detection power from its compared metrics: the median detectable change, the sample sizes, and the
 * smallest trial count (of SUGGESTED_TRIALS) that would bring the median metric within a quarter of what the
 * threshold and noise floor allow. Undefined when no metric has a figure. `project` gives the median metric's figure
 * for other trial counts (projectedRatio; a test can give its own).
 */
export function powerSummary(
  all: readonly PowerSample[],
  confidence: number,
  reference = 'baseline',
  project: (s: PowerSample, trials: number, baselineTrials: number) => number | undefined = projectedRatio,
): PowerSummary | undefined {
  if (all.length === 0) return undefined;
  // Time-like metrics set the run's figure; the near-deterministic ones, far tighter, get their own clause.
  const noisy = all.filter((s) => !s.deterministic);
  const tight = noisy.length ? all.filter((s) => s.deterministic) : [];
  const samples = noisy.length ? noisy : all;
  // The most common sizes; the first seen wins a tie.
  const sizes = new Map<string, number>();
  for (const s of samples) {
    const k = `${s.current.length}/${s.baseline.length}`;
    sizes.set(k, (sizes.get(k) ?? 0) + 1);
  }
  const [n, m] = [...sizes.entries()].sort((a, b) => b[1] - a[1])[0]![0].split('/').map(Number) as [number, number];
  const order = [...samples].sort((a, b) => a.detectable - b.detectable);
  const detectable = median(order.map((s) => s.detectable));
  // The median metric (the lower middle one of an even count): the one the projection speaks for.
  const rep = order[Math.floor((order.length - 1) / 2)]!;
  const mb = median(rep.baseline as number[]);
  const limit = Math.max(1 + rep.opts.threshold, 1 + (rep.opts.minDelta ?? 0) / mb);
  const alpha = Number((1 - confidence).toPrecision(3));
  const smallestP = smallestPValue(n, m);
  const summary: PowerSummary = { current: n, baseline: m, smallestP, alpha, metrics: samples.length, detectable, limit, line: '' };

  const near = (r: number) => r - 1 <= NEAR_LIMIT * (limit - 1);
  const noiseLimited = !near(detectable);
  if (noiseLimited && Number.isFinite(rep.detectable)) {
    // The smallest trial count that comes near the limit, by bisection over the candidates (the figure falls with
    // more trials); the largest one when none does.
    const perTrial = rep.baseline.length / rep.current.length;
    const candidates = SUGGESTED_TRIALS.filter((t) => t > rep.current.length);
    const at = new Map<number, number | undefined>();
    const projected = (trials: number) => {
      if (!at.has(trials)) at.set(trials, project(rep, trials, Math.max(2, Math.round(trials * perTrial))));
      return at.get(trials);
    };
    const top = candidates[candidates.length - 1];
    const yTop = top === undefined ? undefined : projected(top);
    // No suggestion without a candidate above this run's trials or without a figure for the most of them.
    if (yTop !== undefined) {
      if (!near(yTop)) summary.suggestion = { trials: top!, detectable: yTop, reached: false };
      else {
        let lo = 0;
        let hi = candidates.length - 1; // near at hi
        while (lo < hi) {
          const mid = Math.floor((lo + hi) / 2);
          const y = projected(candidates[mid]!);
          if (y !== undefined && near(y)) hi = mid;
          else lo = mid + 1;
        }
        summary.suggestion = { trials: candidates[hi]!, detectable: projected(candidates[hi]!)!, reached: true };
      }
    }
  }

  // Every sample has 2 trials or more on each side (compare and ab measure power only then).
  const sizesText = `With ${n} trials against ${m}`;
  const over = `the median of ${samples.length} compared ${samples.length === 1 ? 'metric' : 'metrics'}`;
  const pText = `the smallest possible p is ${pValueText(smallestP)}${smallestP > alpha ? `, above α = ${alpha}, so a change also needs every trial worse than every ${reference} trial` : ''}`;
  const head = Number.isFinite(detectable)
    ? `${sizesText}, changes below ~${changeText(detectable)} cannot be detected (${over}; ${pText})`
    : `${sizesText}, most metrics cannot flag a change of any size (${over}; ${pText})`;
  let tail = '';
  const sug = summary.suggestion;
  if (!noiseLimited) tail = `; that is what the threshold and the noise floor allow, not the noise, so more trials would not lower it`;
  else if (sug?.reached) tail = `; run ${sug.trials} trials to see ~${changeText(sug.detectable)}`;
  else if (sug) tail = `; even ${sug.trials} trials would only see ~${changeText(sug.detectable)}`;
  summary.line = `${head}${tail}.`;
  if (tight.length) {
    const labels = [...new Set(tight.map((s) => (s.label ?? '').toLowerCase()).filter(Boolean))];
    const d = median(tight.map((s) => s.detectable));
    summary.deterministic = { metrics: tight.length, detectable: d, labels };
    summary.line += ` For the near-deterministic metrics (${labels.join(', ')}) changes below ~${changeText(d)} cannot be detected (the median of ${tight.length}).`;
  }
  return summary;
}
