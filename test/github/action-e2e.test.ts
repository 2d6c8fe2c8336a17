// End to end: the BUNDLED action (dist/action/index.js and post.js, as action.yml names them) run by the test
// runner of actions against the fake GitHub API. Three runs of a tiny suite: a push on main (the baseline, whose
// results.json is then served as the artifact of a successful run), a pull-request run that creates the comment,
// and a pull-request run with an injected regression (PVBENCH_TEST_SLOWDOWN) that must update the same comment,
// fail the step, and leave the summary and outputs set. Then a cancelled run whose post step cleans up.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeGitHub } from './fake-github.ts';
import { runAction } from './runner.ts';
import type { ActionRun, RunActionOptions } from './runner.ts';
import { buildZip } from './zip-builder.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
// The directory holding action.yml and dist/: the repository. (PVBENCH_E2E_ACTION_DIR points elsewhere, for a
// bundle built to a scratch directory while developing.)
const ACTION_DIR = process.env.PVBENCH_E2E_ACTION_DIR ? resolve(process.env.PVBENCH_E2E_ACTION_DIR) : ROOT;
const TOKEN = 'ghs_e2eWriteTokenDoNotLeak0123456789';
const REPO = 'acme/mesh';
const PR = 7;
const STEP_TIMEOUT_MS = 240_000;

const SUITE = `# A tiny suite: one tool, one scenario, five trials (enough for Mann-Whitney U to reach p <= 0.05), a small workload.
name: e2e
seed: 7
trials: 5
workload:
  proxies: 2
  accessLogLines: 2000
  statsSnapshots: 2
  clusters: 10
tools:
  - type: copy
scenarios:
  - name: no-fault
    incremental: false
compare:
  threshold: 0.5
  # The workload is tiny (copy backups of a few ms): a small floor, so the injected slowdown stands out.
  noiseFloor: { ms: 5 }
  metrics: [backup.wallMs]
`;

let gh: FakeGitHub;
let root: string;
let workspace: string;

before(async () => {
  assert.ok(
    existsSync(join(ACTION_DIR, 'dist', 'action', 'index.js')) && existsSync(join(ACTION_DIR, 'dist', 'action', 'post.js')),
    `${join(ACTION_DIR, 'dist', 'action')} has no index.js/post.js: run \`node scripts/build.ts\` before the tests (this test drives the bundled action)`,
  );
  gh = new FakeGitHub({ owner: 'acme', repo: 'mesh', tokens: { [TOKEN]: 'write', ghs_forkReadOnly0123456789: 'read' }, issues: [PR], workflows: ['bench.yml'] });
  await gh.start();
  root = await mkdtemp(join(tmpdir(), 'pvbench-e2e-'));
  workspace = join(root, 'workspace');
  await mkdir(join(workspace, 'bench'), { recursive: true });
  await writeFile(join(workspace, 'bench', 'suite.yaml'), SUITE);
  // Other people's comments first, so the action's comment lands on the second page of 100.
  for (let i = 0; i < 120; i++) gh.addComment(PR, `review comment ${i}`, 'reviewer');
});

