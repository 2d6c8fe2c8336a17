// The report's tables cell by cell (issue 8: the mutation run of src/report left most of tables.ts untested because
// the render tests match patterns). Each table is built from a hand-made comparison and checked as a whole string:
// header, alignment row and every cell.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CellComparison, Comparison, MetricComparison } from '../../src/baseline/compare.ts';
import {
  cellNeedsAttention,
  cellStatus,
  deltaText,
  faultsTable,
  integrityTable,
  medianChange,
  recoveryTable,
  resourcesTable,
  summaryTable,
  table,
  toolsTable,
  trialsByCell,
  trialsTable,
} from '../../src/report/tables.ts';
import type { TrialResult } from '../../src/suite/results.ts';
import { cellOf, comparisonOf, lostIntegrity, okIntegrity, results, trial } from './fixtures.ts';

const MiB = 1024 * 1024;

function metric(over: Partial<MetricComparison> = {}): MetricComparison {
  return { metric: 'backup.wallMs', label: 'Backup time', unit: 'ms', current: { n: 3, median: 1000, values: [990, 1000, 1010] }, status: 'unchanged', ...over };
}

const cell = cellOf;

const comparison = (cells: CellComparison[]): Comparison => comparisonOf({ cells });

const lines = (...l: string[]) => l.join('\n');

test('table: header, one alignment per column (left, right, centre), rows as given', () => {
  assert.equal(table(['a', 'b', 'c'], [['1', '2', '3'], ['x', '', 'z']], ['l', 'r', 'c']), lines('| a | b | c |', '| :- | -: | :-: |', '| 1 | 2 | 3 |', '| x | | z |'));
});

test('trialsByCell: grouped by tool and scenario in first-seen order, each group sorted by trial number', () => {
  const m = trialsByCell(
    results({
      trials: [
        trial({ tool: 'kopia', scenario: 's', trial: 2 }),
        trial({ tool: 'restic', scenario: 's', trial: 3 }),
        trial({ tool: 'kopia', scenario: 's', trial: 1 }),
        trial({ tool: 'restic', scenario: 's', trial: 1 }),
        trial({ tool: 'kopia', scenario: 't', trial: 1 }),
      ],
    }),
  );
  assert.deepEqual(
    [...m.entries()].map(([k, v]) => [k, v.map((t) => t.trial)]),
    [
      ['kopia\u0000s', [1, 2]],
      ['restic\u0000s', [1, 3]],
      ['kopia\u0000t', [1]],
    ],
  );
});

test('deltaText: every status, with and without interval and p, and the zero-spread rule', () => {
  assert.equal(deltaText(undefined), '–');
  assert.equal(deltaText(metric({ status: 'new' })), 'new');
  assert.equal(deltaText(metric({ status: 'insufficient' })), 'n<2');
  assert.equal(deltaText(metric({ status: 'insufficient', ratio: 1.03 })), '+3.0% (n<2)');
  assert.equal(deltaText(metric({ status: 'regression', ratio: 1.84, ci: [1.61, 2.1], pValue: 0.004 })), '🔺 +84% (×1.61–×2.10, p=0.004)');
  assert.equal(deltaText(metric({ status: 'improvement', ratio: 0.8, ci: [0.7, 0.9], pValue: 0.0001 })), '🟢 -20% (×0.70–×0.90, p<0.001)');
  assert.equal(deltaText(metric({ status: 'unchanged', ratio: 1.01 })), '+1.0%');
  assert.equal(deltaText(metric({ status: 'unchanged', ratio: 1.01, pValue: 0.5 })), '+1.0% (p=0.5)');
  assert.equal(deltaText(metric({ status: 'unchanged', ratio: 1.01, pValue: 0 })), '+1.0% (p<0.001)');
  assert.equal(deltaText(metric({ status: 'unchanged', ratio: 1.01, ci: [0.9, 1.2] })), '+1.0% (×0.90–×1.20)');
  assert.equal(deltaText(metric({ status: 'regression', ratio: 1.033, rule: 'zero-spread', ci: [1, 2], pValue: 0.1 })), '🔺 +3.3% (no spread)');
  assert.equal(deltaText(metric({ status: 'improvement', ratio: 0.5, rule: 'zero-spread' })), '🟢 -50% (no spread)');
  assert.equal(deltaText(metric({ status: 'unchanged', ratio: 1.01, rule: 'zero-spread' })), '+1.0% (no spread)');
});

