// splitBaseline's remaining edges (issue 8): every difference of a run left out named in one line, a left-out run
// that never sets a tool's reference, and a tool listed by a run that has trials of other tools only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitBaseline } from '../../src/baseline/compatible.ts';
import type { ResultsFile, ToolInfo } from '../../src/suite/results.ts';
import { results, timed } from '../report/fixtures.ts';

const tool = (name: string, version: string): ToolInfo => ({ name, type: name === 'kopia' ? 'kopia' : 'restic', status: 'ok', version });

function run(id: string, at: string, tools: ToolInfo[], trialsOf = tools.map((t) => t.name)): ResultsFile {
  return results({ id, startedAt: at, tools, trials: trialsOf.flatMap((name) => timed(name, 'no-fault', [100, 110])) });
}

test('splitBaseline: a run left out for two reasons names both, comma-separated', () => {
  const cur = run('cur', '2025-02-01T00:00:00Z', [tool('restic', '1')]);
  const other = run('x', '2025-01-01T00:00:00Z', [tool('restic', '1')]);
  other.suite.seed = 7;
  other.suite.platform = 'docker';
  assert.deepEqual(splitBaseline(cur, [other]).leftOut, ['run x: seed 7 (this run: 42), platform docker (this run: local)']);
});

test('splitBaseline: a newer run left out does not set the reference of the runs kept', () => {
  const cur = run('cur', '2025-02-01T00:00:00Z', [tool('restic', '1')]);
  const newest = run('n', '2025-01-03T00:00:00Z', [tool('restic', '2')]);
  newest.suite.seed = 7;
  const kept = run('k', '2025-01-02T00:00:00Z', [tool('restic', '1')]);
  const split = splitBaseline(cur, [newest, kept]);
  assert.deepEqual(split.runs, [kept]);
  assert.deepEqual(split.leftOut, ['run n: seed 7 (this run: 42)']);
  assert.equal(split.excludedTools.size, 0);
});

test('splitBaseline: a tool of another version in a run with trials of other tools only leaves nothing out', () => {
  const cur = run('cur', '2025-02-01T00:00:00Z', [tool('restic', '2'), tool('kopia', '1')]);
  const newer = run('m', '2025-01-03T00:00:00Z', [tool('restic', '2'), tool('kopia', '1')]);
  const kopiaOnly = run('o', '2025-01-02T00:00:00Z', [tool('restic', '1'), tool('kopia', '1')], ['kopia']);
  const split = splitBaseline(cur, [newer, kopiaOnly]);
  assert.deepEqual(split.leftOut, []);
  assert.equal(split.excludedTools.size, 0);
});

test('splitBaseline: two runs with the same start time and run id keep the order given (the first sets the reference)', () => {
  // E.g. the same results file found twice in a baseline directory, once re-measured with another restic version.
  const cur = run('cur', '2025-02-01T00:00:00Z', [tool('restic', '1')]);
  const one = run('same', '2025-01-01T00:00:00Z', [tool('restic', '1')]);
  const two = run('same', '2025-01-01T00:00:00Z', [tool('restic', '2')]);
  const split = splitBaseline(cur, [one, two]);
  assert.deepEqual(split.runs, [one, two]);
  assert.deepEqual(split.leftOut, ['the restic trials of run same: restic 2 (the newest baseline run has restic 1)']);
  assert.deepEqual(split.acrossVersions, []);
  const swapped = splitBaseline(cur, [two, one]);
  assert.deepEqual(swapped.leftOut, ['the restic trials of run same: restic 1 (the newest baseline run has restic 2)']);
  assert.deepEqual(swapped.acrossVersions, ['restic is restic 1 in this run and restic 2 in the baseline: compared across versions']);
});
