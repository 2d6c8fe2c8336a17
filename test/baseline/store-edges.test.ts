// Edge cases of store.ts that the mutation run (npm run mutate -- baseline) showed untested: every check of
// parseResults with its message, safe path segments, the order of runs, and the exact notices of both loaders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { loadBaselineFile, loadHistory, MAX_RESULTS_BYTES, parseResults, readResults, safeSegment, saveToHistory } from '../../src/baseline/store.ts';
import type { ResultsFile } from '../../src/suite/results.ts';
import { results, timed, trial } from '../report/fixtures.ts';

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-store-edges-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const run = (id: string, startedAt: string, over: { suite?: string; complete?: boolean } = {}): ResultsFile =>
  results({ suite: over.suite ?? 'default', id, startedAt, complete: over.complete ?? true, trials: timed('restic', 'no-fault', [1000, 1001, 1002]) });

const json = (r: unknown) => JSON.stringify(r);
const FIX = '; pass a results.json written by `pvbench run`';

test('parseResults: every check, with its message', () => {
  const ok = run('r1', '2025-01-01T00:00:00.000Z');
  const problem = (data: unknown) => {
    try {
      parseResults(typeof data === 'string' ? data : json(data), 'x.json');
    } catch (err) {
      return (err as Error).message;
    }
    return 'parsed';
  };
  const without = (o: Record<string, unknown>, k: string) => Object.fromEntries(Object.entries(o).filter(([key]) => key !== k));
  assert.equal(problem('null'), `x.json: not a JSON object${FIX}`);
  assert.equal(problem('42'), `x.json: not a JSON object${FIX}`);
  assert.equal(problem('"text"'), `x.json: not a JSON object${FIX}`);
  assert.equal(problem(without(ok as unknown as Record<string, unknown>, 'schemaVersion')), `x.json: no schemaVersion (not a pvbench results file?)${FIX}`);
  assert.equal(problem({ ...ok, suite: 'default' }), `x.json: "suite.name" is missing or not a string${FIX}`);
  assert.equal(problem({ ...ok, suite: { name: 7 } }), `x.json: "suite.name" is missing or not a string${FIX}`);
  assert.equal(problem({ ...ok, run: null }), `x.json: "run" is missing or not an object${FIX}`);
  assert.equal(problem({ ...ok, run: { ...ok.run, id: 1 } }), `x.json: "run.id" is missing or not a string${FIX}`);
  assert.equal(problem({ ...ok, run: { ...ok.run, startedAt: 0 } }), `x.json: "run.startedAt" is missing or not a string${FIX}`);
  assert.equal(problem({ ...ok, run: { ...ok.run, complete: 'yes' } }), `x.json: "run.complete" is missing or not a boolean${FIX}`);
  assert.equal(problem({ ...ok, tools: {} }), `x.json: "tools" is missing or not an array${FIX}`);
  assert.equal(problem({ ...ok, scenarios: null }), `x.json: "scenarios" is missing or not an array${FIX}`);
  const t0 = ok.trials[0]!;
  const withTrial = (t: unknown) => ({ ...ok, trials: [ok.trials[1], t] });
  assert.equal(problem(withTrial(null)), `x.json: trials[1] is not an object${FIX}`);
  assert.equal(problem(withTrial([t0])), `x.json: trials[1] is not an object${FIX}`);
  assert.equal(problem(withTrial({ ...t0, tool: 3 })), `x.json: trials[1] has no "tool" or "scenario" name${FIX}`);
  assert.equal(problem(withTrial({ ...t0, scenario: undefined })), `x.json: trials[1] has no "tool" or "scenario" name${FIX}`);
  assert.equal(problem(withTrial({ ...t0, trial: '1' })), `x.json: trials[1].trial is not a number${FIX}`);
  assert.equal(problem(withTrial({ ...t0, status: 5 })), `x.json: trials[1].status 5 is not one of passed, failed, error, skipped, not-injected${FIX}`);
  assert.equal(problem(withTrial({ ...t0, fault: 'none' })), `x.json: trials[1].fault is missing${FIX}`);
  // Every status is accepted.
  const statuses = ['passed', 'failed', 'error', 'skipped', 'not-injected'] as const;
  const all = { ...ok, trials: statuses.map((status, i) => trial({ trial: i + 1, status })) };
  assert.deepEqual(parseResults(json(all), 'x.json'), all);
});

