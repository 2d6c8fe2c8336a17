// Noise measured, not assumed (issue 9): the spread between the baseline's runs raises a metric's threshold
// (compare.noiseFactor × the coefficient of variation of the runs' medians) when it is larger than the configured one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare, noiseThreshold } from '../../src/baseline/compare.ts';
import { config, results, timed } from '../report/fixtures.ts';

test('noiseThreshold: raised to factor × run CV from 3 runs on, never lowered, off at 0', () => {
  assert.equal(noiseThreshold(0.2, 0.15, 3, { noiseFactor: 2 }), 0.3);
  assert.equal(noiseThreshold(0.2, 0.05, 3, { noiseFactor: 2 }), 0.2);
  assert.equal(noiseThreshold(0.2, 0.15, 2, { noiseFactor: 2 }), 0.2);
  assert.equal(noiseThreshold(0.2, undefined, 5, { noiseFactor: 2 }), 0.2);
  assert.equal(noiseThreshold(0.2, 0.15, 5, { noiseFactor: 0 }), 0.2);
  assert.equal(noiseThreshold(0.02, 0.1234567, 4, { noiseFactor: 3 }), 0.37);
});

// Four baseline runs whose medians are 1000, 1300, 1000, 1300 ms (each run tight): CV of the run medians 15.1%.
const baseRuns = [1000, 1300, 1000, 1300].map((m, i) => results({ startedAt: `2025-01-0${i + 1}T00:00:00.000Z`, trials: timed('restic', 'no-fault', [m - 10, m, m + 10]) }));
const cfg = (noiseFactor: number) => config({ metrics: ['backup.wallMs'], threshold: 0.2, noiseFactor });

test('a 26% slower run against runs that differ by 15% among themselves: flagged at a fixed 20%, not with the noise-raised threshold', () => {
  const cur = results({ trials: timed('restic', 'no-fault', [1440, 1450, 1460]) });
  const fixed = compare(cur, { runs: baseRuns, source: 'test' }, cfg(0));
  assert.equal(fixed.regressions, 1);
  const m0 = fixed.cells[0]!.metrics[0]!;
  assert.equal(m0.threshold, 0.2);
  assert.equal(m0.configuredThreshold, undefined);

  const noisy = compare(cur, { runs: baseRuns, source: 'test' }, cfg(2));
  const m = noisy.cells[0]!.metrics[0]!;
  // CV of 1000, 1300, 1000, 1300 (sample sd 173.2 / mean 1150) = 0.1506; × 2 = 0.301.
  assert.equal(m.threshold, 0.301);
  assert.equal(m.configuredThreshold, 0.2);
  assert.equal(m.status, 'unchanged');
  assert.equal(noisy.regressions, 0);
});

test('a change beyond the raised threshold still fails, and the verdict line says the threshold was raised and why', () => {
  const cur = results({ trials: timed('restic', 'no-fault', [1990, 2000, 2010]) });
  const c = compare(cur, { runs: baseRuns, source: 'test' }, cfg(2));
  assert.equal(c.regressions, 1);
  assert.match(c.reasons[0]!, /^restic \/ no-fault: Backup time \+74% \(median 1\.15 s → 2\.00 s, threshold \+30\.1% \(raised from 20% by the noise between baseline runs, CV 15\.1%\), /);
});
