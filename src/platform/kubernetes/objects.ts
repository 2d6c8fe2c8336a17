// Pure builders of every Kubernetes object pvbench creates. Each carries the run label (pvbench.dev/run=<runId>)
// so that cleanup finds and deletes it, whatever happened to the run. No I/O here: the tests validate every
// custom resource against the upstream CRD schemas.
import { createHash } from 'node:crypto';
import type { WorkloadConfig } from '../../config/schema.ts';
import type { KubeObject } from './client.ts';

export const RUN_LABEL = 'pvbench.dev/run';
export const SET_LABEL = 'pvbench.dev/set';
export const ROLE_LABEL = 'pvbench.dev/role';
export const VOLUME_LABEL = 'pvbench.dev/volume';
export const TRIAL_LABEL = 'pvbench.dev/trial';
export const GROUP_LABEL = 'pvbench.dev/snapshot-group';
/** On what pvbench installs for good (MinIO): the run that installed it. */
export const INSTALLED_BY_LABEL = 'pvbench.dev/installed-by';
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'pvbench' } as const;

export const DEFAULT_POD_IMAGE = 'node:24-slim';
/** Where the unpacked CLI bundle lives inside pvbench's pods. ESM bundle, hence .mjs. */
export const CLI_PATH = '/pvbench/cli.mjs';
/** Lines of pod output that carry a machine-readable result start with this. */
export const RESULT_PREFIX = 'PVBENCH-RESULT ';

export type Role = 'proxy' | 'seed' | 'churn' | 'manifest' | 'prefix' | 'corrupt' | 'writer' | 'cli' | 'feed' | 'minio' | 'repository' | 'backup' | 'restore';

function shortHash(s: string, n = 8): string {
  return createHash('sha256').update(s).digest('hex').slice(0, n);
}

/**
 * A valid object name (RFC 1123 label, or subdomain when `max` > 63) derived from `raw`: lowercased, invalid
 * characters replaced, and, when too long, cut and suffixed with a hash of the whole so distinct inputs stay distinct.
 */
export function k8sName(raw: string, max = 63): string {
  let s = raw.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-+|-+$/g, '');
  if (!s) s = 'x';
  if (s.length > max) s = `${s.slice(0, max - 9).replace(/-+$/g, '')}-${shortHash(raw)}`;
  if (!/^[a-z0-9]/.test(s)) s = `x${s}`.slice(0, max);
  return s;
}

export function runLabels(runId: string, role?: Role, extra: Record<string, string> = {}): Record<string, string> {
  return { ...MANAGED_BY, [RUN_LABEL]: runId, ...(role ? { [ROLE_LABEL]: role } : {}), ...extra };
}

export function runSelector(runId: string): string {
  return `${RUN_LABEL}=${runId}`;
}

/** The namespace that holds one volume set. */
export function setNamespace(base: string, setId: string): string {
  return k8sName(`${base}-${setId}`);
}

/** VolumeSet.location on Kubernetes: "namespace/label-selector". */
export function setLocation(namespace: string, setId: string): string {
  return `${namespace}/${SET_LABEL}=${k8sName(setId)}`;
}

export function parseLocation(location: string): { namespace: string; selector: string } {
  const i = location.indexOf('/');
  if (i <= 0) throw new Error(`not a Kubernetes volume set location (namespace/selector): "${location}"`);
  return { namespace: location.slice(0, i), selector: location.slice(i + 1) };
}

export function namespace(name: string, runId: string, setId?: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: runLabels(runId, undefined, setId ? { [SET_LABEL]: k8sName(setId) } : {}) },
  };
}

// --- sizing ----------------------------------------------------------------------------------------------------

/** Bytes one proxy's volume holds after seeding and `rounds` churn steps (an upper estimate of the generator). */
export function estimateVolumeBytes(w: WorkloadConfig, rounds = 2): number {
  const line = 230;
  const seeded = 16_384 + w.accessLogLines * line + w.clusters * 2_400 + w.statsSnapshots * w.clusters * 700;
  const churn = w.churn.appendLines * line + w.churn.newStats * w.clusters * 700 + w.clusters * 2_400;
  return seeded + rounds * churn;
}

/** A PVC size with room for churn, the outage writer and filesystem overhead; at least 256Mi. */
export function volumeSize(w: WorkloadConfig): string {
  const mib = Math.ceil((estimateVolumeBytes(w) * 2) / 2 ** 20) + 64;
  return `${Math.max(256, mib)}Mi`;
}

// --- the CLI bundle, shipped in ConfigMaps ------------------------------------------------------------------------

/** binaryData per ConfigMap stays well below the 1 MiB object limit. */
export const CLI_CHUNK_BYTES = 700 * 1024;

export interface CliBundle {
  /** Content hash: ConfigMap names include it, so different bundles never mix. */
  hash: string;
  configMaps: string[];
}

