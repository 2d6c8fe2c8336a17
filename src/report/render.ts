// Renders the Markdown report (a PR comment) from a results file and its comparison with Handlebars templates
// read from disk (templates/report.md.hbs and templates/partials/*.hbs, or an override template's content).
// Tables are built in tables.ts and passed in finished. The report always fits `maxChars`: when it would not, parts
// are left out in a fixed order (per-trial rows first, then whole tables, then summary rows), never mid-table, and a
// closing line says what was cut. Same input, same output.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import type { Comparison } from '../baseline/compare.ts';
import { METRICS } from '../suite/results.ts';
import type { ResultsFile } from '../suite/results.ts';
import {
  escapeCell,
  escapeHtml,
  escapeInline,
  formatBytes,
  formatCI,
  formatDelta,
  formatMs,
  formatP,
  formatPercent,
  formatRatio,
  plural,
} from './format.ts';
import { abNote, abTable } from './ab-table.ts';
import { timelineTable } from './timeline-table.ts';
import { machineLine } from './machine.ts';
import { faultsTable, integrityTable, powerTable, recoveryTable, resourcesTable, summaryTable, timeChart, toolsTable, trendTable, trialsTable } from './tables.ts';

export interface RenderInput {
  results: ResultsFile;
  comparison: Comparison;
  title: string;
  /** Hidden marker placed on the first line, e.g. "<!-- pvbench:suite=default -->". */
  marker?: string;
  /** Content of a template that replaces templates/report.md.hbs (the partials stay available). */
  template?: string;
  maxChars: number;
  /** Where report.md.hbs and partials/ are; found automatically by default (see findTemplatesDir). */
  templatesDir?: string;
}

const MAIN_TEMPLATE = 'report.md.hbs';
/** Resamples of the bootstrap interval (stats.bootstrapRatioCI's default), for the footnote. */
const RESAMPLES = 2000;
/** Reason lines shown in full before "… and N more". */
const MAX_REASONS = 25;

/**
 * The templates directory: $PVBENCH_TEMPLATES when set, else the first `templates/` holding report.md.hbs found
 * walking up from this module (src/report/ in a checkout, dist/<entry>/ in a bundle).
 */
