#!/usr/bin/env bash
# Mutation testing (issue 8) with Stryker over src/baseline, src/report, src/suite, src/metrics and src/faults; not part
# of scripts/test.sh. stryker.config.mjs says how. Usage:
#   npm run mutate                          all five folders against all their tests (hours: see bench/README.md)
#   npm run mutate -- baseline              one folder (baseline, report, suite, metrics, faults) against its own tests
#   npm run mutate -- baseline --incremental --concurrency 2      any further arguments go to `stryker run`
#   PVBENCH_MUTATE_SKIP=test/baseline/ab.test.ts,test/baseline/power-sim.test.ts PVBENCH_MUTATE_OUT=baseline-core npm run mutate -- baseline \
#     --mutate src/baseline/compare.ts,src/baseline/stats.ts --incremental    leave slow test files out; reports in their own folder
# Reports: reports/mutation/<folder|all>/mutation.html and mutation.json (gitignored).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "${1:-}" in
  baseline | report | suite | metrics | faults | all) export PVBENCH_MUTATE="$1"; shift ;;
esac
node_dir="$(bash "$root/scripts/setup.sh")"
# The tap runner starts each test file with the `node` found on PATH: it must be Node 24.
export PATH="$node_dir:$PATH"
cd "$root"
exec node node_modules/@stryker-mutator/core/bin/stryker.js run stryker.config.mjs "$@"
