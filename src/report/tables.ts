// The report's tables and chart, built in TypeScript (markdown-table) and handed to the templates as finished
// Markdown. Pure: the same results and comparison give the same text. Every user-provided string is escaped.
import { markdownTable } from 'markdown-table';
import type { CellComparison, Comparison, MetricComparison } from '../baseline/compare.ts';
import { changeText } from '../baseline/power.ts';
import { median } from '../baseline/stats.ts';
import { describeKeyDerivation, metricValue } from '../suite/results.ts';
import type { MetricName, PhaseMetrics, ResultsFile, TrialResult } from '../suite/results.ts';
import {
  escapeCell,
  formatBytes,
  formatCI,
  formatCores,
  formatCount,
  formatDelta,
  formatMs,
  formatP,
  formatPercent,
  formatThroughput,
  formatValue,
  plural,
} from './format.ts';

const DASH = '–';

type Align = 'l' | 'r' | 'c';

/** A GFM table: header, rows, one alignment per column (numbers right). Cells must already be escaped. */
export function table(header: string[], rows: string[][], align: Align[]): string {
  return markdownTable([header, ...rows], { align, alignDelimiters: false });
}

function key(tool: string, scenario: string): string {
  return `${tool}\u0000${scenario}`;
}

/** The trials of one cell (none when the results have no trial of it). */
export function trialsOf(byCell: Map<string, TrialResult[]>, c: CellComparison): TrialResult[] {
  return byCell.get(key(c.tool, c.scenario)) ?? [];
}

/** Trials grouped by tool × scenario, in the comparison's cell order. */
export function trialsByCell(results: ResultsFile): Map<string, TrialResult[]> {
  const m = new Map<string, TrialResult[]>();
  for (const t of results.trials) {
    const k = key(t.tool, t.scenario);
    let list = m.get(k);
    if (!list) m.set(k, (list = []));
    list.push(t);
  }
  for (const list of m.values()) list.sort((a, b) => a.trial - b.trial);
  return m;
}

function medianOf(values: (number | undefined)[]): number | undefined {
  const xs = values.filter((v): v is number => Number.isFinite(v));
  return xs.length ? median(xs) : undefined;
}

function maxOf(values: (number | undefined)[]): number | undefined {
  const xs = values.filter((v): v is number => Number.isFinite(v));
  return xs.length ? Math.max(...xs) : undefined;
}

/** Median of a metric over the passed trials (what the comparison uses). */
function passedMedian(trials: readonly TrialResult[], metric: MetricName): number | undefined {
  return medianOf(trials.filter((t) => t.status === 'passed').map((t) => metricValue(t, metric)));
}

/** The icon of a changed metric; none for the other statuses. */
const STATUS_ICON: Record<string, string> = {
  regression: '🔺',
  improvement: '🟢',
};

/** "🔺 +84% (×1.61–×2.10, p=0.004)", "new", "+3.0% (n<2)". */
export function deltaText(m: MetricComparison | undefined): string {
  if (!m) return DASH;
  switch (m.status) {
    case 'new':
      return 'new';
    case 'insufficient':
      return m.ratio === undefined ? 'n<2' : `${formatDelta(m.ratio)} (n<2)`;
    default: {
      const icon = STATUS_ICON[m.status] ?? '';
      if (m.rule === 'zero-spread') return `${icon ? `${icon} ` : ''}${formatDelta(m.ratio)} (no spread)`;
      const stats = [m.ci ? formatCI(m.ci) : '', m.pValue !== undefined ? formatP(m.pValue) : ''].filter(Boolean).join(', ');
      return `${icon ? `${icon} ` : ''}${formatDelta(m.ratio)}${stats ? ` (${stats})` : ''}`;
    }
  }
}

/** The one-word state of a cell, worst first. */
export function cellStatus(c: CellComparison): string {
  if (c.failed > 0) return '❌ data loss';
  if (c.errored > 0) return '⚠️ error';
  if ((c.notInjected ?? 0) > 0) return '⚠️ not injected';
  if (c.metrics.some((m) => m.status === 'regression')) return '🔺 regression';
  if (c.metrics.some((m) => m.status === 'improvement')) return '🟢 improvement';
  if (c.trials > 0 && c.skipped === c.trials) return '➖ skipped';
  return '✅ ok';
}

