# Pinned versions of everything the local cluster builds or installs. Sourced by the other scripts in this folder.
# Kubernetes 1.34 is the newest minor that runs on this machine's cgroup v1 hierarchies without a deprecation
# opt-out (1.35 makes kubelet's failCgroupV1 default to true) and that upstream supports with containerd 1.7.
# shellcheck disable=SC2034
KUBERNETES_VERSION=v1.34.4
CONTAINERD_VERSION=v1.7.35
ETCD_VERSION=v3.6.5
EXTERNAL_SNAPSHOTTER_VERSION=v8.4.0
EXTERNAL_PROVISIONER_VERSION=v5.3.0
VELERO_VERSION=v1.18.3
VELERO_AWS_PLUGIN_VERSION=v1.14.3
KOPIA_VERSION=v0.21.1
RESTIC_VERSION=v0.18.1
VERSITYGW_VERSION=v1.8.0
# Node 24 for the images of the pods that seed and verify volumes (the npm package, as scripts/setup.sh uses).
NODE_IMAGE_VERSION=24
COREDNS_VERSION=v1.12.4
# pvbench's own CSI driver (csi-driver/): its version is the hash of its sources, so a change rebuilds it.
CSI_DRIVER_VERSION="src-$(cd "$(dirname "${BASH_SOURCE[0]}")/csi-driver" 2>/dev/null && find . -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) -print0 | sort -z | xargs -0 cat | sha256sum | cut -c1-12 || echo none)"
# pvbench's fault-injecting FUSE layer (scripts/faultfs/), versioned the same way.
FAULTFS_VERSION="src-$(cd "$(dirname "${BASH_SOURCE[0]}")/../faultfs" 2>/dev/null && find . -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) -print0 | sort -z | xargs -0 cat | sha256sum | cut -c1-12 || echo none)"
PAUSE_VERSION=3.10.1

# Image names: the pause image under the name the kubelet and containerd expect; everything else under
# pvbench.local/, the names a suite maps its images to (platform.images in examples/local-cluster.yaml).
PAUSE_IMAGE=registry.k8s.io/pause:$PAUSE_VERSION
NODE_IMAGE=pvbench.local/node:$NODE_IMAGE_VERSION
COREDNS_IMAGE=pvbench.local/coredns:$COREDNS_VERSION
SNAPSHOT_CONTROLLER_IMAGE=pvbench.local/snapshot-controller:$EXTERNAL_SNAPSHOTTER_VERSION
CSI_SNAPSHOTTER_IMAGE=pvbench.local/csi-snapshotter:$EXTERNAL_SNAPSHOTTER_VERSION
CSI_DRIVER_IMAGE=pvbench.local/csi-driver:$CSI_DRIVER_VERSION
CSI_PROVISIONER_IMAGE=pvbench.local/csi-provisioner:$EXTERNAL_PROVISIONER_VERSION
VELERO_IMAGE=pvbench.local/velero:$VELERO_VERSION
VELERO_AWS_PLUGIN_IMAGE=pvbench.local/velero-plugin-for-aws:$VELERO_AWS_PLUGIN_VERSION
OBJECT_STORE_IMAGE=pvbench.local/versitygw:$VERSITYGW_VERSION