test('safeSegment: anything else becomes "-", and never an empty, "." or ".." segment', () => {
  assert.equal(safeSegment('a b/c:d'), 'a-b-c-d');
  assert.equal(safeSegment(''), '_');
  assert.equal(safeSegment('.'), '_');
  assert.equal(safeSegment('..'), '_');
  assert.equal(safeSegment('a..'), 'a..');
  assert.equal(safeSegment('..a'), '..a');
  assert.equal(safeSegment('v1.2_x-y'), 'v1.2_x-y');
});

test('saveToHistory writes the JSON with a final newline', async (t) => {
  const dir = await tempDir(t);
  const path = await saveToHistory(dir, run('r1', '2025-01-01T00:00:00.000Z'));
  assert.ok((await readFile(path, 'utf8')).endsWith('}\n'));
});

test('loadHistory: exact notices for skipped files, and runs ordered by start time, not by file name', async (t) => {
  const dir = await tempDir(t);
  const suiteDir = join(dir, 'default');
  await mkdir(suiteDir, { recursive: true });
  // Named so that name order and start order disagree.
  await writeFile(join(suiteDir, 'zzz.json'), json(run('old', '2025-01-01T00:00:00.000Z')));
  await writeFile(join(suiteDir, 'aaa.json'), json(run('new', '2025-02-01T00:00:00.000Z')));
  await writeFile(join(suiteDir, 'incomplete.json'), json(run('inc', '2025-03-01T00:00:00.000Z', { complete: false })));
  await writeFile(join(suiteDir, 'other.json'), json(run('oth', '2025-03-01T00:00:00.000Z', { suite: 'other' })));
  await writeFile(join(suiteDir, 'bad1.json'), '{');
  await writeFile(join(suiteDir, 'README.md'), 'not a results file');
  await mkdir(join(suiteDir, 'sub.json'));
  const b = await loadHistory(dir, { suiteName: 'default', maxRuns: 10 });
  assert.deepEqual(b.runs.map((r) => r.run.id), ['new', 'old']);
  assert.equal(b.source, `history (${suiteDir})`);
  assert.match(b.notice ?? '', /^skipped 1 unreadable history file in .*: bad1\.json \(not valid JSON \(.*\)\); skipped 1 incomplete run; skipped 1 run of another suite$/);
  assert.ok(b.notice!.startsWith(`skipped 1 unreadable history file in ${suiteDir}: bad1.json (not valid JSON (`), b.notice);

  for (const n of ['bad2.json', 'bad3.json', 'bad4.json']) await writeFile(join(suiteDir, n), '[]');
  await writeFile(join(suiteDir, 'incomplete2.json'), json(run('inc2', '2025-03-02T00:00:00.000Z', { complete: false })));
  await writeFile(join(suiteDir, 'other2.json'), json(run('oth2', '2025-03-02T00:00:00.000Z', { suite: 'other' })));
  const many = await loadHistory(dir, { suiteName: 'default', maxRuns: 10 });
  assert.match(many.notice ?? '', /: bad4\.json \(not a JSON object\), bad3\.json \(not a JSON object\), bad2\.json \(not a JSON object\) and 1 more; skipped 2 incomplete runs; skipped 2 runs of another suite$/);
  assert.ok(many.notice!.startsWith(`skipped 4 unreadable history files in ${suiteDir}: `), many.notice);
});

test('loadHistory: a clean history has no notice at all', async (t) => {
  const dir = await tempDir(t);
  await saveToHistory(dir, run('r1', '2025-01-01T00:00:00.000Z'));
  const b = await loadHistory(dir, { suiteName: 'default', maxRuns: 5 });
  assert.deepEqual(Object.keys(b).sort(), ['runs', 'source']);
});

test('loadHistory: an empty directory, nothing usable, an unreadable directory', async (t) => {
  const dir = await tempDir(t);
  const suiteDir = join(dir, 'default');
  await mkdir(suiteDir);
  const empty = await loadHistory(dir, { suiteName: 'default', maxRuns: 5 });
  assert.deepEqual(empty, { runs: [], source: `history (${suiteDir})`, notice: `no earlier runs of suite "default" in ${suiteDir} yet; this run becomes the baseline for the next one` });
  await writeFile(join(suiteDir, 'a.json'), json(run('inc', '2025-01-01T00:00:00.000Z', { complete: false })));
  const unusable = await loadHistory(dir, { suiteName: 'default', maxRuns: 5 });
  assert.deepEqual(unusable.runs, []);
  assert.equal(unusable.notice, 'skipped 1 incomplete run; no usable earlier run; comparing without a baseline');
  // A file where the history directory should be: not "no earlier runs".
  const file = join(dir, 'history-file');
  await writeFile(file, 'x');
  const broken = await loadHistory(file, { suiteName: 'default', maxRuns: 5 });
  assert.deepEqual(broken.runs, []);
  assert.equal(broken.notice, `cannot read the history directory ${join(file, 'default')} (ENOTDIR); comparing without a baseline`);
});

