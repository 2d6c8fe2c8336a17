// In-run A/B: two tools of one run (suite.ab: a, the reference, and b) compared with each other, scenario by
// scenario and metric by metric, with the decision rule of the baseline comparison (stats.decide: the bootstrap
// interval of the ratio of medians and the Mann–Whitney U test), at the A/B's own threshold. Pure, deterministic.
import type { CompareConfig } from '../config/schema.ts';
import { METRICS } from '../suite/results.ts';
import type { MetricName, ResultsFile } from '../suite/results.ts';
import { formatCI, formatDelta, formatP, formatPercent, formatValue, oneLine } from '../report/format.ts';
import { configuredMetrics, coefficientOfVariation, noiseFloorFor, samples } from './compare.ts';
import type { MetricStatus } from './compare.ts';
import { metricPower, powerSummary } from './power.ts';
import type { MetricPower, PowerSample, PowerSummary } from './power.ts';
import { decide, hashSeed, median } from './stats.ts';

export type AbSettings = NonNullable<ResultsFile['suite']['ab']>;

/** One scenario × metric of the A/B: b's trials against a's. */
export interface AbRow {
  scenario: string;
  metric: MetricName;
  label: string;
  unit: 'ms' | 'bytes' | 'count';
  a: { n: number; median: number; cv?: number };
  b: { n: number; median: number; cv?: number };
  /** median(b) / median(a). */
  ratio?: number;
  ci?: [number, number];
  pValue?: number;
  /** From b's side: 'regression' is b worse than a. */
  status: MetricStatus;
  threshold: number;
  rule?: 'zero-spread';
  power?: MetricPower;
}

export interface AbComparison {
  a: string;
  b: string;
  /** Trials per variant that ran (the suite's trials, unless some were skipped). */
  trials: { a: number; b: number };
  threshold: number;
  failOnRegression: boolean;
  rows: AbRow[];
  /** b worse than a, and b better than a. */
  regressions: number;
  improvements: number;
  /** One line per difference, b worse than a and b better than a, for the verdict and the log. */
  worse: string[];
  better: string[];
  /** What the A/B could detect, in one sentence (the run's detection power over its rows). */
  power?: PowerSummary;
  /** Why there is nothing to compare (a variant without passed trials), when that is so. */
  notice?: string;
}

/** The threshold of one metric in the A/B: the A/B's, or compare.deterministicThreshold when tighter. */
export function abThreshold(metric: MetricName, ab: Pick<AbSettings, 'threshold'>, cfg: Pick<CompareConfig, 'deterministicThreshold'>): number {
  return 'deterministic' in METRICS[metric] ? Math.min(ab.threshold, cfg.deterministicThreshold ?? ab.threshold) : ab.threshold;
}

function differenceLine(ab: AbSettings, r: AbRow, confidence: number): string {
  const [worse, better] = r.unit === 'ms' ? ['slower', 'faster'] : r.unit === 'bytes' ? ['larger', 'smaller'] : ['higher', 'lower'];
  const parts = [`median ${formatValue(r.a.median, r.unit)} → ${formatValue(r.b.median, r.unit)}`, `threshold ±${formatPercent(r.threshold)}`];
  if (r.rule === 'zero-spread') parts.push('no spread on either side, so the threshold alone decides');
  else {
    if (r.ci) parts.push(`${formatPercent(confidence)} CI ${formatCI(r.ci)}`);
    if (r.pValue !== undefined) parts.push(formatP(r.pValue));
  }
  const word = r.status === 'regression' ? worse : better;
  return `A/B ${oneLine(ab.b)} vs ${oneLine(ab.a)} / ${oneLine(r.scenario)}: ${r.label} ${formatDelta(r.ratio)}, ${oneLine(ab.b)} ${word} (${parts.join(', ')})`;
}

/** The A/B of a run whose suite names one (results.suite.ab); undefined otherwise. */
export function compareVariants(results: ResultsFile, cfg: CompareConfig): AbComparison | undefined {
  const ab = results.suite.ab;
  if (!ab) return undefined;
  const metrics = configuredMetrics(cfg);
  const of = (tool: string) => results.trials.filter((t) => t.tool === tool);
  const ta = of(ab.a);
  const tb = of(ab.b);
  const out: AbComparison = {
    a: ab.a,
    b: ab.b,
    trials: { a: new Set(ta.map((t) => t.trial)).size, b: new Set(tb.map((t) => t.trial)).size },
    threshold: ab.threshold,
    failOnRegression: ab.failOnRegression,
    rows: [],
    regressions: 0,
    improvements: 0,
    worse: [],
    better: [],
  };
  const scenarios = [...new Set([...results.scenarios.map((s) => s.name), ...ta.map((t) => t.scenario), ...tb.map((t) => t.scenario)])];
  const powerSamples: PowerSample[] = [];
  for (const scenario of scenarios) {
    const sa = ta.filter((t) => t.scenario === scenario);
    const sb = tb.filter((t) => t.scenario === scenario);
    for (const metric of metrics) {
      const xa = samples(sa, metric);
      const xb = samples(sb, metric);
      if (xa.length === 0 || xb.length === 0) continue;
      const info = METRICS[metric];
      const opts = { threshold: abThreshold(metric, ab, cfg), confidence: cfg.confidence, minDelta: noiseFloorFor(metric, cfg), seed: hashSeed(`ab/${scenario}/${metric}`) };
      const d = decide(xb, xa, opts);
      const side = (xs: number[]) => {
        const cv = coefficientOfVariation(xs);
        return { n: xs.length, median: median(xs), ...(cv !== undefined ? { cv } : {}) };
      };
      const row: AbRow = { scenario, metric, label: info.label, unit: info.unit, a: side(xa), b: side(xb), status: d.status, threshold: opts.threshold };
      if (d.ratio !== undefined) row.ratio = d.ratio;
      if (d.ci) row.ci = d.ci;
      if (d.pValue !== undefined) row.pValue = d.pValue;
      if (d.rule) row.rule = d.rule;
      if (xa.length >= 2 && xb.length >= 2) {
        row.power = metricPower(xb, xa, opts);
        if (row.power.detectable !== undefined) powerSamples.push({ current: xb, baseline: xa, opts, detectable: row.power.detectable, deterministic: 'deterministic' in info, label: info.label });
      }
      if (d.status === 'regression') {
        out.regressions++;
        out.worse.push(differenceLine(ab, row, cfg.confidence));
      } else if (d.status === 'improvement') {
        out.improvements++;
        out.better.push(differenceLine(ab, row, cfg.confidence));
      }
      out.rows.push(row);
    }
  }
  const power = powerSummary(powerSamples, cfg.confidence, oneLine(ab.a));
  if (power) out.power = power;
  const missing = [ab.a, ab.b].filter((n) => !results.trials.some((t) => t.tool === n && t.status === 'passed'));
  if (missing.length) out.notice = `nothing to compare: ${missing.map((n) => `${oneLine(n)} has no passed trial`).join('; ')}${results.tools.some((t) => missing.includes(t.name) && t.status === 'skipped') ? ' (skipped: see the tools table)' : ''}`;
  return out;
}
