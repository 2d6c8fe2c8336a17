// In-run A/B (issue 9): b's trials against a's in one run, with the decision rule of the baseline comparison.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { abThreshold, compareVariants } from '../../src/baseline/ab.ts';
import type { AbComparison } from '../../src/baseline/ab.ts';
import { compare } from '../../src/baseline/compare.ts';
import { mulberry32 } from '../../src/baseline/stats.ts';
import type { ResultsFile } from '../../src/suite/results.ts';
import { config, results, timed } from '../report/fixtures.ts';

const AB = { a: 'restic-a', b: 'restic-b', threshold: 0.05, failOnRegression: false };

function abRun(a: number[], b: number[], ab: Partial<typeof AB> = {}): ResultsFile {
  const r = results({ trials: [...timed('restic-a', 'no-fault', a), ...timed('restic-b', 'no-fault', b)] });
  r.suite.ab = { ...AB, ...ab };
  return r;
}

const onlyBackup = config({ metrics: ['backup.wallMs'] });
const none = { runs: [], source: 'none' };

function backupRow(c: AbComparison | undefined) {
  const row = c?.rows.find((r) => r.metric === 'backup.wallMs');
  assert.ok(row, 'a backup time row');
  return row;
}

test('no A/B section without suite.ab', () => {
  const r = results({ trials: timed('restic', 'no-fault', [1000, 1010, 990]) });
  assert.equal(compareVariants(r, onlyBackup), undefined);
  assert.equal(compare(r, none, onlyBackup).ab, undefined);
});

test('b 10% slower than a, every b trial slower: b worse, with the medians, ratio and reason named', () => {
  const c = compareVariants(abRun([10000, 10300, 9700], [11000, 11330, 10670]), onlyBackup);
  const row = backupRow(c);
  assert.equal(row.status, 'regression');
  assert.deepEqual(row.a, { n: 3, median: 10000, cv: 0.03 });
  assert.equal(row.b.median, 11000);
  assert.equal(row.ratio, 1.1);
  assert.equal(row.pValue, 0.1);
  assert.equal(row.threshold, 0.05);
  assert.ok(row.ci && row.ci[0] > 1, `interval above 1: ${row.ci}`);
  assert.equal(c!.regressions, 1);
  assert.equal(c!.improvements, 0);
  assert.deepEqual(c!.trials, { a: 3, b: 3 });
  assert.equal(c!.worse.length, 1);
  assert.match(c!.worse[0]!, /^A\/B restic-b vs restic-a \/ no-fault: Backup time \+10%, restic-b slower \(median 10\.0 s → 11\.0 s, threshold ±5%, 95% CI ×1\.\d\d–×1\.\d\d, p=0\.1\)$/);
});

test('b faster is an improvement of b, listed as better', () => {
  const c = compareVariants(abRun([11000, 11330, 10670], [10000, 10300, 9700]), onlyBackup)!;
  assert.equal(backupRow(c).status, 'improvement');
  assert.equal(c.improvements, 1);
  assert.equal(c.better.length, 1);
  assert.match(c.better[0]!, /Backup time -9\.1%, restic-b faster/);
});

test('a 10% shift in noise of 3% CV: the A/B with 3 trials each catches it in most runs; A/A flags almost none', () => {
  // Seeded normal noise (Box–Muller); 200 simulated runs of each kind.
  const rand = mulberry32(20261130);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const draw = (m: number) => [0, 1, 2].map(() => Math.round(m * (1 + 0.03 * gauss())));
  const cfg = config({ metrics: ['backup.wallMs'], noiseFloor: { ms: 50, bytes: 0, deterministicBytes: 0, writes: 0 } });
  let caught = 0;
  let falseAlarms = 0;
  const N = 200;
  for (let i = 0; i < N; i++) {
    if (backupRow(compareVariants(abRun(draw(10000), draw(11000)), cfg)).status === 'regression') caught++;
    if (backupRow(compareVariants(abRun(draw(10000), draw(10000)), cfg)).status !== 'unchanged') falseAlarms++;
  }
  // Measured with this seed: 184 of 200 caught (92%), 4 of 200 A/A flagged (2%).
  assert.ok(caught / N >= 0.85, `caught ${caught} of ${N}`);
  assert.ok(falseAlarms / N <= 0.05, `A/A flagged ${falseAlarms} of ${N}`);
  // The same shift against a baseline of earlier runs at the default threshold (20%) is never flagged.
  const base = results({ trials: timed('restic-a', 'no-fault', draw(10000)) });
  const cur = results({ trials: timed('restic-a', 'no-fault', draw(11000)) });
  assert.equal(compare(cur, { runs: [base], source: 'test' }, { ...cfg, threshold: 0.2 }).regressions, 0);
});

