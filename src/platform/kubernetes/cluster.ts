// Getting a cluster: create (or reuse) a kind cluster through the kind CLI, or load an existing cluster's
// kubeconfig (a path or the content itself, $KUBECONFIG by default) and context. Also the optional installs of
// the kind setup (CSI hostpath driver + snapshot controller, MinIO, Velero). Every external command is an argv
// array through an injectable spawner.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubernetesPlatformConfig } from '../../config/schema.ts';
import { registerSecret } from '../secrets.ts';
import type { Kube } from './client.ts';
import { HttpKube, ensureObject, findObject, KubeApiError, patchObject } from './client.ts';
import type { Spawner } from './spawn.ts';
import { runChecked, spawnProcess } from './spawn.ts';
import { DEFAULT_POD_IMAGE, awsCredentialsFile, csiHostpathSnapshotClass, csiHostpathStorageClass, k8sName, minioObjects, s3Pod } from './objects.ts';
import { runPod, waitForJob } from './pods.ts';

export type ClusterConfig = KubernetesPlatformConfig['cluster'];

/**
 * The prefix of the default location of a Velero that pvbench installs. Velero marks a location Unavailable when its
 * prefix holds top-level folders of its own kind it does not know, so pvbench's per-trial locations (pvbench/...) must
 * sit beside it, never inside it.
 */
export const VELERO_PREFIX = 'velero';

/** Pinned versions of what the kind setup installs; override with the environment variables named. */
export const VERSIONS = {
  kindNodeImage: process.env.PVBENCH_KIND_NODE_IMAGE ?? '',
  externalSnapshotter: process.env.PVBENCH_EXTERNAL_SNAPSHOTTER_VERSION ?? 'v8.4.0',
  csiHostpath: process.env.PVBENCH_CSI_HOSTPATH_VERSION ?? 'v1.15.0',
  velero: process.env.PVBENCH_VELERO_VERSION ?? 'v1.18.3',
  veleroAwsPlugin: process.env.PVBENCH_VELERO_AWS_PLUGIN_VERSION ?? 'v1.14.3',
};

