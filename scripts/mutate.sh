#!/usr/bin/env bash
# Mutation testing (issue 8) with Stryker over src/baseline, src/report, src/suite, src/metrics and src/faults; not part
# of scripts/test.sh. Stryker's tap runner runs each test file of stryker.config.json's tap.testFiles with
# `node --test-reporter=tap` (Node 24 strips the types of Stryker's instrumented .ts); coverage per test file picks the
# files run against each mutant. Arguments go to `stryker run`, for example:
#   npm run mutate                                   every folder (long: see bench/README.md)
#   npm run mutate -- --mutate 'src/baseline/**/*.ts'
#   npm run mutate -- --mutate 'src/baseline/**/*.ts' --concurrency 2 --incremental
# Reports: reports/mutation/mutation.html and mutation.json (gitignored).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
node_dir="$(bash "$root/scripts/setup.sh")"
# The tap runner starts each test file with the `node` found on PATH: it must be Node 24.
export PATH="$node_dir:$PATH"
cd "$root"
exec node node_modules/@stryker-mutator/core/bin/stryker.js run stryker.config.json "$@"
