// The CSI snapshot adapter against the fake API server, with the test playing the snapshot controller, the CSI
// driver and the PV binder: readyToUse, errors, restore into another namespace via a Retain content copy, crash.
import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { fakeKubelet, labelsOf, startFake, toolContext, within } from './helpers.ts';
import type { KubeObject } from '../fake-apiserver/server.ts';
import type { KubeToolContext } from '../../src/platform/kubernetes/context.ts';
import { RESULT_PREFIX, setLocation } from '../../src/platform/kubernetes/objects.ts';
import { csiHostpathSnapshotClass } from '../../src/tools/csi-snapshot-objects.ts';
import { CsiSnapshotTool, parsePodTargets } from '../../src/tools/csi-snapshot.ts';
import { ToolError } from '../../src/tools/types.ts';
import type { VolumeSet } from '../../src/platform/types.ts';

const S = 'snapshot.storage.k8s.io/v1';
const fake = await startFake({ namespaces: ['pvbench-t1', 'pvbench-t1-restore-0', 'pvbench-t1-restore-1'], nodes: ['node-1'] });
after(() => fake.server.close());
const { server, kube } = fake;
const offKubelet = fakeKubelet(server, {
  task: (pod) => {
    const cmd = (pod.spec as { containers: { command: string[] }[] }).containers[0]!.command;
    // The corruption pod on the driver's node: report the actions as done.
    if (cmd[1] === '-e') return { log: `${RESULT_PREFIX}${JSON.stringify((JSON.parse(cmd[4]!) as object[]).map((a) => ({ ...a, ok: true })))}\n` };
    return {};
  },
});
after(offKubelet);

const VOLUMES = ['proxy-0', 'proxy-1'];
const source: VolumeSet = { id: 't1', location: setLocation('pvbench-t1', 't1'), volumes: VOLUMES };
const target = (n: number): VolumeSet => ({ id: `t1-restore-${n}`, location: setLocation(`pvbench-t1-restore-${n}`, `t1-restore-${n}`), volumes: VOLUMES });

server.put(csiHostpathSnapshotClass());
server.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'csi-hostpathplugin-0', namespace: 'default', labels: { 'app.kubernetes.io/name': 'csi-hostpathplugin' } }, spec: { nodeName: 'node-1', containers: [{ name: 'hostpath', image: 'registry.k8s.io/sig-storage/hostpathplugin:v1.15.0' }] }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
for (const v of VOLUMES) server.put({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: v, namespace: 'pvbench-t1' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '256Mi' } } }, status: { phase: 'Bound' } });

// --- snapshot controller + driver, played by the test ---------------------------------------------------------------

let failSnapshots = false;
let holdSnapshots = false;
let handles = 0;
const now = () => new Date().toISOString();

server.onCreate(S, 'volumesnapshots', (vs, ctx) => {
  if (ctx.source !== 'api') return;
  const meta = vs.metadata as { name: string; namespace: string };
  const src = (vs.spec as { source: { persistentVolumeClaimName?: string; volumeSnapshotContentName?: string } }).source;
  if (src.volumeSnapshotContentName) {
    server.setStatus(S, 'volumesnapshots', meta.namespace, meta.name, { boundVolumeSnapshotContentName: src.volumeSnapshotContentName, readyToUse: true, restoreSize: '256Mi', creationTime: now() });
    return;
  }
  if (failSnapshots) {
    server.setStatus(S, 'volumesnapshots', meta.namespace, meta.name, { readyToUse: false, error: { message: 'Failed to create snapshot: rpc error: code = Internal desc = disk full', time: now() } });
    return;
  }
  if (holdSnapshots) {
    server.setStatus(S, 'volumesnapshots', meta.namespace, meta.name, { readyToUse: false });
    return;
  }
  const content = `snapcontent-${meta.name}`;
  server.put({
    apiVersion: S,
    kind: 'VolumeSnapshotContent',
    metadata: { name: content },
    spec: { deletionPolicy: 'Delete', driver: 'hostpath.csi.k8s.io', source: { volumeHandle: `vol-${meta.name}` }, volumeSnapshotClassName: 'csi-hostpath-snapclass', volumeSnapshotRef: { kind: 'VolumeSnapshot', name: meta.name, namespace: meta.namespace } },
    status: { readyToUse: true, snapshotHandle: `handle-${++handles}`, restoreSize: 268435456, creationTime: Date.now() * 1e6 },
  });
  server.setStatus(S, 'volumesnapshots', meta.namespace, meta.name, { boundVolumeSnapshotContentName: content, readyToUse: true, restoreSize: '256Mi', creationTime: now() });
});

