import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare } from '../../src/baseline/compare.ts';
import type { CellComparison, MetricComparison } from '../../src/baseline/compare.ts';
import { runDifferences, runIdentity, toolIdentity } from '../../src/baseline/compatible.ts';
import { suiteSchema } from '../../src/config/schema.ts';
import { newResults } from '../../src/suite/run.ts';
import type { ResultsFile } from '../../src/suite/results.ts';
import { config, results, timed } from '../report/fixtures.ts';

const GiB = 1024 ** 3;

function metric(c: { cells: CellComparison[] }, tool: string, name: string): MetricComparison {
  const m = c.cells.find((x) => x.tool === tool)?.metrics.find((x) => x.metric === name);
  assert.ok(m, `${tool} ${name}`);
  return m;
}

/** A baseline run of restic and copy, started at `at`, with changes to its host, suite or tools. */
function run(id: string, at: string, over: { cpus?: number; memoryBytes?: number; seed?: number; platform?: string; restic?: string; workload?: Record<string, unknown> } = {}): ResultsFile {
  const r = results({ id, startedAt: at, trials: [...timed('restic', 'no-fault', [1000, 1010, 990]), ...timed('copy', 'no-fault', [100, 101, 99])] });
  r.run.host = { ...r.run.host, cpus: over.cpus ?? 4, memoryBytes: over.memoryBytes ?? 16 * GiB };
  if (over.seed !== undefined) r.suite.seed = over.seed;
  if (over.platform !== undefined) r.suite.platform = over.platform;
  if (over.workload !== undefined) r.suite.workload = over.workload;
  r.tools = r.tools.map((t) => (t.name === 'restic' ? { ...t, version: over.restic ?? '0.17.3' } : t));
  return r;
}

test('runDifferences: the results schema, the suite (seed, platform, workload settings) and the host class', () => {
  const cur = run('cur', '2025-02-01T00:00:00Z', { workload: { proxies: 4, accessLogLines: 10000 } });
  const id = runIdentity(cur);
  assert.deepEqual(runDifferences(id, run('a', '2025-01-01T00:00:00Z', { workload: { proxies: 4, accessLogLines: 10000 } })), []);
  // Memory within 10% is the same class (machines of one type report slightly different totals).
  assert.deepEqual(runDifferences(id, run('b', '2025-01-01T00:00:00Z', { memoryBytes: 15.2 * GiB })), []);
  assert.deepEqual(runDifferences(id, run('c', '2025-01-01T00:00:00Z', { cpus: 2, memoryBytes: 7 * GiB })), ['host 2 CPUs, 7.0 GiB (this run: 4 CPUs, 16.0 GiB)']);
  assert.deepEqual(runDifferences(id, run('d', '2025-01-01T00:00:00Z', { memoryBytes: 32 * GiB })), ['host 4 CPUs, 32.0 GiB (this run: 4 CPUs, 16.0 GiB)']);
  assert.deepEqual(runDifferences(id, run('e', '2025-01-01T00:00:00Z', { seed: 43, platform: 'kubernetes' })), ['seed 43 (this run: 42)', 'platform kubernetes (this run: local)']);
  assert.deepEqual(runDifferences(id, run('f', '2025-01-01T00:00:00Z', { workload: { proxies: 8, accessLogLines: 10000 } })), ['workload proxies 8 (this run: 4)']);
  // A run that did not record its workload settings (older files) is not told apart by them.
  assert.deepEqual(runDifferences(id, run('g', '2025-01-01T00:00:00Z')), []);
  const v2 = { ...run('h', '2025-01-01T00:00:00Z'), schemaVersion: 2 } as unknown as ResultsFile;
  assert.deepEqual(runDifferences(id, v2), ['results schema 2 (this run: 1)']);
});

test('toolIdentity: type, version and how restic derives its key (the fixed parameters, or "calibrated")', () => {
  assert.equal(toolIdentity({ name: 'restic', type: 'restic', status: 'ok', version: '0.17.3' }), 'restic 0.17.3');
  assert.equal(toolIdentity({ name: 'restic', type: 'restic', status: 'ok' }), 'restic (version unknown)');
  assert.equal(
    toolIdentity({ name: 'restic', type: 'restic', status: 'ok', version: '0.17.3', keyDerivation: { mode: 'fixed', kdf: 'scrypt', N: 16384, r: 8, p: 1, ms: 37 } }),
    'restic 0.17.3 key scrypt N=16384,r=8,p=1',
  );
  // Calibrated parameters differ from run to run by design: only the mode counts.
  assert.equal(
    toolIdentity({ name: 'restic', type: 'restic', status: 'ok', version: '0.17.3', keyDerivation: { mode: 'calibrated', kdf: 'scrypt', N: 32768, r: 8, p: 5, ms: 380 } }),
    'restic 0.17.3 key calibrated',
  );
  // kopia's format key: pbkdf2 (pvbench's choice) and scrypt (kopia's default) cost different times per command.
  assert.equal(
    toolIdentity({ name: 'kopia', type: 'kopia', status: 'ok', version: '0.21.1', keyDerivation: { mode: 'fixed', kdf: 'pbkdf2-sha256', iterations: 600_000, ms: 99 } }),
    'kopia 0.21.1 key pbkdf2-sha256 600000 iterations',
  );
  assert.equal(
    toolIdentity({ name: 'kopia', type: 'kopia', status: 'ok', version: '0.21.1', keyDerivation: { mode: 'tool-default', kdf: 'scrypt', N: 65536, r: 8, p: 1, ms: 180 } }),
    'kopia 0.21.1 key scrypt N=65536,r=8,p=1',
  );
  assert.equal(toolIdentity(undefined), undefined);
});