test('cellStatus: the worst state wins, in order', () => {
  const reg = metric({ status: 'regression' });
  const imp = metric({ status: 'improvement' });
  assert.equal(cellStatus(cell({ failed: 1, errored: 1, notInjected: 1, metrics: [reg] })), '❌ data loss');
  assert.equal(cellStatus(cell({ errored: 1, notInjected: 1, metrics: [reg] })), '⚠️ error');
  assert.equal(cellStatus(cell({ notInjected: 1, metrics: [reg] })), '⚠️ not injected');
  assert.equal(cellStatus(cell({ notInjected: undefined as unknown as number, metrics: [imp, reg] })), '🔺 regression');
  assert.equal(cellStatus(cell({ metrics: [metric(), imp] })), '🟢 improvement');
  assert.equal(cellStatus(cell({ trials: 2, skipped: 2, metrics: [metric()] })), '➖ skipped');
  assert.equal(cellStatus(cell({ trials: 2, skipped: 1 })), '✅ ok');
  assert.equal(cellStatus(cell({ trials: 0, skipped: 0, passed: 0 })), '✅ ok');
});

test('cellNeedsAttention: failures, errors, faults not injected, regressions and improvements, each on its own', () => {
  assert.equal(cellNeedsAttention(cell()), false);
  assert.equal(cellNeedsAttention(cell({ metrics: [metric(), metric({ status: 'new' }), metric({ status: 'insufficient' })] })), false);
  assert.equal(cellNeedsAttention(cell({ trials: 2, skipped: 2 })), false);
  assert.equal(cellNeedsAttention(cell({ notInjected: undefined as unknown as number })), false);
  assert.equal(cellNeedsAttention(cell({ failed: 1 })), true);
  assert.equal(cellNeedsAttention(cell({ errored: 1 })), true);
  assert.equal(cellNeedsAttention(cell({ notInjected: 1 })), true);
  assert.equal(cellNeedsAttention(cell({ metrics: [metric(), metric({ status: 'regression' })] })), true);
  assert.equal(cellNeedsAttention(cell({ metrics: [metric({ status: 'improvement' })] })), true);
});

const SUMMARY_HEAD = lines(
  '| Tool | Scenario | Status | Passed | Backup (median) | Δ backup | Restore (median) | Δ restore | Integrity | Other changes |',
  '| :- | :- | :- | -: | -: | -: | -: | -: | :- | :- |',
);

