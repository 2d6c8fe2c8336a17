#!/usr/bin/env bash
# Sets the machine up and runs every check: typecheck, then the test suite (which also checks that dist/ is in
# sync with src/ and drives the bundled action end to end).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
node_dir="$(bash "$root/scripts/setup.sh")"
export PATH="$node_dir:$PATH"
cd "$root"
echo "[test] typecheck"
timeout 600 node node_modules/typescript/bin/tsc --noEmit -p tsconfig.json
echo "[test] node --test"
exec timeout 3000 node --test --test-timeout=600000 --test-concurrency=2 'test/**/*.test.ts'