/** The gzipped CLI bundle split into ConfigMaps (binaryData key "part"). */
export function cliConfigMaps(ns: string, runId: string, gz: Buffer, chunkBytes = CLI_CHUNK_BYTES): { bundle: CliBundle; objects: KubeObject[] } {
  const hash = createHash('sha256').update(gz).digest('hex').slice(0, 10);
  const objects: KubeObject[] = [];
  for (let i = 0, part = 0; i < gz.length || part === 0; i += chunkBytes, part++) {
    objects.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `pvbench-cli-${hash}-${part}`, namespace: ns, labels: runLabels(runId, 'cli') },
      binaryData: { part: gz.subarray(i, i + chunkBytes).toString('base64') },
    });
  }
  return { bundle: { hash, configMaps: objects.map((o) => o.metadata.name!) }, objects };
}

// Concatenates the parts in name order, gunzips, writes the bundle. Runs in an init container with plain node.
export const UNPACK_SCRIPT = `
const fs = require('node:fs'), zlib = require('node:zlib'), path = require('node:path');
const [dir, out] = process.argv.slice(1);
const parts = fs.readdirSync(dir).filter((n) => n.startsWith('part-')).sort();
if (parts.length === 0) { console.error('no CLI bundle parts in ' + dir); process.exit(1); }
const gz = Buffer.concat(parts.map((p) => fs.readFileSync(path.join(dir, p))));
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, zlib.gunzipSync(gz));
`;

// sha256 of the first N bytes of files (the prefix check of append-only logs). Args: root, then path/length pairs.
export const PREFIX_HASH_SCRIPT = `
const fs = require('node:fs'), crypto = require('node:crypto'), path = require('node:path');
const [root, ...rest] = process.argv.slice(1);
const out = [];
const buf = Buffer.allocUnsafe(1 << 20);
for (let i = 0; i + 1 < rest.length; i += 2) {
  const rel = rest[i], limit = Number(rest[i + 1]);
  let fd;
  try { fd = fs.openSync(path.join(root, rel), 'r'); } catch (e) { out.push({ path: rel, size: -1, sha256: '' }); continue; }
  const h = crypto.createHash('sha256');
  let size = 0;
  while (size < limit) {
    const n = fs.readSync(fd, buf, 0, Math.min(buf.length, limit - size), null);
    if (n === 0) break;
    h.update(buf.subarray(0, n));
    size += n;
  }
  fs.closeSync(fd);
  out.push({ path: rel, size, sha256: h.digest('hex') });
}
process.stdout.write('${RESULT_PREFIX}' + JSON.stringify(out) + '\\n');
`;

// Damages files of a volume. Args: root, JSON list of {op: flip|truncate|delete, path, offset?, bit?}.
export const CORRUPT_SCRIPT = `
const fs = require('node:fs'), path = require('node:path');
const [root, json] = process.argv.slice(1);
const out = [];
for (const a of JSON.parse(json)) {
  const p = path.join(root, a.path);
  try {
    if (a.op === 'flip') {
      const fd = fs.openSync(p, 'r+');
      const size = fs.fstatSync(fd).size;
      if (size === 0) { fs.closeSync(fd); throw new Error('empty file'); }
      a.offset = a.offset === undefined ? Math.floor((a.fraction || 0) * size) : Math.min(a.offset, size - 1);
      const b = Buffer.alloc(1);
      fs.readSync(fd, b, 0, 1, a.offset);
      b[0] ^= 1 << a.bit;
      fs.writeSync(fd, b, 0, 1, a.offset);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
    } else if (a.op === 'truncate') {
      fs.truncateSync(p, Math.floor(fs.statSync(p).size / 2));
    } else if (a.op === 'delete') {
      fs.unlinkSync(p);
    }
    out.push({ ...a, ok: true });
  } catch (e) {
    out.push({ ...a, ok: false, error: String(e && e.message) });
  }
}
process.stdout.write('${RESULT_PREFIX}' + JSON.stringify(out) + '\\n');
`;

// The outage writer: appends pre-generated access log lines at a fixed rate, fsyncs each, then prints
// "W <epoch ms> <end offset>" (the acknowledgement the journal is built from). Args: file, feed, writes/s.
export const WRITER_SCRIPT = `
const fs = require('node:fs'), path = require('node:path');
const [file, feed, rateArg] = process.argv.slice(1);
const rate = Number(rateArg);
const lines = fs.readFileSync(feed, 'utf8').split('\\n').filter(Boolean).map((l) => l + '\\n');
fs.mkdirSync(path.dirname(file), { recursive: true });
const fd = fs.openSync(file, 'a');
let end = fs.fstatSync(fd).size;
let n = 0;
const interval = 1000 / rate;
const started = performance.now();
process.stdout.write('ready ' + end + '\\n');
process.on('SIGTERM', () => process.exit(0));
(function tick() {
  const due = Math.floor((performance.now() - started) / interval) + 1;
  let out = '';
  while (n < due) {
    end += fs.writeSync(fd, lines[n % lines.length]);
    fs.fsyncSync(fd);
    out += 'W ' + Date.now() + ' ' + end + '\\n';
    n++;
  }
  if (out) process.stdout.write(out);
  setTimeout(tick, Math.max(1, interval / 2));
})();
`;

