// compare.ts gaps the mutation run of this stop found with the fast tests alone (issue 8): the noise floor of a bytes
// metric that is not near-deterministic, the coefficient of variation of a
// mean of 0, run medians of a run without values, what a metric comparison records (and leaves out), power at the
// smallest sizes, the wording of the escape for bytes and count metrics, and the A/B attached to a comparison.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coefficientOfVariation, compare, noiseFloorFor } from '../../src/baseline/compare.ts';
import type { BaselineInput, MetricComparison } from '../../src/baseline/compare.ts';
import type { ResultsFile } from '../../src/suite/results.ts';
import { config, phase, results, timed, trial } from '../report/fixtures.ts';

const baseline = (...runs: ResultsFile[]): BaselineInput => ({ runs, source: 'test' });

function only(c: ReturnType<typeof compare>, name: string): MetricComparison {
  const m = c.cells[0]?.metrics.find((x) => x.metric === name);
  assert.ok(m, name);
  return m;
}

test('noiseFloorFor: a bytes metric that is not near-deterministic (peak RSS) takes the bytes floor, a time the ms one', () => {
  const floor = { noiseFloor: { ms: 5, bytes: 7, deterministicBytes: 11, writes: 13 } };
  assert.equal(noiseFloorFor('backup.peakRssBytes', floor), 7);
  assert.equal(noiseFloorFor('backup.wallMs', floor), 5);
  assert.equal(noiseFloorFor('repository.sizeBytes', floor), 11);
  assert.equal(noiseFloorFor('writesLost', floor), 13);
});

test('coefficientOfVariation: undefined for a mean of 0 or below, sd / mean otherwise', () => {
  assert.equal(coefficientOfVariation([0, 0]), undefined);
  assert.equal(coefficientOfVariation([-1, 1]), undefined);
  assert.equal(coefficientOfVariation([1]), undefined);
  assert.equal(coefficientOfVariation([1, 3]), Math.SQRT2 / 2);
});

test('a metric comparison records only what it has: no cv, run CV or rule keys when there is none', () => {
  const cur = results({ trials: timed('restic', 'no-fault', [2000, 2100]) });
  const one = results({ id: 'b1', trials: timed('restic', 'no-fault', [1000]) });
  const m = only(compare(cur, baseline(one), config({ metrics: ['backup.wallMs'] })), 'backup.wallMs');
  assert.deepStrictEqual(m.baseline, { n: 1, median: 1000 });
  assert.equal('rule' in m, false);
  assert.equal('power' in m, false, 'one baseline value: no power figure');
  assert.equal(m.status, 'insufficient');
});

test('run medians leave out a run without values of the metric: the run CV is that of the others', () => {
  const cur = results({ trials: timed('restic', 'no-fault', [1000, 1010, 990]) });
  const a = results({ id: 'a', startedAt: '2025-01-01T00:00:00Z', trials: timed('restic', 'no-fault', [1000, 1000]) });
  const b = results({ id: 'b', startedAt: '2025-01-02T00:00:00Z', trials: timed('restic', 'no-fault', [1200, 1200]) });
  // Run c's trials passed but never measured an incremental backup.
  const c = results({ id: 'c', startedAt: '2025-01-03T00:00:00Z', trials: [trial({ trial: 1, backupMs: 1100 })] });
  for (const t of [...a.trials, ...b.trials]) t.incremental = phase(t.backup!.wallMs / 2);
  for (const t of cur.trials) t.incremental = phase(t.backup!.wallMs / 2);
  const m = only(compare(cur, baseline(a, b, c), config({ metrics: ['incremental.wallMs'] })), 'incremental.wallMs');
  assert.equal(m.baseline?.n, 4);
  // Medians 500 and 600: sd 70.71, mean 550.
  assert.equal(m.baseline?.runCv, coefficientOfVariation([500, 600]));
});

test('2 trials against 2 are enough for a power figure', () => {
  const cur = results({ trials: timed('restic', 'no-fault', [1000, 1010]) });
  const base = results({ id: 'b', trials: timed('restic', 'no-fault', [1000, 1020]) });
  const m = only(compare(cur, baseline(base), config({ metrics: ['backup.wallMs'] })), 'backup.wallMs');
  assert.equal(m.power?.smallestP, 1 / 3);
});

test('the escape for sizes that cannot reach α names the unit: larger for bytes, higher for counts', () => {
  const mk = (id: string, rss: number[], writes: number[]) =>
    results({
      id,
      trials: rss.map((r, i) => {
        const t = trial({ trial: i + 1, backupMs: 1000, fault: { kind: 'outage', injected: true, description: 'outage', details: { writesLost: writes[i]! } } });
        t.backup!.peakRssBytes = r;
        return t;
      }),
    });
  const cur = mk('cur', [300e6, 310e6, 305e6], [30, 31, 32]);
  const base = mk('b', [100e6, 101e6, 102e6], [10, 11, 12]);
  const c = compare(cur, baseline(base), config({ metrics: ['backup.peakRssBytes', 'writesLost'] }));
  assert.equal(c.reasons.length, 2);
  assert.match(c.reasons[0]!, /^restic \/ no-fault: Backup peak RSS .*, p=0\.1, every trial larger than every baseline trial\)$/);
  assert.match(c.reasons[1]!, /^restic \/ no-fault: Writes lost .*, p=0\.1, every trial higher than every baseline trial\)$/);
});

test('a comparison carries the A/B only when the suite names one', () => {
  const cur = results({ trials: [...timed('restic-a', 'no-fault', [1000, 1010, 990]), ...timed('restic-b', 'no-fault', [1000, 1010, 990])] });
  assert.equal('ab' in compare(cur, baseline(), config()), false);
  cur.suite.ab = { a: 'restic-a', b: 'restic-b', threshold: 0.05, failOnRegression: false };
  const c = compare(cur, baseline(), config());
  assert.equal(c.ab?.a, 'restic-a');
  assert.equal(c.ab?.b, 'restic-b');
  assert.equal('trend' in c, false, 'no history: no trend');
});
