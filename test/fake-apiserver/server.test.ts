// REST conventions of the fake API server, driven with plain fetch.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeApiServer } from './server.ts';
import type { FakeApiServer } from './server.ts';
import { caller, WatchStream } from './http-helpers.ts';

let server: FakeApiServer;
let call: ReturnType<typeof caller>;
const watches: WatchStream[] = [];

before(async () => {
  server = await startFakeApiServer({ namespaces: ['velero', 'app'], nodes: ['node-1'], deny: [{ verb: 'delete', resource: 'secrets', namespace: 'kube-system' }] });
  call = caller(server);
});
after(async () => {
  for (const w of watches) w.close();
  await server.close();
});

async function watch(path: string): Promise<WatchStream> {
  const w = await WatchStream.open(server, path);
  watches.push(w);
  return w;
}

const BACKUPS = '/apis/velero.io/v1/namespaces/velero/backups';
const SNAPS = '/apis/snapshot.storage.k8s.io/v1/namespaces/app/volumesnapshots';

function backup(name: string, labels: Record<string, string> = {}, spec: Record<string, unknown> = {}) {
  return { apiVersion: 'velero.io/v1', kind: 'Backup', metadata: { name, labels }, spec: { includedNamespaces: ['app'], ttl: '1h0m0s', ...spec } };
}
function snapshot(name: string, pvc = 'data') {
  return { apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshot', metadata: { name }, spec: { volumeSnapshotClassName: 'csi', source: { persistentVolumeClaimName: pvc } } };
}

describe('auth and discovery', () => {
  test('401 Status without or with a wrong bearer token; health endpoints are open', async () => {
    for (const token of [null, 'wrong']) {
      const r = await call('GET', '/api/v1/namespaces', undefined, { token });
      assert.equal(r.status, 401);
      assert.deepEqual(r.json, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    }
    assert.equal((await call('GET', '/healthz', undefined, { token: null })).text, 'ok');
    assert.equal((await call('GET', '/version', undefined, { token: null })).json.gitVersion, 'v1.31.0');
  });

  test('discovery lists core, built-in groups and CRD groups with plurals, scope, verbs and status subresources', async () => {
    assert.deepEqual((await call('GET', '/api')).json.versions, ['v1']);
    const groups = (await call('GET', '/apis')).json.groups as { name: string; preferredVersion: { version: string }; versions: { version: string }[] }[];
    const byName = new Map(groups.map((g) => [g.name, g]));
    for (const g of ['apps', 'batch', 'storage.k8s.io', 'apiextensions.k8s.io', 'authorization.k8s.io', 'velero.io', 'snapshot.storage.k8s.io', 'core.kubestash.com', 'storage.kubestash.com']) {
      assert.ok(byName.has(g), g);
    }
    assert.equal(byName.has('metrics.k8s.io'), false, 'metrics API only with opts.metricsApi');
    assert.deepEqual(byName.get('velero.io')!.versions.map((v) => v.version), ['v1', 'v2alpha1']);
    assert.equal(byName.get('velero.io')!.preferredVersion.version, 'v1');
    const core = (await call('GET', '/api/v1')).json;
    const pods = core.resources.find((r: { name: string }) => r.name === 'pods');
    assert.equal(pods.namespaced, true);
    assert.ok(core.resources.some((r: { name: string }) => r.name === 'pods/log'));
    assert.ok(core.resources.some((r: { name: string; namespaced: boolean }) => r.name === 'nodes' && !r.namespaced));
    const velero = (await call('GET', '/apis/velero.io/v1')).json;
    assert.equal(velero.groupVersion, 'velero.io/v1');
    const b = velero.resources.find((r: { name: string }) => r.name === 'backups');
    assert.deepEqual({ kind: b.kind, namespaced: b.namespaced, verbs: [...b.verbs].sort() }, { kind: 'Backup', namespaced: true, verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] });
    assert.equal(velero.resources.some((r: { name: string }) => r.name === 'backups/status'), false, 'Backup CRD declares no status subresource');
    const snap = (await call('GET', '/apis/snapshot.storage.k8s.io/v1')).json.resources.map((r: { name: string }) => r.name);
    assert.ok(snap.includes('volumesnapshots/status') && snap.includes('volumesnapshotcontents'));
    assert.equal((await call('GET', '/apis/nope.example.com/v1')).status, 404);
    assert.equal((await call('GET', '/apis/velero.io/v1/namespaces/velero/widgets')).status, 404);
  });

  test('CustomResourceDefinitions can be listed and read (for preflight checks)', async () => {
    const r = await call('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/backups.velero.io');
    assert.equal(r.status, 200);
    assert.equal(r.json.spec.group, 'velero.io');
    assert.ok(r.json.status.conditions.some((c: { type: string; status: string }) => c.type === 'Established' && c.status === 'True'));
    const list = await call('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions?fieldSelector=metadata.name%3Dvolumesnapshots.snapshot.storage.k8s.io');
    assert.deepEqual(list.json.items.map((i: { metadata: { name: string } }) => i.metadata.name), ['volumesnapshots.snapshot.storage.k8s.io']);
    assert.equal((await call('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/missing.example.com')).status, 404);
  });
});

describe('create, get, list', () => {
  test('create assigns uid, resourceVersion, creationTimestamp, generation; get returns it', async () => {
    const r = await call('POST', BACKUPS, backup('c1', { app: 'mesh', tier: 'data' }));
    assert.equal(r.status, 201);
    const m = r.json.metadata;
    assert.match(m.uid, /^[0-9a-f-]{36}$/);
    assert.match(m.resourceVersion, /^\d+$/);
    assert.match(m.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(m.generation, 1);
    assert.equal(m.namespace, 'velero');
    const g = await call('GET', `${BACKUPS}/c1`);
    assert.deepEqual(g.json, r.json);
    const nf = await call('GET', `${BACKUPS}/missing`);
    assert.equal(nf.status, 404);
    assert.deepEqual(nf.json, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'backups.velero.io "missing" not found', reason: 'NotFound', details: { name: 'missing', group: 'velero.io', kind: 'backups' }, code: 404 });
  });

  test('list with label selectors (equality, inequality, set-based, exists) and field selectors', async () => {
    await call('POST', BACKUPS, backup('l1', { run: 'r1', tier: 'data' }));
    await call('POST', BACKUPS, backup('l2', { run: 'r1', tier: 'web' }));
    await call('POST', BACKUPS, backup('l3', { run: 'r2' }));
    const names = async (q: string) => {
      const r = await call('GET', `${BACKUPS}?${q}`);
      assert.equal(r.status, 200, r.text);
      return (r.json.items as { metadata: { name: string } }[]).map((i) => i.metadata.name).filter((n) => n.startsWith('l'));
    };
    assert.deepEqual(await names('labelSelector=run%3Dr1'), ['l1', 'l2']);
    assert.deepEqual(await names('labelSelector=run%3D%3Dr1,tier!%3Dweb'), ['l1']);
    assert.deepEqual(await names(`labelSelector=${encodeURIComponent('tier in (data, web)')}`), ['l1', 'l2']);
    assert.deepEqual(await names(`labelSelector=${encodeURIComponent('run,tier notin (web)')}`), ['l1', 'l3']);
    assert.deepEqual(await names(`labelSelector=${encodeURIComponent('!tier,run')}`), ['l3']);
    assert.deepEqual(await names('fieldSelector=metadata.name%3Dl2'), ['l2']);
    assert.deepEqual(await names('fieldSelector=metadata.name!%3Dl2&labelSelector=run'), ['l1', 'l3']);
    const bad = await call('GET', `${BACKUPS}?fieldSelector=spec.ttl%3D1h`);
    assert.equal(bad.status, 400);
    assert.equal(bad.json.message, '"spec.ttl" is not a known field selector: only "metadata.name", "metadata.namespace"');
    assert.equal((await call('GET', `${BACKUPS}?labelSelector=${encodeURIComponent('a in (b')}`)).status, 400);
    // cluster-wide list of a namespaced resource
    const all = await call('GET', '/apis/velero.io/v1/backups?labelSelector=run%3Dr2');
    assert.deepEqual(all.json.items.map((i: { metadata: { namespace: string; name: string } }) => `${i.metadata.namespace}/${i.metadata.name}`), ['velero/l3']);
    assert.equal(all.json.kind, 'BackupList');
    assert.match(all.json.metadata.resourceVersion, /^\d+$/);
  });

  test('list pagination with limit and continue', async () => {
    for (const n of ['p1', 'p2', 'p3']) await call('POST', '/api/v1/namespaces/app/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: n, labels: { page: 'yes' } }, data: { k: n } });
    const first = await call('GET', '/api/v1/namespaces/app/configmaps?labelSelector=page&limit=2');
    assert.deepEqual(first.json.items.map((i: { metadata: { name: string } }) => i.metadata.name), ['p1', 'p2']);
    assert.equal(first.json.metadata.remainingItemCount, 1);
    assert.equal(first.json.items[0].kind, undefined, 'built-in list items carry no kind, as from a real apiserver');
    const second = await call('GET', `/api/v1/namespaces/app/configmaps?labelSelector=page&limit=2&continue=${first.json.metadata.continue}`);
    assert.deepEqual(second.json.items.map((i: { metadata: { name: string } }) => i.metadata.name), ['p3']);
    assert.equal(second.json.metadata.continue, undefined);
  });

  test('409 AlreadyExists on a duplicate; generateName picks a fresh name', async () => {
    await call('POST', BACKUPS, backup('dup'));
    const r = await call('POST', BACKUPS, backup('dup'));
    assert.equal(r.status, 409);
    assert.deepEqual(r.json, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'backups.velero.io "dup" already exists', reason: 'AlreadyExists', details: { name: 'dup', group: 'velero.io', kind: 'backups' }, code: 409 });
    const g = await call('POST', BACKUPS, { ...backup(''), metadata: { generateName: 'pvbench-' } });
    assert.equal(g.status, 201);
    assert.match(g.json.metadata.name, /^pvbench-[a-z0-9]{5}$/);
  });

  test('422 Invalid with details.causes for a custom resource that breaks its CRD schema', async () => {
    const r = await call('POST', BACKUPS, backup('bad', {}, { ttl: 60, includedNamespace: ['typo'] }));
    assert.equal(r.status, 422);
    assert.equal(r.json.reason, 'Invalid');
    assert.equal(r.json.message, 'Backup.velero.io "bad" is invalid: [spec.ttl: Invalid value: "integer": spec.ttl in body must be of type string: "integer", spec.includedNamespace: field not declared in schema]');
    assert.deepEqual(r.json.details, {
      name: 'bad',
      group: 'velero.io',
      kind: 'Backup',
      causes: [
        { reason: 'FieldValueTypeInvalid', message: 'Invalid value: "integer": spec.ttl in body must be of type string: "integer"', field: 'spec.ttl' },
        { reason: 'FieldValueUnknown', message: 'field not declared in schema', field: 'spec.includedNamespace' },
      ],
    });
    const cel = await call('POST', SNAPS, { ...snapshot('x'), spec: { source: { persistentVolumeClaimName: 'a', volumeSnapshotContentName: 'b' } } });
    assert.equal(cel.status, 422);
    assert.equal(cel.json.details.causes[0].field, 'spec.source');
    assert.equal((await call('GET', `${BACKUPS}/bad`)).status, 404);
  });

  test('400 for a body whose apiVersion/kind do not match the URL, or misses them', async () => {
    const r = await call('POST', BACKUPS, { ...backup('k'), kind: 'Restore' });
    assert.equal(r.status, 400);
    const v = await call('POST', BACKUPS, { ...backup('k'), apiVersion: 'velero.io/v2' });
    assert.equal(v.json.message, 'the API version in the data (velero.io/v2) does not match the expected API version (velero.io/v1)');
    const nokind = await call('POST', '/api/v1/namespaces/app/configmaps', { apiVersion: 'v1', metadata: { name: 'nokind' } });
    assert.equal(nokind.status, 400);
    assert.match(nokind.json.message, /^Object 'Kind' is missing in/);
    const ns = await call('POST', BACKUPS, { ...backup('k'), metadata: { name: 'k', namespace: 'other' } });
    assert.equal(ns.json.message, 'the namespace of the provided object does not match the namespace sent on the request');
  });

  test('404 when creating in a namespace that does not exist', async () => {
    const r = await call('POST', '/apis/velero.io/v1/namespaces/nowhere/backups', backup('x'));
    assert.equal(r.status, 404);
    assert.deepEqual(r.json, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'namespaces "nowhere" not found', reason: 'NotFound', details: { name: 'nowhere', kind: 'namespaces' }, code: 404 });
  });

  test('built-ins are stored without schema validation, with apiserver defaults', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox', anything: { goes: true } }] }, status: { phase: 'Running' } };
    const r = await call('POST', '/api/v1/namespaces/app/pods', pod);
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.status.phase, 'Pending', 'status is reset on create');
    const noImage = await call('POST', '/api/v1/namespaces/app/pods', { ...pod, metadata: { name: 'q' }, spec: { containers: [{ name: 'c' }] } });
    assert.equal(noImage.status, 422);
    assert.equal(noImage.json.details.causes[0].field, 'spec.containers[0].image');
    const sec = await call('POST', '/api/v1/namespaces/app/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { password: 'hunter2' } });
    assert.deepEqual([sec.json.data, sec.json.stringData, sec.json.type], [{ password: Buffer.from('hunter2').toString('base64') }, undefined, 'Opaque']);
    const job = await call('POST', '/apis/batch/v1/namespaces/app/jobs', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'j' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    assert.equal(job.status, 201, job.text);
    assert.equal(job.json.spec.template.metadata.labels['job-name'], 'j');
    assert.equal(job.json.spec.selector.matchLabels['batch.kubernetes.io/controller-uid'], job.json.metadata.uid);
    const badName = await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'Not_Valid' } });
    assert.equal(badName.status, 422);
  });
});