const HOLD_SCRIPT = `process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1 << 30);`;

// --- volumes and pods -------------------------------------------------------------------------------------------

export function pvc(opts: {
  name: string;
  namespace: string;
  runId: string;
  setId: string;
  storageClass?: string;
  size: string;
  fromSnapshot?: string;
}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: opts.name,
      namespace: opts.namespace,
      labels: runLabels(opts.runId, undefined, { [SET_LABEL]: k8sName(opts.setId), [VOLUME_LABEL]: opts.name }),
    },
    spec: {
      accessModes: ['ReadWriteOnce'],
      ...(opts.storageClass ? { storageClassName: opts.storageClass } : {}),
      resources: { requests: { storage: opts.size } },
      ...(opts.fromSnapshot ? { dataSource: { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: opts.fromSnapshot } } : {}),
    },
  };
}

export interface Mount {
  claim: string;
  mountPath: string;
  readOnly?: boolean;
}

export interface TaskPodOptions {
  name: string;
  namespace: string;
  runId: string;
  role: Role;
  image: string;
  command: string[];
  mounts: Mount[];
  /** Unpack the CLI bundle into /pvbench first. */
  cli?: CliBundle;
  /** ConfigMaps mounted read-only at /input/<name>. */
  inputs?: string[];
  nodeName?: string;
  extraLabels?: Record<string, string>;
}

function volumesAndMounts(o: TaskPodOptions) {
  const volumes: Record<string, unknown>[] = o.mounts.map((m, i) => ({ name: `vol-${i}`, persistentVolumeClaim: { claimName: m.claim, readOnly: m.readOnly ?? false } }));
  const mounts: Record<string, unknown>[] = o.mounts.map((m, i) => ({ name: `vol-${i}`, mountPath: m.mountPath, readOnly: m.readOnly ?? false }));
  const initContainers: Record<string, unknown>[] = [];
  if (o.cli) {
    volumes.push({
      name: 'cli-parts',
      projected: { sources: o.cli.configMaps.map((cm, i) => ({ configMap: { name: cm, items: [{ key: 'part', path: `part-${String(i).padStart(3, '0')}` }] } })) },
    });
    volumes.push({ name: 'cli', emptyDir: {} });
    mounts.push({ name: 'cli', mountPath: '/pvbench' });
    initContainers.push({
      name: 'unpack-cli',
      image: o.image,
      imagePullPolicy: 'IfNotPresent',
      command: ['node', '-e', UNPACK_SCRIPT, '/cli-parts', CLI_PATH],
      volumeMounts: [
        { name: 'cli-parts', mountPath: '/cli-parts', readOnly: true },
        { name: 'cli', mountPath: '/pvbench' },
      ],
      resources: { requests: { cpu: '50m', memory: '64Mi' } },
    });
  }
  for (const [i, cm] of (o.inputs ?? []).entries()) {
    volumes.push({ name: `input-${i}`, configMap: { name: cm } });
    mounts.push({ name: `input-${i}`, mountPath: `/input/${cm}`, readOnly: true });
  }
  return { volumes, mounts, initContainers };
}

/** What every pod pvbench runs shares: no service-account token, a short grace, one small "main" container. */
function helperPodSpec(o: {
  restartPolicy: 'Never' | 'Always';
  image: string;
  command: string[];
  nodeName?: string;
  env?: { name: string; value: string }[];
  volumeMounts: Record<string, unknown>[];
  volumes: Record<string, unknown>[];
  initContainers?: Record<string, unknown>[];
}) {
  return {
    restartPolicy: o.restartPolicy,
    terminationGracePeriodSeconds: 2,
    automountServiceAccountToken: false,
    ...(o.nodeName ? { nodeName: o.nodeName } : {}),
    ...(o.initContainers?.length ? { initContainers: o.initContainers } : {}),
    containers: [
      {
        name: 'main',
        image: o.image,
        imagePullPolicy: 'IfNotPresent',
        command: o.command,
        ...(o.env ? { env: o.env } : {}),
        volumeMounts: o.volumeMounts,
        resources: { requests: { cpu: '50m', memory: '64Mi' } },
      },
    ],
    volumes: o.volumes,
  };
}

function podSpec(o: TaskPodOptions, restartPolicy: 'Never' | 'Always') {
  const { volumes, mounts, initContainers } = volumesAndMounts(o);
  return helperPodSpec({ restartPolicy, image: o.image, command: o.command, nodeName: o.nodeName, volumeMounts: mounts, volumes, initContainers });
}

