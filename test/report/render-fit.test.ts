// renderReport with small templates, output compared whole: blank lines and line ends tidied, the marker kept first,
// parts cut in their fixed order with the exact closing line, and the last resort (verdict and reasons only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AbComparison } from '../../src/baseline/ab.ts';
import type { Comparison } from '../../src/baseline/compare.ts';
import { renderReport } from '../../src/report/render.ts';
import type { RenderInput } from '../../src/report/render.ts';
import { cellOf, comparisonOf, results, timed, trial } from './fixtures.ts';

const comparison = (over: Partial<Comparison> = {}): Comparison => comparisonOf({ cells: [cellOf({ trials: 2, passed: 2 })], ...over });

function input(template: string, over: Partial<RenderInput> = {}): RenderInput {
  return { results: results({ trials: timed('restic', 'no-fault', [1000, 1100]) }), comparison: comparison(), title: 'T', template, maxChars: 100_000, templatesDir: tmpdir(), ...over };
}

const cutLine = (max: number, labels: string) =>
  `---\n✂️ _This report was shortened to stay under ${max} characters: ${labels} left out. The full data is in the results JSON (results.json)._\n`;

test('tidy: CRLF made LF, three or more line breaks made two, trimmed, one final newline', () => {
  assert.equal(renderReport(input('\r\n\n  {{verdict.word}}\r\n\r\n\r\nnext\n\n\nlast  \n\n\n\n')), 'pass\n\nnext\n\nlast\n');
  assert.equal(renderReport(input('a\n\nb\nc')), 'a\n\nb\nc\n');
  assert.equal(renderReport(input('')), '\n');
});

test('the marker: added on the first line when the template does not put it there, kept when it does', () => {
  assert.equal(renderReport(input('{{verdict.word}}', { marker: '<!-- m -->' })), '<!-- m -->\npass\n');
  assert.equal(renderReport(input('{{{marker}}}\nbody', { marker: '<!-- m -->' })), '<!-- m -->\nbody\n');
  assert.equal(renderReport(input('x {{{marker}}}', { marker: '<!-- m -->' })), '<!-- m -->\nx <!-- m -->\n');
  assert.equal(renderReport(input('{{verdict.word}}', { marker: '' })), 'pass\n');
});

test('values are HTML-escaped unless a helper made them safe; a field the view does not have renders empty', () => {
  assert.equal(renderReport(input('{{title}}|{{{title}}}|{{md title}}|{{no.such.field}}|{{missing}}.', { title: '<b>&"x"' })), '&lt;b&gt;&amp;&quot;x&quot;|<b>&"x"|&lt;b&gt;&amp;"x"||.\n');
});

test('a report that fits exactly is not cut', () => {
  assert.equal(renderReport(input('{{verdict.word}}', { maxChars: 5 })), 'pass\n');
});

const FOOTNOTE = 'F'.repeat(100);
const TEMPLATE = `{{verdict.word}}\n{{#if footnote}}${FOOTNOTE}{{/if}}\n\n{{{toolsTable}}}\n`;
const VERSION = 'V'.repeat(200);
const TOOLS = `| Tool | Type | Status | Version / reason |\n| :- | :- | :- | :- |\n| restic | restic | ✅ ran | ${VERSION} |`;
const withTools = () => results({ trials: timed('restic', 'no-fault', [1000, 1100]), tools: [{ name: 'restic', type: 'restic', status: 'ok', version: VERSION }] });