test('summaryTable: every cell of a row, medians from the comparison or else from the passed trials', () => {
  const r = results({
    trials: [
      trial({ tool: 'restic', scenario: 'no-fault', trial: 1, backupMs: 1000, restoreMs: 400 }),
      trial({ tool: 'restic', scenario: 'no-fault', trial: 2, backupMs: 3000, restoreMs: 600 }),
      // Not passed: left out of the fallback medians.
      trial({ tool: 'restic', scenario: 'no-fault', trial: 3, status: 'failed', backupMs: 9000, restoreMs: 9000 }),
      trial({ tool: 'kopia', scenario: 'no-fault', trial: 1, backupMs: 1500, restoreMs: 700 }),
      trial({ tool: 'a|b', scenario: 'x<y>', trial: 1, status: 'error' }),
    ],
  });
  const c = comparison([
    // No metrics: medians of the passed trials; a failed trial: data loss.
    cell({ tool: 'restic', trials: 3, passed: 2, failed: 1, integrityOk: false }),
    cell({
      tool: 'kopia',
      trials: 1,
      passed: 1,
      metrics: [
        metric({ current: { n: 1, median: 2500, values: [] }, status: 'regression', ratio: 1.84, ci: [1.61, 2.1], pValue: 0.004 }),
        metric({ metric: 'restore.wallMs', label: 'Restore time', current: { n: 1, median: 800, values: [] }, status: 'improvement', ratio: 0.5, pValue: 0.01 }),
        metric({ metric: 'backup.cpuMs', label: 'Backup CPU', status: 'regression', ratio: 1.5 }),
        metric({ metric: 'repository.sizeBytes', label: 'Repository size', unit: 'bytes', status: 'unchanged', ratio: 1.5 }),
        metric({ metric: 'backup.peakRssBytes', label: 'Backup peak RSS', unit: 'bytes', status: 'improvement', ratio: 0.75 }),
      ],
    }),
    // No trial with integrity: a dash; no backup or restore at all: dashes.
    cell({ tool: 'a|b', scenario: 'x<y>', trials: 1, passed: 0, errored: 1, integrityOk: false }),
    // A cell without trials in the results.
    cell({ tool: 'ghost', trials: 0, passed: 0, integrityOk: false }),
  ]);
  const want = lines(
    SUMMARY_HEAD,
    '| restic | no-fault | ❌ data loss | 2/3 | 2.00 s | – | 500 ms | – | ❌ 1/3 lost data | – |',
    '| kopia | no-fault | 🔺 regression | 1/1 | 2.50 s | 🔺 +84% (×1.61–×2.10, p=0.004) | 800 ms | 🟢 -50% (p=0.01) | ✅ verified | 🔺 Backup CPU +50%<br>🟢 Backup peak RSS -25% |',
    '| a\\|b | x&lt;y&gt; | ⚠️ error | 0/1 | – | – | – | – | – | – |',
    '| ghost | no-fault | ✅ ok | 0/0 | – | – | – | – | – | – |',
  );
  assert.deepEqual(summaryTable(r, c), { text: want, hidden: 0 });
  assert.deepEqual(summaryTable(r, c, { onlyAttention: false }), { text: want, hidden: 0 });

  // Only the rows that need attention; the others counted.
  assert.deepEqual(summaryTable(r, c, { onlyAttention: true }), {
    text: lines(
      SUMMARY_HEAD,
      '| restic | no-fault | ❌ data loss | 2/3 | 2.00 s | – | 500 ms | – | ❌ 1/3 lost data | – |',
      '| kopia | no-fault | 🔺 regression | 1/1 | 2.50 s | 🔺 +84% (×1.61–×2.10, p=0.004) | 800 ms | 🟢 -50% (p=0.01) | ✅ verified | 🔺 Backup CPU +50%<br>🟢 Backup peak RSS -25% |',
      '| a\\|b | x&lt;y&gt; | ⚠️ error | 0/1 | – | – | – | – | – | – |',
    ),
    hidden: 1,
  });
  // Nothing to show: no text, every row counted as hidden.
  assert.deepEqual(summaryTable(r, comparison([cell(), cell({ tool: 'kopia' })]), { onlyAttention: true }), { text: '', hidden: 2 });
  assert.deepEqual(summaryTable(r, comparison([])), { text: '', hidden: 0 });
});

test('summaryTable: integrity verified or mismatched', () => {
  const r = results({ trials: [trial({ tool: 'restic', trial: 1, backupMs: 1000, restoreMs: 500 })] });
  assert.equal(summaryTable(r, comparison([cell({ trials: 1, passed: 1, integrityOk: false })])).text, lines(SUMMARY_HEAD, '| restic | no-fault | ✅ ok | 1/1 | 1.00 s | – | 500 ms | – | ❌ mismatch | – |'));
});

const FAULTS_HEAD = lines(
  '| Tool | Scenario | Fault | Injected | What the injector did | Detected | Recovery (median) | Outcome |',
  '| :- | :- | :- | -: | :- | -: | -: | :- |',
);

