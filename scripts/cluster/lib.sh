# Shared helpers of the cluster scripts (sourced).
CACHE="${PVBENCH_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pvbench-cluster}"
log() { printf '[cluster] %s\n' "$*" >&2; }
die() { printf '[cluster] error: %s\n' "$*" >&2; exit 1; }
# Is the process running? One that has exited is not, also while it is a zombie: this machine's init reaps orphans
# only every 2 s or so, and kill -0 succeeds on a zombie (the field after the command name in /proc/PID/stat is Z).
running() { # pid
  local stat
  kill -0 "$1" 2>/dev/null || return 1
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [ "${stat%% *}" != Z ]
}
# The running cluster's files (certificates, kubeconfigs, etcd, containerd, logs, pids): removed by down.sh.
STATE="${PVBENCH_CLUSTER_STATE:-/var/lib/pvbench-cluster}"
# Velero's node agent mounts the host's /var/lib/kubelet/pods, so the kubelet keeps its usual root.
KUBELET_DIR=/var/lib/kubelet
CONTAINERD_SOCK=/run/pvbench-cluster/containerd.sock
NETNS=pvbench
VETH_HOST=pvb-host
VETH_NODE=pvb-node
HOST_IP=10.213.0.1
NODE_IP=10.213.0.2
NODE_NAME=pvbench-node
POD_CIDR=10.244.0.0/24
SERVICE_CIDR=10.96.0.0/16
SERVICE_IP=10.96.0.1
DNS_IP=10.96.0.10
# Every daemon of the cluster runs in this cgroup (in each v1 hierarchy), so that down.sh finds by pid whatever they
# started (containerd's shims) even after they have gone.
CLUSTER_CGROUP=pvbench-cluster
