// The fake API server driven by @kubernetes/client-node itself, the way the Kubernetes adapters use it.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import {
  KubeConfig,
  CoreV1Api,
  CustomObjectsApi,
  AuthorizationV1Api,
  ApiextensionsV1Api,
  BatchV1Api,
  KubernetesObjectApi,
  Watch,
  Exec,
  Metrics,
  makeInformer,
  setHeaderOptions,
  PatchStrategy,
  ApiException,
} from '@kubernetes/client-node';
import type { KubernetesObject, V1Status } from '@kubernetes/client-node';
import { startFakeApiServer } from './server.ts';
import type { FakeApiServer } from './server.ts';

let server: FakeApiServer;
let kc: KubeConfig;

before(async () => {
  server = await startFakeApiServer({ namespaces: ['velero', 'app'], nodes: ['node-1'], metricsApi: true });
  kc = new KubeConfig();
  kc.loadFromString(server.kubeconfigYaml());
});
after(async () => {
  await server.close();
});

type Obj = KubernetesObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };

function backup(name: string, labels: Record<string, string> = {}): Obj {
  return { apiVersion: 'velero.io/v1', kind: 'Backup', metadata: { name, namespace: 'velero', labels }, spec: { includedNamespaces: ['app'], storageLocation: 'default', ttl: '1h0m0s' } };
}

async function apiError(p: Promise<unknown>): Promise<{ code: number; body: { reason?: string; message?: string; details?: { causes?: { field: string }[] } } }> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ApiException, `expected ApiException, got ${String(e)}`);
    return { code: e.code, body: typeof e.body === 'string' ? JSON.parse(e.body) : e.body };
  }
  assert.fail('expected the call to fail');
}

