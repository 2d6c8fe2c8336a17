// The Kubernetes platform against the fake API server, with the test playing the kubelet: seeding Jobs, proxy
// pods, verifier pods' manifests, the append-only prefix check, corruption, churn, the outage writer's journal
// (followed pod logs), preflight, tools, cleanup by the run label.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { labelsOf, startFake, within } from './helpers.ts';
import { disk, pvbenchKubelet } from './world.ts';
import type { KubeObject } from '../fake-apiserver/server.ts';
import { kubernetesPlatformSchema, workloadSchema } from '../../src/config/schema.ts';
import type { Suite } from '../../src/config/schema.ts';
import { KubernetesPlatform } from '../../src/platform/kubernetes/platform.ts';
import type { Cluster } from '../../src/platform/kubernetes/cluster.ts';
import { CLI_PATH } from '../../src/platform/kubernetes/objects.ts';
import { csiHostpathStorageClass } from '../../src/tools/csi-snapshot-objects.ts';
import { isAppendOnly } from '../../src/workloads/mesh-proxy.ts';
import { VeleroTool } from '../../src/tools/velero.ts';
import { CsiSnapshotTool } from '../../src/tools/csi-snapshot.ts';
import { UnsupportedTool } from '../../src/tools/unsupported.ts';
import { PreflightError } from '../../src/platform/kubernetes/preflight.ts';
import type { Spawner } from '../../src/platform/kubernetes/spawn.ts';

const workload = workloadSchema.parse({ proxies: 2, accessLogLines: 10, statsSnapshots: 1, clusters: 1 });

async function setup(opts: { deny?: { verb?: string; resource?: string }[] } = {}) {
  const fake = await startFake({ nodes: ['node-1'], deny: opts.deny });
  fake.server.put({ ...csiHostpathStorageClass(), metadata: { name: 'csi-hostpath-sc', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } });
  const off = pvbenchKubelet(fake);
  let disposed = 0;
  const cluster: Cluster = { kc: fake.kc, kube: fake.kube, kubeconfigPath: '/dev/null', created: false, describe: () => 'fake cluster', dispose: async () => void disposed++ };
  const cfg = kubernetesPlatformSchema.parse({ kind: 'kubernetes', cluster: { mode: 'existing' }, timeouts: { backupSeconds: 20, restoreSeconds: 20, readySeconds: 20 } });
  const logs: string[] = [];
  const platform = new KubernetesPlatform(cfg, { workload } as Suite, { cluster, runId: 'run1', cliBundle: async () => gzipSync(Buffer.from('console.log(1)')), log: (m) => logs.push(m), metricsSource: 'none' });
  return { fake, platform, logs, disposed: () => disposed, close: async () => { off(); await fake.server.close(); } };
}