/** A run-to-completion pod (manifest, prefix hashes, corruption, writer). */
export function taskPod(o: TaskPodOptions): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: o.name, namespace: o.namespace, labels: runLabels(o.runId, o.role, o.extraLabels) },
    spec: podSpec(o, 'Never'),
  };
}

/** A Job around a task pod: retried by Kubernetes, bounded in time, garbage-collected after a while. */
export function taskJob(o: TaskPodOptions & { activeDeadlineSeconds: number; backoffLimit?: number }): KubeObject {
  const labels = runLabels(o.runId, o.role, o.extraLabels);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: o.name, namespace: o.namespace, labels },
    spec: {
      backoffLimit: o.backoffLimit ?? 2,
      activeDeadlineSeconds: o.activeDeadlineSeconds,
      ttlSecondsAfterFinished: 3600,
      template: { metadata: { labels }, spec: podSpec(o, 'Never') },
    },
  };
}

/**
 * The proxy pod that holds one volume, as the mesh sidecar would: Velero's file-system backup only backs up
 * volumes mounted by running pods. It carries the set label (it is part of the workload), does nothing else.
 */
export function proxyPod(o: { namespace: string; runId: string; setId: string; volume: string; image: string; nodeName?: string }): KubeObject {
  const base: TaskPodOptions = {
    name: o.volume,
    namespace: o.namespace,
    runId: o.runId,
    role: 'proxy',
    image: o.image,
    command: ['node', '-e', HOLD_SCRIPT],
    mounts: [{ claim: o.volume, mountPath: '/data' }],
    nodeName: o.nodeName,
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: o.volume, namespace: o.namespace, labels: runLabels(o.runId, 'proxy', { [SET_LABEL]: k8sName(o.setId), [VOLUME_LABEL]: o.volume }) },
    spec: podSpec(base, 'Always'),
  };
}

/** argv of the CLI inside pvbench's pods (see the report for the subcommands). */
export function seedCommand(proxy: number, seed: number, workload: WorkloadConfig): string[] {
  return ['node', CLI_PATH, 'seed', '--volume', '/data', '--proxy', String(proxy), '--seed', String(seed), '--workload', JSON.stringify(workload)];
}

export function churnCommand(proxy: number, seed: number, workload: WorkloadConfig, round: number): string[] {
  return ['node', CLI_PATH, 'churn', '--volume', '/data', '--proxy', String(proxy), '--seed', String(seed), '--round', String(round), '--workload', JSON.stringify(workload)];
}

export function manifestCommand(dir = '/data'): string[] {
  return ['node', CLI_PATH, 'manifest', dir];
}

export function prefixHashCommand(files: { path: string; length: number }[], root = '/source'): string[] {
  return ['node', '-e', PREFIX_HASH_SCRIPT, root, ...files.flatMap((f) => [f.path, String(f.length)])];
}

export interface CorruptAction {
  op: 'flip' | 'truncate' | 'delete';
  path: string;
  /** Byte to flip; or `fraction` of the file size when the size is not known beforehand. */
  offset?: number;
  fraction?: number;
  bit?: number;
}

export function corruptCommand(actions: CorruptAction[], root = '/data'): string[] {
  return ['node', '-e', CORRUPT_SCRIPT, root, JSON.stringify(actions)];
}

export function writerCommand(file: string, feed: string, writesPerSecond: number): string[] {
  return ['node', '-e', WRITER_SCRIPT, file, feed, String(writesPerSecond)];
}

export function feedConfigMap(o: { name: string; namespace: string; runId: string; lines: string }): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: o.name, namespace: o.namespace, labels: runLabels(o.runId, 'feed') }, data: { 'feed.log': o.lines } };
}

// --- access checks ------------------------------------------------------------------------------------------------

export function selfSubjectAccessReview(a: { verb: string; group: string; resource: string; namespace?: string; subresource?: string }): KubeObject {
  return {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    metadata: {},
    spec: {
      resourceAttributes: {
        verb: a.verb,
        group: a.group,
        resource: a.resource,
        ...(a.subresource ? { subresource: a.subresource } : {}),
        ...(a.namespace ? { namespace: a.namespace } : {}),
      },
    },
  };
}

// --- Velero (velero.io/v1) ------------------------------------------------------------------------------------------

export interface BslSource {
  provider: string;
  bucket: string;
  /** Prefix of the source location, if any: ours nests below it. */
  prefix?: string;
  caCert?: string;
  config?: Record<string, string>;
  credential?: { name: string; key: string };
}

/** An object-store prefix without leading or trailing slashes ("/a/b/" → "a/b"), as locations are compared. */
export function trimSlashes(prefix: string): string {
  return prefix.replace(/^\/+|\/+$/g, '');
}

