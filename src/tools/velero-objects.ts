// The Velero objects pvbench creates (velero.io/v1): the trial's BackupStorageLocation, Backups, Restores and
// DeleteBackupRequests. Pure builders; the tests validate them against Velero's CRD schemas.
import { SET_LABEL, TRIAL_LABEL, k8sName, runLabels } from '../platform/kubernetes/objects.ts';
import type { KubeObject } from '../platform/kubernetes/client.ts';

// --- Velero (velero.io/v1) ------------------------------------------------------------------------------------------

export interface BslSource {
  provider: string;
  bucket: string;
  /** Prefix of the source location, if any: ours nests below it. */
  prefix?: string;
  caCert?: string;
  config?: Record<string, string>;
  credential?: { name: string; key: string };
}

/** An object-store prefix without leading or trailing slashes ("/a/b/" → "a/b"), as locations are compared. */
export function trimSlashes(prefix: string): string {
  return prefix.replace(/^\/+|\/+$/g, '');
}

/**
 * A BackupStorageLocation of its own per trial: the tool's "repository" is this bucket prefix, with the source
 * location's provider, config and credential. The prefix is used as given, never nested inside the source's own:
 * Velero marks a location Unavailable when its prefix holds top-level folders it does not know.
 */
export function backupStorageLocation(o: { name: string; namespace: string; runId: string; bucket?: string; prefix: string; source: BslSource }): KubeObject {
  const prefix = trimSlashes(o.prefix);
  return {
    apiVersion: 'velero.io/v1',
    kind: 'BackupStorageLocation',
    metadata: { name: o.name, namespace: o.namespace, labels: runLabels(o.runId, 'repository') },
    spec: {
      provider: o.source.provider,
      objectStorage: { bucket: o.bucket ?? o.source.bucket, prefix, ...(o.source.caCert ? { caCert: o.source.caCert } : {}) },
      ...(o.source.config ? { config: o.source.config } : {}),
      ...(o.source.credential ? { credential: o.source.credential } : {}),
      accessMode: 'ReadWrite',
      default: false,
      // Validate often: the first backup waits for the location to become Available.
      validationFrequency: '10s',
      backupSyncPeriod: '0s',
    },
  };
}

export type VeleroMode = 'fs' | 'csi';

export function veleroBackup(o: {
  name: string;
  namespace: string;
  runId: string;
  trial: string;
  storageLocation: string;
  includedNamespace: string;
  setLabel: string;
  mode: VeleroMode;
  snapshotMoveData?: boolean;
  parallelFilesUpload?: number;
  timeoutSeconds: number;
}): KubeObject {
  const spec: Record<string, unknown> = {
    includedNamespaces: [o.includedNamespace],
    labelSelector: { matchLabels: { [SET_LABEL]: o.setLabel } },
    storageLocation: o.storageLocation,
    ttl: '24h0m0s',
    itemOperationTimeout: `${Math.ceil(o.timeoutSeconds / 60)}m0s`,
  };
  if (o.mode === 'fs') {
    spec.defaultVolumesToFsBackup = true;
    spec.snapshotVolumes = false;
  } else {
    spec.defaultVolumesToFsBackup = false;
    spec.snapshotVolumes = true;
    spec.csiSnapshotTimeout = `${Math.ceil(o.timeoutSeconds / 60)}m0s`;
    if (o.snapshotMoveData) spec.snapshotMoveData = true;
  }
  if (o.parallelFilesUpload) spec.uploaderConfig = { parallelFilesUpload: o.parallelFilesUpload };
  return {
    apiVersion: 'velero.io/v1',
    kind: 'Backup',
    metadata: { name: o.name, namespace: o.namespace, labels: runLabels(o.runId, 'backup', { [TRIAL_LABEL]: k8sName(o.trial) }) },
    spec,
  };
}

export function veleroRestore(o: { name: string; namespace: string; runId: string; trial: string; backupName: string; namespaceMapping: Record<string, string> }): KubeObject {
  return {
    apiVersion: 'velero.io/v1',
    kind: 'Restore',
    metadata: { name: o.name, namespace: o.namespace, labels: runLabels(o.runId, 'restore', { [TRIAL_LABEL]: k8sName(o.trial) }) },
    spec: {
      backupName: o.backupName,
      includedNamespaces: Object.keys(o.namespaceMapping),
      namespaceMapping: o.namespaceMapping,
      restorePVs: true,
      existingResourcePolicy: 'none',
    },
  };
}

export function deleteBackupRequest(o: { name: string; namespace: string; runId: string; backupName: string }): KubeObject {
  return {
    apiVersion: 'velero.io/v1',
    kind: 'DeleteBackupRequest',
    metadata: { name: o.name, namespace: o.namespace, labels: runLabels(o.runId, 'backup', { 'velero.io/backup-name': o.backupName }) },
    spec: { backupName: o.backupName },
  };
}

