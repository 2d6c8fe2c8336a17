// A small simulated cluster for the Kubernetes tests: volume contents in memory, a kubelet that runs pvbench's pod
// commands against them (seed, churn, manifest, prefix hashes, corruption), and a snapshot controller + CSI driver
// that copy volume contents into snapshots and back into PVCs restored from them.
import { createHash } from 'node:crypto';
import { fakeKubelet, labelsOf } from './helpers.ts';
import type { Fake } from './helpers.ts';
import type { FakeApiServer, KubeObject } from '../fake-apiserver/server.ts';
import { CLI_PATH, RESULT_PREFIX } from '../../src/platform/kubernetes/objects.ts';
import type { Manifest } from '../../src/metrics/types.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** What the volumes "contain", per namespace and volume: path → content. */
export const disks = new Map<string, Map<string, string>>();
export function disk(ns: string, volume: string): Map<string, string> {
  const key = `${ns}/${volume}`;
  let d = disks.get(key);
  if (!d) disks.set(key, (d = new Map()));
  return d;
}
/** Snapshot contents by handle (the hostpath driver's <handle>.snap files). */
export const stored = new Map<string, Map<string, string>>();

export function manifestOf(d: Map<string, string>): Manifest {
  const files = [...d].sort(([a], [b]) => (a < b ? -1 : 1)).map(([path, c]) => ({ path, size: Buffer.byteLength(c), sha256: sha(c) }));
  return { files, bytes: files.reduce((s, f) => s + f.size, 0) };
}

/** Nodes whose container is "killed" (a node outage): writers on them stop writing. */
export const downNodes = new Set<string>();

/**
 * An outage writer pod as the real one behaves: "ready", then every 10 ms an appended access-log line and its
 * acknowledgement "W <ms> <end offset>", until the pod is deleted or its node goes down.
 */
function simulateWriter(server: FakeApiServer, ns: string, name: string, node: string, d: Map<string, string>): void {
  setTimeout(() => {
    if (!server.get('v1', 'pods', ns, name)) return;
    server.setPodLog(ns, name, 'ready 0\n', 'main');
    const timer = setInterval(() => {
      if (!server.get('v1', 'pods', ns, name) || downNodes.has(node)) return clearInterval(timer);
      const log = `${d.get('logs/access.log') ?? ''}written ${Date.now()}\n`;
      d.set('logs/access.log', log);
      server.appendPodLog(ns, name, `W ${Date.now()} ${Buffer.byteLength(log)}\n`, 'main');
    }, 10);
  }, 0);
}

