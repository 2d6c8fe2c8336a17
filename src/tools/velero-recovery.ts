// Velero after a fault, and its repository's health: what an operator does once Velero is back (wait for it,
// cancel orphaned transfers, abandon a backup still running, delete partial backups and broken repositories), and
// the check of a trial's storage location. Functions of the location they work on (VeleroScope).

import type { Kube, KubeObject } from '../platform/kubernetes/client.ts';
import { createObject, deleteObject, listObjects, patchObject } from '../platform/kubernetes/client.ts';
import { msg } from '../platform/kubernetes/context.ts';
import { k8sName } from '../platform/kubernetes/objects.ts';
import { waitPodsReadySince } from '../platform/kubernetes/pods.ts';
import { RESTARTING_API, stampedAfter, watchUntil } from '../platform/kubernetes/watch.ts';
import type { RepositoryCheck } from '../suite/results.ts';
import type { RecoverOptions, RecoveryReport } from './types.ts';
import { deleteBackupRequest } from './velero-objects.ts';
import { BACKUP_TERMINAL, DATA_TERMINAL, V1, byCompletion } from './velero-status.ts';
import type { VolumeOpKind } from './velero-status.ts';
/** The trial's storage location and what is needed to work on it. */
export interface VeleroScope {
  kube: Kube;
  /** Velero's namespace. */
  ns: string;
  runId: string;
  /** The trial's BackupStorageLocation ('' before init). */
  bsl: string;
  usesNodeAgent: boolean;
  readyMs: number;
  volumeOpKind(phase: 'backup' | 'restore'): VolumeOpKind | undefined;
  /** Restores this tool created in the trial. */
  createdRestores(): string[];
}


export async function backupsOfLocation(loc: VeleroScope): Promise<KubeObject[]> {
  const list = await listObjects(loc.kube, { apiVersion: V1, plural: 'backups', namespace: loc.ns });
  return list.items.filter((b) => b.spec?.storageLocation === loc.bsl && b.metadata.name !== undefined);
}

export async function repositories(loc: VeleroScope): Promise<KubeObject[]> {
  const list = await listObjects(loc.kube, { apiVersion: V1, plural: 'backuprepositories', namespace: loc.ns });
  return list.items.filter((r) => r.spec?.backupStorageLocation === loc.bsl);
}

/** Velero has no content check: its BackupRepository status and the latest backup's own validation are it. */
export async function checkLocation(loc: VeleroScope): Promise<RepositoryCheck> {
  try {
    const lines: string[] = [];
    let ok = true;
    const repos = await repositories(loc);
    for (const r of repos) {
      const phase = r.status?.phase ?? 'New';
      if (phase === 'NotReady') ok = false;
      lines.push(`BackupRepository ${r.metadata.name}: ${phase}${r.status?.message ? ` (${r.status.message})` : ''}`);
    }
    if (loc.usesNodeAgent && repos.length === 0) lines.push('no BackupRepository for this location yet');
    const backups = (await backupsOfLocation(loc)).filter((b) => BACKUP_TERMINAL.includes(b.status?.phase)).sort(byCompletion);
    const last = backups[backups.length - 1];
    if (!last) {
      ok = false;
      lines.push('no finished backup in this location');
    } else {
      const s = last.status ?? {};
      if (s.phase !== 'Completed' || (s.errors ?? 0) > 0) ok = false;
      lines.push(`latest backup ${last.metadata.name}: ${s.phase}, ${s.errors ?? 0} error(s), ${s.warnings ?? 0} warning(s)`);
      const kind = loc.volumeOpKind('backup');
      if (kind) {
        const ops = await listObjects(loc.kube, { apiVersion: kind.apiVersion, plural: kind.plural, namespace: loc.ns }, { labelSelector: `${kind.label}=${last.metadata.name}` });
        const bad = ops.items.filter((o) => o.status?.phase !== 'Completed');
        if (bad.length) ok = false;
        lines.push(`${ops.items.length - bad.length}/${ops.items.length} ${kind.plural} Completed`);
      }
    }
    return { ran: true, ok, output: lines.join('\n') };
  } catch (err) {
    return { ran: false, ok: false, output: `could not inspect the repository: ${msg(err)}` };
  }
}