test('cuts: only the parts the report shows are named, in the fixed order, and cutting stops as soon as it fits', () => {
  const full = `pass\n${FOOTNOTE}\n\n${TOOLS}\n`;
  assert.equal(full.length, 404);
  assert.equal(renderReport(input(TEMPLATE, { results: withTools() })), full);
  assert.equal(renderReport(input(TEMPLATE, { results: withTools(), maxChars: 404 })), full);

  // The tools table goes first (the trials, power, integrity, resources, recovery and trend parts are not shown by
  // this template), and that is enough.
  const noTools = `pass\n${FOOTNOTE}\n\n${cutLine(251, 'the tools table')}`;
  assert.equal(noTools.length, 251);
  assert.equal(renderReport(input(TEMPLATE, { results: withTools(), maxChars: 251 })), noTools);
  // One character less: the explanation goes too (faults and chart are not shown either).
  assert.equal(renderReport(input(TEMPLATE, { results: withTools(), maxChars: 250 })), `pass\n\n${cutLine(250, 'the tools table, the explanation of the statistics')}`);
  // Nothing else this template shows can go: the last resort.
  const last = renderReport(input(TEMPLATE, { results: withTools(), maxChars: 150 }));
  assert.equal(last, '# T\n\n## ✅ pass\n\n0 integrity failures · 0 errored trials · 0 regressions · 0 improvements\n\n---\n✂️ _This report was shortened to stay under 150 characters: everything but the verdict left out. The full data is in the results JSON (results.json)._\n'.slice(0, 150));
  assert.equal(last.length, 150);
});

test('cuts: every part in order, each named once when it changed the report', () => {
  const r = results({
    trials: [
      ...timed('restic', 'no-fault', [1000, 1100]),
      trial({ tool: 'restic', scenario: 'crash', trial: 1, rtoMs: 900, fault: { kind: 'crash', injected: true, description: 'kill', details: {} } }),
      trial({ tool: 'restic', scenario: 'lossy', trial: 1, status: 'failed' }),
    ],
    scenarios: [
      { name: 'no-fault', fault: 'none' },
      { name: 'crash', fault: 'crash' },
      { name: 'lossy', fault: 'none' },
    ],
  });
  const cell = (scenario: string, trials: number) => ({ tool: 'restic', scenario, trials, passed: trials, failed: 0, errored: 0, skipped: 0, notInjected: 0, integrityOk: true, faults: [], metrics: [] });
  const c = comparison({
    reasons: Array.from({ length: 8 }, (_, i) => `reason ${i + 1} ${'x'.repeat(20)}`),
    cells: [
      cell('no-fault', 2),
      {
        ...cell('crash', 1),
        metrics: [{ metric: 'rtoMs', label: 'RTO', unit: 'ms', current: { n: 1, median: 900, values: [900] }, baseline: { n: 2, median: 800 }, status: 'improvement', ratio: 0.5, power: { smallestP: 0.3 } }],
      },
      { ...cell('lossy', 1), passed: 0, failed: 1, integrityOk: false },
    ],
    trend: { runs: 10, series: 1, findings: [{ tool: 'restic', scenario: 'crash', metric: 'rtoMs', label: 'RTO', unit: 'ms', index: 3, run: { id: 'x', startedAt: '2025-01-01', current: true }, before: 1, after: 2, ratio: 2, pValue: 0.01 }] },
  });
  const template = [
    '{{{trialsTable}}}',
    '{{{powerTable}}}',
    '{{{integrityTable}}}',
    '{{{resourcesTable}}}',
    '{{{recoveryTable}}}',
    '{{{trendTable}}}',
    '{{{toolsTable}}}',
    '{{{faultsTable}}}',
    '{{{chart}}}',
    '{{#if footnote}}footnote{{/if}}',
    '{{{summaryTable}}}',
    '{{#each verdict.reasons}}{{this}};{{/each}}',
  ].join('\n\n');
  // Just too long for anything but the verdict's first 5 reasons and the closing line: every cut in order.
  const labels = [
    'per-trial rows of passed trials',
    'per-trial details',
    'the detection power table',
    'integrity rows without data loss',
    'the resources table',
    'the RTO / RPO table',
    'the trends table',
    'the tools table',
    'the faults table',
    'the chart',
    'the explanation of the statistics',
    'summary rows without failures or changes',
    'the summary table',
    'the integrity table',
    'verdict lines beyond the first 5',
  ].join(', ');
  const reasons = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `reason ${from + i} ${'x'.repeat(20)};`).join('');
  const want = `${reasons(1, 5)}\n\n${cutLine(649, labels)}`;
  assert.equal(want.length, 649);
  assert.equal(renderReport({ ...input(template, { maxChars: 649 }), results: r, comparison: c }), want);
  // With room for all 8 reasons and the closing line, they stay.
  const more = `${reasons(1, 8)}\n\n${cutLine(705, labels.replace(', verdict lines beyond the first 5', ''))}`;
  assert.equal(more.length, 705);
  assert.equal(renderReport({ ...input(template, { maxChars: 705 }), results: r, comparison: c }), more);
  assert.equal(renderReport({ ...input(template, { maxChars: 704 }), results: r, comparison: c }), `${reasons(1, 5)}\n\n${cutLine(704, labels)}`);
});

