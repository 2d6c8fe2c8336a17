// The report's A/B section (issue 9): the table cell by cell, the sentence above it, and its place in the report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AbComparison } from '../../src/baseline/ab.ts';
import { compare } from '../../src/baseline/compare.ts';
import { abNote, abResult, abTable } from '../../src/report/ab-table.ts';
import { renderReport } from '../../src/report/render.ts';
import { config, results, timed } from './fixtures.ts';

const BASE: AbComparison = {
  a: 'restic-0-14',
  b: 'restic|0-18',
  trials: { a: 3, b: 3 },
  threshold: 0.05,
  failOnRegression: false,
  rows: [
    {
      scenario: 'no-fault',
      metric: 'backup.wallMs',
      label: 'Backup time',
      unit: 'ms',
      a: { n: 3, median: 10000, cv: 0.03 },
      b: { n: 3, median: 11000, cv: 0.031 },
      ratio: 1.1,
      ci: [1.04, 1.17],
      pValue: 0.1,
      status: 'regression',
      threshold: 0.05,
      power: { smallestP: 0.1, detectable: 1.072 },
    },
    {
      scenario: 'no-fault',
      metric: 'repository.sizeBytes',
      label: 'Repository size',
      unit: 'bytes',
      a: { n: 3, median: 1048576, cv: 0 },
      b: { n: 3, median: 1048576, cv: 0 },
      ratio: 1,
      ci: [1, 1],
      status: 'unchanged',
      threshold: 0.02,
      rule: 'zero-spread',
    },
    {
      scenario: 'crash-backup',
      metric: 'rtoMs',
      label: 'RTO',
      unit: 'ms',
      a: { n: 1, median: 600 },
      b: { n: 2, median: 500, cv: 0.1 },
      ratio: 0.8333,
      status: 'insufficient',
      threshold: 0.05,
    },
  ],
  regressions: 1,
  improvements: 0,
  worse: ['A/B restic|0-18 vs restic-0-14 / no-fault: Backup time +10%, restic|0-18 slower (…)'],
  better: [],
};

test('the A/B table: one row per scenario × metric, every cell as expected, names escaped', () => {
  assert.equal(
    abTable(BASE),
    [
      '| Scenario | Metric | restic-0-14 | restic\\|0-18 | restic\\|0-18 vs restic-0-14 | CI | p | Smallest detectable | Result |',
      '| :- | :- | -: | -: | -: | -: | -: | -: | :- |',
      '| no-fault | Backup time | 10.0 s (CV 3.0%) | 11.0 s (CV 3.1%) | +10% | ×1.04–×1.17 | p=0.1 | +7.2% | ⚠️ restic\\|0-18 slower |',
      '| no-fault | Repository size | 1.00 MiB (CV 0%) | 1.00 MiB (CV 0%) | ±0% | no spread | – | – | same within ±2% |',
      '| crash-backup | RTO | 600 ms | 500 ms (CV 10%) | -17% | – | – | – | too few trials |',
    ].join('\n'),
  );
  assert.equal(abTable({ ...BASE, rows: [] }), '');
});

test('each result word, from b\'s side and in the unit of the metric', () => {
  const row = BASE.rows[0]!;
  assert.equal(abResult({ ...row, status: 'improvement' }, 'new'), 'new faster');
  assert.equal(abResult({ ...row, unit: 'bytes', status: 'regression' }, 'new'), '⚠️ new larger');
  assert.equal(abResult({ ...row, unit: 'count', status: 'improvement' }, 'new'), 'new lower');
  assert.equal(abResult({ ...row, unit: 'count', status: 'regression' }, 'new'), '⚠️ new higher');
  assert.equal(abResult({ ...row, status: 'unchanged', threshold: 0.1 }, 'new'), 'same within ±10%');
});

test('the sentence above the table says what ran, what was found and whether it gates the run', () => {
  assert.equal(
    abNote(BASE),
    '**restic|0-18** against **restic-0-14**, interleaved in this run (3 trials each, the order of the two alternating from trial to trial): **restic|0-18** worse on 1 metric. A difference of the medians beyond ±5% counts when the interval and the rank test agree; the differences do not change the verdict (ab.failOnRegression is off).',
  );
  assert.match(abNote({ ...BASE, regressions: 0, improvements: 2, failOnRegression: true, trials: { a: 3, b: 2 } }), /\(2 trials of \*\*restic\|0-18\*\* against 3 of \*\*restic-0-14\*\*, the order.*: \*\*restic\|0-18\*\* better on 2 metrics\. .*; \*\*restic\|0-18\*\* worse than \*\*restic-0-14\*\* fails the run\.$/);
  assert.match(abNote({ ...BASE, regressions: 0, improvements: 0 }), /: no difference beyond the threshold\. /);
});

test('a run with suite.ab gets an A/B section before the summary; without one, none', () => {
  const cur = results({ trials: [...timed('old', 'no-fault', [10000, 10300, 9700]), ...timed('new', 'no-fault', [11000, 11330, 10670])] });
  cur.suite.ab = { a: 'old', b: 'new', threshold: 0.05, failOnRegression: false };
  const cfg = config({ metrics: ['backup.wallMs'] });
  const md = renderReport({ results: cur, comparison: compare(cur, { runs: [], source: 'none' }, cfg), title: 't', maxChars: 65000 });
  const at = md.indexOf('## A/B: new vs old\n\n**new** against **old**, interleaved in this run (3 trials each');
  assert.ok(at > 0, md);
  assert.ok(at < md.indexOf('## Summary'), 'A/B before the summary');
  assert.match(md, /\n\| no-fault \| Backup time \| 10\.0 s \(CV 3\.0%\) \| 11\.0 s \(CV 3\.0%\) \| \+10% \| ×1\.\d\d–×1\.\d\d \| p=0\.1 \| \+\d+(\.\d)?% \| ⚠️ new slower \|\n/);
  assert.match(md, /\n_With 3 trials against 3, changes below ~.*every old trial\)/);
  delete cur.suite.ab;
  assert.doesNotMatch(renderReport({ results: cur, comparison: compare(cur, { runs: [], source: 'none' }, cfg), title: 't', maxChars: 65000 }), /A\/B/);
});
