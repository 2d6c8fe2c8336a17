#!/usr/bin/env bash
# Starts a one-node Kubernetes cluster on this machine from what build.sh and images.sh made, and installs what
# pvbench's Kubernetes suite needs: CoreDNS, the VolumeSnapshot CRDs and snapshot controller, the CSI hostpath driver
# with its sidecars, a StorageClass and VolumeSnapshotClass, and an S3 object store (Versity Gateway) for Velero.
# Velero itself, and its bucket, are installed by pvbench's own installer (install.velero and install.objectStore in
# the suite).
#
# Everything runs in a network namespace of its own ("pvbench"), joined to this machine by a veth pair: the node is
# 10.213.0.2, this machine's end 10.213.0.1. Every daemon's pid is in $STATE/pids/; down.sh stops them and removes
# every file, mount and interface this made.
#
#   bash scripts/cluster/up.sh        # prints the kubeconfig path on stdout when the cluster is ready
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.sh
source "$here/versions.sh"
# shellcheck source=lib.sh
source "$here/lib.sh"

[ "$(id -u)" -eq 0 ] || die "the local cluster needs root (network namespace, mounts, cgroups)"
[ -d /sys/fs/cgroup/pids ] && [ ! -f /sys/fs/cgroup/cgroup.controllers ] ||
  die "the local cluster runs on cgroup v1 hierarchies (as this project's machines mount them); this machine has cgroup v2: use kind there (examples/kind.yaml)"
