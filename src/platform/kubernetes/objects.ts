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
  const stats = w.statsBytes ?? w.clusters * 700;
  const seeded = 16_384 + w.accessLogLines * line + w.clusters * 2_400 + w.statsSnapshots * stats;
  const churn = w.churn.appendLines * line + w.churn.newStats * stats + w.clusters * 2_400;
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
export function helperPodSpec(o: {
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
