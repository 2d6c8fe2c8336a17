import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare } from '../../src/baseline/compare.ts';
import type { BaselineInput, CellComparison, MetricComparison } from '../../src/baseline/compare.ts';
import { mulberry32 } from '../../src/baseline/stats.ts';
import { config, lostIntegrity, results, timed, trial } from '../report/fixtures.ts';

const baseline = (...runs: ReturnType<typeof results>[]): BaselineInput => ({ runs, source: 'test' });

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

test('a 2x backup-time regression with 3 vs 3 trials fails the run', () => {
  const base = results({ trials: timed('restic', 'no-fault', [1200, 1210, 1190]) });
  const cur = results({ trials: timed('restic', 'no-fault', [2400, 2420, 2380]) });
  const c = compare(cur, baseline(base), config());
  const m = metric(cell(c, 'restic', 'no-fault'), 'backup.wallMs');
  assert.equal(m.status, 'regression');
  assert.equal(m.current.n, 3);
  assert.deepEqual(m.current.values, [2400, 2420, 2380]);
  assert.equal(m.current.median, 2400);
  assert.deepEqual({ n: m.baseline?.n, median: m.baseline?.median }, { n: 3, median: 1200 });
  assert.equal(m.ratio, 2);
  assert.equal(m.pValue, 0.1);
  assert.ok(m.ci && m.ci[0] > 1.9 && m.ci[1] < 2.1, `CI ${m.ci}`);
  assert.equal(c.verdict, 'fail');
  assert.ok(c.regressions >= 1);
  assert.ok(
    c.reasons.some((r) => r.startsWith('restic / no-fault: Backup time +100% (median 1.20 s → 2.40 s, threshold +10%, 95% CI ×') && r.includes('p=0.1')),
    c.reasons.join('\n'),
  );
});

test('a 2x regression with 3 current vs 6 pooled baseline trials (two runs) is significant', () => {
  const b1 = results({ id: 'b1', trials: timed('kopia', 'no-fault', [1000, 1010, 990]) });
  const b2 = results({ id: 'b2', trials: timed('kopia', 'no-fault', [1005, 995, 1020]) });
  const cur = results({ trials: timed('kopia', 'no-fault', [2000, 2030, 1990]) });
  const c = compare(cur, baseline(b1, b2), config());
  const m = metric(cell(c, 'kopia', 'no-fault'), 'backup.wallMs');
  assert.equal(m.status, 'regression');
  assert.equal(m.baseline?.n, 6);
  assert.equal(m.baseline?.median, 1002.5);
  assert.ok(Math.abs(m.pValue! - 2 / 84) < 1e-12);
  assert.equal(c.baseline.runs, 2);
  assert.equal(c.baseline.available, true);
});

test('noise of ±3% is not flagged, neither with 3 vs 3 nor with 10 vs 10 trials', () => {
  const rand = mulberry32(2024);
  const jitter = (v: number) => v * (0.97 + 0.06 * rand());
  const base = results({
    trials: [...timed('restic', 'no-fault', [1000, 1000, 1000].map(jitter)), ...timed('copy', 'no-fault', Array.from({ length: 10 }, () => jitter(300)))],
  });
  const cur = results({
    trials: [...timed('restic', 'no-fault', [1000, 1000, 1000].map(jitter)), ...timed('copy', 'no-fault', Array.from({ length: 10 }, () => jitter(300)))],
  });
  const c = compare(cur, baseline(base), config());
  assert.equal(c.regressions, 0);
  assert.equal(c.improvements, 0);
  assert.equal(c.verdict, 'pass');
  assert.deepEqual(c.reasons, []);
  for (const x of c.cells) for (const m of x.metrics) assert.equal(m.status, 'unchanged', `${x.tool} ${m.metric}`);
  // Even a consistent 3% shift stays below the 10% threshold.
  const shifted = results({ trials: timed('restic', 'no-fault', [1030, 1031, 1032]) });
  const c2 = compare(shifted, baseline(results({ trials: timed('restic', 'no-fault', [1000, 1001, 1002]) })), config());
  assert.equal(metric(cell(c2, 'restic', 'no-fault'), 'backup.wallMs').status, 'unchanged');
});