test('loadBaselineFile: one file, exact source and notices', async (t) => {
  const dir = await tempDir(t);
  const f = join(dir, 'results.json');
  await writeFile(f, json(run('r1', '2025-01-01T00:00:00.000Z')));
  const clean = await loadBaselineFile(f, 'default');
  assert.deepEqual(Object.keys(clean).sort(), ['runs', 'source']);
  assert.equal(clean.source, `file (${f})`);
  await writeFile(f, json(run('r2', '2025-01-01T00:00:00.000Z', { complete: false })));
  const inc = await loadBaselineFile(f, 'default');
  assert.deepEqual(inc.runs.map((r) => r.run.id), ['r2']);
  assert.equal(inc.notice, 'baseline run r2 is incomplete; using the trials it has');
  await writeFile(f, json(run('r3', '2025-01-01T00:00:00.000Z', { complete: false, suite: 'other' })));
  assert.equal(
    (await loadBaselineFile(f, 'default')).notice,
    'baseline run r3 is incomplete; using the trials it has; baseline is from suite "other", not "default"; comparing tools and scenarios by name',
  );
  const below = join(f, 'x.json');
  assert.deepEqual(await loadBaselineFile(below, 'default'), { runs: [], source: `file (${below})`, notice: `cannot read the baseline ${below} (ENOTDIR); comparing without a baseline` });
});

test('loadBaselineFile: a directory, three levels deep, exact notices, runs newest first then by id', async (t) => {
  const dir = await tempDir(t);
  const art = join(dir, 'artifact');
  await mkdir(join(art, 'a', 'b', 'c', 'd'), { recursive: true });
  const same = '2025-01-05T00:00:00.000Z';
  await writeFile(join(art, 'r-a.json'), json(run('run-a', same)));
  await writeFile(join(art, 'r-b.json'), json(run('run-c', same)));
  await writeFile(join(art, 'r-c.json'), json(run('run-b', same)));
  await writeFile(join(art, 'r-d.json'), json(run('undated', 'not a date')));
  await writeFile(join(art, '0.json'), json(run('undated-1', 'not a date either')));
  await writeFile(join(art, 'a', 'b', 'c', 'newest.json'), json(run('newest', '2025-02-01T00:00:00.000Z')));
  await writeFile(join(art, 'a', 'b', 'c', 'd', 'too-deep.json'), json(run('deep', '2025-03-01T00:00:00.000Z')));
  await mkdir(join(art, 'a', 'b', 'c', 'dir.json'));
  await writeFile(join(art, 'notes.txt'), 'not json');
  const b = await loadBaselineFile(art, 'default');
  assert.deepEqual(b.runs.map((r) => r.run.id), ['newest', 'run-c', 'run-b', 'run-a', 'undated-1', 'undated']);
  assert.deepEqual(Object.keys(b).sort(), ['runs', 'source']);

  // Bad files are named relative to the directory, in path order, even when it was given with a trailing slash.
  await writeFile(join(art, 'a.json'), '{');
  await writeFile(join(art, 'a', 'x.json'), '[]');
  await writeFile(join(art, 'inc.json'), json(run('inc', same, { complete: false })));
  await writeFile(join(art, 'inc2.json'), json(run('inc2', same, { complete: false })));
  await writeFile(join(art, 'other.json'), json(run('oth', same, { suite: 'other' })));
  const messy = await loadBaselineFile(`${art}/`, 'default');
  assert.equal(messy.runs.length, 6);
  assert.match(
    messy.notice ?? '',
    /^skipped 2 invalid results files in .*\/artifact\/: a\.json \(not valid JSON \(.*\)\), a\/x\.json \(not a JSON object\); skipped 2 incomplete runs; skipped 1 run of other suites \(not "default"\)$/,
  );

  // The same run twice (a copied file): kept in path order.
  const dups = join(dir, 'dups');
  await mkdir(dups);
  const first = run('dup', same);
  const second = run('dup', same);
  second.trials[0]!.backup!.wallMs = 4242;
  await writeFile(join(dups, '1.json'), json(first));
  await writeFile(join(dups, '2.json'), json(second));
  await writeFile(join(dups, '3.json'), json(run('aaa', same)));
  const d = await loadBaselineFile(dups, 'default');
  assert.deepEqual(d.runs.map((r) => `${r.run.id} ${r.trials[0]!.backup!.wallMs}`), ['dup 1000', 'dup 4242', 'aaa 1000']);

  // Nothing usable: said so, once.
  const lone = join(dir, 'lone');
  await mkdir(lone);
  await writeFile(join(lone, 'only.json'), '[]');
  assert.equal(
    (await loadBaselineFile(lone, 'default')).notice,
    `skipped 1 invalid results file in ${lone}: only.json (not a JSON object); no complete run of suite "default" in ${lone}; comparing without a baseline`,
  );
  await writeFile(join(lone, 'two.json'), '[]');
  await writeFile(join(lone, 'three.json'), '[]');
  assert.equal(
    (await loadBaselineFile(lone, 'default')).notice,
    `skipped 3 invalid results files in ${lone}: only.json (not a JSON object), three.json (not a JSON object), two.json (not a JSON object); no complete run of suite "default" in ${lone}; comparing without a baseline`,
  );
});

