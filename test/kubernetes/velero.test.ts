// The Velero adapter against the fake API server, with the test playing Velero's controllers: Backup and Restore
// phases, PodVolumeBackups with byte progress, a watch dropped mid-backup, PartiallyFailed / Failed /
// FailedValidation, the crash fault (node-agent pod deleted) with recovery and retry, check, cleanup.
import { test, after, afterEach, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { fakeKubelet, labelsOf, startFake, toolContext, within } from './helpers.ts';
import type { KubeObject } from '../fake-apiserver/server.ts';
import type { KubeToolContext } from '../../src/platform/kubernetes/context.ts';
import { RESULT_PREFIX, setLocation } from '../../src/platform/kubernetes/objects.ts';
import { VeleroTool } from '../../src/tools/velero.ts';
import { locationConflict, operationProgress, transferDone, veleroOptions } from '../../src/tools/velero-status.ts';
import { ToolError } from '../../src/tools/types.ts';
import type { RunningOp } from '../../src/tools/types.ts';
import type { VolumeSet } from '../../src/platform/types.ts';

const V = 'velero.io/v1';
const fake = await startFake({ namespaces: ['velero', 'minio', 'pvbench-t1', 'pvbench-t1-restore-0'], nodes: ['node-1'] });
after(() => fake.server.close());
const { server, kube } = fake;
const offKubelet = fakeKubelet(server, {
  task: (pod) => {
    // The S3 helper pod: answer "list" with objects, "flip" with what it flipped.
    const cmd = ((pod.spec as { containers: { command: string[] }[] }).containers[0]!.command ?? []) as string[];
    if (cmd[3] === 'list') return { log: `${RESULT_PREFIX}${JSON.stringify([{ key: 'pvbench/run1/t1/kopia/pvbench-t1/p0001', size: 4000 }, { key: 'pvbench/run1/t1/kopia/pvbench-t1/kopia.repository', size: 300 }, { key: 'pvbench/run1/t1/backups/b/b.tar.gz', size: 700 }])}\n` };
    if (cmd[3] === 'flip') return { log: `${RESULT_PREFIX}${cmd[4]}\n` };
    return {};
  },
});
after(offKubelet);

const now = () => new Date().toISOString();
const VOLUMES = ['proxy-0', 'proxy-1'];
const source: VolumeSet = { id: 't1', location: setLocation('pvbench-t1', 't1'), volumes: VOLUMES };
const target: VolumeSet = { id: 't1-restore-0', location: setLocation('pvbench-t1-restore-0', 't1-restore-0'), volumes: VOLUMES };

// --- the cluster as Velero installs it -------------------------------------------------------------------------

server.put({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'velero', namespace: 'velero' }, spec: { selector: { matchLabels: { deploy: 'velero' } }, template: { metadata: { labels: { deploy: 'velero' } }, spec: { containers: [{ name: 'velero', image: 'velero/velero:v1.17.0' }] } } }, status: { availableReplicas: 1, replicas: 1 } });
server.put({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'node-agent', namespace: 'velero' }, spec: { selector: { matchLabels: { name: 'node-agent' } }, template: { metadata: { labels: { name: 'node-agent' } }, spec: { containers: [{ name: 'node-agent', image: 'velero/velero:v1.17.0' }] } } }, status: { desiredNumberScheduled: 1, numberReady: 1, numberUnavailable: 0 } });
const agentPod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'velero', labels: { name: 'node-agent' } }, spec: { nodeName: 'node-1', containers: [{ name: 'node-agent', image: 'velero/velero:v1.17.0' }] }, status: { phase: 'Running' } });
server.put(agentPod('node-agent-aaaaa'));
server.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'velero-7c9d', namespace: 'velero', labels: { deploy: 'velero' } }, spec: { nodeName: 'node-1', containers: [{ name: 'velero', image: 'velero/velero:v1.17.0' }] }, status: { phase: 'Running' } });
server.put({ apiVersion: V, kind: 'BackupStorageLocation', metadata: { name: 'default', namespace: 'velero' }, spec: { provider: 'aws', default: true, objectStorage: { bucket: 'velero', prefix: 'velero' }, config: { region: 'minio', s3ForcePathStyle: 'true', s3Url: 'http://minio.minio.svc:9000' } }, status: { phase: 'Available' } });
for (const v of VOLUMES) {
  server.put({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: v, namespace: 'pvbench-t1', labels: { 'pvbench.dev/set': 't1' } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '256Mi' } } }, status: { phase: 'Bound' } });
  server.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: v, namespace: 'pvbench-t1', labels: { 'pvbench.dev/set': 't1' } }, spec: { nodeName: 'node-1', containers: [{ name: 'main', image: 'node:24-slim' }], volumes: [{ name: 'vol-0', persistentVolumeClaim: { claimName: v } }] }, status: { phase: 'Running' } });
}

