// The edges of what may be pooled (compatible.ts), called directly: the identity of a run without workload or host,
// the host class at exactly the memory tolerance, nested workload settings, the order runs are named in, and which
// run sets a tool's reference identity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runDifferences, runIdentity, splitBaseline, toolIdentity } from '../../src/baseline/compatible.ts';
import type { ResultsFile, ToolInfo } from '../../src/suite/results.ts';
import { results, timed } from '../report/fixtures.ts';

const GiB = 1024 ** 3;

/** A run of `tools` (each with trials unless listed in `noTrials`) on a 4-CPU, 16 GiB host, started at `at`. */
function run(id: string, at: string, tools: ToolInfo[], noTrials: string[] = []): ResultsFile {
  const trials = tools.filter((t) => !noTrials.includes(t.name)).flatMap((t) => timed(t.name, 'no-fault', [100, 110]));
  const r = results({ id, startedAt: at, trials, tools });
  r.run.host = { ...r.run.host, cpus: 4, memoryBytes: 16 * GiB };
  return r;
}

const tool = (name: string, version: string, over: Partial<ToolInfo> = {}): ToolInfo => ({ name, type: name === 'kopia' ? 'kopia' : 'restic', status: 'ok', version, ...over });

test('runIdentity: no workload and no host recorded give neither key, not keys set to undefined', () => {
  const r = run('a', '2025-01-01T00:00:00Z', []);
  delete r.suite.workload;
  delete (r.run as { host?: unknown }).host;
  assert.deepStrictEqual(runIdentity(r), { schemaVersion: 1, suite: { seed: 42, platform: 'local' } });
  // A host without numbers (a hand-edited file) is no host.
  (r.run as { host?: unknown }).host = { cpus: '4', memoryBytes: 16 * GiB };
  assert.deepStrictEqual(runIdentity(r), { schemaVersion: 1, suite: { seed: 42, platform: 'local' } });
  (r.run as { host?: unknown }).host = { cpus: 4, memoryBytes: '16' };
  assert.deepStrictEqual(runIdentity(r), { schemaVersion: 1, suite: { seed: 42, platform: 'local' } });
  // A results file without run (impossible from pvbench, possible by hand) has no host either.
  const bare = { schemaVersion: 1, suite: r.suite } as unknown as ResultsFile;
  assert.deepStrictEqual(runIdentity(bare), { schemaVersion: 1, suite: { seed: 42, platform: 'local' } });
  r.suite.workload = { proxies: 2 };
  r.run.host = { cpus: 2, memoryBytes: 8 * GiB, os: 'linux', node: 'v24' };
  assert.deepStrictEqual(runIdentity(r), { schemaVersion: 1, suite: { seed: 42, platform: 'local', workload: { proxies: 2 } }, host: { cpus: 2, memoryBytes: 8 * GiB } });
});

test('runDifferences: a host of 1 CPU is named in the singular; memory exactly at the tolerance is the same class', () => {
  const cur = runIdentity(run('cur', '2025-02-01T00:00:00Z', []));
  const one = run('one', '2025-01-01T00:00:00Z', []);
  one.run.host = { ...one.run.host, cpus: 1, memoryBytes: 2 * GiB };
  assert.deepEqual(runDifferences(cur, one), ['host 1 CPU, 2.0 GiB (this run: 4 CPUs, 16.0 GiB)']);
  // |10 - 9| / 10 = 0.1 exactly: within the tolerance; a little more is another class.
  const ten = run('ten', '2025-02-01T00:00:00Z', []);
  ten.run.host = { ...ten.run.host, memoryBytes: 10 * GiB };
  const edge = run('edge', '2025-01-01T00:00:00Z', []);
  edge.run.host = { ...edge.run.host, memoryBytes: 9 * GiB };
  assert.deepEqual(runDifferences(runIdentity(ten), edge), []);
  edge.run.host = { ...edge.run.host, memoryBytes: 9 * GiB - 1024 };
  assert.deepEqual(runDifferences(runIdentity(ten), edge), ['host 4 CPUs, 9.0 GiB (this run: 4 CPUs, 10.0 GiB)']);
  // Only one side knows its host: nothing to compare.
  const noHost = run('nohost', '2025-01-01T00:00:00Z', []);
  delete (noHost.run as { host?: unknown }).host;
  assert.deepEqual(runDifferences(cur, noHost), []);
  const { host: _h, ...curWithoutHost } = cur;
  assert.deepEqual(runDifferences(curWithoutHost, one), []);
});

test('runDifferences: nested workload settings by dotted key; null, arrays, strings and unset values as written', () => {
  const mk = (workload: Record<string, unknown>) => {
    const r = run('r', '2025-01-01T00:00:00Z', []);
    r.suite.workload = workload;
    return r;
  };
  const cur = runIdentity(mk({ churn: { appendLines: 1, mode: 'append' }, sizes: [1, 2], label: null, only: 'here' }));
  assert.deepEqual(runDifferences(cur, mk({ churn: { appendLines: 1, mode: 'append' }, sizes: [1, 2], label: null, only: 'here' })), []);
  assert.deepEqual(runDifferences(cur, mk({ churn: { appendLines: 2, mode: 'rewrite' }, sizes: [1, 3], label: 'x', extra: true })), [
    'workload churn.appendLines 2 (this run: 1)',
    'workload churn.mode rewrite (this run: append)',
    'workload sizes [1,3] (this run: [1,2])',
    'workload label x (this run: null)',
    'workload only (unset) (this run: here)',
    'workload extra true (this run: (unset))',
  ]);
});

