// Compares one results file with a baseline (earlier runs of the same suite): per tool × scenario × metric, the
// median of the current trials against the pooled baseline trials, with a bootstrap interval of the ratio and a
// Mann–Whitney U test (see stats.ts for the decision rule). Pure: no I/O, deterministic for the same input.
import type { CompareConfig } from '../config/schema.ts';
import { METRICS, metricValue } from '../suite/results.ts';
import type { MetricName, ResultsFile, TrialResult } from '../suite/results.ts';
import { oneLine, formatCI, formatDelta, formatP, formatPercent, formatValue, plural } from '../report/format.ts';
import { decide, hashSeed, mean, median, safeRatio, stdev } from './stats.ts';
import { metricPower, powerSummary } from './power.ts';
import { splitBaseline } from './compatible.ts';
import { changePoints } from './trend.ts';
import type { MetricPower, PowerSample, PowerSummary } from './power.ts';
import { compareVariants } from './ab.ts';
import type { AbComparison } from './ab.ts';

export interface BaselineInput {
  runs: ResultsFile[];
  /** Where the baseline came from, for the report, e.g. "history (.pvbench/history/default)". */
  source: string;
  /** Anything the loader had to say (missing file, skipped files). */
  notice?: string;
}

export type MetricStatus = 'regression' | 'improvement' | 'unchanged' | 'insufficient' | 'new';

export interface MetricComparison {
  metric: MetricName;
  label: string;
  unit: 'ms' | 'bytes' | 'count';
  current: { n: number; median: number; values: number[] };
  /**
   * The pooled baseline: its size and median, and its noise: the coefficient of variation (sd / mean) of its trials,
   * and of its runs' medians when it has two runs or more.
   */
  baseline?: { n: number; median: number; cv?: number; runCv?: number };
  /** median(current) / median(baseline). */
  ratio?: number;
  /** Bootstrap interval of the ratio at the configured confidence. */
  ci?: [number, number];
  /** Two-sided Mann–Whitney U p-value. */
  pValue?: number;
  status: MetricStatus;
  /** The relative threshold the change was held to; present with a baseline. */
  threshold?: number;
  /** The configured threshold, when the noise between baseline runs raised it (compare.noiseFactor). */
  configuredThreshold?: number;
  /** 'zero-spread': no spread on either side, so the threshold alone decided (no p-value). */
  rule?: 'zero-spread';
  /** What this comparison could detect; present when both sides have 2 values or more. */
  power?: MetricPower;
}

export interface CellComparison {
  tool: string;
  scenario: string;
  trials: number;
  passed: number;
  failed: number;
  errored: number;
  skipped: number;
  /** Trials whose fault did not land. */
  notInjected: number;
  integrityOk: boolean;
  /** Distinct fault descriptions. */
  faults: string[];
  metrics: MetricComparison[];
}

export interface Comparison {
  verdict: 'pass' | 'fail';
  reasons: string[];
  regressions: number;
  improvements: number;
  integrityFailures: number;
  erroredTrials: number;
  /** Trials of fault scenarios whose fault did not land. */
  notInjectedTrials: number;
  baseline: {
    source: string;
    /** Runs pooled (after leaving out those not comparable). */
    runs: number;
    available: boolean;
    notice?: string;
    /** Runs, and tools' trials of runs, left out of the pool and why (see compatible.ts). */
    leftOut?: string[];
  };
  cells: CellComparison[];
  /** Level shifts in the history of per-run medians (the pooled runs and this one); absent with too few runs. */
  trend?: TrendSummary;
  /** The run's detection power over its compared metrics; absent without any. */
  power?: PowerSummary;
  /** The in-run A/B of the suite (results.suite.ab): its b against its a; absent without one. */
  ab?: AbComparison;
  /** The settings used, for the report's explanations; optional so hand-made comparisons stay valid. */
  settings?: {
    threshold: number;
    confidence: number;
    failOnRegression: boolean;
    failOnNotInjected?: boolean;
    metrics: MetricName[];
    /** compare.deterministicThreshold. */
    deterministicThreshold?: number;
    /** The relative threshold of each compared metric (see thresholdFor). */
    thresholds?: Partial<Record<MetricName, number>>;
  };
}

