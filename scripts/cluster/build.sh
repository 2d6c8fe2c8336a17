#!/usr/bin/env bash
# Builds, at the versions pinned in versions.sh, every binary the local cluster runs, from modules downloaded from the
# Go module proxy (nothing upstream is committed here). Each component is built into
#   $PVBENCH_CLUSTER_CACHE/bin/<component>-<version>/
# and skipped when that folder is complete, so a second run takes seconds.
#
#   bash scripts/cluster/build.sh            # everything
#   bash scripts/cluster/build.sh kubernetes  # one component (names: see COMPONENTS below)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.sh
source "$here/versions.sh"
# shellcheck source=lib.sh
source "$here/lib.sh"

export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
export GOWORK=off
export GOTOOLCHAIN=local

# Copies a downloaded module (read-only in the module cache) to a writable build folder and prints that folder.
module_tree() { # module version
  local mod="$1" ver="$2" dir src
  dir="$(timeout 900 go mod download -json "$mod@$ver" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  [ -n "$dir" ] || die "go mod download $mod@$ver gave no folder"
  src="$CACHE/src/${mod//\//_}@$ver"
  rm -rf "$src"
  mkdir -p "$(dirname "$src")"
  cp -r "$dir" "$src"
  chmod -R u+w "$src"
  printf '%s\n' "$src"
}

# go build of main packages inside a module tree, into an output folder; every wait is bounded.
build_in() { # tree outdir ldflags tags pkg...
  local tree="$1" out="$2" ldflags="$3" tags="$4"
  shift 4
  mkdir -p "$out"
  (cd "$tree" && timeout 3600 go build -mod=mod -trimpath -tags="$tags" -ldflags="$ldflags" -o "$out/" "$@")
}

# Kubernetes: the module zip leaves out staging/ (its folders carry their own go.mod); go.mod maps every k8s.io staging
# module to ./staging/src/k8s.io/<name>. Those folders are filled from the staging modules published from the same
# tree (k8s.io/<name> v0.<minor>.<patch>), and the binaries are built as hack/lib/golang.sh builds them: -trimpath,
# tags selinux,notest,grpcnotrace, -s -w, version variables in ldflags, CGO off for the static ones.
build_kubernetes() {
  local out="$1" ver="$KUBERNETES_VERSION" tree staging name sver sdir
  tree="$(module_tree k8s.io/kubernetes "$ver")"
  sver="v0.${ver#v1.}"
  # The zip's vendor/ holds only OWNERS (its staging links are not in a module zip): build in module mode.
  rm -rf "$tree/vendor" "$tree/go.work" "$tree/go.work.sum"
  while read -r name; do
    sdir="$(timeout 900 go mod download -json "k8s.io/$name@$sver" 2>/dev/null | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p' || true)"
    if [ -z "$sdir" ]; then
      # Not published (the sample-* modules): no binary built here imports it, but go.mod still names it.
      mkdir -p "$tree/staging/src/k8s.io/$name"
      printf 'module k8s.io/%s\n' "$name" > "$tree/staging/src/k8s.io/$name/go.mod"
      continue
    fi
    staging="$tree/staging/src/k8s.io/$name"
    rm -rf "$staging"
    mkdir -p "$(dirname "$staging")"
    cp -r "$sdir" "$staging"
    chmod -R u+w "$staging"
  done < <(sed -n 's|^\tk8s.io/\([a-z0-9-]*\) => ./staging/src/k8s.io/.*|\1|p' "$tree/go.mod")
  local major minor ldflags
  major="${ver#v}"; major="${major%%.*}"
  minor="${ver#v*.}"; minor="${minor%%.*}"
  ldflags="-s -w"
  local key val
  for kv in "gitVersion=$ver" "gitMajor=$major" "gitMinor=$minor" "gitTreeState=clean" \
    "buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"; do
    key="${kv%%=*}"; val="${kv#*=}"
    ldflags+=" -X k8s.io/client-go/pkg/version.$key=$val -X k8s.io/component-base/version.$key=$val"
  done
  CGO_ENABLED=0 build_in "$tree" "$out" "$ldflags" selinux,notest,grpcnotrace \
    ./cmd/kube-apiserver ./cmd/kube-controller-manager ./cmd/kube-scheduler ./cmd/kube-proxy ./cmd/kubectl
  CGO_ENABLED=1 build_in "$tree" "$out" "$ldflags" selinux,notest,grpcnotrace ./cmd/kubelet
  # The pod sandbox's pause program, as build/pause/Makefile builds it.
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION-pvbench" -o "$out/pause" "$tree/build/pause/linux/pause.c"
  rm -rf "$tree"
}