/**
 * A BackupStorageLocation of its own per trial: the tool's "repository" is this bucket prefix, with the source
 * location's provider, config and credential. The prefix is used as given, never nested inside the source's own:
 * Velero marks a location Unavailable when its prefix holds top-level folders it does not know.
 */
export function backupStorageLocation(o: { name: string; namespace: string; runId: string; bucket?: string; prefix: string; source: BslSource }): KubeObject {
  const prefix = trimSlashes(o.prefix);
  return {
    apiVersion: 'velero.io/v1',
    kind: 'BackupStorageLocation',
    metadata: { name: o.name, namespace: o.namespace, labels: runLabels(o.runId, 'repository') },
    spec: {
      provider: o.source.provider,
      objectStorage: { bucket: o.bucket ?? o.source.bucket, prefix, ...(o.source.caCert ? { caCert: o.source.caCert } : {}) },
      ...(o.source.config ? { config: o.source.config } : {}),
      ...(o.source.credential ? { credential: o.source.credential } : {}),
      accessMode: 'ReadWrite',
      default: false,
      // Validate often: the first backup waits for the location to become Available.
      validationFrequency: '10s',
      backupSyncPeriod: '0s',
    },
  };
}

export type VeleroMode = 'fs' | 'csi';

export function veleroBackup(o: {
  name: string;
  namespace: string;
  runId: string;
  trial: string;
  storageLocation: string;
  includedNamespace: string;
  setLabel: string;
  mode: VeleroMode;
  snapshotMoveData?: boolean;
  parallelFilesUpload?: number;
  timeoutSeconds: number;
}): KubeObject {
  const spec: Record<string, unknown> = {
    includedNamespaces: [o.includedNamespace],
    labelSelector: { matchLabels: { [SET_LABEL]: o.setLabel } },
    storageLocation: o.storageLocation,
    ttl: '24h0m0s',
    itemOperationTimeout: `${Math.ceil(o.timeoutSeconds / 60)}m0s`,
  };
  if (o.mode === 'fs') {
    spec.defaultVolumesToFsBackup = true;
    spec.snapshotVolumes = false;
  } else {
    spec.defaultVolumesToFsBackup = false;
    spec.snapshotVolumes = true;
    spec.csiSnapshotTimeout = `${Math.ceil(o.timeoutSeconds / 60)}m0s`;
    if (o.snapshotMoveData) spec.snapshotMoveData = true;
  }
  if (o.parallelFilesUpload) spec.uploaderConfig = { parallelFilesUpload: o.parallelFilesUpload };
  return {
    apiVersion: 'velero.io/v1',
    kind: 'Backup',
    metadata: { name: o.name, namespace: o.namespace, labels: runLabels(o.runId, 'backup', { [TRIAL_LABEL]: k8sName(o.trial) }) },
    spec,
  };
}

export function veleroRestore(o: { name: string; namespace: string; runId: string; trial: string; backupName: string; namespaceMapping: Record<string, string> }): KubeObject {
  return {
    apiVersion: 'velero.io/v1',
    kind: 'Restore',
    metadata: { name: o.name, namespace: o.namespace, labels: runLabels(o.runId, 'restore', { [TRIAL_LABEL]: k8sName(o.trial) }) },
    spec: {
      backupName: o.backupName,
      includedNamespaces: Object.keys(o.namespaceMapping),
      namespaceMapping: o.namespaceMapping,
      restorePVs: true,
      existingResourcePolicy: 'none',
    },
  };
}

export function deleteBackupRequest(o: { name: string; namespace: string; runId: string; backupName: string }): KubeObject {
  return {
    apiVersion: 'velero.io/v1',
    kind: 'DeleteBackupRequest',
    metadata: { name: o.name, namespace: o.namespace, labels: runLabels(o.runId, 'backup', { 'velero.io/backup-name': o.backupName }) },
    spec: { backupName: o.backupName },
  };
}

// --- CSI snapshots (snapshot.storage.k8s.io/v1) -----------------------------------------------------------------------

export function volumeSnapshot(o: { name: string; namespace: string; runId: string; trial: string; group: string; pvc: string; className?: string }): KubeObject {
  return {
    apiVersion: 'snapshot.storage.k8s.io/v1',
    kind: 'VolumeSnapshot',
    metadata: {
      name: o.name,
      namespace: o.namespace,
      labels: runLabels(o.runId, 'backup', { [TRIAL_LABEL]: k8sName(o.trial), [VOLUME_LABEL]: o.pvc, [GROUP_LABEL]: o.group }),
    },
    spec: { ...(o.className ? { volumeSnapshotClassName: o.className } : {}), source: { persistentVolumeClaimName: o.pvc } },
  };
}