test('A/A: the same samples on both sides are the same within the threshold', () => {
  const row = backupRow(compareVariants(abRun([10000, 10300, 9700], [9700, 10000, 10300]), onlyBackup));
  assert.equal(row.status, 'unchanged');
  assert.equal(row.ratio, 1);
});

test('failOnRegression: b worse fails the run with the A/B line as a reason; off, the verdict stays pass', () => {
  const on = compare(abRun([10000, 10300, 9700], [11000, 11330, 10670], { failOnRegression: true }), none, onlyBackup);
  assert.equal(on.verdict, 'fail');
  assert.equal(on.reasons.length, 1);
  assert.match(on.reasons[0]!, /^A\/B restic-b vs restic-a \/ no-fault: Backup time \+10%, restic-b slower/);
  const off = compare(abRun([10000, 10300, 9700], [11000, 11330, 10670]), none, onlyBackup);
  assert.equal(off.verdict, 'pass');
  assert.deepEqual(off.reasons, []);
  assert.equal(off.ab?.regressions, 1);
  // b better never fails the run.
  assert.equal(compare(abRun([11000, 11330, 10670], [10000, 10300, 9700], { failOnRegression: true }), none, onlyBackup).verdict, 'pass');
});

test('near-deterministic metrics use compare.deterministicThreshold when it is tighter than the A/B threshold', () => {
  assert.equal(abThreshold('repository.sizeBytes', { threshold: 0.05 }, { deterministicThreshold: 0.02 }), 0.02);
  assert.equal(abThreshold('repository.sizeBytes', { threshold: 0.01 }, { deterministicThreshold: 0.02 }), 0.01);
  assert.equal(abThreshold('backup.wallMs', { threshold: 0.05 }, { deterministicThreshold: 0.02 }), 0.05);
  // A 3% larger repository on every trial is caught even where time is too noisy to say anything.
  const r = abRun([10000, 13000, 7000], [7000, 10000, 13000]);
  r.trials.filter((t) => t.tool === 'restic-b').forEach((t) => (t.repository = { sizeBytes: 103_000_000 }));
  r.trials.filter((t) => t.tool === 'restic-a').forEach((t) => (t.repository = { sizeBytes: 100_000_000 }));
  const c = compareVariants(r, config({ metrics: ['backup.wallMs', 'repository.sizeBytes'] }))!;
  assert.deepEqual(
    c.rows.map((x) => [x.metric, x.status, x.threshold, x.rule]),
    [
      ['backup.wallMs', 'unchanged', 0.05, undefined],
      ['repository.sizeBytes', 'regression', 0.02, 'zero-spread'],
    ],
  );
});

test('a variant without passed trials: no rows, and a notice naming it', () => {
  const r = abRun([10000, 10300, 9700], []);
  r.tools.push({ name: 'restic-b', type: 'restic', status: 'skipped', reason: 'restic is not on PATH' });
  const c = compareVariants(r, onlyBackup)!;
  assert.deepEqual(c.rows, []);
  assert.equal(c.notice, 'nothing to compare: restic-b has no passed trial (skipped: see the tools table)');
});

test('the A/B power line speaks of the reference variant, not of a baseline', () => {
  const c = compareVariants(abRun([10000, 10300, 9700], [10100, 10400, 9800]), onlyBackup)!;
  assert.ok(c.power);
  assert.match(c.power.line, /^With 3 trials against 3, changes below ~\d+(\.\d)?% cannot be detected \(the median of 1 compared metric; the smallest possible p is 0\.1, above α = 0\.05, so a change also needs every trial worse than every restic-a trial\)/);
});