// --- Velero, played by the test -----------------------------------------------------------------------------------

type Plan = 'complete' | 'partial' | 'failed' | 'invalid' | 'manual';
let plan: Plan = 'complete';
let gate: Promise<void> = Promise.resolve();

server.onCreate(V, 'backupstoragelocations', (o, ctx) => {
  if (ctx.source !== 'api') return;
  server.setStatus(V, 'backupstoragelocations', 'velero', (o.metadata as { name: string }).name, { phase: 'Available', lastValidationTime: now() });
});

function pvb(backup: string, volume: string, phase: string, done: number): KubeObject {
  return {
    apiVersion: V,
    kind: 'PodVolumeBackup',
    metadata: { name: `${backup}-${volume}`, namespace: 'velero', labels: { 'velero.io/backup-name': backup } },
    spec: { backupStorageLocation: 'x', node: 'node-1', pod: { kind: 'Pod', namespace: 'pvbench-t1', name: volume }, repoIdentifier: '', volume: 'vol-0', uploaderType: 'kopia' },
    status: { phase, progress: { totalBytes: 1000, bytesDone: done }, ...(phase === 'Completed' ? { incrementalBytes: 400, completionTimestamp: now() } : {}), ...(phase === 'Failed' ? { message: 'found a podvolumebackup with status "InProgress" during the server starting, mark it as "Failed"' } : {}) },
  };
}

server.onCreate(V, 'backups', async (o, ctx) => {
  if (ctx.source !== 'api') return;
  const name = (o.metadata as { name: string }).name;
  const thisPlan = plan;
  if (thisPlan === 'invalid') {
    server.setStatus(V, 'backups', 'velero', name, { phase: 'FailedValidation', validationErrors: ['an existing backup storage location wasn\'t specified at backup creation time'] });
    return;
  }
  server.setStatus(V, 'backups', 'velero', name, { phase: 'InProgress', startTimestamp: now(), progress: { totalItems: 4, itemsBackedUp: 1 } });
  for (const v of VOLUMES) server.put(pvb(name, v, 'InProgress', 300));
  await gate;
  if (!server.get(V, 'backups', 'velero', name)) return;
  if (thisPlan === 'manual') return;
  if (thisPlan === 'failed') {
    server.setStatus(V, 'backups', 'velero', name, { phase: 'Failed', failureReason: 'error getting backup storage location: not found', completionTimestamp: now() });
    return;
  }
  const last = thisPlan === 'partial' ? 'Failed' : 'Completed';
  server.put(pvb(name, 'proxy-0', 'Completed', 1000));
  server.put(pvb(name, 'proxy-1', last, last === 'Completed' ? 1000 : 300));
  server.setStatus(V, 'backups', 'velero', name, {
    phase: thisPlan === 'partial' ? 'PartiallyFailed' : 'Completed',
    startTimestamp: now(),
    completionTimestamp: now(),
    progress: { totalItems: 4, itemsBackedUp: 4 },
    ...(thisPlan === 'partial' ? { errors: 1, warnings: 0 } : {}),
  });
});

// The node agent dies: on restart it fails the in-progress PodVolumeBackups and the Backup ends PartiallyFailed.
server.onDelete('v1', 'pods', (pod) => {
  const meta = pod.metadata as { namespace: string; labels?: Record<string, string> };
  if (meta.namespace !== 'velero' || meta.labels?.name !== 'node-agent') return;
  server.put(agentPod('node-agent-bbbbb'));
  for (const p of server.list(V, 'podvolumebackups', 'velero')) {
    if ((p.status as { phase: string }).phase !== 'InProgress') continue;
    const backup = labelsOf(p)['velero.io/backup-name']!;
    server.put(pvb(backup, String((p.spec as { pod: { name: string } }).pod.name), 'Failed', 300));
    server.setStatus(V, 'backups', 'velero', backup, { phase: 'PartiallyFailed', errors: 1, warnings: 0, startTimestamp: now(), completionTimestamp: now() });
  }
});