/**
 * A pre-provisioned VolumeSnapshotContent pointing at an existing snapshot (by its handle), bound to a new
 * VolumeSnapshot in another namespace: how a snapshot is restored into a namespace other than its own (a PVC's
 * dataSource must be in the PVC's namespace). Retain: deleting this copy never deletes the snapshot.
 */
export function snapshotContentCopy(o: {
  name: string;
  runId: string;
  trial: string;
  driver: string;
  snapshotHandle: string;
  className?: string;
  sourceVolumeMode?: string;
  snapshotRef: { name: string; namespace: string };
}): KubeObject {
  return {
    apiVersion: 'snapshot.storage.k8s.io/v1',
    kind: 'VolumeSnapshotContent',
    metadata: { name: o.name, labels: runLabels(o.runId, 'restore', { [TRIAL_LABEL]: k8sName(o.trial) }) },
    spec: {
      deletionPolicy: 'Retain',
      driver: o.driver,
      source: { snapshotHandle: o.snapshotHandle },
      ...(o.sourceVolumeMode ? { sourceVolumeMode: o.sourceVolumeMode } : {}),
      ...(o.className ? { volumeSnapshotClassName: o.className } : {}),
      volumeSnapshotRef: { apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshot', name: o.snapshotRef.name, namespace: o.snapshotRef.namespace },
    },
  };
}

export function snapshotFromContent(o: { name: string; namespace: string; runId: string; trial: string; content: string; className?: string; volume: string }): KubeObject {
  return {
    apiVersion: 'snapshot.storage.k8s.io/v1',
    kind: 'VolumeSnapshot',
    metadata: { name: o.name, namespace: o.namespace, labels: runLabels(o.runId, 'restore', { [TRIAL_LABEL]: k8sName(o.trial), [VOLUME_LABEL]: o.volume }) },
    spec: { ...(o.className ? { volumeSnapshotClassName: o.className } : {}), source: { volumeSnapshotContentName: o.content } },
  };
}

/** A pod on a node with a host directory mounted (the CSI hostpath driver's data), running the corruption script. */
export function hostPathCorruptPod(o: { name: string; namespace: string; runId: string; image: string; nodeName?: string; hostPath: string; actions: CorruptAction[] }): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: o.name, namespace: o.namespace, labels: runLabels(o.runId, 'corrupt') },
    spec: helperPodSpec({
      restartPolicy: 'Never',
      image: o.image,
      command: corruptCommand(o.actions, '/csi-data'),
      nodeName: o.nodeName,
      volumeMounts: [{ name: 'data', mountPath: '/csi-data' }],
      volumes: [{ name: 'data', hostPath: { path: o.hostPath, type: 'Directory' } }],
    }),
  };
}

export function csiHostpathStorageClass(): KubeObject {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'csi-hostpath-sc', labels: { ...MANAGED_BY } },
    provisioner: 'hostpath.csi.k8s.io',
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
    allowVolumeExpansion: true,
  };
}

export function csiHostpathSnapshotClass(): KubeObject {
  return {
    apiVersion: 'snapshot.storage.k8s.io/v1',
    kind: 'VolumeSnapshotClass',
    // The Velero label makes it the class Velero's CSI support picks for this driver.
    metadata: { name: 'csi-hostpath-snapclass', labels: { ...MANAGED_BY, 'velero.io/csi-volumesnapshot-class': 'true' } },
    driver: 'hostpath.csi.k8s.io',
    deletionPolicy: 'Delete',
  };
}

// --- MinIO (the object store Velero writes to on kind) -----------------------------------------------------------------

export const MINIO_IMAGE = 'quay.io/minio/minio:RELEASE.2025-04-22T22-12-26Z';
export const MC_IMAGE = 'quay.io/minio/mc:RELEASE.2025-04-16T18-13-26Z';

