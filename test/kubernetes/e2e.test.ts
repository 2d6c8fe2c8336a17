// The whole path on the fake cluster: pvbench's suite runner, fault scenarios, the Kubernetes platform and the CSI
// snapshot tool, with a simulated kubelet, snapshot controller and CSI driver (test/kubernetes/world.ts).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startFake, within } from './helpers.ts';
import { downNodes, pvbenchKubelet, snapshotWorld, veleroWorld } from './world.ts';
import type { Spawner } from '../../src/platform/kubernetes/spawn.ts';
import { suiteSchema } from '../../src/config/schema.ts';
import { KubernetesPlatform } from '../../src/platform/kubernetes/platform.ts';
import type { Cluster } from '../../src/platform/kubernetes/cluster.ts';
import { csiHostpathSnapshotClass, csiHostpathStorageClass } from '../../src/tools/csi-snapshot-objects.ts';
import { runSuite } from '../../src/suite/run.ts';
import type { ResultsFile } from '../../src/suite/results.ts';

test('a csi-snapshot suite runs end to end on the simulated cluster', async () => {
  const fake = await startFake({ nodes: ['node-1'] });
  const offKubelet = pvbenchKubelet(fake);
  const offSnapshots = snapshotWorld(fake.server);
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-e2e-'));
  after(async () => {
    offKubelet();
    offSnapshots();
    await fake.server.close();
    await rm(dir, { recursive: true, force: true });
  });
  fake.server.put({ ...csiHostpathStorageClass(), metadata: { name: 'csi-hostpath-sc' } });
  fake.server.put(csiHostpathSnapshotClass());
  fake.server.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'csi-hostpathplugin-0', namespace: 'default', labels: { 'app.kubernetes.io/name': 'csi-hostpathplugin' } }, spec: { nodeName: 'node-1', containers: [{ name: 'hostpath', image: 'x' }] }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });

  const suite = suiteSchema.parse({
    name: 'e2e',
    trials: 1,
    platform: { kind: 'kubernetes', cluster: { mode: 'existing' }, storageClass: 'csi-hostpath-sc', timeouts: { backupSeconds: 20, restoreSeconds: 20, readySeconds: 20 } },
    workload: { proxies: 2, accessLogLines: 10, statsSnapshots: 1, clusters: 1 },
    tools: [{ type: 'csi-snapshot' }, { type: 'restic', optional: true }],
    scenarios: [
      { name: 'no-fault', fault: { kind: 'none' }, incremental: true },
      { name: 'corrupt-volume', fault: { kind: 'corrupt-volume', bitFlips: 1, truncate: 1, delete: 1 }, incremental: false },
      { name: 'corrupt-repository', fault: { kind: 'corrupt-repository', bitFlips: 1 }, incremental: false },
    ],
  });
  if (suite.platform.kind !== 'kubernetes') throw new Error('unreachable');
  const cluster: Cluster = { kc: fake.kc, kube: fake.kube, kubeconfigPath: '/dev/null', created: false, describe: () => 'fake cluster', dispose: async () => undefined };
  const platform = new KubernetesPlatform(suite.platform, suite, { cluster, runId: 'e2e', cliBundle: async () => gzipSync(Buffer.from('x')), log: () => undefined, metricsSource: 'none' });
  const logs: string[] = [];
  const resultsPath = join(dir, 'results.json');
  let results: ResultsFile;
  try {
    results = await within(runSuite({ suite, suiteFile: 'e2e.yaml', platform, resultsPath, log: (m) => logs.push(m) }), 60_000, 'suite');
  } finally {
    await platform.cleanup();
  }
  assert.deepEqual(
    results.tools.map((t) => [t.name, t.status, t.reason ?? t.version]),
    [
      ['csi-snapshot', 'ok', 'snapshot.storage.k8s.io/v1 (driver hostpath.csi.k8s.io, class csi-hostpath-snapclass)'],
      ['restic', 'skipped', 'restic runs on the local platform (platform.kind: local); this suite runs on Kubernetes'],
    ],
  );
  // The time line splits a local run's time; on a cluster the rest of a trial is the cluster's work, not pvbench's.
  assert.deepEqual(logs.filter((l) => l.startsWith('time: ')), []);
  const byScenario = new Map(results.trials.map((t) => [t.scenario, t]));
  const noFault = byScenario.get('no-fault')!;
  assert.equal(noFault.status, 'passed', noFault.error);
  assert.equal(noFault.integrity?.ok, true);
  assert.equal(noFault.integrity?.files, 4);
  assert.equal(noFault.backup?.source, 'kubernetes');
  assert.ok(noFault.incremental, 'churn + incremental snapshot');
  assert.equal(noFault.repository?.sizeBytes, 4 * 256 * 2 ** 20, 'two snapshot groups of two 256Mi volumes');

  const corruptVolume = byScenario.get('corrupt-volume')!;
  assert.equal(corruptVolume.status, 'passed', corruptVolume.error);
  assert.equal(corruptVolume.fault.detected, true);
  assert.match(corruptVolume.fault.description, /flipped a bit in 1, truncated 1 to half, deleted 1 of 4 files; the manifest check found/);

  // CSI snapshots carry no checksums: flipped bits in the stored snapshot come back silently.
  const corruptRepo = byScenario.get('corrupt-repository')!;
  assert.equal(corruptRepo.status, 'failed');
  assert.match(corruptRepo.fault.description, /flipped 1 bit\(s\) in 1 hostpath snapshot file\(s\) on node-1; SILENT CORRUPTION/);
  assert.equal(corruptRepo.check?.ok, true);

  const onDisk = JSON.parse(await readFile(resultsPath, 'utf8')) as ResultsFile;
  assert.equal(onDisk.run.complete, true);
  assert.equal(fake.server.list('v1', 'namespaces', undefined, { labelSelector: 'pvbench.dev/run=e2e' }).length, 0, 'cleanup removed every namespace of the run');
  assert.equal(fake.server.list('snapshot.storage.k8s.io/v1', 'volumesnapshotcontents', undefined, { labelSelector: 'pvbench.dev/run=e2e' }).length, 0);
});