server.onCreate(V, 'restores', (o, ctx) => {
  if (ctx.source !== 'api') return;
  const name = (o.metadata as { name: string }).name;
  const spec = o.spec as { namespaceMapping: Record<string, string> };
  const targetNs = Object.values(spec.namespaceMapping)[0]!;
  server.setStatus(V, 'restores', 'velero', name, { phase: 'InProgress', startTimestamp: now() });
  for (const v of VOLUMES) {
    server.put({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: v, namespace: targetNs, labels: { 'velero.io/restore-name': name } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '256Mi' } } }, status: { phase: 'Bound' } });
    server.put({
      apiVersion: V,
      kind: 'PodVolumeRestore',
      metadata: { name: `${name}-${v}`, namespace: 'velero', labels: { 'velero.io/restore-name': name } },
      spec: { backupStorageLocation: 'x', pod: { kind: 'Pod', namespace: targetNs, name: v }, repoIdentifier: '', snapshotID: 'abc', sourceNamespace: 'pvbench-t1', volume: 'vol-0' },
      status: { phase: 'Completed', progress: { totalBytes: 1000, bytesDone: 1000 } },
    });
  }
  server.setStatus(V, 'restores', 'velero', name, { phase: 'Completed', startTimestamp: now(), completionTimestamp: now(), progress: { totalItems: 4, itemsRestored: 4 } });
});

server.onCreate(V, 'deletebackuprequests', (o, ctx) => {
  if (ctx.source !== 'api') return;
  const backup = (o.spec as { backupName: string }).backupName;
  server.delete(V, 'backups', 'velero', backup);
  for (const p of server.list(V, 'podvolumebackups', 'velero', { labelSelector: `velero.io/backup-name=${backup}` })) server.delete(V, 'podvolumebackups', 'velero', (p.metadata as { name: string }).name);
  server.setStatus(V, 'deletebackuprequests', 'velero', (o.metadata as { name: string }).name, { phase: 'Processed' });
});

function ctx(): KubeToolContext {
  return toolContext(kube, { timeoutMs: 20_000, volumeSize: '256Mi' });
}

beforeEach(() => {
  plan = 'complete';
  gate = Promise.resolve();
});

let current: VeleroTool | undefined;
afterEach(async () => {
  // A failed test must not leave its location behind for the next one.
  await current?.cleanup();
  current = undefined;
});

async function newTool(trial = 't1'): Promise<VeleroTool> {
  const tool = new VeleroTool({ type: 'velero-fs', options: {} }, ctx());
  current = tool;
  await within(tool.init(trial), 20_000, 'init');
  return tool;
}

test('probe reports the Velero version and mode', async () => {
  const tool = new VeleroTool({ type: 'velero-fs', options: {} }, ctx());
  assert.deepEqual(await tool.probe(), { ok: true, version: 'v1.17.0 (file-system backup, kopia)' });
});

test("pvbench's locations never go inside another location's data: a location using the whole bucket is named, with the fix", async () => {
  server.put({ apiVersion: V, kind: 'BackupStorageLocation', metadata: { name: 'whole', namespace: 'velero' }, spec: { provider: 'aws', objectStorage: { bucket: 'velero' } } });
  try {
    const probe = await new VeleroTool({ type: 'velero-fs', options: {} }, ctx()).probe();
    assert.equal(probe.ok, false);
    assert.match(probe.ok ? '' : probe.reason, /velero\/pvbench\/ would be inside BackupStorageLocation whole, which uses the whole bucket.*set the tool option bucket/s);
    // Its own bucket (or a prefix of its own) resolves it.
    assert.deepEqual(await new VeleroTool({ type: 'velero-fs', options: { bucket: 'pvbench-own' } }, ctx()).probe(), { ok: true, version: 'v1.17.0 (file-system backup, kopia)' });
  } finally {
    server.delete(V, 'backupstoragelocations', 'velero', 'whole');
  }
  assert.deepEqual(locationConflict('b', 'pvbench', [{ name: 'x', bucket: 'b', prefix: 'pvbench/sub' }])?.missing.includes('inside or over BackupStorageLocation x'), true);
  assert.equal(locationConflict('b', 'pvbench', [{ name: 'x', bucket: 'b', prefix: 'velero' }, { name: 'y', bucket: 'other', prefix: '' }]), undefined);
  assert.equal(locationConflict('b', 'pvbench', [{ name: 'x', bucket: 'b', prefix: 'pvbench2' }]), undefined, 'a sibling whose name merely starts the same is no conflict');
});

