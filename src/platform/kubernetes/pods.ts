// Pods and Jobs: run a task pod to completion and read its log, wait for Jobs and for pods to run, find the node
// a volume is in use on (ReadWriteOnce volumes are shared only by pods on the same node).
import type { Kube, KubeObject } from './client.ts';
import { createObject, deleteObject, listObjects } from './client.ts';
import { RESTARTING_API, stampedAfter, watchUntil } from './watch.ts';
import type { WatchState } from './watch.ts';

/** Container states that will not fix themselves. */
const FATAL_WAITING = new Set(['InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'ErrImageNeverPull', 'RunContainerError']);

interface ContainerStatus {
  name: string;
  ready?: boolean;
  state?: { waiting?: { reason?: string; message?: string }; terminated?: { exitCode?: number; reason?: string; message?: string } };
}

function containerStatuses(pod: KubeObject): ContainerStatus[] {
  return [...((pod.status?.initContainerStatuses ?? []) as ContainerStatus[]), ...((pod.status?.containerStatuses ?? []) as ContainerStatus[])];
}

/** One line on why a pod is where it is: phase, waiting/terminated reasons, unschedulable message. */
export function podSummary(pod: KubeObject | undefined): string {
  if (!pod) return 'not found';
  const parts = [`phase ${pod.status?.phase ?? 'unknown'}`];
  for (const c of containerStatuses(pod)) {
    const w = c.state?.waiting;
    const t = c.state?.terminated;
    if (w?.reason) parts.push(`${c.name} waiting: ${w.reason}${w.message ? ` (${w.message.slice(0, 160)})` : ''}`);
    if (t && (t.exitCode ?? 0) !== 0) parts.push(`${c.name} exited ${t.exitCode}${t.reason ? ` ${t.reason}` : ''}`);
  }
  for (const cond of (pod.status?.conditions ?? []) as { type: string; status: string; reason?: string; message?: string }[]) {
    if (cond.type === 'PodScheduled' && cond.status === 'False') parts.push(`unschedulable: ${cond.message ?? cond.reason ?? ''}`);
  }
  return parts.join('; ');
}

function fatalReason(pod: KubeObject): string | undefined {
  for (const c of containerStatuses(pod)) {
    const reason = c.state?.waiting?.reason;
    if (reason && FATAL_WAITING.has(reason)) return `${c.name}: ${reason} ${c.state?.waiting?.message ?? ''}`.trim();
  }
  return undefined;
}

export function podLog(kube: Kube, ns: string, name: string, container = 'main', opts: { tailLines?: number; timeoutMs?: number } = {}): Promise<string> {
  return kube.text(`/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}/log`, {
    query: { container, tailLines: opts.tailLines },
    timeoutMs: opts.timeoutMs ?? 30_000,
  });
}

export async function waitPodDone(kube: Kube, ns: string, name: string, timeoutMs: number, signal?: AbortSignal): Promise<{ phase: 'Succeeded' | 'Failed'; pod: KubeObject }> {
  return watchUntil(kube, {
    ref: { apiVersion: 'v1', plural: 'pods', namespace: ns },
    name,
    what: `pod ${ns}/${name} to finish`,
    timeoutMs,
    signal,
    check: (state) => {
      const pod = state.get(`${ns}/${name}`);
      if (!pod) return undefined;
      const phase = pod.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') return { phase, pod };
      const fatal = fatalReason(pod);
      if (fatal) throw new Error(`pod ${ns}/${name} cannot start: ${fatal}`);
      return undefined;
    },
    lastSeen: (state) => podSummary(state.get(`${ns}/${name}`)),
  });
}

/** Create a run-to-completion pod, wait, return its log; the pod is deleted afterwards whatever happened. */
export async function runPod(kube: Kube, pod: KubeObject, timeoutMs: number, signal?: AbortSignal): Promise<string> {
  const ns = pod.metadata.namespace!;
  const name = pod.metadata.name!;
  await createObject(kube, 'pods', pod);
  try {
    const { phase, pod: done } = await waitPodDone(kube, ns, name, timeoutMs, signal);
    const log = await podLog(kube, ns, name).catch((err: unknown) => `(log unavailable: ${err instanceof Error ? err.message : String(err)})`);
    if (phase === 'Failed') throw new Error(`pod ${ns}/${name} failed (${podSummary(done)}): ${log.trim().slice(-500)}`);
    return log;
  } finally {
    await deleteObject(kube, { apiVersion: 'v1', plural: 'pods', namespace: ns, name }, { gracePeriodSeconds: 0 }).catch(() => undefined);
  }
}

/** Wait until a Job succeeded; a failed Job is an error carrying its last pod's log. */
export async function waitForJob(kube: Kube, ns: string, name: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  try {
    await watchUntil(kube, {
      ref: { apiVersion: 'batch/v1', plural: 'jobs', namespace: ns },
      name,
      what: `Job ${ns}/${name} to complete`,
      timeoutMs,
      signal,
      check: (state) => {
        const job = state.get(`${ns}/${name}`);
        const conditions = (job?.status?.conditions ?? []) as { type: string; status: string; message?: string; reason?: string }[];
        if (conditions.some((c) => c.type === 'Complete' && c.status === 'True') || (job?.status?.succeeded ?? 0) > 0) return true;
        const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
        if (failed) throw new JobFailed(`Job ${ns}/${name} failed: ${[failed.reason, failed.message].filter(Boolean).join(': ')}`);
        return undefined;
      },
      lastSeen: (state) => JSON.stringify(state.get(`${ns}/${name}`)?.status ?? {}),
    });
  } catch (err) {
    if (!(err instanceof JobFailed) && !(err instanceof Error && /timed out/.test(err.message))) throw err;
    throw new Error(`${err.message}${await jobPodDetails(kube, ns, name)}`);
  }
}

class JobFailed extends Error {}

async function jobPodDetails(kube: Kube, ns: string, job: string): Promise<string> {
  try {
    const pods = await listObjects(kube, { apiVersion: 'v1', plural: 'pods', namespace: ns }, { labelSelector: `job-name=${job}` });
    const last = pods.items.sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp))).pop();
    if (!last?.metadata.name) return '';
    const log = await podLog(kube, ns, last.metadata.name, 'main', { tailLines: 20 }).catch(() => '');
    return `; pod ${last.metadata.name}: ${podSummary(last)}${log.trim() ? `; log: ${log.trim().slice(-400)}` : ''}`;
  } catch {
    return '';
  }
}