test('a velero-fs suite runs end to end: the crash fault kills the node agent, recovery and retry follow; a corrupted repository fails the restore loudly', async () => {
  const fake = await startFake({ nodes: ['node-1'] });
  const velero = veleroWorld(fake.server);
  const offKubelet = pvbenchKubelet(fake, velero.task);
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-e2e-velero-'));
  after(async () => {
    offKubelet();
    velero.off();
    await fake.server.close();
    await rm(dir, { recursive: true, force: true });
  });
  fake.server.put({ ...csiHostpathStorageClass(), metadata: { name: 'csi-hostpath-sc', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } });
  // The crash scenario's first backup is held at 50% until the node agent dies.
  fake.server.on('create', { apiVersion: 'v1', kind: 'Namespace' }, (ns) => {
    if ((ns.metadata as { name: string }).name === 'pvbench-velero-fs-crash-backup-1') velero.holdNextBackup = true;
  });
  const suite = suiteSchema.parse({
    name: 'e2e-velero',
    trials: 1,
    platform: { kind: 'kubernetes', cluster: { mode: 'existing' }, timeouts: { backupSeconds: 20, restoreSeconds: 20, readySeconds: 20 } },
    workload: { proxies: 2, accessLogLines: 10, statsSnapshots: 1, clusters: 1 },
    tools: [{ type: 'velero-fs' }],
    scenarios: [
      { name: 'no-fault', fault: { kind: 'none' }, incremental: true },
      { name: 'crash-backup', fault: { kind: 'crash', phase: 'backup', at: 0.3, retries: 2 }, incremental: false },
      { name: 'corrupt-repository', fault: { kind: 'corrupt-repository', bitFlips: 2 }, incremental: false },
    ],
  });
  if (suite.platform.kind !== 'kubernetes') throw new Error('unreachable');
  const cluster: Cluster = { kc: fake.kc, kube: fake.kube, kubeconfigPath: '/dev/null', created: false, describe: () => 'fake cluster', dispose: async () => undefined };
  const platform = new KubernetesPlatform(suite.platform, suite, { cluster, runId: 'e2ev', cliBundle: async () => gzipSync(Buffer.from('x')), log: () => undefined, metricsSource: 'none' });
  let results: ResultsFile;
  try {
    results = await within(runSuite({ suite, suiteFile: 'e2e.yaml', platform, resultsPath: join(dir, 'results.json'), log: () => undefined }), 60_000, 'suite');
  } finally {
    await platform.cleanup();
  }
  assert.deepEqual(results.tools.map((t) => [t.name, t.status, t.version]), [['velero-fs', 'ok', 'v1.17.0 (file-system backup, kopia)']]);
  const byScenario = new Map(results.trials.map((t) => [t.scenario, t]));
  const noFault = byScenario.get('no-fault')!;
  assert.equal(noFault.status, 'passed', noFault.error);
  assert.equal(noFault.integrity?.files, 4);
  assert.equal(noFault.backup?.bytesProcessed, 2000);

  const crash = byScenario.get('crash-backup')!;
  assert.equal(crash.status, 'passed', crash.error);
  assert.equal(crash.fault.injected, true);
  assert.equal(crash.backup?.attempts, 2);
  assert.match(crash.fault.description, /^deleted Velero node-agent pod node-agent-1 on node-1 \(backup in phase InProgress\) at 50% of the backup; the crashed backup ended \d+\.\d s after the kill \(failed: backup \S+ partially failed \(1 error\(s\), 0 warning\(s\)\)\); 0 stale lock\(s\); succeeded on attempt 2$/);
  assert.match(String(crash.fault.details.recoveryActions), /deleted PartiallyFailed backup pvbench-e2ev-velero-fs-crash-backup-1-b1 and its data/);

  const corrupt = byScenario.get('corrupt-repository')!;
  assert.equal(corrupt.status, 'passed', corrupt.error);
  assert.equal(corrupt.fault.detected, true);
  assert.match(corrupt.fault.description, /^flipped 2 bit\(s\) in 1 kopia pack blob\(s\) of 1 in object storage; check passed; restore failed loudly; no repair path in this tool$/);
  assert.match(String(corrupt.fault.details.restoreError), /restore .* partially failed .*PodVolumeRestore vol-0 Failed: error to restore: unable to get object: invalid checksum/);
  assert.equal(fake.server.list('velero.io/v1', 'backups', 'velero').length, 0, 'every backup deleted at cleanup');
  assert.equal(fake.server.list('velero.io/v1', 'backupstoragelocations', 'velero', { labelSelector: 'pvbench.dev/run=e2ev' }).length, 0);
  // What each trial wrote to object storage is removed with it: its own prefix, beside the default location's.
  assert.deepEqual(velero.removedPrefixes.sort(), ['pvbench/e2ev/velero-fs-corrupt-repository-1', 'pvbench/e2ev/velero-fs-crash-backup-1', 'pvbench/e2ev/velero-fs-no-fault-1']);
});

