// What pvbench installs into a cluster when the suite asks (platform.install): the snapshot CRDs and controller,
// the CSI hostpath driver, the object store and Velero (with the images the suite names), through the projects'
// own installers where they have one (kubectl apply of their manifests, `velero install`).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { KubernetesPlatformConfig } from '../../config/schema.ts';
import { registerSecret } from '../secrets.ts';
import type { Kube } from './client.ts';
import { ensureObject, findObject, patchObject } from './client.ts';
import { runChecked, spawnProcess } from './spawn.ts';
import { DEFAULT_POD_IMAGE, k8sName } from './objects.ts';
import { awsCredentialsFile, minioObjects, s3Pod } from './object-store.ts';
import { csiHostpathSnapshotClass, csiHostpathStorageClass } from '../../tools/csi-snapshot-objects.ts';
import { runPod, waitForJob } from './pods.ts';
import type { Cluster, ClusterDeps } from './cluster.ts';
import { VELERO_PREFIX, VERSIONS } from './cluster.ts';

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
