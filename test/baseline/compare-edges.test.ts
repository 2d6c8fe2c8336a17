// Edge cases of compare.ts that the mutation run (npm run mutate -- baseline) showed untested: cell order, which
// values count, the wording of every verdict reason, the notices, and what a comparison records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare, configuredMetrics, impossibleValue, integrityLine } from '../../src/baseline/compare.ts';
import type { BaselineInput, CellComparison, MetricComparison } from '../../src/baseline/compare.ts';
import { bootstrapRatioCI, hashSeed, mannWhitneyU } from '../../src/baseline/stats.ts';
import type { CompareConfig } from '../../src/config/schema.ts';
import type { ResultsFile, TrialResult } from '../../src/suite/results.ts';
import { config, lostIntegrity, okIntegrity, results, timed, trial } from '../report/fixtures.ts';

const baseline = (...runs: ResultsFile[]): BaselineInput => ({ runs, source: 'test' });

function cell(c: { cells: CellComparison[] }, tool: string, scenario: string): CellComparison {
  const found = c.cells.find((x) => x.tool === tool && x.scenario === scenario);
  assert.ok(found, `cell ${tool} / ${scenario}`);
  return found;
}

function metric(c: CellComparison, name: string): MetricComparison {
  const m = c.metrics.find((x) => x.metric === name);
  assert.ok(m, `metric ${name} in ${c.tool} / ${c.scenario}`);
  return m;
}

const order = (r: ResultsFile) => compare(r, baseline(), config()).cells.map((c) => `${c.tool}/${c.scenario}`);

test('configuredMetrics keeps known metrics once, in the configured order', () => {
  assert.deepEqual(configuredMetrics({ metrics: ['restore.wallMs', 'nope', 'backup.wallMs', 'restore.wallMs'] }), ['restore.wallMs', 'backup.wallMs']);
  assert.deepEqual(configuredMetrics({ metrics: [] }), []);
});

test('cells: the tools order comes before the scenarios order; a repeated name keeps its first place', () => {
  const trials = [...timed('restic', 'crash', [1, 2]), ...timed('kopia', 'no-fault', [3, 4])];
  const tools = (names: string[]) => names.map((name) => ({ name, type: 'restic', status: 'ok' as const }));
  const scenarios = (names: string[]) => names.map((name) => ({ name, fault: 'none' as const }));
  assert.deepEqual(order(results({ trials, tools: tools(['restic', 'kopia']), scenarios: scenarios(['no-fault', 'crash']) })), ['restic/crash', 'kopia/no-fault']);
  assert.deepEqual(order(results({ trials, tools: tools(['restic', 'kopia', 'restic']), scenarios: scenarios(['no-fault', 'crash']) })), ['restic/crash', 'kopia/no-fault']);
  // Three listed tools met in reverse: sorted by their places, not by whether a place is 0.
  const three = [...timed('c', 'no-fault', [1, 2]), ...timed('b', 'no-fault', [1, 2]), ...timed('a', 'no-fault', [1, 2])];
  assert.deepEqual(order(results({ trials: three, tools: tools(['a', 'b', 'c']) })), ['a/no-fault', 'b/no-fault', 'c/no-fault']);
  // Two listed tools met in order, neither of them first in the list.
  const later = [...timed('b', 'no-fault', [1, 2]), ...timed('c', 'no-fault', [1, 2])];
  assert.deepEqual(order(results({ trials: later, tools: tools(['a', 'b', 'c']) })), ['b/no-fault', 'c/no-fault']);
  const laterScen = [...timed('a', 's2', [1, 2]), ...timed('a', 's3', [1, 2])];
  assert.deepEqual(order(results({ trials: laterScen, scenarios: scenarios(['s1', 's2', 's3']) })), ['a/s2', 'a/s3']);
  // Same with scenarios of one tool, and with a scenario listed twice.
  const scen = [...timed('a', 's3', [1, 2]), ...timed('a', 's2', [1, 2]), ...timed('a', 's1', [1, 2])];
  assert.deepEqual(order(results({ trials: scen, scenarios: scenarios(['s1', 's2', 's3', 's1']) })), ['a/s1', 'a/s2', 'a/s3']);
  // Tools and scenarios that no list names come last, as first met.
  const unknown = [...timed('z', 'q', [1, 2]), ...timed('y', 'p', [1, 2]), ...timed('x', 'r', [1, 2]), ...timed('w', 'o', [1, 2])];
  assert.deepEqual(order(results({ trials: unknown, tools: [], scenarios: [] })), ['z/q', 'y/p', 'x/r', 'w/o']);
});

