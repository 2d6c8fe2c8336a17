// Velero on Kubernetes. velero-fs: file-system backup (node agent, kopia uploader) of the proxies' pod volumes;
// velero-csi: CSI snapshots of the PVCs, optionally moved to object storage (snapshotMoveData). The tool's
// "repository" is a BackupStorageLocation of its own per trial (the cluster's location cloned with a
// pvbench/<run>/<trial> prefix). Backups and restores are velero.io/v1 objects followed by watch; a crash deletes
// the node-agent (or server) pod mid-operation, as a node failure or OOM kill would.
import type { ToolConfig } from '../config/schema.ts';
import type { VolumeSet } from '../platform/types.ts';
import type { RepositoryCheck } from '../suite/results.ts';
import type { Kube, KubeObject } from '../platform/kubernetes/client.ts';
import { createObject, deleteObject, ensureObject, findObject, getObject, listObjects, patchObject } from '../platform/kubernetes/client.ts';
import type { KubeToolContext } from '../platform/kubernetes/context.ts';
import { msg } from '../platform/kubernetes/context.ts';
import type { BslSource, S3Target, VeleroMode } from '../platform/kubernetes/objects.ts';
import { RESULT_PREFIX, backupStorageLocation, deleteBackupRequest, k8sName, parseLocation, s3Pod, trimSlashes, veleroBackup, veleroRestore } from '../platform/kubernetes/objects.ts';
import { parseResultLine } from '../platform/kubernetes/integrity.ts';
import { nodesOfClaims, runPod, waitPodsReadySince } from '../platform/kubernetes/pods.ts';
import type { Problem } from '../platform/kubernetes/preflight.ts';
import { checkAccess, checkApis, checkObject, checkSnapshotClass, formatProblems } from '../platform/kubernetes/preflight.ts';
import { phaseMetrics } from '../platform/kubernetes/resources.ts';
import type { UsageSummary } from '../platform/kubernetes/resources.ts';
import { RESTARTING_API, observe, stampedAfter, watchUntil } from '../platform/kubernetes/watch.ts';
import type { WatchState } from '../platform/kubernetes/watch.ts';
import { pickDistinct } from '../platform/local/fsutil.ts';
import { excerpt } from '../platform/secrets.ts';
import { ToolError } from './types.ts';
import type { BackupOutcome, BackupTool, OpHooks, Probe, RecoverOptions, RecoveryReport, RestoreOutcome, RunningOp } from './types.ts';

const V1 = 'velero.io/v1';
const V2 = 'velero.io/v2alpha1';

export const BACKUP_TERMINAL = ['Completed', 'PartiallyFailed', 'Failed', 'FailedValidation'] as const;
export const RESTORE_TERMINAL = ['Completed', 'PartiallyFailed', 'Failed', 'FailedValidation'] as const;
const DATA_TERMINAL = new Set(['Completed', 'Failed', 'Canceled']);

/**
 * What the crash fault deletes. node-agent (the default where the node agent works) and server: those pods.
 * data-mover: the pod that moves a volume's bytes. Since Velero 1.17 each PodVolumeBackup/Restore and
 * DataUpload/Download runs in a pod of its own (the "VGDP micro-service"), so deleting the node agent no longer
 * touches a transfer already running. On the local cluster, Velero 1.18.3 did not recover from a deleted data-mover
 * pod: the operation stayed Accepted until the node agent's prepare timeout, or InProgress and then Canceling, and
 * the node agent's transfers that followed (a restore's too) stayed Prepared, until the node agent restarted.
 */
export type CrashTarget = 'data-mover' | 'node-agent' | 'server';

/** The label a data-mover pod carries, per volume operation kind (Velero's PVBLabel, PVRLabel, DataUploadLabel...). */
export const DATA_MOVER_LABEL: Record<string, string> = {
  podvolumebackups: 'velero.io/pod-volume-backup',
  podvolumerestores: 'velero.io/pod-volume-restore',
  datauploads: 'velero.io/data-upload',
  datadownloads: 'velero.io/data-download',
};

export interface VeleroOptions {
  namespace: string;
  /** The location to clone; default: the cluster's default BackupStorageLocation. */
  storageLocation?: string;
  snapshotMoveData: boolean;
  parallelFilesUpload?: number;
  crashTarget: CrashTarget;
  /** Bucket of pvbench's own per-trial locations; the source location's bucket by default. */
  bucket?: string;
  /** Folder in that bucket that holds every run's locations (<prefix>/<run>/<trial>/); "pvbench" by default. */
  prefix: string;
  /** Secret holding the AWS credentials file of the location, for repository size and corruption. */
  credentialsSecret?: string;
  credentialsKey?: string;
}

export function veleroOptions(config: ToolConfig): VeleroOptions {
  const o = config.options;
  const str = (k: string) => (typeof o[k] === 'string' && o[k] ? (o[k] as string) : undefined);
  const mode: VeleroMode = config.type === 'velero-csi' ? 'csi' : 'fs';
  const move = o.snapshotMoveData === true || o.snapshotMoveData === 'true';
  const usesNodeAgent = mode === 'fs' || move;
  const crash = str('crashTarget');
  if (crash && crash !== 'data-mover' && crash !== 'node-agent' && crash !== 'server') throw new Error(`${config.name ?? config.type}: options.crashTarget must be "data-mover", "node-agent" or "server", not "${crash}"`);
  return {
    namespace: str('namespace') ?? 'velero',
    storageLocation: str('storageLocation'),
    snapshotMoveData: mode === 'csi' && move,
    parallelFilesUpload: typeof o.parallelFilesUpload === 'number' ? o.parallelFilesUpload : undefined,
    // The node agent by default: deleting a data-mover pod wedges Velero 1.18's node agent (see CrashTarget).
    crashTarget: (crash as CrashTarget | undefined) ?? (usesNodeAgent ? 'node-agent' : 'server'),
    bucket: str('bucket'),
    prefix: trimSlashes(str('prefix') ?? 'pvbench'),
    credentialsSecret: str('credentialsSecret'),
    credentialsKey: str('credentialsKey'),
  };
}