server.onCreate('v1', 'persistentvolumeclaims', (claim, ctx) => {
  if (ctx.source !== 'api') return;
  const meta = claim.metadata as { name: string; namespace: string };
  server.setStatus('v1', 'persistentvolumeclaims', meta.namespace, meta.name, { phase: 'Bound', capacity: { storage: '256Mi' } });
});

function ctx(): KubeToolContext {
  return toolContext(kube, { timeoutMs: 10_000, volumeSize: '128Mi' });
}

let current: CsiSnapshotTool | undefined;
afterEach(async () => {
  failSnapshots = false;
  holdSnapshots = false;
  await current?.cleanup();
  current = undefined;
});

async function newTool(options: Record<string, string | number | boolean> = {}): Promise<CsiSnapshotTool> {
  const tool = new CsiSnapshotTool({ type: 'csi-snapshot', options }, ctx());
  current = tool;
  const probe = await tool.probe();
  assert.deepEqual(probe, { ok: true, version: 'snapshot.storage.k8s.io/v1 (driver hostpath.csi.k8s.io, class csi-hostpath-snapclass)' });
  await tool.init('t1');
  return tool;
}

test('pod targets parse from "ns/selector" lists', () => {
  assert.deepEqual(parsePodTargets('kube-system/app=a, default/x=y,z'), [
    { namespace: 'kube-system', labelSelector: 'app=a' },
    { namespace: 'default', labelSelector: 'x=y' },
    { namespace: 'z' },
  ]);
});

test('backup: one VolumeSnapshot per PVC, ready when readyToUse; restore into another namespace through content copies', async () => {
  const tool = await newTool();
  const b = await within(tool.backup(source), 10_000, 'backup');
  assert.equal(b.snapshotId, 't1-s1');
  assert.equal(b.metrics.bytesProcessed, 2 * 256 * 2 ** 20);
  for (const v of VOLUMES) {
    const vs = server.get(S, 'volumesnapshots', 'pvbench-t1', `t1-s1-${v}`)!;
    assert.deepEqual((vs.spec as { source: unknown }).source, { persistentVolumeClaimName: v });
    assert.equal((vs.spec as { volumeSnapshotClassName: string }).volumeSnapshotClassName, 'csi-hostpath-snapclass');
    assert.equal(labelsOf(vs)['pvbench.dev/run'], 'run1');
  }
  assert.deepEqual(await tool.snapshots(), ['t1-s1']);

  const r = await within(tool.restore(b.snapshotId, target(0)), 10_000, 'restore');
  assert.equal(r.metrics.bytesProcessed, 2 * 256 * 2 ** 20);
  for (const v of VOLUMES) {
    const claim = server.get('v1', 'persistentvolumeclaims', 'pvbench-t1-restore-0', v)!;
    const spec = claim.spec as { dataSource: { name: string }; resources: { requests: { storage: string } } };
    assert.equal(spec.dataSource.name, `t1-s1-${v}`);
    assert.equal(spec.resources.requests.storage, '256Mi', 'at least the snapshot size');
    const copy = server.get(S, 'volumesnapshots', 'pvbench-t1-restore-0', `t1-s1-${v}`)!;
    const contentName = (copy.spec as { source: { volumeSnapshotContentName: string } }).source.volumeSnapshotContentName;
    const content = server.get(S, 'volumesnapshotcontents', undefined, contentName)!;
    const cs = content.spec as { deletionPolicy: string; source: { snapshotHandle: string }; volumeSnapshotRef: { namespace: string } };
    assert.equal(cs.deletionPolicy, 'Retain');
    assert.match(cs.source.snapshotHandle, /^handle-\d+$/);
    assert.equal(cs.volumeSnapshotRef.namespace, 'pvbench-t1-restore-0');
    assert.equal(((server.get('v1', 'pods', 'pvbench-t1-restore-0', v)!.status as { phase: string }).phase), 'Running', 'the proxies come back with their volumes');
  }
  const check = await tool.check();
  assert.equal(check.ok, true, check.output);
  assert.match(check.output, /CSI snapshots carry no checksums/);
  assert.equal(await tool.repositorySize(), 2 * 256 * 2 ** 20);
  await tool.cleanup();
  assert.equal(server.list(S, 'volumesnapshotcontents', undefined, { labelSelector: 'pvbench.dev/run=run1' }).length, 0, 'content copies removed');
  assert.equal(server.list(S, 'volumesnapshots', 'pvbench-t1').length, 0);
});

