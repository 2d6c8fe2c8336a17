// Getting a cluster: create (or reuse) a kind cluster through the kind CLI, or load an existing cluster's
// kubeconfig (a path or the content itself, $KUBECONFIG by default) and context (install.ts installs into it).
// Every external command is an argv array through an injectable spawner.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubernetesPlatformConfig } from '../../config/schema.ts';
import { registerSecret } from '../secrets.ts';
import type { Kube } from './client.ts';
import { HttpKube, KubeApiError } from './client.ts';
import type { Spawner } from './spawn.ts';
import { runChecked, spawnProcess } from './spawn.ts';

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
