// The list+watch helper and the REST client against the fake API server: resume after a dropped watch, re-list
// on 410 Gone, overall timeout, abort, errors from the check, Status bodies.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFake, within } from './helpers.ts';
import { KubeApiError, createObject, deleteObject, ensureObject, findObject, getObject, patchObject } from '../../src/platform/kubernetes/client.ts';
import { WatchAbortedError, WatchTimeoutError, watchUntil } from '../../src/platform/kubernetes/watch.ts';
import type { WatchStats } from '../../src/platform/kubernetes/watch.ts';

const fake = await startFake({ namespaces: ['app'] });
after(() => fake.server.close());
const { server, kube } = fake;

const cm = (name: string, data: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'app', labels: { t: 'watch' } }, data });
const ref = { apiVersion: 'v1', plural: 'configmaps', namespace: 'app' };

test('the client speaks REST: create, get, 409 and 404 as KubeApiError, ensure, merge patch, delete', async () => {
  await createObject(kube, 'configmaps', cm('c1', { a: '1' }));
  await assert.rejects(createObject(kube, 'configmaps', cm('c1')), (e: unknown) => e instanceof KubeApiError && e.status === 409 && e.reason === 'AlreadyExists');
  const same = await ensureObject(kube, 'configmaps', cm('c1', { a: 'other' }));
  assert.equal((same.data as Record<string, string>).a, '1', 'ensure leaves an existing object alone');
  await patchObject(kube, { ...ref, name: 'c1' }, { data: { b: '2' } });
  assert.deepEqual((await getObject(kube, { ...ref, name: 'c1' })).data, { a: '1', b: '2' });
  assert.equal(await findObject(kube, { ...ref, name: 'nope' }), undefined);
  await assert.rejects(getObject(kube, { ...ref, name: 'nope' }), (e: unknown) => e instanceof KubeApiError && e.status === 404 && /nope/.test(e.message));
  assert.equal(await deleteObject(kube, { ...ref, name: 'c1' }), true);
  assert.equal(await deleteObject(kube, { ...ref, name: 'c1' }), false, 'deleting a missing object is not an error');
  await assert.rejects(createObject(kube, 'configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'missing-ns' } }), (e: unknown) => e instanceof KubeApiError && e.status === 404);
});

test('watchUntil sees the initial list and later events', async () => {
  await createObject(kube, 'configmaps', cm('w1', { step: '0' }));
  const done = watchUntil(kube, {
    ref,
    name: 'w1',
    what: 'w1 step 2',
    timeoutMs: 10_000,
    check: (state) => ((state.get('app/w1')?.data as Record<string, string> | undefined)?.step === '2' ? 'done' : undefined),
  });
  await server.waitForRequest((r) => r.watch && r.path.endsWith('/configmaps'), 5000);
  server.update('v1', 'configmaps', 'app', 'w1', (d) => void ((d.data as Record<string, string>).step = '1'));
  server.update('v1', 'configmaps', 'app', 'w1', (d) => void ((d.data as Record<string, string>).step = '2'));
  assert.equal(await within(done, 10_000, 'watch'), 'done');
});

test('a dropped watch is resumed from the last resourceVersion without missing events', async () => {
  await createObject(kube, 'configmaps', cm('w2', { step: '0' }));
  const reconnects: string[] = [];
  let stats: WatchStats | undefined;
  const seen: string[] = [];
  const done = watchUntil(kube, {
    ref,
    name: 'w2',
    what: 'w2 step 3',
    timeoutMs: 15_000,
    onReconnect: (why, s) => {
      reconnects.push(why);
      stats = s;
    },
    check: (state, ev) => {
      const step = (state.get('app/w2')?.data as Record<string, string> | undefined)?.step;
      if (ev && step) seen.push(step);
      return step === '3' ? true : undefined;
    },
  });
  await server.waitForRequest((r) => r.watch && r.path.endsWith('/configmaps') && r.query.fieldSelector === 'metadata.name=w2', 5000);
  server.update('v1', 'configmaps', 'app', 'w2', (d) => void ((d.data as Record<string, string>).step = '1'));
  await server.idle();
  assert.ok(server.dropWatches() >= 1);
  // Changes while no watch is open are replayed on resume.
  server.update('v1', 'configmaps', 'app', 'w2', (d) => void ((d.data as Record<string, string>).step = '2'));
  server.update('v1', 'configmaps', 'app', 'w2', (d) => void ((d.data as Record<string, string>).step = '3'));
  assert.equal(await within(done, 15_000, 'resumed watch'), true);
  assert.deepEqual(reconnects, ['dropped']);
  assert.equal(stats?.lists, 1, 'resumed, not re-listed');
  assert.deepEqual(seen, ['1', '2', '3']);
});

test('an abruptly destroyed watch connection is resumed too', async () => {
  await createObject(kube, 'configmaps', cm('w5', { step: '0' }));
  const done = watchUntil(kube, {
    ref,
    name: 'w5',
    what: 'w5 step 1',
    timeoutMs: 15_000,
    check: (state) => ((state.get('app/w5')?.data as Record<string, string> | undefined)?.step === '1' ? true : undefined),
  });
  await server.waitForRequest((r) => r.watch && r.query.fieldSelector === 'metadata.name=w5', 5000);
  server.dropWatches({ abrupt: true });
  server.update('v1', 'configmaps', 'app', 'w5', (d) => void ((d.data as Record<string, string>).step = '1'));
  assert.equal(await within(done, 15_000, 'resumed after abrupt drop'), true);
});

test('410 Gone (compacted history) re-lists and still finds the state', async () => {
  await createObject(kube, 'configmaps', cm('w3', { step: '0' }));
  const reconnects: string[] = [];
  let lists = 0;
  const done = watchUntil(kube, {
    ref,
    name: 'w3',
    what: 'w3 step 2',
    timeoutMs: 15_000,
    onReconnect: (why, s) => {
      reconnects.push(why);
      lists = s.lists;
    },
    check: (state) => ((state.get('app/w3')?.data as Record<string, string> | undefined)?.step === '2' ? true : undefined),
  });
  await server.waitForRequest((r) => r.watch && r.query.fieldSelector === 'metadata.name=w3', 5000);
  server.dropWatches();
  server.update('v1', 'configmaps', 'app', 'w3', (d) => void ((d.data as Record<string, string>).step = '2'));
  server.compact();
  assert.equal(await within(done, 15_000, 'relisted watch'), true);
  assert.ok(reconnects.includes('gone'), `re-listed after 410 (reconnects: ${reconnects.join(',')}, lists ${lists})`);
});

test('the overall timeout names what was awaited and the last state', async () => {
  await createObject(kube, 'configmaps', cm('w4', { step: '0' }));
  await assert.rejects(
    watchUntil(kube, { ref, name: 'w4', what: 'w4 to reach step 9', timeoutMs: 300, check: () => undefined, lastSeen: (s) => `step ${(s.get('app/w4')?.data as Record<string, string>).step}` }),
    (e: unknown) => e instanceof WatchTimeoutError && /w4 to reach step 9/.test(e.message) && /last seen: step 0/.test(e.message),
  );
});

test('an abort signal ends the wait; an error thrown by check ends it with that error', async () => {
  const ctl = new AbortController();
  const p = watchUntil(kube, { ref, what: 'forever', timeoutMs: 30_000, signal: ctl.signal, check: () => undefined });
  await server.waitForRequest((r) => r.watch && r.path.endsWith('/configmaps') && !r.query.fieldSelector, 5000);
  ctl.abort();
  await assert.rejects(within(p, 5000, 'abort'), (e: unknown) => e instanceof WatchAbortedError);

  const failing = watchUntil(kube, {
    ref,
    labelSelector: 't=watch',
    what: 'no failure',
    timeoutMs: 10_000,
    check: (state) => {
      if (state.has('app/bad')) throw new Error('bad object appeared');
      return undefined;
    },
  });
  await server.waitForRequest((r) => r.watch && r.query.labelSelector === 't=watch', 5000);
  await createObject(kube, 'configmaps', cm('bad'));
  await assert.rejects(within(failing, 10_000, 'check error'), /bad object appeared/);
});

test('a transient 503 on list is retried within the deadline', async () => {
  await createObject(kube, 'configmaps', cm('w6', { step: '1' }));
  const fault = server.injectFault({ method: 'GET', path: '/api/v1/namespaces/app/configmaps', watch: false }, { code: 503, reason: 'ServiceUnavailable', times: 2 });
  const r = await within(
    watchUntil(kube, { ref, name: 'w6', what: 'w6', timeoutMs: 10_000, check: (s) => (s.has('app/w6') ? 'ok' : undefined) }),
    10_000,
    'retry after 503',
  );
  assert.equal(r, 'ok');
  assert.equal(fault.hits, 2);
  fault.remove();
});
