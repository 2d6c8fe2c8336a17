import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { downloadArtifactZip, fetchArtifactBaseline, parseResultsJson, resultsFromZip, uploadResultsArtifact } from '../../src/github/artifacts.ts';
import { resolveBaseline } from '../../src/action/baseline.ts';
import { suiteSchema } from '../../src/config/schema.ts';
import type { RunContext } from '../../src/github/context.ts';
import { createClient } from '../../src/github/client.ts';
import { listZip, readZip, readZipEntry, ZipError } from '../../src/github/zip.ts';
import { FakeGitHub } from './fake-github.ts';
import { buildZip } from './zip-builder.ts';
import { captureStdout, resultsFixture } from './helpers.ts';

const TOKEN = 'ghs_artifactsReadToken012345678';
let gh: FakeGitHub;

before(async () => {
  gh = new FakeGitHub({ tokens: { [TOKEN]: 'read' } });
  await gh.start();
});
after(() => gh.close());
beforeEach(() => {
  gh.runs.length = 0;
  gh.artifacts.length = 0;
  gh.requests.length = 0;
  gh.blobRequests.length = 0;
});

const opts = (over: Partial<Parameters<typeof fetchArtifactBaseline>[0]> = {}) => ({
  client: createClient(TOKEN, gh.url),
  owner: 'acme',
  repo: 'mesh',
  workflowFile: 'bench.yml',
  branch: 'main',
  artifactName: 'pvbench-results',
  suiteName: 'default',
  maxRuns: 1,
  ...over,
});

test('zip reader: stored, deflated and data-descriptor entries, by hand-built archives', () => {
  const json = JSON.stringify(resultsFixture());
  const big = 'access log line\n'.repeat(5000);
  const zip = buildZip(
    [
      { name: 'results.json', data: json, method: 8 },
      { name: 'notes/readme.txt', data: 'stored text', method: 0 },
      { name: 'logs/access.log', data: big, method: 8, dataDescriptor: true },
      { name: 'empty/', data: '', method: 0 },
    ],
    'archive comment',
  );
  const entries = listZip(zip);
  assert.deepEqual(entries.map((e) => [e.name, e.method, e.isDirectory]), [
    ['results.json', 8, false],
    ['notes/readme.txt', 0, false],
    ['logs/access.log', 8, false],
    ['empty/', 0, true],
  ]);
  const files = readZip(zip);
  assert.equal(files.get('results.json')!.toString(), json);
  assert.equal(files.get('notes/readme.txt')!.toString(), 'stored text');
  assert.equal(files.get('logs/access.log')!.toString(), big);
  assert.equal(files.has('empty/'), false);
  assert.ok(deflateRawSync(big).length < big.length / 10, 'the deflate path was really exercised');
});

test('zip reader: corruption, truncation, unsupported methods and size limits are errors', () => {
  const zip = buildZip([{ name: 'a.txt', data: 'hello world hello world', method: 0 }]);
  const bad = Buffer.from(zip);
  const at = 30 + 'a.txt'.length + 2; // a data byte
  bad.writeUInt8(bad.readUInt8(at) ^ 0xff, at);
  assert.throws(() => readZip(bad), (e: unknown) => e instanceof ZipError && /CRC-32 mismatch/.test(e.message));
  assert.throws(() => listZip(zip.subarray(0, 10)), ZipError);
  assert.throws(() => listZip(Buffer.from('this is not a zip file at all, really not')), /no end of central directory/);
  const cut = Buffer.concat([zip.subarray(0, 20), zip.subarray(zip.length - 22 - 'a.txt'.length - 46)]);
  assert.throws(() => readZip(cut), ZipError);
  const bz = buildZip([{ name: 'b.txt', data: 'x', method: 0 }]);
  bz.writeUInt16LE(12, bz.length - 22 - 'b.txt'.length - 46 + 10); // central directory: method 12 (bzip2)
  assert.throws(() => readZip(bz), /compression method 12 is not supported/);
  const large = buildZip([{ name: 'big', data: Buffer.alloc(10000), method: 8 }]);
  assert.throws(() => readZipEntry(large, listZip(large)[0]!, 100), /more than the 100 allowed/);
});