/** Waits for the Velero deployment or daemon set to say it is ready; resolves with its pods' label selector. */
async function waitReady(loc: VeleroScope, what: 'server' | 'node-agent', timeoutMs: number): Promise<string> {
  const isServer = what === 'server';
  const name = isServer ? 'velero' : 'node-agent';
  const workload = await watchUntil(loc.kube, {
    ref: { apiVersion: 'apps/v1', plural: isServer ? 'deployments' : 'daemonsets', namespace: loc.ns },
    name,
    what: `Velero ${what} to be ready`,
    timeoutMs,
    // After a node outage the API server may still be starting: its 401/403/404 mean "not yet".
    transientStatuses: RESTARTING_API,
    check: (state) => {
      const obj = state.get(`${loc.ns}/${name}`);
      const s = obj?.status;
      if (!s) return undefined;
      if (isServer) return (s.availableReplicas ?? 0) >= 1 && (s.unavailableReplicas ?? 0) === 0 ? obj : undefined;
      return (s.desiredNumberScheduled ?? 0) > 0 && s.numberReady === s.desiredNumberScheduled && (s.numberUnavailable ?? 0) === 0 ? obj : undefined;
    },
    lastSeen: (state) => JSON.stringify(state.get(`${loc.ns}/${name}`)?.status ?? {}),
  });
  const labels = (workload.spec?.selector?.matchLabels ?? {}) as Record<string, string>;
  const selector = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return selector || (isServer ? 'deploy=velero' : 'name=node-agent');
}

/**
 * After a node outage: the server and node agents Ready again since the outage (their controllers' status can
 * still be the one from before it), and the trial's storage location validated Available since then, before
 * anything is restored from it.
 */
async function readyAgainSince(loc: VeleroScope, since: number, selectors: { server: string; agent?: string }): Promise<string[]> {
  const t0 = Date.now();
  const timeoutMs = loc.readyMs;
  const server = await waitPodsReadySince(loc.kube, loc.ns, selectors.server, since, timeoutMs, 'the Velero server');
  const agents = selectors.agent ? await waitPodsReadySince(loc.kube, loc.ns, selectors.agent, since, timeoutMs, "Velero's node agents") : [];
  const pods = (what: string, names: string[]) => `${what} pod${names.length > 1 ? 's' : ''} ${names.join(', ')}`;
  const actions = [`Velero ${pods('server', server)}${agents.length ? ` and ${pods('node-agent', agents)}` : ''} Ready again since the outage after ${((Date.now() - t0) / 1000).toFixed(1)} s`];
  if (!loc.bsl) return actions;
  const where = `BackupStorageLocation ${loc.ns}/${loc.bsl}`;
  await watchUntil(loc.kube, {
    ref: { apiVersion: V1, plural: 'backupstoragelocations', namespace: loc.ns },
    name: loc.bsl,
    what: `${where} to be validated Available again after the outage`,
    timeoutMs,
    transientStatuses: RESTARTING_API,
    check: (state) => {
      const s = state.get(`${loc.ns}/${loc.bsl}`)?.status;
      return s?.phase === 'Available' && stampedAfter(s.lastValidationTime, since) ? true : undefined;
    },
    lastSeen: (state) => {
      const s = state.get(`${loc.ns}/${loc.bsl}`)?.status;
      return s ? `phase ${s.phase ?? '(none)'}, last validated ${s.lastValidationTime ?? 'never'}${s.message ? `: ${s.message}` : ''}` : 'not found';
    },
  });
  actions.push(`${where} validated Available again since the outage`);
  return actions;
}