if [ -e "$STATE/pids" ]; then
  for f in "$STATE"/pids/*.pid; do
    [ -f "$f" ] && running "$(cat "$f")" && die "a local cluster is already running ($(basename "$f" .pid) is pid $(cat "$f"); state in $STATE): stop it with scripts/cluster/down.sh first"
  done
  log "a cluster that was not stopped left its state behind (none of its daemons runs): removing it first"
  bash "$here/down.sh"
fi

K8S="$CACHE/bin/kubernetes-$KUBERNETES_VERSION"
CTRD="$CACHE/bin/containerd-$CONTAINERD_VERSION"
ETCD="$CACHE/bin/etcd-$ETCD_VERSION/etcd"
for f in "$K8S/.complete" "$CTRD/.complete" "$ETCD"; do
  [ -e "$f" ] || die "missing $f: run scripts/cluster/build.sh first"
done
for t in runc iptables conntrack /usr/lib/cni/bridge openssl; do
  command -v "$t" >/dev/null 2>&1 || [ -x "$t" ] || die "missing $t: run scripts/cluster/deps.sh first"
done

ready=false
# On a failed start: what the cluster looked like (to stderr), then everything is stopped and removed, unless
# PVBENCH_CLUSTER_KEEP=1 asks to keep it for a look.
diagnose() {
  [ -f "$STATE/admin.kubeconfig" ] || return 0
  {
    echo "--- pods"; timeout 20 "${KUBECTL[@]}" get pods -A -o wide
    echo "--- events"; timeout 20 "${KUBECTL[@]}" get events -A --sort-by=.lastTimestamp | tail -40
    for f in "$STATE"/logs/*.log; do echo "--- $(basename "$f") (last lines)"; tail -n 15 "$f"; done
  } >&2 2>&1 || true
}
trap '$ready || { diagnose; if [ "${PVBENCH_CLUSTER_KEEP:-0}" = 1 ]; then log "start-up failed; kept for a look (down.sh removes it)"; else log "start-up failed; stopping what was started"; bash "$here/down.sh" >&2 || true; fi; }' EXIT
started=$SECONDS

mkdir -p "$STATE"/{pids,logs,pki,etcd,cni/net.d,cni/ipam,containerd} "$KUBELET_DIR"
PKI="$STATE/pki"
NSENTER=(nsenter "--net=/run/netns/$NETNS")
KUBECTL=("$K8S/kubectl" --kubeconfig "$STATE/admin.kubeconfig")

# --- network namespace -------------------------------------------------------------------------------------------
log "network namespace $NETNS, node address $NODE_IP"
ip netns add "$NETNS"
ip link add "$VETH_HOST" type veth peer name "$VETH_NODE"
ip link set "$VETH_NODE" netns "$NETNS"
ip addr add "$HOST_IP/30" dev "$VETH_HOST"
ip link set "$VETH_HOST" up
"${NSENTER[@]}" ip addr add "$NODE_IP/30" dev "$VETH_NODE"
"${NSENTER[@]}" ip link set "$VETH_NODE" up
"${NSENTER[@]}" ip link set lo up
# No default route: nothing in the cluster can reach past this machine's end of the veth pair.
"${NSENTER[@]}" sysctl -q -w net.ipv4.ip_forward=1
"${NSENTER[@]}" sysctl -q -w net.bridge.bridge-nf-call-iptables=1 2>/dev/null || log "note: bridge-nf-call-iptables is not per namespace here"

# The kubelet's volume mounts must propagate to the containers that ask for it (the CSI driver's Bidirectional mount).
mount --bind "$KUBELET_DIR" "$KUBELET_DIR"
mount --make-rshared "$KUBELET_DIR"
touch "$STATE/kubelet-mounted"

# --- certificates and kubeconfigs -------------------------------------------------------------------------------
log "certificates"
openssl_quiet() { openssl "$@" 2>/dev/null; }
openssl_quiet req -x509 -newkey rsa:2048 -nodes -keyout "$PKI/ca.key" -out "$PKI/ca.crt" -days 3650 -subj "/CN=pvbench-local-ca"
cert() { # name CN O SANs
  local name="$1" cn="$2" o="$3" sans="$4" ext="$PKI/$1.ext"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n' > "$ext"
  [ -n "$sans" ] && printf 'subjectAltName=%s\n' "$sans" >> "$ext"
  openssl_quiet req -newkey rsa:2048 -nodes -keyout "$PKI/$name.key" -out "$PKI/$name.csr" -subj "/CN=$cn${o:+/O=$o}"
  openssl_quiet x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial -out "$PKI/$name.crt" -days 3650 -extfile "$ext"
}
cert apiserver kube-apiserver "" "IP:$NODE_IP,IP:$SERVICE_IP,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost"
cert admin pvbench-admin system:masters ""
cert kubelet "system:node:$NODE_NAME" system:nodes "IP:$NODE_IP,DNS:$NODE_NAME"
cert controller-manager system:kube-controller-manager "" ""
cert scheduler system:kube-scheduler "" ""
cert proxy system:kube-proxy "" ""
cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters ""
openssl_quiet genrsa -out "$PKI/sa.key" 2048
openssl_quiet rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub"

kubeconfig() { # name user
  local out="$STATE/$1.kubeconfig"
  cat > "$out" <<KC
apiVersion: v1
kind: Config
clusters:
- name: pvbench-local
  cluster:
    server: https://$NODE_IP:6443
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $(base64 -w0 "$PKI/$1.crt")
    client-key-data: $(base64 -w0 "$PKI/$1.key")
contexts:
- name: pvbench-local
  context: { cluster: pvbench-local, user: $2 }
current-context: pvbench-local
KC
  chmod 600 "$out"
}
kubeconfig admin pvbench-admin
kubeconfig kubelet "system:node:$NODE_NAME"
kubeconfig controller-manager system:kube-controller-manager
kubeconfig scheduler system:kube-scheduler
kubeconfig proxy system:kube-proxy

# --- daemons ------------------------------------------------------------------------------------------------------
# Each daemon runs in the namespace, in its own session, with its output in $STATE/logs/<name>.log and its pid in
# $STATE/pids/<name>.pid.
for ctl in /sys/fs/cgroup/*/; do
  [ -f "${ctl}cgroup.procs" ] || continue
  mkdir -p "$ctl$CLUSTER_CGROUP"
  # A new cpuset cgroup has no CPUs or memory nodes: no process can join it until it has its parent's.
  if [ -f "${ctl}cpuset.cpus" ]; then
    cat "${ctl}cpuset.cpus" > "$ctl$CLUSTER_CGROUP/cpuset.cpus"
    cat "${ctl}cpuset.mems" > "$ctl$CLUSTER_CGROUP/cpuset.mems"
  fi