# Builds main packages of a module at a pinned version inside its own downloaded tree, where its go.mod (replaces,
# excludes, toolchain) applies as in the module's own build. (go install mod@version would refuse excludes and local
# replaces, and asks the proxy for the module's version list, which the proxy here does not serve for every module.)
build_mod() { # outdir ldflags tags module version pkg...
  local out="$1" ldflags="$2" tags="$3" mod="$4" ver="$5" tree
  shift 5
  tree="$(module_tree "$mod" "$ver")"
  build_in "$tree" "$out" "$ldflags" "$tags" "$@"
  rm -rf "$tree"
}

# containerd 1.7, in its own module tree (its go.mod has exclude directives, which go install refuses), as its
# Makefile builds it: version variables in ldflags, the shim static, no_btrfs as without btrfs headers.
build_containerd() {
  local out="$1" v="$CONTAINERD_VERSION" m=github.com/containerd/containerd
  local ld="-s -w -X $m/version.Version=$v -X $m/version.Package=$m"
  CGO_ENABLED=1 build_mod "$out" "$ld" no_btrfs "$m" "$v" ./cmd/containerd ./cmd/ctr
  CGO_ENABLED=0 build_mod "$out" "$ld -extldflags -static" no_btrfs "$m" "$v" ./cmd/containerd-shim-runc-v2
}

# etcd: server/go.mod maps its sibling modules (api, client, pkg) to ../<dir>, which a module zip does not carry;
# the same versions are published as modules, so the replaces are dropped (etcd's build.sh: CGO off, version in ldflags).
build_etcd() {
  local out="$1" v="$ETCD_VERSION" tree
  tree="$(module_tree go.etcd.io/etcd/server/v3 "$v")"
  (cd "$tree" && for r in go.etcd.io/etcd/api/v3 go.etcd.io/etcd/client/pkg/v3 go.etcd.io/etcd/client/v3 go.etcd.io/etcd/pkg/v3; do
    go mod edit -dropreplace="$r" -require="$r@$v"
  done)
  CGO_ENABLED=0 build_in "$tree" "$out" "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$v" "" .
  mv "$out/v3" "$out/etcd" 2>/dev/null || mv "$out/server" "$out/etcd" 2>/dev/null || true
  rm -rf "$tree"
}

