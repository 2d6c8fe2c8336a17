#!/usr/bin/env bash
# Prints the add-ons of the local cluster as one YAML stream for kubectl apply: CoreDNS, the snapshot controller
# (upstream's own deploy files from the external-snapshotter module, with the image built here), the CSI hostpath
# driver with its sidecars (upstream's sidecar RBAC files from their modules), its StorageClass and
# VolumeSnapshotClass, and the S3 object store for Velero (pvbench's installer makes its bucket).
#   bash scripts/cluster/manifests.sh OBJECT_STORE_SECRET_KEY
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.sh
source "$here/versions.sh"
# shellcheck source=lib.sh
source "$here/lib.sh"
secret_key="${1:?usage: manifests.sh OBJECT_STORE_SECRET_KEY}"
deploy="$CACHE/bin"

# Upstream deploy files, kept by build.sh next to the binaries (they come with the modules).
cat "$deploy/external-snapshotter-$EXTERNAL_SNAPSHOTTER_VERSION/deploy/rbac-snapshot-controller.yaml"
echo '---'
sed -e "s#image: .*snapshot-controller:.*#image: $SNAPSHOT_CONTROLLER_IMAGE\n          imagePullPolicy: Never#" \
  -e 's#replicas: 2#replicas: 1#' -e 's#"--leader-election=true"#"--leader-election=false"#' \
  "$deploy/external-snapshotter-$EXTERNAL_SNAPSHOTTER_VERSION/deploy/setup-snapshot-controller.yaml"
echo '---'
cat "$deploy/external-provisioner-$EXTERNAL_PROVISIONER_VERSION/deploy/rbac.yaml"
echo '---'
cat "$deploy/external-snapshotter-$EXTERNAL_SNAPSHOTTER_VERSION/deploy/rbac-csi-snapshotter.yaml"
echo

cat <<YAML
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: coredns, namespace: kube-system }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: 'system:coredns' }
rules:
  - { apiGroups: [''], resources: [endpoints, services, pods, namespaces], verbs: [list, watch] }
  - { apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [list, watch] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: 'system:coredns' }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: 'system:coredns' }
subjects: [{ kind: ServiceAccount, name: coredns, namespace: kube-system }]
---
apiVersion: v1
kind: ConfigMap
metadata: { name: coredns, namespace: kube-system }
data:
  # Cluster names only: this cluster has no way out, so nothing is forwarded.
  Corefile: |
    .:53 {
        errors
        health :8080
        ready :8181
        kubernetes cluster.local in-addr.arpa ip6.arpa {
            pods insecure
            fallthrough in-addr.arpa ip6.arpa
        }
        cache 30
    }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: coredns, namespace: kube-system, labels: { k8s-app: kube-dns } }
spec:
  replicas: 1
  selector: { matchLabels: { k8s-app: kube-dns } }
  template:
    metadata: { labels: { k8s-app: kube-dns } }
    spec:
      serviceAccountName: coredns
      priorityClassName: system-cluster-critical
      containers:
        - name: coredns
          image: $COREDNS_IMAGE
          imagePullPolicy: Never
          args: [-conf, /etc/coredns/Corefile]
          ports:
            - { containerPort: 53, name: dns, protocol: UDP }
            - { containerPort: 53, name: dns-tcp, protocol: TCP }
          readinessProbe: { httpGet: { path: /ready, port: 8181 }, periodSeconds: 2 }
          volumeMounts: [{ name: config, mountPath: /etc/coredns, readOnly: true }]
      volumes: [{ name: config, configMap: { name: coredns } }]
---
apiVersion: v1
kind: Service
metadata: { name: kube-dns, namespace: kube-system, labels: { k8s-app: kube-dns } }
spec:
  clusterIP: $DNS_IP
  selector: { k8s-app: kube-dns }
  ports:
    - { name: dns, port: 53, protocol: UDP }
    - { name: dns-tcp, port: 53, protocol: TCP }
YAML

bash "$here/csi-hostpath.sh"

cat <<YAML
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: { name: csi-hostpath-sc }
provisioner: hostpath.csi.k8s.io
reclaimPolicy: Delete
volumeBindingMode: WaitForFirstConsumer
allowVolumeExpansion: true
---
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshotClass
metadata:
  name: csi-hostpath-snapclass
  # Velero's CSI support picks the class with this label for the driver.
  labels: { velero.io/csi-volumesnapshot-class: 'true' }
driver: hostpath.csi.k8s.io
deletionPolicy: Delete
---
apiVersion: v1
kind: Namespace
metadata: { name: pvbench-s3 }
---
apiVersion: v1
kind: Secret
metadata: { name: object-store, namespace: pvbench-s3 }
type: Opaque
stringData:
  ROOT_ACCESS_KEY: pvbench
  ROOT_SECRET_KEY: $secret_key
  # The AWS credentials file Velero's AWS plugin reads.
  cloud: |
    [default]
    aws_access_key_id=pvbench
    aws_secret_access_key=$secret_key
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: versitygw, namespace: pvbench-s3, labels: { app: versitygw } }
spec:
  replicas: 1
  selector: { matchLabels: { app: versitygw } }
  template:
    metadata: { labels: { app: versitygw } }
    spec:
      automountServiceAccountToken: false
      containers:
        - name: versitygw
          image: $OBJECT_STORE_IMAGE
          imagePullPolicy: Never
          args: [--port, ':9000', posix, /data]
          envFrom: [{ secretRef: { name: object-store } }]
          ports: [{ containerPort: 9000 }]
          readinessProbe: { tcpSocket: { port: 9000 }, periodSeconds: 2 }
          volumeMounts: [{ name: data, mountPath: /data }]
      # On the node's disk, not in the pod: a restarted object store (the object-store crash fault) keeps its
      # buckets, as a real one does. down.sh removes it with the rest of the cluster's state.
      volumes: [{ name: data, hostPath: { path: $STATE/object-store, type: DirectoryOrCreate } }]
---
apiVersion: v1
kind: Service
metadata: { name: versitygw, namespace: pvbench-s3 }
spec:
  selector: { app: versitygw }
  ports: [{ port: 9000, targetPort: 9000 }]
YAML
