// Shared by the Kubernetes tests: a fake API server with a client over it, and a "kubelet" that runs pods.
import { KubeConfig } from '@kubernetes/client-node';
import { startFakeApiServer } from '../fake-apiserver/server.ts';
import type { FakeApiServer, FakeApiServerOptions, KubeObject } from '../fake-apiserver/server.ts';
import { HttpKube } from '../../src/platform/kubernetes/client.ts';
import type { Kube } from '../../src/platform/kubernetes/client.ts';
import { kubernetesPlatformSchema } from '../../src/config/schema.ts';
import type { KubeToolContext } from '../../src/platform/kubernetes/context.ts';
import { ResourceSampler } from '../../src/platform/kubernetes/resources.ts';

export interface Fake {
  server: FakeApiServer;
  kube: Kube;
  kc: KubeConfig;
}

export async function startFake(opts: FakeApiServerOptions = {}): Promise<Fake> {
  const server = await startFakeApiServer(opts);
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfigYaml());
  return { server, kube: new HttpKube(kc), kc };
}

const now = () => new Date().toISOString();

export function runningStatus(pod: KubeObject, node: string): Record<string, unknown> {
  const containers = ((pod.spec as { containers?: { name: string }[] }).containers ?? []).map((c) => ({ name: c.name, ready: true, restartCount: 0, state: { running: { startedAt: now() } } }));
  return {
    phase: 'Running',
    startTime: now(),
    conditions: [
      { type: 'PodScheduled', status: 'True' },
      { type: 'Ready', status: 'True' },
    ],
    containerStatuses: containers,
    hostIP: '10.0.0.1',
  };
}

export function finishedStatus(pod: KubeObject, exitCode: number): Record<string, unknown> {
  const containers = ((pod.spec as { containers?: { name: string }[] }).containers ?? []).map((c) => ({ name: c.name, ready: false, restartCount: 0, state: { terminated: { exitCode, reason: exitCode ? 'Error' : 'Completed' } } }));
  return { phase: exitCode ? 'Failed' : 'Succeeded', conditions: [{ type: 'PodScheduled', status: 'True' }], containerStatuses: containers };
}

export interface KubeletBehaviour {
  /** Node pods land on when they do not name one. */
  node?: string;
  /** Run-to-completion pods: the log they print and their exit code (default: empty log, 0). */
  task?: (pod: KubeObject) => { log?: string; exitCode?: number } | 'running' | undefined | Promise<{ log?: string; exitCode?: number } | 'running' | undefined>;
}

/**
 * Plays scheduler + kubelet: pods get a node; restartPolicy Always pods run; run-to-completion pods finish with the
 * log from `task`. Jobs create a pod from their template, and complete or fail with it.
 */
export function fakeKubelet(server: FakeApiServer, b: KubeletBehaviour = {}): () => void {
  const node = b.node ?? 'node-1';
  // "Scheduling" happens at admission (pod specs are immutable afterwards, as on a real server).
  const offAdmit = server.onAdmit('v1', 'pods', (pod, ctx) => {
    if (ctx.operation !== 'CREATE') return;
    const spec = pod.spec as { nodeName?: string };
    spec.nodeName ??= node;
  });
  const offPod = server.onCreate('v1', 'pods', async (pod, ctx) => {
    if (ctx.source !== 'api' && !(pod.metadata as { labels?: Record<string, string> }).labels?.['job-name']) return;
    const meta = pod.metadata as { name: string; namespace: string };
    const spec = pod.spec as { nodeName?: string; restartPolicy?: string };
    if (spec.restartPolicy === 'Always' || spec.restartPolicy === undefined) {
      server.setStatus('v1', 'pods', meta.namespace, meta.name, runningStatus(pod, spec.nodeName ?? node));
      return;
    }
    const result = (await b.task?.(pod)) ?? {};
    if (result === 'running') {
      server.setStatus('v1', 'pods', meta.namespace, meta.name, runningStatus(pod, spec.nodeName ?? node));
      return;
    }
    if (!server.get('v1', 'pods', meta.namespace, meta.name)) return;
    if (result.log) server.setPodLog(meta.namespace, meta.name, result.log, 'main');
    server.setStatus('v1', 'pods', meta.namespace, meta.name, finishedStatus(pod, result.exitCode ?? 0));
  });
  const offJob = server.onCreate('batch/v1', 'jobs', (job, ctx) => {
    if (ctx.source !== 'api') return;
    const meta = job.metadata as { name: string; namespace: string };
    const template = (job.spec as { template: { metadata?: { labels?: Record<string, string> }; spec: Record<string, unknown> } }).template;
    const podName = `${meta.name}-x${Math.random().toString(36).slice(2, 7)}`;
    server.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: podName, namespace: meta.namespace, labels: { ...(template.metadata?.labels ?? {}), 'job-name': meta.name } },
      spec: { nodeName: node, ...template.spec },
    });
  });
  const offJobPod = server.onUpdate('v1', 'pods', (pod) => {
    const meta = pod.metadata as { namespace: string; labels?: Record<string, string> };
    const job = meta.labels?.['job-name'];
    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    if (!job || (phase !== 'Succeeded' && phase !== 'Failed')) return;
    const j = server.get('batch/v1', 'jobs', meta.namespace, job);
    if (!j || (j.status as { conditions?: unknown[] } | undefined)?.conditions?.length) return;
    server.setStatus('batch/v1', 'jobs', meta.namespace, job, phase === 'Succeeded'
      ? { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] }
      : { failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] });
  });
  return () => {
    offAdmit();
    offPod();
    offJob();
    offJobPod();
  };
}

/** A promise that rejects after `ms`: every wait in the tests is bounded. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`test timeout: ${what} (${ms} ms)`)), ms);
    }),
  ]);
}

/** An object's labels (the fake's objects are loosely typed). */
export function labelsOf(o: { metadata?: unknown } | undefined): Record<string, string> {
  return ((o?.metadata as { labels?: Record<string, string> } | undefined)?.labels ?? {});
}

/** A tool context on the fake server's client: an existing cluster, the hostpath storage class, no sampling. */
export function toolContext(kube: Kube, opts: { timeoutMs: number; volumeSize: string }): KubeToolContext {
  return {
    kube,
    runId: 'run1',
    config: kubernetesPlatformSchema.parse({ kind: 'kubernetes', cluster: { mode: 'existing' } }),
    storageClass: () => ({ name: 'csi-hostpath-sc', provisioner: 'hostpath.csi.k8s.io' }),
    timeouts: { backupMs: opts.timeoutMs, restoreMs: opts.timeoutMs, readyMs: opts.timeoutMs },
    log: () => undefined,
    sampler: (t) => new ResourceSampler(kube, t, { intervalMs: 3_600_000 }),
    podImage: 'node:24-slim',
    volumeSize: () => opts.volumeSize,
  };
}