test('results parsing: schemaVersion, shape, suite and completeness are checked', () => {
  const ok = parseResultsJson(JSON.stringify(resultsFixture()), 'r.json', 'default');
  assert.equal(ok.ok, true);
  const cases: [string, RegExp][] = [
    ['{not json', /r\.json: not valid JSON/],
    ['[1,2]', /r\.json: not a JSON object/],
    [JSON.stringify({ ...resultsFixture(), schemaVersion: 2 }), /schemaVersion 2 is not supported \(this pvbench reads schemaVersion 1\)/],
    [JSON.stringify({ schemaVersion: 1 }), /"suite\.name" is missing or not a string/],
    [JSON.stringify(resultsFixture('other')), /holds suite "other", not "default"/],
    [JSON.stringify(resultsFixture('default', { run: { ...resultsFixture().run, complete: false } })), /interrupted run/],
  ];
  for (const [text, re] of cases) {
    const r = parseResultsJson(text, 'r.json', 'default');
    assert.equal(r.ok, false);
    assert.match((r as { problem: string }).problem, re);
  }
});

test('baseline from the artifact of the latest successful run on the base branch; the redirect is followed without the token', async () => {
  const older = gh.addRun({ head_branch: 'main' });
  gh.addArtifact(older.id, 'pvbench-results', buildZip([{ name: 'results.json', data: JSON.stringify(resultsFixture('default', { pvbenchVersion: 'older' })) }]));
  const newest = gh.addRun({ head_branch: 'main' });
  gh.addArtifact(newest.id, 'other-artifact', buildZip([{ name: 'x.json', data: '{}' }]));
  gh.addArtifact(newest.id, 'pvbench-results', buildZip([{ name: 'results.json', data: JSON.stringify(resultsFixture('default', { pvbenchVersion: 'newest' })) }]));
  gh.addRun({ head_branch: 'main', conclusion: 'failure' });
  gh.addRun({ head_branch: 'feature', event: 'pull_request' });
  const b = await fetchArtifactBaseline(opts());
  assert.equal(b.notice, undefined);
  assert.equal(b.runs.length, 1);
  assert.equal(b.runs[0]!.pvbenchVersion, 'newest');
  assert.match(b.source, /artifact "pvbench-results" of bench\.yml on main: run #2/);
  const list = gh.requests.find((r) => r.path.endsWith('/actions/workflows/bench.yml/runs'))!;
  assert.equal(list.query.branch, 'main');
  assert.equal(list.query.status, 'success');
  assert.ok(Number(list.query.per_page) > 0);
  const dl = gh.requests.find((r) => /\/actions\/artifacts\/\d+\/zip$/.test(r.path))!;
  assert.equal(dl.status, 302);
  assert.equal(dl.headers.authorization, `token ${TOKEN}`);
  assert.deepEqual(gh.blobRequests.map((r) => [r.hadAuthorization, r.status]), [[false, 200]], 'blob storage never saw the token');

  const two = await fetchArtifactBaseline(opts({ maxRuns: 5 }));
  assert.deepEqual(two.runs.map((r) => r.pvbenchVersion), ['newest', 'older'], 'newest first, pooled up to maxRuns');
});

test('the blob URL refuses a request that carries the Authorization header (a client that leaks the token fails)', async () => {
  const run = gh.addRun({ head_branch: 'main' });
  const a = gh.addArtifact(run.id, 'pvbench-results', buildZip([{ name: 'results.json', data: JSON.stringify(resultsFixture()) }]));
  const leaky: typeof fetch = (input, init) => fetch(input, { ...init, headers: { authorization: `token ${TOKEN}` } });
  await assert.rejects(downloadArtifactZip(createClient(TOKEN, gh.url), { owner: 'acme', repo: 'mesh', artifactId: a.id, fetchImpl: leaky }), /HTTP 400/);
  assert.deepEqual(gh.blobRequests.map((r) => [r.hadAuthorization, r.status]), [[true, 400]]);
  const zip = await downloadArtifactZip(createClient(TOKEN, gh.url), { owner: 'acme', repo: 'mesh', artifactId: a.id });
  assert.equal(resultsFromZip(zip, 'a', 'default').ok, true);
});

test('no successful run, expired or missing artifacts, bad files: a notice, never an exception', async () => {
  let b = await fetchArtifactBaseline(opts());
  assert.deepEqual(b.runs, []);
  assert.match(b.notice!, /no successful run of bench\.yml on main yet/);

  const r1 = gh.addRun({ head_branch: 'main' });
  gh.addArtifact(r1.id, 'pvbench-results', buildZip([{ name: 'results.json', data: '{}' }]), { expired: true });
  const r2 = gh.addRun({ head_branch: 'main' });
  gh.addArtifact(r2.id, 'pvbench-results', buildZip([{ name: 'results.json', data: JSON.stringify({ ...resultsFixture(), schemaVersion: 99 }) }]));
  const r3 = gh.addRun({ head_branch: 'main' });
  gh.addArtifact(r3.id, 'pvbench-results', Buffer.from('not a zip'));
  gh.addRun({ head_branch: 'main' });
  b = await fetchArtifactBaseline(opts({ maxRuns: 5 }));
  assert.deepEqual(b.runs, []);
  assert.match(b.notice!, /no usable baseline in the last 4 successful run\(s\)/);
  assert.match(b.notice!, /no artifact "pvbench-results"/);
  assert.match(b.notice!, /is not a readable zip/);
  assert.match(b.notice!, /schemaVersion 99/);
  assert.match(b.notice!, /has expired/);

  b = await fetchArtifactBaseline(opts({ workflowFile: 'missing.yml' }));
  assert.match(b.notice!, /workflow missing\.yml was not found/);
  b = await fetchArtifactBaseline(opts({ client: createClient('ghs_unknownToken', gh.url) }));
  assert.match(b.notice!, /Bad credentials/);
  b = await fetchArtifactBaseline(opts({ workflowFile: undefined }));
  assert.match(b.notice!, /GITHUB_WORKFLOW_REF/);
  b = await fetchArtifactBaseline(opts({ branch: undefined }));
  assert.match(b.notice!, /no base branch/);
});

test('this run is never its own baseline, and runs of pull requests on a same-named branch are not used', async () => {
  const own = gh.addRun({ head_branch: 'main' });
  gh.addArtifact(own.id, 'pvbench-results', buildZip([{ name: 'results.json', data: JSON.stringify(resultsFixture()) }]));
  const forkRun = gh.addRun({ head_branch: 'main', event: 'pull_request', head_repository: 'someone/mesh' });
  gh.addArtifact(forkRun.id, 'pvbench-results', buildZip([{ name: 'results.json', data: JSON.stringify(resultsFixture()) }]));
  const b = await fetchArtifactBaseline(opts({ excludeRunId: own.id }));
  assert.deepEqual(b.runs, []);
  assert.match(b.notice!, /no successful run/);
});

test('the action\'s file baseline is the store\'s: file or directory; problems are notices', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-bfile-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'a.json'), JSON.stringify(resultsFixture()));
  await writeFile(join(dir, 'b.json'), '{broken');
  const file = (path: string) => resolveBaseline({ source: { kind: 'file', path }, artifactName: 'pvbench-results', suite: suiteSchema.parse({}), ctx: {} as RunContext, log: () => undefined });
  let b = await file(join(dir, 'a.json'));
  assert.equal(b.runs.length, 1);
  assert.equal(b.notice, undefined);
  b = await file(dir);
  assert.equal(b.runs.length, 1);
  assert.match(b.notice!, /skipped 1 invalid results file in .*: b\.json \(not valid JSON/);
  b = await file(join(dir, 'missing.json'));
  assert.deepEqual(b.runs, []);
  assert.match(b.notice!, /missing\.json does not exist/);
  await mkdir(join(dir, 'empty'));
  b = await file(join(dir, 'empty'));
  assert.deepEqual(b.runs, []);
  assert.match(b.notice!, /no complete run of suite "default" in .*empty; comparing without a baseline/);
});