/**
 * The relative change a metric is held to: its own in compare.thresholds, else compare.deterministicThreshold for
 * near-deterministic metrics, else compare.threshold.
 */
export function thresholdFor(metric: MetricName, cfg: Pick<CompareConfig, 'threshold' | 'deterministicThreshold' | 'thresholds'>): number {
  const own = cfg.thresholds[metric];
  if (typeof own === 'number') return own;
  return 'deterministic' in METRICS[metric] ? (cfg.deterministicThreshold ?? cfg.threshold) : cfg.threshold;
}

/** Baseline runs a run-to-run coefficient of variation needs before it may raise a threshold. */
export const MIN_NOISE_RUNS = 3;

/**
 * A metric's threshold after the noise measured between baseline runs: noiseFactor × the coefficient of variation
 * of their medians when that is larger than the configured threshold and there are MIN_NOISE_RUNS runs or more.
 */
export function noiseThreshold(configured: number, runCv: number | undefined, runs: number, cfg: Pick<CompareConfig, 'noiseFactor'>): number {
  const factor = cfg.noiseFactor ?? 0;
  if (runCv === undefined || runs < MIN_NOISE_RUNS || factor <= 0) return configured;
  return Math.max(configured, Number((factor * runCv).toPrecision(3)));
}

/** The absolute noise floor of a metric, in its unit. */
export function noiseFloorFor(metric: MetricName, cfg: Pick<CompareConfig, 'noiseFloor'>): number {
  const info = METRICS[metric];
  if ('deterministic' in info) return cfg.noiseFloor.deterministicBytes ?? cfg.noiseFloor.bytes;
  if (info.unit === 'count') return cfg.noiseFloor.writes ?? 0;
  return info.unit === 'ms' ? cfg.noiseFloor.ms : cfg.noiseFloor.bytes;
}

/** A level shift found in the history of one tool × scenario × metric. */
export interface TrendFinding {
  tool: string;
  scenario: string;
  metric: MetricName;
  label: string;
  unit: 'ms' | 'bytes' | 'count';
  /** Position of the first run at the new level in the series, oldest first. */
  index: number;
  /** That run; `current` when it is this one. */
  run: { id: string; startedAt: string; sha?: string; current: boolean };
  /** Medians of the per-run medians on either side, up to the neighbouring change points. */
  before: number;
  after: number;
  ratio: number;
  pValue: number;
}

export interface TrendSummary {
  /** Runs in the longest series. */
  runs: number;
  /** Series analysed (tool × scenario × metric with enough runs). */
  series: number;
  findings: TrendFinding[];
}

/** Fewest runs (this one included) a history needs before it is searched for level shifts. */
export const MIN_TREND_RUNS = 10;

/** Known metric names from the configuration, in the configured order, without duplicates. */
export function configuredMetrics(cfg: Pick<CompareConfig, 'metrics'>): MetricName[] {
  const out: MetricName[] = [];
  for (const m of cfg.metrics) if (Object.hasOwn(METRICS, m) && !out.includes(m as MetricName)) out.push(m as MetricName);
  return out;
}

/** Cell key; the separator cannot occur in a JSON string from a results file without escaping. */
function key(tool: string, scenario: string): string {
  return `${tool}\u0000${scenario}`;
}

/** Tool × scenario pairs in a stable order: tools as listed, scenarios as listed, then any others as they appear. */
function cellOrder(results: ResultsFile): { tool: string; scenario: string; trials: TrialResult[] }[] {
  const groups = new Map<string, { tool: string; scenario: string; trials: TrialResult[] }>();
  for (const t of results.trials) {
    const k = key(t.tool, t.scenario);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { tool: t.tool, scenario: t.scenario, trials: [] }));
    g.trials.push(t);
  }
  const toolRank = new Map<string, number>();
  results.tools.forEach((t, i) => toolRank.has(t.name) || toolRank.set(t.name, i));
  const scenarioRank = new Map<string, number>();
  results.scenarios.forEach((s, i) => scenarioRank.has(s.name) || scenarioRank.set(s.name, i));
  const big = Number.MAX_SAFE_INTEGER;
  // Array.prototype.sort is stable: groups of equal rank keep the order their first trial gave them.
  return [...groups.values()].sort((a, b) => {
    const ta = toolRank.get(a.tool) ?? big;
    const tb = toolRank.get(b.tool) ?? big;
    if (ta !== tb) return ta - tb;
    return (scenarioRank.get(a.scenario) ?? big) - (scenarioRank.get(b.scenario) ?? big);
  });
}