test('faultsTable: kinds, injected and detected counts, descriptions, recovery and the outcome of each cell', () => {
  const f = (kind: TrialResult['fault']['kind'], injected: boolean, description: string, more: Partial<TrialResult['fault']> = {}): TrialResult['fault'] => ({ kind, injected, description, details: {}, ...more });
  const r = results({
    trials: [
      trial({ tool: 'copy', scenario: 'crash', trial: 1, fault: f('crash', true, 'SIGKILL at 31%', { detected: true, recoveryMs: 900 }) }),
      trial({ tool: 'copy', scenario: 'crash', trial: 2, fault: f('crash', true, 'SIGKILL at 31%', { detected: false, recoveryMs: 1100 }) }),
      trial({ tool: 'copy', scenario: 'crash', trial: 3, fault: f('outage', false, '', { recoveryMs: 5000 }) }),
      trial({ tool: 'copy', scenario: 'crash', trial: 4, fault: f('crash', true, 'SIGKILL at 80%', { detected: true }) }),
      // No description: nothing to list.
      trial({ tool: 'copy', scenario: 'crash', trial: 6, fault: f('crash', true, undefined as unknown as string) }),
      // No fault in this trial: not counted.
      trial({ tool: 'copy', scenario: 'crash', trial: 5 }),
      // A cell without faults: no row.
      trial({ tool: 'copy', scenario: 'no-fault', trial: 1 }),
      trial({ tool: 'kopia', scenario: 'crash', trial: 1, fault: f('crash', false, 'no | crash\ninjected') }),
      trial({ tool: 'restic', scenario: 'crash', trial: 1, fault: f('corrupt-volume', true, 'a'.repeat(250), { detected: false }) }),
      trial({ tool: 'restic', scenario: 'crash', trial: 2, fault: f('corrupt-volume', true, 'b'.repeat(200), { detected: false }) }),
      trial({ tool: 'restic', scenario: 'crash', trial: 3, fault: f('corrupt-volume', true, 'c', { detected: false }) }),
      trial({ tool: 'restic', scenario: 'crash', trial: 4, fault: f('corrupt-volume', true, 'd', { detected: false }) }),
      trial({ tool: 'restic', scenario: 'crash', trial: 5, fault: f('corrupt-volume', true, 'e', { detected: false }) }),
    ],
  });
  const c = comparison([
    cell({ tool: 'copy', scenario: 'crash', trials: 5, passed: 1, failed: 2, errored: 1, skipped: 3, notInjected: 1 }),
    cell({ tool: 'copy', scenario: 'no-fault' }),
    cell({ tool: 'kopia', scenario: 'crash', trials: 1, passed: 0, errored: 2 }),
    cell({ tool: 'restic', scenario: 'crash', trials: 5, passed: 0, errored: 0 }),
    cell({ tool: 'ghost', scenario: 'crash' }),
  ]);
  const long = `${'a'.repeat(199)}…`;
  assert.equal(
    faultsTable(r, c),
    lines(
      FAULTS_HEAD,
      '| copy | crash | crash, outage | 4/5 | SIGKILL at 31%<br>SIGKILL at 80% | 2/3 | 1.10 s | 1 recovered, 2 lost data, 1 error, 3 skipped, 1 not injected |',
      '| kopia | crash | crash | 0/1 | no \\| crash<br>injected | – | – | 2 errors |',
      `| restic | crash | corrupt-volume | 5/5 | ${long}<br>${'b'.repeat(200)}<br>c<br>… 2 more | 0/5 | – | – |`,
    ),
  );
  // No fault anywhere: no table.
  assert.equal(faultsTable(results({ trials: [trial()] }), comparison([cell()])), '');
});

const INTEGRITY_HEAD = lines(
  '| Tool | Scenario | Trials verified | Files checked | Matched | Mismatched | Missing | Extra | Data checked | Examples |',
  '| :- | :- | -: | -: | -: | -: | -: | -: | -: | :- |',
);

