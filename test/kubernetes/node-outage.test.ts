// The kind node outage against the fake API server: the runtime argv, an API server that is down while the node
// restarts, and "Ready" meaning a heartbeat after the restart (a stale Ready=True from before the kill is not it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFake, within } from './helpers.ts';
import type { Kube } from '../../src/platform/kubernetes/client.ts';
import { KubeApiError } from '../../src/platform/kubernetes/client.ts';
import type { Spawner } from '../../src/platform/kubernetes/spawn.ts';
import { kindNodeOutage, kindRuntime, readySince } from '../../src/platform/kubernetes/node-outage.ts';

function setReady(fake: Awaited<ReturnType<typeof startFake>>, node: string, status: 'True' | 'False' | 'Unknown', heartbeat: Date) {
  const obj = fake.server.get('v1', 'nodes', undefined, node)!;
  const st = obj.status as { conditions: { type: string; status: string; lastHeartbeatTime: string }[] };
  // Whole seconds, as the API server's metav1.Time serializes.
  st.conditions = st.conditions.map((c) => (c.type === 'Ready' ? { ...c, status, lastHeartbeatTime: heartbeat.toISOString().replace(/\.\d{3}Z$/, 'Z') } : c));
  fake.server.put(obj);
}

test('kind runtime from KIND_EXPERIMENTAL_PROVIDER; Ready means a heartbeat at or after the restart', () => {
  assert.equal(kindRuntime({}), 'docker');
  assert.equal(kindRuntime({ KIND_EXPERIMENTAL_PROVIDER: 'podman' }), 'podman');
  assert.equal(kindRuntime({ KIND_EXPERIMENTAL_PROVIDER: 'nerdctl' }), 'nerdctl');
  assert.equal(kindRuntime({ KIND_EXPERIMENTAL_PROVIDER: 'rm -rf /' }), 'docker');
  const node = (status: string, t: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, status: { conditions: [{ type: 'Ready', status, lastHeartbeatTime: t }] } });
  const since = Date.parse('2026-11-22T10:00:00.400Z');
  assert.equal(readySince(node('True', '2026-11-22T10:00:01Z'), since), true);
  assert.equal(readySince(node('True', '2026-11-22T10:00:00Z'), since), false, 'whole seconds: a heartbeat in the same second may be from before');
  assert.equal(readySince(node('True', '2026-11-22T09:59:59Z'), since), false, 'a heartbeat from before the restart');
  assert.equal(readySince(node('False', '2026-11-22T10:00:05Z'), since), false);
  assert.equal(readySince(undefined, since), false);
});

test('strike kills the node containers, recover starts them and waits for a fresh Ready through an API outage and its 403/404 restart', async () => {
  const fake = await startFake({ nodes: ['pvbench-worker', 'pvbench-worker2'] });
  try {
    const calls: string[] = [];
    let apiDown = false;
    // A restarting API server first refuses connections, then answers 403 (its authorizer not ready yet) and 404
    // (its resources not registered yet) for a while: all of that is the restart, not an answer.
    let restarting: 403 | 404 | undefined;
    const kube: Kube = {
      describe: () => fake.kube.describe(),
      request: (method, path, opts) =>
        apiDown
          ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6443'))
          : restarting
            ? Promise.reject(new KubeApiError(method, path, restarting, restarting === 403 ? 'Forbidden' : 'NotFound', 'the server is starting', ''))
            : fake.kube.request(method, path, opts),
      text: (path, opts) => fake.kube.text(path, opts),
      stream: (path, onLine, opts) => fake.kube.stream(path, onLine, opts),
    };
    const spawner: Spawner = async (cmd, args, opts) => {
      assert.ok(opts.timeoutMs > 0, 'every call has a timeout');
      calls.push([cmd, ...args].join(' '));
      if (args[0] === 'kill') apiDown = true;
      if (args[0] === 'start' && args[1] === 'pvbench-worker2') {
        // The API comes back first with the old, stale status; the kubelets report later (stamped a second on,
        // as a kubelet's first heartbeat after a restart is).
        setTimeout(() => ((apiDown = false), (restarting = 403)), 30);
        setTimeout(() => (restarting = 404), 1500);
        setTimeout(() => (restarting = undefined), 3000);
        setTimeout(() => setReady(fake, 'pvbench-worker', 'True', new Date(Date.now() + 1000)), 80);
        setTimeout(() => setReady(fake, 'pvbench-worker2', 'True', new Date(Date.now() + 1000)), 160);
      }
      return { exitCode: 0, stdout: args[1] ?? '', stderr: '' };
    };
    // Both nodes last reported just now, before the kill: that heartbeat must not count.
    for (const n of ['pvbench-worker', 'pvbench-worker2']) setReady(fake, n, 'True', new Date());
    const outage = kindNodeOutage({ kube, spawner, nodes: ['pvbench-worker2', 'pvbench-worker', 'pvbench-worker2'], runtime: 'docker', readyMs: 10_000 });
    assert.equal(outage.describe(), 'kind node containers pvbench-worker, pvbench-worker2');
    assert.equal(await outage.strike(), 'docker kill pvbench-worker, pvbench-worker2 (the kind nodes hosting the volumes)');
    const t0 = Date.now();
    const said = await within(outage.recover(), 10_000, 'recover');
    assert.ok(Date.now() - t0 >= 150, 'waited for the second kubelet, not for the stale Ready');
    assert.match(said, /^docker start pvbench-worker, pvbench-worker2: Ready again after \d+\.\d s$/);
    assert.deepEqual(calls, ['docker kill pvbench-worker', 'docker kill pvbench-worker2', 'docker start pvbench-worker', 'docker start pvbench-worker2']);
  } finally {
    await fake.server.close();
  }
});