test('cuts: the where-the-time-went table, then the A/B table (the parts between them not shown here)', () => {
  // Two passed trials with a Velero timeline (the table's one row), and an A/B of one row without a power line
  // (the view takes the A/B's power line only where there is one).
  const timeline = { source: 'velero' as const, parts: [{ name: 'queued', ms: 1000 }, { name: 'before-volumes', ms: 2000 }, { name: 'preparing', ms: 3000 }, { name: 'moving-data', ms: 4000 }, { name: 'finishing', ms: 2000 }], dataMs: 4000, totalMs: 12000 };
  const trials = timed('restic', 'no-fault', [1000, 1100]).map((t) => ({ ...t, backup: { ...t.backup!, timeline } }));
  const ab: AbComparison = {
    a: 'old',
    b: 'new',
    trials: { a: 2, b: 2 },
    threshold: 0.05,
    failOnRegression: false,
    rows: [{ scenario: 'no-fault', metric: 'backup.wallMs', label: 'Backup time', unit: 'ms', a: { n: 2, median: 1000 }, b: { n: 2, median: 1000 }, ratio: 1, ci: [1, 1], status: 'unchanged', threshold: 0.05, rule: 'zero-spread' }],
    regressions: 0,
    improvements: 0,
    worse: [],
    better: [],
  };
  const TIMELINE = [
    '| Tool | Scenario | Phase | Queued | Before volumes | Preparing volumes | Volume transfers | Finishing | Outside volume transfers |',
    '| :- | :- | :- | -: | -: | -: | -: | -: | -: |',
    '| restic | no-fault | backup | 1 s | 2 s | 3 s | 4 s | 2 s | 67% of 12 s |',
  ].join('\n');
  const AB = [
    '| Scenario | Metric | old | new | new vs old | CI | p | Smallest detectable | Result |',
    '| :- | :- | -: | -: | -: | -: | -: | -: | :- |',
    '| no-fault | Backup time | 1.00 s | 1.00 s | ±0% | no spread | – | – | same within ±5% |',
  ].join('\n');
  const fit = (maxChars: number) => renderReport(input('{{verdict.word}}\n\n{{{timelineTable}}}\n\n{{{abTable}}}\n', { results: results({ trials }), comparison: comparison({ ab }), maxChars }));
  const full = `pass\n\n${TIMELINE}\n\n${AB}\n`;
  assert.equal(full.length, 484);
  assert.equal(fit(484), full);
  // The timeline goes first (none of the parts cut before it is shown), and that is enough.
  const noTimeline = `pass\n\n${AB}\n\n${cutLine(388, 'the where-the-time-went table')}`;
  assert.equal(noTimeline.length, 388);
  assert.equal(fit(483), `pass\n\n${AB}\n\n${cutLine(483, 'the where-the-time-went table')}`);
  assert.equal(fit(388), noTimeline);
  // One character less: the A/B table goes too (the parts between them are not shown).
  assert.equal(fit(387), `pass\n\n${cutLine(387, 'the where-the-time-went table, the A/B table')}`);
});

