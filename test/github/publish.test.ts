// Fork detection, the summary-only fallback, and masking of what is posted.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '../../src/github/client.ts';
import { pullRequestFromPayload, readRunContext, workflowFileFromRef } from '../../src/github/context.ts';
import { commentPermission, isWriteForbidden } from '../../src/github/fork.ts';
import { addSecret, maskText } from '../../src/github/mask.ts';
import { publishReport } from '../../src/github/publish.ts';
import { FakeGitHub } from './fake-github.ts';
import { captureStdout, summaryFile } from './helpers.ts';

const WRITE = 'ghs_publishWriteToken0123456789';
const READ = 'ghs_publishForkToken01234567890';
const MARKER = '<!-- pvbench:suite=default -->';
let gh: FakeGitHub;
let summary: Awaited<ReturnType<typeof summaryFile>>;

function prPayload(o: { number?: number; fork?: boolean } = {}) {
  return {
    action: 'synchronize',
    number: o.number ?? 7,
    pull_request: {
      number: o.number ?? 7,
      base: { ref: 'main', sha: 'b'.repeat(40), repo: { full_name: 'acme/mesh' } },
      head: { ref: 'feature', sha: 'h'.repeat(40), repo: { full_name: o.fork ? 'contributor/mesh' : 'acme/mesh' } },
    },
    repository: { full_name: 'acme/mesh', name: 'mesh', owner: { login: 'acme' } },
  };
}

const ctxFor = (payload: Record<string, unknown>, eventName = 'pull_request') => ({ owner: 'acme', repo: 'mesh', eventName, pullRequest: pullRequestFromPayload(payload) });

before(async () => {
  gh = new FakeGitHub({ tokens: { [WRITE]: 'write', [READ]: 'read' }, issues: [7] });
  await gh.start();
  summary = await summaryFile();
});
after(async () => {
  await gh.close();
  await summary.dispose();
});
beforeEach(async () => {
  gh.comments.length = 0;
  gh.requests.length = 0;
  await summary.take();
});

test('context: pull request facts, fork detection, workflow file and baseline branch from the runner environment', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-ctx-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'event.json'), JSON.stringify(prPayload({ fork: true })));
  const ctx = readRunContext({
    GITHUB_REPOSITORY: 'acme/mesh',
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: join(dir, 'event.json'),
    GITHUB_RUN_ID: '4242',
    GITHUB_WORKFLOW_REF: 'acme/mesh/.github/workflows/bench.yml@refs/pull/7/merge',
    GITHUB_API_URL: 'http://127.0.0.1:1/',
    GITHUB_REF: 'refs/pull/7/merge',
  });
  assert.equal(ctx.owner, 'acme');
  assert.equal(ctx.pullRequest?.number, 7);
  assert.equal(ctx.pullRequest?.fork, true);
  assert.equal(ctx.pullRequest?.headRepo, 'contributor/mesh');
  assert.equal(ctx.baselineBranch, 'main');
  assert.equal(ctx.workflowFile, 'bench.yml');
  assert.equal(ctx.apiUrl, 'http://127.0.0.1:1');
  assert.equal(ctx.runUrl, 'https://github.com/acme/mesh/actions/runs/4242');
  const push = readRunContext({ GITHUB_REPOSITORY: 'acme/mesh', GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/release-1' });
  assert.equal(push.pullRequest, undefined);
  assert.equal(push.baselineBranch, 'release-1');
  assert.equal(workflowFileFromRef('o/r/.github/workflows/a.yaml@refs/heads/x'), 'a.yaml');
  assert.equal(workflowFileFromRef(undefined), undefined);
});

test('fork detection', () => {
  assert.deepEqual(commentPermission(ctxFor(prPayload())), { ok: true });
  const fork = commentPermission(ctxFor(prPayload({ fork: true })));
  assert.equal(fork.ok, false);
  assert.match((fork as { reason: string }).reason, /comes from the fork contributor\/mesh.*read-only token/);
  // pull_request_target runs with the base repository's token: it may comment.
  assert.deepEqual(commentPermission(ctxFor(prPayload({ fork: true }), 'pull_request_target')), { ok: true });
  const deleted = prPayload({ fork: true });
  (deleted.pull_request.head as { repo: unknown }).repo = null;
  assert.equal(pullRequestFromPayload(deleted)?.fork, true);
  assert.equal(commentPermission({ eventName: 'push', pullRequest: undefined }).ok, false);
  assert.equal(isWriteForbidden({ status: 403, response: { data: { message: 'Resource not accessible by integration' } } }), true);
  assert.equal(isWriteForbidden({ status: 403, response: { data: { message: 'API rate limit exceeded for installation' } } }), false);
  assert.equal(isWriteForbidden({ status: 404 }), false);
});