test('a node that never reports Ready, or a runtime that fails, is an error that says what to do', async () => {
  const fake = await startFake({ nodes: ['pvbench-control-plane'] });
  try {
    const ok: Spawner = async () => ({ exitCode: 0, stdout: '', stderr: '' });
    setReady(fake, 'pvbench-control-plane', 'True', new Date(Date.now() - 60_000));
    const stuck = kindNodeOutage({ kube: fake.kube, spawner: ok, nodes: ['pvbench-control-plane'], runtime: 'docker', readyMs: 300 });
    await stuck.strike();
    await assert.rejects(stuck.recover(), /node pvbench-control-plane did not report Ready within 0 s\. Fix: look at the node container's logs \(docker logs pvbench-control-plane\), or raise platform\.timeouts\.readySeconds/);

    const failing: Spawner = async (cmd, args) => ({ exitCode: 1, stdout: '', stderr: `Error response from daemon: No such container: ${args[1]}` });
    const gone = kindNodeOutage({ kube: fake.kube, spawner: failing, nodes: ['pvbench-control-plane'], runtime: 'podman', readyMs: 300 });
    await assert.rejects(gone.strike(), /podman kill pvbench-control-plane failed \(exit 1\).*No such container.*is podman running, and is pvbench-control-plane a kind node of this cluster\?/s);
    assert.throws(() => kindNodeOutage({ kube: fake.kube, spawner: ok, nodes: [], runtime: 'docker', readyMs: 300 }), /no node hosts the volumes/);
  } finally {
    await fake.server.close();
  }
});

test('a strike that fails half-way still brings every node back (recover after a partial kill)', async () => {
  const fake = await startFake({ nodes: ['a', 'b'] });
  try {
    const calls: string[] = [];
    const spawner: Spawner = async (cmd, args) => {
      calls.push(`${cmd} ${args.join(' ')}`);
      if (args[0] === 'kill' && args[1] === 'b') return { exitCode: 1, stdout: '', stderr: 'Error response from daemon: cannot kill container b' };
      if (args[0] === 'start') setTimeout(() => setReady(fake, args[1]!, 'True', new Date(Date.now() + 1000)), 10);
      return { exitCode: 0, stdout: '', stderr: '' };
    };
    const outage = kindNodeOutage({ kube: fake.kube, spawner, nodes: ['a', 'b'], runtime: 'docker', readyMs: 10_000 });
    await assert.rejects(outage.strike(), /docker kill b failed/);
    assert.match(await within(outage.recover(), 10_000, 'recover'), /^docker start a, b: Ready again/);
    assert.deepEqual(calls, ['docker kill a', 'docker kill b', 'docker start a', 'docker start b']);
  } finally {
    await fake.server.close();
  }
});