test('the last resort: marker, title, verdict, counts and the reasons that fit, escaped', () => {
  const c = comparison({ verdict: 'fail', integrityFailures: 1, erroredTrials: 2, regressions: 3, improvements: 4, reasons: ['first <x>', 'second\nline', 'r'.repeat(400), 'after'] });
  const template = 'X'.repeat(2000);
  const note = cutLine(500, 'everything but the verdict');
  const head = '<!-- m -->\n# A &lt;b&gt; &amp; c d\n\n## ❌ fail\n\n1 integrity failure · 2 errored trials · 3 regressions · 4 improvements\n';
  assert.equal(
    renderReport(input(template, { comparison: c, marker: '<!-- m -->', title: 'A <b> & c\nd', maxChars: 500 })),
    `${head}\n- first &lt;x&gt;\n- second line\n\n${note}`,
  );
  // A long reason that fits is cut at 300 characters; the others follow.
  const wide = cutLine(800, 'everything but the verdict');
  assert.equal(
    renderReport(input(template, { comparison: c, marker: '<!-- m -->', title: 'A <b> & c\nd', maxChars: 800 })),
    `${head}\n- first &lt;x&gt;\n- second line\n- ${'r'.repeat(300)}\n- after\n\n${wide}`,
  );
  // A first reason that does not fit: no reasons at all, even if a later one would.
  const c2 = comparison({ verdict: 'fail', reasons: ['r'.repeat(400), 'short'] });
  const note2 = cutLine(400, 'everything but the verdict');
  assert.equal(
    renderReport(input(template, { comparison: c2, maxChars: 400 })),
    `# T\n\n## ❌ fail\n\n0 integrity failures · 0 errored trials · 0 regressions · 0 improvements\n\n${note2}`,
  );
  // The title is cut at 200 characters (after escaping).
  const long = renderReport(input(template, { title: '<'.repeat(100), maxChars: 1000 }));
  assert.equal(long.split('\n')[0], `# ${'&lt;'.repeat(50)}`);
  // The line that just fits: head + line + note + 2 = maxChars.
  const c3 = comparison({ reasons: ['abc'] });
  const h3 = '# T\n\n## ✅ pass\n\n0 integrity failures · 0 errored trials · 0 regressions · 0 improvements\n';
  const max = h3.length + '- abc\n'.length + cutLine(999, 'everything but the verdict').length + 2;
  assert.equal(max, 252);
  const n3 = cutLine(252, 'everything but the verdict');
  assert.equal(renderReport(input(template, { comparison: c3, maxChars: 252 })), `${h3}\n- abc\n\n${n3}`);
  assert.equal(renderReport(input(template, { comparison: c3, maxChars: 251 })), `${h3}\n${cutLine(251, 'everything but the verdict')}`);
  // Two reasons, room for one: each line is held to what is left after the lines before it.
  const c4 = comparison({ reasons: ['x'.repeat(50), 'y'.repeat(50)] });
  const two = h3.length + 2 * '- '.length + 2 * 51 + cutLine(999, 'everything but the verdict').length + 2;
  assert.equal(two, 352);
  assert.equal(renderReport(input(template, { comparison: c4, maxChars: 351 })), `${h3}\n- ${'x'.repeat(50)}\n\n${cutLine(351, 'everything but the verdict')}`);
  assert.equal(renderReport(input(template, { comparison: c4, maxChars: 352 })), `${h3}\n- ${'x'.repeat(50)}\n- ${'y'.repeat(50)}\n\n${cutLine(352, 'everything but the verdict')}`);
});

test('templates from a directory: report.md.hbs with its partials when no template is given', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-fit-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'report.md.hbs'), 'main {{verdict.word}}');
  const i = input('', { templatesDir: dir });
  delete i.template;
  assert.equal(renderReport(i), 'main pass\n');
});