/** Values of a metric over the passed trials. */
export function samples(trials: readonly TrialResult[], metric: MetricName): number[] {
  const out: number[] = [];
  for (const t of trials) {
    if (t.status !== 'passed') continue;
    const v = metricValue(t, metric);
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    if (v === 0 && 'zeroIsUnmeasured' in METRICS[metric]) continue;
    out.push(v);
  }
  return out;
}

/** Upper bounds no real measurement reaches: a year of time, an exbibyte of data, a trillion writes. */
const IMPOSSIBLE_ABOVE = { ms: 365 * 24 * 3600 * 1000, bytes: 2 ** 60, count: 1e12 } as const;

/**
 * Why a baseline value cannot be a measurement (a hand-edited or damaged file: a non-number, a negative or zero
 * duration, an absurd magnitude). Such values would turn into "+∞%" or "×-0.00".
 */
export function impossibleValue(metric: MetricName, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return true;
  const info = METRICS[metric];
  if (v === 0) return !('zeroIsPossible' in info) && !('zeroIsUnmeasured' in info);
  return v > IMPOSSIBLE_ABOVE[info.unit];
}

/** A baseline trial with the run it came from. */
interface BaselineTrial {
  run: string;
  trial: TrialResult;
}

/**
 * Plausible values of a metric over passed baseline trials, and the median of each run's; the impossible ones go
 * to `rejected`.
 */
function baselineSamples(trials: readonly BaselineTrial[], metric: MetricName, rejected: string[]): { values: number[]; runMedians: number[] } {
  const plausible: TrialResult[] = [];
  const byRun = new Map<string, TrialResult[]>();
  for (const b of trials) {
    if (b.trial.status !== 'passed') continue;
    const v = metricValue(b.trial, metric);
    if (impossibleValue(metric, v)) {
      rejected.push(`${typeof v === 'number' ? String(v) : JSON.stringify(v)} in run ${oneLine(b.run)} trial ${b.trial.trial}`);
      continue;
    }
    plausible.push(b.trial);
    let list = byRun.get(b.run);
    if (!list) byRun.set(b.run, (list = []));
    list.push(b.trial);
  }
  const runMedians: number[] = [];
  for (const list of byRun.values()) {
    const xs = samples(list, metric);
    if (xs.length) runMedians.push(median(xs));
  }
  return { values: samples(plausible, metric), runMedians };
}

/** Coefficient of variation, sd / mean; undefined below 2 values or for a mean that is not positive. */
export function coefficientOfVariation(xs: readonly number[]): number | undefined {
  if (xs.length < 2) return undefined;
  const m = mean(xs);
  return m > 0 ? stdev(xs) / m : undefined;
}

/** One line about a trial that lost data, e.g. "3 files missing, 1 mismatched after restore". */
export function integrityLine(t: TrialResult): string {
  const i = t.integrity;
  if (i && !i.ok) {
    const parts: string[] = [];
    if (i.missing) parts.push(`${plural(i.missing, 'file')} missing`);
    if (i.mismatched) parts.push(parts.length ? `${i.mismatched} mismatched` : `${plural(i.mismatched, 'file')} mismatched`);
    if (parts.length) return `${parts.join(', ')} after restore (of ${i.files})`;
  }
  return t.error ? oneLine(t.error) : 'integrity loss after restore';
}

/**
 * The verdict line of a regression. Only regressions have one, and a regression always has a baseline, a threshold
 * and, unless the zero-spread rule decided it, an interval and a p-value.
 */
