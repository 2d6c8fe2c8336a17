// The detection power table and the trend table cell by cell, and the small texts in their cells.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CellComparison, Comparison, MetricComparison, TrendFinding } from '../../src/baseline/compare.ts';
import { detectableText, noiseText, powerTable, trendTable } from '../../src/report/tables.ts';
import { cellOf, comparisonOf } from './fixtures.ts';

function metric(over: Partial<MetricComparison> = {}): MetricComparison {
  return { metric: 'backup.wallMs', label: 'Backup time', unit: 'ms', current: { n: 3, median: 1000, values: [] }, status: 'unchanged', ...over };
}

const cell = cellOf;

const comparison = (cells: CellComparison[], trend?: Comparison['trend']): Comparison => comparisonOf({ cells, ...(trend ? { trend } : {}) });

const lines = (...l: string[]) => l.join('\n');

test('detectableText: a change, "none" when nothing would be flagged, a dash when it cannot be said', () => {
  assert.equal(detectableText(undefined), '–');
  assert.equal(detectableText(Number.NaN), '–');
  assert.equal(detectableText(Number.POSITIVE_INFINITY), 'none');
  assert.equal(detectableText(1.33), '+33%');
  assert.equal(detectableText(1.055), '+5.5%');
});

test('noiseText: the coefficient of variation in percent, with the spread between runs when known', () => {
  assert.equal(noiseText({}), '–');
  assert.equal(noiseText({ runCv: 0.1 }), '–');
  assert.equal(noiseText({ cv: 0 }), '0%');
  assert.equal(noiseText({ cv: 0.126 }), '13%');
  assert.equal(noiseText({ cv: 0.0126 }), '1.3%');
  assert.equal(noiseText({ cv: 0.2 }), '20%');
  assert.equal(noiseText({ cv: 0.1 }), '10%');
  assert.equal(noiseText({ cv: 0.0999 }), '10%');
  assert.equal(noiseText({ cv: 0.0994 }), '9.9%');
  assert.equal(noiseText({ cv: 0.126, runCv: 0.099 }), '13% (between runs 9.9%)');
  assert.equal(noiseText({ cv: 0, runCv: 0 }), '0% (between runs 0%)');
});

const POWER_HEAD = lines(
  '| Tool | Scenario | Metric | Trials (this run vs baseline) | Baseline noise (CV) | Smallest possible p | Threshold | Smallest detectable regression |',
  '| :- | :- | :- | -: | -: | -: | -: | -: |',
);

test('powerTable: one row per metric with power and a baseline', () => {
  const c = comparison([
    cell({
      metrics: [
        metric({ baseline: { n: 4, median: 900, cv: 0.2, runCv: 0.05 }, power: { smallestP: 0.1, detectable: 1.33 }, threshold: 0.1 }),
        // No power (too few trials) or no baseline: no row.
        metric({ metric: 'restore.wallMs', label: 'Restore time', baseline: { n: 1, median: 900 } }),
        metric({ metric: 'rtoMs', label: 'RTO', power: { smallestP: 0.1 } }),
        metric({ metric: 'repository.sizeBytes', label: 'Repo | size', unit: 'bytes', current: { n: 10, median: 1, values: [] }, baseline: { n: 12, median: 1 }, power: { smallestP: 0.0000005, detectable: Number.POSITIVE_INFINITY } }),
      ],
    }),
    cell({ tool: 'k<1>', scenario: 'crash', metrics: [metric({ baseline: { n: 2, median: 1, cv: 0.05 }, power: { smallestP: 0.33333 }, threshold: 0.025 })] }),
  ]);
  assert.deepEqual(powerTable(c), {
    text: lines(
      POWER_HEAD,
      '| restic | no-fault | Backup time | 3 vs 4 | 20% (between runs 5.0%) | 0.1 | +10% | +33% |',
      '| restic | no-fault | Repo \\| size | 10 vs 12 | – | <0.001 | – | none |',
      '| k&lt;1&gt; | crash | Backup time | 3 vs 2 | 5.0% | 0.33 | +2.5% | – |',
    ),
    rows: 3,
  });
  assert.deepEqual(powerTable(comparison([cell({ metrics: [metric()] })])), { text: '', rows: 0 });
});

function finding(over: Partial<TrendFinding> = {}): TrendFinding {
  return {
    tool: 'restic',
    scenario: 'no-fault',
    metric: 'backup.wallMs',
    label: 'Backup time',
    unit: 'ms',
    index: 5,
    run: { id: 'run-42', startedAt: '2025-03-04T05:06:07.000Z', sha: '0123456789abcdef', current: false },
    before: 1000,
    after: 1500,
    ratio: 1.5,
    pValue: 0.004,
    ...over,
  };
}

test('trendTable: each level shift with its direction, the run where it started, the medians and p', () => {
  const c = comparison([], {
    runs: 12,
    series: 3,
    findings: [
      finding(),
      finding({ tool: 'kopia|x', metric: 'repository.sizeBytes', label: 'Repository size', unit: 'bytes', before: 2048, after: 1024, ratio: 0.5, pValue: 0.0001, run: { id: 'r<1>', startedAt: 'yesterday', current: false } }),
      finding({ scenario: 'other', run: { id: 'y', startedAt: 'on 2025-03-04', current: false } }),
      finding({ scenario: 'crash', metric: 'writesLost', label: 'Writes lost', unit: 'count', before: 3, after: 3, ratio: 1, pValue: 0.05, run: { id: 'x', startedAt: '2025-05-06', current: true } }),
    ],
  });
  assert.equal(
    trendTable(c),
    lines(
      '| Tool | Scenario | Metric | Level shift | Since | Median before → after | p |',
      '| :- | :- | :- | -: | :- | -: | -: |',
      '| restic | no-fault | Backup time | 🔺 +50% | run run-42 (2025-03-04, 0123456) | 1.00 s → 1.50 s | p=0.004 |',
      '| kopia\\|x | no-fault | Repository size | 🟢 -50% | run r&lt;1&gt; (yesterday) | 2.00 KiB → 1.00 KiB | p<0.001 |',
      '| restic | other | Backup time | 🔺 +50% | run y (on 2025-03-04) | 1.00 s → 1.50 s | p=0.004 |',
      '| restic | crash | Writes lost | ±0% | this run | 3 → 3 | p=0.05 |',
    ),
  );
  assert.equal(trendTable(comparison([], { runs: 12, series: 3, findings: [] })), '');
  assert.equal(trendTable(comparison([])), '');
});