/** True when a cell needs attention (shown even when the summary is collapsed). */
export function cellNeedsAttention(c: CellComparison): boolean {
  return c.failed > 0 || c.errored > 0 || (c.notInjected ?? 0) > 0 || c.metrics.some((m) => m.status === 'regression' || m.status === 'improvement');
}

function integrityText(c: CellComparison, trials: readonly TrialResult[]): string {
  if (c.failed > 0) return `❌ ${c.failed}/${c.trials} lost data`;
  if (!trials.some((t) => t.integrity)) return DASH;
  return c.integrityOk ? '✅ verified' : '❌ mismatch';
}

/** Summary: one row per tool × scenario. `onlyAttention` keeps the rows with failures, errors or changes. */
export function summaryTable(results: ResultsFile, comparison: Comparison, opts: { onlyAttention?: boolean } = {}): { text: string; hidden: number } {
  const byCell = trialsByCell(results);
  const rows: string[][] = [];
  let hidden = 0;
  for (const c of comparison.cells) {
    if (opts.onlyAttention && !cellNeedsAttention(c)) {
      hidden++;
      continue;
    }
    const trials = trialsOf(byCell, c);
    const find = (name: MetricName) => c.metrics.find((m) => m.metric === name);
    const backup = find('backup.wallMs');
    const restore = find('restore.wallMs');
    const others = c.metrics
      .filter((m) => m.metric !== 'backup.wallMs' && m.metric !== 'restore.wallMs' && (m.status === 'regression' || m.status === 'improvement'))
      .map((m) => `${STATUS_ICON[m.status]} ${m.label} ${formatDelta(m.ratio)}`);
    rows.push([
      escapeCell(c.tool),
      escapeCell(c.scenario),
      cellStatus(c),
      `${c.passed}/${c.trials}`,
      formatMs(backup?.current.median ?? passedMedian(trials, 'backup.wallMs')),
      deltaText(backup),
      formatMs(restore?.current.median ?? passedMedian(trials, 'restore.wallMs')),
      deltaText(restore),
      integrityText(c, trials),
      others.length ? others.join('<br>') : DASH,
    ]);
  }
  if (rows.length === 0) return { text: '', hidden };
  const text = table(
    ['Tool', 'Scenario', 'Status', 'Passed', 'Backup (median)', 'Δ backup', 'Restore (median)', 'Δ restore', 'Integrity', 'Other changes'],
    rows,
    ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'l', 'l'],
  );
  return { text, hidden };
}

/** Limits a list of user strings for a cell: escaped, at most `max` shown, then "… N more". */
function listCell(items: readonly string[], max = 3, maxLen = 200): string {
  if (items.length === 0) return DASH;
  const shown = items.slice(0, max).map((s) => escapeCell(s.length > maxLen ? `${s.slice(0, maxLen - 1)}…` : s));
  if (items.length > max) shown.push(`… ${items.length - max} more`);
  return shown.join('<br>');
}