/** Where a location keeps its data. */
export interface LocationPlace {
  name: string;
  bucket: string;
  prefix: string;
}

/**
 * Checks that pvbench's own locations (<bucket>/<root>/...) stay out of every other location's data: Velero marks a
 * location Unavailable once its prefix holds top-level folders it does not know, so a root inside another location's
 * prefix (or a location with no prefix in the same bucket) would take the user's own location out of service.
 * Returns the problem, or undefined when the place is free.
 */
export function locationConflict(bucket: string, root: string, others: LocationPlace[]): Problem | undefined {
  const ours = trimSlashes(root);
  for (const o of others) {
    if (o.bucket !== bucket) continue;
    const theirs = trimSlashes(o.prefix);
    if (theirs === '' || theirs === ours || ours.startsWith(`${theirs}/`) || theirs.startsWith(`${ours}/`)) {
      return {
        missing: `a place of its own for pvbench's trial locations: ${bucket}/${ours}/ would be ${theirs === '' ? `inside BackupStorageLocation ${o.name}, which uses the whole bucket` : `inside or over BackupStorageLocation ${o.name} (prefix ${theirs}/)`}, and Velero marks a location whose prefix holds folders it does not know as Unavailable`,
        fix: `set the tool option bucket to a bucket pvbench may use (it writes ${ours}/<run>/<trial>/ there and removes it afterwards), or the option prefix to a folder no location uses, or give ${o.name} a prefix of its own (velero install --prefix)`,
      };
    }
  }
  return undefined;
}

/** A volume operation that has reported all its bytes: its transfer is over, whatever its phase says yet. */
export function transferDone(v: KubeObject): boolean {
  const total = Number(v.status?.progress?.totalBytes ?? 0);
  return total > 0 && Number(v.status?.progress?.bytesDone ?? 0) >= total;
}

/** One line on why a backup or restore ended the way it did. */
export function describeOutcome(kind: 'backup' | 'restore', obj: KubeObject, volumeOps: KubeObject[]): string {
  const s = obj.status ?? {};
  const name = obj.metadata.name;
  const parts: string[] = [];
  switch (s.phase) {
    case 'FailedValidation':
      parts.push(`Velero rejected ${kind} ${name}: ${((s.validationErrors ?? []) as string[]).join('; ') || 'validation failed'}`);
      break;
    case 'Failed':
      parts.push(`${kind} ${name} failed${s.failureReason ? `: ${s.failureReason}` : ''}`);
      break;
    case 'PartiallyFailed':
      parts.push(`${kind} ${name} partially failed (${s.errors ?? 0} error(s), ${s.warnings ?? 0} warning(s))`);
      break;
    default:
      parts.push(`${kind} ${name} ended in phase ${s.phase ?? 'unknown'}`);
  }
  const failed = volumeOps.filter((v) => v.status?.phase === 'Failed' || v.status?.phase === 'Canceled');
  for (const v of failed.slice(0, 3)) {
    const target = v.spec?.volume ?? v.spec?.sourcePVC ?? v.spec?.targetVolume?.pvc ?? v.metadata.name;
    parts.push(`${v.kind ?? 'volume'} ${String(target)} ${v.status?.phase}: ${String(v.status?.message ?? '').slice(0, 200)}`);
  }
  if (failed.length > 3) parts.push(`and ${failed.length - 3} more failed volume operation(s)`);
  return parts.join('; ');
}

/** 0..1 from the Backup/Restore status and its per-volume operations' byte progress. */
export function operationProgress(main: KubeObject | undefined, volumeOps: KubeObject[], expectedVolumes: number): number {
  if (!main) return 0;
  const phase = main.status?.phase;
  if (phase === 'Completed') return 1;
  const p = main.status?.progress ?? {};
  const total = Number(p.totalItems ?? 0);
  const done = Number(p.itemsBackedUp ?? p.itemsRestored ?? 0);
  const items = total > 0 ? Math.min(1, done / total) : 0;
  if (expectedVolumes <= 0) return items;
  let sum = 0;
  for (const v of volumeOps) {
    if (v.status?.phase === 'Completed') sum += 1;
    else {
      const tb = Number(v.status?.progress?.totalBytes ?? 0);
      const bd = Number(v.status?.progress?.bytesDone ?? 0);
      sum += tb > 0 ? Math.min(1, bd / tb) : 0;
    }
  }
  const volumes = Math.min(1, sum / expectedVolumes);
  return Math.min(0.999, 0.1 * items + 0.9 * volumes);
}

export function volumeBytes(volumeOps: KubeObject[]): { total: number; done: number; incremental: number } {
  let total = 0;
  let done = 0;
  let incremental = 0;
  for (const v of volumeOps) {
    total += Number(v.status?.progress?.totalBytes ?? 0);
    done += Number(v.status?.progress?.bytesDone ?? 0);
    incremental += Number(v.status?.incrementalBytes ?? 0);
  }
  return { total, done, incremental };
}

