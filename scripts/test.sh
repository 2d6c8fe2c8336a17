#!/usr/bin/env bash
# Sets the machine up and runs every check: typecheck, the test suite (which also checks that dist/ is in sync with
# src/ and drives the bundled action end to end), then the real-cluster tier: builds what is missing (cached by
# version outside the work tree), starts the local Kubernetes cluster, runs the Kubernetes suite on it, and stops it.
# PVBENCH_SKIP_CLUSTER=1 leaves the cluster tier out (machines without root, or a quick local loop).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
node_dir="$(bash "$root/scripts/setup.sh")"
export PATH="$root/.tools/bin:$node_dir:$PATH"
cd "$root"
echo "[test] typecheck"
timeout 600 node node_modules/typescript/bin/tsc --noEmit -p tsconfig.json
echo "[test] node --test"
timeout 3000 node --test --test-timeout=600000 --test-concurrency=2 'test/**/*.test.ts'
if [ "${PVBENCH_SKIP_CLUSTER:-0}" = 1 ]; then
  echo "[test] real-cluster tier skipped (PVBENCH_SKIP_CLUSTER=1)"
  exit 0
fi
echo "[test] faultfs (the local faults' FUSE layer): go test"
(cd scripts/faultfs && GOFLAGS=-buildvcs=false timeout 600 go test -count=1 ./...)
echo "[test] the local cluster's CSI driver: go test (unit tests and csi-test's sanity suite)"
(cd scripts/cluster/csi-driver && GOFLAGS=-buildvcs=false timeout 900 go test -count=1 ./...)
echo "[test] real-cluster tier: build, start the local cluster"
start=$SECONDS
trap 'bash scripts/cluster/down.sh' EXIT
kubeconfig="$(timeout 4200 bash scripts/cluster/start.sh)"
echo "[test] local cluster ready after $((SECONDS - start)) s"
source scripts/cluster/versions.sh
source scripts/cluster/lib.sh
# pvbench's installer runs the velero CLI built with the server.
export PATH="$CACHE/bin/velero-$VELERO_VERSION:$PATH"
PVBENCH_CLUSTER_KUBECONFIG="$kubeconfig" timeout 3600 node --test --test-timeout=3600000 'test/cluster/*.cluster.ts'
