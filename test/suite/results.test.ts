// metricValue reads each compared metric off a trial (found by npm run mutate -- suite: only some were tested).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { METRIC_NAMES, metricValue, timeSpent } from '../../src/suite/results.ts';
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

test('timeSpent: the trials, their processes, the measured phases among them, and the rest; empty when nothing was counted', () => {
  const a: TrialResult = { ...trial({ backupMs: 1200, restoreMs: 800 }), durationMs: 5000, processes: { count: 7, wallMs: 3500 } };
  const b: TrialResult = { ...trial({ backupMs: 1000, incrementalMs: 300, restoreMs: 700 }), durationMs: 4000, processes: { count: 5, wallMs: 4200 } };
  const k8s: TrialResult = { ...trial({ backupMs: 9000 }), durationMs: 20_000 };
  assert.equal(
    timeSpent([a, b, k8s]),
    "time: 2 trials took 9.0 s; 12 processes ran for 7.7 s of it (the measured backups and restores 4.0 s); pvbench's own work (seeding, manifests, verifying, settling the machine) about 1.3 s",
  );
  // Overlapping processes can sum past the trial's time: pvbench's share is then 0, not negative.
  assert.equal(timeSpent([b]), "time: 1 trial took 4.0 s; 5 processes ran for 4.2 s of it (the measured backups and restores 2.0 s); pvbench's own work (seeding, manifests, verifying, settling the machine) about 0.0 s");
  assert.equal(timeSpent([k8s]), '');
  assert.equal(timeSpent([]), '');
});