test('an integrity failure fails the run and explains itself', () => {
  const cur = results({
    trials: [
      trial({ tool: 'copy', scenario: 'corrupt-volume', trial: 1 }),
      trial({ tool: 'copy', scenario: 'corrupt-volume', trial: 2, status: 'failed', integrity: lostIntegrity(120, 3) }),
    ],
  });
  const c = compare(cur, baseline(), config());
  assert.equal(c.verdict, 'fail');
  assert.equal(c.integrityFailures, 1);
  assert.equal(c.erroredTrials, 0);
  const x = cell(c, 'copy', 'corrupt-volume');
  assert.equal(x.integrityOk, false);
  assert.equal(x.failed, 1);
  assert.equal(x.passed, 1);
  assert.deepEqual(c.reasons, ['copy / corrupt-volume trial 2: 3 files missing after restore (of 120)']);
});

test('an errored trial fails the run', () => {
  const cur = results({
    trials: [...timed('restic', 'no-fault', [1000, 1000]), trial({ tool: 'restic', scenario: 'no-fault', trial: 3, status: 'error', error: 'restic: repository locked\nby pid 12' })],
  });
  const c = compare(cur, baseline(results({ trials: timed('restic', 'no-fault', [1000, 1001, 1002]) })), config());
  assert.equal(c.verdict, 'fail');
  assert.equal(c.erroredTrials, 1);
  assert.equal(c.integrityFailures, 0);
  assert.equal(cell(c, 'restic', 'no-fault').errored, 1);
  assert.deepEqual(c.reasons, ['restic / no-fault trial 3: did not complete — restic: repository locked by pid 12']);
});

test('failOnRegression: false reports the regression but passes', () => {
  const base = results({ trials: timed('restic', 'no-fault', [1200, 1210, 1190]) });
  const cur = results({ trials: timed('restic', 'no-fault', [2400, 2420, 2380]) });
  const c = compare(cur, baseline(base), config({ failOnRegression: false }));
  assert.ok(c.regressions > 0);
  assert.equal(c.verdict, 'pass');
  assert.ok(c.reasons.length > 0);
});

test('one trial on a side is insufficient and never fails', () => {
  const base = results({ trials: timed('restic', 'no-fault', [1000, 1001, 1002]) });
  const cur = results({ trials: timed('restic', 'no-fault', [5000]) });
  const c = compare(cur, baseline(base), config());
  const m = metric(cell(c, 'restic', 'no-fault'), 'backup.wallMs');
  assert.equal(m.status, 'insufficient');
  assert.equal(m.ratio, 5000 / 1001);
  assert.equal(m.pValue, undefined);
  assert.equal(c.verdict, 'pass');
  assert.equal(c.regressions, 0);
});

test('without a baseline every metric is new and the verdict rests on integrity and errors', () => {
  const cur = results({ trials: timed('restic', 'no-fault', [1000, 1001, 1002]) });
  const c = compare(cur, { runs: [], source: 'none', notice: 'no baseline configured' }, config());
  assert.deepEqual(c.baseline, { source: 'none', runs: 0, available: false, notice: 'no baseline configured' });
  assert.equal(c.verdict, 'pass');
  const x = cell(c, 'restic', 'no-fault');
  assert.ok(x.metrics.length > 0);
  for (const m of x.metrics) {
    assert.equal(m.status, 'new');
    assert.equal(m.baseline, undefined);
  }
  const broken = results({ trials: [trial({ status: 'failed' })] });
  assert.equal(compare(broken, { runs: [], source: 'none' }, config()).verdict, 'fail');
});

test('a metric the baseline never measured is new; metrics the current run lacks are left out', () => {
  const base = results({ trials: timed('restic', 'no-fault', [1000, 1001, 1002]) });
  const cur = results({ trials: timed('restic', 'no-fault', [1000, 1001, 1002], { incrementalMs: 300, rtoMs: undefined }) });
  const c = compare(cur, baseline(base), config());
  const x = cell(c, 'restic', 'no-fault');
  assert.equal(metric(x, 'incremental.wallMs').status, 'new');
  assert.equal(metric(x, 'backup.wallMs').status, 'unchanged');
  assert.equal(x.metrics.find((m) => m.metric === 'rtoMs'), undefined);
  // Only the configured metrics, in the configured order.
  const only = compare(cur, baseline(base), config({ metrics: ['restore.wallMs', 'backup.wallMs'] }));
  assert.deepEqual(cell(only, 'restic', 'no-fault').metrics.map((m) => m.metric), ['restore.wallMs', 'backup.wallMs']);
});