done
daemon() { # name argv...
  local name="$1"
  shift
  (
    for ctl in /sys/fs/cgroup/*/; do
      [ -f "$ctl$CLUSTER_CGROUP/cgroup.procs" ] && echo "$BASHPID" > "$ctl$CLUSTER_CGROUP/cgroup.procs"
    done
    exec setsid "${NSENTER[@]}" "$@" > "$STATE/logs/$name.log" 2>&1 < /dev/null
  ) &
  echo $! > "$STATE/pids/$name.pid"
}

# Polls a command until it succeeds; says what it waited for when the time is up.
wait_for() { # seconds what argv...
  local limit="$1" what="$2" deadline
  shift 2
  deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      die "timed out after ${limit}s waiting for $what (logs: $STATE/logs/)"
    fi
    sleep 0.5
  done
}

log "etcd $ETCD_VERSION"
daemon etcd "$ETCD" --name "$NODE_NAME" --data-dir "$STATE/etcd" \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster "$NODE_NAME=http://127.0.0.1:2380" --unsafe-no-fsync --quota-backend-bytes 2147483648
wait_for 60 "etcd to answer /health" "${NSENTER[@]}" curl -fsS http://127.0.0.1:2379/health

log "kube-apiserver $KUBERNETES_VERSION"
daemon kube-apiserver "$K8S/kube-apiserver" --etcd-servers=http://127.0.0.1:2379 \
  --advertise-address="$NODE_IP" --bind-address=0.0.0.0 --secure-port=6443 \
  --service-cluster-ip-range="$SERVICE_CIDR" --allow-privileged=true \
  --client-ca-file="$PKI/ca.crt" --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
  --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
  --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
  --kubelet-preferred-address-types=InternalIP \
  --profiling=false --v=1
wait_for 120 "the API server to answer /readyz" "${KUBECTL[@]}" get --raw /readyz

log "kube-controller-manager, kube-scheduler"
daemon kube-controller-manager "$K8S/kube-controller-manager" --kubeconfig="$STATE/controller-manager.kubeconfig" \
  --authentication-kubeconfig="$STATE/controller-manager.kubeconfig" --authorization-kubeconfig="$STATE/controller-manager.kubeconfig" \
  --root-ca-file="$PKI/ca.crt" --service-account-private-key-file="$PKI/sa.key" --use-service-account-credentials=true \
  --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
  --leader-elect=false --bind-address=127.0.0.1 --profiling=false --v=1
daemon kube-scheduler "$K8S/kube-scheduler" --kubeconfig="$STATE/scheduler.kubeconfig" \
  --authentication-kubeconfig="$STATE/scheduler.kubeconfig" --authorization-kubeconfig="$STATE/scheduler.kubeconfig" \
  --leader-elect=false --bind-address=127.0.0.1 --profiling=false --v=1

# --- containerd, images, kubelet ---------------------------------------------------------------------------------
log "containerd $CONTAINERD_VERSION"
cat > "$STATE/cni/net.d/10-pvbench.conflist" <<CNI
{
  "cniVersion": "1.0.0",
  "name": "pvbench",
  "plugins": [
    { "type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
      "ipam": { "type": "host-local", "dataDir": "$STATE/cni/ipam", "ranges": [[{ "subnet": "$POD_CIDR" }]], "routes": [{ "dst": "0.0.0.0/0" }] } },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
CNI
cat > "$STATE/containerd/config.toml" <<TOML
version = 2
root = "$STATE/containerd/root"
state = "$STATE/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$CONTAINERD_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # Root here lacks CAP_SYS_RESOURCE, so no process may lower its OOM score below containerd's (the kubelet asks
  # -998 for every pod sandbox): keep containers' scores at or above containerd's.
  restrict_oom_score_adj = true
  # Pod network namespaces under the state folder (not /run/netns/cni-*), so down.sh unmounts and removes them
  # with the rest of the cluster even when no pod was torn down through the CRI.
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "$(command -v runc)"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
TOML
PATH="$CTRD:$PATH" daemon containerd "$CTRD/containerd" --config "$STATE/containerd/config.toml"
CTR=("$CTRD/ctr" --address "$CONTAINERD_SOCK" --namespace k8s.io)
wait_for 60 "containerd to answer on $CONTAINERD_SOCK" "${CTR[@]}" version

log "importing images"
import_start=$SECONDS
while IFS=$'\t' read -r name archive; do
  [ -f "$archive" ] || die "image archive $archive is missing: run scripts/cluster/images.sh"
  timeout 600 "${CTR[@]}" images import --no-unpack=false --digests "$archive" > /dev/null
  # The list is read whole first: grep -q leaving early would fail the pipeline (pipefail) on ctr's SIGPIPE.
  listed="$("${CTR[@]}" images ls -q)"
  grep -qxF "$name" <<< "$listed" || die "containerd did not list $name after importing $archive"
done < <(bash "$here/images.sh" --list)
log "images imported in $((SECONDS - import_start)) s"

log "kubelet"
cat > "$STATE/kubelet.yaml" <<KUBELET
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $PKI/ca.crt }
authorization: { mode: Webhook }
cgroupDriver: cgroupfs
# This machine mounts cgroup v1 hierarchies only. Kubernetes 1.34 still runs on v1 (maintenance mode); say so
# explicitly, as 1.35 and later refuse v1 unless this is false.
failCgroupV1: false
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
clusterDNS: [$DNS_IP]
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
failSwapOn: false
serializeImagePulls: false
# A test node on a shared disk: never evict for disk or image-store pressure, never collect images (none can be pulled).
evictionHard: { memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%" }
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
healthzBindAddress: 127.0.0.1
podPidsLimit: -1
maxPods: 110
KUBELET
daemon kubelet "$K8S/kubelet" --config="$STATE/kubelet.yaml" --kubeconfig="$STATE/kubelet.kubeconfig" \
  --root-dir="$KUBELET_DIR" --node-ip="$NODE_IP" --hostname-override="$NODE_NAME" --v=1
wait_for 180 "node $NODE_NAME to be Ready" "${KUBECTL[@]}" wait --for=condition=Ready "node/$NODE_NAME" --timeout=5s

log "kube-proxy"
cat > "$STATE/kube-proxy.yaml" <<PROXY
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: $STATE/proxy.kubeconfig }
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: $POD_CIDR
# Replies of a pod to a pod on the same bridge must pass back through the node for the service address to be undone.
iptables: { masqueradeAll: true }
# Leave the machine-wide conntrack table size alone.
conntrack: { maxPerCore: 0 }
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
PROXY
daemon kube-proxy "$K8S/kube-proxy" --config="$STATE/kube-proxy.yaml" --v=1
wait_for 60 "kube-proxy to answer /healthz" "${NSENTER[@]}" curl -fsS http://127.0.0.1:10256/healthz

# --- add-ons ------------------------------------------------------------------------------------------------------
log "add-ons: CoreDNS, snapshot CRDs and controller, CSI hostpath driver, object store"
"${KUBECTL[@]}" apply -f "$CACHE/bin/external-snapshotter-$EXTERNAL_SNAPSHOTTER_VERSION/crd/" > /dev/null
wait_for 60 "the VolumeSnapshot CRDs to be established" "${KUBECTL[@]}" wait --for=condition=Established \
  crd/volumesnapshots.snapshot.storage.k8s.io crd/volumesnapshotcontents.snapshot.storage.k8s.io crd/volumesnapshotclasses.snapshot.storage.k8s.io --timeout=5s
OBJECT_STORE_SECRET="$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
bash "$here/manifests.sh" "$OBJECT_STORE_SECRET" | "${KUBECTL[@]}" apply -f - > /dev/null
for d in kube-system/coredns kube-system/snapshot-controller pvbench-s3/versitygw; do
  wait_for 240 "deployment $d to be available" "${KUBECTL[@]}" -n "${d%%/*}" wait --for=condition=Available "deployment/${d#*/}" --timeout=5s
done
wait_for 240 "the CSI driver's pod to be ready" "${KUBECTL[@]}" -n default wait --for=condition=Ready pod/csi-hostpathplugin-0 --timeout=5s
wait_for 120 "the kubelet to register the CSI driver" \
  bash -c '"$@" get csinode "$0" -o jsonpath="{.spec.drivers[*].name}" | grep -qw hostpath.csi.k8s.io' "$NODE_NAME" "${KUBECTL[@]}"

cp "$STATE/admin.kubeconfig" "$STATE/kubeconfig"
log "cluster ready in $((SECONDS - started)) s: Kubernetes $("${KUBECTL[@]}" version -o json | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | tail -1), kubeconfig $STATE/kubeconfig"
ready=true
printf '%s\n' "$STATE/kubeconfig"