test('same-repository pull request: comment created, summary holds the same report', async () => {
  const { value: res } = await captureStdout(() =>
    publishReport({ client: createClient(WRITE, gh.url), ctx: ctxFor(prPayload()), comment: true, marker: MARKER, report: `${MARKER}\n# pvbench\nall good\n` }),
  );
  assert.equal(res.comment?.action, 'created');
  assert.equal(res.fallback, undefined);
  assert.equal(gh.commentsOn(7).length, 1);
  const text = await summary.take();
  assert.match(text, /# pvbench\nall good/);
  assert.doesNotMatch(text, /\[!NOTE\]/);
});

test('fork pull request: no write is attempted; summary only, with a notice saying why', async () => {
  const { value: res, commands } = await captureStdout(() =>
    publishReport({ client: createClient(READ, gh.url), ctx: ctxFor(prPayload({ fork: true })), comment: true, marker: MARKER, report: `${MARKER}\n# pvbench\n` }),
  );
  assert.equal(res.comment, undefined);
  assert.match(res.fallback!, /fork contributor\/mesh/);
  assert.equal(gh.requests.length, 0, 'no API request at all');
  const text = await summary.take();
  assert.match(text, /> \[!NOTE\]\n> pull request #7 comes from the fork contributor\/mesh/);
  assert.match(text, /# pvbench/);
  const notice = commands.annotations.find((a) => a.level === 'notice');
  assert.match(notice!.message, /job summary only/);
  assert.equal(notice!.properties.title, 'pvbench: report in the job summary only');
});

test('403 "Resource not accessible by integration" on the write: summary only, with the reason', async () => {
  const { value: res, commands } = await captureStdout(() =>
    publishReport({ client: createClient(READ, gh.url), ctx: ctxFor(prPayload()), comment: true, marker: MARKER, report: `${MARKER}\n# pvbench\n` }),
  );
  assert.equal(res.comment, undefined);
  assert.match(res.fallback!, /HTTP 403: Resource not accessible by integration/);
  assert.ok(gh.requests.some((r) => r.method === 'POST' && r.status === 403));
  assert.equal(gh.commentsOn(7).length, 0);
  assert.match(await summary.take(), /Resource not accessible by integration.*job summary only/);
  assert.ok(commands.annotations.some((a) => a.level === 'notice'));
});

test('push event or comment off: no comment, no notice; summary written', async () => {
  await captureStdout(() => publishReport({ client: createClient(WRITE, gh.url), ctx: { owner: 'acme', repo: 'mesh', eventName: 'push' }, comment: true, marker: MARKER, report: 'r1' }));
  await captureStdout(() => publishReport({ client: createClient(WRITE, gh.url), ctx: ctxFor(prPayload()), comment: false, marker: MARKER, report: 'r2' }));
  assert.equal(gh.requests.length, 0);
  const text = await summary.take();
  assert.match(text, /r1/);
  assert.match(text, /r2/);
  assert.doesNotMatch(text, /NOTE/);
});

test('secrets never reach the comment or the summary', async () => {
  const secret = 'resticRepoPassw0rd-9f8e7d6c';
  await captureStdout(() => addSecret(secret));
  assert.equal(maskText(`password=${secret}!`), 'password=***!');
  const report = `${MARKER}\n# pvbench\nrestic said: wrong password ${secret}\ntoken ${WRITE}\n`;
  await captureStdout(async () => {
    addSecret(WRITE);
    await publishReport({ client: createClient(WRITE, gh.url), ctx: ctxFor(prPayload()), comment: true, marker: MARKER, report, notices: [`notice with ${secret}`] });
  });
  const body = gh.commentsOn(7)[0]!.body;
  assert.ok(!body.includes(secret) && !body.includes(WRITE), body);
  assert.match(body, /wrong password \*\*\*/);
  const text = await summary.take();
  assert.ok(!text.includes(secret) && !text.includes(WRITE), text);
});
