// Preflight messages: what is missing and how to fix it (missing CRDs, storage class, snapshot class, permissions).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFake } from './helpers.ts';
import { checkApis, checkSnapshotClass, checkStorageClass, formatProblems, platformPreflight, PreflightError } from '../../src/platform/kubernetes/preflight.ts';
import { csiHostpathSnapshotClass, csiHostpathStorageClass } from '../../src/tools/csi-snapshot-objects.ts';
import { VeleroTool } from '../../src/tools/velero.ts';
import { CsiSnapshotTool } from '../../src/tools/csi-snapshot.ts';
import { KubestashTool } from '../../src/tools/kubestash.ts';
import { K10Tool } from '../../src/tools/k10.ts';
import { kubernetesPlatformSchema } from '../../src/config/schema.ts';
import type { KubeToolContext } from '../../src/platform/kubernetes/context.ts';
import type { Kube } from '../../src/platform/kubernetes/client.ts';
import { ResourceSampler } from '../../src/platform/kubernetes/resources.ts';

const defaultSc = { ...csiHostpathStorageClass(), metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'rancher.io/local-path' };

function toolCtx(kube: Kube, provisioner = 'hostpath.csi.k8s.io'): KubeToolContext {
  const config = kubernetesPlatformSchema.parse({ kind: 'kubernetes', cluster: { mode: 'existing' } });
  return {
    kube,
    runId: 'run1',
    config,
    storageClass: () => ({ name: 'csi-hostpath-sc', provisioner }),
    timeouts: { backupMs: 10_000, restoreMs: 10_000, readyMs: 10_000 },
    log: () => undefined,
    sampler: (t) => new ResourceSampler(kube, t, { source: 'none' }),
    podImage: 'node:24-slim',
    volumeSize: () => '256Mi',
  };
}

test('a missing CRD is named with the fix', async () => {
  const { server, kube } = await startFake({ crds: [] });
  try {
    const problems = await checkApis(kube, [{ apiVersion: 'velero.io/v1', plural: 'backups', fix: 'install Velero' }]);
    assert.equal(problems.length, 1);
    assert.match(formatProblems(problems), /missing: the API velero\.io\/v1 is not served, so backups \(CRD backups\.velero\.io\) cannot be used\. Fix: install Velero/);

    const velero = await new VeleroTool({ type: 'velero-fs', options: {} }, toolCtx(kube)).probe();
    assert.equal(velero.ok, false);
    assert.match(velero.ok ? '' : velero.reason, /backups\.velero\.io/);
    assert.match(velero.ok ? '' : velero.reason, /podvolumebackups\.velero\.io/);
    assert.match(velero.ok ? '' : velero.reason, /Fix: install Velero with the node agent/);

    const csi = await new CsiSnapshotTool({ type: 'csi-snapshot', options: {} }, toolCtx(kube)).probe();
    assert.equal(csi.ok, false);
    assert.match(csi.ok ? '' : csi.reason, /volumesnapshots\.snapshot\.storage\.k8s\.io.*external-snapshotter/);

    const stash = await new KubestashTool({ type: 'kubestash', options: {} }, toolCtx(kube)).probe();
    assert.match(stash.ok ? '' : stash.reason, /^KubeStash is not installed: .*backupconfigurations\.core\.kubestash\.com/);
    const k10 = await new K10Tool({ type: 'k10', options: {} }, toolCtx(kube)).probe();
    assert.match(k10.ok ? '' : k10.reason, /^Kasten K10 is not installed: .*actions\.kio\.kasten\.io/);
  } finally {
    await server.close();
  }
});

test('KubeStash with its CRDs present is reported as detected but not driven', async () => {
  const { server, kube } = await startFake();
  try {
    const stash = await new KubestashTool({ type: 'kubestash', options: {} }, toolCtx(kube)).probe();
    assert.equal(stash.ok, false);
    assert.match(stash.ok ? '' : stash.reason, /KubeStash is installed, but pvbench does not drive it yet/);
    await assert.rejects(new KubestashTool({ type: 'kubestash', options: {} }, toolCtx(kube)).backup(), /does not drive it yet/);
  } finally {
    await server.close();
  }
});