/** What an operator does after a crash: wait for Velero to come back, cancel orphaned volume operations, drop partial backups. */
export async function recoverLocation(loc: VeleroScope, opts: RecoverOptions = {}): Promise<RecoveryReport> {
  const actions: string[] = [];
  let staleLocks = 0;
  const t0 = Date.now();
  const server = await waitReady(loc, 'server', loc.readyMs);
  const agent = loc.usesNodeAgent ? await waitReady(loc, 'node-agent', loc.readyMs) : undefined;
  actions.push(`Velero ${loc.usesNodeAgent ? 'server and node agents' : 'server'} ready again after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (opts.since !== undefined) actions.push(...(await readyAgainSince(loc, opts.since, { server, agent })));

  let backups = await backupsOfLocation(loc);
  const ended = new Set(backups.filter((b) => BACKUP_TERMINAL.includes(b.status?.phase)).map((b) => b.metadata.name!));
  // A backup still running after the crashed attempt gave up is abandoned, as a controller would abandon it: its
  // transfers can be left waiting for a node agent or a data-mover pod that is gone, and Velero runs one backup at
  // a time, so a retry would queue behind it.
  const abandoned = new Set(backups.filter((b) => !ended.has(b.metadata.name!)).map((b) => b.metadata.name!));
  // Volume operations still "running" for a backup that has ended (or is abandoned) hold the repository: cancel them.
  for (const phase of ['backup', 'restore'] as const) {
    const kind = loc.volumeOpKind(phase);
    if (!kind) continue;
    const ops = await listObjects(loc.kube, { apiVersion: kind.apiVersion, plural: kind.plural, namespace: loc.ns });
    for (const op of ops.items) {
      const owner = op.metadata.labels?.[kind.label];
      if (!owner || DATA_TERMINAL.has(op.status?.phase)) continue;
      if (phase === 'backup' && !ended.has(owner) && !abandoned.has(owner)) continue;
      if (phase === 'restore' && !loc.createdRestores().includes(owner)) continue;
      await patchObject(loc.kube, { apiVersion: kind.apiVersion, plural: kind.plural, namespace: loc.ns, name: op.metadata.name! }, { spec: { cancel: true } }).catch(() => undefined);
      staleLocks++;
      actions.push(`cancelled orphaned ${kind.plural.replace(/s$/, '')} ${op.metadata.name} (${op.status?.phase ?? 'New'})`);
    }
  }
  for (const name of abandoned) {
    const final = await watchUntil(loc.kube, {
      ref: { apiVersion: V1, plural: 'backups', namespace: loc.ns },
      name,
      what: `abandoned backup ${loc.ns}/${name} to end once its transfers are cancelled`,
      timeoutMs: loc.readyMs,
      check: (state) => {
        const b = state.get(`${loc.ns}/${name}`);
        return !b || BACKUP_TERMINAL.includes(b.status?.phase) ? (b ?? ({} as KubeObject)) : undefined;
      },
    }).catch((err: unknown) => {
      actions.push(`abandoned backup ${name} did not end: ${msg(err)}`);
      return undefined;
    });
    if (final?.status?.phase) actions.push(`abandoned backup ${name}: ended ${final.status.phase} after its transfers were cancelled`);
  }
  if (abandoned.size) backups = await backupsOfLocation(loc);
  // Partial backups: delete them with their uploaded data before retrying.
  const partial = backups.filter((b) => ['PartiallyFailed', 'Failed', 'FailedValidation'].includes(b.status?.phase));
  for (const b of partial) {
    await deleteBackup(loc, b.metadata.name!, loc.readyMs).catch((err: unknown) => actions.push(`deleting partial backup ${b.metadata.name} failed: ${msg(err)}`));
    actions.push(`deleted ${b.status?.phase} backup ${b.metadata.name} and its data`);
  }
  for (const r of await repositories(loc)) {
    if (r.status?.phase !== 'NotReady') continue;
    await deleteObject(loc.kube, { apiVersion: V1, plural: 'backuprepositories', namespace: loc.ns, name: r.metadata.name! });
    actions.push(`deleted NotReady BackupRepository ${r.metadata.name} (${String(r.status?.message ?? '').slice(0, 120)}); Velero re-creates it`);
  }
  return { staleLocks, actions };
}

export async function deleteBackup(loc: VeleroScope, backupName: string, timeoutMs: number): Promise<void> {
  const name = k8sName(`${backupName}-delete-${Date.now().toString(36)}`);
  await createObject(loc.kube, 'deletebackuprequests', deleteBackupRequest({ name, namespace: loc.ns, runId: loc.runId, backupName }));
  await watchUntil(loc.kube, {
    ref: { apiVersion: V1, plural: 'backups', namespace: loc.ns },
    name: backupName,
    what: `backup ${backupName} to be deleted`,
    timeoutMs,
    check: (state) => (state.has(`${loc.ns}/${backupName}`) ? undefined : true),
  });
  await deleteObject(loc.kube, { apiVersion: V1, plural: 'deletebackuprequests', namespace: loc.ns, name }).catch(() => undefined);
}