test('upload off the runner: skipped with the documented notice', async () => {
  const up = await uploadResultsArtifact({ name: 'pvbench-results', files: ['/nonexistent/results.json'], rootDirectory: '/nonexistent', env: {} });
  assert.equal(up.uploaded, false);
  assert.match(up.notice!, /^artifact upload skipped: not running on GitHub Actions runner/);
});

test('upload on a runner whose artifact service rejects the upload: a notice, never an exception', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-upload-'));
  const saved = { token: process.env.ACTIONS_RUNTIME_TOKEN, url: process.env.ACTIONS_RESULTS_URL };
  t.after(async () => {
    for (const [k, v] of [['ACTIONS_RUNTIME_TOKEN', saved.token], ['ACTIONS_RESULTS_URL', saved.url]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await rm(dir, { recursive: true, force: true });
  });
  await writeFile(join(dir, 'results.json'), JSON.stringify(resultsFixture()));
  // @actions/artifact reads process.env itself: a malformed runtime token fails before any network request.
  process.env.ACTIONS_RUNTIME_TOKEN = 'not-a-jwt';
  process.env.ACTIONS_RESULTS_URL = 'http://127.0.0.1:9/';
  const { value: up } = await captureStdout(() => uploadResultsArtifact({ name: 'pvbench-results', files: [join(dir, 'results.json')], rootDirectory: dir }));
  assert.equal(up.uploaded, false);
  assert.match(up.notice!, /^artifact upload failed: /);
});

test('the pooled artifact baseline: up to maxRuns runs of this host class, suite and schema; the others are named, not pooled', async () => {
  const identity = { schemaVersion: 1, suite: { seed: 42, platform: 'local' }, host: { cpus: 2, memoryBytes: 1 << 30 } };
  const add = (data: object) => {
    const run = gh.addRun({ head_branch: 'main' });
    gh.addArtifact(run.id, 'pvbench-results', buildZip([{ name: 'results.json', data: JSON.stringify(data) }]));
    return run;
  };
  const oldest = add(resultsFixture('default', { pvbenchVersion: 'r1' }));
  add(resultsFixture('default', { pvbenchVersion: 'r2' }));
  const bigHost = add(resultsFixture('default', { pvbenchVersion: 'r3', run: { ...resultsFixture().run, host: { cpus: 8, memoryBytes: 32 * 1024 ** 3, os: 'linux', node: 'v24' } } }));
  const v99 = add({ ...resultsFixture('default', { pvbenchVersion: 'r4' }), schemaVersion: 99 });
  const seeded = add(resultsFixture('default', { pvbenchVersion: 'r5', suite: { ...resultsFixture().suite, seed: 7 } }));
  add(resultsFixture('default', { pvbenchVersion: 'r6' }));
  const b = await fetchArtifactBaseline(opts({ maxRuns: 2, identity }));
  assert.deepEqual(b.runs.map((r) => r.pvbenchVersion), ['r6', 'r2'], 'the two newest comparable runs');
  assert.match(b.source, /on main: run #6 \(\d+\) at [0-9a-f]{7}, run #2 \(\d+\) at [0-9a-f]{7}$/);
  assert.ok(b.notice, 'what was left out is named');
  assert.match(b.notice, new RegExp(`left out of the baseline, not pooled: run #5 \\(${seeded.id}\\): seed 7 \\(this run: 42\\); run #3 \\(${bigHost.id}\\): host 8 CPUs, 32\\.0 GiB \\(this run: 2 CPUs, 1\\.0 GiB\\)`));
  assert.match(b.notice, new RegExp(`skipped: artifact of run #4 \\(${v99.id}\\):results\\.json: schemaVersion 99 is not supported`));
  assert.ok(!gh.requests.some((r) => r.path.endsWith(`/runs/${oldest.id}/artifacts`)), 'the oldest run was not needed');

  // Without an identity (a caller that cannot tell), the newest runs are taken as they are.
  const all = await fetchArtifactBaseline(opts({ maxRuns: 2 }));
  assert.deepEqual(all.runs.map((r) => r.pvbenchVersion), ['r6', 'r5']);
});

test("the action's artifact baseline asks for up to compare.baseline.maxRuns runs like this one (this machine's host class)", async () => {
  const { availableParallelism, totalmem } = await import('node:os');
  const here = { cpus: availableParallelism(), memoryBytes: totalmem(), os: 'linux', node: 'v24' };
  const elsewhere = { cpus: here.cpus + 2, memoryBytes: here.memoryBytes * 2, os: 'linux', node: 'v24' };
  for (const [v, host] of [['a', here], ['b', elsewhere], ['c', here], ['d', here]] as const) {
    const run = gh.addRun({ head_branch: 'main' });
    gh.addArtifact(run.id, 'pvbench-results', buildZip([{ name: 'results.json', data: JSON.stringify(resultsFixture('default', { pvbenchVersion: v, run: { ...resultsFixture().run, host } })) }]));
  }
  const suite = suiteSchema.parse({ seed: 42, compare: { baseline: { maxRuns: 3 } } });
  const ctx = { owner: 'acme', repo: 'mesh', workflowFile: 'bench.yml', baselineBranch: 'main', runId: 999 } as RunContext;
  const b = await resolveBaseline({ source: { kind: 'artifact' }, artifactName: 'pvbench-results', suite, ctx, client: createClient(TOKEN, gh.url), log: () => undefined });
  assert.deepEqual(b.runs.map((r) => r.pvbenchVersion), ['d', 'c', 'a']);
  assert.match(b.notice!, /left out of the baseline, not pooled: run #2 \(\d+\): host /);
});
