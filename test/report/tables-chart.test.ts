// The time chart (Mermaid) line by line: which scenario it shows, which tools and bars, the unit and the y axis.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timeChart } from '../../src/report/tables.ts';
import type { ResultsFile } from '../../src/suite/results.ts';
import { results, timed, trial } from './fixtures.ts';

function chart(title: string, labels: string[], unit: string, yMax: number | string, bars: (number | string)[]): string {
  return [
    '```mermaid',
    'xychart-beta',
    `    title "Median backup and restore time (${title})"`,
    `    x-axis [${labels.map((l) => `"${l}"`).join(', ')}]`,
    `    y-axis "${unit}" 0 --> ${yMax}`,
    `    bar [${bars.join(', ')}]`,
    '```',
  ].join('\n');
}

test('timeChart: the first no-fault scenario with passed trials, tools in the order of the tools list, seconds from 1 s', () => {
  const r = results({
    trials: [
      ...timed('restic', 'crash', [9000, 9000]),
      ...timed('kopia', 'quiet', [1000, 3000, 2000]),
      ...timed('restic', 'quiet', [1500, 1700]),
      trial({ tool: 'restic', scenario: 'quiet', trial: 3, status: 'failed', backupMs: 50_000 }),
      ...timed('copy', 'quiet-2', [100]),
      // Passed, but nothing measured: the scenario is not the chart's.
      { ...trial({ tool: 'restic', scenario: 'empty' }), backup: undefined, restore: undefined },
    ],
    tools: [
      { name: 'restic', type: 'restic', status: 'ok' },
      { name: 'restic', type: 'restic', status: 'ok' },
      { name: 'absent', type: 'restic', status: 'skipped' },
      { name: 'kopia', type: 'kopia', status: 'ok' },
    ],
    scenarios: [
      { name: 'crash', fault: 'crash' },
      { name: 'empty', fault: 'none' },
      { name: 'quiet', fault: 'none' },
      { name: 'quiet-2', fault: 'none' },
    ],
  });
  // restic: backup median 1600, restore 800; kopia: 2000 and 1000. Seconds, rounded to 10 ms; the axis 10% above the top.
  assert.deepEqual(timeChart(r), { text: chart('quiet', ['restic backup', 'restic restore', 'kopia backup', 'kopia restore'], 'seconds', 2.2, [1.6, 0.8, 2, 1]), scope: 'quiet' });
});

test('timeChart: all scenarios pooled without a no-fault scenario with data; milliseconds below 1 s; tools not in the list after it', () => {
  const r = results({
    trials: [...timed('restic', 'crash', [400, 500, 600]), ...timed('zz', 'outage', [998.6]), trial({ tool: 'gone', scenario: 'crash', status: 'error' })],
    tools: [{ name: 'restic', type: 'restic', status: 'ok' }],
    scenarios: [
      { name: 'crash', fault: 'crash' },
      { name: 'empty', fault: 'none' },
    ],
  });
  // Largest 999 (998.6 rounded); the axis at ceil(999 * 1.1) = 1099.
  assert.deepEqual(timeChart(r), { text: chart('all scenarios', ['restic backup', 'restic restore', 'zz backup', 'zz restore'], 'milliseconds', 1099, [500, 250, 999, 499]), scope: 'all scenarios' });
});

test('timeChart: exactly 1000 ms is shown in seconds, the axis rounded up to a tenth', () => {
  const r = results({ trials: timed('restic', 'no-fault', [1000]) });
  assert.equal(timeChart(r).text, chart('no-fault', ['restic backup', 'restic restore'], 'seconds', 1.1, [1, 0.5]));
  const r2 = results({ trials: timed('restic', 'no-fault', [1234]) });
  // 1.23 * 1.1 = 1.353: up to 1.4.
  assert.equal(timeChart(r2).text, chart('no-fault', ['restic backup', 'restic restore'], 'seconds', 1.4, [1.23, 0.62]));
});

test('timeChart: a phase that was not measured has no bar; zero gives an axis of 1; labels are made safe for Mermaid', () => {
  const base = results({ trials: [trial({ tool: 'ré"s]tic <x>' + 'y'.repeat(40), backupMs: 0.2, restoreMs: 0 })], scenarios: [{ name: 'n"o', fault: 'none' }] });
  base.trials[0]!.scenario = 'n"o';
  delete base.trials[0]!.restore;
  const label = `r__s_tic _x_${'y'.repeat(28)}`;
  assert.equal(label.length, 40);
  assert.deepEqual(timeChart(base), { text: chart('n_o', [`${label} backup`], 'milliseconds', 1, [0]), scope: 'n"o' });
  // Only a restore measured.
  const restoreOnly = results({ trials: [trial({ tool: 'k', restoreMs: 20 })] });
  delete restoreOnly.trials[0]!.backup;
  assert.equal(timeChart(restoreOnly).text, chart('no-fault', ['k restore'], 'milliseconds', 22, [20]));
  // A name with nothing left: "_".
  const odd: ResultsFile = results({ trials: [trial({ tool: '', backupMs: 10, restoreMs: 10 })] });
  assert.equal(timeChart(odd).text, chart('no-fault', ['_ backup', '_ restore'], 'milliseconds', 11, [10, 10]));
});

test('timeChart: nothing passed, or nothing measured: no chart', () => {
  assert.deepEqual(timeChart(results({ trials: [trial({ status: 'error' })] })), { text: '', scope: 'all scenarios' });
  assert.deepEqual(timeChart(results({ trials: [] })), { text: '', scope: 'all scenarios' });
  const unmeasured = results({ trials: [trial()] });
  unmeasured.trials[0]!.backup!.wallMs = Number.NaN;
  unmeasured.trials[0]!.restore!.wallMs = Number.POSITIVE_INFINITY;
  assert.deepEqual(timeChart(unmeasured), { text: '', scope: 'no-fault' });
});