function changeLine(tool: string, scenario: string, m: MetricComparison, confidence: number): string {
  const base = formatValue(m.baseline!.median, m.unit);
  const raised = m.configuredThreshold !== undefined ? ` (raised from ${formatPercent(m.configuredThreshold)} by the noise between baseline runs, CV ${formatPercent(m.baseline!.runCv!)})` : '';
  const parts = [`median ${base} → ${formatValue(m.current.median, m.unit)}`, `threshold +${formatPercent(m.threshold!)}${raised}`];
  if (m.rule === 'zero-spread') {
    parts.push(`no spread: every trial ${formatValue(m.current.median, m.unit)}, every baseline trial ${base}, so the threshold alone decides`);
  } else {
    parts.push(`${formatPercent(confidence)} CI ${formatCI(m.ci!)}`, formatP(m.pValue!));
    // Significance out of reach for these sizes: the rule's escape decided, on every trial being worse.
    if (m.pValue! > 1 - confidence) parts.push(`every trial ${m.unit === 'ms' ? 'slower' : m.unit === 'bytes' ? 'larger' : 'higher'} than every baseline trial`);
  }
  return `${oneLine(tool)} / ${oneLine(scenario)}: ${m.label} ${formatDelta(m.ratio)} (${parts.join(', ')})`;
}

