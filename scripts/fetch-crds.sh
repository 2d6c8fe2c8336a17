#!/usr/bin/env bash
# For CI outside the development workplace (GitHub Actions): fetch the upstream CRDs that the fake API server
# validates against, at the commits named in ../shared/crds/README.md, into DIR (default $RUNNER_TEMP/crds), and
# print the directory to use as PVBENCH_CRDS_DIR. Where ../shared/crds exists, nothing is fetched.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -d "$root/../shared/crds" ]; then
  printf '%s\n' "$(cd "$root/../shared/crds" && pwd)"
  exit 0
fi
crds="${1:-${RUNNER_TEMP:-/tmp}/crds}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$crds/velero" "$crds/snapshot" "$crds/kubestash"
fetch() {
  local repo=$1 sha=$2 dest=$3
  shift 3
  git init -q "$dest"
  timeout 300 git -C "$dest" fetch -q --depth 1 "https://github.com/$repo" "$sha"
  git -C "$dest" checkout -q FETCH_HEAD -- "$@"
}
fetch vmware-tanzu/velero d30d389b56068eebd675d9953492183cb7b58a78 "$work/velero" config/crd/v1/bases config/crd/v2alpha1/bases
cp "$work"/velero/config/crd/v1/bases/velero.io_*.yaml "$work"/velero/config/crd/v2alpha1/bases/velero.io_*.yaml "$crds/velero/"
fetch kubernetes-csi/external-snapshotter afb2f0d85e00e40cda621549d56fda11ccd3558b "$work/snapshotter" client/config/crd
cp "$work"/snapshotter/client/config/crd/snapshot.storage.k8s.io_*.yaml "$crds/snapshot/"
fetch kubestash/apimachinery 0116a4cb4eff323fd2792c03cf985fb8ec6dd040 "$work/kubestash" crds
cp "$work"/kubestash/crds/core.kubestash.com_*.yaml "$work"/kubestash/crds/storage.kubestash.com_*.yaml "$crds/kubestash/"
printf '%s\n' "$crds"
