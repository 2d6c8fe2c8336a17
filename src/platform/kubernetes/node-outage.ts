// The kind node outage: the node container that hosts the volumes is killed (everything on it dies at once: the
// workload, the tool's pods, and on a one-node cluster the API server too), then started again; recovery ends when
// the node's kubelet has reported Ready after the restart. Through the container runtime kind uses, with argument
// arrays and a timeout on every call.
import type { NodeOutage } from '../types.ts';
import type { Kube, KubeObject } from './client.ts';
import type { WatchState } from './watch.ts';
import { RESTARTING_API, WatchTimeoutError, stampedAfter, watchUntil } from './watch.ts';
import type { Spawner } from './spawn.ts';
import { runChecked } from './spawn.ts';

/** The container runtime kind drives: KIND_EXPERIMENTAL_PROVIDER (docker, podman, nerdctl), docker by default. */
export function kindRuntime(env: NodeJS.ProcessEnv = process.env): string {
  const p = env.KIND_EXPERIMENTAL_PROVIDER?.trim();
  return p === 'podman' || p === 'nerdctl' ? p : 'docker';
}

interface ReadyCondition {
  type?: string;
  status?: string;
  lastHeartbeatTime?: string;
}

function readyOf(node: KubeObject | undefined): ReadyCondition | undefined {
  const conditions = ((node?.status as { conditions?: ReadyCondition[] } | undefined)?.conditions ?? []) as ReadyCondition[];
  return conditions.find((c) => c.type === 'Ready');
}

/** "Ready=True at 2026-11-22T10:00:01Z", for messages. */
function readyCondition(node: KubeObject | undefined): string | undefined {
  const r = readyOf(node);
  return r ? `Ready=${r.status ?? '?'} at ${r.lastHeartbeatTime ?? '?'}` : undefined;
}

/** Ready=True reported after `since` (ms since epoch), by a heartbeat in a later second (see stampedAfter). */
export function readySince(node: KubeObject | undefined, since: number): boolean {
  const ready = readyOf(node);
  return ready?.status === 'True' && stampedAfter(ready.lastHeartbeatTime, since);
}

export interface NodeOutageOptions {
  kube: Kube;
  spawner: Spawner;
  /** kind node names; kind names each node's container after its node. */
  nodes: string[];
  runtime: string;
  /** Upper bound of the restart and of the wait for Ready. */
  readyMs: number;
}

export function kindNodeOutage(o: NodeOutageOptions): NodeOutage {
  const nodes = [...new Set(o.nodes)].sort();
  if (nodes.length === 0) throw new Error('no node hosts the volumes: the proxy pods are not scheduled');
  const list = nodes.join(', ');
  let struck = false;
  return {
    describe: () => `kind node container${nodes.length > 1 ? 's' : ''} ${list}`,
    strike: async () => {
      struck = true;
      for (const n of nodes) await runChecked(o.spawner, o.runtime, ['kill', n], { timeoutMs: 60_000 }, `is ${o.runtime} running, and is ${n} a kind node of this cluster?`);
      return `${o.runtime} kill ${list} (the kind node${nodes.length > 1 ? 's' : ''} hosting the volumes)`;
    },
    recover: async () => {
      if (!struck) return 'nothing to recover';
      const restartedAt = Date.now();
      for (const n of nodes) await runChecked(o.spawner, o.runtime, ['start', n], { timeoutMs: Math.min(o.readyMs, 300_000) }, `start it by hand (${o.runtime} start ${n}) or recreate the cluster`);
      let waiting = nodes;
      const notReady = (state: WatchState) => nodes.filter((n) => !readySince(state.get(n), restartedAt));
      try {
        // watchUntil rides out the API server's restart on a one-node cluster (it lists again with back-off).
        await watchUntil(o.kube, {
          ref: { apiVersion: 'v1', plural: 'nodes' },
          what: `node ${list} to report Ready after ${o.runtime} start`,
          timeoutMs: Math.max(1, restartedAt + o.readyMs - Date.now()),
          transientStatuses: RESTARTING_API,
          check: (state) => ((waiting = notReady(state)).length === 0 ? true : undefined),
          lastSeen: (state) => waiting.map((n) => `${n}: ${readyCondition(state.get(n)) ?? 'no Ready condition'}`).join(', '),
        });
      } catch (err) {
        if (!(err instanceof WatchTimeoutError)) throw err;
        throw new Error(`after ${o.runtime} start, node ${waiting.join(', ')} did not report Ready within ${Math.round(o.readyMs / 1000)} s. Fix: look at the node container's logs (${o.runtime} logs ${waiting[0]}), or raise platform.timeouts.readySeconds (${err.message})`);
      }
      return `${o.runtime} start ${list}: Ready again after ${((Date.now() - restartedAt) / 1000).toFixed(1)} s`;
    },
  };
}