export function compare(current: ResultsFile, baseline: BaselineInput, cfg: CompareConfig): Comparison {
  const metrics = configuredMetrics(cfg);
  const notices = baseline.notice ? [baseline.notice] : [];
  // A run is never its own baseline (a history or a --baseline file that already holds it): it would show ±0%.
  const runs = baseline.runs.filter((r) => r.run.id !== current.run.id);
  if (runs.length < baseline.runs.length) notices.push(`left out run ${oneLine(current.run.id)}: it is the run being compared, not an earlier one`);
  // Only runs measured the same way are pooled; the rest is named.
  const split = splitBaseline(current, runs);
  if (split.leftOut.length) notices.push(`left out of the baseline, not pooled: ${split.leftOut.map(oneLine).join('; ')}`);
  for (const a of split.acrossVersions) notices.push(oneLine(a));
  const available = split.runs.length > 0;

  // Pool the baseline trials by tool × scenario.
  const pooled = new Map<string, BaselineTrial[]>();
  for (const run of split.runs) {
    const excluded = split.excludedTools.get(run);
    for (const t of run.trials) {
      if (excluded?.has(t.tool)) continue;
      const k = key(t.tool, t.scenario);
      let list = pooled.get(k);
      if (!list) pooled.set(k, (list = []));
      list.push({ run: run.run.id, trial: t });
    }
  }
  const impossible: string[] = [];
  let impossibleCount = 0;
  const powerSamples: PowerSample[] = [];

  const cells: CellComparison[] = [];
  const failureReasons: string[] = [];
  const errorReasons: string[] = [];
  const changeReasons: string[] = [];
  const notInjectedReasons: string[] = [];
  let notInjectedTrials = 0;
  let regressions = 0;
  let improvements = 0;
  let integrityFailures = 0;
  let erroredTrials = 0;

  for (const g of cellOrder(current)) {
    const trials = [...g.trials].sort((a, b) => a.trial - b.trial);
    const count = (s: TrialResult['status']) => trials.filter((t) => t.status === s).length;
    const failed = count('failed');
    const cell: CellComparison = {
      tool: g.tool,
      scenario: g.scenario,
      trials: trials.length,
      passed: count('passed'),
      failed,
      errored: count('error'),
      skipped: count('skipped'),
      notInjected: count('not-injected'),
      integrityOk: failed === 0 && trials.every((t) => !t.integrity || t.integrity.ok),
      faults: [...new Set(trials.map((t) => t.fault?.description).filter((d): d is string => typeof d === 'string' && d.length > 0))],
      metrics: [],
    };

    for (const t of trials) {
      const label = `${oneLine(t.tool)} / ${oneLine(t.scenario)} trial ${t.trial}`;
      if (t.status === 'failed') {
        integrityFailures++;
        failureReasons.push(`${label}: ${integrityLine(t)}`);
      } else if (t.status === 'error') {
        erroredTrials++;
        errorReasons.push(`${label}: did not complete${t.error ? ` — ${oneLine(t.error)}` : ''}`);
      } else if (t.status === 'not-injected') {
        notInjectedTrials++;
        notInjectedReasons.push(`${label}: fault not injected${t.fault?.description ? ` — ${oneLine(t.fault.description)}` : ''}`);
      }
    }

    const baseTrials = pooled.get(key(g.tool, g.scenario)) ?? [];
    for (const metric of metrics) {
      const values = samples(trials, metric);
      if (values.length === 0) continue;
      const info = METRICS[metric];
      const m: MetricComparison = {
        metric,
        label: info.label,
        unit: info.unit,
        current: { n: values.length, median: median(values), values },
        status: 'new',
      };
      const rejected: string[] = [];
      const { values: base, runMedians } = available ? baselineSamples(baseTrials, metric, rejected) : { values: [], runMedians: [] };
      if (rejected.length) {
        impossibleCount += rejected.length;
        impossible.push(`${oneLine(g.tool)} / ${oneLine(g.scenario)} ${info.label}: ${rejected.length <= 5 ? rejected.join(', ') : `${rejected.slice(0, 5).join(', ')} and ${rejected.length - 5} more`}`);
      }
      if (base.length > 0) {
        m.baseline = { n: base.length, median: median(base) };
        const cv = coefficientOfVariation(base);
        if (cv !== undefined) m.baseline.cv = cv;
        const runCv = coefficientOfVariation(runMedians);
        if (runCv !== undefined) m.baseline.runCv = runCv;
        const configured = thresholdFor(metric, cfg);
        const opts = {
          threshold: noiseThreshold(configured, runCv, runMedians.length, cfg),
          confidence: cfg.confidence,
          minDelta: noiseFloorFor(metric, cfg),
          seed: hashSeed(`${g.tool}/${g.scenario}/${metric}`),
        };
        const d = decide(values, base, opts);
        m.threshold = opts.threshold;
        if (opts.threshold !== configured) m.configuredThreshold = configured;
        if (d.rule) m.rule = d.rule;
        if (values.length >= 2 && base.length >= 2) {
          m.power = metricPower(values, base, opts);
          if (m.power.detectable !== undefined) {
            powerSamples.push({ current: values, baseline: base, opts, detectable: m.power.detectable, deterministic: 'deterministic' in info, label: info.label });
          }
        }
        m.status = d.status;
        if (d.ratio !== undefined) m.ratio = d.ratio;
        if (d.ci) m.ci = d.ci;
        if (d.pValue !== undefined) m.pValue = d.pValue;
        if (d.status === 'regression') {
          regressions++;
          changeReasons.push(changeLine(g.tool, g.scenario, m, cfg.confidence));
        } else if (d.status === 'improvement') improvements++;
      }
      cell.metrics.push(m);
    }
    cells.push(cell);
  }

  const trend = trendSummary(current, split.runs, split.excludedTools, cells, metrics, cfg);

  // A run that measured nothing (every tool skipped, or interrupted before the first trial) proves nothing.
  const nothingRan = current.trials.length === 0;
  const skipped = current.tools.filter((t) => t.status === 'skipped').map((t) => `${t.name} (${t.reason ?? 'skipped'})`);
  const emptyReasons = nothingRan ? [`no trial ran${skipped.length ? `: every tool was skipped — ${skipped.join('; ')}` : ''}`] : [];
  // A run that did not finish is not a measurement of the suite: it fails, whatever the trials it has say.
  const unfinished: string[] = [];
  if (!current.run.complete) {
    if (current.run.interrupted) unfinished.push(`the run did not finish: ${oneLine(current.run.interrupted)}`);
    // When nothing ran, the skipped tools are already named in the "no trial ran" line.
    for (const t of nothingRan ? [] : current.tools) {
      if (t.status === 'skipped' && !t.optional) unfinished.push(`tool ${oneLine(t.name)} could not run (${oneLine(t.reason ?? 'skipped')}): install it, or mark it optional: true in the suite`);
    }
    if (unfinished.length === 0 && !nothingRan) unfinished.push('the run did not finish (its results file says it is incomplete)');
  }
  const failOnNotInjected = cfg.failOnNotInjected ?? false;
  const ab = compareVariants(current, cfg);
  // An A/B difference fails the run only when the suite says so (ab.failOnRegression): b worse than a.
  const abReasons = ab?.failOnRegression ? ab.worse : [];
  const failing = unfinished.length > 0 || nothingRan || integrityFailures > 0 || erroredTrials > 0 || (regressions > 0 && cfg.failOnRegression) || (notInjectedTrials > 0 && failOnNotInjected) || abReasons.length > 0;
  const comparison: Comparison = {
    verdict: failing ? 'fail' : 'pass',
    reasons: [...emptyReasons, ...unfinished, ...failureReasons, ...errorReasons, ...changeReasons, ...abReasons, ...notInjectedReasons],
    regressions,
    improvements,
    integrityFailures,
    erroredTrials,
    notInjectedTrials,
    baseline: { source: baseline.source, runs: split.runs.length, available, ...(split.leftOut.length ? { leftOut: split.leftOut } : {}) },
    cells,
    settings: {
      threshold: cfg.threshold,
      confidence: cfg.confidence,
      failOnRegression: cfg.failOnRegression,
      failOnNotInjected,
      metrics,
      deterministicThreshold: cfg.deterministicThreshold,
      thresholds: Object.fromEntries(metrics.map((m) => [m, thresholdFor(m, cfg)])),
    },
  };
  if (trend) comparison.trend = trend;
  if (ab) comparison.ab = ab;
  const power = powerSummary(powerSamples, cfg.confidence);
  if (power) comparison.power = power;
  if (impossibleCount) notices.push(`left out ${plural(impossibleCount, 'impossible baseline value')}: ${impossible.join('; ')}`);
  if (notices.length) comparison.baseline.notice = notices.join('; ');
  return comparison;
}