test('trials are taken in trial order; cell counts include skipped trials and the distinct fault descriptions', () => {
  const fault = (description: string | undefined) => ({ kind: 'crash' as const, injected: true, description: description as string, details: {} });
  const trials: TrialResult[] = [
    trial({ tool: 'copy', scenario: 'crash', trial: 3, backupMs: 1300, fault: fault('SIGKILL at 40%') }),
    trial({ tool: 'copy', scenario: 'crash', trial: 1, backupMs: 1100, fault: fault('SIGKILL at 31%') }),
    trial({ tool: 'copy', scenario: 'crash', trial: 2, backupMs: 1200, fault: fault('SIGKILL at 31%') }),
    trial({ tool: 'copy', scenario: 'crash', trial: 5, status: 'error', error: 'five', fault: fault('') }),
    trial({ tool: 'copy', scenario: 'crash', trial: 4, status: 'error', error: 'four', fault: fault(undefined) }),
    trial({ tool: 'copy', scenario: 'crash', trial: 6, status: 'skipped', fault: fault('SIGKILL at 40%') }),
  ];
  // A hand-made trial without a fault record.
  const silent = trial({ tool: 'copy', scenario: 'crash', trial: 8, status: 'error', fault: fault('') });
  delete silent.error;
  const noFault = trial({ tool: 'copy', scenario: 'crash', trial: 7, status: 'not-injected' });
  delete (noFault as Partial<TrialResult>).fault;
  const c = compare(results({ trials: [...trials, noFault, silent] }), baseline(), config());
  const x = cell(c, 'copy', 'crash');
  assert.deepEqual(metric(x, 'backup.wallMs').current.values, [1100, 1200, 1300]);
  assert.equal(x.skipped, 1);
  assert.equal(x.notInjected, 1);
  assert.equal(x.trials, 8);
  assert.deepEqual(x.faults, ['SIGKILL at 31%', 'SIGKILL at 40%']);
  assert.deepEqual(c.reasons, ['copy / crash trial 4: did not complete — four', 'copy / crash trial 5: did not complete — five', 'copy / crash trial 8: did not complete', 'copy / crash trial 7: fault not injected']);
});

test('integrityOk: true only without failed trials and with every recorded integrity check ok', () => {
  const ok = compare(results({ trials: [...timed('copy', 'no-fault', [1, 2]), trial({ tool: 'copy', scenario: 'no-fault', trial: 3, status: 'error' })] }), baseline(), config());
  assert.equal(cell(ok, 'copy', 'no-fault').integrityOk, true);
  const lossInPassed = compare(results({ trials: [trial({ trial: 1 }), trial({ trial: 2, integrity: lostIntegrity(10, 1) })] }), baseline(), config());
  assert.equal(cell(lossInPassed, 'restic', 'no-fault').integrityOk, false);
  const failedButIntact = compare(results({ trials: [trial({ trial: 1 }), trial({ trial: 2, status: 'failed', integrity: okIntegrity() })] }), baseline(), config());
  assert.equal(cell(failedButIntact, 'restic', 'no-fault').integrityOk, false);
});

test('integrityLine names what was lost, else the error, else a generic loss', () => {
  const t = (over: Partial<TrialResult>): TrialResult => ({ ...trial({ status: 'failed' }), ...over });
  assert.equal(integrityLine(t({ integrity: lostIntegrity(120, 3, 2) })), '3 files missing, 2 mismatched after restore (of 120)');
  assert.equal(integrityLine(t({ integrity: lostIntegrity(120, 0, 1) })), '1 file mismatched after restore (of 120)');
  assert.equal(integrityLine(t({ integrity: lostIntegrity(120, 1, 0) })), '1 file missing after restore (of 120)');
  assert.equal(integrityLine(t({ integrity: { ...lostIntegrity(120, 0, 0) }, error: 'repository\ncorrupt' })), 'repository corrupt');
  assert.equal(integrityLine(t({ integrity: lostIntegrity(120, 0, 0) })), 'integrity loss after restore');
  assert.equal(integrityLine(t({ integrity: undefined, error: 'restore failed' })), 'restore failed');
  assert.equal(integrityLine(t({ integrity: okIntegrity(), error: 'checker crashed' })), 'checker crashed');
});