test('only passed baseline trials of the same tool and scenario count', () => {
  const base = results({
    trials: [
      ...timed('restic', 'no-fault', [1000, 1001, 1002]),
      trial({ tool: 'restic', scenario: 'no-fault', trial: 4, status: 'failed', backupMs: 90000 }),
      ...timed('restic', 'crash-backup', [9000, 9001, 9002]),
      ...timed('kopia', 'no-fault', [9000, 9001, 9002]),
    ],
  });
  const cur = results({ trials: timed('restic', 'no-fault', [1000, 1001, 1002]) });
  const m = metric(cell(compare(cur, baseline(base), config()), 'restic', 'no-fault'), 'backup.wallMs');
  assert.deepEqual({ n: m.baseline?.n, median: m.baseline?.median }, { n: 3, median: 1001 });
  assert.equal(m.status, 'unchanged');
});

test('cells follow the tools and scenarios order, comparisons are deterministic', () => {
  const trials = [...timed('kopia', 'crash', [1, 2]), ...timed('restic', 'no-fault', [3, 4]), ...timed('kopia', 'no-fault', [5, 6])];
  const cur = results({
    trials,
    tools: [
      { name: 'restic', type: 'restic', status: 'ok' },
      { name: 'kopia', type: 'kopia', status: 'ok' },
    ],
    scenarios: [
      { name: 'no-fault', fault: 'none' },
      { name: 'crash', fault: 'crash' },
    ],
  });
  const base = results({ trials: trials.map((t) => ({ ...t, backup: t.backup && { ...t.backup, wallMs: t.backup.wallMs * 1.01 } })) });
  const a = compare(cur, baseline(base), config());
  assert.deepEqual(a.cells.map((c) => `${c.tool}/${c.scenario}`), ['restic/no-fault', 'kopia/no-fault', 'kopia/crash']);
  assert.deepEqual(compare(cur, baseline(base), config()), a);
});

test('an improvement is counted and does not fail', () => {
  const base = results({ trials: timed('copy', 'no-fault', [1000, 1010, 1020]) });
  const cur = results({ trials: timed('copy', 'no-fault', [400, 410, 420]) });
  const c = compare(cur, baseline(base), config());
  assert.equal(metric(cell(c, 'copy', 'no-fault'), 'backup.wallMs').status, 'improvement');
  assert.ok(c.improvements >= 1);
  assert.equal(c.regressions, 0);
  assert.equal(c.verdict, 'pass');
});

test('the noise floor: a +150% change of a 12 ms operation is not a regression; the same ratio at 1.2 s is', () => {
  const cfg = config({ noiseFloor: { ms: 50, bytes: 1048576, deterministicBytes: 4096, writes: 10 } });
  const tiny = compare(results({ trials: timed('copy', 'no-fault', [30, 31, 29]) }), baseline(results({ trials: timed('copy', 'no-fault', [12, 12.5, 11.5]) })), cfg);
  assert.equal(metric(cell(tiny, 'copy', 'no-fault'), 'backup.wallMs').status, 'unchanged');
  assert.equal(tiny.verdict, 'pass');
  const big = compare(results({ trials: timed('copy', 'no-fault', [3000, 3100, 2900]) }), baseline(results({ trials: timed('copy', 'no-fault', [1200, 1250, 1150]) })), cfg);
  assert.equal(metric(cell(big, 'copy', 'no-fault'), 'backup.wallMs').status, 'regression');
});

test('a peak RSS of 0 (the process ended before the first sample) is unmeasured, not a -100% improvement', () => {
  const base = results({ trials: timed('copy', 'no-fault', [1000, 1000, 1000]) });
  const cur = results({ trials: timed('copy', 'no-fault', [1000, 1000, 1000]) });
  for (const t of cur.trials) t.backup!.peakRssBytes = 0;
  const c = compare(cur, baseline(base), config());
  const cells = cell(c, 'copy', 'no-fault');
  assert.equal(cells.metrics.find((m) => m.metric === 'backup.peakRssBytes'), undefined, 'no samples: the metric is left out');
  assert.equal(c.improvements, 0);
});

