#!/usr/bin/env bash
# Builds what is missing, starts the local cluster, runs a pvbench suite on it, and stops the cluster again
# (also when the run fails or is interrupted). Extra arguments go to `pvbench run`.
#
#   bash scripts/cluster/run-suite.sh examples/local-cluster.yaml --output bench/results/local-cluster
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
node_dir="$(bash "$root/scripts/setup.sh")"
export PATH="$root/.tools/bin:$node_dir:$PATH"
trap 'bash "$here/down.sh"' EXIT
trap 'exit 130' INT TERM
kubeconfig="$(bash "$here/start.sh")"
export KUBECONFIG="$kubeconfig"
# The velero CLI that pvbench's installer runs (install.velero) is the one built with the server.
source "$here/versions.sh"
source "$here/lib.sh"
export PATH="$CACHE/bin/velero-$VELERO_VERSION:$CACHE/bin/kubernetes-$KUBERNETES_VERSION:$PATH"
cd "$root"
node dist/cli/index.js run "$@"
