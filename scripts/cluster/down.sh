#!/usr/bin/env bash
# Stops the local cluster up.sh started and removes everything it made: every process (the daemons by the pids in
# $STATE/pids, and what they started, found by pid in the cluster's cgroups: containerd's shims and every container),
# every mount below the kubelet's and containerd's folders, the network namespace and its veth pair, the cgroups,
# and the state folders. Safe to run twice, and after a failed start.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$here/lib.sh"

# The pids of every process in the cgroup trees given (v1: the same tree under each controller; pids is enough to find
# all): by default the cluster's daemons' and the kubelet's pods'.
cgroup_pids() { # [dirs...]
  local dir
  [ $# -gt 0 ] || set -- "/sys/fs/cgroup/pids/$CLUSTER_CGROUP" /sys/fs/cgroup/pids/kubepods
  for dir in "$@"; do
    [ -d "$dir" ] && find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null
  done
}

stop_pid() { # pid signal
  kill "-$2" "$1" 2>/dev/null || true
}

# Waits until none of the pids given is running; says which are left (and what they are) when the time is up.
wait_gone() { # seconds what pids...
  local limit="$1" what="$2" deadline p alive
  shift 2
  deadline=$((SECONDS + limit))
  while :; do
    alive=()
    for p in "$@"; do running "$p" && alive+=("$p"); done
    [ ${#alive[@]} -eq 0 ] && return 0
    if [ $SECONDS -ge $deadline ]; then
      log "$what still running after ${limit}s: pids ${alive[*]}"
      return 1
    fi
    sleep 0.2
  done
}

stopped_any=false
# Stops the daemons named, in order (SIGTERM, then SIGKILL after 20 s).
stop_daemons() { # names...
  local name f pid started
  for name in "$@"; do
    f="$STATE/pids/$name.pid"
    [ -f "$f" ] || continue
    pid="$(cat "$f")"
    if running "$pid"; then
      stopped_any=true
      stop_pid "$pid" TERM
      started=$SECONDS
      if wait_gone 20 "$name (SIGTERM)" "$pid"; then
        [ $((SECONDS - started)) -ge 5 ] && log "$name took $((SECONDS - started))s to stop"
      else
        stop_pid "$pid" KILL
        wait_gone 10 "$name (SIGKILL)" "$pid" || true
      fi
    fi
    rm -f "$f"
  done
}

# 1. The kubelet first, so that it restarts nothing, and the other node and control-plane daemons but the API server.
stop_daemons kubelet kube-proxy kube-scheduler kube-controller-manager
# 2. The containers (SIGKILL: nothing in them is kept). Their open watches would hold the API server's shutdown: it
# waits for its clients' connections to close, 40 s here with CoreDNS, the CSI driver and the snapshot controller up.
mapfile -t pods < <(cgroup_pids /sys/fs/cgroup/pids/kubepods | sort -u)
if [ ${#pods[@]} -gt 0 ]; then
  stopped_any=true
  for p in "${pods[@]}"; do stop_pid "$p" KILL; done
  wait_gone 15 "the containers' processes" "${pods[@]}" || true
fi
# 3. The API server, containerd and etcd.
stop_daemons kube-apiserver containerd etcd

# 4. Whatever is left in the cluster's cgroups: containerd's shims, containers, their children.
for round in 1 2 3; do
  mapfile -t left < <(cgroup_pids | sort -u)
  [ ${#left[@]} -eq 0 ] && break
  stopped_any=true
  for p in "${left[@]}"; do stop_pid "$p" KILL; done
  wait_gone 15 "processes left in the cluster's cgroups (round $round)" "${left[@]}" || true
done

# 5. Mounts below the cluster's folders (deepest first).
for root in "$KUBELET_DIR" "$STATE" /run/pvbench-cluster; do
  mapfile -t mounts < <(awk -v r="$root" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2-)
  for m in "${mounts[@]}"; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "could not unmount $m"
  done
done

# 6. Network namespace (its end of the veth pair goes with it, and so does ours).
if [ -e "/run/netns/$NETNS" ]; then
  ip netns delete "$NETNS" || log "could not delete network namespace $NETNS"
fi
ip link show "$VETH_HOST" >/dev/null 2>&1 && ip link delete "$VETH_HOST"

# 7. cgroups made for the cluster and by its kubelet (deepest first, in every controller).
for ctl in /sys/fs/cgroup/*/; do
  for top in "$CLUSTER_CGROUP" kubepods; do
    [ -d "$ctl$top" ] && find "$ctl$top" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
done

# 8. Files.
rm -rf "$STATE" "$KUBELET_DIR" /run/pvbench-cluster /var/log/pods /var/log/containers /var/lib/csi-hostpath-data
$stopped_any && log "local cluster stopped and removed" || log "no local cluster was running; leftovers removed"
exit 0