describe('update, patch, status', () => {
  test('PUT with a stale resourceVersion is a 409 Conflict; custom resources need a resourceVersion', async () => {
    const c = (await call('POST', BACKUPS, backup('u1'))).json;
    const upd = await call('PUT', `${BACKUPS}/u1`, { ...c, spec: { ...c.spec, ttl: '2h0m0s' } });
    assert.equal(upd.status, 200);
    assert.equal(upd.json.metadata.generation, 2);
    assert.ok(Number(upd.json.metadata.resourceVersion) > Number(c.metadata.resourceVersion));
    const stale = await call('PUT', `${BACKUPS}/u1`, { ...c, spec: { ...c.spec, ttl: '3h0m0s' } });
    assert.equal(stale.status, 409);
    assert.deepEqual(stale.json, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'Operation cannot be fulfilled on backups.velero.io "u1": the object has been modified; please apply your changes to the latest version and try again',
      reason: 'Conflict', details: { name: 'u1', group: 'velero.io', kind: 'backups' }, code: 409,
    });
    const norv = structuredClone(upd.json);
    delete norv.metadata.resourceVersion;
    const r = await call('PUT', `${BACKUPS}/u1`, norv);
    assert.equal(r.status, 422);
    assert.equal(r.json.details.causes[0].field, 'metadata.resourceVersion');
    assert.equal((await call('PUT', `${BACKUPS}/nope`, { ...backup('nope'), metadata: { name: 'nope', resourceVersion: '1' } })).status, 404);
    const wrongName = await call('PUT', `${BACKUPS}/u1`, { ...upd.json, metadata: { ...upd.json.metadata, name: 'u2' } });
    assert.equal(wrongName.json.message, 'the name of the object (u2) does not match the name on the URL (u1)');
  });

  test('a no-op update keeps the resourceVersion; metadata-only changes keep the generation', async () => {
    const c = (await call('POST', BACKUPS, backup('noop'))).json;
    const same = await call('PUT', `${BACKUPS}/noop`, c);
    assert.equal(same.json.metadata.resourceVersion, c.metadata.resourceVersion);
    const lab = await call('PATCH', `${BACKUPS}/noop`, { metadata: { labels: { x: 'y' } } }, { contentType: 'application/merge-patch+json' });
    assert.equal(lab.json.metadata.generation, 1);
    assert.notEqual(lab.json.metadata.resourceVersion, c.metadata.resourceVersion);
  });

  test('status subresource: main writes ignore status, /status writes change only status', async () => {
    const withStatus = { ...snapshot('s1'), status: { readyToUse: true } };
    const c = await call('POST', SNAPS, withStatus);
    assert.equal(c.status, 201, c.text);
    assert.equal(c.json.status, undefined, 'status dropped on create when the CRD has a status subresource');
    const st = await call('PUT', `${SNAPS}/s1/status`, { ...c.json, metadata: { ...c.json.metadata, labels: { ignored: 'yes' } }, status: { readyToUse: false, restoreSize: '1Gi' } });
    assert.equal(st.status, 200, st.text);
    assert.deepEqual(st.json.status, { readyToUse: false, restoreSize: '1Gi' });
    assert.equal(st.json.metadata.labels, undefined, 'metadata changes are ignored on /status');
    assert.equal(st.json.metadata.generation, 1, 'status writes do not bump generation');
    const main = await call('PATCH', `${SNAPS}/s1`, { status: { readyToUse: true }, metadata: { labels: { a: 'b' } } }, { contentType: 'application/merge-patch+json' });
    assert.deepEqual(main.json.status, { readyToUse: false, restoreSize: '1Gi' }, 'status changes on the main resource are ignored');
    assert.deepEqual(main.json.metadata.labels, { a: 'b' });
    const sp = await call('PATCH', `${SNAPS}/s1/status`, { status: { readyToUse: true } }, { contentType: 'application/merge-patch+json' });
    assert.equal(sp.json.status.readyToUse, true);
    const invalid = await call('PATCH', `${SNAPS}/s1/status`, { status: { readyToUse: 'yes' } }, { contentType: 'application/merge-patch+json' });
    assert.equal(invalid.status, 422);
    const get = await call('GET', `${SNAPS}/s1/status`);
    assert.equal(get.json.status.readyToUse, true);
    // immutable field (CEL transition rule)
    const imm = await call('PATCH', `${SNAPS}/s1`, { spec: { source: { persistentVolumeClaimName: 'other' } } }, { contentType: 'application/merge-patch+json' });
    assert.equal(imm.status, 422);
    assert.match(imm.json.message, /persistentVolumeClaimName is immutable/);
    // Backup declares no status subresource: status is written through the main resource, /status does not exist
    const b = (await call('POST', BACKUPS, { ...backup('st'), status: { phase: 'New' } })).json;
    assert.equal(b.status.phase, 'New');
    const b2 = await call('PATCH', `${BACKUPS}/st`, { status: { phase: 'InProgress' } }, { contentType: 'application/merge-patch+json' });
    assert.equal(b2.json.status.phase, 'InProgress');
    assert.equal(b2.json.metadata.generation, 2, 'without a status subresource, status changes bump generation');
    assert.equal((await call('PUT', `${BACKUPS}/st/status`, b2.json)).status, 404);
  });

  test('PATCH: json-patch (with test), strategic merge for built-ins, 415 for strategic merge on custom resources, apply', async () => {
    await call('POST', BACKUPS, backup('pt'));
    const jp = await call('PATCH', `${BACKUPS}/pt`, [{ op: 'add', path: '/spec/includedNamespaces/-', value: 'other' }, { op: 'replace', path: '/spec/ttl', value: '5h0m0s' }], { contentType: 'application/json-patch+json' });
    assert.equal(jp.status, 200, jp.text);
    assert.deepEqual([jp.json.spec.includedNamespaces, jp.json.spec.ttl], [['app', 'other'], '5h0m0s']);
    const failed = await call('PATCH', `${BACKUPS}/pt`, [{ op: 'test', path: '/spec/ttl', value: '1h0m0s' }, { op: 'remove', path: '/spec/ttl' }], { contentType: 'application/json-patch+json' });
    assert.equal(failed.status, 422);
    const smp = await call('PATCH', `${BACKUPS}/pt`, { spec: { ttl: '1h' } }, { contentType: 'application/strategic-merge-patch+json' });
    assert.equal(smp.status, 415);
    assert.equal(smp.json.reason, 'UnsupportedMediaType');
    const rvPatch = await call('PATCH', `${BACKUPS}/pt`, { metadata: { resourceVersion: '1' }, spec: { ttl: '9h0m0s' } }, { contentType: 'application/merge-patch+json' });
    assert.equal(rvPatch.status, 409, 'a resourceVersion in a patch is a precondition');

    await call('POST', '/api/v1/namespaces/app/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'sp', finalizers: ['a.io/x'] }, spec: { containers: [{ name: 'a', image: 'one' }, { name: 'b', image: 'two' }] } });
    const pod = await call('PATCH', '/api/v1/namespaces/app/pods/sp', { metadata: { finalizers: ['b.io/y'] }, spec: { containers: [{ name: 'b', image: 'three' }] } }, { contentType: 'application/strategic-merge-patch+json' });
    assert.equal(pod.status, 200, pod.text);
    assert.deepEqual(pod.json.spec.containers.map((c: { image: string }) => c.image), ['one', 'three']);
    assert.deepEqual(pod.json.metadata.finalizers, ['a.io/x', 'b.io/y']);
    const forbidden = await call('PATCH', '/api/v1/namespaces/app/pods/sp', { spec: { restartPolicy: 'Never' } }, { contentType: 'application/merge-patch+json' });
    assert.equal(forbidden.status, 422, 'pod spec is mostly immutable');
    const delFin = await call('PATCH', '/api/v1/namespaces/app/pods/sp', { metadata: { '$deleteFromPrimitiveList/finalizers': ['a.io/x'] } }, { contentType: 'application/strategic-merge-patch+json' });
    assert.deepEqual(delFin.json.metadata.finalizers, ['b.io/y']);

    const applyNoManager = await call('PATCH', `${BACKUPS}/applied`, 'apiVersion: velero.io/v1\nkind: Backup\nmetadata: {name: applied}\nspec: {ttl: 1h0m0s}\n', { contentType: 'application/apply-patch+yaml' });
    assert.equal(applyNoManager.status, 422);
    const created = await call('PATCH', `${BACKUPS}/applied?fieldManager=pvbench`, 'apiVersion: velero.io/v1\nkind: Backup\nmetadata: {name: applied}\nspec: {ttl: 1h0m0s}\n', { contentType: 'application/apply-patch+yaml' });
    assert.equal(created.status, 201, created.text);
    const applied = await call('PATCH', `${BACKUPS}/applied?fieldManager=pvbench`, 'apiVersion: velero.io/v1\nkind: Backup\nmetadata: {name: applied}\nspec: {storageLocation: default}\n', { contentType: 'application/apply-patch+yaml' });
    assert.deepEqual(applied.json.spec, { ttl: '1h0m0s', storageLocation: 'default' });
  });
});