export interface ClusterDeps {
  spawner?: Spawner;
  log?: (msg: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Build the API client (tests substitute a wrapper). */
  makeKube?: (kc: KubeConfig) => Kube;
  /**
   * Called just before `kind create cluster` (never for a cluster that already exists), so that a job cancelled
   * while the cluster is being created can still have it deleted by the action's post step.
   */
  onCreating?: (name: string) => void;
}

export interface Cluster {
  kc: KubeConfig;
  kube: Kube;
  /** A kubeconfig file for kubectl/velero/helm (written 0600 to a temporary directory, removed on dispose). */
  kubeconfigPath: string;
  /** Whether pvbench created the cluster (and so may delete it). */
  created: boolean;
  describe(): string;
  /** Delete a kind cluster pvbench created (unless keep), remove temporary files. Safe to call twice. */
  dispose(): Promise<void>;
}

// --- kind argv (pure, tested) --------------------------------------------------------------------------------------

export function kindCreateArgs(name: string, kubeconfigPath: string, opts: { image?: string; waitSeconds?: number } = {}): string[] {
  const args = ['create', 'cluster', '--name', name, '--kubeconfig', kubeconfigPath, '--wait', `${opts.waitSeconds ?? 180}s`];
  if (opts.image) args.push('--image', opts.image);
  return args;
}

export function kindDeleteArgs(name: string, kubeconfigPath: string): string[] {
  return ['delete', 'cluster', '--name', name, '--kubeconfig', kubeconfigPath];
}

export function kindGetKubeconfigArgs(name: string): string[] {
  return ['get', 'kubeconfig', '--name', name];
}

/** A kubeconfig value is content when it looks like YAML/JSON rather than a path. */
export function isKubeconfigContent(value: string): boolean {
  return value.includes('\n') || /^\s*(apiVersion|kind|clusters|\{)/.test(value);
}

function expandHome(p: string): string {
  return p === '~' ? homedir() : p.startsWith('~/') ? join(homedir(), p.slice(2)) : p;
}

/** Mask what a kubeconfig holds that must not leak into logs and reports. */
function registerKubeconfigSecrets(kc: KubeConfig): void {
  for (const u of kc.getUsers()) {
    registerSecret(u.token);
    registerSecret(u.password);
    registerSecret(u.keyData);
  }
}

/** Load the kubeconfig of an existing cluster and select the context. Throws messages that say what to fix. */
export function loadKubeconfig(cfg: Pick<ClusterConfig, 'kubeconfig' | 'context'>, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const kc = new KubeConfig();
  const value = cfg.kubeconfig;
  try {
    if (value && isKubeconfigContent(value)) kc.loadFromString(value);
    else if (value) kc.loadFromFile(expandHome(value));
    else if (env.KUBECONFIG) {
      // Like kubectl: the first file of a colon-separated list is loaded (merged lists: merge them first).
      kc.loadFromFile(env.KUBECONFIG.split(':').filter(Boolean)[0] ?? env.KUBECONFIG);
    } else kc.loadFromDefault();
  } catch (err) {
    const where = value ? (isKubeconfigContent(value) ? 'the kubeconfig content in platform.cluster.kubeconfig' : `the kubeconfig file ${value}`) : env.KUBECONFIG ? `$KUBECONFIG (${env.KUBECONFIG})` : '~/.kube/config';
    throw new Error(`cannot load ${where}: ${err instanceof Error ? err.message : String(err)}. Fix: point platform.cluster.kubeconfig at a readable kubeconfig (a path or the content)`);
  }
  if (cfg.context) {
    if (!kc.getContextObject(cfg.context)) {
      const names = kc.getContexts().map((c) => c.name);
      throw new Error(`the kubeconfig has no context "${cfg.context}" (it has: ${names.join(', ') || 'none'}). Fix: set platform.cluster.context to one of them`);
    }
    kc.setCurrentContext(cfg.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new Error(`the kubeconfig's current context "${kc.getCurrentContext() || '(none)'}" names no cluster. Fix: set platform.cluster.context, or platform.cluster.kubeconfig to a working kubeconfig`);
  }
  registerKubeconfigSecrets(kc);
  return kc;
}

/** GET /version: proves the API server is reachable and the credentials work. */
export async function serverVersion(kube: Kube): Promise<string> {
  try {
    const v = await kube.request<{ gitVersion?: string }>('GET', '/version', { timeoutMs: 15_000 });
    return v.gitVersion ?? 'unknown';
  } catch (err) {
    if (err instanceof KubeApiError && (err.status === 401 || err.status === 403)) {
      throw new Error(`the API server at ${kube.describe()} refused the credentials (${err.status}). Fix: refresh the kubeconfig's credentials or choose another context`);
    }
    throw new Error(`cannot reach the API server at ${kube.describe()}: ${err instanceof Error ? err.message : String(err)}. Fix: check platform.cluster.kubeconfig / context and that the cluster is running`);
  }
}

async function writeKubeconfig(dir: string, kc: KubeConfig): Promise<string> {
  const path = join(dir, 'kubeconfig');
  await writeFile(path, kc.exportConfig(), { mode: 0o600 });
  return path;
}

/** Connect to (and for mode kind, create if missing) the cluster the suite names. */
export async function connectCluster(cfg: ClusterConfig, deps: ClusterDeps = {}): Promise<Cluster> {
  const spawner = deps.spawner ?? spawnProcess;
  const log = deps.log ?? (() => undefined);
  const makeKube = deps.makeKube ?? ((kc: KubeConfig) => new HttpKube(kc));
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-kube-'));
  let created = false;
  let disposed = false;
  try {
    let kc: KubeConfig;
    if (cfg.mode === 'kind') {
      const env = deps.env ?? process.env;
      const version = await spawner('kind', ['version'], { timeoutMs: 15_000, env });
      if (version.exitCode !== 0) {
        throw new Error(`kind is not available (${(version.stderr || version.stdout).trim().slice(0, 200)}). Fix: install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation) or use platform.cluster.mode: existing`);
      }
      const clusters = await runChecked(spawner, 'kind', ['get', 'clusters'], { timeoutMs: 30_000, env });
      const exists = clusters.stdout.split('\n').map((s) => s.trim()).includes(cfg.name);
      if (!exists) {
        log(`creating kind cluster "${cfg.name}"`);
        deps.onCreating?.(cfg.name);
        await runChecked(spawner, 'kind', kindCreateArgs(cfg.name, join(dir, 'kind-kubeconfig'), { image: VERSIONS.kindNodeImage || undefined }), { timeoutMs: 600_000, env }, 'is Docker running?');
        created = true;
      } else log(`reusing kind cluster "${cfg.name}"`);
      const out = await runChecked(spawner, 'kind', kindGetKubeconfigArgs(cfg.name), { timeoutMs: 30_000, env });
      kc = new KubeConfig();
      kc.loadFromString(out.stdout);
      registerKubeconfigSecrets(kc);
    } else {
      kc = loadKubeconfig(cfg, deps.env);
    }
    const kube = makeKube(kc);
    const version = await serverVersion(kube);
    const kubeconfigPath = await writeKubeconfig(dir, kc);
    const describe = () => `${cfg.mode === 'kind' ? `kind cluster "${cfg.name}"` : `cluster ${kube.describe()}`} (Kubernetes ${version})`;
    return {
      kc,
      kube,
      kubeconfigPath,
      created,
      describe,
      dispose: async () => {
        if (disposed) return;
        disposed = true;
        try {
          if (cfg.mode === 'kind' && created && !cfg.keep) {
            log(`deleting kind cluster "${cfg.name}"`);
            await runChecked(spawner, 'kind', kindDeleteArgs(cfg.name, join(dir, 'kind-kubeconfig')), { timeoutMs: 300_000 });
          }
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    if (created && !cfg.keep) await spawner('kind', kindDeleteArgs(cfg.name, join(dir, 'kind-kubeconfig')), { timeoutMs: 300_000 }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

// --- installs (platform.install) -------------------------------------------------------------------------------

export function snapshotCrdsArgs(kubeconfig: string, version = VERSIONS.externalSnapshotter): string[] {
  return ['--kubeconfig', kubeconfig, 'apply', '-k', `https://github.com/kubernetes-csi/external-snapshotter/client/config/crd?ref=${version}`];
}

export function snapshotControllerArgs(kubeconfig: string, version = VERSIONS.externalSnapshotter): string[] {
  return ['--kubeconfig', kubeconfig, 'apply', '-k', `https://github.com/kubernetes-csi/external-snapshotter/deploy/kubernetes/snapshot-controller?ref=${version}`];
}

export function csiHostpathCloneArgs(dest: string, version = VERSIONS.csiHostpath): string[] {
  return ['clone', '--depth', '1', '--branch', version, 'https://github.com/kubernetes-csi/csi-driver-host-path', dest];
}

export function veleroInstallArgs(o: {
  kubeconfig: string;
  namespace: string;
  bucket: string;
  /** The default location's prefix in the bucket (pvbench's own locations go beside it, never inside). */
  prefix?: string;
  s3Url: string;
  region?: string;
  secretFile: string;
  version?: string;
  awsPlugin?: string;
  /** Image overrides (platform.images): the pinned upstream images otherwise. */
  image?: string;
  pluginImage?: string;
}): string[] {
  const image = o.image ?? `velero/velero:${o.version ?? VERSIONS.velero}`;
  const pluginImage = o.pluginImage ?? `velero/velero-plugin-for-aws:${o.awsPlugin ?? VERSIONS.veleroAwsPlugin}`;
  return [
    'install',
    '--kubeconfig',
    o.kubeconfig,
    '--namespace',
    o.namespace,
    '--image',
    image,
    '--provider',
    'aws',
    '--plugins',
    pluginImage,
    '--bucket',
    o.bucket,
    ...(o.prefix ? ['--prefix', o.prefix] : []),
    '--secret-file',
    o.secretFile,
    '--use-node-agent',
    '--uploader-type',
    'kopia',
    '--use-volume-snapshots=false',
    '--features=EnableCSI',
    '--backup-location-config',
    `region=${o.region ?? 'minio'},s3ForcePathStyle=true,s3Url=${o.s3Url}`,
    '--wait',
  ];
}

export interface InstallOptions {
  install: KubernetesPlatformConfig['install'];
  /** Image overrides (platform.images). */
  images?: Partial<KubernetesPlatformConfig['images']>;
  runId: string;
  readyTimeoutMs: number;
  veleroNamespace?: string;
  minioNamespace?: string;
}

/**
 * How long the node agent of a Velero that pvbench installs waits for a transfer's data-mover pod before failing it.
 * Velero's default, 30 minutes, holds a backup whose data-mover pod was killed before it started (Velero 1.18 keeps
 * such a PodVolumeBackup or DataUpload Accepted until then, and a cancel does not end it): a crash trial would
 * outlast any sensible backup timeout. velero install has no flag for it, so the DaemonSet gets the node agent's own.
 */
export const DATA_MOVER_PREPARE_TIMEOUT = '90s';

/** Adds --data-mover-prepare-timeout to the node agent's arguments (replacing one already there). */
export async function boundPrepareTimeout(kube: Kube, namespace: string, timeout: string): Promise<void> {
  const ref = { apiVersion: 'apps/v1', plural: 'daemonsets', namespace, name: 'node-agent' };
  const ds = await findObject(kube, ref);
  if (!ds) return;
  const containers = (ds.spec?.template?.spec?.containers ?? []) as { name: string; args?: string[] }[];
  const patched = containers.map((c) => (c.name === 'node-agent' ? { ...c, args: [...(c.args ?? []).filter((a) => !a.startsWith('--data-mover-prepare-timeout')), `--data-mover-prepare-timeout=${timeout}`] } : c));
  await patchObject(kube, ref, { spec: { template: { spec: { containers: patched } } } });
}

/** The bucket, endpoint and credentials file of a running S3 store named in install.objectStore. */
export async function objectStoreOf(kube: Kube, os: NonNullable<KubernetesPlatformConfig['install']['objectStore']>): Promise<{ bucket: string; url: string; region: string; credentials: string }> {
  const [namespace = '', name = ''] = os.credentialsSecret.split('/');
  const secret = await findObject(kube, { apiVersion: 'v1', plural: 'secrets', namespace, name });
  const data = (secret?.data ?? {}) as Record<string, string>;
  if (!secret || data[os.credentialsKey] === undefined) {
    throw new Error(`install.objectStore.credentialsSecret: ${secret ? `Secret ${os.credentialsSecret} has no key "${os.credentialsKey}"` : `there is no Secret ${os.credentialsSecret}`}. Fix: create it with an AWS credentials file under that key, or set credentialsSecret/credentialsKey to the Secret that holds one`);
  }
  const credentials = Buffer.from(data[os.credentialsKey]!, 'base64').toString();
  for (const line of credentials.split('\n')) {
    const m = /^\s*aws_secret_access_key\s*=\s*(.+?)\s*$/.exec(line);
    if (m) registerSecret(m[1]);
  }
  return { bucket: os.bucket, url: os.url, region: os.region, credentials };
}

/** What the kind setup needs, installed idempotently (things already present are left alone). */
export async function installComponents(cluster: Cluster, o: InstallOptions, deps: ClusterDeps = {}): Promise<string[]> {
  const spawner = deps.spawner ?? spawnProcess;
  const log = deps.log ?? (() => undefined);
  const kube = cluster.kube;
  const done: string[] = [];
  const kcArgs = cluster.kubeconfigPath;
  if (o.install.csiHostpath) {
    const present = await findObject(kube, { apiVersion: 'storage.k8s.io/v1', plural: 'csidrivers', name: 'hostpath.csi.k8s.io' });
    if (present) log('CSI hostpath driver already installed');
    else {
      log('installing snapshot CRDs, snapshot controller and the CSI hostpath driver');
      await runChecked(spawner, 'kubectl', snapshotCrdsArgs(kcArgs), { timeoutMs: 300_000 });
      await runChecked(spawner, 'kubectl', snapshotControllerArgs(kcArgs), { timeoutMs: 300_000 });
      const src = await mkdtemp(join(tmpdir(), 'pvbench-csi-hostpath-'));
      try {
        await runChecked(spawner, 'git', csiHostpathCloneArgs(join(src, 'repo')), { timeoutMs: 300_000 });
        await runChecked(spawner, 'bash', [join(src, 'repo', 'deploy', 'kubernetes-latest', 'deploy.sh')], {
          timeoutMs: 900_000,
          env: { ...process.env, KUBECONFIG: kcArgs },
        });
      } finally {
        await rm(src, { recursive: true, force: true });
      }
      done.push('csi-hostpath');
    }
    await ensureObject(kube, 'storageclasses', csiHostpathStorageClass());
    await ensureObject(kube, 'volumesnapshotclasses', csiHostpathSnapshotClass());
  }
  const minioNs = o.minioNamespace ?? 'minio';
  const accessKey = 'pvbench';
  let store: { bucket: string; url: string; region: string; credentials: string } | undefined;
  if (o.install.minio) {
    const existing = await findObject(kube, { apiVersion: 'v1', plural: 'secrets', namespace: minioNs, name: 'minio-root' });
    const secretKey = existing?.data ? Buffer.from(String((existing.data as Record<string, string>).MINIO_ROOT_PASSWORD ?? ''), 'base64').toString() : randomBytes(18).toString('hex');
    registerSecret(secretKey);
    const m = minioObjects({ namespace: minioNs, runId: o.runId, accessKey, secretKey, bucket: 'velero', image: o.images?.minio, mcImage: o.images?.mc });
    for (const { plural, object } of m.objects) await ensureObject(kube, plural, object);
    await waitForJob(kube, minioNs, 'minio-bucket', o.readyTimeoutMs);
    done.push('minio');
    store = { bucket: 'velero', url: m.endpoint, region: 'minio', credentials: awsCredentialsFile(accessKey, secretKey) };
  }
  if (o.install.velero) {
    const ns = o.veleroNamespace ?? 'velero';
    const present = await findObject(kube, { apiVersion: 'apps/v1', plural: 'deployments', namespace: ns, name: 'velero' });
    if (present) log('Velero already installed');
    else {
      if (!store && o.install.objectStore) {
        store = await objectStoreOf(kube, o.install.objectStore);
        const [namespace = '', name = ''] = o.install.objectStore.credentialsSecret.split('/');
        const target = { endpoint: store.url, bucket: store.bucket, region: store.region, secret: { name, key: o.install.objectStore.credentialsKey } };
        log(`making sure bucket ${store.bucket} exists at ${store.url}`);
        await runPod(kube, s3Pod({ name: k8sName(`pvbench-mkbucket-${o.runId}`), namespace, runId: o.runId, image: o.images?.pod ?? DEFAULT_POD_IMAGE, target, args: ['mkbucket'] }), o.readyTimeoutMs);
      }
      if (!store) throw new Error('install.velero needs an object store: set install.minio: true, or name a running S3 store in install.objectStore (or install Velero yourself and set install.velero: false)');
      const dir = await mkdtemp(join(tmpdir(), 'pvbench-velero-'));
      try {
        const secretFile = join(dir, 'credentials');
        await writeFile(secretFile, store.credentials, { mode: 0o600 });
        const image = o.images?.velero ?? `velero/velero:${VERSIONS.velero}`;
        log(`installing Velero from ${image} (node agent, kopia uploader, CSI) with its location in bucket ${store.bucket} at ${store.url}`);
        const args = veleroInstallArgs({ kubeconfig: kcArgs, namespace: ns, bucket: store.bucket, prefix: VELERO_PREFIX, s3Url: store.url, region: store.region, secretFile, image: o.images?.velero, pluginImage: o.images?.veleroAwsPlugin });
        await runChecked(spawner, 'velero', args, { timeoutMs: 900_000 });
        await boundPrepareTimeout(kube, ns, DATA_MOVER_PREPARE_TIMEOUT);
        log(`node agent: a transfer whose data-mover pod never comes up fails after ${DATA_MOVER_PREPARE_TIMEOUT} (Velero's default: 30m)`);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      done.push('velero');
    }
  }
  return done;
}