test('integrityTable: totals over the verified trials, examples in order, and only the failures when asked', () => {
  const odd = { files: 10, matched: 6, mismatched: 1, missing: 2, extra: 1, bytes: 3 * MiB, ok: false, examples: { mismatched: ['m|1'], missing: ['gone'], extra: ['new<1>'] } };
  const r = results({
    trials: [
      trial({ tool: 'restic', trial: 1, integrity: okIntegrity(100) }),
      trial({ tool: 'restic', trial: 2, integrity: lostIntegrity(100, 3, 2) }),
      trial({ tool: 'restic', trial: 3, integrity: odd }),
      trial({ tool: 'restic', trial: 4, status: 'error' }),
      trial({ tool: 'kopia', trial: 1, integrity: { ...okIntegrity(5), examples: undefined } as never }),
      trial({ tool: 'kopia', trial: 2, integrity: { ...okIntegrity(7), examples: {} } as never }),
      trial({ tool: 'copy', trial: 1, status: 'error' }),
    ],
  });
  const c = comparison([cell({ tool: 'restic', integrityOk: false }), cell({ tool: 'kopia' }), cell({ tool: 'copy' })]);
  const restic =
    '| restic | no-fault | ❌ 1/3 | 210 | 201 | 3 | 5 | 1 | 103 MiB | mismatched: proxy-0/stats/0.prom<br>mismatched: proxy-0/stats/1.prom<br>missing: proxy-1/access-0.log<br>… 5 more |';
  assert.equal(integrityTable(r, c), lines(INTEGRITY_HEAD, restic, '| kopia | no-fault | ✅ 2/2 | 12 | 12 | 0 | 0 | 0 | 100 MiB | – |'));
  assert.equal(integrityTable(r, c, { onlyFailures: true }), lines(INTEGRITY_HEAD, restic));
  assert.equal(integrityTable(r, comparison([cell({ tool: 'kopia' })]), { onlyFailures: true }), '');
  // Examples of every kind, escaped, each named once however many trials had it.
  const one = results({ trials: [trial({ tool: 'restic', trial: 3, integrity: odd }), trial({ tool: 'restic', trial: 4, integrity: odd })] });
  assert.equal(
    integrityTable(one, comparison([cell({ tool: 'restic', integrityOk: false })])),
    lines(INTEGRITY_HEAD, '| restic | no-fault | ❌ 0/2 | 20 | 12 | 2 | 4 | 2 | 6.00 MiB | mismatched: m\\|1<br>missing: gone<br>extra: new&lt;1&gt; |'),
  );
});

test('resourcesTable: medians of each phase over the trials that measured it', () => {
  const r = results({
    trials: [
      trial({ tool: 'restic', trial: 1, backupMs: 1000, restoreMs: 2000, repoBytes: 10 * MiB }),
      trial({ tool: 'restic', trial: 2, backupMs: 3000, restoreMs: 4000, repoBytes: 30 * MiB }),
      trial({ tool: 'restic', trial: 3, status: 'error' }),
      trial({ tool: 'kopia', trial: 1, status: 'error' }),
    ],
  });
  // The second trial uses other resources than the fixture's defaults.
  r.trials[1]!.backup = { ...r.trials[1]!.backup!, cpuCores: 1.5, peakRssBytes: 100 * MiB, bytesRead: 70 * MiB, bytesWritten: 45 * MiB };
  r.trials[1]!.restore = { ...r.trials[1]!.restore!, peakRssBytes: 60 * MiB };
  assert.equal(
    resourcesTable(r, comparison([cell({ tool: 'restic' }), cell({ tool: 'kopia' })])),
    lines(
      '| Tool | Scenario | Backup CPU | Backup cores | Backup peak RSS | Restore peak RSS | Backup read | Backup written | Repository | Backup throughput | Restore throughput |',
      '| :- | :- | -: | -: | -: | -: | -: | -: | -: | -: | -: |',
      '| restic | no-fault | 1.40 s | 1.10 | 90.0 MiB | 70.0 MiB | 60.0 MiB | 35.0 MiB | 20.0 MiB | 33.3 MiB/s | 18.8 MiB/s |',
    ),
  );
  // Only a restore measured: the backup columns are dashes.
  const restoreOnly = results({ trials: [trial({ tool: 'restic' })] });
  delete restoreOnly.trials[0]!.backup;
  delete restoreOnly.trials[0]!.repository;
  assert.equal(
    resourcesTable(restoreOnly, comparison([cell()])).split('\n')[2],
    '| restic | no-fault | – | – | – | 80.0 MiB | – | – | – | – | 100 MiB/s |',
  );
  assert.equal(resourcesTable(results({ trials: [trial({ status: 'error' })] }), comparison([cell()])), '');
});