test('splitBaseline: runs left out are named newest first, by start time and then by run id, whatever order they came in', () => {
  const cur = run('cur', '2025-02-01T00:00:00Z', [tool('restic', '1')]);
  const other = (id: string, at: string) => {
    const r = run(id, at, [tool('restic', '1')]);
    r.suite.seed = 7;
    return r;
  };
  const same = '2025-01-02T00:00:00Z';
  const runs = [other('b', same), other('old', '2025-01-01T00:00:00Z'), other('c', same), other('a', same), other('new', '2025-01-03T00:00:00Z')];
  const split = splitBaseline(cur, runs);
  assert.deepEqual(
    split.leftOut.map((l) => l.split(':')[0]),
    ['run new', 'run c', 'run b', 'run a', 'run old'],
  );
  assert.deepEqual(split.runs, []);
  // The same with the ids the other way round in the input.
  assert.deepEqual(splitBaseline(cur, [...runs].reverse()).leftOut, split.leftOut);
  // Two runs with the same start time and id are equal in that order: both named.
  const twin = splitBaseline(cur, [other('t', same), other('t', same)]);
  assert.deepEqual(twin.leftOut, ['run t: seed 7 (this run: 42)', 'run t: seed 7 (this run: 42)']);
});

test('splitBaseline: the newest pooled run that ran a tool sets its reference; a skipped or older run does not', () => {
  const cur = run('cur', '2025-02-01T00:00:00Z', [tool('restic', '2'), tool('kopia', '1')]);
  const newestSkipped = run('n', '2025-01-04T00:00:00Z', [tool('restic', '9', { status: 'skipped' }), tool('kopia', '1')]);
  const newer = run('m', '2025-01-03T00:00:00Z', [tool('restic', '2'), tool('kopia', '1')]);
  const older = run('o', '2025-01-02T00:00:00Z', [tool('restic', '1'), tool('kopia', '0')]);
  const oldest = run('p', '2025-01-01T00:00:00Z', [tool('restic', '1'), tool('kopia', '1')]);
  // Given oldest first: the reference is still the newest run's.
  const split = splitBaseline(cur, [oldest, older, newer, newestSkipped]);
  assert.deepEqual(split.runs, [oldest, older, newer, newestSkipped]);
  assert.deepEqual(split.leftOut, [
    'the restic trials of run o: restic 1 (the newest baseline run has restic 2)',
    'the kopia trials of run o: kopia 0 (the newest baseline run has kopia 1)',
    'the restic trials of run p: restic 1 (the newest baseline run has restic 2)',
  ]);
  // One set per run, holding every tool of it left out.
  assert.deepEqual([...split.excludedTools.keys()], [older, oldest]);
  assert.deepEqual([...split.excludedTools.get(older)!], ['restic', 'kopia']);
  assert.deepEqual([...split.excludedTools.get(oldest)!], ['restic']);
  assert.deepEqual(split.acrossVersions, []);
});

test('splitBaseline: a tool of another version without trials in that run, or skipped there, leaves nothing out', () => {
  const cur = run('cur', '2025-02-01T00:00:00Z', [tool('restic', '2')]);
  const newer = run('m', '2025-01-03T00:00:00Z', [tool('restic', '2')]);
  const noTrials = run('o', '2025-01-02T00:00:00Z', [tool('restic', '1')], ['restic']);
  const skipped = run('s', '2025-01-01T00:00:00Z', [tool('restic', '1', { status: 'skipped' })]);
  const split = splitBaseline(cur, [newer, noTrials, skipped]);
  assert.deepEqual(split.leftOut, []);
  assert.equal(split.excludedTools.size, 0);
  // A tool without an identity (no info at all) sets no reference and is never left out.
  assert.equal(toolIdentity(undefined), undefined);
});

test('splitBaseline: this run compared across versions only for a tool that ran here', () => {
  const base = run('m', '2025-01-03T00:00:00Z', [tool('restic', '1'), tool('kopia', '1')]);
  const cur = run('cur', '2025-02-01T00:00:00Z', [tool('restic', '2'), tool('kopia', '2', { status: 'skipped' })]);
  assert.deepEqual(splitBaseline(cur, [base]).acrossVersions, ['restic is restic 2 in this run and restic 1 in the baseline: compared across versions']);
  // A tool the baseline never ran has no reference: nothing to say.
  const fresh = run('cur2', '2025-02-01T00:00:00Z', [tool('rustic', '1')]);
  assert.deepEqual(splitBaseline(fresh, [base]).acrossVersions, []);
});

test('toolIdentity: the chunker polynomial is part of restic\'s identity only', () => {
  const fixed = { mode: 'fixed' as const, polynomial: '39219265cd7c63' };
  assert.equal(toolIdentity({ name: 'k', type: 'kopia', status: 'ok', version: '0.21.1', chunker: fixed }), 'kopia 0.21.1');
  assert.equal(toolIdentity({ name: 'r', type: 'restic', status: 'ok', version: '0.18.1', chunker: fixed }), 'restic 0.18.1 chunker 39219265cd7c63');
});