test('init gives the trial its own BackupStorageLocation, cloned from the default, and waits until Available', async () => {
  const tool = await newTool();
  const bsl = server.get(V, 'backupstoragelocations', 'velero', 'pvbench-run1-t1')!;
  const spec = bsl.spec as { objectStorage: { bucket: string; prefix: string }; config: Record<string, string>; default: boolean };
  assert.deepEqual(spec.objectStorage, { bucket: 'velero', prefix: 'pvbench/run1/t1' });
  assert.equal(spec.config.s3Url, 'http://minio.minio.svc:9000');
  assert.equal(labelsOf(bsl)['pvbench.dev/run'], 'run1');
  await tool.cleanup();
  assert.equal(server.get(V, 'backupstoragelocations', 'velero', 'pvbench-run1-t1'), undefined);
});

test('a backup goes New → InProgress → Completed; a watch dropped mid-backup is resumed; bytes come from the PodVolumeBackups', async () => {
  const tool = await newTool();
  let release: () => void = () => undefined;
  gate = new Promise<void>((r) => (release = r));
  let op: RunningOp | undefined;
  let opAt = 0;
  const before = Date.now();
  const started = tool.backup(source, { onStart: (o) => ((op = o), (opAt = Date.now())) });
  const name = 'pvbench-run1-t1-b1';
  await server.waitFor(V, 'podvolumebackups', 'velero', `${name}-proxy-1`, (o) => !!o, 10_000);
  for (const until = Date.now() + 10_000; !op && Date.now() < until; ) await new Promise((r) => setTimeout(r, 10));
  const watchesBefore = server.requests.filter((r) => r.watch && r.path.endsWith('/backups')).length;
  // Progress comes from the watched state: 10% of items + 90% of bytes (0.1 * 1/4 + 0.9 * 0.3).
  const deadline = Date.now() + 10_000;
  while ((await op!.progress()) < 0.29 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(Math.abs((await op!.progress()) - (0.1 * 0.25 + 0.9 * 0.3)) < 1e-9);
  assert.ok(server.dropWatches() >= 1);
  await new Promise((r) => setTimeout(r, 100)); // held at least this long after its start: the wall time's floor
  const releasedAt = Date.now();
  release();
  const out = await within(started, 20_000, 'backup');
  const after = Date.now();
  assert.equal(out.snapshotId, name);
  assert.equal(out.metrics.bytesProcessed, 2000);
  assert.equal(out.metrics.bytesRead, 2000);
  assert.equal(out.metrics.bytesWritten, 800);
  assert.equal(out.metrics.source, 'kubernetes');
  // From the Backup's creation to its Completed phase: it spans the hold, and not more than the whole call.
  assert.ok(out.metrics.wallMs >= releasedAt - opAt && releasedAt - opAt >= 100, `wall ${out.metrics.wallMs} ms, held ${releasedAt - opAt} ms`);
  assert.ok(out.metrics.wallMs <= after - before, `wall ${out.metrics.wallMs} ms, the call took ${after - before} ms`);
  const watchesAfter = server.requests.filter((r) => r.watch && r.path.endsWith('/backups')).length;
  assert.ok(watchesAfter > watchesBefore, 'the Backup watch was re-opened after the drop');
  const b = server.get(V, 'backups', 'velero', name)!;
  const spec = b.spec as Record<string, unknown>;
  assert.deepEqual(spec.includedNamespaces, ['pvbench-t1']);
  assert.deepEqual(spec.labelSelector, { matchLabels: { 'pvbench.dev/set': 't1' } });
  assert.equal(spec.storageLocation, 'pvbench-run1-t1');
  assert.equal(spec.defaultVolumesToFsBackup, true);
  assert.deepEqual(await tool.snapshots(), [name]);
  assert.equal(await op!.progress(), 1);
  await tool.cleanup();
  assert.equal(server.get(V, 'backups', 'velero', name), undefined, 'cleanup deleted the backup through a DeleteBackupRequest');
});

test('PartiallyFailed, Failed and FailedValidation end the backup with a ToolError that says why', async () => {
  const tool = await newTool();
  plan = 'partial';
  await assert.rejects(within(tool.backup(source), 20_000, 'partial'), (e: unknown) => {
    assert.ok(e instanceof ToolError);
    assert.match(e.message, /backup pvbench-run1-t1-b1 partially failed \(1 error\(s\), 0 warning\(s\)\); PodVolumeBackup vol-0 Failed: found a podvolumebackup/);
    return true;
  });
  plan = 'failed';
  await assert.rejects(within(tool.backup(source), 20_000, 'failed'), /backup pvbench-run1-t1-b2 failed: error getting backup storage location: not found/);
  plan = 'invalid';
  await assert.rejects(within(tool.backup(source), 20_000, 'invalid'), /Velero rejected backup pvbench-run1-t1-b3: an existing backup storage location wasn't specified/);
  assert.deepEqual(await tool.snapshots(), []);
  const check = await tool.check();
  assert.equal(check.ok, false);
  assert.match(check.output, /latest backup pvbench-run1-t1-b\d: (Failed|FailedValidation)/);
  await tool.cleanup();
});

test('crash: deleting the node-agent pod fails the backup; recovery drops the partial backup; the retry succeeds', async () => {
  const tool = await newTool();
  plan = 'manual';
  let killed = '';
  const first = tool.backup(source, {
    onStart: (op) => {
      void (async () => {
        await server.waitFor(V, 'podvolumebackups', 'velero', 'pvbench-run1-t1-b1-proxy-1', (o) => !!o, 10_000);
        killed = await op.kill();
      })();
    },
  });
  await assert.rejects(within(first, 20_000, 'crashed backup'), (e: unknown) => e instanceof ToolError && /partially failed/.test(e.message));
  assert.match(killed, /^deleted Velero node-agent pod node-agent-aaaaa on node-1 \(backup in phase InProgress\)$/);
  assert.equal(server.get('v1', 'pods', 'velero', 'node-agent-aaaaa'), undefined);

  const rec = await within(tool.recover(), 20_000, 'recover');
  assert.ok(rec.actions.some((a) => /ready again/.test(a)));
  assert.ok(rec.actions.includes('deleted PartiallyFailed backup pvbench-run1-t1-b1 and its data'), rec.actions.join('; '));
  assert.equal(server.get(V, 'backups', 'velero', 'pvbench-run1-t1-b1'), undefined);

  plan = 'complete';
  const retry = await within(tool.backup(source), 20_000, 'retry');
  assert.equal(retry.snapshotId, 'pvbench-run1-t1-b2');
  assert.deepEqual(await tool.snapshots(), ['pvbench-run1-t1-b2']);
  await tool.cleanup();
});

test("crash with crashTarget data-mover: the pod moving a volume's bytes is what dies (Velero 1.17+ runs each transfer in a pod of its own), not the node agent", async () => {
  const tool = new VeleroTool({ type: 'velero-fs', options: { crashTarget: 'data-mover' } }, ctx());
  current = tool;
  await within(tool.init('t1'), 20_000, 'init');
  plan = 'manual';
  const mover = 'pvbench-run1-t1-b1-proxy-0-mover';
  const off = server.onDelete('v1', 'pods', (pod) => {
    if ((pod.metadata as { name: string }).name !== mover) return;
    server.put(pvb('pvbench-run1-t1-b1', 'proxy-0', 'Failed', 300));
    server.setStatus(V, 'backups', 'velero', 'pvbench-run1-t1-b1', { phase: 'PartiallyFailed', errors: 1, warnings: 0, startTimestamp: now(), completionTimestamp: now() });
  });
  try {
    let killed = '';
    const first = tool.backup(source, {
      onStart: (op) => {
        void (async () => {
          await server.waitFor(V, 'podvolumebackups', 'velero', 'pvbench-run1-t1-b1-proxy-1', (o) => !!o, 10_000);
          server.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: mover, namespace: 'velero', labels: { 'velero.io/pod-volume-backup': 'pvbench-run1-t1-b1-proxy-0' } }, spec: { nodeName: 'node-1', containers: [{ name: 'main', image: 'velero' }] } });
          killed = await op.kill();
        })();
      },
    });
    await assert.rejects(within(first, 20_000, 'crashed backup'), (e: unknown) => e instanceof ToolError && /partially failed/.test(e.message));
    assert.equal(killed, `deleted Velero data-mover pod ${mover} (podvolumebackup pvbench-run1-t1-b1-proxy-0) (backup in phase InProgress)`);
    assert.equal(server.get('v1', 'pods', 'velero', mover), undefined);
    assert.ok(server.get('v1', 'pods', 'velero', 'node-agent-aaaaa') ?? server.get('v1', 'pods', 'velero', 'node-agent-bbbbb'), 'the node agent lives on');
  } finally {
    off();
  }
  await within(tool.recover(), 20_000, 'recover');
  await tool.cleanup();
});