test('storage class: a named class that does not exist, no default, a default', async () => {
  const { server, kube } = await startFake();
  try {
    let r = await checkStorageClass(kube, undefined);
    assert.match(formatProblems(r.problems), /missing: a default storage class \(the cluster has no storage class at all\)\. Fix: set platform\.storageClass/);
    server.put(defaultSc);
    r = await checkStorageClass(kube, 'fast-ssd');
    assert.match(formatProblems(r.problems), /missing: storage class "fast-ssd" \(the cluster has: standard\)\. Fix: set platform\.storageClass to an existing class/);
    r = await checkStorageClass(kube, undefined);
    assert.equal(r.storageClass?.metadata.name, 'standard');
    assert.deepEqual(r.problems, []);
  } finally {
    await server.close();
  }
});

test('snapshot class: missing for the driver, wrong driver, found', async () => {
  const { server, kube } = await startFake();
  try {
    let r = await checkSnapshotClass(kube, undefined, 'hostpath.csi.k8s.io');
    assert.match(formatProblems(r.problems), /a VolumeSnapshotClass for driver hostpath\.csi\.k8s\.io \(the cluster has: none\)/);
    server.put({ ...csiHostpathSnapshotClass(), metadata: { name: 'other' }, driver: 'ebs.csi.aws.com' });
    r = await checkSnapshotClass(kube, 'other', 'hostpath.csi.k8s.io');
    assert.match(formatProblems(r.problems), /"other" is for ebs\.csi\.aws\.com/);
    server.put(csiHostpathSnapshotClass());
    r = await checkSnapshotClass(kube, undefined, 'hostpath.csi.k8s.io');
    assert.equal(r.snapshotClass?.metadata.name, 'csi-hostpath-snapclass');
  } finally {
    await server.close();
  }
});

test('denied permissions are named with the verb, resource, namespace and an RBAC fix', async () => {
  const { server, kube } = await startFake({ deny: [{ verb: 'create', resource: 'namespaces' }, { verb: 'get', resource: 'pods', subresource: 'log' }] });
  try {
    server.put(defaultSc);
    const r = await platformPreflight(kube, { namespace: 'pvbench' });
    assert.equal(r.ok, false);
    const text = formatProblems(r.problems);
    assert.match(text, /missing: permission to create namespaces cluster-wide \(needed to create one namespace per volume set\).*Fix: grant it, e\.g\. a ClusterRole\/ClusterRoleBinding with apiGroups: \[""\], resources: \["namespaces"\], verbs: \["create"\]/);
    assert.match(text, /permission to get pods\/log in namespace pvbench \(needed to read verifier output\)/);
    assert.equal(r.problems.length, 2, text);
    const err = new PreflightError('the cluster is not ready', r.problems);
    assert.match(err.message, /2 problem\(s\)/);
  } finally {
    await server.close();
  }
});

test('Velero present but without the node agent, a default location, or the CSI class label', async () => {
  const { server, kube } = await startFake({ namespaces: ['velero'] });
  try {
    server.put({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'velero', namespace: 'velero' }, spec: { selector: { matchLabels: { deploy: 'velero' } }, template: { metadata: { labels: { deploy: 'velero' } }, spec: { containers: [{ name: 'velero', image: 'velero/velero:v1.17.0' }] } } } });
    const fs = await new VeleroTool({ type: 'velero-fs', options: {} }, toolCtx(kube)).probe();
    const reason = fs.ok ? '' : fs.reason;
    assert.match(reason, /missing: Velero's node agent \(DaemonSet velero\/node-agent\)\. Fix: re-run velero install with --use-node-agent/);
    assert.match(reason, /missing: a default BackupStorageLocation in namespace velero \(there: none\)/);

    server.put({ apiVersion: 'velero.io/v1', kind: 'BackupStorageLocation', metadata: { name: 'default', namespace: 'velero' }, spec: { provider: 'aws', default: true, objectStorage: { bucket: 'velero', prefix: 'velero' } } });
    server.put({ ...csiHostpathSnapshotClass(), metadata: { name: 'csi-hostpath-snapclass', annotations: { 'snapshot.storage.kubernetes.io/is-default-class': 'true' } } });
    const csi = await new VeleroTool({ type: 'velero-csi', options: {} }, toolCtx(kube)).probe();
    assert.match(csi.ok ? '' : csi.reason, /the label velero\.io\/csi-volumesnapshot-class: "true" on VolumeSnapshotClass csi-hostpath-snapclass.*kubectl label volumesnapshotclass csi-hostpath-snapclass velero\.io\/csi-volumesnapshot-class=true/);
    server.put(csiHostpathSnapshotClass());
    const ok = await new VeleroTool({ type: 'velero-csi', options: {} }, toolCtx(kube)).probe();
    assert.deepEqual(ok, { ok: true, version: 'v1.17.0 (CSI snapshots)' });
  } finally {
    await server.close();
  }
});