/** Faults: what each injector did per tool × scenario, whether it was noticed and how recovery went. */
export function faultsTable(results: ResultsFile, comparison: Comparison): string {
  const byCell = trialsByCell(results);
  const rows: string[][] = [];
  for (const c of comparison.cells) {
    const trials = trialsOf(byCell, c);
    const faulty = trials.filter((t) => t.fault && t.fault.kind !== 'none');
    if (faulty.length === 0) continue;
    const kinds = [...new Set(faulty.map((t) => t.fault.kind))];
    const injected = faulty.filter((t) => t.fault.injected).length;
    const withDetected = faulty.filter((t) => typeof t.fault.detected === 'boolean');
    const detected = withDetected.filter((t) => t.fault.detected).length;
    const outcome = [
      c.passed ? `${c.passed} recovered` : '',
      c.failed ? `${c.failed} lost data` : '',
      c.errored ? `${plural(c.errored, 'error')}` : '',
      c.skipped ? `${c.skipped} skipped` : '',
      c.notInjected ? `${c.notInjected} not injected` : '',
    ].filter(Boolean);
    rows.push([
      escapeCell(c.tool),
      escapeCell(c.scenario),
      escapeCell(kinds.join(', ')),
      `${injected}/${faulty.length}`,
      listCell([...new Set(faulty.map((t) => t.fault.description).filter((d) => typeof d === 'string' && d.length > 0))]),
      withDetected.length ? `${detected}/${withDetected.length}` : DASH,
      formatMs(medianOf(faulty.map((t) => t.fault.recoveryMs))),
      outcome.join(', ') || DASH,
    ]);
  }
  if (rows.length === 0) return '';
  return table(
    ['Tool', 'Scenario', 'Fault', 'Injected', 'What the injector did', 'Detected', 'Recovery (median)', 'Outcome'],
    rows,
    ['l', 'l', 'l', 'r', 'l', 'r', 'r', 'l'],
  );
}

/** Integrity after restore, totals over the trials of each tool × scenario. `onlyFailures` keeps cells with loss. */
export function integrityTable(results: ResultsFile, comparison: Comparison, opts: { onlyFailures?: boolean } = {}): string {
  const byCell = trialsByCell(results);
  const rows: string[][] = [];
  for (const c of comparison.cells) {
    const trials = trialsOf(byCell, c).filter((t) => t.integrity);
    if (trials.length === 0) continue;
    if (opts.onlyFailures && c.integrityOk) continue;
    const sum = (f: (t: TrialResult) => number) => trials.reduce((s, t) => s + f(t), 0);
    const ok = trials.filter((t) => t.integrity!.ok).length;
    const examples: string[] = [];
    for (const t of trials) {
      const e = t.integrity!.examples;
      if (!e) continue;
      for (const p of e.mismatched ?? []) examples.push(`mismatched: ${p}`);
      for (const p of e.missing ?? []) examples.push(`missing: ${p}`);
      for (const p of e.extra ?? []) examples.push(`extra: ${p}`);
    }
    rows.push([
      escapeCell(c.tool),
      escapeCell(c.scenario),
      `${ok === trials.length ? '✅' : '❌'} ${ok}/${trials.length}`,
      String(sum((t) => t.integrity!.files)),
      String(sum((t) => t.integrity!.matched)),
      String(sum((t) => t.integrity!.mismatched)),
      String(sum((t) => t.integrity!.missing)),
      String(sum((t) => t.integrity!.extra)),
      formatBytes(sum((t) => t.integrity!.bytes)),
      listCell([...new Set(examples)]),
    ]);
  }
  if (rows.length === 0) return '';
  return table(
    ['Tool', 'Scenario', 'Trials verified', 'Files checked', 'Matched', 'Mismatched', 'Missing', 'Extra', 'Data checked', 'Examples'],
    rows,
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
  );
}

function phaseMedian(trials: readonly TrialResult[], phase: 'backup' | 'restore', f: (p: PhaseMetrics) => number): number | undefined {
  return medianOf(trials.map((t) => (t[phase] ? f(t[phase]) : undefined)));
}