/** The kubelet: runs pvbench's pod commands against `disks`; with simulateWriters, outage writer pods write. */
export function pvbenchKubelet(fake: Fake, extra?: (pod: KubeObject) => { log?: string; exitCode?: number } | undefined, opts: { simulateWriters?: boolean } = {}): () => void {
  return fakeKubelet(fake.server, {
    task: (pod) => {
      const handled = extra?.(pod);
      if (handled) return handled;
      const meta = pod.metadata as { namespace: string };
      const spec = pod.spec as { containers: { command: string[] }[]; volumes: { persistentVolumeClaim?: { claimName: string } }[] };
      const cmd = spec.containers[0]!.command;
      const claim = spec.volumes.find((v) => v.persistentVolumeClaim)?.persistentVolumeClaim?.claimName ?? '';
      const d = disk(meta.namespace, claim);
      if (cmd[1] === CLI_PATH && cmd[2] === 'seed') {
        d.set('config_dump.json', `{"proxy":${cmd[6]},"seed":${cmd[8]}}`);
        d.set('logs/access.log', 'line 1\nline 2\n');
        return { log: '{"volume":"/data","bytes":42}\n' };
      }
      if (cmd[1] === CLI_PATH && cmd[2] === 'churn') {
        d.set('logs/access.log', `${d.get('logs/access.log') ?? ''}churned\n`);
        return {};
      }
      if (cmd[1] === CLI_PATH && cmd[2] === 'manifest') return { log: `${JSON.stringify(manifestOf(d))}\n` };
      if (cmd[1] === '-e' && cmd[3] === '/source') {
        const out = [];
        for (let i = 4; i + 1 < cmd.length; i += 2) {
          const c = d.get(cmd[i]!);
          const prefix = c === undefined ? undefined : Buffer.from(c).subarray(0, Number(cmd[i + 1])).toString();
          out.push(prefix === undefined ? { path: cmd[i], size: -1, sha256: '' } : { path: cmd[i], size: Buffer.byteLength(prefix), sha256: sha(prefix) });
        }
        return { log: `${RESULT_PREFIX}${JSON.stringify(out)}\n` };
      }
      if (cmd[1] === '-e' && cmd[3] === '/data') {
        const actions = JSON.parse(cmd[4]!) as { op: string; path: string }[];
        for (const a of actions) {
          if (a.op === 'delete') d.delete(a.path);
          else if (a.op === 'truncate') d.set(a.path, (d.get(a.path) ?? '').slice(0, Math.floor((d.get(a.path) ?? '').length / 2)));
          else d.set(a.path, `${d.get(a.path) ?? ''}!`);
        }
        return { log: `${RESULT_PREFIX}${JSON.stringify(actions.map((a) => ({ ...a, ok: true })))}\n` };
      }
      if (cmd[1] === '-e' && cmd[3] === '/csi-data') {
        // Bit flips in the hostpath driver's snapshot files: the stored copy changes.
        const actions = JSON.parse(cmd[4]!) as { op: string; path: string }[];
        const out = actions.map((a) => {
          const snap = stored.get(a.path.replace(/\.snap$/, ''));
          const first = snap ? [...snap.keys()].sort()[0] : undefined;
          if (!snap || first === undefined) return { ...a, ok: false, error: 'ENOENT' };
          snap.set(first, `${snap.get(first)}~`);
          return { ...a, ok: true };
        });
        return { log: `${RESULT_PREFIX}${JSON.stringify(out)}\n` };
      }
      if (cmd[1] === '-e' && cmd[3] === `/data/logs/access.log`) {
        if (opts.simulateWriters) simulateWriter(fake.server, meta.namespace, (pod.metadata as { name: string }).name, (pod.spec as { nodeName?: string }).nodeName ?? 'node-1', d);
        return 'running';
      }
      return {};
    },
  });
}


/**
 * Snapshot controller + CSI driver: a VolumeSnapshot of a PVC copies the volume's contents under a new handle; a
 * pre-provisioned one (from a content) is ready at once; a PVC with a VolumeSnapshot dataSource gets that content.
 */