export function minioObjects(o: { namespace: string; runId: string; accessKey: string; secretKey: string; bucket: string; image?: string; mcImage?: string }): { objects: { plural: string; object: KubeObject }[]; endpoint: string } {
  // No run label: the store outlives the run, as the Velero configured with its credentials does (a run's cleanup
  // deletes by the run label). Which run installed it stays on record.
  const labels = { ...MANAGED_BY, [INSTALLED_BY_LABEL]: o.runId, [ROLE_LABEL]: 'minio', app: 'minio' };
  const ns = o.namespace;
  const endpoint = `http://minio.${ns}.svc:9000`;
  return {
    endpoint,
    objects: [
      { plural: 'namespaces', object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } } },
      {
        plural: 'secrets',
        object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'minio-root', namespace: ns, labels }, type: 'Opaque', stringData: { MINIO_ROOT_USER: o.accessKey, MINIO_ROOT_PASSWORD: o.secretKey } },
      },
      {
        plural: 'deployments',
        object: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'minio', namespace: ns, labels },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: 'minio' } },
            template: {
              metadata: { labels },
              spec: {
                containers: [
                  {
                    name: 'minio',
                    image: o.image ?? MINIO_IMAGE,
                    args: ['server', '/data', '--address', ':9000'],
                    envFrom: [{ secretRef: { name: 'minio-root' } }],
                    ports: [{ containerPort: 9000 }],
                    readinessProbe: { httpGet: { path: '/minio/health/ready', port: 9000 }, periodSeconds: 2 },
                    volumeMounts: [{ name: 'data', mountPath: '/data' }],
                  },
                ],
                volumes: [{ name: 'data', emptyDir: {} }],
              },
            },
          },
        },
      },
      {
        plural: 'services',
        object: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'minio', namespace: ns, labels }, spec: { selector: { app: 'minio' }, ports: [{ port: 9000, targetPort: 9000 }] } },
      },
      {
        plural: 'jobs',
        object: {
          apiVersion: 'batch/v1',
          kind: 'Job',
          metadata: { name: 'minio-bucket', namespace: ns, labels },
          spec: {
            backoffLimit: 20,
            activeDeadlineSeconds: 600,
            template: {
              metadata: { labels },
              spec: {
                restartPolicy: 'OnFailure',
                containers: [
                  {
                    name: 'mc',
                    image: o.mcImage ?? MC_IMAGE,
                    command: ['mc', 'mb', '--ignore-existing', `local/${o.bucket}`],
                    // mc reads an alias from MC_HOST_<alias>; the credentials come from the secret.
                    env: [
                      { name: 'MINIO_ROOT_USER', valueFrom: { secretKeyRef: { name: 'minio-root', key: 'MINIO_ROOT_USER' } } },
                      { name: 'MINIO_ROOT_PASSWORD', valueFrom: { secretKeyRef: { name: 'minio-root', key: 'MINIO_ROOT_PASSWORD' } } },
                      { name: 'MC_HOST_local', value: 'http://$(MINIO_ROOT_USER):$(MINIO_ROOT_PASSWORD)@minio:9000' },
                    ],
                  },
                ],
              },
            },
          },
        },
      },
    ],
  };
}

/** The AWS credentials file the Velero AWS plugin reads. */
export function awsCredentialsFile(accessKey: string, secretKey: string): string {
  return `[default]\naws_access_key_id=${accessKey}\naws_secret_access_key=${secretKey}\n`;
}

// --- object storage access from inside the cluster (Velero's repository) -----------------------------------------