test('a run in which no trial ran (every tool skipped) fails and says why', () => {
  const cur = results({ trials: [], tools: [{ name: 'restic', type: 'restic', status: 'skipped', reason: 'restic is not on PATH' }] });
  const c = compare(cur, baseline(), config());
  assert.equal(c.verdict, 'fail');
  assert.match(c.reasons[0] ?? '', /^no trial ran: every tool was skipped — restic \(restic is not on PATH\)/);
});

test('a run is never compared with itself: a baseline run with the same run id is left out and named', () => {
  const cur = results({ id: 'run-self', trials: timed('restic', 'no-fault', [3000, 3010, 2990]) });
  const older = results({ id: 'run-old', startedAt: '2024-12-01T00:00:00.000Z', trials: timed('restic', 'no-fault', [1000, 1010, 990]) });
  // The history (or a --baseline file) already holds the run being compared, beside an older run.
  const c = compare(cur, baseline(cur, older), config());
  assert.equal(c.baseline.runs, 1);
  assert.equal(metric(cell(c, 'restic', 'no-fault'), 'backup.wallMs').ratio, 3);
  assert.equal(c.verdict, 'fail');
  assert.equal(c.baseline.notice, 'left out run run-self: it is the run being compared, not an earlier one');
  // Only itself: nothing to compare with, said so.
  const alone = compare(cur, { runs: [cur], source: 'file (results.json)', notice: 'loaded' }, config());
  assert.equal(alone.baseline.available, false);
  assert.equal(alone.baseline.runs, 0);
  assert.equal(alone.baseline.notice, 'loaded; left out run run-self: it is the run being compared, not an earlier one');
  assert.equal(metric(cell(alone, 'restic', 'no-fault'), 'backup.wallMs').status, 'new');
});

test('baseline trials with impossible values are named in the notice and left out, never turned into +∞% or ×-0.00', () => {
  const cur = results({ trials: timed('restic', 'no-fault', [1000, 1010, 990]) });
  const bad = results({ id: 'run-bad', trials: [0, -5, 1e15].map((b, i) => trial({ trial: i + 1, backupMs: b, restoreMs: 500 })) });
  const nan = results({ id: 'run-nan', trials: timed('restic', 'no-fault', [1000]) });
  (nan.trials[0]!.backup as { wallMs: unknown }).wallMs = 'fast';
  const c = compare(cur, baseline(bad, nan), config({ metrics: ['backup.wallMs', 'restore.wallMs'] }));
  const m = metric(cell(c, 'restic', 'no-fault'), 'backup.wallMs');
  assert.equal(m.status, 'new', 'no plausible baseline value is left');
  assert.equal(m.baseline, undefined);
  assert.equal(m.ratio, undefined);
  assert.equal(c.regressions, 0);
  assert.equal(c.verdict, 'pass');
  assert.equal(
    c.baseline.notice,
    'left out 4 impossible baseline values: restic / no-fault Backup time: 0 in run run-bad trial 1, -5 in run run-bad trial 2, 1000000000000000 in run run-bad trial 3, "fast" in run run-nan trial 1',
  );
  // Restore times of the same trials are plausible and still compared.
  assert.equal(metric(cell(c, 'restic', 'no-fault'), 'restore.wallMs').baseline?.n, 4);
});

test('a fault that was not injected is counted and named, never "ok"; failOnNotInjected makes it fail the run', () => {
  const crash = (n: number, injected: boolean) =>
    trial({
      tool: 'copy',
      scenario: 'crash-backup',
      trial: n,
      status: injected ? 'passed' : 'not-injected',
      ...(injected ? {} : { error: 'the crash fault was not injected (the backup finished before reaching 30%: no crash injected): this trial measured nothing about recovery from it' }),
      fault: { kind: 'crash', injected, description: injected ? 'SIGKILL at 31%' : 'the backup finished before reaching 30%: no crash injected', details: {} },
    });
  const cur = results({ trials: [crash(1, true), crash(2, false)] });
  const c = compare(cur, baseline(), config());
  const k = cell(c, 'copy', 'crash-backup');
  assert.equal(k.notInjected, 1);
  assert.equal(k.passed, 1);
  assert.equal(c.notInjectedTrials, 1);
  assert.equal(c.erroredTrials, 0);
  assert.equal(c.verdict, 'pass', 'by default a fault that did not land is shown, not failed');
  assert.deepEqual(c.reasons, ['copy / crash-backup trial 2: fault not injected — the backup finished before reaching 30%: no crash injected']);
  assert.equal(metric(k, 'backup.wallMs').current.n, 1, "the trial's figures are not the fault scenario's");
  const strict = compare(cur, baseline(), config({ failOnNotInjected: true }));
  assert.equal(strict.verdict, 'fail');
  assert.deepEqual(strict.reasons, c.reasons);
});

