// The CSI snapshot objects pvbench creates (snapshot.storage.k8s.io/v1) and the hostpath driver's classes and
// corruption pod. Pure builders; the tests validate them against the external-snapshotter CRD schemas.
import { GROUP_LABEL, MANAGED_BY, TRIAL_LABEL, VOLUME_LABEL, corruptCommand, helperPodSpec, k8sName, runLabels } from '../platform/kubernetes/objects.ts';
import type { CorruptAction } from '../platform/kubernetes/objects.ts';
import type { KubeObject } from '../platform/kubernetes/client.ts';

// --- CSI snapshots (snapshot.storage.k8s.io/v1) -----------------------------------------------------------------------

export function volumeSnapshot(o: { name: string; namespace: string; runId: string; trial: string; group: string; pvc: string; className?: string }): KubeObject {
  return {
    apiVersion: 'snapshot.storage.k8s.io/v1',
    kind: 'VolumeSnapshot',
    metadata: {
      name: o.name,
      namespace: o.namespace,
      labels: runLabels(o.runId, 'backup', { [TRIAL_LABEL]: k8sName(o.trial), [VOLUME_LABEL]: o.pvc, [GROUP_LABEL]: o.group }),
    },
    spec: { ...(o.className ? { volumeSnapshotClassName: o.className } : {}), source: { persistentVolumeClaimName: o.pvc } },
  };
}

/**
 * A pre-provisioned VolumeSnapshotContent pointing at an existing snapshot (by its handle), bound to a new
 * VolumeSnapshot in another namespace: how a snapshot is restored into a namespace other than its own (a PVC's
 * dataSource must be in the PVC's namespace). Retain: deleting this copy never deletes the snapshot.
 */
export function snapshotContentCopy(o: {
  name: string;
  runId: string;
  trial: string;
  driver: string;
  snapshotHandle: string;
  className?: string;
  sourceVolumeMode?: string;
  snapshotRef: { name: string; namespace: string };
}): KubeObject {
  return {
    apiVersion: 'snapshot.storage.k8s.io/v1',
    kind: 'VolumeSnapshotContent',
    metadata: { name: o.name, labels: runLabels(o.runId, 'restore', { [TRIAL_LABEL]: k8sName(o.trial) }) },
    spec: {
      deletionPolicy: 'Retain',
      driver: o.driver,
      source: { snapshotHandle: o.snapshotHandle },
      ...(o.sourceVolumeMode ? { sourceVolumeMode: o.sourceVolumeMode } : {}),
      ...(o.className ? { volumeSnapshotClassName: o.className } : {}),
      volumeSnapshotRef: { apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshot', name: o.snapshotRef.name, namespace: o.snapshotRef.namespace },
    },
  };
}

export function snapshotFromContent(o: { name: string; namespace: string; runId: string; trial: string; content: string; className?: string; volume: string }): KubeObject {
  return {
    apiVersion: 'snapshot.storage.k8s.io/v1',
    kind: 'VolumeSnapshot',
    metadata: { name: o.name, namespace: o.namespace, labels: runLabels(o.runId, 'restore', { [TRIAL_LABEL]: k8sName(o.trial), [VOLUME_LABEL]: o.volume }) },
    spec: { ...(o.className ? { volumeSnapshotClassName: o.className } : {}), source: { volumeSnapshotContentName: o.content } },
  };
}

/** A pod on a node with a host directory mounted (the CSI hostpath driver's data), running the corruption script. */
export function hostPathCorruptPod(o: { name: string; namespace: string; runId: string; image: string; nodeName?: string; hostPath: string; actions: CorruptAction[] }): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: o.name, namespace: o.namespace, labels: runLabels(o.runId, 'corrupt') },
    spec: helperPodSpec({
      restartPolicy: 'Never',
      image: o.image,
      command: corruptCommand(o.actions, '/csi-data'),
      nodeName: o.nodeName,
      volumeMounts: [{ name: 'data', mountPath: '/csi-data' }],
      volumes: [{ name: 'data', hostPath: { path: o.hostPath, type: 'Directory' } }],
    }),
  };
}

export function csiHostpathStorageClass(): KubeObject {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'csi-hostpath-sc', labels: { ...MANAGED_BY } },
    provisioner: 'hostpath.csi.k8s.io',
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
    allowVolumeExpansion: true,
  };
}

export function csiHostpathSnapshotClass(): KubeObject {
  return {
    apiVersion: 'snapshot.storage.k8s.io/v1',
    kind: 'VolumeSnapshotClass',
    // The Velero label makes it the class Velero's CSI support picks for this driver.
    metadata: { name: 'csi-hostpath-snapclass', labels: { ...MANAGED_BY, 'velero.io/csi-volumesnapshot-class': 'true' } },
    driver: 'hostpath.csi.k8s.io',
    deletionPolicy: 'Delete',
  };
}

