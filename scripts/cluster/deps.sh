#!/usr/bin/env bash
# Debian packages the local cluster needs, installed when missing: runc (containerd's runtime), the CNI plugins
# (bridge, host-local, portmap, loopback), iptables and conntrack (kube-proxy), buildah (images), debootstrap (the
# Debian root filesystem of the images that need one), openssl (certificates), curl (health checks).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$here/lib.sh"
need=()
for pair in runc:runc buildah:buildah /usr/lib/cni/bridge:containernetworking-plugins debootstrap:debootstrap \
  iptables:iptables conntrack:conntrack openssl:openssl curl:curl nsenter:util-linux gcc:gcc; do
  what="${pair%%:*}"
  command -v "$what" >/dev/null 2>&1 || [ -x "$what" ] || need+=("${pair#*:}")
done
# pause is linked statically (as its Makefile does): that needs the C library's static archive.
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || need+=(libc6-dev)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || die "installing ${need[*]} needs root"
  log "installing Debian packages: ${need[*]}"
  timeout 600 apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi
command -v go >/dev/null 2>&1 || die "Go is needed to build the cluster's components (this machine kind has Go 1.26)"