test('a run that did not finish fails and says why: interrupted, or a configured tool that could not run', () => {
  const interrupted = results({ complete: false, trials: timed('restic', 'no-fault', [1000, 1001]) });
  interrupted.run.interrupted = 'interrupted during restic / no-fault #3; 1 of 3 planned trials not run';
  const c = compare(interrupted, baseline(), config());
  assert.equal(c.verdict, 'fail');
  assert.deepEqual(c.reasons, ['the run did not finish: interrupted during restic / no-fault #3; 1 of 3 planned trials not run']);

  const tools = [
    { name: 'restic', type: 'restic', status: 'ok' as const, version: '0.18.1' },
    { name: 'kopia', type: 'kopia', status: 'skipped' as const, reason: 'kopia is not on PATH' },
  ];
  const missing = compare(results({ complete: false, tools, trials: timed('restic', 'no-fault', [1000, 1001]) }), baseline(), config());
  assert.equal(missing.verdict, 'fail');
  assert.deepEqual(missing.reasons, ['tool kopia could not run (kopia is not on PATH): install it, or mark it optional: true in the suite']);

  // An optional tool that could not run leaves the run complete: it is shown, not failed.
  const optional = compare(results({ tools: [tools[0]!, { ...tools[1]!, optional: true }], trials: timed('restic', 'no-fault', [1000, 1001]) }), baseline(), config());
  assert.equal(optional.verdict, 'pass');
  assert.deepEqual(optional.reasons, []);
});

test('detection power: every compared metric says the smallest p its sizes allow and the smallest regression it could flag', () => {
  const base = results({ trials: timed('restic', 'no-fault', [800, 1000, 1200]) });
  const cur = results({ trials: timed('restic', 'no-fault', [900, 1000, 1100]) });
  const c = compare(cur, baseline(base), config());
  const x = cell(c, 'restic', 'no-fault');
  // Every trial must be worse than every baseline trial (p cannot reach 0.05 with 3 vs 3): r·900 > 1200.
  for (const name of ['backup.wallMs', 'restore.wallMs', 'backup.cpuMs']) {
    const p = metric(x, name).power;
    assert.ok(p, name);
    assert.equal(p.smallestP, 0.1, name);
    assert.ok(Math.abs(p.detectable! - 4 / 3) < 1e-9, `${name}: ${p.detectable}`);
  }
  // Peak RSS and repository size are the same in every trial: the threshold is the limit (10%; 2% for the repository).
  assert.ok(Math.abs(metric(x, 'backup.peakRssBytes').power!.detectable! - 1.1) < 1e-9);
  assert.ok(Math.abs(metric(x, 'repository.sizeBytes').power!.detectable! - 1.02) < 1e-9);
  assert.ok(c.power);
  assert.equal(c.power.current, 3);
  assert.equal(c.power.baseline, 3);
  assert.equal(c.power.smallestP, 0.1);
  assert.equal(c.power.metrics, 4);
  assert.ok(Math.abs(c.power.detectable - 4 / 3) < 1e-9);
  assert.deepEqual(c.power.deterministic, { metrics: 1, detectable: 1.02, labels: ['repository size'] });
  const m = c.power.line.match(
    /^With 3 trials against 3, changes below ~33% cannot be detected \(the median of 4 compared metrics; the smallest possible p is 0\.1, above α = 0\.05, so a change also needs every trial worse than every baseline trial\); run (\d+) trials to see ~(\d+(?:\.\d)?)%\. For the near-deterministic metrics \(repository size\) changes below ~2% cannot be detected \(the median of 1\)\.$/,
  );
  assert.ok(m, c.power.line);
  assert.equal(Number(m[1]), c.power.suggestion!.trials);
  assert.ok(c.power.suggestion!.trials > 3 && c.power.suggestion!.reached);
  assert.ok(Number(m[2]) <= 12.5, `within a quarter of the 10% threshold: ${m[2]}%`);
  // Deterministic.
  assert.deepEqual(compare(cur, baseline(base), config()).power, c.power);
});