export function snapshotWorld(server: FakeApiServer, opts: { readyAfterMs?: number } = {}): () => void {
  const S = 'snapshot.storage.k8s.io/v1';
  let handles = 0;
  const offSnap = server.onCreate(S, 'volumesnapshots', (vs, ctx) => {
    if (ctx.source !== 'api') return;
    const meta = vs.metadata as { name: string; namespace: string };
    const src = (vs.spec as { source: { persistentVolumeClaimName?: string; volumeSnapshotContentName?: string } }).source;
    if (src.volumeSnapshotContentName) {
      server.setStatus(S, 'volumesnapshots', meta.namespace, meta.name, { boundVolumeSnapshotContentName: src.volumeSnapshotContentName, readyToUse: true, restoreSize: '256Mi' });
      return;
    }
    const handle = `handle-${++handles}`;
    stored.set(handle, new Map(disk(meta.namespace, src.persistentVolumeClaimName!)));
    const content = `snapcontent-${meta.namespace}-${meta.name}`;
    server.put({
      apiVersion: S,
      kind: 'VolumeSnapshotContent',
      metadata: { name: content },
      spec: { deletionPolicy: 'Delete', driver: 'hostpath.csi.k8s.io', source: { volumeHandle: `vol-${meta.name}` }, volumeSnapshotClassName: 'csi-hostpath-snapclass', volumeSnapshotRef: { kind: 'VolumeSnapshot', name: meta.name, namespace: meta.namespace } },
      status: { readyToUse: true, snapshotHandle: handle, restoreSize: 268435456 },
    });
    const ready = () => {
      if (server.get(S, 'volumesnapshots', meta.namespace, meta.name)) server.setStatus(S, 'volumesnapshots', meta.namespace, meta.name, { boundVolumeSnapshotContentName: content, readyToUse: true, restoreSize: '256Mi' });
    };
    if (opts.readyAfterMs) setTimeout(ready, opts.readyAfterMs);
    else ready();
  });
  const offClaim = server.onCreate('v1', 'persistentvolumeclaims', (claim, ctx) => {
    if (ctx.source !== 'api') return;
    const meta = claim.metadata as { name: string; namespace: string };
    const ds = (claim.spec as { dataSource?: { kind: string; name: string } }).dataSource;
    if (ds?.kind === 'VolumeSnapshot') {
      const vs = server.get(S, 'volumesnapshots', meta.namespace, ds.name);
      const contentName = (vs?.status as { boundVolumeSnapshotContentName?: string } | undefined)?.boundVolumeSnapshotContentName;
      const content = contentName ? server.get(S, 'volumesnapshotcontents', undefined, contentName) : undefined;
      const handle = (content?.status as { snapshotHandle?: string } | undefined)?.snapshotHandle ?? (content?.spec as { source?: { snapshotHandle?: string } } | undefined)?.source?.snapshotHandle;
      const data = handle ? stored.get(handle) : undefined;
      if (data) disks.set(`${meta.namespace}/${meta.name}`, new Map(data));
    }
    server.setStatus('v1', 'persistentvolumeclaims', meta.namespace, meta.name, { phase: 'Bound', capacity: { storage: '256Mi' } });
  });
  return () => {
    offSnap();
    offClaim();
  };
}

export interface VeleroWorld {
  /** Hold the next backup's PodVolumeBackups at 50% until the node agent is killed. */
  holdNextBackup: boolean;
  /** Backups whose repository data had bits flipped (restores of them fail the way kopia does). */
  corrupted: Set<string>;
  /** Prefixes the S3 helper pod was asked to empty (what a trial wrote, removed at its cleanup). */
  removedPrefixes: string[];
  /** Answers the S3 helper pods; pass to pvbenchKubelet. */
  task: (pod: KubeObject) => { log?: string } | undefined;
  off(): void;
}

/**
 * Velero, played: the server and node agent exist and are ready; Backups copy the labelled pods' volumes into the
 * "repository" through PodVolumeBackups; Restores bring PVCs and proxy pods back into the mapped namespace; a deleted
 * node-agent pod fails in-progress PodVolumeBackups (and their Backup) and comes back; DeleteBackupRequests delete;
 * the S3 helper pod lists and corrupts the repository's pack blobs.
 */