const RECOVERY_HEAD = ['Tool', 'Scenario', 'RTO (median)', 'RTO (max)', 'Δ RTO', 'RPO (median)', 'RPO (max)', 'Δ RPO', 'Writes lost (median)', 'Writes lost (max)', 'Δ writes lost'];

test('recoveryTable: RTO and RPO medians, maxima and changes; the writes lost columns only where writes were counted', () => {
  const r = results({
    trials: [
      trial({ tool: 'restic', scenario: 'crash', trial: 1, rtoMs: 1000, rpoMs: 0 }),
      trial({ tool: 'restic', scenario: 'crash', trial: 2, rtoMs: 3000 }),
      trial({ tool: 'restic', scenario: 'crash', trial: 3, rtoMs: 2500, rpoMs: 400 }),
      // Not a number: left out of the median and of the maximum.
      trial({ tool: 'restic', scenario: 'crash', trial: 4, rtoMs: Number.NaN }),
      trial({ tool: 'restic', scenario: 'no-fault', trial: 1 }),
      // An RPO in one trial of two, no RTO at all: a row.
      trial({ tool: 'kopia', scenario: 'crash', trial: 1, rpoMs: 50 }),
      trial({ tool: 'kopia', scenario: 'crash', trial: 2 }),
    ],
  });
  const c = comparison([
    cell({ tool: 'restic', scenario: 'crash', metrics: [metric({ metric: 'rtoMs', label: 'RTO', status: 'regression', ratio: 1.5, pValue: 0.01 }), metric({ metric: 'rpoMs', label: 'RPO', status: 'new' })] }),
    cell({ tool: 'restic', scenario: 'no-fault' }),
    cell({ tool: 'kopia', scenario: 'crash' }),
    cell({ tool: 'ghost', scenario: 'crash' }),
  ]);
  assert.equal(
    recoveryTable(r, c),
    lines(
      `| ${RECOVERY_HEAD.slice(0, 8).join(' | ')} |`,
      '| :- | :- | -: | -: | -: | -: | -: | -: |',
      '| restic | crash | 2.50 s | 3.00 s | 🔺 +50% (p=0.01) | 200 ms | 400 ms | new |',
      '| kopia | crash | – | – | – | 50 ms | 50 ms | – |',
    ),
  );
  assert.equal(recoveryTable(results({ trials: [trial()] }), comparison([cell()])), '');
});

test('recoveryTable: writes lost counted by the outage writer add three columns for every row', () => {
  const outage = (trialNo: number, lost: number): TrialResult => {
    const t = trial({ tool: 'restic', scenario: 'outage', trial: trialNo, rtoMs: 1000 * trialNo });
    t.fault = { kind: 'outage', injected: true, description: 'outage', details: { writesLost: lost } };
    return t;
  };
  // Writes lost counted in some trials of each cell only: still a column for every row.
  const copyLost = trial({ tool: 'copy', scenario: 'outage', trial: 1 });
  copyLost.fault = { kind: 'outage', injected: true, description: 'outage', details: { writesLost: 1 } };
  const r = results({
    trials: [
      outage(1, 2),
      outage(2, 5),
      trial({ tool: 'restic', scenario: 'outage', trial: 3, rtoMs: 3000 }),
      trial({ tool: 'kopia', scenario: 'outage', trial: 1, rtoMs: 700 }),
      copyLost,
      trial({ tool: 'copy', scenario: 'outage', trial: 2 }),
    ],
  });
  const c = comparison([
    cell({ tool: 'restic', scenario: 'outage', metrics: [metric({ metric: 'writesLost', label: 'Writes lost', unit: 'count', status: 'improvement', ratio: 0.5 })] }),
    cell({ tool: 'kopia', scenario: 'outage' }),
    cell({ tool: 'copy', scenario: 'outage' }),
  ]);
  const got = recoveryTable(r, c);
  assert.equal(
    got,
    lines(
      `| ${RECOVERY_HEAD.join(' | ')} |`,
      '| :- | :- | -: | -: | -: | -: | -: | -: | -: | -: | -: |',
      '| restic | outage | 2.00 s | 3.00 s | – | – | – | – | 3.5 | 5 | 🟢 -50% |',
      '| kopia | outage | 700 ms | 700 ms | – | – | – | – | – | – | – |',
      '| copy | outage | – | – | – | – | – | – | 1 | 1 | – |',
    ),
  );
});