test('detection power: limited by the threshold, the line says more trials would not help; no baseline, no line', () => {
  const base = results({ trials: timed('restic', 'no-fault', [1000, 1001, 1002]) });
  const cur = results({ trials: timed('restic', 'no-fault', [1000, 1001, 1002]) });
  const c = compare(cur, baseline(base), config());
  assert.equal(
    c.power?.line,
    'With 3 trials against 3, changes below ~10% cannot be detected (the median of 4 compared metrics; the smallest possible p is 0.1, above α = 0.05, so a change also needs every trial worse than every baseline trial); that is what the threshold and the noise floor allow, not the noise, so more trials would not lower it. For the near-deterministic metrics (repository size) changes below ~2% cannot be detected (the median of 1).',
  );
  assert.equal(c.power?.suggestion, undefined);
  const none = compare(cur, baseline(), config());
  assert.equal(none.power, undefined);
  for (const m of none.cells[0]!.metrics) assert.equal(m.power, undefined);
  // One trial on a side: no figure.
  const one = compare(results({ trials: timed('restic', 'no-fault', [1000]) }), baseline(base), config());
  assert.equal(metric(cell(one, 'restic', 'no-fault'), 'backup.wallMs').power, undefined);
  assert.equal(one.power, undefined);
});

/** Passed trials with the given backup times and repository sizes. */
function sized(tool: string, backupMs: number[], repoBytes: number[]) {
  return backupMs.map((b, i) => trial({ tool, scenario: 'no-fault', trial: i + 1, backupMs: b, restoreMs: b / 2, repoBytes: repoBytes[i] }));
}

test('near-deterministic metrics have their own tight threshold: a 5% larger repository fails the run while time is too noisy to tell', () => {
  const MiB = 1024 * 1024;
  const base = results({ trials: sized('restic', [800, 1200, 1000], [30 * MiB, 30 * MiB + 700, 30 * MiB - 300]) });
  const cur = results({ trials: sized('restic', [1100, 900, 1250], [31.5 * MiB, 31.5 * MiB + 500, 31.5 * MiB - 200]) });
  const cfg = config({ deterministicThreshold: 0.02, noiseFloor: { ms: 50, bytes: 1048576, deterministicBytes: 4096, writes: 10 } });
  const c = compare(cur, baseline(base), cfg);
  const x = cell(c, 'restic', 'no-fault');
  const repo = metric(x, 'repository.sizeBytes');
  assert.equal(repo.status, 'regression');
  assert.equal(repo.threshold, 0.02);
  assert.equal(metric(x, 'backup.wallMs').status, 'unchanged');
  assert.equal(metric(x, 'backup.wallMs').threshold, 0.1);
  // What the repository comparison could see: the tight threshold itself (its trials hardly vary).
  assert.ok(Math.abs(repo.power!.detectable! - 1.02) < 1e-9, `repository: ${repo.power!.detectable}`);
  assert.equal(c.verdict, 'fail');
  assert.ok(c.reasons.some((r) => r.startsWith('restic / no-fault: Repository size +5.0% (median 30.0 MiB → 31.5 MiB, threshold +2%,')), c.reasons.join('\n'));
  // A 1% growth stays within the tight threshold.
  const small = results({ trials: sized('restic', [1100, 900, 1250], [30.3 * MiB, 30.3 * MiB + 500, 30.3 * MiB - 200]) });
  assert.equal(metric(cell(compare(small, baseline(base), cfg), 'restic', 'no-fault'), 'repository.sizeBytes').status, 'unchanged');
  // Below the deterministic noise floor nothing counts: 3 KiB more on a 100 KiB repository (+3%).
  const tinyBase = results({ trials: sized('copy', [100, 100, 100], [100 * 1024, 100 * 1024, 100 * 1024]) });
  const tinyCur = results({ trials: sized('copy', [100, 100, 100], [103 * 1024, 103 * 1024, 103 * 1024]) });
  assert.equal(metric(cell(compare(tinyCur, baseline(tinyBase), cfg), 'copy', 'no-fault'), 'repository.sizeBytes').status, 'unchanged');
  assert.equal(
    metric(cell(compare(tinyCur, baseline(tinyBase), { ...cfg, noiseFloor: { ...cfg.noiseFloor, deterministicBytes: 1024 } }), 'copy', 'no-fault'), 'repository.sizeBytes').status,
    'regression',
  );
});

