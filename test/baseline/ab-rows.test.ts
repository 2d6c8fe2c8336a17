// The A/B's rows field by field (issue 9; the mutants of src/baseline/ab.ts that the first tests let through):
// scenarios kept apart, rows only where both variants measured, the fields a decision does not give left out, the
// wording of each unit, the power line and the notice only when there is something to say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareVariants } from '../../src/baseline/ab.ts';
import type { ResultsFile, TrialResult } from '../../src/suite/results.ts';
import { config, results, timed, trial } from '../report/fixtures.ts';

const AB = { a: 'restic-a', b: 'restic-b', threshold: 0.05, failOnRegression: false };

function run(trials: TrialResult[], scenarios = ['s1', 's2']): ResultsFile {
  const r = results({ trials, scenarios: scenarios.map((name) => ({ name, fault: 'none' as const })) });
  r.suite.ab = { ...AB };
  return r;
}

const backup = config({ metrics: ['backup.wallMs'] });

test('each scenario compares its own trials; a scenario one variant did not measure gives no row', () => {
  const r = run([
    ...timed('restic-a', 's1', [10000, 10300, 9700]),
    ...timed('restic-b', 's1', [11000, 11330, 10670]),
    ...timed('restic-a', 's2', [5000, 5100, 4900]),
    ...timed('restic-b', 's2', [5050]),
    ...timed('restic-b', 's3', [7000, 7100]),
  ]);
  const c = compareVariants(r, backup)!;
  assert.deepEqual(
    c.rows.map((x) => [x.scenario, x.a.median, x.b.median, x.status]),
    [
      ['s1', 10000, 11000, 'regression'],
      ['s2', 5000, 5050, 'insufficient'],
    ],
  );
  const [s1, s2] = c.rows;
  // A decision with a test behind it: every field; one without (a single trial of b): the ratio only, no power.
  assert.deepEqual(Object.keys(s1!).sort(), ['a', 'b', 'ci', 'label', 'metric', 'pValue', 'power', 'ratio', 'scenario', 'status', 'threshold', 'unit']);
  assert.deepEqual(s2, { scenario: 's2', metric: 'backup.wallMs', label: 'Backup time', unit: 'ms', a: { n: 3, median: 5000, cv: 0.02 }, b: { n: 1, median: 5050 }, status: 'insufficient', threshold: 0.05, ratio: 1.01 });
  assert.deepEqual([c.regressions, c.improvements, c.worse.length, c.better.length], [1, 0, 1, 0]);
  assert.deepEqual(c.trials, { a: 3, b: 3 });
  assert.equal('notice' in c, false);
});

test('two trials a side are enough for the power figure; one is not, and then there is no power line', () => {
  const two = compareVariants(run([...timed('restic-a', 's1', [10000, 10300]), ...timed('restic-b', 's1', [10100, 10400])], ['s1']), backup)!;
  assert.equal(two.rows[0]!.power?.smallestP, 1 / 3);
  assert.ok(two.power, 'a power line');
  const one = compareVariants(run([...timed('restic-a', 's1', [10000, 10300]), ...timed('restic-b', 's1', [10100])], ['s1']), backup)!;
  assert.equal('power' in one.rows[0]!, false);
  assert.equal('power' in one, false);
  const oneA = compareVariants(run([...timed('restic-a', 's1', [10000]), ...timed('restic-b', 's1', [10100, 10200])], ['s1']), backup)!;
  assert.equal('power' in oneA.rows[0]!, false);
});

/** Trials with the same repository size and writes lost in each, so the zero-spread rule decides. */
function fixed(tool: string, repoBytes: number, writesLost: number): TrialResult[] {
  return [1, 2, 3].map((n) => {
    const t = trial({ tool, scenario: 's1', trial: n, backupMs: 10000 + n * 50, repoBytes });
    t.fault = { kind: 'outage', injected: true, description: 'outage', details: { writesLost } };
    return t;
  });
}

test('no spread on either side: the line says the threshold alone decided, with the words of the unit, and no CI or p', () => {
  const cfg = config({ metrics: ['repository.sizeBytes', 'writesLost'] });
  const worse = compareVariants(run([...fixed('restic-a', 100_000_000, 10), ...fixed('restic-b', 103_000_000, 40)], ['s1']), cfg)!;
  assert.deepEqual(worse.worse, [
    'A/B restic-b vs restic-a / s1: Repository size +3.0%, restic-b larger (median 95.4 MiB → 98.2 MiB, threshold ±2%, no spread on either side, so the threshold alone decides)',
    'A/B restic-b vs restic-a / s1: Writes lost +300%, restic-b higher (median 10 → 40, threshold ±5%, no spread on either side, so the threshold alone decides)',
  ]);
  for (const row of worse.rows) {
    assert.equal(row.rule, 'zero-spread');
    assert.equal('pValue' in row, false);
  }
  const better = compareVariants(run([...fixed('restic-a', 103_000_000, 40), ...fixed('restic-b', 100_000_000, 10)], ['s1']), cfg)!;
  assert.deepEqual(better.better, [
    'A/B restic-b vs restic-a / s1: Repository size -2.9%, restic-b smaller (median 98.2 MiB → 95.4 MiB, threshold ±2%, no spread on either side, so the threshold alone decides)',
    'A/B restic-b vs restic-a / s1: Writes lost -75%, restic-b lower (median 40 → 10, threshold ±5%, no spread on either side, so the threshold alone decides)',
  ]);
  assert.deepEqual([better.improvements, better.regressions, better.worse.length], [2, 0, 0]);
});