test('toolsTable: ran with its version, key derivation and lock wait, or skipped with its reason', () => {
  const r = results({
    trials: [trial()],
    tools: [
      { name: 'restic', type: 'restic', status: 'ok', version: '0.14.0', keyDerivation: { mode: 'fixed', kdf: 'scrypt', N: 16384, r: 8, p: 1, ms: 37.4 }, lockWait: { ms: 203.6, pairs: 2 } },
      { name: 'bare', type: 'restic', status: 'ok', keyDerivation: { mode: 'calibrated', kdf: 'scrypt', N: 2, r: 3, p: 4, ms: 1500 } },
      { name: 'plain', type: 'copy', status: 'ok' },
      { name: 'kopia', type: 'kopia', status: 'ok', version: '0.21.1', keyDerivation: { mode: 'fixed', kdf: 'pbkdf2-sha256', iterations: 600_000, ms: 98.7 } },
      { name: 'k|1', type: 'kopia', status: 'skipped', reason: 'kopia is not on PATH\nat all' },
      { name: 'k2', type: 'kopia', status: 'skipped', version: '0.21' },
    ],
  });
  assert.equal(
    toolsTable(r),
    lines(
      '| Tool | Type | Status | Version / reason |',
      '| :- | :- | :- | :- |',
      '| restic | restic | ✅ ran | 0.14.0 · key derivation scrypt N=16384,r=8,p=1 (fixed): 37 ms per derivation · repository lock: 204 ms per locking command |',
      '| bare | restic | ✅ ran | – · key derivation scrypt N=2,r=3,p=4 (calibrated): 1.50 s per derivation |',
      '| plain | copy | ✅ ran | – |',
      '| kopia | kopia | ✅ ran | 0.21.1 · key derivation pbkdf2-sha256 600000 iterations (fixed): 99 ms per derivation |',
      '| k\\|1 | kopia | ➖ skipped | kopia is not on PATH<br>at all |',
      '| k2 | kopia | ➖ skipped | no reason given |',
    ),
  );
  assert.equal(toolsTable(results({ trials: [], tools: [] })), '');
});

const TRIALS_HEAD = lines(
  '| Tool | Scenario | # | Status | Backup | Incremental | Restore | RTO | RPO | Integrity | Fault | Error |',
  '| :- | :- | -: | :- | -: | -: | -: | -: | -: | :- | :- | :- |',
);

