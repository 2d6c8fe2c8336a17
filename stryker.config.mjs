// Stryker mutation testing (issue 8), run by scripts/mutate.sh (`npm run mutate [-- FOLDER] [stryker options]`).
// Node's test runner has no Stryker plugin, so the tap runner starts each test file as
// `node --test-reporter=tap -r <stryker hook> FILE`; Node 24 strips the types of Stryker's instrumented .ts files.
// Coverage is recorded per test file ("perTest"): each mutant runs only the files that reached it.
// PVBENCH_MUTATE (set by scripts/mutate.sh) picks one folder of src/ and its own tests; unset: all five folders.
// Each folder's own tests; suite also takes the fast baseline and report tests, which read src/suite/results.ts
// through compare().
const FOLDERS = {
  baseline: ['test/baseline/*.test.ts'],
  report: ['test/report/*.test.ts'],
  suite: ['test/suite/*.test.ts', 'test/config/load.test.ts', 'test/baseline/*.test.ts', 'test/report/*.test.ts'],
  metrics: ['test/metrics/*.test.ts'],
  faults: ['test/faults/*.test.ts', 'test/suite/plan.test.ts'],
};

const picked = process.env.PVBENCH_MUTATE || 'all';
if (picked !== 'all' && !Object.hasOwn(FOLDERS, picked)) {
  throw new Error(`PVBENCH_MUTATE=${picked}: expected one of ${Object.keys(FOLDERS).join(', ')} or all`);
}
const folders = picked === 'all' ? Object.keys(FOLDERS) : [picked];
const out = `reports/mutation/${picked}`;

export default {
  testRunner: 'tap',
  plugins: ['@stryker-mutator/tap-runner'],
  tap: {
    testFiles: [...new Set(folders.flatMap((f) => FOLDERS[f]))],
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