export function findTemplatesDir(): string {
  const env = process.env.PVBENCH_TEMPLATES;
  if (env) return resolve(env);
  const start = dirname(fileURLToPath(import.meta.url));
  let dir = start;
  for (;;) {
    const candidate = join(dir, 'templates');
    if (existsSync(join(candidate, MAIN_TEMPLATE))) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find templates/${MAIN_TEMPLATE} above ${start}; set PVBENCH_TEMPLATES to the templates directory`);
    dir = up;
  }
}

type HB = ReturnType<typeof Handlebars.create>;

/** An isolated Handlebars instance with pvbench's helpers and the partials of `dir`. */
export function createHandlebars(dir: string): HB {
  const hb = Handlebars.create();
  const safe = (s: string) => new hb.SafeString(s);
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  hb.registerHelper('ms', (v: unknown) => safe(formatMs(num(v))));
  hb.registerHelper('bytes', (v: unknown) => safe(formatBytes(num(v))));
  hb.registerHelper('delta', (v: unknown) => safe(formatDelta(num(v))));
  hb.registerHelper('ratio', (v: unknown) => safe(formatRatio(num(v))));
  hb.registerHelper('ci', (v: unknown) => safe(formatCI(Array.isArray(v) && v.length === 2 ? [Number(v[0]), Number(v[1])] : undefined)));
  hb.registerHelper('p', (v: unknown) => safe(formatP(num(v))));
  hb.registerHelper('pct', (v: unknown) => safe(typeof v === 'number' ? formatPercent(v) : '–'));
  hb.registerHelper('md', (v: unknown) => safe(escapeInline(v === undefined || v === null ? '' : String(v))));
  hb.registerHelper('cell', (v: unknown) => safe(escapeCell(v === undefined || v === null ? '' : String(v))));
  hb.registerHelper('html', (v: unknown) => safe(escapeHtml(v === undefined || v === null ? '' : String(v))));
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hb.registerHelper('plural', (n: unknown, one: unknown, many: unknown) =>
    safe(escapeInline(plural(Number(n), String(one), typeof many === 'string' ? many : undefined))),
  );
  const partials = join(dir, 'partials');
  if (existsSync(partials)) {
    for (const f of readdirSync(partials).sort()) {
      if (f.endsWith('.hbs')) hb.registerPartial(basename(f, '.hbs'), readFileSync(join(partials, f), 'utf8'));
    }
  }
  return hb;
}

/** What may be left out to fit, in the order it is left out. */
const CUTS = [
  { id: 'passed-trials', label: 'per-trial rows of passed trials' },
  { id: 'trials', label: 'per-trial details' },
  { id: 'power', label: 'the detection power table' },
  { id: 'integrity-ok', label: 'integrity rows without data loss' },
  { id: 'timeline', label: 'the where-the-time-went table' },
  { id: 'resources', label: 'the resources table' },
  { id: 'recovery', label: 'the RTO / RPO table' },
  { id: 'trends', label: 'the trends table' },
  { id: 'tools', label: 'the tools table' },
  { id: 'faults', label: 'the faults table' },
  { id: 'chart', label: 'the chart' },
  { id: 'ab', label: 'the A/B table' },
  { id: 'footnote', label: 'the explanation of the statistics' },
  { id: 'summary-ok', label: 'summary rows without failures or changes' },
  { id: 'summary', label: 'the summary table' },
  { id: 'integrity', label: 'the integrity table' },
  { id: 'reasons', label: 'verdict lines beyond the first 5' },
] as const;

type CutId = (typeof CUTS)[number]['id'];

function safeUrl(url: string | undefined): string | undefined {
  return url && /^https?:\/\/[^\s<>"'()]+$/.test(url) ? url : undefined;
}

/** "A and B", "A, B and C". */
function andList(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/**
 * One sentence naming the threshold of every compared metric, grouped by threshold in the configured order, e.g.
 * "a median worse by more than +20% is a regression for Backup time and Restore time, by more than +2% for
 * Repository size; …". Undefined for hand-made comparisons without per-metric thresholds.
 */
export function gatesText(c: Comparison): string | undefined {
  const t = c.settings?.thresholds;
  if (!t) return undefined;
  const groups = new Map<number, string[]>();
  for (const m of c.settings!.metrics) {
    const th = t[m];
    if (th === undefined) continue;
    let g = groups.get(th);
    if (!g) groups.set(th, (g = []));
    g.push(METRICS[m].label);
  }
  if (groups.size === 0) return undefined;
  const parts = [...groups.entries()].map(([th, labels], i) => `${i === 0 ? 'a median worse by more than' : 'by more than'} +${formatPercent(th)}${i === 0 ? ' is a regression' : ''} for ${andList(labels)}`);
  return `${parts.join(', ')}; with no spread on either side the threshold alone decides, without a p-value.`;
}

/** What the trend analysis searched and found, one sentence. */
export function trendNote(t: NonNullable<Comparison['trend']>): string {
  const runs = `up to ${plural(t.runs, 'run')}`;
  if (t.findings.length === 0) return `No level shift in the history of ${runs} (${plural(t.series, 'series', 'series')}), searched by E-divisive means with a permutation test.`;
  const shifted = new Set(t.findings.map((f) => `${f.tool}\u0000${f.scenario}\u0000${f.metric}`)).size;
  return `Level shifts in the history of ${runs} (${shifted} of ${plural(t.series, 'series', 'series')}), found by E-divisive means with a permutation test; they do not change the verdict.`;
}

/** The data the templates see. Stable field names: custom templates rely on them. */
export function buildView(input: RenderInput, cut: ReadonlySet<CutId> = new Set()) {
  const { results, comparison: c } = input;
  const settings = c.settings ?? { threshold: 0.1, confidence: 0.95, failOnRegression: true, metrics: [] };
  const tools = new Set(results.trials.map((t) => t.tool)).size;
  const scenarios = new Set(results.trials.map((t) => t.scenario)).size;
  const counts = [
    `**${plural(c.integrityFailures, 'integrity failure')}**`,
    `**${plural(c.erroredTrials, 'errored trial')}**`,
    `**${plural(c.regressions, 'regression')}**`,
    plural(c.improvements, 'improvement'),
    ...(c.notInjectedTrials ? [`**${plural(c.notInjectedTrials, 'fault')} not injected**`] : []),
  ].join(' · ');
  const maxReasons = cut.has('reasons') ? 5 : MAX_REASONS;
  const verdictNote =
    c.regressions > 0 && !settings.failOnRegression ? 'Regressions are reported but do not fail the run (compare.failOnRegression is off).' : undefined;
  const summary = cut.has('summary') ? { text: '', hidden: c.cells.length } : summaryTable(results, c, { onlyAttention: cut.has('summary-ok') });
  const trials = cut.has('trials') ? { text: '', rows: 0 } : trialsTable(results, c, { onlyProblems: cut.has('passed-trials') });
  const power = cut.has('power') ? { text: '', rows: 0 } : powerTable(c);
  const git = results.run.git;
  const machine = machineLine(results.trials);
  return {
    marker: input.marker,
    title: input.title,
    verdict: {
      pass: c.verdict === 'pass',
      word: c.verdict,
      counts: `${counts} — ${plural(results.trials.length, 'trial')} of ${plural(tools, 'tool')} × ${plural(scenarios, 'scenario')}`,
      note: verdictNote,
      reasons: c.reasons.slice(0, maxReasons).map((r) => (r.length > 400 ? `${r.slice(0, 399)}…` : r)),
      moreReasons: c.reasons.length > maxReasons ? c.reasons.length - maxReasons : 0,
      /** Which threshold holds for which metric, one sentence. */
      gates: gatesText(c),
    },
    run: {
      suite: results.suite.name,
      platform: results.suite.platform,
      trialsPerCell: results.suite.trials,
      seed: results.suite.seed,
      version: results.pvbenchVersion,
      commit: git?.sha ? git.sha.slice(0, 12) : undefined,
      ref: git?.ref,
      url: safeUrl(git?.runUrl),
      startedAt: results.run.startedAt,
      incomplete: !results.run.complete,
      ...(machine ? { machine } : {}),
    },
    baseline: c.baseline,
    summaryTable: summary.text,
    summaryNote:
      summary.hidden > 0 && summary.text
        ? `${plural(summary.hidden, 'row')} without failures or changes not shown.`
        : summary.hidden > 0
          ? `The summary table (${plural(summary.hidden, 'row')}) was left out to fit.`
          : undefined,
    /** The in-run A/B (suite.ab): one sentence, its detection power, a notice when a side had nothing, and the table. */
    ab: c.ab ? { a: c.ab.a, b: c.ab.b, note: abNote(c.ab), power: c.ab.power?.line, notice: c.ab.notice } : undefined,
    abTable: c.ab && !cut.has('ab') ? abTable(c.ab) : '',
    chart: cut.has('chart') ? '' : timeChart(results).text,
    faultsTable: cut.has('faults') ? '' : faultsTable(results, c),
    integrityTable: cut.has('integrity') ? '' : integrityTable(results, c, { onlyFailures: cut.has('integrity-ok') }),
    resourcesTable: cut.has('resources') ? '' : resourcesTable(results, c),
    /** Where the time went by the tool's own timestamps (Velero), and the share outside moving data. */
    timelineTable: cut.has('timeline') ? '' : timelineTable(results, c),
    recoveryTable: cut.has('recovery') ? '' : recoveryTable(results, c),
    /** The trend analysis: one sentence, and the level shifts found. */
    trend: c.trend ? { note: trendNote(c.trend) } : undefined,
    trendTable: cut.has('trends') ? '' : trendTable(c),
    toolsTable: cut.has('tools') ? '' : toolsTable(results),
    trialsTable: trials.text,
    trialsShown: trials.rows,
    trialsTotal: results.trials.length,
    trialsOnlyProblems: cut.has('passed-trials'),
    /** The run's detection power in one sentence, and the per-metric table. */
    power: c.power?.line,
    powerTable: power.text,
    powerRows: power.rows,
    footnote: !cut.has('footnote'),
    stats: {
      threshold: settings.threshold,
      deterministicThreshold: c.settings?.deterministicThreshold,
      confidence: settings.confidence,
      alpha: Number((1 - settings.confidence).toPrecision(3)),
      resamples: RESAMPLES,
      failOnRegression: settings.failOnRegression,
    },
    results,
    comparison: c,
  };
}

/** Blank lines collapsed to one, no trailing spaces at line ends outside tables, one final newline. */
function tidy(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim() + '\n';
}

function cutLine(labels: string[], maxChars: number): string {
  return `---\n✂️ _This report was shortened to stay under ${maxChars} characters: ${labels.join(', ')} left out. The full data is in the results JSON (results.json)._\n`;
}

/** The last resort: marker, title, verdict and as many reason lines as fit. */
function minimal(input: RenderInput, note: string): string {
  const c = input.comparison;
  const head = `${input.marker ? `${input.marker}\n` : ''}# ${escapeInline(input.title).slice(0, 200)}\n\n## ${c.verdict === 'pass' ? '✅ pass' : '❌ fail'}\n\n${plural(c.integrityFailures, 'integrity failure')} · ${plural(c.erroredTrials, 'errored trial')} · ${plural(c.regressions, 'regression')} · ${plural(c.improvements, 'improvement')}\n`;
  let body = '';
  for (const r of c.reasons) {
    const line = `- ${escapeInline(r).slice(0, 300)}\n`;
    if (head.length + body.length + line.length + note.length + 2 > input.maxChars) break;
    body += line;
  }
  return `${head}${body ? `\n${body}` : ''}\n${note}`.slice(0, input.maxChars);
}

/** Why a template does not compile (Handlebars compiles lazily: this parses it now), or undefined when it does. */
export function templateError(source: string): string | undefined {
  try {
    Handlebars.precompile(source);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Render the report; see the module comment for how it is kept under maxChars. */
export function renderReport(input: RenderInput): string {
  const dir = input.templatesDir ?? findTemplatesDir();
  const hb = createHandlebars(dir);
  const source = input.template ?? readFileSync(join(dir, MAIN_TEMPLATE), 'utf8');
  // Handlebars' defaults: values escaped unless a helper returns a SafeString, missing fields render empty.
  const template = hb.compile(source);
  const render = (cut: Set<CutId>) => {
    let out = tidy(template(buildView(input, cut)));
    if (input.marker && !out.startsWith(input.marker)) out = `${input.marker}\n${out}`;
    return out;
  };

  const full = render(new Set());
  if (full.length <= input.maxChars) return full;

  const cut = new Set<CutId>();
  const labels: string[] = [];
  let previous = full;
  for (const step of CUTS) {
    cut.add(step.id);
    const body = render(cut);
    if (body === previous) continue; // nothing of this kind was in the report
    previous = body;
    labels.push(step.label);
    const out = `${body}\n${cutLine(labels, input.maxChars)}`;
    if (out.length <= input.maxChars) return out;
  }
  return minimal(input, cutLine(['everything but the verdict'], input.maxChars));
}