test('a lasting snapshot error fails the backup; recovery deletes the unready snapshots', async () => {
  const tool = await newTool({ errorGraceSeconds: 0 });
  failSnapshots = true;
  await assert.rejects(within(tool.backup(source), 10_000, 'failing backup'), (e: unknown) => e instanceof ToolError && /VolumeSnapshot pvbench-t1\/t1-s1-proxy-\d failed: Failed to create snapshot: rpc error: code = Internal desc = disk full/.test(e.message));
  assert.deepEqual(await tool.snapshots(), []);
  const rec = await within(tool.recover(), 10_000, 'recover');
  assert.equal(rec.staleLocks, 2);
  assert.ok(rec.actions.some((a) => /deleted unready VolumeSnapshot pvbench-t1\/t1-s1-proxy-0 \(Failed to create snapshot/.test(a)), rec.actions.join('; '));
  failSnapshots = false;
  const retry = await within(tool.backup(source), 10_000, 'retry');
  assert.deepEqual(await tool.snapshots(), [retry.snapshotId]);
});

test('crash: the CSI driver pod is deleted mid-snapshot', async () => {
  const tool = await newTool();
  holdSnapshots = true;
  let killed = '';
  const p = tool.backup(source, {
    onStart: (op) => {
      void op.kill().then((k) => {
        killed = k;
        // The driver comes back and finishes the snapshots.
        server.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'csi-hostpathplugin-0', namespace: 'default', labels: { 'app.kubernetes.io/name': 'csi-hostpathplugin' } }, spec: { nodeName: 'node-1', containers: [{ name: 'hostpath', image: 'x' }] }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
        for (const v of VOLUMES) server.setStatus(S, 'volumesnapshots', 'pvbench-t1', `t1-s1-${v}`, { readyToUse: true, restoreSize: '256Mi', boundVolumeSnapshotContentName: 'x' });
      });
    },
  });
  await within(p, 10_000, 'backup with a crash');
  assert.equal(killed, 'deleted CSI driver pod(s) default/csi-hostpathplugin-0 (snapshot, 0/2 ready)');
});

test('corrupt-repository reaches hostpath snapshot files on the driver node, and refuses other drivers', async () => {
  const tool = await newTool();
  await within(tool.backup(source), 10_000, 'backup');
  const seq = [0.2, 0.7, 0.4, 0.1, 0.9, 0.3];
  let i = 0;
  const done = await within(tool.corruptRepository(2, () => seq[i++ % seq.length]!), 10_000, 'corrupt');
  assert.match(done.description, /^flipped 2 bit\(s\) in [12] hostpath snapshot file\(s\) on node-1$/);
  const pod = server.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/namespaces/pvbench-t1/pods').map((r) => r.body as KubeObject).pop()!;
  const spec = pod.spec as { nodeName: string; volumes: { hostPath: { path: string } }[]; containers: { command: string[] }[] };
  assert.equal(spec.nodeName, 'node-1');
  assert.equal(spec.volumes[0]!.hostPath.path, '/var/lib/csi-hostpath-data');
  assert.match(spec.containers[0]!.command[4]!, /"path":"handle-\d+\.snap"/);

  for (const c of server.list(S, 'volumesnapshotcontents')) server.update(S, 'volumesnapshotcontents', undefined, (c.metadata as { name: string }).name, (d) => void ((d.spec as { driver: string }).driver = 'rbd.csi.ceph.com'));
  await assert.rejects(tool.corruptRepository(1, () => 0.5), /only for the CSI hostpath driver; these snapshots belong to rbd\.csi\.ceph\.com/);
});