test('impossibleValue: missing is fine; non-numbers, NaN, negatives, absurd magnitudes and meaningless zeros are not', () => {
  assert.equal(impossibleValue('backup.wallMs', undefined), false);
  assert.equal(impossibleValue('backup.wallMs', 'fast'), true);
  assert.equal(impossibleValue('backup.wallMs', Number.NaN), true);
  assert.equal(impossibleValue('backup.wallMs', Number.POSITIVE_INFINITY), true);
  assert.equal(impossibleValue('backup.wallMs', -1), true);
  assert.equal(impossibleValue('backup.wallMs', 0), true);
  assert.equal(impossibleValue('backup.wallMs', 365 * 24 * 3600 * 1000), false, 'a year is the last possible duration');
  assert.equal(impossibleValue('backup.wallMs', 365 * 24 * 3600 * 1000 + 1), true);
  assert.equal(impossibleValue('repository.sizeBytes', 2 ** 60), false);
  assert.equal(impossibleValue('repository.sizeBytes', 2 ** 60 + 2 ** 10), true);
  assert.equal(impossibleValue('rpoMs', 0), false, 'zeroIsPossible');
  assert.equal(impossibleValue('backup.bytesWritten', 0), false, 'zeroIsPossible');
  assert.equal(impossibleValue('backup.peakRssBytes', 0), false, 'zeroIsUnmeasured');
  assert.equal(impossibleValue('backup.cpuMs', 0), false, 'zeroIsUnmeasured');
  assert.equal(impossibleValue('repository.sizeBytes', 0), true);
});

test('current values: infinite ones are left out; a zero only where zero means unmeasured', () => {
  const cur = results({ trials: timed('copy', 'no-fault', [1000, 1010, 1020], { rpoMs: 0 }) });
  cur.trials[2]!.backup!.wallMs = Number.POSITIVE_INFINITY;
  const c = compare(cur, baseline(), config());
  const x = cell(c, 'copy', 'no-fault');
  assert.deepEqual(metric(x, 'backup.wallMs').current.values, [1000, 1010]);
  assert.deepEqual(metric(x, 'rpoMs').current.values, [0, 0, 0]);
  assert.equal(metric(x, 'backup.peakRssBytes').current.n, 3, 'non-zero RSS values count');
});

test('baseline values: only passed trials are checked, NaN is named as NaN, more than five are summarised', () => {
  const cur = results({ trials: timed('restic', 'no-fault', [1000, 1010, 990]) });
  const failed = results({ id: 'run-failed', trials: [trial({ trial: 1, status: 'failed', backupMs: -1 })] });
  const quiet = compare(cur, baseline(failed), config({ metrics: ['backup.wallMs'] }));
  assert.equal(quiet.baseline.notice, undefined, 'a failed trial is not a baseline value, plausible or not');
  assert.deepEqual(quiet.baseline, { source: 'test', runs: 1, available: true });

  const many = results({ id: 'run-bad', trials: [1, 2, 3, 4, 5, 6].map((i) => trial({ trial: i, backupMs: -i, restoreMs: i < 6 ? -i : 100 })) });
  const nan = results({ id: 'run-nan', tools: [{ name: 'kopia', type: 'kopia', status: 'ok', version: 'kopia 1.0.0' }], trials: [trial({ tool: 'kopia', backupMs: Number.NaN, restoreMs: 500 })] });
  const c = compare(results({ trials: [...timed('restic', 'no-fault', [1000, 1010, 990]), ...timed('kopia', 'no-fault', [1000, 1010, 990])] }), baseline(many, nan), config({ metrics: ['backup.wallMs', 'restore.wallMs'] }));
  assert.equal(
    c.baseline.notice,
    'left out 12 impossible baseline values: ' +
      'restic / no-fault Backup time: -1 in run run-bad trial 1, -2 in run run-bad trial 2, -3 in run run-bad trial 3, -4 in run run-bad trial 4, -5 in run run-bad trial 5 and 1 more; ' +
      'restic / no-fault Restore time: -1 in run run-bad trial 1, -2 in run run-bad trial 2, -3 in run run-bad trial 3, -4 in run run-bad trial 4, -5 in run run-bad trial 5; ' +
      'kopia / no-fault Backup time: NaN in run run-nan trial 1',
  );
  // A cell the baseline never ran is new.
  const other = compare(results({ trials: timed('kopia', 'crash', [1, 2, 3]) }), baseline(results({ trials: timed('restic', 'no-fault', [1, 2, 3]) })), config());
  assert.equal(metric(cell(other, 'kopia', 'crash'), 'backup.wallMs').status, 'new');
});