// A minimal S3 client (SigV4, path-style) for Velero's bucket, run in a pod with the location's credentials file
// mounted: "list <prefix>" prints every key and size below a prefix; "flip <json>" flips bits in objects
// ([{key, offset, bit}]) by reading and rewriting them; "rm <prefix>" deletes every object below a prefix;
// "mkbucket" creates the bucket unless it exists. Env: S3_ENDPOINT, S3_BUCKET, S3_REGION, AWS_PROFILE.
export const S3_SCRIPT = `
const fs = require('node:fs'), crypto = require('node:crypto');
const [mode, arg] = process.argv.slice(1);
const env = process.env;
const profile = env.AWS_PROFILE || 'default';
const creds = {};
let section = '';
for (const raw of fs.readFileSync(env.AWS_SHARED_CREDENTIALS_FILE || '/creds/cloud', 'utf8').split('\\n')) {
  const line = raw.trim();
  const m = /^\\[(.+)\\]$/.exec(line);
  if (m) { section = m[1].replace(/^profile\\s+/, ''); continue; }
  const kv = /^([a-z_]+)\\s*=\\s*(.*)$/.exec(line);
  if (kv && section === profile) creds[kv[1]] = kv[2].trim();
}
const endpoint = new URL(env.S3_ENDPOINT);
const bucket = env.S3_BUCKET, region = env.S3_REGION || 'us-east-1';
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
const hmac = (k, s) => crypto.createHmac('sha256', k).update(s).digest();
const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
async function s3(method, key, query, body) {
  const path = (endpoint.pathname.replace(/\\/$/, '')) + '/' + bucket + (key ? '/' + key.split('/').map(enc).join('/') : '');
  const amzDate = new Date().toISOString().replace(/[:-]|\\.\\d{3}/g, '');
  const date = amzDate.slice(0, 8);
  const qs = Object.keys(query).sort().map((k) => enc(k) + '=' + enc(query[k])).join('&');
  const payload = sha(body || '');
  const headers = { host: endpoint.host, 'x-amz-content-sha256': payload, 'x-amz-date': amzDate };
  if (creds.aws_session_token) headers['x-amz-security-token'] = creds.aws_session_token;
  const names = Object.keys(headers).sort();
  const canonical = [method, path, qs, names.map((h) => h + ':' + headers[h] + '\\n').join(''), names.join(';'), payload].join('\\n');
  const scope = date + '/' + region + '/s3/aws4_request';
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha(canonical)].join('\\n');
  const key4 = hmac(hmac(hmac(hmac('AWS4' + creds.aws_secret_access_key, date), region), 's3'), 'aws4_request');
  headers.authorization = 'AWS4-HMAC-SHA256 Credential=' + creds.aws_access_key_id + '/' + scope + ', SignedHeaders=' + names.join(';') + ', Signature=' + crypto.createHmac('sha256', key4).update(toSign).digest('hex');
  const res = await fetch(endpoint.origin + path + (qs ? '?' + qs : ''), { method, headers, body });
  const buf = Buffer.from(await res.arrayBuffer());
  if (!res.ok) throw new Error(method + ' ' + (key || bucket) + ': HTTP ' + res.status + ' ' + buf.toString().slice(0, 300));
  return buf;
}
const unxml = (s) => s.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'");
// Every key and size below a prefix, page by page.
async function listAll(prefix) {
  const out = [];
  let token;
  do {
    const q = { 'list-type': '2', prefix };
    if (token) q['continuation-token'] = token;
    const xml = (await s3('GET', '', q)).toString();
    for (const c of xml.split('<Contents>').slice(1)) {
      const key = /<Key>([^<]*)<\\/Key>/.exec(c), size = /<Size>(\\d+)<\\/Size>/.exec(c);
      if (key) out.push({ key: unxml(key[1]), size: size ? Number(size[1]) : 0 });
    }
    token = /<IsTruncated>true<\\/IsTruncated>/.test(xml) ? (/<NextContinuationToken>([^<]*)<\\/NextContinuationToken>/.exec(xml) || [])[1] : undefined;
  } while (token);
  return out;
}
(async () => {
  if (mode === 'list') {
    process.stdout.write('${RESULT_PREFIX}' + JSON.stringify(await listAll(arg)) + '\\n');
  } else if (mode === 'flip') {
    const done = [];
    const flips = JSON.parse(arg);
    const byKey = new Map();
    for (const f of flips) byKey.set(f.key, [...(byKey.get(f.key) || []), f]);
    for (const [key, list] of byKey) {
      const data = await s3('GET', key, {});
      for (const f of list) { const o = f.offset % Math.max(1, data.length); data[o] ^= 1 << f.bit; done.push({ key, offset: o, bit: f.bit }); }
      await s3('PUT', key, {}, data);
    }
    process.stdout.write('${RESULT_PREFIX}' + JSON.stringify(done) + '\\n');
  } else if (mode === 'rm') {
    // Every object below a prefix (one DELETE each: S3-compatible stores differ in their multi-delete support).
    if (!arg || !arg.endsWith('/')) throw new Error('rm needs a prefix ending in /');
    const keys = await listAll(arg);
    for (const o of keys) await s3('DELETE', o.key, {});
    process.stdout.write('${RESULT_PREFIX}' + JSON.stringify({ deleted: keys.length }) + '\\n');
  } else if (mode === 'mkbucket') {
    // HEAD answers 404 for a missing bucket; a PUT that finds it already ours (409) is fine too.
    let exists = true;
    try { await s3('HEAD', '', {}); } catch (e) { if (!/HTTP 404/.test(String(e.message))) throw e; exists = false; }
    if (!exists) {
      try { await s3('PUT', '', {}); } catch (e) { if (!/HTTP 409/.test(String(e.message))) throw e; }
    }
    process.stdout.write('${RESULT_PREFIX}' + JSON.stringify({ bucket, created: !exists }) + '\\n');
  } else throw new Error('mode must be list, flip, rm or mkbucket');
})().catch((e) => { console.error(String(e && e.message || e)); process.exit(1); });
`;

export interface S3Target {
  endpoint: string;
  bucket: string;
  region: string;
  profile?: string;
  /** The Secret (in the pod's namespace) holding an AWS credentials file. */
  secret: { name: string; key: string };
}

/** A pod that lists or flips bits in Velero's bucket with the location's own credentials. */
export function s3Pod(o: { name: string; namespace: string; runId: string; image: string; target: S3Target; args: string[] }): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: o.name, namespace: o.namespace, labels: runLabels(o.runId, 'repository') },
    spec: helperPodSpec({
      restartPolicy: 'Never',
      image: o.image,
      command: ['node', '-e', S3_SCRIPT, ...o.args],
      env: [
        { name: 'S3_ENDPOINT', value: o.target.endpoint },
        { name: 'S3_BUCKET', value: o.target.bucket },
        { name: 'S3_REGION', value: o.target.region },
        { name: 'AWS_PROFILE', value: o.target.profile ?? 'default' },
      ],
      volumeMounts: [{ name: 'creds', mountPath: '/creds', readOnly: true }],
      volumes: [{ name: 'creds', secret: { secretName: o.target.secret.name, items: [{ key: o.target.secret.key, path: 'cloud' }] } }],
    }),
  };
}