test('crash with crashTarget object-store: the pods behind the location\'s s3Url service are deleted mid-backup (an object store restart)', async () => {
  server.put({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'minio', namespace: 'minio' }, spec: { selector: { app: 'minio' }, ports: [{ port: 9000 }] } });
  server.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'minio-5d9f', namespace: 'minio', labels: { app: 'minio' } }, spec: { nodeName: 'node-1', containers: [{ name: 'minio', image: 'minio' }] }, status: { phase: 'Running' } });
  server.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'other', namespace: 'minio', labels: { app: 'other' } }, spec: { nodeName: 'node-1', containers: [{ name: 'x', image: 'x' }] }, status: { phase: 'Running' } });
  const tool = new VeleroTool({ type: 'velero-fs', options: { crashTarget: 'object-store' } }, ctx());
  current = tool;
  await within(tool.init('t1'), 20_000, 'init');
  plan = 'manual';
  let killed = '';
  const first = tool.backup(source, {
    signal: AbortSignal.timeout(3000),
    onStart: (op) => {
      void (async () => {
        await server.waitFor(V, 'podvolumebackups', 'velero', 'pvbench-run1-t1-b1-proxy-1', (o) => !!o, 10_000);
        killed = await op.kill();
      })();
    },
  });
  await assert.rejects(within(first, 20_000, 'backup'));
  assert.equal(killed, 'deleted object-store pod minio-5d9f of service minio/minio (backup in phase InProgress)');
  assert.equal(server.get('v1', 'pods', 'minio', 'minio-5d9f'), undefined);
  assert.ok(server.get('v1', 'pods', 'minio', 'other'), 'only the pods behind the service');
  server.setStatus(V, 'backups', 'velero', 'pvbench-run1-t1-b1', { phase: 'Failed', failureReason: 'x', completionTimestamp: now() });
  await within(tool.recover(), 20_000, 'recover');
  await tool.cleanup();
  // An object store outside the cluster cannot be restarted from it: a clear error.
  assert.throws(() => veleroOptions({ type: 'velero-fs', options: { crashTarget: 'bucket' } }), /options\.crashTarget must be "data-mover", "node-agent", "server" or "object-store", not "bucket"/);
});