test('zero spread on both sides: the change is a regression by the threshold alone, and the reason says so', () => {
  const MiB = 1024 * 1024;
  const base = results({ trials: sized('restic', [800, 1200, 1000], [30 * MiB, 30 * MiB, 30 * MiB]) });
  const cur = results({ trials: sized('restic', [1100, 900, 1250], [31 * MiB, 31 * MiB, 31 * MiB]) });
  const c = compare(cur, baseline(base), config({ deterministicThreshold: 0.02 }));
  const repo = metric(cell(c, 'restic', 'no-fault'), 'repository.sizeBytes');
  assert.equal(repo.status, 'regression');
  assert.equal(repo.rule, 'zero-spread');
  assert.equal(repo.pValue, undefined);
  assert.ok(
    c.reasons.includes('restic / no-fault: Repository size +3.3% (median 30.0 MiB → 31.0 MiB, threshold +2%, no spread: every trial 31.0 MiB, every baseline trial 30.0 MiB, so the threshold alone decides)'),
    c.reasons.join('\n'),
  );
});

test('the gates: which threshold holds for which metric, in the settings', () => {
  const c = compare(results({ trials: timed('restic', 'no-fault', [1000, 1001]) }), baseline(), config({ metrics: ['backup.wallMs', 'backup.bytesWritten', 'repository.sizeBytes'], deterministicThreshold: 0.03 }));
  assert.deepEqual(c.settings?.thresholds, { 'backup.wallMs': 0.1, 'backup.bytesWritten': 0.03, 'repository.sizeBytes': 0.03 });
});

/** Passed outage trials with the given RTO, RPO and writes lost. */
function outage(tool: string, rows: [rtoMs: number, rpoMs: number, writesLost: number][]) {
  return rows.map(([rto, rpo, lost], i) =>
    trial({
      tool,
      scenario: 'outage',
      trial: i + 1,
      rtoMs: rto,
      rpoMs: rpo,
      fault: { kind: 'outage', injected: true, description: `killed together; ${lost} of 400 acknowledged writes lost`, details: { acknowledgedWrites: 400, writesLost: lost }, detected: true, recoveryMs: rto },
    }),
  );
}

const RECOVERY = ['rtoMs', 'rpoMs', 'writesLost'];

test('writes lost is a gated metric, read from the outage fault\'s details, with its own threshold and floor', () => {
  const base = results({ trials: outage('restic', [[2000, 300, 40], [2010, 310, 44], [1990, 305, 42]]) });
  const cur = results({ trials: outage('restic', [[2005, 300, 90], [2015, 310, 94], [1995, 305, 92]]) });
  const c = compare(cur, baseline(base), config({ metrics: RECOVERY, thresholds: { writesLost: 0.5 } }));
  const lost = metric(cell(c, 'restic', 'outage'), 'writesLost');
  assert.equal(lost.unit, 'count');
  assert.deepEqual(lost.current.values, [90, 94, 92]);
  assert.deepEqual({ n: lost.baseline?.n, median: lost.baseline?.median }, { n: 3, median: 42 });
  assert.equal(lost.threshold, 0.5);
  assert.equal(lost.status, 'regression');
  assert.equal(metric(cell(c, 'restic', 'outage'), 'rtoMs').status, 'unchanged');
  assert.equal(c.verdict, 'fail');
  assert.ok(
    c.reasons.some((r) => r.startsWith('restic / outage: Writes lost +119% (median 42 → 92, threshold +50%, 95% CI ×') && r.endsWith('p=0.1, every trial higher than every baseline trial)')),
    c.reasons.join('\n'),
  );
  // Within its own threshold: +30% writes lost with thresholds.writesLost 0.5 is unchanged.
  const mild = results({ trials: outage('restic', [[2000, 300, 54], [2010, 310, 56], [1990, 305, 55]]) });
  assert.equal(metric(cell(compare(mild, baseline(base), config({ metrics: RECOVERY, thresholds: { writesLost: 0.5 } })), 'restic', 'outage'), 'writesLost').status, 'unchanged');
  // A handful of writes is below the floor (noiseFloor.writes), even from none at all.
  const none = results({ trials: outage('restic', [[2000, 300, 0], [2000, 300, 0], [2000, 300, 0]]) });
  const few = results({ trials: outage('restic', [[2000, 300, 4], [2000, 300, 4], [2000, 300, 4]]) });
  const floor = { ms: 50, bytes: 1048576, deterministicBytes: 4096, writes: 10 };
  assert.equal(metric(cell(compare(few, baseline(none), config({ metrics: RECOVERY, noiseFloor: floor })), 'restic', 'outage'), 'writesLost').status, 'unchanged');
  const many = results({ trials: outage('restic', [[2000, 300, 25], [2000, 300, 25], [2000, 300, 25]]) });
  assert.equal(metric(cell(compare(many, baseline(none), config({ metrics: RECOVERY, noiseFloor: floor })), 'restic', 'outage'), 'writesLost').status, 'regression');
});