test('the pooled baseline keeps apart runs of another host class or suite, and tool trials of another tool version, and names them', () => {
  const cur = run('cur', '2025-02-01T00:00:00Z');
  const runs = [
    run('newest', '2025-01-05T00:00:00Z'),
    run('small-host', '2025-01-04T00:00:00Z', { cpus: 2, memoryBytes: 7 * GiB }),
    run('old-restic', '2025-01-03T00:00:00Z', { restic: '0.16.0' }),
    run('other-seed', '2025-01-02T00:00:00Z', { seed: 7 }),
    run('oldest', '2025-01-01T00:00:00Z'),
  ];
  const c = compare(cur, { runs, source: 'artifact' }, config());
  // restic: newest + oldest; copy: newest + old-restic + oldest.
  assert.equal(metric(c, 'restic', 'backup.wallMs').baseline?.n, 6);
  assert.equal(metric(c, 'copy', 'backup.wallMs').baseline?.n, 9);
  assert.equal(c.baseline.runs, 3);
  assert.deepEqual(c.baseline.leftOut, [
    'run small-host: host 2 CPUs, 7.0 GiB (this run: 4 CPUs, 16.0 GiB)',
    'run other-seed: seed 7 (this run: 42)',
    'the restic trials of run old-restic: restic 0.16.0 (the newest baseline run has restic 0.17.3)',
  ]);
  assert.match(
    c.baseline.notice!,
    /left out of the baseline, not pooled: run small-host: host 2 CPUs, 7\.0 GiB \(this run: 4 CPUs, 16\.0 GiB\); run other-seed: seed 7 \(this run: 42\); the restic trials of run old-restic: restic 0\.16\.0 \(the newest baseline run has restic 0\.17\.3\)/,
  );
  // In whatever order the loader gave the runs, the newest one sets the tool versions.
  const shuffled = compare(cur, { runs: [runs[2]!, runs[4]!, runs[0]!, runs[1]!, runs[3]!], source: 'artifact' }, config());
  assert.deepEqual(shuffled.baseline.leftOut, c.baseline.leftOut);
});

test('every baseline run of another host class: nothing is compared, and the notice says why', () => {
  const cur = run('cur', '2025-02-01T00:00:00Z');
  const c = compare(cur, { runs: [run('a', '2025-01-02T00:00:00Z', { cpus: 8 }), run('b', '2025-01-01T00:00:00Z', { cpus: 8 })], source: 'artifact' }, config());
  assert.equal(c.baseline.available, false);
  assert.equal(c.baseline.runs, 0);
  assert.equal(metric(c, 'restic', 'backup.wallMs').status, 'new');
  assert.match(c.baseline.notice!, /run a: host 8 CPUs, 16\.0 GiB \(this run: 4 CPUs, 16\.0 GiB\); run b: host 8 CPUs/);
});

test('this run with another tool version than the baseline is compared across versions, and the notice says so', () => {
  const cur = run('cur', '2025-02-01T00:00:00Z', { restic: '0.18.1' });
  const c = compare(cur, { runs: [run('a', '2025-01-01T00:00:00Z')], source: 'artifact' }, config());
  assert.equal(metric(c, 'restic', 'backup.wallMs').baseline?.n, 3);
  assert.equal(c.baseline.leftOut, undefined);
  assert.match(c.baseline.notice!, /restic is restic 0\.18\.1 in this run and restic 0\.17\.3 in the baseline: compared across versions/);
});

test('a run records its workload settings, so that a baseline of another workload is told apart', () => {
  const suite = suiteSchema.parse({ workload: { proxies: 6 } });
  const r = newResults(suite, '(embedded default)', 'local');
  assert.deepEqual(r.suite.workload, suite.workload);
  assert.equal((r.suite.workload as { proxies: number }).proxies, 6);
});

test("restic trials of a baseline run with a random chunker polynomial are not pooled with pvbench's fixed one", () => {
  const fixed = { mode: 'fixed' as const, polynomial: '39219265cd7c63' };
  assert.equal(toolIdentity({ name: 'restic', type: 'restic', status: 'ok', version: '0.18.1', chunker: fixed }), 'restic 0.18.1 chunker 39219265cd7c63');
  assert.equal(toolIdentity({ name: 'restic', type: 'restic', status: 'ok', version: '0.18.1', chunker: { mode: 'random', polynomial: '2bac669f46d0ab' } }), 'restic 0.18.1');
  assert.equal(toolIdentity({ name: 'restic', type: 'restic', status: 'ok', version: '0.18.1' }), 'restic 0.18.1');
});
