#!/usr/bin/env bash
# Mutation testing (issue 8) with Stryker over src/baseline, src/report, src/suite, src/metrics and src/faults; not part
# of scripts/test.sh. stryker.config.mjs says how. Usage:
#   npm run mutate                          all five folders against all their tests (hours: see bench/README.md)
#   npm run mutate -- baseline              one folder (baseline, report, suite, metrics, faults) against its own tests
#   npm run mutate -- baseline --incremental --concurrency 2      any further arguments go to `stryker run`
#   PVBENCH_MUTATE_SKIP=test/baseline/ab.test.ts,test/baseline/power-sim.test.ts PVBENCH_MUTATE_OUT=baseline-core npm run mutate -- baseline \
#     --mutate src/baseline/compare.ts,src/baseline/stats.ts --incremental    leave slow test files out; reports in their own folder
# Reports: reports/mutation/<folder|all>/mutation.html and mutation.json (gitignored). The test processes get a
# temporary directory of the run's own (TMPDIR), unmounted and removed when the run ends, also on SIGTERM.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "${1:-}" in
  baseline | report | suite | metrics | faults | all) export PVBENCH_MUTATE="$1"; shift ;;
esac
node_dir="$(bash "$root/scripts/setup.sh")"
# The tap runner starts each test file with the `node` found on PATH: it must be Node 24.
export PATH="$node_dir:$PATH"
cd "$root"
# Stryker stops a test file at its first failure or timeout, before the file's own clean-up runs: the temporary
# directories and faultfs mounts of the killed tests would stay behind in /tmp. Every test process of this run gets
# a temporary directory of the run's own instead, and whatever is left there is unmounted and removed at the end.
run_tmp="$(mktemp -d "${TMPDIR:-/tmp}/pvbench-mutate-XXXXXX")"
cleanup() {
  local mp
  # Mount points under run_tmp, deepest first (/proc/mounts escapes spaces, which these paths do not have).
  while read -r mp; do
    fusermount -u -z "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || echo "mutate: could not unmount $mp" >&2
  done < <(awk -v p="$run_tmp/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r)
  rm -rf "$run_tmp"
}
trap cleanup EXIT
trap "exit 143" TERM
trap "exit 130" INT
TMPDIR="$run_tmp" node node_modules/@stryker-mutator/core/bin/stryker.js run stryker.config.mjs "$@"
