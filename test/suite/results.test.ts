// metricValue reads each compared metric off a trial (found by npm run mutate -- suite: only some were tested).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { METRIC_NAMES, metricValue } from '../../src/suite/results.ts';
import type { TrialResult } from '../../src/suite/results.ts';
import { phase, trial } from '../report/fixtures.ts';

test('metricValue reads every metric from its own field; cpuMs is user + sys', () => {
  const t: TrialResult = {
    ...trial(),
    backup: phase(1000, { cpuUserMs: 300, cpuSysMs: 40, peakRssBytes: 111, bytesWritten: 222 }),
    incremental: phase(400),
    restore: phase(500, { cpuUserMs: 200, cpuSysMs: 30, peakRssBytes: 333 }),
    repository: { sizeBytes: 444 },
    rtoMs: 555,
    rpoMs: 666,
    fault: { kind: 'outage', injected: true, description: 'outage', details: { writesLost: 7 } },
  };
  const got = Object.fromEntries(METRIC_NAMES.map((m) => [m, metricValue(t, m)]));
  assert.deepEqual(got, {
    'backup.wallMs': 1000,
    'incremental.wallMs': 400,
    'restore.wallMs': 500,
    'backup.cpuMs': 340,
    'restore.cpuMs': 230,
    'backup.peakRssBytes': 111,
    'restore.peakRssBytes': 333,
    'backup.bytesWritten': 222,
    'repository.sizeBytes': 444,
    rtoMs: 555,
    rpoMs: 666,
    writesLost: 7,
  });
});

test('metricValue is undefined for whatever a trial did not measure', () => {
  const t = trial({ status: 'error' });
  assert.equal(t.backup, undefined);
  for (const m of METRIC_NAMES) assert.equal(metricValue(t, m), undefined, m);
});