test('RTO and RPO have thresholds of their own; the settings and the gates name them', () => {
  const base = results({ trials: outage('restic', [[2000, 300, 40], [2010, 310, 44], [1990, 305, 42]]) });
  const cur = results({ trials: outage('restic', [[2600, 390, 40], [2610, 400, 44], [2590, 395, 42]]) });
  const plain = compare(cur, baseline(base), config({ metrics: RECOVERY }));
  assert.equal(metric(cell(plain, 'restic', 'outage'), 'rtoMs').status, 'regression');
  assert.equal(metric(cell(plain, 'restic', 'outage'), 'rpoMs').status, 'regression');
  const own = compare(cur, baseline(base), config({ metrics: RECOVERY, thresholds: { rtoMs: 0.5, rpoMs: 0.4 } }));
  const x = cell(own, 'restic', 'outage');
  assert.equal(metric(x, 'rtoMs').status, 'unchanged');
  assert.equal(metric(x, 'rtoMs').threshold, 0.5);
  assert.equal(metric(x, 'rpoMs').status, 'unchanged');
  assert.equal(metric(x, 'rpoMs').threshold, 0.4);
  assert.deepEqual(own.settings?.thresholds, { rtoMs: 0.5, rpoMs: 0.4, writesLost: 0.1 });
  // A per-metric threshold also overrides the tight one of a near-deterministic metric.
  const repo = compare(cur, baseline(base), config({ metrics: ['repository.sizeBytes'], thresholds: { 'repository.sizeBytes': 0.05 } }));
  assert.deepEqual(repo.settings?.thresholds, { 'repository.sizeBytes': 0.05 });
});

test('noise measured: the coefficient of variation of the baseline trials, and of its runs\' medians', () => {
  const b1 = results({ id: 'b1', startedAt: '2025-01-01T00:00:00.000Z', trials: timed('restic', 'no-fault', [1000, 1100, 900]) });
  const b2 = results({ id: 'b2', startedAt: '2025-01-02T00:00:00.000Z', trials: timed('restic', 'no-fault', [1150, 1250, 1050]) });
  const cur = results({ trials: timed('restic', 'no-fault', [1000, 1010, 990]) });
  const c = compare(cur, baseline(b1, b2), config());
  const m = metric(cell(c, 'restic', 'no-fault'), 'backup.wallMs');
  // Trials 900 … 1250: mean 1075, sample sd √(Σd² / 5) = √(73750 / 5) → CV 0.11298. Run medians 1000 and 1150:
  // mean 1075, sd √(2·75² / 1) = 106.07 → CV 0.098668.
  assert.ok(Math.abs(m.baseline!.cv! - Math.sqrt(73750 / 5) / 1075) < 1e-12, `cv ${m.baseline!.cv}`);
  assert.ok(Math.abs(m.baseline!.runCv! - (75 * Math.SQRT2) / 1075) < 1e-12, `run cv ${m.baseline!.runCv}`);
  // One run: no spread between runs to speak of.
  const one = metric(cell(compare(cur, baseline(b1), config()), 'restic', 'no-fault'), 'backup.wallMs');
  assert.ok(Math.abs(one.baseline!.cv! - 0.1) < 1e-12);
  assert.equal(one.baseline!.runCv, undefined);
});