test('recovery abandons a backup the crash left running: its transfers are cancelled, it ends, it is deleted, the retry runs', async () => {
  const tool = await newTool();
  plan = 'manual';
  // Velero ends a backup whose PodVolumeBackups are all cancelled.
  const off = server.onUpdate(V, 'podvolumebackups', (o, c) => {
    const spec = o.spec as { cancel?: boolean };
    if (c.source !== 'api' || !spec.cancel || (o.status as { phase?: string }).phase === 'Canceled') return;
    server.patchStatus(V, 'podvolumebackups', 'velero', (o.metadata as { name: string }).name, { phase: 'Canceled' });
    const backup = labelsOf(o)['velero.io/backup-name']!;
    const open = server.list(V, 'podvolumebackups', 'velero', { labelSelector: `velero.io/backup-name=${backup}` }).filter((p) => !['Canceled', 'Completed', 'Failed'].includes((p.status as { phase: string }).phase));
    if (open.length === 0) server.setStatus(V, 'backups', 'velero', backup, { phase: 'PartiallyFailed', errors: 2, warnings: 0, startTimestamp: now(), completionTimestamp: now() });
  });
  try {
    const stuck = tool.backup(source, { signal: AbortSignal.timeout(1500) });
    await assert.rejects(within(stuck, 20_000, 'stuck backup'));
    assert.equal((server.get(V, 'backups', 'velero', 'pvbench-run1-t1-b1')?.status as { phase: string }).phase, 'InProgress');
    const rec = await within(tool.recover(), 20_000, 'recover');
    assert.ok(rec.actions.includes('abandoned backup pvbench-run1-t1-b1: ended PartiallyFailed after its transfers were cancelled'), rec.actions.join('; '));
    assert.ok(rec.actions.includes('deleted PartiallyFailed backup pvbench-run1-t1-b1 and its data'), rec.actions.join('; '));
    assert.equal(rec.staleLocks, 2);
    assert.equal(server.get(V, 'backups', 'velero', 'pvbench-run1-t1-b1'), undefined);
    plan = 'complete';
    assert.equal((await within(tool.backup(source), 20_000, 'retry')).snapshotId, 'pvbench-run1-t1-b2');
  } finally {
    off();
  }
  await tool.cleanup();
});

