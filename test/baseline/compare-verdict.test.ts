// compare's verdict and power fields in the cases the other tests leave out (issue 8): an A/B difference that fails
// the run on its own, a comparison without a power line, and a metric whose medians are 0 (no detectable figure)
// kept out of the power line's median.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare } from '../../src/baseline/compare.ts';
import { config, results, timed } from '../report/fixtures.ts';

const none = { runs: [], source: 'none' as const };

test('an A/B regression fails the run by itself when ab.failOnRegression is set, and only then', () => {
  const r = results({
    trials: [...timed('restic-a', 's1', [10000, 10300, 9700]), ...timed('restic-b', 's1', [11000, 11330, 10670])],
    scenarios: [{ name: 's1', fault: 'none' }],
  });
  r.suite.ab = { a: 'restic-a', b: 'restic-b', threshold: 0.05, failOnRegression: true };
  const c = compare(r, none, config({ metrics: ['backup.wallMs'] }));
  assert.equal(c.regressions, 0);
  assert.equal(c.verdict, 'fail');
  assert.deepEqual(c.reasons, c.ab!.worse);
  assert.equal(c.reasons.length, 1);
  r.suite.ab = { ...r.suite.ab, failOnRegression: false };
  const quiet = compare(r, none, config({ metrics: ['backup.wallMs'] }));
  assert.equal(quiet.verdict, 'pass');
  assert.deepEqual(quiet.reasons, []);
});

test('no power line without a baseline: the field is absent', () => {
  const c = compare(results({ trials: timed('restic', 'no-fault', [1000, 1010, 990]) }), none, config());
  assert.equal(Object.hasOwn(c, 'power'), false);
});

test('a metric at 0 on both sides has no detectable figure and stays out of the power line', () => {
  const base = results({ trials: timed('restic', 'no-fault', [1000, 1000, 1000], { rpoMs: 0 }) });
  const cur = results({ trials: timed('restic', 'no-fault', [1000, 1000, 1000], { rpoMs: 0 }) });
  const c = compare(cur, { runs: [base], source: 'history' }, config({ metrics: ['backup.wallMs', 'rpoMs'] }));
  const rpo = c.cells[0]!.metrics.find((m) => m.metric === 'rpoMs')!;
  assert.deepStrictEqual(rpo.power, { smallestP: 0.1 });
  assert.equal(c.power!.metrics, 1);
  assert.equal(c.power!.detectable, 1.1);
});