test('loadBaselineFile: a file that cannot be read gives a notice with the error code', async (t) => {
  const dir = await tempDir(t);
  // A Unix socket is no directory, and reading it fails (ENXIO), also as root.
  const sock = join(dir, 'results.json');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const b = await loadBaselineFile(sock, 'default');
  assert.deepEqual(b.runs, []);
  // Looked at before it is read: a special file is named as such, never opened.
  assert.equal(b.notice, `${sock}: not a regular file (a socket); pass a results.json written by \`pvbench run\`; comparing without a baseline`);
});

test('loadBaselineFile: bad files are named relative to the directory however many slashes end its path', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'sub'));
  await writeFile(join(dir, 'bad.json'), '[]');
  await writeFile(join(dir, 'sub', 'worse.json'), '[]');
  for (const given of [dir, `${dir}/`, `${dir}//`, `${dir}///`]) {
    assert.equal(
      (await loadBaselineFile(given, 'default')).notice,
      `skipped 2 invalid results files in ${given}: bad.json (not a JSON object), sub/worse.json (not a JSON object); no complete run of suite "default" in ${given}; comparing without a baseline`,
      given,
    );
  }
});

test('readResults: a file over MAX_RESULTS_BYTES is refused by its size, unread, with the limit named', async (t) => {
  const dir = await tempDir(t);
  const big = join(dir, 'big.json');
  // Sparse: no disk space, and never read.
  await writeFile(big, '');
  await truncate(big, MAX_RESULTS_BYTES + 1);
  await assert.rejects(readResults(big, 'big.json'), { message: `big.json: the file is 256.0 MiB, more than the 256 MiB a results file may have${FIX}` });
});

test('readResults: a file of exactly MAX_RESULTS_BYTES is read (the limit is inclusive)', async (t) => {
  const dir = await tempDir(t);
  const full = join(dir, 'full.json');
  // Sparse, 256 MiB of NUL bytes: read, and then refused as JSON, not by its size.
  await writeFile(full, '');
  await truncate(full, MAX_RESULTS_BYTES);
  await assert.rejects(readResults(full, 'full.json'), (err: Error) => err.message.startsWith('full.json: not valid JSON ('));
});

test('loadHistory: the newest runs by JavaScript name order, not the directory listing order', async (t) => {
  // libuv lists a directory sorted by bytes (UTF-8: U+FFFD before U+1F600); JavaScript sorts UTF-16 code units (the
  // surrogate 0xD83D of U+1F600 before 0xFFFD). With one run wanted, the last name in JavaScript's order is taken.
  const dir = await tempDir(t);
  const suiteDir = join(dir, 'default');
  await mkdir(suiteDir);
  await writeFile(join(suiteDir, '\u{FFFD}.json'), json(run('replacement', '2025-01-01T00:00:00.000Z')));
  await writeFile(join(suiteDir, '\u{1F600}.json'), json(run('emoji', '2025-01-02T00:00:00.000Z')));
  const b = await loadHistory(dir, { suiteName: 'default', maxRuns: 1 });
  assert.deepEqual(b.runs.map((r) => r.run.id), ['replacement']);
});
