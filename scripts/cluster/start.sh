#!/usr/bin/env bash
# Everything from a bare machine to a running local cluster: Debian packages, builds and images (each skipped when
# cached), then up.sh. Prints the kubeconfig path on stdout; the time each step took goes to stderr.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"
t0=$SECONDS
bash "$here/deps.sh"
bash "$here/build.sh"
t1=$SECONDS
bash "$here/images.sh"
t2=$SECONDS
kubeconfig="$(bash "$here/up.sh")"
t3=$SECONDS
log "timing: packages and builds $((t1 - t0)) s, images $((t2 - t1)) s, cluster start $((t3 - t2)) s"
printf '%s\n' "$kubeconfig"
