// The in-run A/B section of the report: b against a, scenario by scenario and metric by metric, with the same
// figures as the baseline comparison (medians, ratio, bootstrap interval, p-value) and what each row could detect.
// Pure; every user-provided string is escaped.
import type { AbComparison, AbRow } from '../baseline/ab.ts';
import { escapeCell, escapeInline, formatCI, formatDelta, formatP, formatPercent, formatValue, plural } from './format.ts';
import { cvText, detectableText, table } from './tables.ts';

const DASH = '–';

/** A variant's median and, with two trials or more, their spread: "1.21 s (CV 3.1%)". */
function sideText(s: AbRow['a'], unit: AbRow['unit']): string {
  return `${formatValue(s.median, unit)}${s.cv === undefined ? '' : ` (CV ${cvText(s.cv)})`}`;
}

/** What a row found, from b's side: "b slower", "b smaller", "same", "too few trials". */
export function abResult(r: AbRow, b: string): string {
  const [worse, better] = r.unit === 'ms' ? ['slower', 'faster'] : r.unit === 'bytes' ? ['larger', 'smaller'] : ['higher', 'lower'];
  switch (r.status) {
    case 'regression':
      return `⚠️ ${escapeCell(b)} ${worse}`;
    case 'improvement':
      return `${escapeCell(b)} ${better}`;
    case 'insufficient':
      return 'too few trials';
    default:
      return `same within ±${formatPercent(r.threshold)}`;
  }
}

/** The A/B table; empty without rows. */
export function abTable(ab: AbComparison): string {
  if (ab.rows.length === 0) return '';
  const rows = ab.rows.map((r) => [
    escapeCell(r.scenario),
    escapeCell(r.label),
    sideText(r.a, r.unit),
    sideText(r.b, r.unit),
    formatDelta(r.ratio),
    r.rule === 'zero-spread' ? 'no spread' : formatCI(r.ci),
    r.pValue === undefined ? DASH : formatP(r.pValue),
    r.power ? detectableText(r.power.detectable) : DASH,
    abResult(r, ab.b),
  ]);
  return table(
    ['Scenario', 'Metric', escapeCell(ab.a), escapeCell(ab.b), `${escapeCell(ab.b)} vs ${escapeCell(ab.a)}`, 'CI', 'p', 'Smallest detectable', 'Result'],
    rows,
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
  );
}

/** The sentence above the table: what ran, how, and what it found. */
export function abNote(ab: AbComparison): string {
  const a = `**${escapeInline(ab.a)}**`;
  const b = `**${escapeInline(ab.b)}**`;
  const trials = ab.trials.a === ab.trials.b ? `${plural(ab.trials.a, 'trial')} each` : `${plural(ab.trials.b, 'trial')} of ${b} against ${ab.trials.a} of ${a}`;
  const found =
    ab.regressions + ab.improvements === 0
      ? `no difference beyond the threshold`
      : [ab.regressions ? `${b} worse on ${plural(ab.regressions, 'metric')}` : '', ab.improvements ? `${b} better on ${plural(ab.improvements, 'metric')}` : ''].filter(Boolean).join(', ');
  const gate = ab.failOnRegression ? `${b} worse than ${a} fails the run` : `the differences do not change the verdict (ab.failOnRegression is off)`;
  return `${b} against ${a}, interleaved in this run (${trials}, the order of the two alternating from trial to trial): ${found}. A difference of the medians beyond ±${formatPercent(ab.threshold)} counts when the interval and the rank test agree; ${gate}.`;
}