test('a node outage on kind: the node container is killed mid-backup and started again; restore, RTO and RPO follow', async () => {
  const fake = await startFake({ nodes: ['node-1'] });
  const offKubelet = pvbenchKubelet(fake, undefined, { simulateWriters: true });
  // Snapshots take 1.5 s to become ready, so the outage (afterMs 100) catches the second backup in flight.
  const offSnapshots = snapshotWorld(fake.server, { readyAfterMs: 1500 });
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-e2e-node-'));
  after(async () => {
    offKubelet();
    offSnapshots();
    downNodes.clear();
    await fake.server.close();
    await rm(dir, { recursive: true, force: true });
  });
  fake.server.put({ ...csiHostpathStorageClass(), metadata: { name: 'csi-hostpath-sc' } });
  fake.server.put(csiHostpathSnapshotClass());
  fake.server.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'csi-hostpathplugin-0', namespace: 'default', labels: { 'app.kubernetes.io/name': 'csi-hostpathplugin' } }, spec: { nodeName: 'node-1', containers: [{ name: 'hostpath', image: 'x' }] }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });

  // The container runtime: kill marks the node down (its writers stop); start brings it back, Ready 50 ms later.
  const runtime: string[] = [];
  const setReady = (status: string) => {
    const node = fake.server.get('v1', 'nodes', undefined, 'node-1')!;
    // A kubelet's first heartbeat after the restart: stamped in a later second than the restart (whole seconds).
    const t = new Date(Date.now() + 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    (node.status as { conditions: object[] }).conditions = [{ type: 'Ready', status, reason: 'KubeletReady', lastHeartbeatTime: t, lastTransitionTime: t }];
    fake.server.put(node);
  };
  const spawner: Spawner = async (cmd, args) => {
    runtime.push([cmd, ...args].join(' '));
    if (args[0] === 'kill') {
      downNodes.add(args[1]!);
      setReady('Unknown');
    }
    if (args[0] === 'start') {
      setTimeout(() => {
        downNodes.delete(args[1]!);
        setReady('True');
        // The node's pods come back with it: the CSI driver is Ready again, since the restart.
        const t = new Date(Date.now() + 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
        fake.server.setStatus('v1', 'pods', 'default', 'csi-hostpathplugin-0', { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: t }] });
      }, 50);
    }
    return { exitCode: 0, stdout: '', stderr: '' };
  };

  const suite = suiteSchema.parse({
    name: 'e2e-node',
    trials: 1,
    platform: { kind: 'kubernetes', cluster: { mode: 'kind', name: 'pvbench' }, storageClass: 'csi-hostpath-sc', timeouts: { backupSeconds: 20, restoreSeconds: 20, readySeconds: 20 } },
    workload: { proxies: 2, accessLogLines: 10, statsSnapshots: 1, clusters: 1 },
    tools: [{ type: 'csi-snapshot' }],
    scenarios: [{ name: 'outage-node', fault: { kind: 'outage', scope: 'node', writesPerSecond: 100, afterMs: 100 }, incremental: false }],
  });
  if (suite.platform.kind !== 'kubernetes') throw new Error('unreachable');
  const cluster: Cluster = { kc: fake.kc, kube: fake.kube, kubeconfigPath: '/dev/null', created: false, describe: () => 'fake kind cluster', dispose: async () => undefined };
  const platform = new KubernetesPlatform(suite.platform, suite, { cluster, runId: 'e2en', cliBundle: async () => gzipSync(Buffer.from('x')), log: () => undefined, metricsSource: 'none', spawner });
  let results: ResultsFile;
  try {
    results = await within(runSuite({ suite, suiteFile: 'e2e.yaml', platform, resultsPath: join(dir, 'results.json'), log: () => undefined }), 60_000, 'suite');
  } finally {
    await platform.cleanup();
  }
  const t = results.trials[0]!;
  assert.equal(t.status, 'passed', t.error);
  assert.equal(t.fault.injected, true, t.fault.description);
  assert.deepEqual(runtime, ['docker kill node-1', 'docker start node-1']);
  assert.match(
    t.fault.description,
    /^docker kill node-1 \(the kind node hosting the volumes\) mid-backup \(the backup then (completed|failed)\), with workload writer pods .*; docker start node-1: Ready again after \d+\.\d s; restored (the last completed backup|the latest snapshot); \d+ of \d+ acknowledged writes lost$/,
  );
  assert.equal(t.fault.details.scope, 'node');
  // Recovery waited for the driver's pod to be Ready since the outage, not for a status from before it.
  assert.match(String(t.fault.details.recoveryActions), /CSI driver pods csi-hostpathplugin-0 Ready again since the outage after \d+\.\d s/);
  assert.ok((t.fault.details.acknowledgedWrites as number) > 0, 'the simulated writers acknowledged writes before the outage');
  assert.equal(t.integrity?.ok, true, 'restored logs are prefixes of the logs at the outage; other files match');
  const recoveredInMs = Number(/Ready again after (\d+\.\d) s/.exec(String(t.fault.details.nodeRecovery))?.[1]) * 1000;
  assert.ok(recoveredInMs >= 0, String(t.fault.details.nodeRecovery));
  assert.ok(t.rtoMs !== undefined && t.rtoMs >= recoveredInMs - 50, `RTO ${t.rtoMs} ms includes the node's recovery (${recoveredInMs} ms)`);
  assert.ok(t.rpoMs !== undefined && t.rpoMs > 0, `RPO ${t.rpoMs} ms: writes after the first backup are lost`);
});
