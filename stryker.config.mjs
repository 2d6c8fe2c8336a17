// Stryker mutation testing (issue 8), run by scripts/mutate.sh (`npm run mutate [-- FOLDER] [stryker options]`).
// Node's test runner has no Stryker plugin, so the tap runner starts each test file as
// `node --test-reporter=tap -r <stryker hook> FILE`; Node 24 strips the types of Stryker's instrumented .ts files.
// Coverage is recorded per test file ("perTest"): each mutant runs only the files that reached it.
// PVBENCH_MUTATE (set by scripts/mutate.sh) picks one folder of src/ and its own tests; unset: all five folders.
// Each folder's own tests; suite also takes the fast baseline and report tests, which read src/suite/results.ts
// through compare().
import { globSync } from 'node:fs';

const FOLDERS = {
  baseline: ['test/baseline/*.test.ts'],
  report: ['test/report/*.test.ts'],
  suite: ['test/suite/*.test.ts', 'test/config/load.test.ts', 'test/baseline/*.test.ts', 'test/report/*.test.ts'],
  metrics: ['test/metrics/*.test.ts'],
  faults: ['test/faults/*.test.ts', 'test/suite/plan.test.ts'],
};

// Test files that take seconds each, run after every other file that reaches a mutant. Each mutant runs the files
// that reached it in the dry run's order and stops at the first failure, so the fast exact tests, which kill most
// mutants, go first. The tap runner keeps the order of a list of plain paths (a glob pattern it would walk in its
// own order: render.test.ts came first and every mutant of src/report paid its 6 s).
const SLOW_LAST = ['test/baseline/ab.test.ts', 'test/suite/harness.test.ts', 'test/baseline/power-sim.test.ts', 'test/baseline/trend-sim.test.ts', 'test/report/render.test.ts', 'test/suite/run.test.ts', 'test/metrics/process.test.ts', 'test/metrics/process-grace.test.ts', 'test/faults/local.test.ts'];

/** The files of some glob patterns: sorted by path, the SLOW_LAST files at the end. */
function orderedTestFiles(patterns) {
  const files = [...new Set(patterns.flatMap((p) => globSync(p)))].sort();
  const rank = (f) => (SLOW_LAST.includes(f) ? 1 : 0);
  return files.sort((a, b) => rank(a) - rank(b));
}

const picked = process.env.PVBENCH_MUTATE || 'all';
if (picked !== 'all' && !Object.hasOwn(FOLDERS, picked)) {
  throw new Error(`PVBENCH_MUTATE=${picked}: expected one of ${Object.keys(FOLDERS).join(', ')} or all`);
}
const folders = picked === 'all' ? Object.keys(FOLDERS) : [picked];
// PVBENCH_MUTATE_SKIP: test files (comma-separated) left out of this run. Stryker instruments every expression, which
// makes a test that loops over the statistics (the bootstrap in ab, trend and power) 6 to 28 times slower, and a
// surviving mutant runs every test file that reached it: a run over compare.ts can leave those files to a run that
// mutates their own subject. A mutant only they would kill then survives: the score is never flattered.
const skipped = (process.env.PVBENCH_MUTATE_SKIP ?? '').split(',').map((s) => s.trim()).filter(Boolean);
// PVBENCH_MUTATE_OUT: the folder under reports/mutation/ for this run's reports and incremental file (default: the
// folder picked). A run restricted with --mutate or PVBENCH_MUTATE_SKIP keeps its own, since Stryker's incremental
// file holds only the files of the run that wrote it.
const out = `reports/mutation/${process.env.PVBENCH_MUTATE_OUT || picked}`;
for (const f of skipped) if (!globSync(f).length) throw new Error(`PVBENCH_MUTATE_SKIP: no test file ${f}`);

export default {
  testRunner: 'tap',
  plugins: ['@stryker-mutator/tap-runner'],
  tap: {
    testFiles: orderedTestFiles(folders.flatMap((f) => FOLDERS[f])).filter((f) => !skipped.includes(f)),
    nodeArgs: ['--test-reporter=tap', '--test-timeout=600000', '-r', '{{hookFile}}', '{{testFile}}'],
    forceBail: true,
  },
  coverageAnalysis: 'perTest',
  mutate: folders.map((f) => `src/${f}/**/*.ts`),
  // tsconfig.json stays out of the sandbox: Stryker would rewrite it with the TypeScript 5 API, which TypeScript 7
  // does not have, and nothing in the tests reads it.
  ignorePatterns: ['tsconfig.json', '.tools', '.pvbench', '.pvbench-*', 'reports', '*.log'],
  concurrency: 1,
  // A loaded 2-core machine: a mutant only times out well past its tests' own time.
  timeoutMS: 30000,
  timeoutFactor: 2.5,
  dryRunTimeoutMinutes: 30,
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  clearTextReporter: { allowColor: false },
  htmlReporter: { fileName: `${out}/mutation.html` },
  jsonReporter: { fileName: `${out}/mutation.json` },
  incrementalFile: `${out}/incremental.json`,
  tempDirName: '.stryker-tmp',
};