function until<T>(what: string, fn: () => T | undefined, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const tick = () => {
      const v = fn();
      if (v !== undefined && v !== false) return resolve(v);
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

describe('@kubernetes/client-node against the fake API server', () => {
  test('CoreV1Api: namespaces, PVCs with label selectors, errors as ApiException with a Status body', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const names = (await core.listNamespace()).items.map((n) => n.metadata?.name);
    assert.ok(names.includes('app') && names.includes('default'));
    await core.createNamespacedPersistentVolumeClaim({
      namespace: 'app',
      body: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data-0', labels: { app: 'mesh' } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
    });
    const pvcs = await core.listNamespacedPersistentVolumeClaim({ namespace: 'app', labelSelector: 'app=mesh' });
    assert.deepEqual(pvcs.items.map((p) => [p.metadata?.name, p.status?.phase]), [['data-0', 'Pending']]);
    const dup = await apiError(core.createNamespacedPersistentVolumeClaim({ namespace: 'app', body: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data-0' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } }));
    assert.equal(dup.code, 409);
    assert.equal(dup.body.reason, 'AlreadyExists');
    const missing = await apiError(core.readNamespacedPod({ namespace: 'app', name: 'nope' }));
    assert.equal(missing.code, 404);
    const nons = await apiError(core.createNamespacedConfigMap({ namespace: 'ghost', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } } }));
    assert.equal(nons.code, 404);
    const node = await core.readNode({ name: 'node-1' });
    assert.equal(node.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  });

  test('CustomObjectsApi: create, get, list by label, merge patch, status; 422 with causes', async () => {
    const co = kc.makeApiClient(CustomObjectsApi);
    const created = (await co.createNamespacedCustomObject({ group: 'velero.io', version: 'v1', namespace: 'velero', plural: 'backups', body: backup('cn-1', { 'pvbench.io/run': 'r1' }) })) as Obj;
    assert.equal(created.metadata?.generation, 1);
    const list = (await co.listNamespacedCustomObject({ group: 'velero.io', version: 'v1', namespace: 'velero', plural: 'backups', labelSelector: 'pvbench.io/run=r1' })) as { items: Obj[] };
    assert.deepEqual(list.items.map((i) => i.metadata?.name), ['cn-1']);
    const patched = (await co.patchNamespacedCustomObject(
      { group: 'velero.io', version: 'v1', namespace: 'velero', plural: 'backups', name: 'cn-1', body: { spec: { ttl: '2h0m0s' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as Obj;
    assert.equal(patched.spec?.ttl, '2h0m0s');
    const invalid = await apiError(co.createNamespacedCustomObject({ group: 'velero.io', version: 'v1', namespace: 'velero', plural: 'backups', body: { ...backup('cn-bad'), spec: { ttl: 5 } } }));
    assert.equal(invalid.code, 422);
    assert.deepEqual(invalid.body.details?.causes?.map((c) => c.field), ['spec.ttl']);

    const vs = { apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshot', metadata: { name: 'snap', namespace: 'app' }, spec: { volumeSnapshotClassName: 'csi', source: { persistentVolumeClaimName: 'data-0' } } };
    const snap = (await co.createNamespacedCustomObject({ group: 'snapshot.storage.k8s.io', version: 'v1', namespace: 'app', plural: 'volumesnapshots', body: vs })) as Obj;
    const withStatus = (await co.replaceNamespacedCustomObjectStatus({
      group: 'snapshot.storage.k8s.io', version: 'v1', namespace: 'app', plural: 'volumesnapshots', name: 'snap',
      body: { ...snap, status: { readyToUse: true, restoreSize: '1Gi' } },
    })) as Obj;
    assert.deepEqual(withStatus.status, { readyToUse: true, restoreSize: '1Gi' });
    const conflict = await apiError(co.replaceNamespacedCustomObject({ group: 'snapshot.storage.k8s.io', version: 'v1', namespace: 'app', plural: 'volumesnapshots', name: 'snap', body: snap }));
    assert.equal(conflict.code, 409);
    await co.deleteNamespacedCustomObject({ group: 'snapshot.storage.k8s.io', version: 'v1', namespace: 'app', plural: 'volumesnapshots', name: 'snap' });
    assert.equal(server.get('snapshot.storage.k8s.io/v1', 'VolumeSnapshot', 'app', 'snap'), undefined);
  });

  test('KubernetesObjectApi resolves plurals through discovery', async () => {
    const oa = KubernetesObjectApi.makeApiClient(kc);
    const created = await oa.create(backup('oa-1'));
    assert.equal(created.metadata?.name, 'oa-1');
    const read = await oa.read({ apiVersion: 'velero.io/v1', kind: 'Backup', metadata: { name: 'oa-1', namespace: 'velero' } });
    assert.equal(read.metadata?.uid, created.metadata?.uid);
    const patched = await oa.patch({ apiVersion: 'velero.io/v1', kind: 'Backup', metadata: { name: 'oa-1', namespace: 'velero', labels: { x: 'y' } } }, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    assert.deepEqual(patched.metadata?.labels, { x: 'y' });
    const listed = await oa.list('velero.io/v1', 'Backup', 'velero');
    assert.ok(listed.items.some((i) => i.metadata?.name === 'oa-1'));
    await oa.delete({ apiVersion: 'velero.io/v1', kind: 'Backup', metadata: { name: 'oa-1', namespace: 'velero' } });
    const sc = await oa.create({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'fast' }, provisioner: 'hostpath.csi.k8s.io' } as KubernetesObject);
    assert.equal(sc.metadata?.name, 'fast');
  });

  test('Watch delivers ADDED/MODIFIED/DELETED in order and ends cleanly on dropWatches', async () => {
    const co = kc.makeApiClient(CustomObjectsApi);
    const events: string[] = [];
    let doneErr: unknown = 'not done';
    const w = new Watch(kc);
    const rv = server.resourceVersion();
    await w.watch('/apis/velero.io/v1/namespaces/velero/backups', { resourceVersion: rv }, (type, obj: Obj) => events.push(`${type} ${obj.metadata?.name}`), (err) => {
      doneErr = err;
    });
    await co.createNamespacedCustomObject({ group: 'velero.io', version: 'v1', namespace: 'velero', plural: 'backups', body: backup('w-1') });
    server.setStatus('velero.io/v1', 'Backup', 'velero', 'w-1', { phase: 'Completed' });
    await co.deleteNamespacedCustomObject({ group: 'velero.io', version: 'v1', namespace: 'velero', plural: 'backups', name: 'w-1' });
    await until('three events', () => events.length >= 3);
    assert.deepEqual(events, ['ADDED w-1', 'MODIFIED w-1', 'DELETED w-1']);
    assert.ok(server.dropWatches() >= 1);
    await until('watch done', () => doneErr !== 'not done');
    assert.equal(doneErr, null);
  });

  test('an informer relists after dropped watches and after a 410 from a compacted history', async () => {
    const co = kc.makeApiClient(CustomObjectsApi);
    const path = '/apis/velero.io/v1/namespaces/velero/backups';
    const informer = makeInformer<Obj>(kc, path, () => co.listNamespacedCustomObject({ group: 'velero.io', version: 'v1', namespace: 'velero', plural: 'backups', labelSelector: 'inf=yes' }) as never, 'inf=yes');
    const seen = new Set<string>();
    informer.on('add', (o) => seen.add(o.metadata!.name!));
    informer.on('error', () => undefined);
    await informer.start();
    try {
      await co.createNamespacedCustomObject({ group: 'velero.io', version: 'v1', namespace: 'velero', plural: 'backups', body: backup('inf-1', { inf: 'yes' }) });
      await until('inf-1', () => seen.has('inf-1'));
      server.dropWatches();
      await co.createNamespacedCustomObject({ group: 'velero.io', version: 'v1', namespace: 'velero', plural: 'backups', body: backup('inf-2', { inf: 'yes' }) });
      await until('inf-2 after reconnect', () => seen.has('inf-2'));
      await until('re-established watch', () => server.openWatches() > 0 || undefined);
      const lists = () => server.requests.filter((r) => r.verb === 'list' && r.path === path && r.query.labelSelector === 'inf=yes').length;
      assert.equal(lists(), 1);
      // a write elsewhere, then compaction: the informer's resourceVersion is now too old
      server.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'elsewhere', namespace: 'app' } });
      server.compact();
      server.dropWatches();
      server.put(backup('inf-3', { inf: 'yes' }));
      await until('inf-3 after relist', () => seen.has('inf-3'), 10_000);
      assert.equal(lists(), 2, 'the 410 made the informer list again');
      assert.deepEqual(informer.list('velero').map((o) => o.metadata?.name).sort(), ['inf-1', 'inf-2', 'inf-3']);
    } finally {
      await informer.stop();
    }
  });

  test('SelfSubjectAccessReview, CRD presence, Job creation, pod logs, metrics API', async () => {
    server.setDeny([{ verb: 'create', group: 'velero.io', resource: 'restores', namespace: 'velero' }]);
    const authz = kc.makeApiClient(AuthorizationV1Api);
    const ask = async (verb: string, group: string, resource: string) =>
      (await authz.createSelfSubjectAccessReview({ body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb, group, resource, namespace: 'velero' } } } })).status?.allowed;
    assert.equal(await ask('create', 'velero.io', 'backups'), true);
    assert.equal(await ask('create', 'velero.io', 'restores'), false);
    server.setDeny([]);

    const ext = kc.makeApiClient(ApiextensionsV1Api);
    const crd = await ext.readCustomResourceDefinition({ name: 'volumesnapshots.snapshot.storage.k8s.io' });
    assert.deepEqual(crd.spec.versions.filter((v) => v.served).map((v) => v.name), ['v1']);
    assert.equal((await apiError(ext.readCustomResourceDefinition({ name: 'backups.k10.kasten.io' }))).code, 404);

    const batch = kc.makeApiClient(BatchV1Api);
    const job = await batch.createNamespacedJob({ namespace: 'app', body: { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'fill' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'fill', image: 'busybox', command: ['sh', '-c', 'true'] }] } } } } });
    assert.equal(job.spec?.template.metadata?.labels?.['job-name'], 'fill');

    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedPod({ namespace: 'app', body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'fill-abcde', labels: { 'job-name': 'fill' } }, spec: { nodeName: 'node-1', restartPolicy: 'Never', containers: [{ name: 'fill', image: 'busybox' }] } } });
    server.setPodLog('app', 'fill-abcde', 'wrote 100 files\n');
    assert.equal(await core.readNamespacedPodLog({ namespace: 'app', name: 'fill-abcde' }), 'wrote 100 files\n');

    server.setPodMetrics('app', 'fill-abcde', [{ name: 'fill', cpu: '250m', memory: '64Mi' }]);
    const pm = await new Metrics(kc).getPodMetrics('app');
    assert.deepEqual(pm.items.map((i) => [i.metadata.name, i.containers[0]?.usage.cpu]), [['fill-abcde', '250m']]);
  });

  test('Exec over WebSocket reaches the onExec handler (stdout, stderr, exit status, stdin)', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedPod({ namespace: 'app', body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'shell' }, spec: { containers: [{ name: 'sh', image: 'busybox' }] } } });
    server.onExec((req) => {
      if (req.command[0] === 'cat') return { stdout: req.stdin };
      if (req.command[0] === 'false') return { stderr: 'nope\n', exitCode: 1 };
      return { stdout: `${req.namespace}/${req.pod}/${req.container}: ${req.command.join(' ')}\n` };
    });
    const run = (command: string[], stdin: Readable | null) =>
      new Promise<{ out: string; err: string; status: V1Status }>((resolve, reject) => {
        const out = new PassThrough();
        const err = new PassThrough();
        let o = '';
        let e = '';
        out.on('data', (d: Buffer) => (o += d.toString()));
        err.on('data', (d: Buffer) => (e += d.toString()));
        const timer = setTimeout(() => reject(new Error('exec timed out')), 10_000);
        new Exec(kc)
          .exec('app', 'shell', 'sh', command, out, err, stdin, false, (status) => {
            clearTimeout(timer);
            setImmediate(() => resolve({ out: o, err: e, status }));
          })
          .catch((x: unknown) => {
            clearTimeout(timer);
            reject(x instanceof Error ? x : new Error(String(x)));
          });
      });
    const a = await run(['echo', 'hi'], null);
    assert.deepEqual([a.out, a.status.status], ['app/shell/sh: echo hi\n', 'Success']);
    const b = await run(['false'], null);
    assert.equal(b.err, 'nope\n');
    assert.equal(b.status.status, 'Failure');
    assert.equal(b.status.details?.causes?.[0]?.message, '1');
    const c = await run(['cat'], Readable.from([Buffer.from('piped input')]));
    assert.equal(c.out, 'piped input');
    server.onExec(undefined);
  });
});
