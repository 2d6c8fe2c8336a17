// Where a Velero operation spent its time (issue 11: what each tool spends outside moving data), from Velero's own
// status timestamps, and the report's table of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/platform/kubernetes/client.ts';
import { veleroTimeline, withTimeline } from '../../src/tools/velero-timeline.ts';
import { compare } from '../../src/baseline/compare.ts';
import { timelineTable } from '../../src/report/timeline-table.ts';
import { config, phase, results, trial } from '../report/fixtures.ts';

const T = (s: number) => new Date(Date.UTC(2026, 10, 30, 3, 0, s)).toISOString().replace('.000Z', 'Z');

function obj(kind: string, name: string, created: number, start?: number, end?: number): KubeObject {
  return {
    apiVersion: 'velero.io/v1',
    kind,
    metadata: { name, namespace: 'velero', creationTimestamp: T(created) },
    status: { phase: 'Completed', ...(start !== undefined ? { startTimestamp: T(start) } : {}), ...(end !== undefined ? { completionTimestamp: T(end) } : {}) },
  };
}

test('a file-system backup: queued, before the volumes, preparing them, moving data across both volumes, finishing', () => {
  const backup = obj('Backup', 'b1', 0, 1, 17);
  const pvbs = [obj('PodVolumeBackup', 'v1', 3, 6, 9), obj('PodVolumeBackup', 'v2', 4, 7, 12)];
  assert.deepEqual(veleroTimeline(backup, pvbs), {
    source: 'velero',
    parts: [
      { name: 'queued', ms: 1000 },
      { name: 'before-volumes', ms: 2000 },
      { name: 'preparing', ms: 3000 },
      { name: 'moving-data', ms: 6000 },
      { name: 'finishing', ms: 5000 },
    ],
    dataMs: 6000,
    totalMs: 17000,
  });
});

test('without volume operations (CSI snapshots kept in the cluster): queued and running, no data part', () => {
  assert.deepEqual(veleroTimeline(obj('Backup', 'b1', 0, 0, 4), []), { source: 'velero', parts: [{ name: 'queued', ms: 0 }, { name: 'running', ms: 4000 }], totalMs: 4000 });
  // A volume operation without its timestamps (still Prepared when the backup failed) does not count.
  assert.deepEqual(veleroTimeline(obj('Backup', 'b1', 0, 0, 4), [obj('DataUpload', 'd1', 1)])?.parts.map((p) => p.name), ['queued', 'running']);
});

test('no timeline without the operation\'s own start and completion; clock skew never gives a negative part', () => {
  assert.equal(veleroTimeline(obj('Backup', 'b1', 0, 1), []), undefined);
  assert.equal(veleroTimeline(obj('Backup', 'b1', 0), []), undefined);
  // A volume operation stamped (by another clock) before the backup started and after it completed.
  const t = veleroTimeline(obj('Restore', 'r1', 0, 2, 10), [obj('PodVolumeRestore', 'v1', 1, 1, 11)])!;
  assert.deepEqual(t.parts, [
    { name: 'queued', ms: 2000 },
    { name: 'before-volumes', ms: 0 },
    { name: 'preparing', ms: 0 },
    { name: 'moving-data', ms: 8000 },
    { name: 'finishing', ms: 0 },
  ]);
  assert.equal(t.totalMs, 10000);
});

test('withTimeline adds it to the phase metrics only when there is one', () => {
  const m = phase(17500);
  assert.equal(withTimeline(m, obj('Backup', 'b1', 0), []), m);
  assert.equal(withTimeline(m, obj('Backup', 'b1', 0, 1, 17), [])?.timeline?.totalMs, 17000);
});

test('the report\'s table: medians of each part per tool × scenario × phase, and the share outside moving data', () => {
  const tl = (data: number, finishing: number) => ({ source: 'velero' as const, parts: [{ name: 'queued', ms: 1000 }, { name: 'before-volumes', ms: 2000 }, { name: 'preparing', ms: 3000 }, { name: 'moving-data', ms: data }, { name: 'finishing', ms: finishing }], dataMs: data, totalMs: 6000 + data + finishing });
  const trials = [0, 1, 2].map((i) => {
    const t = trial({ tool: 'velero-fs', scenario: 'no-fault', trial: i + 1 });
    t.backup = { ...t.backup!, timeline: tl(4000 + i * 1000, 2000) };
    return t;
  });
  trials.push(trial({ tool: 'restic', scenario: 'no-fault' }));
  const r = results({ trials });
  const text = timelineTable(r, compare(r, { runs: [], source: 'none' }, config()));
  assert.equal(
    text,
    [
      '| Tool | Scenario | Phase | Queued | Before volumes | Preparing volumes | Volume transfers | Finishing | Outside volume transfers |',
      '| :- | :- | :- | -: | -: | -: | -: | -: | -: |',
      '| velero-fs | no-fault | backup | 1 s | 2 s | 3 s | 5 s | 2 s | 62% of 13 s |',
    ].join('\n'),
  );
  const none = results({ trials: [trial({ tool: 'restic' })] });
  assert.equal(timelineTable(none, compare(none, { runs: [], source: 'none' }, config())), '');
});
