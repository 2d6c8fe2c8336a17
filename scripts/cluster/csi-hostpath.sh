#!/usr/bin/env bash
# Prints the CSI driver of the local cluster as YAML: pvbench's own directory-backed driver (csi-driver/), which keeps
# the CSI hostpath driver's name and on-disk layout (volumes as folders, snapshots as <handle>.snap tarballs in
# /var/lib/csi-hostpath-data) because the upstream driver and node-driver-registrar cannot be had from the Go module
# proxy here; with the upstream csi-provisioner and csi-snapshotter sidecars, bound to the ClusterRoles of their own
# deploy files (which manifests.sh applies).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.sh
source "$here/versions.sh"
driver=hostpath.csi.k8s.io
cat <<YAML
---
apiVersion: storage.k8s.io/v1
kind: CSIDriver
metadata: { name: $driver }
spec:
  attachRequired: false
  podInfoOnMount: true
  volumeLifecycleModes: [Persistent]
  fsGroupPolicy: File
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: csi-hostpathplugin-sa, namespace: default }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: csi-hostpathplugin-provisioner }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: external-provisioner-runner }
subjects: [{ kind: ServiceAccount, name: csi-hostpathplugin-sa, namespace: default }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: csi-hostpathplugin-snapshotter }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: external-snapshotter-runner }
subjects: [{ kind: ServiceAccount, name: csi-hostpathplugin-sa, namespace: default }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: csi-hostpathplugin, namespace: default, labels: { app.kubernetes.io/name: csi-hostpathplugin } }
spec:
  serviceName: csi-hostpathplugin
  replicas: 1
  selector: { matchLabels: { app.kubernetes.io/name: csi-hostpathplugin } }
  template:
    metadata: { labels: { app.kubernetes.io/name: csi-hostpathplugin } }
    spec:
      serviceAccountName: csi-hostpathplugin-sa
      priorityClassName: system-node-critical
      containers:
        - name: hostpath
          image: $CSI_DRIVER_IMAGE
          imagePullPolicy: Never
          args:
            - --drivername=$driver
            - --endpoint=unix:///csi/csi.sock
            - --nodeid=\$(KUBE_NODE_NAME)
            - --datadir=/csi-data-dir
            - --registration-dir=/registration
            - --kubelet-registration-path=/var/lib/kubelet/plugins/$driver/csi.sock
          env:
            - name: KUBE_NODE_NAME
              valueFrom: { fieldRef: { apiVersion: v1, fieldPath: spec.nodeName } }
          securityContext: { privileged: true }
          volumeMounts:
            - { name: socket-dir, mountPath: /csi }
            - { name: mountpoint-dir, mountPath: /var/lib/kubelet/pods, mountPropagation: Bidirectional }
            - { name: registration-dir, mountPath: /registration }
            - { name: csi-data-dir, mountPath: /csi-data-dir }
        - name: csi-provisioner
          image: $CSI_PROVISIONER_IMAGE
          imagePullPolicy: Never
          args: [-v=2, --csi-address=/csi/csi.sock, --leader-election=false, --timeout=60s]
          volumeMounts: [{ name: socket-dir, mountPath: /csi }]
        - name: csi-snapshotter
          image: $CSI_SNAPSHOTTER_IMAGE
          imagePullPolicy: Never
          args: [-v=2, --csi-address=/csi/csi.sock, --leader-election=false, --timeout=60s]
          volumeMounts: [{ name: socket-dir, mountPath: /csi }]
      volumes:
        - { name: socket-dir, hostPath: { path: /var/lib/kubelet/plugins/$driver, type: DirectoryOrCreate } }
        - { name: mountpoint-dir, hostPath: { path: /var/lib/kubelet/pods, type: DirectoryOrCreate } }
        - { name: registration-dir, hostPath: { path: /var/lib/kubelet/plugins_registry, type: Directory } }
        - { name: csi-data-dir, hostPath: { path: /var/lib/csi-hostpath-data, type: DirectoryOrCreate } }
YAML