describe('delete', () => {
  test('finalizers delay deletion until removed; DELETE returns the object with deletionTimestamp', async () => {
    await call('POST', BACKUPS, { ...backup('f1'), metadata: { name: 'f1', finalizers: ['pvbench.io/cleanup'] } });
    const d = await call('DELETE', `${BACKUPS}/f1`);
    assert.equal(d.status, 200);
    assert.ok(d.json.metadata.deletionTimestamp);
    const still = await call('GET', `${BACKUPS}/f1`);
    assert.equal(still.status, 200);
    const addFin = await call('PATCH', `${BACKUPS}/f1`, { metadata: { finalizers: ['pvbench.io/cleanup', 'new.io/x'] } }, { contentType: 'application/merge-patch+json' });
    assert.equal(addFin.status, 422, 'no new finalizers on a deleting object');
    const rm = await call('PATCH', `${BACKUPS}/f1`, { metadata: { finalizers: null } }, { contentType: 'application/merge-patch+json' });
    assert.equal(rm.status, 200);
    assert.equal((await call('GET', `${BACKUPS}/f1`)).status, 404);
  });

  test('DELETE answers a Success Status (config maps, custom resources) or the object (PVCs), honours preconditions, 404 when missing', async () => {
    const cm = (await call('POST', '/api/v1/namespaces/app/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'gone' } })).json;
    const pre = await call('DELETE', '/api/v1/namespaces/app/configmaps/gone', { preconditions: { uid: 'nope' } });
    assert.equal(pre.status, 409);
    const ok = await call('DELETE', '/api/v1/namespaces/app/configmaps/gone', { propagationPolicy: 'Background' });
    assert.deepEqual(ok.json, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: 'gone', kind: 'configmaps', uid: cm.metadata.uid } });
    assert.equal((await call('DELETE', '/api/v1/namespaces/app/configmaps/gone')).status, 404);
    const created = (await call('POST', BACKUPS, backup('del'))).json;
    const b = await call('DELETE', `${BACKUPS}/del`);
    assert.deepEqual(b.json, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: 'del', group: 'velero.io', kind: 'backups', uid: created.metadata.uid } });
    await call('POST', '/api/v1/namespaces/app/persistentvolumeclaims', { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'gone-pvc' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
    assert.equal((await call('DELETE', '/api/v1/namespaces/app/persistentvolumeclaims/gone-pvc')).json.kind, 'PersistentVolumeClaim');
  });

  test('DELETE collection with a labelSelector', async () => {
    for (const n of ['dc1', 'dc2', 'dc3']) await call('POST', BACKUPS, backup(n, { sweep: n === 'dc3' ? 'no' : 'yes' }));
    const r = await call('DELETE', `${BACKUPS}?labelSelector=sweep%3Dyes`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.items.map((i: { metadata: { name: string } }) => i.metadata.name), ['dc1', 'dc2']);
    assert.equal((await call('GET', `${BACKUPS}/dc1`)).status, 404);
    assert.equal((await call('GET', `${BACKUPS}/dc3`)).status, 200);
  });

  test('garbage collection follows ownerReferences; a deleted namespace terminates and takes its contents', async () => {
    await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
    const owner = (await call('POST', '/api/v1/namespaces/doomed/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner' } })).json;
    await call('POST', '/api/v1/namespaces/doomed/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dep', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid }] } });
    await call('DELETE', '/api/v1/namespaces/doomed/configmaps/owner');
    await server.waitFor('v1', 'configmaps', 'doomed', 'dep', (o) => o === undefined);
    await call('POST', '/apis/velero.io/v1/namespaces/doomed/backups', { ...backup('held'), metadata: { name: 'held', finalizers: ['x.io/hold'] } });
    const d = await call('DELETE', '/api/v1/namespaces/doomed');
    assert.equal(d.json.status.phase, 'Terminating');
    const refused = await call('POST', '/api/v1/namespaces/doomed/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late' } });
    assert.equal(refused.status, 403);
    assert.equal(refused.json.details.causes[0].reason, 'NamespaceTerminating');
    await server.idle();
    assert.ok(server.get('v1', 'Namespace', undefined, 'doomed'), 'a finalizer on its content keeps the namespace');
    server.removeFinalizers('velero.io/v1', 'backups', 'doomed', 'held');
    await server.waitFor('v1', 'namespaces', undefined, 'doomed', (o) => o === undefined);
  });
});