test('trialsTable: one row per trial in cell order, its integrity, fault and error, or only the problems', () => {
  const r = results({
    trials: [
      trial({ tool: 'restic', trial: 2, backupMs: 1200, incrementalMs: 300, restoreMs: 600, rtoMs: 2000, rpoMs: 15 }),
      trial({ tool: 'restic', trial: 1, backupMs: 1000, restoreMs: 500 }),
      trial({ tool: 'restic', trial: 3, status: 'failed', integrity: lostIntegrity(10, 1, 2) }),
      trial({ tool: 'restic', trial: 4, status: 'failed', integrity: lostIntegrity(10, 0, 2) }),
      trial({ tool: 'restic', trial: 5, status: 'failed', integrity: lostIntegrity(10, 4, 0) }),
      trial({ tool: 'restic', trial: 6, status: 'failed', integrity: { ...okIntegrity(10), ok: false } }),
      trial({ tool: 'restic', trial: 7, status: 'error', error: `x|${'e'.repeat(200)}` }),
      trial({ tool: 'copy', trial: 1, status: 'not-injected', fault: { kind: 'crash', injected: false, description: 'no crash', details: {} } }),
      trial({ tool: 'copy', trial: 2, status: 'skipped', fault: { kind: 'crash', injected: true, description: undefined as unknown as string, details: {} } }),
      trial({ tool: 'copy', trial: 3, status: 'odd' as never, fault: { kind: 'none', injected: true, description: 'ignored', details: {} } }),
    ],
  });
  // A cell without trials in the results adds no row.
  const c = comparison([cell({ tool: 'copy' }), cell({ tool: 'ghost' }), cell({ tool: 'restic' })]);
  const copyRows = [
    '| copy | no-fault | 1 | ⚠️ not-injected | 1.00 s | – | 500 ms | – | – | ok | (not injected) no crash | – |',
    '| copy | no-fault | 2 | ➖ skipped | 1.00 s | – | 500 ms | – | – | ok | – | – |',
    '| copy | no-fault | 3 |  odd | 1.00 s | – | 500 ms | – | – | ok | – | – |',
  ];
  const problems = [
    '| restic | no-fault | 3 | ❌ failed | 1.00 s | – | 500 ms | – | – | 2 mismatched, 1 missing | – | – |',
    '| restic | no-fault | 4 | ❌ failed | 1.00 s | – | 500 ms | – | – | 2 mismatched | – | – |',
    '| restic | no-fault | 5 | ❌ failed | 1.00 s | – | 500 ms | – | – | 4 missing | – | – |',
    '| restic | no-fault | 6 | ❌ failed | 1.00 s | – | 500 ms | – | – | not ok | – | – |',
    `| restic | no-fault | 7 | ⚠️ error | – | – | – | – | – | – | – | x\\|${'e'.repeat(157)}… |`,
  ];
  assert.deepEqual(trialsTable(r, c), {
    text: lines(
      TRIALS_HEAD,
      ...copyRows,
      '| restic | no-fault | 1 | ✅ passed | 1.00 s | – | 500 ms | – | – | ok | – | – |',
      '| restic | no-fault | 2 | ✅ passed | 1.20 s | 300 ms | 600 ms | 2.00 s | 15 ms | ok | – | – |',
      ...problems,
    ),
    rows: 10,
  });
  assert.deepEqual(trialsTable(r, c, { onlyProblems: true }), { text: lines(TRIALS_HEAD, ...copyRows, ...problems), rows: 8 });
  assert.deepEqual(trialsTable(results({ trials: [trial()] }), comparison([cell()]), { onlyProblems: true }), { text: '', rows: 0 });
  // A fault description longer than 160 characters is cut.
  const long = results({ trials: [trial({ fault: { kind: 'crash', injected: true, description: 'f'.repeat(170), details: {} } })] });
  assert.equal(trialsTable(long, comparison([cell()])).text.split('\n')[2], `| restic | no-fault | 1 | ✅ passed | 1.00 s | – | 500 ms | – | – | ok | ${'f'.repeat(159)}… | – |`);
  const just = results({ trials: [trial({ status: 'error', error: 'g'.repeat(160) })] });
  assert.equal(trialsTable(just, comparison([cell()])).text.split('\n')[2], `| restic | no-fault | 1 | ⚠️ error | – | – | – | – | – | – | – | ${'g'.repeat(160)} |`);
});

test('medianChange: baseline median to current median in the metric unit, a dash without a baseline', () => {
  assert.equal(medianChange(metric({ baseline: { n: 3, median: 1210 }, current: { n: 3, median: 2230, values: [] } })), '1.21 s → 2.23 s');
  assert.equal(medianChange(metric({ unit: 'bytes', current: { n: 3, median: 2048, values: [] } })), '– → 2.00 KiB');
  assert.equal(medianChange(metric({ unit: 'count', baseline: { n: 2, median: 2.5 }, current: { n: 3, median: 4, values: [] } })), '2.5 → 4');
});
