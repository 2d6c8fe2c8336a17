// Velero's objects read, not written: options, the phases that end an operation, progress and outcome from a
// Backup or Restore and its per-volume operations, where a storage location may go. Pure.
import type { ToolConfig } from '../config/schema.ts';
import type { KubeObject } from '../platform/kubernetes/client.ts';
import type { Problem } from '../platform/kubernetes/preflight.ts';
import { trimSlashes } from './velero-objects.ts';
import type { VeleroMode } from './velero-objects.ts';
export const V1 = 'velero.io/v1';
export const V2 = 'velero.io/v2alpha1';

export const BACKUP_TERMINAL = ['Completed', 'PartiallyFailed', 'Failed', 'FailedValidation'] as const;
export const RESTORE_TERMINAL = ['Completed', 'PartiallyFailed', 'Failed', 'FailedValidation'] as const;
export const DATA_TERMINAL = new Set(['Completed', 'Failed', 'Canceled']);

/**
 * What the crash fault deletes. node-agent (the default where the node agent works) and server: those pods.
 * data-mover: the pod that moves a volume's bytes. Since Velero 1.17 each PodVolumeBackup/Restore and
 * DataUpload/Download runs in a pod of its own (the "VGDP micro-service"), so deleting the node agent no longer
 * touches a transfer already running. On the local cluster, Velero 1.18.3 did not recover from a deleted data-mover
 * pod: the operation stayed Accepted until the node agent's prepare timeout, or InProgress and then Canceling, and
 * the node agent's transfers that followed (a restore's too) stayed Prepared, until the node agent restarted.
 */
export type CrashTarget = 'data-mover' | 'node-agent' | 'server' | 'object-store';

/**
 * The in-cluster Service an object-store URL names (http://<service>.<namespace>.svc[.cluster.local][:port]), or
 * undefined for a store outside the cluster.
 */
export function serviceOfUrl(url: string | undefined): { name: string; namespace: string } | undefined {
  if (!url) return undefined;
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return undefined;
  }
  const m = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc(\.cluster\.local)?$/.exec(host);
  return m ? { name: m[1]!, namespace: m[2]! } : undefined;
}

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
  if (crash && crash !== 'data-mover' && crash !== 'node-agent' && crash !== 'server' && crash !== 'object-store') {
    throw new Error(`${config.name ?? config.type}: options.crashTarget must be "data-mover", "node-agent", "server" or "object-store", not "${crash}"`);
  }
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

export function byCompletion(a: KubeObject, b: KubeObject): number {
  const ka = `${a.status?.completionTimestamp ?? ''}|${a.metadata.creationTimestamp ?? ''}|${a.metadata.name}`;
  const kb = `${b.status?.completionTimestamp ?? ''}|${b.metadata.creationTimestamp ?? ''}|${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** The kind of per-volume object that carries byte progress in a mode, if any. */
export function volumeOpKindOf(mode: VeleroMode, snapshotMoveData: boolean, phase: 'backup' | 'restore'): VolumeOpKind | undefined {
  const label = phase === 'backup' ? 'velero.io/backup-name' : 'velero.io/restore-name';
  if (mode === 'fs') return { apiVersion: V1, plural: phase === 'backup' ? 'podvolumebackups' : 'podvolumerestores', label };
  if (snapshotMoveData) return { apiVersion: V2, plural: phase === 'backup' ? 'datauploads' : 'datadownloads', label };
  return undefined;
}

export interface VolumeOpKind {
  apiVersion: string;
  plural: string;
  label: string;
}