test('after a node outage, recovery waits for Velero pods Ready again since the outage and a re-validated storage location', async () => {
  const tool = await newTool();
  const stale = '2026-01-01T00:00:00Z';
  const readyAt = (at: string) => ({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: at }] });
  const veleroPods = () => server.list('v1', 'pods', 'velero').filter((p) => ['velero', 'node-agent'].includes(labelsOf(p).deploy ?? labelsOf(p).name ?? ''));
  for (const p of veleroPods()) server.setStatus('v1', 'pods', 'velero', (p.metadata as { name: string }).name, readyAt(stale));
  const bsl = 'pvbench-run1-t1';
  server.setStatus(V, 'backupstoragelocations', 'velero', bsl, { phase: 'Available', lastValidationTime: stale });
  const since = Date.now();
  let done = false;
  const rec = tool.recover({ since }).finally(() => (done = true));
  // The deployment and daemon set say ready (their status is stale after a node restart): not enough.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(done, false, 'recovery must wait for pods that became Ready after the outage');
  for (const p of veleroPods()) server.setStatus('v1', 'pods', 'velero', (p.metadata as { name: string }).name, readyAt(new Date(since + 1000).toISOString()));
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(done, false, 'recovery must wait for the storage location to be validated after the outage');
  server.setStatus(V, 'backupstoragelocations', 'velero', bsl, { phase: 'Available', lastValidationTime: new Date(since + 2000).toISOString() });
  const report = await within(rec, 20_000, 'recover after a node outage');
  assert.ok(report.actions.some((a) => /^Velero server pod velero-7c9d and node-agent pods? node-agent-\w+ Ready again since the outage after \d+\.\d s$/.test(a)), report.actions.join('; '));
  assert.ok(report.actions.includes(`BackupStorageLocation velero/${bsl} validated Available again since the outage`), report.actions.join('; '));
  await tool.cleanup();
});

test('recovery cancels orphaned PodVolumeBackups of an ended backup (the stale locks)', async () => {
  const tool = await newTool();
  const out = await within(tool.backup(source), 20_000, 'backup');
  // An InProgress PodVolumeBackup left behind by a dead node agent for a backup that has ended.
  server.put(pvb(out.snapshotId, 'proxy-9', 'InProgress', 10));
  const rec = await within(tool.recover(), 20_000, 'recover');
  assert.equal(rec.staleLocks, 1);
  assert.ok(rec.actions.some((a) => a.startsWith(`cancelled orphaned podvolumebackup ${out.snapshotId}-proxy-9`)));
  assert.equal((server.get(V, 'podvolumebackups', 'velero', `${out.snapshotId}-proxy-9`)!.spec as { cancel?: boolean }).cancel, true);
  await tool.cleanup();
});