/**
 * Level shifts in each tool × scenario × metric's history of per-run medians (the pooled baseline runs by start
 * time, then this run), by E-divisive means (trend.ts). A shift is reported when it is significant and its size is
 * at least half the metric's threshold and above its noise floor: smaller ones are not worth a line.
 */
function trendSummary(
  current: ResultsFile,
  runs: readonly ResultsFile[],
  excluded: ReadonlyMap<ResultsFile, ReadonlySet<string>>,
  cells: readonly CellComparison[],
  metrics: readonly MetricName[],
  cfg: CompareConfig,
): TrendSummary | undefined {
  const time = (r: ResultsFile) => {
    const t = Date.parse(r.run.startedAt);
    return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
  };
  const history = [...runs].sort((a, b) => time(a) - time(b));
  if (history.length + 1 < MIN_TREND_RUNS) return undefined;
  const ordered = [...history, current];
  const findings: TrendFinding[] = [];
  let series = 0;
  let longest = 0;
  for (const cell of cells) {
    for (const metric of metrics) {
      const values: number[] = [];
      const from: ResultsFile[] = [];
      for (const r of ordered) {
        if (excluded.get(r)?.has(cell.tool)) continue;
        const trials = r.trials.filter((t) => t.tool === cell.tool && t.scenario === cell.scenario && (r === current || !impossibleValue(metric, metricValue(t, metric))));
        const xs = samples(trials, metric);
        if (xs.length === 0) continue;
        values.push(median(xs));
        from.push(r);
      }
      if (values.length < MIN_TREND_RUNS) continue;
      series++;
      longest = Math.max(longest, values.length);
      const found = changePoints(values, { seed: hashSeed(`trend/${cell.tool}/${cell.scenario}/${metric}`) });
      const threshold = thresholdFor(metric, cfg);
      const floor = noiseFloorFor(metric, cfg);
      found.forEach((cp, i) => {
        const before = median(values.slice(i > 0 ? found[i - 1]!.index : 0, cp.index));
        const after = median(values.slice(cp.index, i + 1 < found.length ? found[i + 1]!.index : values.length));
        const ratio = safeRatio(after, before);
        if (Math.abs(after - before) < floor || Math.abs(ratio - 1) < threshold / 2) return;
        const r = from[cp.index]!;
        const run: TrendFinding['run'] = { id: r.run.id, startedAt: r.run.startedAt, current: r === current };
        if (r.run.git?.sha) run.sha = r.run.git.sha;
        const info = METRICS[metric];
        findings.push({ tool: cell.tool, scenario: cell.scenario, metric, label: info.label, unit: info.unit, index: cp.index, run, before, after, ratio, pValue: cp.pValue });
      });
    }
  }
  return { runs: longest, series, findings };
}