describe('watch', () => {
  test('delivers ADDED, MODIFIED, DELETED in order, from a resourceVersion', async () => {
    const list = await call('GET', SNAPS);
    const w = await watch(`${SNAPS}?watch=1&resourceVersion=${list.json.metadata.resourceVersion}`);
    assert.equal(w.status, 200);
    const c = (await call('POST', SNAPS, snapshot('w1'))).json;
    await call('PATCH', `${SNAPS}/w1`, { metadata: { labels: { a: 'b' } } }, { contentType: 'application/merge-patch+json' });
    await call('DELETE', `${SNAPS}/w1`);
    const evs = await w.take(3);
    assert.deepEqual(evs.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED w1', 'MODIFIED w1', 'DELETED w1']);
    assert.equal(evs[0]!.object.metadata.resourceVersion, c.metadata.resourceVersion);
    const rvs = evs.map((e) => Number(e.object.metadata.resourceVersion));
    assert.ok(rvs[0]! < rvs[1]! && rvs[1]! < rvs[2]!, 'resourceVersions increase');
    assert.equal(evs[0]!.object.kind, 'VolumeSnapshot');
    w.close();
  });

  test('without a resourceVersion a watch starts with synthetic ADDED events; selectors turn label changes into ADDED/DELETED', async () => {
    await call('POST', '/api/v1/namespaces/app/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'sel-a', labels: { watch: 'me' } } });
    const w = await watch('/api/v1/namespaces/app/configmaps?watch=true&labelSelector=watch%3Dme');
    assert.deepEqual((await w.take(1)).map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED sel-a']);
    await call('PATCH', '/api/v1/namespaces/app/configmaps/sel-a', { metadata: { labels: { watch: 'no' } } }, { contentType: 'application/merge-patch+json' });
    await call('PATCH', '/api/v1/namespaces/app/configmaps/sel-a', { metadata: { labels: { watch: 'me' } } }, { contentType: 'application/merge-patch+json' });
    assert.deepEqual((await w.take(2)).map((e) => `${e.type} ${e.object.metadata.name}`), ['DELETED sel-a', 'ADDED sel-a']);
    w.close();
  });

  test('a resourceVersion older than the compacted history gets an ERROR event with a 410 Expired Status', async () => {
    const rv = server.resourceVersion();
    await call('POST', BACKUPS, backup('compact-me'));
    server.compact();
    const w = await watch(`${BACKUPS}?watch=1&resourceVersion=${rv}`);
    const e = await w.next();
    assert.equal(e?.type, 'ERROR');
    assert.equal(e?.object.code, 410);
    assert.equal(e?.object.reason, 'Expired');
    assert.match(e?.object.message, /^too old resource version: \d+ \(\d+\)$/);
    assert.equal(await w.next(), null, 'the stream ends after the error');
    // a current resourceVersion is still fine
    const ok = await watch(`${BACKUPS}?watch=1&resourceVersion=${server.resourceVersion()}`);
    await call('DELETE', `${BACKUPS}/compact-me`);
    assert.equal((await ok.next())?.type, 'DELETED');
    ok.close();
  });

  test('dropWatches closes every open watch stream; bookmarks and timeoutSeconds', async () => {
    const a = await watch(`${BACKUPS}?watch=1&resourceVersion=${server.resourceVersion()}`);
    const b = await watch(`/api/v1/watch/namespaces/app/configmaps?resourceVersion=${server.resourceVersion()}&allowWatchBookmarks=true`);
    await server.waitFor('v1', 'namespaces', undefined, 'app', () => server.openWatches() >= 2);
    server.sendBookmarks();
    const bm = await b.next();
    assert.equal(bm?.type, 'BOOKMARK');
    assert.equal(bm?.object.metadata.resourceVersion, server.resourceVersion());
    assert.ok(server.dropWatches() >= 2);
    assert.equal(await a.next(), null);
    assert.equal(await b.next(), null);
    assert.equal(server.openWatches(), 0);
    const t = await watch(`${BACKUPS}?watch=1&resourceVersion=${server.resourceVersion()}&timeoutSeconds=1&allowWatchBookmarks=true`);
    assert.equal((await t.next(10_000))?.type, 'BOOKMARK', 'a bookmark precedes the timeout');
    assert.equal(await t.next(10_000), null);
  });

  test('watch of a single object through the legacy /watch/ path', async () => {
    await call('POST', BACKUPS, backup('one'));
    await call('POST', BACKUPS, backup('other'));
    const w = await watch('/apis/velero.io/v1/watch/namespaces/velero/backups/one');
    assert.deepEqual((await w.take(1)).map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED one']);
    await call('DELETE', `${BACKUPS}/other`);
    await call('DELETE', `${BACKUPS}/one`);
    assert.deepEqual((await w.take(1)).map((e) => `${e.type} ${e.object.metadata.name}`), ['DELETED one']);
    w.close();
  });
});

describe('controllers, access, streams, faults', () => {
  test('hooks let a test play a controller; idle() waits for them; waitFor observes the result', async () => {
    const off = server.onCreate('velero.io/v1', 'Backup', (obj, ctx) => {
      assert.equal(ctx.source, 'api');
      ctx.server.setStatus('velero.io/v1', 'Backup', obj.metadata.namespace, obj.metadata.name, { phase: 'InProgress' });
    });
    const offUpd = server.onUpdate('velero.io/v1', 'backups', (obj, ctx) => {
      const phase = (obj.status as { phase?: string } | undefined)?.phase;
      if (phase === 'InProgress' && ctx.source === 'server') ctx.server.patchStatus('velero.io/v1', 'Backup', obj.metadata.namespace, obj.metadata.name, { phase: 'Completed', progress: { totalItems: 3, itemsBackedUp: 3 } });
    });
    await call('POST', BACKUPS, backup('ctl'));
    const done = await server.waitFor('velero.io/v1', 'Backup', 'velero', 'ctl', (o) => (o?.status as { phase?: string } | undefined)?.phase === 'Completed');
    assert.deepEqual(done?.status, { phase: 'Completed', progress: { totalItems: 3, itemsBackedUp: 3 } });
    await server.idle();
    off();
    offUpd();
    assert.deepEqual(server.hookErrors, []);
    assert.throws(() => server.setStatus('velero.io/v1', 'Backup', 'velero', 'ctl', { phase: 'Bogus' }), /Unsupported value: "Bogus"/);
  });

  test('admission hooks can deny a write', async () => {
    const off = server.onAdmit('velero.io/v1', 'Backup', (obj) => (obj.metadata.name === 'denied' ? { message: 'no backups today' } : undefined));
    const r = await call('POST', BACKUPS, backup('denied'));
    off();
    assert.equal(r.status, 403);
    assert.equal(r.json.message, 'admission webhook "fake.pvbench.test" denied the request: no backups today');
  });

  test('SelfSubjectAccessReview answers from the deny rules, which are also enforced (403)', async () => {
    const review = (verb: string, resource: string, namespace: string) =>
      call('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb, resource, namespace } } });
    const allowed = await review('create', 'backups', 'velero');
    assert.equal(allowed.status, 201);
    assert.equal(allowed.json.status.allowed, true);
    assert.equal((await review('delete', 'secrets', 'kube-system')).json.status.allowed, false);
    const f = await call('DELETE', '/api/v1/namespaces/kube-system/secrets/anything');
    assert.equal(f.status, 403);
    assert.equal(f.json.message, 'secrets "anything" is forbidden: User "system:serviceaccount:default:pvbench" cannot delete resource "secrets" in API group "" in the namespace "kube-system"');
    server.setDeny([{ verb: ['list', 'watch'], group: 'velero.io', resource: '*' }]);
    assert.equal((await call('GET', BACKUPS)).status, 403);
    server.setDeny([]);
    assert.equal((await call('GET', BACKUPS)).status, 200);
  });

  test('pods/log returns text (tailLines, container choice, follow); node proxy serves resource metrics', async () => {
    await call('POST', '/api/v1/namespaces/app/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'logger' }, spec: { nodeName: 'node-1', containers: [{ name: 'main', image: 'x' }, { name: 'side', image: 'y' }] } });
    server.setPodLog('app', 'logger', 'one\ntwo\nthree\n', 'main');
    const noContainer = await call('GET', '/api/v1/namespaces/app/pods/logger/log');
    assert.equal(noContainer.status, 400);
    assert.equal(noContainer.json.message, 'a container name must be specified for pod logger, choose one of: [main side]');
    const log = await call('GET', '/api/v1/namespaces/app/pods/logger/log?container=main&tailLines=2');
    assert.equal(log.text, 'two\nthree\n');
    assert.match(log.headers.get('content-type') ?? '', /^text\/plain/);
    const res = await fetch(`${server.url}/api/v1/namespaces/app/pods/logger/log?container=main&follow=true`, { headers: { authorization: `Bearer ${server.token}` }, signal: AbortSignal.timeout(10_000) });
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.equal(first, 'one\ntwo\nthree\n');
    server.appendPodLog('app', 'logger', 'four\n', 'main');
    assert.equal(new TextDecoder().decode((await reader.read()).value), 'four\n');
    server.setPodLog('app', 'logger', 'one\ntwo\nthree\nfour\nfive\n', 'main');
    assert.equal(new TextDecoder().decode((await reader.read()).value), 'five\n', 'setPodLog streams what it adds');
    server.setStatus('v1', 'Pod', 'app', 'logger', { phase: 'Succeeded' });
    assert.equal((await reader.read()).done, true, 'follow ends when the pod finishes');
    const metrics = await call('GET', '/api/v1/nodes/node-1/proxy/metrics/resource');
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, /^node_cpu_usage_seconds_total 0 \d+$/m);
    assert.match(metrics.text, /^container_cpu_usage_seconds_total\{container="main",namespace="app",pod="logger"\} 0 \d+$/m);
    server.setNodeMetrics('node-1', 'node_cpu_usage_seconds_total 12.5 1700000000000\n');
    assert.equal((await call('GET', '/api/v1/nodes/node-1/proxy/metrics/resource')).text, 'node_cpu_usage_seconds_total 12.5 1700000000000\n');
    assert.equal((await call('GET', '/api/v1/nodes/node-9/proxy/metrics/resource')).status, 404);
    const exec = await call('POST', '/api/v1/namespaces/app/pods/logger/exec?command=ls&container=main');
    assert.equal(exec.status, 400);
  });

  test('injected faults answer with the given Status, then stop', async () => {
    const f = server.injectFault({ method: 'GET', path: '/backups' }, { code: 429, retryAfterSeconds: 1, times: 2 });
    const a = await call('GET', BACKUPS);
    const b = await call('GET', BACKUPS);
    const c = await call('GET', BACKUPS);
    assert.deepEqual([a.status, b.status, c.status], [429, 429, 200]);
    assert.equal(a.headers.get('retry-after'), '1');
    assert.equal(a.json.reason, 'TooManyRequests');
    assert.equal(f.hits, 2);
    f.remove();
    const cut = server.injectFault({ path: '/configmaps' }, { destroy: true });
    await assert.rejects(call('GET', '/api/v1/namespaces/app/configmaps'));
    assert.equal(cut.hits, 1);
  });

  test('every request is logged with method, path, query, body and status', async () => {
    await call('GET', `${BACKUPS}?labelSelector=log%3Dme`);
    const rec = await server.waitForRequest((r) => r.query.labelSelector === 'log=me');
    assert.deepEqual([rec.method, rec.path, rec.verb, rec.status], ['GET', BACKUPS, 'list', 200]);
    await call('POST', BACKUPS, backup('logged'));
    const post = server.requests.findLast((r) => r.method === 'POST' && r.path === BACKUPS)!;
    assert.equal((post.body as { metadata: { name: string } }).metadata.name, 'logged');
    assert.equal(post.status, 201);
  });

  test('a CRD created through the API is served at once; deleting it removes its objects', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
        scope: 'Cluster',
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } } } }],
      },
    };
    assert.equal((await call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status, 201);
    const w = await call('POST', '/apis/example.com/v1/widgets', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 'big' } });
    assert.equal(w.status, 422);
    assert.equal((await call('POST', '/apis/example.com/v1/widgets', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 2 } })).status, 201);
    assert.ok(server.crds.byName.has('widgets.example.com'));
    await call('DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com');
    assert.equal((await call('GET', '/apis/example.com/v1/widgets')).status, 404);
    assert.equal(server.crds.byName.has('widgets.example.com'), false);
  });
});

describe('options', () => {
  test('crds filter, metricsApi and initial objects', async () => {
    const s = await startFakeApiServer({
      crds: ['velero.io'],
      metricsApi: true,
      objects: [{ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'standard' }, provisioner: 'rancher.io/local-path' }],
    });
    try {
      const c = caller(s);
      assert.equal((await c('GET', '/apis/snapshot.storage.k8s.io/v1')).status, 404);
      assert.equal((await c('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/volumesnapshots.snapshot.storage.k8s.io')).status, 404);
      assert.equal((await c('GET', '/apis/storage.k8s.io/v1/storageclasses/standard')).json.provisioner, 'rancher.io/local-path');
      s.setPodMetrics('default', 'p', [{ name: 'c', cpu: '5m', memory: '10Mi' }]);
      const pm = await c('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods');
      assert.equal(pm.json.kind, 'PodMetricsList');
      assert.deepEqual(pm.json.items[0].containers, [{ name: 'c', usage: { cpu: '5m', memory: '10Mi' } }]);
      assert.equal((await c('POST', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods', {})).status, 405);
    } finally {
      await s.close();
    }
  });
});
