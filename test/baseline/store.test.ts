import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBaselineFile, loadHistory, parseResults, saveToHistory } from '../../src/baseline/store.ts';
import { results, timed } from '../report/fixtures.ts';

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const run = (i: number, suite = 'default') =>
  results({ suite, id: `run${i}`, startedAt: `2025-01-0${i}T10:00:00.000Z`, trials: timed('restic', 'no-fault', [1000 + i, 1001 + i, 1002 + i]) });

test('saveToHistory and loadHistory round-trip a run', async (t) => {
  const dir = await tempDir(t);
  const r = run(1);
  const path = await saveToHistory(dir, r);
  assert.equal(path, join(dir, 'default', '2025-01-01T10-00-00.000Z-run1.json'));
  assert.deepEqual(await readdir(join(dir, 'default')), ['2025-01-01T10-00-00.000Z-run1.json'], 'no temporary file is left');
  assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), r);
  const b = await loadHistory(dir, { suiteName: 'default', maxRuns: 5 });
  assert.deepEqual(b.runs, [r]);
  assert.equal(b.notice, undefined);
  assert.match(b.source, /history/);
});

test('saveToHistory refuses an incomplete run', async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(saveToHistory(dir, { ...run(1), run: { ...run(1).run, complete: false } }), /incomplete/);
});

test('loadHistory keeps the newest maxRuns runs of the suite, newest first', async (t) => {
  const dir = await tempDir(t);
  for (const i of [3, 1, 4, 2]) await saveToHistory(dir, run(i));
  await saveToHistory(dir, run(5, 'other'));
  const b = await loadHistory(dir, { suiteName: 'default', maxRuns: 2 });
  assert.deepEqual(b.runs.map((r) => r.run.id), ['run4', 'run3']);
  const all = await loadHistory(dir, { suiteName: 'default', maxRuns: 10 });
  assert.deepEqual(all.runs.map((r) => r.run.id), ['run4', 'run3', 'run2', 'run1']);
});

test('a corrupt history file is skipped and named in the notice', async (t) => {
  const dir = await tempDir(t);
  await saveToHistory(dir, run(1));
  await saveToHistory(dir, run(2));
  await writeFile(join(dir, 'default', '2099-01-01T00-00-00.000Z-broken.json'), '{ "schemaVersion": 1, "suite": ');
  await writeFile(join(dir, 'default', '2098-01-01T00-00-00.000Z-old.json'), JSON.stringify({ ...run(3), schemaVersion: 0 }));
  const b = await loadHistory(dir, { suiteName: 'default', maxRuns: 2 });
  assert.deepEqual(b.runs.map((r) => r.run.id), ['run2', 'run1']);
  assert.ok(b.notice, 'a notice');
  assert.match(b.notice, /2099-01-01T00-00-00\.000Z-broken\.json \(not valid JSON/);
  assert.match(b.notice, /2098-01-01T00-00-00\.000Z-old\.json \(schemaVersion 0 is not supported/);
});

test('a missing history directory is an empty baseline with a notice', async (t) => {
  const dir = await tempDir(t);
  const b = await loadHistory(join(dir, 'nope'), { suiteName: 'default', maxRuns: 5 });
  assert.deepEqual(b.runs, []);
  assert.match(b.notice ?? '', /no earlier runs of suite "default"/);
});

test('loadBaselineFile: a missing path gives a notice naming it', async (t) => {
  const dir = await tempDir(t);
  const missing = join(dir, 'baseline.json');
  const b = await loadBaselineFile(missing, 'default');
  assert.deepEqual(b.runs, []);
  assert.ok(b.notice?.includes(missing), b.notice);
  assert.match(b.notice ?? '', /does not exist/);
});

test('loadBaselineFile: a wrong schemaVersion gives a notice, not an exception', async (t) => {
  const dir = await tempDir(t);
  const f = join(dir, 'old.json');
  await writeFile(f, JSON.stringify({ ...run(1), schemaVersion: 99 }));
  const b = await loadBaselineFile(f, 'default');
  assert.deepEqual(b.runs, []);
  assert.match(b.notice ?? '', /schemaVersion 99 is not supported/);
});

test('loadBaselineFile: one file is used as given; a directory yields the complete runs of the suite', async (t) => {
  const dir = await tempDir(t);
  const f = join(dir, 'results.json');
  await writeFile(f, JSON.stringify(run(1, 'other')));
  const single = await loadBaselineFile(f, 'default');
  assert.deepEqual(single.runs.map((r) => r.run.id), ['run1']);
  assert.match(single.notice ?? '', /suite "other"/);

  const artifact = join(dir, 'artifact');
  await mkdir(join(artifact, 'nested'), { recursive: true });
  await writeFile(join(artifact, 'a.json'), JSON.stringify(run(1)));
  await writeFile(join(artifact, 'nested', 'b.json'), JSON.stringify(run(2)));
  await writeFile(join(artifact, 'c.json'), JSON.stringify(run(3, 'other')));
  await writeFile(join(artifact, 'd.json'), JSON.stringify({ ...run(4), run: { ...run(4).run, complete: false } }));
  await writeFile(join(artifact, 'junk.json'), 'not json');
  const b = await loadBaselineFile(artifact, 'default');
  assert.deepEqual(b.runs.map((r) => r.run.id), ['run2', 'run1']);
  assert.match(b.notice ?? '', /junk\.json/);
  assert.match(b.notice ?? '', /1 incomplete run/);
  assert.match(b.notice ?? '', /other suites/);
});

test('parseResults names the file, the problem and the fix', () => {
  assert.throws(() => parseResults('{', 'x.json'), /^ResultsFileError: x\.json: not valid JSON .*; pass a results\.json written by `pvbench run`$/);
  assert.throws(() => parseResults('[]', 'x.json'), /x\.json: not a JSON object/);
  assert.throws(() => parseResults(JSON.stringify({ ...run(1), schemaVersion: 2 }), 'x.json'), /x\.json: schemaVersion 2 is not supported .*--baseline none/);
  const { trials: _t, ...noTrials } = run(1);
  assert.throws(() => parseResults(JSON.stringify(noTrials), 'x.json'), /x\.json: "trials" is missing or not an array/);
  const badTrial = { ...run(1), trials: [{ ...run(1).trials[0], status: 'exploded' }] };
  assert.throws(() => parseResults(JSON.stringify(badTrial), 'x.json'), /trials\[0\]\.status "exploded"/);
  const ok = run(2);
  assert.deepEqual(parseResults(JSON.stringify(ok), 'ok.json'), ok);
});