test('restore maps the backed-up namespace into the target; check reads the BackupRepository and latest backup', async () => {
  const tool = await newTool();
  const b = await within(tool.backup(source), 20_000, 'backup');
  const r = await within(tool.restore(b.snapshotId, target), 20_000, 'restore');
  assert.equal(r.metrics.bytesProcessed, 2000);
  const restore = server.get(V, 'restores', 'velero', 'pvbench-run1-t1-r2')!;
  assert.deepEqual((restore.spec as { namespaceMapping: unknown }).namespaceMapping, { 'pvbench-t1': 'pvbench-t1-restore-0' });
  assert.equal((restore.spec as { backupName: string }).backupName, b.snapshotId);
  assert.ok(server.get('v1', 'persistentvolumeclaims', 'pvbench-t1-restore-0', 'proxy-0'));
  await assert.rejects(tool.restore('no-such-backup', target), /no Velero backup velero\/no-such-backup/);

  server.put({ apiVersion: V, kind: 'BackupRepository', metadata: { name: 'pvbench-t1-pvbench-run1-t1-kopia-x', namespace: 'velero' }, spec: { backupStorageLocation: 'pvbench-run1-t1', maintenanceFrequency: '1h0m0s', volumeNamespace: 'pvbench-t1', repositoryType: 'kopia', resticIdentifier: '' }, status: { phase: 'Ready' } });
  let check = await tool.check();
  assert.equal(check.ok, true, check.output);
  assert.match(check.output, /BackupRepository pvbench-t1-pvbench-run1-t1-kopia-x: Ready/);
  assert.match(check.output, /2\/2 podvolumebackups Completed/);
  server.setStatus(V, 'backuprepositories', 'velero', 'pvbench-t1-pvbench-run1-t1-kopia-x', { phase: 'NotReady', message: 'error to connect backup repo: invalid repository format' });
  check = await tool.check();
  assert.equal(check.ok, false);
  const rec = await tool.recover();
  assert.ok(rec.actions.some((a) => /deleted NotReady BackupRepository/.test(a)));
  await tool.cleanup();
});

test('repository size and corruption go through a pod with the location\'s credentials', async () => {
  const tool = await newTool();
  await within(tool.backup(source), 20_000, 'backup');
  const size = await within(tool.repositorySize(), 20_000, 'size');
  assert.equal(size, 5000);
  let seq = 0;
  const corrupted = await within(tool.corruptRepository(3, () => [0.1, 0.5, 0.9][seq++ % 3]!), 20_000, 'corrupt');
  assert.match(corrupted.description, /^flipped 3 bit\(s\) in 1 kopia pack blob\(s\) of 1 in object storage$/);
  const s3 = server.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/namespaces/velero/pods').map((r) => r.body as KubeObject);
  const pod = s3[s3.length - 1]!;
  const spec = pod.spec as { containers: { env: { name: string; value: string }[] }[]; volumes: { secret: { secretName: string } }[] };
  assert.equal(spec.volumes[0]!.secret.secretName, 'cloud-credentials');
  assert.deepEqual(spec.containers[0]!.env.find((e) => e.name === 'S3_ENDPOINT'), { name: 'S3_ENDPOINT', value: 'http://minio.minio.svc:9000' });
  assert.equal(server.list('v1', 'pods', 'velero', { labelSelector: 'pvbench.dev/role=repository' }).length, 0, 'helper pods are deleted');
  await tool.cleanup();
});

test('transferDone: all bytes reported ends the transfer whatever the phase says; no total yet is not done', () => {
  const op = (progress: Record<string, number>, phase = 'InProgress') => ({ apiVersion: V, kind: 'PodVolumeBackup', metadata: { name: 'x' }, status: { phase, progress } });
  assert.equal(transferDone(op({ bytesDone: 1000, totalBytes: 1000 })), true);
  assert.equal(transferDone(op({ bytesDone: 999, totalBytes: 1000 })), false);
  assert.equal(transferDone(op({ bytesDone: 52354 })), false);
  assert.equal(transferDone(op({})), false);
});

test('operationProgress: phases, items and bytes', () => {
  assert.equal(operationProgress(undefined, [], 2), 0);
  const b = (phase: string, items = 0) => ({ metadata: { name: 'b' }, status: { phase, progress: { totalItems: 4, itemsBackedUp: items } } });
  assert.equal(operationProgress(b('Completed'), [], 2), 1);
  assert.equal(operationProgress(b('InProgress', 2), [], 0), 0.5);
  const done = { metadata: {}, status: { phase: 'Completed' } };
  assert.ok(Math.abs(operationProgress(b('InProgress', 4), [done], 2) - (0.1 + 0.45)) < 1e-9);
});