test('a metric the baseline lacks raises no notice', () => {
  const base = results({ trials: timed('restic', 'no-fault', [1000, 1001, 1002]) });
  const cur = results({ trials: timed('restic', 'no-fault', [1000, 1001, 1002], { incrementalMs: 300 }) });
  const c = compare(cur, baseline(base), config());
  assert.equal(metric(cell(c, 'restic', 'no-fault'), 'incremental.wallMs').status, 'new');
  assert.equal(c.baseline.notice, undefined);
});

test('the reason for a regression: the escape names its evidence, a significant test does not need to', () => {
  const c = compare(results({ trials: timed('restic', 'no-fault', [2400, 2420, 2380]) }), baseline(results({ trials: timed('restic', 'no-fault', [1200, 1210, 1190]) })), config({ metrics: ['backup.wallMs'] }));
  const m = metric(cell(c, 'restic', 'no-fault'), 'backup.wallMs');
  assert.deepEqual(c.reasons, [`restic / no-fault: Backup time +100% (median 1.20 s → 2.40 s, threshold +10%, 95% CI ${fmtCI(m.ci!)}, p=0.1, every trial slower than every baseline trial)`]);
  const b1 = results({ trials: timed('kopia', 'no-fault', [1000, 1010, 990, 1005, 995, 1020]) });
  const sig = compare(results({ trials: timed('kopia', 'no-fault', [2000, 2030, 1990]) }), baseline(b1), config({ metrics: ['backup.wallMs'] }));
  const ms = metric(cell(sig, 'kopia', 'no-fault'), 'backup.wallMs');
  assert.deepEqual(sig.reasons, [`kopia / no-fault: Backup time +100% (median 1.00 s → 2.00 s, threshold +10%, 95% CI ${fmtCI(ms.ci!)}, p=0.024)`]);
});

test('the reason for a regression whose p-value equals α exactly does not call on the escape', () => {
  const cur = Array.from({ length: 16 }, (_, i) => 2000 + i * 10);
  const base = Array.from({ length: 16 }, (_, i) => 1000 + i * 10);
  const p = mannWhitneyU(cur, base).pValue;
  assert.equal(1 - (1 - p), p, 'α = 1 − confidence is p exactly');
  const c = compare(results({ trials: timed('copy', 'no-fault', cur) }), baseline(results({ trials: timed('copy', 'no-fault', base) })), config({ metrics: ['backup.wallMs'], confidence: 1 - p }));
  const m = metric(cell(c, 'copy', 'no-fault'), 'backup.wallMs');
  assert.equal(m.status, 'regression');
  assert.equal(c.reasons.length, 1);
  assert.ok(!c.reasons[0]!.includes('every trial'), c.reasons[0]);
});

function fmtCI(ci: [number, number]): string {
  return `×${ci[0].toFixed(2)}–×${ci[1].toFixed(2)}`;
}

test('each metric gets its own bootstrap seed, tool/scenario/metric', () => {
  const base = results({ trials: timed('restic', 'no-fault', [1200, 1210, 1190, 1250]) });
  const cur = results({ trials: timed('restic', 'no-fault', [2400, 2420, 2380, 1300]) });
  const c = compare(cur, baseline(base), config());
  for (const name of ['backup.wallMs', 'restore.wallMs'] as const) {
    const m = metric(cell(c, 'restic', 'no-fault'), name);
    const want = bootstrapRatioCI(m.current.values, name === 'backup.wallMs' ? [1200, 1210, 1190, 1250] : [600, 605, 595, 625], {
      confidence: 0.95,
      seed: hashSeed(`restic/no-fault/${name}`),
    });
    assert.deepEqual(m.ci, want, name);
  }
});

