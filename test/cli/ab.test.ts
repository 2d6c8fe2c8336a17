// examples/ab.yaml as a user runs it (issue 9): Debian's restic 0.14 against restic 0.18.1 interleaved in one run,
// compared with each other, and the A/B table in the report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runProcess } from '../helpers/process.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const missing = ['/usr/bin/restic', join(ROOT, '.tools/bin/restic')].filter((f) => !existsSync(f));

test('examples/ab.yaml runs both restic variants interleaved and reports them side by side', { skip: missing.length > 0 && `not installed: ${missing.join(', ')} (bash scripts/setup.sh)`, timeout: 300_000 }, async (t) => {
  const out = await mkdtemp(join(tmpdir(), 'pvbench-ab-'));
  t.after(() => rm(out, { recursive: true, force: true }));
  // From the repository root, as the example says: its binaries are relative to the current directory.
  const r = await runProcess(process.execPath, [join(ROOT, 'src/cli/index.ts'), 'run', 'examples/ab.yaml', '--trials', '2', '--output', out], { cwd: ROOT, timeoutMs: 280_000 });
  assert.equal(r.timedOut, false, 'the run finished within 280 s');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^A\/B restic-0-18 vs restic-0-14: /m);
  const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as {
    suite: { ab?: unknown };
    tools: { name: string; version?: string }[];
    trials: { tool: string; scenario: string; trial: number; status: string }[];
  };
  assert.deepEqual(results.suite.ab, { a: 'restic-0-14', b: 'restic-0-18', threshold: 0.05, failOnRegression: false });
  // Two programs ran, not one under two names.
  assert.deepEqual(results.tools.map((x) => [x.name, x.version]), [['restic-0-14', '0.14.0'], ['restic-0-18', '0.18.1']]);
  assert.deepEqual(
    results.trials.map((x) => `${x.tool}/${x.scenario}/${x.trial}:${x.status}`),
    [
      'restic-0-14/no-fault/1:passed',
      'restic-0-18/no-fault/1:passed',
      'restic-0-14/crash-backup/1:passed',
      'restic-0-18/crash-backup/1:passed',
      'restic-0-18/no-fault/2:passed',
      'restic-0-14/no-fault/2:passed',
      'restic-0-18/crash-backup/2:passed',
      'restic-0-14/crash-backup/2:passed',
    ],
  );
  const report = await readFile(join(out, 'report.md'), 'utf8');
  assert.match(report, /\n## A\/B: restic-0-18 vs restic-0-14\n\n\*\*restic-0-18\*\* against \*\*restic-0-14\*\*, interleaved in this run \(2 trials each/);
  assert.match(report, /\n\| Scenario \| Metric \| restic-0-14 \| restic-0-18 \| restic-0-18 vs restic-0-14 \| CI \| p \| Smallest detectable \| Result \|\n/);
  for (const row of ['no-fault | Backup time', 'no-fault | Restore time', 'crash-backup | Backup time', 'crash-backup | RTO']) assert.ok(report.includes(`\n| ${row} | `), `row ${row}`);
  assert.match(report, /\n_With 2 trials against 2, .*every restic-0-14 trial/);
});