function byCompletion(a: KubeObject, b: KubeObject): number {
  const ka = `${a.status?.completionTimestamp ?? ''}|${a.metadata.creationTimestamp ?? ''}|${a.metadata.name}`;
  const kb = `${b.status?.completionTimestamp ?? ''}|${b.metadata.creationTimestamp ?? ''}|${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export class VeleroTool implements BackupTool {
  readonly name: string;
  readonly type: 'velero-fs' | 'velero-csi';
  private readonly ctx: KubeToolContext;
  private readonly config: ToolConfig;
  private opts: VeleroOptions | undefined;
  private readonly mode: VeleroMode;
  private trial = '';
  private bsl = '';
  private source: BslSource | undefined;
  private seq = 0;
  private readonly created: { plural: string; name: string }[] = [];

  constructor(config: ToolConfig, ctx: KubeToolContext) {
    this.name = config.name ?? config.type;
    this.type = config.type === 'velero-csi' ? 'velero-csi' : 'velero-fs';
    this.mode = this.type === 'velero-csi' ? 'csi' : 'fs';
    this.config = config;
    this.ctx = ctx;
  }

  private get o(): VeleroOptions {
    this.opts ??= veleroOptions(this.config);
    return this.opts;
  }

  private get kube(): Kube {
    return this.ctx.kube;
  }

  private get ns(): string {
    return this.o.namespace;
  }

  private get usesNodeAgent(): boolean {
    return this.mode === 'fs' || this.o.snapshotMoveData;
  }

  /** The kind of per-volume object that carries byte progress, if any. */
  private volumeOpKind(phase: 'backup' | 'restore'): { apiVersion: string; plural: string; label: string } | undefined {
    const label = phase === 'backup' ? 'velero.io/backup-name' : 'velero.io/restore-name';
    if (this.mode === 'fs') return { apiVersion: V1, plural: phase === 'backup' ? 'podvolumebackups' : 'podvolumerestores', label };
    if (this.o.snapshotMoveData) return { apiVersion: V2, plural: phase === 'backup' ? 'datauploads' : 'datadownloads', label };
    return undefined;
  }

  // --- probe -----------------------------------------------------------------------------------------------------

  private async findSource(): Promise<{ source?: BslSource; problems: Problem[] }> {
    const list = await listObjects(this.kube, { apiVersion: V1, plural: 'backupstoragelocations', namespace: this.ns });
    const candidates = list.items.filter((i) => !i.metadata.labels?.['pvbench.dev/run']);
    const chosen = this.o.storageLocation
      ? candidates.find((i) => i.metadata.name === this.o.storageLocation)
      : (candidates.find((i) => i.spec?.default === true) ?? (candidates.length === 1 ? candidates[0] : undefined));
    if (!chosen) {
      const names = candidates.map((i) => i.metadata.name).join(', ') || 'none';
      return {
        problems: [
          {
            missing: this.o.storageLocation
              ? `BackupStorageLocation "${this.o.storageLocation}" in namespace ${this.ns} (there: ${names})`
              : `a default BackupStorageLocation in namespace ${this.ns} (there: ${names})`,
            fix: 'configure Velero with an object store (velero install --bucket ... --backup-location-config ...), or set the tool option storageLocation to the location to use',
          },
        ],
      };
    }
    const s = chosen.spec ?? {};
    const places = candidates.map((i) => ({ name: i.metadata.name!, bucket: String(i.spec?.objectStorage?.bucket ?? ''), prefix: String(i.spec?.objectStorage?.prefix ?? '') }));
    const conflict = locationConflict(this.o.bucket ?? String(s.objectStorage?.bucket ?? ''), this.o.prefix, places);
    if (conflict) return { problems: [conflict] };
    return {
      source: {
        provider: String(s.provider),
        bucket: String(s.objectStorage?.bucket ?? ''),
        prefix: s.objectStorage?.prefix,
        caCert: s.objectStorage?.caCert,
        config: s.config,
        credential: s.credential,
      },
      problems: [],
    };
  }

  async probe(): Promise<Probe> {
    try {
      const fixVelero = `install Velero ${this.usesNodeAgent ? 'with the node agent (velero install --use-node-agent ...)' : ''} in namespace ${this.ns} (https://velero.io/docs/main/basic-install/), or on kind set platform.install.velero and platform.install.minio`;
      const apis = [
        { apiVersion: V1, plural: 'backups', fix: fixVelero },
        { apiVersion: V1, plural: 'restores', fix: fixVelero },
        { apiVersion: V1, plural: 'backupstoragelocations', fix: fixVelero },
        { apiVersion: V1, plural: 'deletebackuprequests', fix: fixVelero },
        { apiVersion: V1, plural: 'backuprepositories', fix: fixVelero },
      ];
      if (this.mode === 'fs') apis.push({ apiVersion: V1, plural: 'podvolumebackups', fix: fixVelero }, { apiVersion: V1, plural: 'podvolumerestores', fix: fixVelero });
      if (this.o.snapshotMoveData) apis.push({ apiVersion: V2, plural: 'datauploads', fix: `${fixVelero} (Velero 1.12 or later for snapshotMoveData)` });
      if (this.mode === 'csi') {
        apis.push({ apiVersion: 'snapshot.storage.k8s.io/v1', plural: 'volumesnapshots', fix: 'install the CSI snapshot CRDs and snapshot controller (external-snapshotter), or on kind set platform.install.csiHostpath' });
      }
      const problems: Problem[] = await checkApis(this.kube, apis);
      if (problems.length) return { ok: false, reason: formatProblems(problems) };
      problems.push(...(await checkObject(this.kube, { apiVersion: 'apps/v1', plural: 'deployments', namespace: this.ns, name: 'velero' }, `the Velero server (Deployment ${this.ns}/velero)`, fixVelero)));
      if (this.usesNodeAgent) {
        problems.push(
          ...(await checkObject(this.kube, { apiVersion: 'apps/v1', plural: 'daemonsets', namespace: this.ns, name: 'node-agent' }, `Velero's node agent (DaemonSet ${this.ns}/node-agent)`, 're-run velero install with --use-node-agent')),
        );
      }
      const src = await this.findSource();
      problems.push(...src.problems);
      if (this.mode === 'csi') {
        const sc = this.ctx.storageClass();
        const optClass = typeof this.config.options.snapshotClass === 'string' ? this.config.options.snapshotClass : this.ctx.config.snapshotClass;
        const vsc = await checkSnapshotClass(this.kube, optClass, sc.provisioner);
        problems.push(...vsc.problems);
        if (vsc.snapshotClass && vsc.snapshotClass.metadata.labels?.['velero.io/csi-volumesnapshot-class'] !== 'true' && !optClass) {
          problems.push({
            missing: `the label velero.io/csi-volumesnapshot-class: "true" on VolumeSnapshotClass ${vsc.snapshotClass.metadata.name} (how Velero picks the class for driver ${sc.provisioner ?? '?'})`,
            fix: `kubectl label volumesnapshotclass ${vsc.snapshotClass.metadata.name} velero.io/csi-volumesnapshot-class=true`,
          });
        }
      }
      problems.push(
        ...(await checkAccess(this.kube, [
          { verb: 'create', group: 'velero.io', resource: 'backups', namespace: this.ns, why: 'start backups' },
          { verb: 'create', group: 'velero.io', resource: 'restores', namespace: this.ns, why: 'start restores' },
          { verb: 'create', group: 'velero.io', resource: 'backupstoragelocations', namespace: this.ns, why: 'give each trial its own repository prefix' },
          { verb: 'create', group: 'velero.io', resource: 'deletebackuprequests', namespace: this.ns, why: 'remove backups and their data' },
          { verb: 'delete', group: '', resource: 'pods', namespace: this.ns, why: 'inject the crash fault (delete the node-agent or server pod)' },
        ])),
      );
      if (problems.length) return { ok: false, reason: formatProblems(problems) };
      return { ok: true, version: await this.version() };
    } catch (err) {
      return { ok: false, reason: `cannot inspect Velero in namespace ${this.ns}: ${msg(err)}` };
    }
  }

  private async version(): Promise<string> {
    const dep = await getObject(this.kube, { apiVersion: 'apps/v1', plural: 'deployments', namespace: this.ns, name: 'velero' });
    const containers = (dep.spec?.template?.spec?.containers ?? []) as { name: string; image?: string }[];
    const image = (containers.find((c) => c.name === 'velero') ?? containers[0])?.image ?? '';
    const tag = image.includes(':') ? image.slice(image.lastIndexOf(':') + 1) : 'unknown';
    const what = this.mode === 'fs' ? 'file-system backup, kopia' : this.o.snapshotMoveData ? 'CSI snapshots + data mover' : 'CSI snapshots';
    return `${tag} (${what})`;
  }

  // --- repository --------------------------------------------------------------------------------------------------

  async init(trialId: string): Promise<void> {
    this.trial = trialId;
    this.seq = 0;
    const src = await this.findSource();
    if (!src.source) throw new ToolError(this.name, formatProblems(src.problems));
    this.source = src.source;
    this.bsl = k8sName(`pvbench-${this.ctx.runId}-${trialId}`);
    await ensureObject(this.kube, 'backupstoragelocations', backupStorageLocation({ name: this.bsl, namespace: this.ns, runId: this.ctx.runId, bucket: this.bucket(), prefix: this.prefix(), source: this.source }));
    this.created.push({ plural: 'backupstoragelocations', name: this.bsl });
    await watchUntil(this.kube, {
      ref: { apiVersion: V1, plural: 'backupstoragelocations', namespace: this.ns },
      name: this.bsl,
      what: `BackupStorageLocation ${this.ns}/${this.bsl} to become Available`,
      timeoutMs: this.ctx.timeouts.readyMs,
      check: (state) => (state.get(`${this.ns}/${this.bsl}`)?.status?.phase === 'Available' ? true : undefined),
      lastSeen: (state) => {
        const s = state.get(`${this.ns}/${this.bsl}`)?.status;
        return s ? `phase ${s.phase ?? '(none)'}${s.message ? `: ${s.message}` : ''}` : 'not found';
      },
    }).catch((err: unknown) => {
      throw new ToolError(this.name, `the trial's BackupStorageLocation did not become Available: ${msg(err)}`);
    });
  }

  // --- the operations ------------------------------------------------------------------------------------------------

  private async podsOf(kind: 'server' | 'node-agent'): Promise<KubeObject[]> {
    const ref = kind === 'server' ? { apiVersion: 'apps/v1', plural: 'deployments', namespace: this.ns, name: 'velero' } : { apiVersion: 'apps/v1', plural: 'daemonsets', namespace: this.ns, name: 'node-agent' };
    const owner = await findObject(this.kube, ref);
    const labels = (owner?.spec?.selector?.matchLabels ?? (kind === 'server' ? { deploy: 'velero' } : { name: 'node-agent' })) as Record<string, string>;
    const selector = Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const list = await listObjects(this.kube, { apiVersion: 'v1', plural: 'pods', namespace: this.ns }, { labelSelector: selector });
    return list.items.filter((p) => !p.metadata.deletionTimestamp);
  }

  /** Delete the pod doing the work: the node agent on the volumes' node, or the Velero server. */
  private async crash(op: 'backup' | 'restore', name: string, main: KubeObject | undefined, volumeOps: KubeObject[], volumeNodes: () => Promise<string[]>): Promise<string> {
    // The watched state may trail by a moment: read the phase the crash really hits.
    const now = await findObject(this.kube, { apiVersion: V1, plural: op === 'backup' ? 'backups' : 'restores', namespace: this.ns, name }).catch(() => undefined);
    const phase = (now ?? main)?.status?.phase ?? 'New';
    if (this.o.crashTarget === 'server') {
      const pods = await this.podsOf('server');
      const pod = pods[0];
      if (!pod?.metadata.name) throw new ToolError(this.name, `no Velero server pod to kill in ${this.ns}`);
      await deleteObject(this.kube, { apiVersion: 'v1', plural: 'pods', namespace: this.ns, name: pod.metadata.name }, { gracePeriodSeconds: 0 });
      return `deleted Velero server pod ${pod.metadata.name} (${op} in phase ${phase})`;
    }
    if (this.o.crashTarget === 'data-mover') {
      const hit = await this.deleteDataMovers(op, name);
      if (hit) return `${hit} (${op} in phase ${phase})`;
      // Between two volumes no transfer is running: the node agent, which starts the next one, goes instead.
    }
    const working = new Set<string>();
    for (const v of volumeOps) {
      const node = (v.spec?.node ?? v.status?.node) as string | undefined;
      if (node && !DATA_TERMINAL.has(v.status?.phase)) working.add(node);
    }
    if (working.size === 0) for (const n of await volumeNodes()) working.add(n);
    const agents = await this.podsOf('node-agent');
    const victims = agents.filter((p) => working.size === 0 || working.has(p.spec?.nodeName));
    if (victims.length === 0) throw new ToolError(this.name, `no node-agent pod to kill in ${this.ns}${working.size ? ` on ${[...working].join(', ')}` : ''}`);
    for (const p of victims) await deleteObject(this.kube, { apiVersion: 'v1', plural: 'pods', namespace: this.ns, name: p.metadata.name! }, { gracePeriodSeconds: 0 });
    const names = victims.map((p) => `${p.metadata.name}${p.spec?.nodeName ? ` on ${p.spec.nodeName}` : ''}`).join(', ');
    return `deleted Velero node-agent pod ${names} (${op} in phase ${phase})`;
  }

  /**
   * Deletes the pod moving the bytes of a volume operation that is still transferring: not one that has reported all
   * its bytes (it is finishing, and Velero 1.18 can leave its operation InProgress for good when the pod goes then),
   * but the next one once its pod is up. Waits up to 10 s for such a pod; returns what was deleted, or undefined.
   */
  private async deleteDataMovers(op: 'backup' | 'restore', name: string): Promise<string | undefined> {
    const kind = this.volumeOpKind(op);
    const label = kind ? DATA_MOVER_LABEL[kind.plural] : undefined;
    if (!kind || !label) return undefined;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ops = (await listObjects(this.kube, { apiVersion: kind.apiVersion, plural: kind.plural, namespace: this.ns }, { labelSelector: `${kind.label}=${name}` })).items;
      const transferring = new Set(ops.filter((v) => !DATA_TERMINAL.has(v.status?.phase) && !transferDone(v)).map((v) => v.metadata.name!));
      const pods = transferring.size
        ? (await listObjects(this.kube, { apiVersion: 'v1', plural: 'pods', namespace: this.ns }, { labelSelector: label })).items.filter(
            (p) => !p.metadata.deletionTimestamp && transferring.has(p.metadata.labels?.[label] ?? ''),
          )
        : [];
      if (pods.length) {
        for (const p of pods) await deleteObject(this.kube, { apiVersion: 'v1', plural: 'pods', namespace: this.ns, name: p.metadata.name! }, { gracePeriodSeconds: 0 });
        return `deleted Velero data-mover pod ${pods.map((p) => `${p.metadata.name} (${kind.plural.replace(/s$/, '')} ${p.metadata.labels?.[label]})`).join(', ')}`;
      }
      if (Date.now() >= deadline) return undefined;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Create a Backup or Restore, follow it and its volume operations until a terminal phase. */
  private async follow(
    phase: 'backup' | 'restore',
    obj: KubeObject,
    expectedVolumes: number,
    timeoutMs: number,
    volumeNodes: () => Promise<string[]>,
    hooks: OpHooks | undefined,
  ): Promise<{ final: KubeObject; volumeOps: KubeObject[]; wallMs: number; usage: UsageSummary }> {
    const name = obj.metadata.name!;
    const plural = phase === 'backup' ? 'backups' : 'restores';
    const sampler = this.ctx.sampler([{ namespace: this.ns }]);
    await sampler.start();
    const opKind = this.volumeOpKind(phase);
    const ops = opKind
      ? observe(this.kube, { ref: { apiVersion: opKind.apiVersion, plural: opKind.plural, namespace: this.ns }, labelSelector: `${opKind.label}=${name}`, what: `${opKind.plural} of ${name}`, timeoutMs })
      : undefined;
    const volumeOps = () => [...(ops?.latest().values() ?? [])];
    let latest: KubeObject | undefined;
    let finished = false;
    const started = Date.now();
    try {
      await createObject(this.kube, plural, obj);
      this.created.push({ plural, name });
      const op: RunningOp = {
        describe: () => `velero ${phase} ${this.ns}/${name}`,
        progress: async () => (finished ? 1 : operationProgress(latest, volumeOps(), expectedVolumes)),
        kill: () => this.crash(phase, name, latest, volumeOps(), volumeNodes),
      };
      hooks?.onStart?.(op);
      const terminal: readonly string[] = phase === 'backup' ? BACKUP_TERMINAL : RESTORE_TERMINAL;
      const final = await watchUntil(this.kube, {
        ref: { apiVersion: V1, plural, namespace: this.ns },
        name,
        what: `${phase} ${this.ns}/${name} to finish`,
        timeoutMs,
        signal: hooks?.signal,
        check: (state: WatchState) => {
          const o = state.get(`${this.ns}/${name}`);
          if (o) latest = o;
          return o && terminal.includes(o.status?.phase) ? o : undefined;
        },
        lastSeen: (state) => {
          const o = state.get(`${this.ns}/${name}`);
          return o ? `phase ${o.status?.phase ?? 'New'}, ${Math.round(operationProgress(o, volumeOps(), expectedVolumes) * 100)}%` : 'not found';
        },
      }).catch((err: unknown) => {
        throw new ToolError(this.name, `${phase} ${name}: ${msg(err)}`);
      });
      finished = true;
      const wallMs = Date.now() - started;
      // Velero's own timestamps have second resolution: the observed time is the measurement, theirs a cross-check.
      const serverMs = Date.parse(final.status?.completionTimestamp ?? '') - Date.parse(final.status?.startTimestamp ?? '');
      this.ctx.log(`${this.name}: ${phase} ${name} ${final.status?.phase} after ${(wallMs / 1000).toFixed(1)} s${Number.isFinite(serverMs) ? ` (Velero's timestamps: ${Math.round(serverMs / 1000)} s)` : ''}`);
      // The volume operations' final status can trail the Backup's by a moment: one more read.
      let vols = volumeOps();
      if (opKind) {
        vols = await listObjects(this.kube, { apiVersion: opKind.apiVersion, plural: opKind.plural, namespace: this.ns }, { labelSelector: `${opKind.label}=${name}` })
          .then((l) => l.items)
          .catch(() => vols);
      }
      return { final, volumeOps: vols, wallMs, usage: await sampler.stop() };
    } finally {
      finished = true;
      await ops?.stop();
      await sampler.stop().catch(() => undefined);
    }
  }

  async backup(source: VolumeSet, hooks?: OpHooks): Promise<BackupOutcome> {
    if (!this.bsl) throw new ToolError(this.name, 'init() must run before backup()');
    const { namespace: srcNs, selector } = parseLocation(source.location);
    const [, setLabel = ''] = selector.split('=');
    const name = k8sName(`${this.bsl}-b${++this.seq}`);
    const obj = veleroBackup({
      name,
      namespace: this.ns,
      runId: this.ctx.runId,
      trial: this.trial,
      storageLocation: this.bsl,
      includedNamespace: srcNs,
      setLabel,
      mode: this.mode,
      snapshotMoveData: this.o.snapshotMoveData,
      parallelFilesUpload: this.o.parallelFilesUpload,
      timeoutSeconds: Math.ceil(this.ctx.timeouts.backupMs / 1000),
    });
    const nodes = async () => [...new Set((await nodesOfClaims(this.kube, srcNs)).values())];
    const r = await this.follow('backup', obj, this.usesNodeAgent ? source.volumes.length : 0, this.ctx.timeouts.backupMs, nodes, hooks);
    if (r.final.status?.phase !== 'Completed') throw new ToolError(this.name, describeOutcome('backup', r.final, r.volumeOps), null, excerpt(JSON.stringify(r.final.status ?? {}), 600));
    const bytes = volumeBytes(r.volumeOps);
    return {
      snapshotId: name,
      metrics: phaseMetrics({ wallMs: r.wallMs, usage: r.usage, bytesProcessed: bytes.total, bytesRead: bytes.done, bytesWritten: bytes.incremental }),
    };
  }

  async restore(snapshotId: string, target: VolumeSet, hooks?: OpHooks): Promise<RestoreOutcome> {
    const backup = await findObject(this.kube, { apiVersion: V1, plural: 'backups', namespace: this.ns, name: snapshotId });
    if (!backup) throw new ToolError(this.name, `no Velero backup ${this.ns}/${snapshotId} to restore`);
    const srcNs = (backup.spec?.includedNamespaces as string[] | undefined)?.[0];
    if (!srcNs) throw new ToolError(this.name, `backup ${snapshotId} names no namespace to map`);
    const { namespace: targetNs } = parseLocation(target.location);
    const name = k8sName(`${this.bsl || 'pvbench'}-r${++this.seq}`);
    const obj = veleroRestore({ name, namespace: this.ns, runId: this.ctx.runId, trial: this.trial, backupName: snapshotId, namespaceMapping: { [srcNs]: targetNs } });
    const nodes = async () => [...new Set((await nodesOfClaims(this.kube, targetNs)).values())];
    const r = await this.follow('restore', obj, this.usesNodeAgent ? target.volumes.length : 0, this.ctx.timeouts.restoreMs, nodes, hooks);
    if (r.final.status?.phase !== 'Completed') throw new ToolError(this.name, describeOutcome('restore', r.final, r.volumeOps), null, excerpt(JSON.stringify(r.final.status ?? {}), 600));
    const bytes = volumeBytes(r.volumeOps);
    return { metrics: phaseMetrics({ wallMs: r.wallMs, usage: r.usage, bytesProcessed: bytes.total, bytesRead: bytes.done, bytesWritten: bytes.done }) };
  }

  // --- check, recovery -------------------------------------------------------------------------------------------

  private async backupsOfLocation(): Promise<KubeObject[]> {
    const list = await listObjects(this.kube, { apiVersion: V1, plural: 'backups', namespace: this.ns });
    return list.items.filter((b) => b.spec?.storageLocation === this.bsl && b.metadata.name !== undefined);
  }

  private async repositories(): Promise<KubeObject[]> {
    const list = await listObjects(this.kube, { apiVersion: V1, plural: 'backuprepositories', namespace: this.ns });
    return list.items.filter((r) => r.spec?.backupStorageLocation === this.bsl);
  }

  /** Velero has no content check: its BackupRepository status and the latest backup's own validation are it. */
  async check(): Promise<RepositoryCheck> {
    try {
      const lines: string[] = [];
      let ok = true;
      const repos = await this.repositories();
      for (const r of repos) {
        const phase = r.status?.phase ?? 'New';
        if (phase === 'NotReady') ok = false;
        lines.push(`BackupRepository ${r.metadata.name}: ${phase}${r.status?.message ? ` (${r.status.message})` : ''}`);
      }
      if (this.usesNodeAgent && repos.length === 0) lines.push('no BackupRepository for this location yet');
      const backups = (await this.backupsOfLocation()).filter((b) => BACKUP_TERMINAL.includes(b.status?.phase)).sort(byCompletion);
      const last = backups[backups.length - 1];
      if (!last) {
        ok = false;
        lines.push('no finished backup in this location');
      } else {
        const s = last.status ?? {};
        if (s.phase !== 'Completed' || (s.errors ?? 0) > 0) ok = false;
        lines.push(`latest backup ${last.metadata.name}: ${s.phase}, ${s.errors ?? 0} error(s), ${s.warnings ?? 0} warning(s)`);
        const kind = this.volumeOpKind('backup');
        if (kind) {
          const ops = await listObjects(this.kube, { apiVersion: kind.apiVersion, plural: kind.plural, namespace: this.ns }, { labelSelector: `${kind.label}=${last.metadata.name}` });
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
  private async waitReady(what: 'server' | 'node-agent', timeoutMs: number): Promise<string> {
    const isServer = what === 'server';
    const name = isServer ? 'velero' : 'node-agent';
    const workload = await watchUntil(this.kube, {
      ref: { apiVersion: 'apps/v1', plural: isServer ? 'deployments' : 'daemonsets', namespace: this.ns },
      name,
      what: `Velero ${what} to be ready`,
      timeoutMs,
      // After a node outage the API server may still be starting: its 401/403/404 mean "not yet".
      transientStatuses: RESTARTING_API,
      check: (state) => {
        const obj = state.get(`${this.ns}/${name}`);
        const s = obj?.status;
        if (!s) return undefined;
        if (isServer) return (s.availableReplicas ?? 0) >= 1 && (s.unavailableReplicas ?? 0) === 0 ? obj : undefined;
        return (s.desiredNumberScheduled ?? 0) > 0 && s.numberReady === s.desiredNumberScheduled && (s.numberUnavailable ?? 0) === 0 ? obj : undefined;
      },
      lastSeen: (state) => JSON.stringify(state.get(`${this.ns}/${name}`)?.status ?? {}),
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
  private async readyAgainSince(since: number, selectors: { server: string; agent?: string }): Promise<string[]> {
    const t0 = Date.now();
    const timeoutMs = this.ctx.timeouts.readyMs;
    const server = await waitPodsReadySince(this.kube, this.ns, selectors.server, since, timeoutMs, 'the Velero server');
    const agents = selectors.agent ? await waitPodsReadySince(this.kube, this.ns, selectors.agent, since, timeoutMs, "Velero's node agents") : [];
    const pods = (what: string, names: string[]) => `${what} pod${names.length > 1 ? 's' : ''} ${names.join(', ')}`;
    const actions = [`Velero ${pods('server', server)}${agents.length ? ` and ${pods('node-agent', agents)}` : ''} Ready again since the outage after ${((Date.now() - t0) / 1000).toFixed(1)} s`];
    if (!this.bsl) return actions;
    const where = `BackupStorageLocation ${this.ns}/${this.bsl}`;
    await watchUntil(this.kube, {
      ref: { apiVersion: V1, plural: 'backupstoragelocations', namespace: this.ns },
      name: this.bsl,
      what: `${where} to be validated Available again after the outage`,
      timeoutMs,
      transientStatuses: RESTARTING_API,
      check: (state) => {
        const s = state.get(`${this.ns}/${this.bsl}`)?.status;
        return s?.phase === 'Available' && stampedAfter(s.lastValidationTime, since) ? true : undefined;
      },
      lastSeen: (state) => {
        const s = state.get(`${this.ns}/${this.bsl}`)?.status;
        return s ? `phase ${s.phase ?? '(none)'}, last validated ${s.lastValidationTime ?? 'never'}${s.message ? `: ${s.message}` : ''}` : 'not found';
      },
    });
    actions.push(`${where} validated Available again since the outage`);
    return actions;
  }

  /** What an operator does after a crash: wait for Velero to come back, cancel orphaned volume operations, drop partial backups. */
  async recover(opts: RecoverOptions = {}): Promise<RecoveryReport> {
    const actions: string[] = [];
    let staleLocks = 0;
    const t0 = Date.now();
    const server = await this.waitReady('server', this.ctx.timeouts.readyMs);
    const agent = this.usesNodeAgent ? await this.waitReady('node-agent', this.ctx.timeouts.readyMs) : undefined;
    actions.push(`Velero ${this.usesNodeAgent ? 'server and node agents' : 'server'} ready again after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    if (opts.since !== undefined) actions.push(...(await this.readyAgainSince(opts.since, { server, agent })));

    let backups = await this.backupsOfLocation();
    const ended = new Set(backups.filter((b) => BACKUP_TERMINAL.includes(b.status?.phase)).map((b) => b.metadata.name!));
    // A backup still running after the crashed attempt gave up is abandoned, as a controller would abandon it: its
    // transfers can be left waiting for a node agent or a data-mover pod that is gone, and Velero runs one backup at
    // a time, so a retry would queue behind it.
    const abandoned = new Set(backups.filter((b) => !ended.has(b.metadata.name!)).map((b) => b.metadata.name!));
    // Volume operations still "running" for a backup that has ended (or is abandoned) hold the repository: cancel them.
    for (const phase of ['backup', 'restore'] as const) {
      const kind = this.volumeOpKind(phase);
      if (!kind) continue;
      const ops = await listObjects(this.kube, { apiVersion: kind.apiVersion, plural: kind.plural, namespace: this.ns });
      for (const op of ops.items) {
        const owner = op.metadata.labels?.[kind.label];
        if (!owner || DATA_TERMINAL.has(op.status?.phase)) continue;
        if (phase === 'backup' && !ended.has(owner) && !abandoned.has(owner)) continue;
        if (phase === 'restore' && !this.created.some((c) => c.plural === 'restores' && c.name === owner)) continue;
        await patchObject(this.kube, { apiVersion: kind.apiVersion, plural: kind.plural, namespace: this.ns, name: op.metadata.name! }, { spec: { cancel: true } }).catch(() => undefined);
        staleLocks++;
        actions.push(`cancelled orphaned ${kind.plural.replace(/s$/, '')} ${op.metadata.name} (${op.status?.phase ?? 'New'})`);
      }
    }
    for (const name of abandoned) {
      const final = await watchUntil(this.kube, {
        ref: { apiVersion: V1, plural: 'backups', namespace: this.ns },
        name,
        what: `abandoned backup ${this.ns}/${name} to end once its transfers are cancelled`,
        timeoutMs: this.ctx.timeouts.readyMs,
        check: (state) => {
          const b = state.get(`${this.ns}/${name}`);
          return !b || BACKUP_TERMINAL.includes(b.status?.phase) ? (b ?? ({} as KubeObject)) : undefined;
        },
      }).catch((err: unknown) => {
        actions.push(`abandoned backup ${name} did not end: ${msg(err)}`);
        return undefined;
      });
      if (final?.status?.phase) actions.push(`abandoned backup ${name}: ended ${final.status.phase} after its transfers were cancelled`);
    }
    if (abandoned.size) backups = await this.backupsOfLocation();
    // Partial backups: delete them with their uploaded data before retrying.
    const partial = backups.filter((b) => ['PartiallyFailed', 'Failed', 'FailedValidation'].includes(b.status?.phase));
    for (const b of partial) {
      await this.deleteBackup(b.metadata.name!, this.ctx.timeouts.readyMs).catch((err: unknown) => actions.push(`deleting partial backup ${b.metadata.name} failed: ${msg(err)}`));
      actions.push(`deleted ${b.status?.phase} backup ${b.metadata.name} and its data`);
    }
    for (const r of await this.repositories()) {
      if (r.status?.phase !== 'NotReady') continue;
      await deleteObject(this.kube, { apiVersion: V1, plural: 'backuprepositories', namespace: this.ns, name: r.metadata.name! });
      actions.push(`deleted NotReady BackupRepository ${r.metadata.name} (${String(r.status?.message ?? '').slice(0, 120)}); Velero re-creates it`);
    }
    return { staleLocks, actions };
  }

  private async deleteBackup(backupName: string, timeoutMs: number): Promise<void> {
    const name = k8sName(`${backupName}-delete-${Date.now().toString(36)}`);
    await createObject(this.kube, 'deletebackuprequests', deleteBackupRequest({ name, namespace: this.ns, runId: this.ctx.runId, backupName }));
    await watchUntil(this.kube, {
      ref: { apiVersion: V1, plural: 'backups', namespace: this.ns },
      name: backupName,
      what: `backup ${backupName} to be deleted`,
      timeoutMs,
      check: (state) => (state.has(`${this.ns}/${backupName}`) ? undefined : true),
    });
    await deleteObject(this.kube, { apiVersion: V1, plural: 'deletebackuprequests', namespace: this.ns, name }).catch(() => undefined);
  }

  async snapshots(): Promise<string[]> {
    if (!this.bsl) return [];
    return (await this.backupsOfLocation())
      .filter((b) => b.status?.phase === 'Completed')
      .sort(byCompletion)
      .map((b) => b.metadata.name!);
  }

  // --- object storage ---------------------------------------------------------------------------------------------

  private s3Target(): S3Target {
    const src = this.source;
    if (!src) throw new ToolError(this.name, 'init() must run first');
    if (src.provider !== 'aws' && src.provider !== 'velero.io/aws') {
      throw new ToolError(this.name, `reading the repository needs an S3-compatible location; this one's provider is ${src.provider}`);
    }
    const region = src.config?.region ?? 'us-east-1';
    const endpoint = src.config?.s3Url ?? `https://s3.${region}.amazonaws.com`;
    const secret = this.o.credentialsSecret
      ? { name: this.o.credentialsSecret, key: this.o.credentialsKey ?? 'cloud' }
      : (src.credential ?? { name: 'cloud-credentials', key: 'cloud' });
    return { endpoint, bucket: this.bucket(), region, profile: src.config?.profile, secret };
  }

  private bucket(): string {
    return this.o.bucket ?? this.source?.bucket ?? '';
  }

  /** The trial's own prefix: beside the source location's data, never inside it (see locationConflict). */
  private prefix(): string {
    return `${this.o.prefix}/${this.ctx.runId}/${k8sName(this.trial)}`;
  }

  private async s3(args: string[]): Promise<string> {
    const pod = s3Pod({ name: k8sName(`pvbench-s3-${this.ctx.runId}-${Date.now().toString(36)}`), namespace: this.ns, runId: this.ctx.runId, image: this.ctx.podImage, target: this.s3Target(), args });
    return runPod(this.kube, pod, this.ctx.timeouts.readyMs);
  }

  private async objects(sub = ''): Promise<{ key: string; size: number }[]> {
    return parseResultLine<{ key: string; size: number }[]>(await this.s3(['list', `${this.prefix()}/${sub}`]), RESULT_PREFIX);
  }

  /** Bytes stored under the trial's prefix (backup metadata and, for the node agent, the kopia repository). */
  async repositorySize(): Promise<number> {
    if (!this.bsl) return 0;
    try {
      return (await this.objects()).reduce((s, o) => s + o.size, 0);
    } catch (err) {
      this.ctx.log(`${this.name}: repository size unavailable: ${msg(err)}`);
      return 0;
    }
  }

  /** Flip bits in the kopia repository's pack blobs (the backed-up file data) in object storage. */
  async corruptRepository(bitFlips: number, random: () => number) {
    if (!this.usesNodeAgent) {
      throw new ToolError(this.name, 'velero-csi without snapshotMoveData keeps the data in CSI snapshots, not in object storage: corrupt-repository cannot reach it through Velero');
    }
    const objects = (await this.objects('kopia/')).filter((o) => o.size > 0);
    const packs = objects.filter((o) => /^p[0-9a-f]/.test(o.key.slice(o.key.lastIndexOf('/') + 1)));
    const pool = packs.length ? packs : objects.filter((o) => !/kopia\.(repository|blobcfg)$/.test(o.key));
    if (pool.length === 0) throw new ToolError(this.name, `no repository data under ${this.prefix()}/kopia/ to corrupt`);
    const flips: { key: string; offset: number; bit: number }[] = [];
    const chosen = pickDistinct(pool, Math.min(bitFlips, pool.length), random);
    for (let i = 0; i < bitFlips; i++) {
      const o = chosen[i % chosen.length]!;
      flips.push({ key: o.key, offset: Math.floor(random() * o.size), bit: Math.floor(random() * 8) });
    }
    const done = parseResultLine<{ key: string; offset: number; bit: number }[]>(await this.s3(['flip', JSON.stringify(flips)]), RESULT_PREFIX);
    const keys = [...new Set(done.map((d) => d.key.slice(d.key.lastIndexOf('/') + 1)))];
    return {
      description: `flipped ${done.length} bit(s) in ${keys.length} kopia ${packs.length ? 'pack blob(s)' : 'blob(s)'} of ${pool.length} in object storage`,
      details: { flips: done.length, blobs: keys.join(' '), candidates: pool.length },
    };
  }

  async cleanup(): Promise<void> {
    if (!this.bsl) return;
    const errors: string[] = [];
    try {
      // DeleteBackupRequests remove the backups' data from object storage, then the Backup objects.
      for (const b of await this.backupsOfLocation()) {
        await this.deleteBackup(b.metadata.name!, Math.min(this.ctx.timeouts.readyMs, 120_000)).catch((err: unknown) => errors.push(msg(err)));
      }
    } catch (err) {
      errors.push(msg(err));
    }
    for (const c of this.created.splice(0)) {
      if (c.plural === 'backups') continue;
      await deleteObject(this.kube, { apiVersion: V1, plural: c.plural, namespace: this.ns, name: c.name }).catch((err: unknown) => errors.push(msg(err)));
    }
    for (const r of await this.repositories().catch(() => [])) {
      await deleteObject(this.kube, { apiVersion: V1, plural: 'backuprepositories', namespace: this.ns, name: r.metadata.name! }).catch(() => undefined);
    }
    // What the deleted backups leave behind (the kopia repository, its indexes and locks): the trial's prefix is
    // pvbench's alone, so all of it goes.
    try {
      await this.s3(['rm', `${this.prefix()}/`]);
    } catch (err) {
      errors.push(`removing ${this.bucket()}/${this.prefix()}/: ${msg(err)}`);
    }
    if (errors.length) this.ctx.log(`${this.name}: cleanup of ${this.bsl}: ${errors.slice(0, 3).join('; ')}`);
    this.bsl = '';
  }
}