test('bytes metrics use the bytes noise floor, time metrics the ms one', () => {
  const base = results({ trials: timed('copy', 'no-fault', [1000, 1010, 1020], { repoBytes: 100 * 2 ** 20 }) });
  const cur = results({ trials: timed('copy', 'no-fault', [1000, 1010, 1020], { repoBytes: 300 * 2 ** 20 }) });
  const c = compare(cur, baseline(base), config({ noiseFloor: { ms: 1e12, bytes: 0, deterministicBytes: 0, writes: 0 } }));
  assert.equal(metric(cell(c, 'copy', 'no-fault'), 'repository.sizeBytes').status, 'regression');
  const floored = compare(cur, baseline(base), config({ noiseFloor: { ms: 0, bytes: 1e12, deterministicBytes: 1e12, writes: 0 } }));
  assert.equal(metric(cell(floored, 'copy', 'no-fault'), 'repository.sizeBytes').status, 'unchanged');
});

test('an insufficient comparison records no interval and no p-value', () => {
  const c = compare(results({ trials: timed('restic', 'no-fault', [5000]) }), baseline(results({ trials: timed('restic', 'no-fault', [1000, 1001, 1002]) })), config());
  const m = metric(cell(c, 'restic', 'no-fault'), 'backup.wallMs');
  assert.equal(m.status, 'insufficient');
  assert.ok(!('ci' in m) && !('pValue' in m), JSON.stringify(m));
});

test('runs that measured nothing or did not finish: every reason, exactly', () => {
  const ok = { name: 'restic', type: 'restic', status: 'ok' as const };
  const skippedTool = (name: string, reason?: string) => ({ name, type: name, status: 'skipped' as const, ...(reason ? { reason } : {}) });
  const none = compare(results({ trials: [], tools: [ok, skippedTool('kopia', 'kopia is not on PATH'), skippedTool('velero')] }), baseline(), config());
  assert.deepEqual(none.reasons, ['no trial ran: every tool was skipped — kopia (kopia is not on PATH); velero (skipped)']);
  assert.deepEqual(compare(results({ trials: [], tools: [ok] }), baseline(), config()).reasons, ['no trial ran']);
  // Incomplete without a trial and without a word why: only the "no trial ran" line.
  assert.deepEqual(compare(results({ complete: false, trials: [], tools: [ok] }), baseline(), config()).reasons, ['no trial ran']);
  // Incomplete with trials but no explanation in the file.
  const bare = compare(results({ complete: false, trials: timed('restic', 'no-fault', [1000, 1001]) }), baseline(), config());
  assert.equal(bare.verdict, 'fail');
  assert.deepEqual(bare.reasons, ['the run did not finish (its results file says it is incomplete)']);
  const noReason = compare(results({ complete: false, tools: [ok, skippedTool('kopia')], trials: timed('restic', 'no-fault', [1000, 1001]) }), baseline(), config());
  assert.deepEqual(noReason.reasons, ['tool kopia could not run (skipped): install it, or mark it optional: true in the suite']);
});

test('failOnNotInjected defaults to false and fails only when a fault did not land', () => {
  const notInjected = trial({ trial: 2, status: 'not-injected', fault: { kind: 'crash', injected: false, description: 'too fast', details: {} } });
  const cur = results({ trials: [trial({ trial: 1 }), notInjected] });
  // A hand-made configuration without the key (the schema's default fills it in for a suite file).
  const { failOnNotInjected: _unset, ...rest } = config();
  const cfg = rest as CompareConfig;
  const c = compare(cur, baseline(), cfg);
  assert.equal(c.verdict, 'pass');
  assert.equal(c.settings?.failOnNotInjected, false);
  assert.deepEqual(c.settings?.metrics, configuredMetrics(cfg));
  assert.equal(compare(results({ trials: timed('restic', 'no-fault', [1, 2]) }), baseline(), config({ failOnNotInjected: true })).verdict, 'pass');
});