/** Resources: medians over every trial that measured the phase. */
export function resourcesTable(results: ResultsFile, comparison: Comparison): string {
  const byCell = trialsByCell(results);
  const rows: string[][] = [];
  for (const c of comparison.cells) {
    const trials = trialsOf(byCell, c);
    if (!trials.some((t) => t.backup || t.restore)) continue;
    rows.push([
      escapeCell(c.tool),
      escapeCell(c.scenario),
      formatMs(phaseMedian(trials, 'backup', (p) => p.cpuUserMs + p.cpuSysMs)),
      formatCores(phaseMedian(trials, 'backup', (p) => p.cpuCores)),
      formatBytes(phaseMedian(trials, 'backup', (p) => p.peakRssBytes)),
      formatBytes(phaseMedian(trials, 'restore', (p) => p.peakRssBytes)),
      formatBytes(phaseMedian(trials, 'backup', (p) => p.bytesRead)),
      formatBytes(phaseMedian(trials, 'backup', (p) => p.bytesWritten)),
      formatBytes(medianOf(trials.map((t) => t.repository?.sizeBytes))),
      formatThroughput(phaseMedian(trials, 'backup', (p) => p.throughputBytesPerSec)),
      formatThroughput(phaseMedian(trials, 'restore', (p) => p.throughputBytesPerSec)),
    ]);
  }
  if (rows.length === 0) return '';
  return table(
    ['Tool', 'Scenario', 'Backup CPU', 'Backup cores', 'Backup peak RSS', 'Restore peak RSS', 'Backup read', 'Backup written', 'Repository', 'Backup throughput', 'Restore throughput'],
    rows,
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}

/** RTO / RPO and writes lost per tool × scenario where measured, with the change against the baseline. */
export function recoveryTable(results: ResultsFile, comparison: Comparison): string {
  const byCell = trialsByCell(results);
  const rows: string[][] = [];
  let anyLost = false;
  for (const c of comparison.cells) {
    const trials = trialsOf(byCell, c);
    const rto = trials.map((t) => t.rtoMs);
    const rpo = trials.map((t) => t.rpoMs);
    const lost = trials.map((t) => metricValue(t, 'writesLost'));
    if (!rto.some((v) => v !== undefined) && !rpo.some((v) => v !== undefined) && !lost.some((v) => v !== undefined)) continue;
    if (lost.some((v) => v !== undefined)) anyLost = true;
    rows.push([
      escapeCell(c.tool),
      escapeCell(c.scenario),
      formatMs(medianOf(rto)),
      formatMs(maxOf(rto)),
      deltaText(c.metrics.find((m) => m.metric === 'rtoMs')),
      formatMs(medianOf(rpo)),
      formatMs(maxOf(rpo)),
      deltaText(c.metrics.find((m) => m.metric === 'rpoMs')),
      formatCount(medianOf(lost)),
      formatCount(maxOf(lost)),
      deltaText(c.metrics.find((m) => m.metric === 'writesLost')),
    ]);
  }
  if (rows.length === 0) return '';
  const header = ['Tool', 'Scenario', 'RTO (median)', 'RTO (max)', 'Δ RTO', 'RPO (median)', 'RPO (max)', 'Δ RPO', 'Writes lost (median)', 'Writes lost (max)', 'Δ writes lost'];
  const align: Align[] = ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'];
  // Writes lost only where some trial counted them (the outage scenario).
  const width = anyLost ? header.length : 8;
  return table(header.slice(0, width), rows.map((r) => r.slice(0, width)), align.slice(0, width));
}

/** Tools: version (and, for restic, its key derivation and lock wait, which every command repeats), or why it was skipped. */
export function toolsTable(results: ResultsFile): string {
  if (results.tools.length === 0) return '';
  const rows = results.tools.map((t) => {
    const kd = t.keyDerivation;
    const key = kd ? ` · key derivation ${describeKeyDerivation(kd)} (${kd.mode}): ${formatMs(kd.ms)} per derivation` : '';
    const chunker = t.chunker ? ` · chunker polynomial ${t.chunker.polynomial} (${t.chunker.mode})` : '';
    const lock = t.lockWait ? ` · repository lock: ${formatMs(t.lockWait.ms)} per locking command` : '';
    return [
      escapeCell(t.name),
      escapeCell(t.type),
      t.status === 'ok' ? '✅ ran' : '➖ skipped',
      escapeCell(t.status === 'ok' ? (t.version ?? DASH) + key + lock + chunker : (t.reason ?? 'no reason given')),
    ];
  });
  return table(['Tool', 'Type', 'Status', 'Version / reason'], rows, ['l', 'l', 'l', 'l']);
}

const TRIAL_ICON: Record<string, string> = { passed: '✅', failed: '❌', error: '⚠️', skipped: '➖', 'not-injected': '⚠️' };

/** Every trial (or only those that did not pass), one row each. */
export function trialsTable(results: ResultsFile, comparison: Comparison, opts: { onlyProblems?: boolean } = {}): { text: string; rows: number } {
  const byCell = trialsByCell(results);
  const rows: string[][] = [];
  for (const c of comparison.cells) {
    for (const t of trialsOf(byCell, c)) {
      if (opts.onlyProblems && t.status === 'passed') continue;
      const i = t.integrity;
      const integrity = !i ? DASH : i.ok ? 'ok' : [i.mismatched ? `${i.mismatched} mismatched` : '', i.missing ? `${i.missing} missing` : ''].filter(Boolean).join(', ') || 'not ok';
      const fault = t.fault && t.fault.kind !== 'none' ? `${t.fault.injected ? '' : '(not injected) '}${t.fault.description ?? ''}` : '';
      rows.push([
        escapeCell(t.tool),
        escapeCell(t.scenario),
        String(t.trial),
        `${TRIAL_ICON[t.status] ?? ''} ${t.status}`,
        formatMs(t.backup?.wallMs),
        formatMs(t.incremental?.wallMs),
        formatMs(t.restore?.wallMs),
        formatMs(t.rtoMs),
        formatMs(t.rpoMs),
        integrity,
        fault ? listCell([fault], 1, 160) : DASH,
        t.error ? listCell([t.error], 1, 160) : DASH,
      ]);
    }
  }
  if (rows.length === 0) return { text: '', rows: 0 };
  const text = table(
    ['Tool', 'Scenario', '#', 'Status', 'Backup', 'Incremental', 'Restore', 'RTO', 'RPO', 'Integrity', 'Fault', 'Error'],
    rows,
    ['l', 'l', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'l', 'l', 'l'],
  );
  return { text, rows: rows.length };
}

/** A label safe inside a quoted Mermaid string. */
function mermaidLabel(text: string): string {
  const s = text.replace(/[^A-Za-z0-9 _.:/+-]/g, '_').slice(0, 40);
  return s || '_';
}

/**
 * A Mermaid xychart-beta bar chart of median backup and restore time per tool (passed trials): the no-fault
 * scenario when there is one with data, else all scenarios pooled. Empty when nothing was measured.
 */
export function timeChart(results: ResultsFile): { text: string; scope: string } {
  const noFault = results.scenarios.filter((s) => s.fault === 'none').map((s) => s.name);
  const passed = results.trials.filter((t) => t.status === 'passed' && (t.backup || t.restore));
  let scope = 'all scenarios';
  let pool = passed;
  for (const name of noFault) {
    const sel = passed.filter((t) => t.scenario === name);
    if (sel.length) {
      scope = name;
      pool = sel;
      break;
    }
  }
  const tools: string[] = [];
  for (const t of results.tools) if (!tools.includes(t.name)) tools.push(t.name);
  for (const t of pool) if (!tools.includes(t.tool)) tools.push(t.tool);
  const labels: string[] = [];
  const values: number[] = [];
  for (const tool of tools) {
    const mine = pool.filter((t) => t.tool === tool);
    if (mine.length === 0) continue;
    const b = medianOf(mine.map((t) => t.backup?.wallMs));
    const r = medianOf(mine.map((t) => t.restore?.wallMs));
    if (b !== undefined) {
      labels.push(`${mermaidLabel(tool)} backup`);
      values.push(b);
    }
    if (r !== undefined) {
      labels.push(`${mermaidLabel(tool)} restore`);
      values.push(r);
    }
  }
  if (values.length === 0) return { text: '', scope };
  const seconds = Math.max(...values) >= 1000;
  const scaled = values.map((v) => (seconds ? Math.round(v / 10) / 100 : Math.round(v)));
  const top = Math.max(...scaled);
  const yMax = seconds ? Math.ceil(top * 1.1 * 10) / 10 : Math.ceil(top * 1.1) || 1;
  const lines = [
    '```mermaid',
    'xychart-beta',
    `    title "Median backup and restore time (${mermaidLabel(scope)})"`,
    `    x-axis [${labels.map((l) => `"${l}"`).join(', ')}]`,
    `    y-axis "${seconds ? 'seconds' : 'milliseconds'}" 0 --> ${yMax}`,
    `    bar [${scaled.join(', ')}]`,
    '```',
  ];
  return { text: lines.join('\n'), scope };
}

/** A detectable ratio as a change: "+33%", "none" when no change would be flagged, "–" when it cannot be said. */
export function detectableText(ratio: number | undefined): string {
  if (ratio === undefined || Number.isNaN(ratio)) return DASH;
  return Number.isFinite(ratio) ? `+${changeText(ratio)}` : 'none';
}

/** A coefficient of variation as a percentage: "9.9%", "13%", "0%"; one decimal below 10% after rounding. */
export function cvText(cv: number): string {
  const pct = cv * 100;
  return `${pct === 0 ? '0' : Number(pct.toFixed(1)) < 10 ? pct.toFixed(1) : String(Math.round(pct))}%`;
}

/** The baseline's noise: "13% (between runs 9.9%)", "20%", "–". */
export function noiseText(b: { cv?: number; runCv?: number }): string {
  if (b.cv === undefined) return DASH;
  return b.runCv === undefined ? cvText(b.cv) : `${cvText(b.cv)} (between runs ${cvText(b.runCv)})`;
}

/**
 * Detection power: per compared metric the sample sizes, the smallest p they allow, the threshold and the smallest
 * regression this run could have flagged. Empty when no metric was compared with two trials or more on each side.
 */
export function powerTable(comparison: Comparison): { text: string; rows: number } {
  const rows: string[][] = [];
  for (const c of comparison.cells) {
    for (const m of c.metrics) {
      if (!m.power || !m.baseline) continue;
      rows.push([
        escapeCell(c.tool),
        escapeCell(c.scenario),
        escapeCell(m.label),
        `${m.current.n} vs ${m.baseline.n}`,
        noiseText(m.baseline),
        formatP(m.power.smallestP).replace(/^p[=<]/, (x) => (x === 'p<' ? '<' : '')),
        m.threshold === undefined ? DASH : `+${formatPercent(m.threshold)}`,
        detectableText(m.power.detectable),
      ]);
    }
  }
  if (rows.length === 0) return { text: '', rows: 0 };
  const text = table(
    ['Tool', 'Scenario', 'Metric', 'Trials (this run vs baseline)', 'Baseline noise (CV)', 'Smallest possible p', 'Threshold', 'Smallest detectable regression'],
    rows,
    ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r'],
  );
  return { text, rows: rows.length };
}

/** "Backup time" medians line for a metric comparison, e.g. "1.21 s → 2.23 s". */
export function medianChange(m: MetricComparison): string {
  return `${m.baseline ? formatValue(m.baseline.median, m.unit) : DASH} → ${formatValue(m.current.median, m.unit)}`;
}

/** The level shifts of the trend analysis, one row each; empty when there are none. */
export function trendTable(comparison: Comparison): string {
  const findings = comparison.trend?.findings ?? [];
  if (findings.length === 0) return '';
  const rows = findings.map((f) => {
    const icon = f.ratio > 1 ? '🔺 ' : f.ratio < 1 ? '🟢 ' : '';
    const day = /^\d{4}-\d{2}-\d{2}/.exec(f.run.startedAt)?.[0] ?? f.run.startedAt;
    const since = f.run.current ? 'this run' : `run ${f.run.id} (${[day, f.run.sha?.slice(0, 7)].filter(Boolean).join(', ')})`;
    return [
      escapeCell(f.tool),
      escapeCell(f.scenario),
      escapeCell(f.label),
      `${icon}${formatDelta(f.ratio)}`,
      escapeCell(since),
      `${formatValue(f.before, f.unit)} → ${formatValue(f.after, f.unit)}`,
      formatP(f.pValue),
    ];
  });
  return table(['Tool', 'Scenario', 'Metric', 'Level shift', 'Since', 'Median before → after', 'p'], rows, ['l', 'l', 'l', 'r', 'l', 'r', 'r']);
}
