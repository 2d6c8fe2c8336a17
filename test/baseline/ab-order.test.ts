// The A/B's rows (issue 8: ab.ts's last mutants): scenarios the results file does not list come in the order of
// variant a's trials, and each row's bootstrap has a seed of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareVariants } from '../../src/baseline/ab.ts';
import type { TrialResult } from '../../src/suite/results.ts';
import { config, results, timed } from '../report/fixtures.ts';

const backup = config({ metrics: ['backup.wallMs'] });

function run(trials: TrialResult[]) {
  const r = results({ trials, scenarios: [] });
  r.suite.ab = { a: 'restic-a', b: 'restic-b', threshold: 0.05, failOnRegression: false };
  return r;
}

test("scenarios missing from the results file's list: in the order of a's trials", () => {
  const r = run([...timed('restic-a', 's2', [100, 101]), ...timed('restic-a', 's1', [100, 101]), ...timed('restic-b', 's1', [100, 101]), ...timed('restic-b', 's2', [100, 101])]);
  assert.deepEqual(compareVariants(r, backup)!.rows.map((x) => x.scenario), ['s2', 's1']);
});

test('two scenarios with the same trials get intervals from seeds of their own', () => {
  const a = [1000, 1040, 980, 1010, 1100, 1003, 1071, 995, 1022, 1058, 987, 1033];
  const b = [1050, 990, 1120, 1060, 1010, 1081, 1013, 1097, 1044, 1002, 1129, 1066];
  const r = run([...timed('restic-a', 's1', a), ...timed('restic-a', 's2', a), ...timed('restic-b', 's1', b), ...timed('restic-b', 's2', b)]);
  const [s1, s2] = compareVariants(r, backup)!.rows;
  assert.equal(s1!.ratio, s2!.ratio);
  assert.notDeepStrictEqual(s1!.ci, s2!.ci);
});

test("a scenario only a measured gives no row; b's regression in time is worded 'slower'", () => {
  const r = run([
    ...timed('restic-a', 's1', [10000, 10300, 9700]),
    ...timed('restic-b', 's1', [11000, 11330, 10670]),
    ...timed('restic-a', 's2', [5000, 5100, 4900]),
  ]);
  const c = compareVariants(r, backup)!;
  assert.deepEqual(c.rows.map((x) => x.scenario), ['s1']);
  assert.equal(c.worse.length, 1);
  assert.match(c.worse[0]!, /^A\/B restic-b vs restic-a \/ s1: Backup time \+10%, restic-b slower \(/);
});