test('b faster with a spread: the line has the interval and p; an unchanged metric adds no line and counts nowhere', () => {
  const cfg = config({ metrics: ['backup.wallMs', 'restore.wallMs'] });
  const a = timed('restic-a', 's1', [11000, 11330, 10670]);
  const b = timed('restic-b', 's1', [10000, 10300, 9700]);
  // Same restore times on both sides: unchanged.
  for (const t of [...a, ...b]) t.restore = { ...t.restore!, wallMs: 500 + t.trial * 10 };
  const c = compareVariants(run([...a, ...b], ['s1']), cfg)!;
  assert.deepEqual(c.rows.map((x) => x.status), ['improvement', 'unchanged']);
  assert.deepEqual([c.improvements, c.regressions, c.better.length, c.worse.length], [1, 0, 1, 0]);
  assert.match(c.better[0]!, /^A\/B restic-b vs restic-a \/ s1: Backup time -9\.1%, restic-b faster \(median 11\.0 s → 10\.0 s, threshold ±5%, 95% CI ×0\.\d\d–×0\.\d\d, p=0\.1\)$/);
});

test('a near-deterministic metric beside timed ones is summed up on its own in the power line', () => {
  const cfg = config({ metrics: ['backup.wallMs', 'repository.sizeBytes'] });
  const a = timed('restic-a', 's1', [10000, 10300, 9700]);
  const b = timed('restic-b', 's1', [10100, 10400, 9800]);
  a.forEach((t, i) => (t.repository = { sizeBytes: 100_000_000 + i * 1000 }));
  b.forEach((t, i) => (t.repository = { sizeBytes: 100_000_000 + i * 1000 }));
  const c = compareVariants(run([...a, ...b], ['s1']), cfg)!;
  assert.deepEqual(c.power?.deterministic?.labels, ['repository size']);
});

test('the notice names every variant without a passed trial, and says "skipped" only for a skipped one', () => {
  const failed = (tool: string) => timed(tool, 's1', [10000, 10100]).map((t) => ({ ...t, status: 'failed' as const }));
  const both = run([...failed('restic-a'), ...failed('restic-b')], ['s1']);
  both.tools.push({ name: 'other', type: 'restic', status: 'skipped', reason: 'not on PATH' });
  assert.equal(compareVariants(both, backup)!.notice, 'nothing to compare: restic-a has no passed trial; restic-b has no passed trial');
  const skipped = run([...timed('restic-a', 's1', [10000, 10100])], ['s1']);
  skipped.tools.push({ name: 'restic-b', type: 'restic', status: 'skipped', reason: 'not on PATH' });
  assert.equal(compareVariants(skipped, backup)!.notice, 'nothing to compare: restic-b has no passed trial (skipped: see the tools table)');
});

test('rows follow the suite\'s scenario order, not the order the trials were recorded in', () => {
  const r = run([...timed('restic-a', 's2', [5000, 5100]), ...timed('restic-b', 's2', [5000, 5100]), ...timed('restic-a', 's1', [9000, 9100]), ...timed('restic-b', 's1', [9000, 9100])]);
  assert.deepEqual(compareVariants(r, backup)!.rows.map((x) => x.scenario), ['s1', 's2']);
});

test('a metric whose medians are 0 on both sides has no detectable figure and stays out of the power line', () => {
  const cfg = config({ metrics: ['backup.wallMs', 'writesLost'] });
  const zero = (tool: string, ms: number[]) =>
    timed(tool, 's1', ms).map((t) => ({ ...t, fault: { kind: 'outage' as const, injected: true, description: 'outage', details: { writesLost: 0 } } }));
  const c = compareVariants(run([...zero('restic-a', [10000, 10300, 9700]), ...zero('restic-b', [10100, 10400, 9800])], ['s1']), cfg)!;
  assert.deepEqual(c.rows.map((x) => [x.metric, x.power?.detectable === undefined]), [['backup.wallMs', false], ['writesLost', true]]);
  assert.equal(c.power?.metrics, 1);
});