export function veleroWorld(server: FakeApiServer): VeleroWorld {
  const V = 'velero.io/v1';
  const now = () => new Date().toISOString();
  if (!server.get('v1', 'namespaces', undefined, 'velero')) server.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'velero' } });
  server.put({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'velero', namespace: 'velero' }, spec: { selector: { matchLabels: { deploy: 'velero' } }, template: { metadata: { labels: { deploy: 'velero' } }, spec: { containers: [{ name: 'velero', image: 'velero/velero:v1.17.0' }] } } }, status: { availableReplicas: 1, replicas: 1 } });
  server.put({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'node-agent', namespace: 'velero' }, spec: { selector: { matchLabels: { name: 'node-agent' } }, template: { metadata: { labels: { name: 'node-agent' } }, spec: { containers: [{ name: 'node-agent', image: 'velero/velero:v1.17.0' }] } } }, status: { desiredNumberScheduled: 1, numberReady: 1, numberUnavailable: 0 } });
  let agents = 0;
  const agent = () => server.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `node-agent-${++agents}`, namespace: 'velero', labels: { name: 'node-agent' } }, spec: { nodeName: 'node-1', containers: [{ name: 'node-agent', image: 'velero/velero:v1.17.0' }] }, status: { phase: 'Running' } });
  agent();
  server.put({ apiVersion: V, kind: 'BackupStorageLocation', metadata: { name: 'default', namespace: 'velero' }, spec: { provider: 'aws', default: true, objectStorage: { bucket: 'velero', prefix: 'velero' }, config: { region: 'minio', s3Url: 'http://minio.minio.svc:9000' } }, status: { phase: 'Available' } });

  const world: VeleroWorld = { holdNextBackup: false, corrupted: new Set(), removedPrefixes: [], task: () => undefined, off: () => undefined };
  const data = new Map<string, { ns: string; prefix: string; volumes: Map<string, Map<string, string>> }>();
  const pvb = (backup: string, ns: string, volume: string, phase: string, done: number) => ({
    apiVersion: V,
    kind: 'PodVolumeBackup',
    metadata: { name: `${backup}-${volume}`, namespace: 'velero', labels: { 'velero.io/backup-name': backup } },
    spec: { backupStorageLocation: 'x', node: 'node-1', pod: { kind: 'Pod', namespace: ns, name: volume }, repoIdentifier: '', volume: 'vol-0', uploaderType: 'kopia' },
    status: { phase, progress: { totalBytes: 1000, bytesDone: done }, ...(phase === 'Completed' ? { incrementalBytes: 1000 } : {}), ...(phase === 'Failed' ? { message: 'found a podvolumebackup with status "InProgress" during the server starting, mark it as "Failed"' } : {}) },
  });
  const offs = [
    server.onCreate(V, 'backupstoragelocations', (o, ctx) => {
      if (ctx.source === 'api') server.setStatus(V, 'backupstoragelocations', 'velero', (o.metadata as { name: string }).name, { phase: 'Available' });
    }),
    server.onCreate(V, 'backups', (o, ctx) => {
      if (ctx.source !== 'api') return;
      const name = (o.metadata as { name: string }).name;
      const spec = o.spec as { includedNamespaces: string[]; labelSelector: { matchLabels: Record<string, string> }; storageLocation: string };
      const ns = spec.includedNamespaces[0]!;
      const selector = Object.entries(spec.labelSelector.matchLabels).map(([k, v]) => `${k}=${v}`).join(',');
      const volumes = server.list('v1', 'pods', ns, { labelSelector: selector }).map((p) => (p.metadata as { name: string }).name).sort();
      server.setStatus(V, 'backups', 'velero', name, { phase: 'InProgress', startTimestamp: now(), progress: { totalItems: 4, itemsBackedUp: 2 } });
      if (world.holdNextBackup) {
        world.holdNextBackup = false;
        for (const v of volumes) server.put(pvb(name, ns, v, 'InProgress', 500));
        return;
      }
      const bsl = server.get(V, 'backupstoragelocations', 'velero', spec.storageLocation);
      const prefix = String((bsl?.spec as { objectStorage?: { prefix?: string } } | undefined)?.objectStorage?.prefix ?? '');
      data.set(name, { ns, prefix, volumes: new Map(volumes.map((v) => [v, new Map(disk(ns, v))])) });
      for (const v of volumes) server.put(pvb(name, ns, v, 'Completed', 1000));
      server.setStatus(V, 'backups', 'velero', name, { phase: 'Completed', startTimestamp: now(), completionTimestamp: now(), progress: { totalItems: 4, itemsBackedUp: 4 } });
    }),
    server.onDelete('v1', 'pods', (pod) => {
      const meta = pod.metadata as { namespace: string; labels?: Record<string, string> };
      if (meta.namespace !== 'velero' || meta.labels?.name !== 'node-agent') return;
      agent();
      for (const p of server.list(V, 'podvolumebackups', 'velero')) {
        if ((p.status as { phase: string }).phase !== 'InProgress') continue;
        const backup = String(labelsOf(p)['velero.io/backup-name']);
        const podRef = (p.spec as { pod: { namespace: string; name: string } }).pod;
        server.put(pvb(backup, podRef.namespace, podRef.name, 'Failed', 500));
        if (server.get(V, 'backups', 'velero', backup)) server.setStatus(V, 'backups', 'velero', backup, { phase: 'PartiallyFailed', errors: 1, startTimestamp: now(), completionTimestamp: now() });
      }
    }),
    server.onCreate(V, 'restores', (o, ctx) => {
      if (ctx.source !== 'api') return;
      const name = (o.metadata as { name: string }).name;
      const spec = o.spec as { backupName: string; namespaceMapping: Record<string, string> };
      const saved = data.get(spec.backupName);
      const target = Object.values(spec.namespaceMapping)[0]!;
      if (!saved) {
        server.setStatus(V, 'restores', 'velero', name, { phase: 'FailedValidation', validationErrors: [`backup ${spec.backupName} not found`] });
        return;
      }
      const broken = world.corrupted.has(spec.backupName);
      for (const [v, files] of saved.volumes) {
        server.put({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: v, namespace: target }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '256Mi' } } }, status: { phase: 'Bound' } });
        server.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: v, namespace: target }, spec: { nodeName: 'node-1', containers: [{ name: 'main', image: 'node:24-slim' }], volumes: [{ name: 'vol-0', persistentVolumeClaim: { claimName: v } }] }, status: { phase: 'Running' } });
        if (!broken) disks.set(`${target}/${v}`, new Map(files));
        server.put({
          apiVersion: V,
          kind: 'PodVolumeRestore',
          metadata: { name: `${name}-${v}`, namespace: 'velero', labels: { 'velero.io/restore-name': name } },
          spec: { backupStorageLocation: 'x', pod: { kind: 'Pod', namespace: target, name: v }, repoIdentifier: '', snapshotID: 'abc', sourceNamespace: saved.ns, volume: 'vol-0' },
          status: broken ? { phase: 'Failed', message: 'error to restore: unable to get object: invalid checksum' } : { phase: 'Completed', progress: { totalBytes: 1000, bytesDone: 1000 } },
        });
      }
      server.setStatus(V, 'restores', 'velero', name, broken ? { phase: 'PartiallyFailed', errors: saved.volumes.size } : { phase: 'Completed', startTimestamp: now(), completionTimestamp: now() });
    }),
    server.onCreate(V, 'deletebackuprequests', (o, ctx) => {
      if (ctx.source !== 'api') return;
      const backup = (o.spec as { backupName: string }).backupName;
      data.delete(backup);
      for (const p of server.list(V, 'podvolumebackups', 'velero', { labelSelector: `velero.io/backup-name=${backup}` })) server.delete(V, 'podvolumebackups', 'velero', (p.metadata as { name: string }).name);
      server.delete(V, 'backups', 'velero', backup);
    }),
  ];
  // The S3 helper pod (repository size, corruption), for pvbenchKubelet's `extra`.
  world.task = (pod) => {
    if ((pod.metadata as { labels?: Record<string, string> }).labels?.['pvbench.dev/role'] !== 'repository') return undefined;
    const cmd = (pod.spec as { containers: { command: string[] }[] }).containers[0]!.command;
    if (cmd[3] === 'list') {
      const prefix = cmd[4]!.replace(/\/kopia\/$/, '').replace(/\/$/, '');
      const keys = [...data].filter(([, d]) => d.prefix === prefix).map(([b, d]) => ({ key: `${d.prefix}/kopia/${d.ns}/p${Buffer.from(b).toString('hex')}`, size: 1000 }));
      return { log: `${RESULT_PREFIX}${JSON.stringify(keys)}\n` };
    }
    if (cmd[3] === 'rm') {
      const prefix = cmd[4]!.replace(/\/$/, '');
      world.removedPrefixes.push(prefix);
      return { log: `${RESULT_PREFIX}${JSON.stringify({ deleted: 0 })}\n` };
    }
    const flips = JSON.parse(cmd[4]!) as { key: string }[];
    for (const f of flips) world.corrupted.add(Buffer.from(f.key.slice(f.key.lastIndexOf('/p') + 2), 'hex').toString());
    return { log: `${RESULT_PREFIX}${cmd[4]}\n` };
  };
  world.off = () => {
    for (const off of offs) off();
  };
  return world;
}
