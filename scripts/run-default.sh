#!/usr/bin/env bash
# Sets the machine up and runs pvbench's main job: the embedded default suite on the local machine.
# Extra arguments go to `pvbench run` (e.g. a suite file, --trials 5, --output DIR).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
node_dir="$(bash "$root/scripts/setup.sh")"
export PATH="$root/.tools/bin:$node_dir:$PATH"
cd "$root"
exec node dist/cli/index.js run "$@"