function podReady(pod: KubeObject): boolean {
  return pod.status?.phase === 'Running' && ((pod.status?.conditions ?? []) as { type: string; status: string }[]).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Wait until every named pod of a namespace runs and is ready. */
export async function waitPodsReady(kube: Kube, ns: string, names: string[], timeoutMs: number, opts: { labelSelector?: string; signal?: AbortSignal } = {}): Promise<Map<string, KubeObject>> {
  const summary = (state: WatchState) =>
    names
      .map((n) => [n, state.get(`${ns}/${n}`)] as const)
      .filter(([, p]) => !p || !podReady(p))
      .map(([n, p]) => `${n}: ${podSummary(p)}`)
      .join(', ');
  return watchUntil(kube, {
    ref: { apiVersion: 'v1', plural: 'pods', namespace: ns },
    labelSelector: opts.labelSelector,
    what: `pods ${names.join(', ')} in ${ns} to run`,
    timeoutMs,
    signal: opts.signal,
    check: (state) => {
      const out = new Map<string, KubeObject>();
      for (const n of names) {
        const pod = state.get(`${ns}/${n}`);
        if (!pod) return undefined;
        if (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded') throw new Error(`pod ${ns}/${n} stopped: ${podSummary(pod)}`);
        const fatal = fatalReason(pod);
        if (fatal) throw new Error(`pod ${ns}/${n} cannot start: ${fatal}`);
        if (!podReady(pod)) return undefined;
        out.set(n, pod);
      }
      return out;
    },
    lastSeen: summary,
  });
}

/**
 * Wait until the pods a label selector picks (at least one, none being deleted) are Ready, each having become
 * Ready after `since`: after a node restart a controller's status still says "ready" for a while, and only the
 * pods' own Ready transitions show they came back. Rides out an API server that is itself restarting.
 * Resolves with the pods' names.
 */
export async function waitPodsReadySince(kube: Kube, ns: string, labelSelector: string, since: number, timeoutMs: number, what: string): Promise<string[]> {
  const readyTransition = (pod: KubeObject) => ((pod.status?.conditions ?? []) as { type: string; status: string; lastTransitionTime?: string }[]).find((c) => c.type === 'Ready');
  const fresh = (pod: KubeObject) => podReady(pod) && stampedAfter(readyTransition(pod)?.lastTransitionTime, since);
  const live = (state: WatchState) => [...state.values()].filter((p) => !p.metadata.deletionTimestamp);
  return watchUntil(kube, {
    ref: { apiVersion: 'v1', plural: 'pods', namespace: ns },
    labelSelector,
    what: `${what} (pods ${labelSelector} in ${ns}) to be Ready again after ${new Date(since).toISOString()}`,
    timeoutMs,
    transientStatuses: RESTARTING_API,
    check: (state) => {
      const pods = live(state);
      return pods.length > 0 && pods.every(fresh) ? pods.map((p) => p.metadata.name!).sort() : undefined;
    },
    lastSeen: (state) =>
      live(state)
        .map((p) => `${p.metadata.name}: ${podSummary(p)}, Ready since ${readyTransition(p)?.lastTransitionTime ?? 'never'}`)
        .join(', ') || 'no pods',
  });
}

/** Wait until a pod is gone (after a delete). */
export async function waitPodGone(kube: Kube, ns: string, name: string, timeoutMs: number): Promise<void> {
  await watchUntil(kube, {
    ref: { apiVersion: 'v1', plural: 'pods', namespace: ns },
    name,
    what: `pod ${ns}/${name} to be deleted`,
    timeoutMs,
    check: (state) => (state.has(`${ns}/${name}`) ? undefined : true),
  });
}

/** The node of a running (or scheduled) pod that mounts the claim, if any. */
export function claimNodes(pods: KubeObject[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const pod of pods) {
    const node = pod.spec?.nodeName as string | undefined;
    const phase = pod.status?.phase;
    if (!node || pod.metadata.deletionTimestamp || (phase !== 'Running' && phase !== 'Pending')) continue;
    for (const v of (pod.spec?.volumes ?? []) as { persistentVolumeClaim?: { claimName?: string } }[]) {
      const claim = v.persistentVolumeClaim?.claimName;
      if (claim && !out.has(claim)) out.set(claim, node);
    }
  }
  return out;
}

export async function nodesOfClaims(kube: Kube, ns: string): Promise<Map<string, string>> {
  const pods = await listObjects(kube, { apiVersion: 'v1', plural: 'pods', namespace: ns });
  return claimNodes(pods.items);
}