after(async () => {
  await gh?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

function prPayload(fork = false) {
  return {
    action: 'synchronize',
    number: PR,
    pull_request: {
      number: PR,
      base: { ref: 'main', sha: 'a'.repeat(40), repo: { full_name: REPO } },
      head: { ref: 'faster-backups', sha: 'c'.repeat(40), repo: { full_name: fork ? 'contributor/mesh' : REPO } },
    },
    repository: { full_name: REPO, name: 'mesh', owner: { login: 'acme' } },
  };
}

function options(run: { runId: number; event: 'push' | 'pull_request'; fork?: boolean; env?: Record<string, string>; inputs?: Record<string, string> }): RunActionOptions {
  const isPr = run.event === 'pull_request';
  return {
    actionDir: ACTION_DIR,
    token: TOKEN,
    apiUrl: gh.url,
    repository: REPO,
    event: isPr ? { name: 'pull_request', payload: prPayload(run.fork) } : { name: 'push', payload: { ref: 'refs/heads/main', repository: { full_name: REPO } } },
    ref: isPr ? `refs/pull/${PR}/merge` : 'refs/heads/main',
    sha: isPr ? 'd'.repeat(40) : 'a'.repeat(40),
    runId: run.runId,
    workflowRef: `${REPO}/.github/workflows/bench.yml@${isPr ? `refs/pull/${PR}/merge` : 'refs/heads/main'}`,
    workspace,
    inputs: { suite: 'bench/suite.yaml', ...(run.inputs ?? {}) },
    env: run.env,
    timeoutMs: STEP_TIMEOUT_MS,
    tempDir: join(root, `runner-${run.runId}`),
  };
}

function describe(r: ActionRun): string {
  return `exit ${r.main.exitCode}${r.main.timedOut ? ' (timed out)' : ''}\n--- log ---\n${r.main.log.slice(-6000)}\n--- post ---\n${r.post?.log.slice(-2000) ?? '(no post step)'}`;
}

const marked = () => gh.commentsOn(PR).filter((c) => c.body.includes('<!-- pvbench:suite=e2e -->'));

let commentId = 0;
let commentUrl = '';

test('run 1: push on main, no earlier run: the baseline notice is in the report; results become the artifact of a successful run', async () => {
  const r = await runAction(options({ runId: 101, event: 'push' }));
  assert.equal(r.main.exitCode, 0, describe(r));
  assert.equal(r.main.outputs.verdict, 'pass', describe(r));
  assert.equal(r.main.outputs.regressions, '0');
  assert.equal(r.main.outputs['comment-url'], '', 'no comment on a push');
  assert.equal(marked().length, 0);
  assert.match(r.main.summary, /no successful run of bench\.yml on main yet/, 'the missing baseline is a notice in the report');
  assert.match(r.main.summary, /artifact upload skipped: not running on GitHub Actions runner/);
  assert.ok(gh.requests.some((q) => q.path === '/repos/acme/mesh/actions/workflows/bench.yml/runs' && q.query.branch === 'main' && q.query.status === 'success'));
  const results = JSON.parse(await readFile(r.main.outputs['results-path']!, 'utf8')) as { schemaVersion: number; run: { complete: boolean } };
  assert.equal(results.schemaVersion, 1);
  assert.equal(results.run.complete, true);
  assert.equal(r.post?.exitCode, 0, describe(r));

  // What upload-artifact would have stored: a zip holding results.json, on a successful run of bench.yml on main.
  const run = gh.addRun({ head_branch: 'main', event: 'push', conclusion: 'success' });
  gh.addArtifact(run.id, 'pvbench-results', buildZip([{ name: 'results.json', data: await readFile(r.main.outputs['results-path']!) }]));
});

test('run 2: pull request: compared with the artifact baseline, the comment is created', async () => {
  const r = await runAction(options({ runId: 102, event: 'pull_request' }));
  assert.ok(r.main.exitCode === 0 || r.main.outputs.verdict === 'fail', describe(r));
  assert.ok(r.main.outputs.verdict, describe(r));
  assert.equal(marked().length, 1, describe(r));
  commentId = marked()[0]!.id;
  commentUrl = r.main.outputs['comment-url']!;
  assert.match(commentUrl, new RegExp(`#issuecomment-${commentId}$`));
  assert.equal(gh.blobRequests.length, 1, 'the baseline artifact was downloaded');
  assert.equal(gh.blobRequests[0]!.hadAuthorization, false, 'without the token');
  assert.doesNotMatch(r.main.summary, /no successful run/);
});

test('run 3: pull request with an injected regression: same comment updated, step failed, summary and outputs set, post cleaned up', async () => {
  assert.ok(commentId, 'run 2 created the comment');
  const before = marked()[0]!.body;
  const requestsBefore = gh.requests.length;
  const r = await runAction(options({ runId: 103, event: 'pull_request', env: { PVBENCH_TEST_SLOWDOWN: '10' } }));

  // The step failed, with the reasons.
  assert.equal(r.main.exitCode, 1, describe(r));
  assert.equal(r.main.outputs.verdict, 'fail', describe(r));
  const failure = r.main.annotations.find((a) => a.level === 'error' && /pvbench: FAIL/.test(a.message));
  assert.ok(failure, 'core.setFailed printed the verdict and its reasons');

  // Outputs.
  assert.ok(Number(r.main.outputs.regressions) >= 1, `regressions=${r.main.outputs.regressions}`);
  assert.equal(r.main.outputs['integrity-failures'], '0');
  assert.ok(existsSync(r.main.outputs['results-path']!));
  assert.ok(existsSync(r.main.outputs['report-path']!));
  assert.equal(r.main.outputs['comment-url'], commentUrl);

  // The same comment, updated in place (found on page 2), never a second one.
  assert.equal(marked().length, 1);
  assert.equal(marked()[0]!.id, commentId);
  assert.notEqual(marked()[0]!.body, before);
  const mine = gh.requests.slice(requestsBefore);
  assert.ok(mine.some((q) => q.method === 'GET' && q.path.endsWith(`/issues/${PR}/comments`) && q.query.page === '2'), 'followed the Link header to page 2');
  assert.deepEqual(mine.filter((q) => q.method !== 'GET').map((q) => `${q.method} ${q.path} ${q.status}`), [`PATCH /repos/acme/mesh/issues/comments/${commentId} 200`]);

  // The job summary holds the same report.
  const report = await readFile(r.main.outputs['report-path']!, 'utf8');
  assert.ok(r.main.summary.includes(report.trim().split('\n').slice(0, 3).join('\n')), 'the summary holds the report');
  assert.ok(marked()[0]!.body.includes(report.trim().split('\n').slice(0, 3).join('\n')), 'the comment holds the report');

  // Annotations for the regression, with titles.
  const regression = r.main.annotations.find((a) => a.properties.title?.startsWith('pvbench regression: copy / no-fault'));
  assert.ok(regression, `annotations: ${JSON.stringify(r.main.annotations)}`);
  assert.equal(regression.level, 'error');

  // Secrets: masked in the log, absent from everything posted.
  assert.ok(r.main.masks.includes(TOKEN), 'the token was registered with ::add-mask::');
  for (const text of [r.main.log, r.main.summary, marked()[0]!.body, JSON.stringify(r.main.outputs)]) assert.ok(!text.includes(TOKEN));

  // Log groups for the long phases.
  assert.ok(r.main.groups.some((g) => /baseline/.test(g)));
  assert.ok(r.main.groups.some((g) => /running suite/.test(g)));

  // The post step ran (post-if: always()) and cleaned up what the run created.
  assert.ok(r.post, 'the post step ran after the failed main step');
  assert.equal(r.post.exitCode, 0, describe(r));
  assert.match(r.post.log, /pvbench cleanup: done/);
  const tempDirs = JSON.parse(r.main.state['pvbench-temp-dirs'] ?? '[]') as string[];
  assert.ok(tempDirs.length >= 1);
  for (const d of tempDirs) assert.equal(existsSync(d), false, `${d} removed`);
  for (const d of JSON.parse(r.main.state['pvbench-platform-dirs'] ?? '[]') as string[]) assert.equal(existsSync(d), false, `${d} removed`);
});

test('fork pull request: no comment write is attempted; summary only, with a notice saying why; the kubeconfig input is masked and removed', async () => {
  const requestsBefore = gh.requests.length;
  const kubeToken = 'kubeTokenFromSecretsE2E0123456789';
  const kubeconfig = `apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: ${kubeToken}\n`;
  const r = await runAction(options({ runId: 104, event: 'pull_request', fork: true, inputs: { trials: '1', 'upload-artifact': 'false', kubeconfig } }));
  assert.ok(r.main.outputs.verdict, describe(r));
  assert.ok(r.main.masks.includes(kubeToken), 'the kubeconfig token is masked on its own');
  for (const text of [r.main.log, r.main.summary]) assert.ok(!text.includes(kubeToken));
  for (const d of JSON.parse(r.main.state['pvbench-temp-dirs'] ?? '[]') as string[]) assert.equal(existsSync(join(d, 'kubeconfig')), false, 'the kubeconfig file is removed by the post step');
  assert.equal(r.main.outputs['comment-url'], '');
  assert.ok(!gh.requests.slice(requestsBefore).some((q) => q.method !== 'GET'), 'nothing written');
  assert.match(r.main.summary, /comes from the fork contributor\/mesh.*read-only token/);
  assert.ok(r.main.annotations.some((a) => a.level === 'notice' && /job summary only/.test(a.message)));
  assert.equal(marked().length, 1);
  assert.equal(r.post?.exitCode, 0);
});

test('a cancelled run (SIGINT, as the runner sends first): the operation in progress stops, what finished is reported, the step fails, no baseline is uploaded', async () => {
  const r = await runAction({
    ...options({ runId: 106, event: 'push', inputs: { trials: '50', comment: 'false', baseline: 'none' } }),
    cancel: { when: (state) => (state['pvbench-platform-dirs'] ?? '[]') !== '[]', signal: 'SIGINT', waitMs: 120_000 },
  });
  assert.equal(r.main.signal, null, `the action exits by itself after SIGINT\n${describe(r)}`);
  assert.match(r.main.log, /SIGINT: stopping the operation in progress/, describe(r));
  assert.equal(r.main.exitCode, 1, `a run that did not finish fails the step\n${describe(r)}`);
  assert.match(r.main.log, /the run did not finish: interrupted/, describe(r));
  assert.match(r.main.summary, /results not uploaded as a baseline artifact: the run did not finish/, describe(r));
  assert.ok(r.main.outputs['results-path'], describe(r));
  const results = JSON.parse(await readFile(r.main.outputs['results-path']!, 'utf8')) as { run: { complete: boolean }; trials: unknown[] };
  assert.equal(results.run.complete, false, 'an interrupted run is marked incomplete');
  assert.ok(results.trials.length < 50);
  assert.match(r.main.summary, /pvbench:suite=e2e/, 'the report of what was measured is in the summary');
  assert.equal(r.post?.exitCode, 0, describe(r));
});

test('a run killed mid-way (cancelled job): the post step removes its work directory and stops its processes', async () => {
  const r = await runAction({
    ...options({ runId: 105, event: 'push', inputs: { trials: '20', 'upload-artifact': 'false', comment: 'false', baseline: 'none' } }),
    cancel: { when: (state) => (state['pvbench-platform-dirs'] ?? '[]') !== '[]', signal: 'SIGKILL', waitMs: 120_000 },
  });
  assert.equal(r.main.signal, 'SIGKILL', describe(r));
  const dirs = JSON.parse(r.main.state['pvbench-platform-dirs'] ?? '[]') as string[];
  assert.ok(dirs.length >= 1, 'the work directory was recorded before the kill');
  assert.ok(r.post, 'post-if: always() runs the post step after a cancel');
  assert.equal(r.post.exitCode, 0, describe(r));
  for (const d of [...dirs, ...(JSON.parse(r.main.state['pvbench-temp-dirs'] ?? '[]') as string[])]) assert.equal(existsSync(d), false, `${d} removed by the post step`);
  assert.match(r.post.log, /pvbench cleanup: removed /);
});