# external-snapshotter: go.mod maps its client module to ./client, published as .../client/v8 at the same version.
build_external_snapshotter() {
  local out="$1" v="$EXTERNAL_SNAPSHOTTER_VERSION" tree m=github.com/kubernetes-csi/external-snapshotter/client/v8
  tree="$(module_tree github.com/kubernetes-csi/external-snapshotter/v8 "$v")"
  (cd "$tree" && go mod edit -dropreplace="$m" -require="$m@$v")
  CGO_ENABLED=0 build_in "$tree" "$out" "-s -w -X main.version=$v" "" ./cmd/csi-snapshotter ./cmd/snapshot-controller
  mkdir -p "$out/crd"
  local client
  client="$(timeout 900 go mod download -json "$m@$v" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  cp "$client"/config/crd/snapshot.storage.k8s.io_*.yaml "$out/crd/"
  # Upstream's deploy files (RBAC and the controller's Deployment), applied by manifests.sh.
  mkdir -p "$out/deploy"
  cp "$tree"/deploy/kubernetes/snapshot-controller/*.yaml "$tree"/deploy/kubernetes/csi-snapshotter/rbac-csi-snapshotter.yaml "$out/deploy/"
  rm -rf "$tree"
}

build_external_provisioner() {
  local out="$1" v="$EXTERNAL_PROVISIONER_VERSION" m=github.com/kubernetes-csi/external-provisioner/v5 dir
  CGO_ENABLED=0 build_mod "$out" "-s -w -X main.version=$v" "" "$m" "$v" ./cmd/csi-provisioner
  dir="$(timeout 900 go mod download -json "$m@$v" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  mkdir -p "$out/deploy"
  cp "$dir/deploy/kubernetes/rbac.yaml" "$out/deploy/"
}

build_coredns() {
  local out="$1" v="$COREDNS_VERSION"
  CGO_ENABLED=0 build_mod "$out" "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$v" "" github.com/coredns/coredns "$v" .
}

# pvbench's own CSI driver, from this repository (see csi-driver/).
build_csi_driver() {
  local out="$1"
  mkdir -p "$out"
  (cd "$here/csi-driver" && CGO_ENABLED=0 timeout 1800 go build -trimpath -ldflags="-s -w -X main.version=$CSI_DRIVER_VERSION" -o "$out/pvbench-csi" .)
}

# pvbench's fault-injecting FUSE layer, from this repository (see ../faultfs/), for the local platform's exact faults.
build_faultfs() {
  local out="$1"
  mkdir -p "$out"
  (cd "$here/../faultfs" && CGO_ENABLED=0 timeout 1800 go build -trimpath -ldflags="-s -w" -o "$out/pvbench-faultfs" .)
}

# Velero (its Dockerfile: CGO off, buildinfo in ldflags; velero, velero-helper, velero-restore-helper). go.mod replaces
# kopia with Velero's fork by version, which a build in the module's own tree honours.
#
# One deviation: the module proxy here does not serve k8s.io/cli-runtime v0.33.12 (the version Velero 1.18.3 requires;
# every other k8s.io module of that release is served), so the build takes v0.33.10 of the same minor, which only
# Velero's CLI output formatting uses.
build_velero() {
  local out="$1" v="$VELERO_VERSION" p=github.com/vmware-tanzu/velero tree
  tree="$(module_tree "$p" "$v")"
  if ! timeout 300 go mod download k8s.io/cli-runtime@v0.33.12 2>/dev/null; then
    log "k8s.io/cli-runtime v0.33.12 is not served here: building Velero with v0.33.10"
    (cd "$tree" && go mod edit -replace=k8s.io/cli-runtime=k8s.io/cli-runtime@v0.33.10)
  fi
  CGO_ENABLED=0 build_in "$tree" "$out" "-X $p/pkg/buildinfo.Version=$v -X $p/pkg/buildinfo.GitTreeState=clean -X $p/pkg/buildinfo.ImageRegistry=pvbench.local" "" \
    ./cmd/velero ./cmd/velero-helper ./cmd/velero-restore-helper
  rm -rf "$tree"
}

build_velero_aws_plugin() {
  local out="$1" v="$VELERO_AWS_PLUGIN_VERSION" p=github.com/vmware-tanzu/velero-plugin-for-aws
  CGO_ENABLED=0 build_mod "$out" "" "" "$p" "$v" ./velero-plugin-for-aws ./hack/cp-plugin
}

build_kopia() {
  local out="$1" v="$KOPIA_VERSION"
  CGO_ENABLED=0 build_mod "$out" "-s -w -X github.com/kopia/kopia/repo.BuildVersion=${v#v} -X github.com/kopia/kopia/repo.BuildInfo=pvbench" "" github.com/kopia/kopia "$v" .
}

build_restic() {
  local out="$1" v="$RESTIC_VERSION"
  CGO_ENABLED=0 build_mod "$out" "-s -w" "" github.com/restic/restic "$v" ./cmd/restic
}

# The S3 object store Velero writes to: Versity Gateway (Apache-2.0) with its POSIX backend, a plain directory.
build_versitygw() {
  local out="$1" v="$VERSITYGW_VERSION"
  CGO_ENABLED=0 build_mod "$out" "-s -w -X main.Version=$v" "" github.com/versity/versitygw "$v" ./cmd/versitygw
}

COMPONENTS=(kubernetes containerd etcd coredns external-snapshotter external-provisioner csi-driver velero velero-aws-plugin versitygw kopia restic faultfs)

build_component() { # name
  local name="$1" ver out
  case "$name" in
    kubernetes) ver="$KUBERNETES_VERSION" ;;
    containerd) ver="$CONTAINERD_VERSION" ;;
    etcd) ver="$ETCD_VERSION" ;;
    external-snapshotter) ver="$EXTERNAL_SNAPSHOTTER_VERSION" ;;
    external-provisioner) ver="$EXTERNAL_PROVISIONER_VERSION" ;;
    velero) ver="$VELERO_VERSION" ;;
    velero-aws-plugin) ver="$VELERO_AWS_PLUGIN_VERSION" ;;
    kopia) ver="$KOPIA_VERSION" ;;
    restic) ver="$RESTIC_VERSION" ;;
    versitygw) ver="$VERSITYGW_VERSION" ;;
    coredns) ver="$COREDNS_VERSION" ;;
    csi-driver) ver="$CSI_DRIVER_VERSION" ;;
    faultfs) ver="$FAULTFS_VERSION" ;;
    *) die "unknown component '$name' (known: ${COMPONENTS[*]})" ;;
  esac
  out="$CACHE/bin/$name-$ver"
  if [ -f "$out/.complete" ]; then
    log "$name $ver: cached in $out"
    return 0
  fi
  rm -rf "$out"
  local start=$SECONDS
  log "$name $ver: building into $out"
  "build_${name//-/_}" "$out"
  touch "$out/.complete"
  log "$name $ver: built in $((SECONDS - start)) s"
}

main() {
  if [ $# -eq 0 ]; then set -- "${COMPONENTS[@]}"; fi
  local c
  for c in "$@"; do build_component "$c"; done
}
# On one line, so bash has read all of this file before it runs anything (an edit during a build cannot derail it).
main "$@"; exit $?