test('seed, manifest, verify (with the append-only prefix check), corrupt, churn, cleanup', async () => {
  const s = await setup();
  after(s.close);
  const { fake, platform } = s;
  await within(platform.prepare(), 20_000, 'prepare');
  const set = await within(platform.seedVolumes('velero-fs-no-fault-1', workload, 42), 20_000, 'seed');
  assert.deepEqual(set, { id: 'velero-fs-no-fault-1', location: 'pvbench-velero-fs-no-fault-1/pvbench.dev/set=velero-fs-no-fault-1', volumes: ['proxy-0', 'proxy-1'] });
  const ns = 'pvbench-velero-fs-no-fault-1';
  const nsObj = fake.server.get('v1', 'namespaces', undefined, ns)!;
  assert.equal(labelsOf(nsObj)['pvbench.dev/run'], 'run1');
  const job = fake.server.get('batch/v1', 'jobs', ns, 'seed-proxy-1')!;
  const cmd = (job.spec as { template: { spec: { containers: { command: string[] }[] } } }).template.spec.containers[0]!.command;
  assert.deepEqual(cmd.slice(0, 9), ['node', CLI_PATH, 'seed', '--volume', '/data', '--proxy', '1', '--seed', '42']);
  const claim = fake.server.get('v1', 'persistentvolumeclaims', ns, 'proxy-0')!;
  assert.equal((claim.spec as { storageClassName: string }).storageClassName, 'csi-hostpath-sc');
  assert.equal(labelsOf(fake.server.get('v1', 'pods', ns, 'proxy-0'))['pvbench.dev/set'], 'velero-fs-no-fault-1');
  assert.ok(fake.server.list('v1', 'configmaps', ns, { labelSelector: 'pvbench.dev/role=cli' }).length >= 1);

  const m = await within(platform.manifest(set), 20_000, 'manifest');
  assert.deepEqual(m.files.map((f) => f.path), ['proxy-0/config_dump.json', 'proxy-0/logs/access.log', 'proxy-1/config_dump.json', 'proxy-1/logs/access.log']);
  const verifier = fake.server.requests.find((r) => r.method === 'POST' && r.path === `/api/v1/namespaces/${ns}/pods` && (r.body as KubeObject).metadata.name!.toString().startsWith('manifest-proxy-0'))!.body as KubeObject;
  const vspec = verifier.spec as { nodeName: string; volumes: { persistentVolumeClaim?: { readOnly: boolean } }[] };
  assert.equal(vspec.nodeName, 'node-1', 'pinned to the proxy pod\'s node (ReadWriteOnce)');
  assert.equal(vspec.volumes[0]!.persistentVolumeClaim!.readOnly, true);
  assert.equal(fake.server.list('v1', 'pods', ns, { labelSelector: 'pvbench.dev/role=manifest' }).length, 0, 'verifier pods are deleted');

  // A restore target whose logs stop at a consistent prefix, one file damaged, one volume never restored.
  const target = await platform.emptyVolumes('velero-fs-no-fault-1-restore-0', set);
  const tns = 'pvbench-velero-fs-no-fault-1-restore-0';
  assert.equal(fake.server.list('v1', 'persistentvolumeclaims', tns).length, 0, 'no PVCs: the restore creates them');
  fake.server.put({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'proxy-0', namespace: tns }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
  disk(ns, 'proxy-0').set('logs/access.log', 'line 1\nline 2\nline 3 written after the backup\n');
  disk(tns, 'proxy-0').set('logs/access.log', 'line 1\n');
  disk(tns, 'proxy-0').set('config_dump.json', 'tampered');
  const expected = await platform.manifest(set);
  const plain = await within(platform.verify(target, expected), 20_000, 'verify');
  assert.equal(plain.ok, false);
  assert.deepEqual({ matched: plain.matched, mismatched: plain.mismatched, missing: plain.missing }, { matched: 0, mismatched: 2, missing: 2 });
  const withPrefix = await within(platform.verify(target, expected, { appendOnly: isAppendOnly, prefixSource: set }), 20_000, 'verify with prefix');
  assert.deepEqual({ matched: withPrefix.matched, mismatched: withPrefix.mismatched, missing: withPrefix.missing }, { matched: 1, mismatched: 1, missing: 2 });
  assert.deepEqual(withPrefix.examples.mismatched, ['proxy-0/config_dump.json']);
  assert.deepEqual(withPrefix.examples.missing, ['proxy-1/config_dump.json', 'proxy-1/logs/access.log']);

  let n = 0;
  const rnd = () => [0.1, 0.6, 0.3, 0.8, 0.5, 0.2][n++ % 6]!;
  const corrupted = await within(platform.corruptVolume(set, { bitFlips: 1, truncate: 1, delete: 1 }, rnd), 20_000, 'corrupt');
  assert.match(corrupted.description, /^flipped a bit in 1, truncated 1 to half, deleted 1 of 4 files$/);
  const after2 = await platform.verify(set, expected);
  assert.equal(after2.ok, false);
  assert.equal(after2.missing, 1);

  await within(platform.churn(set, workload, 42), 20_000, 'churn');
  const churnJob = fake.server.list('batch/v1', 'jobs', ns, { labelSelector: 'pvbench.dev/role=churn' })[0]!;
  assert.deepEqual((churnJob.spec as { template: { spec: { containers: { command: string[] }[] } } }).template.spec.containers[0]!.command.slice(2, 11), ['churn', '--volume', '/data', '--proxy', '0', '--seed', '42', '--round', '1']);

  assert.ok(platform.createTool({ type: 'velero-fs', options: {} }) instanceof VeleroTool);
  assert.ok(platform.createTool({ type: 'csi-snapshot', options: {} }) instanceof CsiSnapshotTool);
  const restic = platform.createTool({ type: 'restic', options: {} });
  assert.ok(restic instanceof UnsupportedTool);
  assert.deepEqual(await restic.probe(), { ok: false, reason: 'restic runs on the local platform (platform.kind: local); this suite runs on Kubernetes' });

  await platform.dropVolumes(target);
  await within(platform.cleanup(), 20_000, 'cleanup');
  await platform.cleanup();
  assert.equal(fake.server.list('v1', 'namespaces', undefined, { labelSelector: 'pvbench.dev/run=run1' }).length, 0);
  assert.equal(s.disposed(), 1);
});

test('the outage writer: pods per volume, journal from followed logs, kill deletes them', async () => {
  const s = await setup();
  after(s.close);
  const { fake, platform } = s;
  await within(platform.prepare(), 20_000, 'prepare');
  const set = await within(platform.seedVolumes('velero-fs-outage-1', workload, 7), 20_000, 'seed');
  const ns = 'pvbench-velero-fs-outage-1';
  // The writer pods print "ready" then acknowledgements; the kubelet here feeds their logs.
  const feeding = (async () => {
    const deadline = Date.now() + 15_000;
    const fed = new Set<string>();
    while (fed.size < 2 && Date.now() < deadline) {
      for (const p of fake.server.list('v1', 'pods', ns, { labelSelector: 'pvbench.dev/role=writer' })) {
        const name = (p.metadata as { name: string }).name;
        if ((p.status as { phase?: string } | undefined)?.phase !== 'Running' || fed.has(name)) continue;
        const vol = name.includes('proxy-0') ? 0 : 1;
        fake.server.setPodLog(ns, name, `ready 30\nW ${1000 + vol} ${40 + vol}\nW ${2000 + vol} 50\nW 2500 50\n`, 'main');
        fed.add(name);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const writer = await within(platform.startWriter(set, 100, 7), 20_000, 'writer start');
  await feeding;
  const writers = fake.server.list('v1', 'pods', ns, { labelSelector: 'pvbench.dev/role=writer' });
  assert.equal(writers.length, 2);
  const w0 = writers.find((p) => (p.metadata as { name: string }).name.includes('proxy-0'))!;
  const wspec = w0.spec as { containers: { command: string[] }[]; nodeName: string };
  assert.deepEqual(wspec.containers[0]!.command.slice(3), ['/data/logs/access.log', `/input/${wspec.containers[0]!.command[4]!.split('/')[2]}/feed.log`, '50']);
  assert.equal(wspec.nodeName, 'node-1');
  for (const p of writers) fake.server.appendPodLog(ns, (p.metadata as { name: string }).name, 'W 3000 60\n', 'main');
  const deadline = Date.now() + 10_000;
  while ((await writer.journal()).length < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await within(writer.kill(), 20_000, 'kill');
  assert.equal(fake.server.list('v1', 'pods', ns, { labelSelector: 'pvbench.dev/role=writer' }).length, 0);
  const journal = await writer.journal();
  assert.deepEqual(
    journal.map((e) => `${e.t} ${e.path} ${e.end}`),
    ['1000 proxy-0/logs/access.log 40', '1001 proxy-1/logs/access.log 41', '2000 proxy-0/logs/access.log 50', '2001 proxy-1/logs/access.log 50', '3000 proxy-0/logs/access.log 60', '3000 proxy-1/logs/access.log 60'],
    'entries that do not advance the end offset are dropped',
  );
  assert.match(writer.describe(), /workload writer pods .* \(100 fsync'd writes\/s\)/);
  await platform.cleanup();
});

test('prepare fails with a preflight error naming the missing permission', async () => {
  const s = await setup({ deny: [{ verb: 'create', resource: 'namespaces' }] });
  after(s.close);
  await assert.rejects(s.platform.prepare(), (e: unknown) => e instanceof PreflightError && /missing: permission to create namespaces cluster-wide/.test(e.message));
});

test('a kind cluster is reported as created before `kind create` returns (so a cancelled job can delete it), unless kept', async () => {
  for (const keep of [false, true]) {
    let createStarted!: () => void;
    const started = new Promise<void>((r) => (createStarted = r));
    let releaseCreate!: () => void;
    const released = new Promise<void>((r) => (releaseCreate = r));
    const spawner: Spawner = async (_cmd, args) => {
      if (args[0] === 'create') {
        createStarted();
        // Still creating when the job is cancelled; then creation fails, and prepare() must reject.
        await released;
        return { exitCode: 1, stdout: '', stderr: 'ERROR: interrupted' };
      }
      return { exitCode: 0, stdout: '', stderr: '' }; // kind version; kind get clusters: none
    };
    const told: { kind: string; value: string }[] = [];
    const cfg = kubernetesPlatformSchema.parse({ kind: 'kubernetes', cluster: { mode: 'kind', name: 'bench-a', keep } });
    const platform = new KubernetesPlatform(cfg, { workload } as Suite, { clusterDeps: { spawner }, onCreated: (w) => told.push(w), log: () => undefined });
    const prepared = platform.prepare();
    prepared.catch(() => undefined);
    await within(started, 10_000, 'kind create');
    assert.deepEqual(told, keep ? [] : [{ kind: 'kind-cluster', value: 'bench-a' }], `keep: ${keep}: reported while kind create is still running`);
    releaseCreate();
    await assert.rejects(within(prepared, 10_000, 'prepare'), /kind create cluster failed/);
  }
});
