import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from '../../src/github/client.ts';
import { commentBody, findMarkedComment, MAX_COMMENT_CHARS, upsertComment } from '../../src/github/comment.ts';
import { FakeGitHub } from './fake-github.ts';

const TOKEN = 'ghs_commentWriteToken0123456789';
const READ = 'ghs_forkReadOnlyToken0123456789';
const MARKER = '<!-- pvbench:suite=mesh -->';
let gh: FakeGitHub;

before(async () => {
  gh = new FakeGitHub({ tokens: { [TOKEN]: 'write', [READ]: 'read' }, issues: [7, 8, 9, 11] });
  await gh.start();
});
after(() => gh.close());
beforeEach(() => {
  gh.comments.length = 0;
  gh.requests.length = 0;
});

const target = (issueNumber: number, body: string) => ({ owner: 'acme', repo: 'mesh', issueNumber, marker: MARKER, body });

test('creates the comment, then updates the same one in place', async () => {
  const client = createClient(TOKEN, gh.url);
  gh.addComment(7, 'LGTM');
  const first = await upsertComment(client, target(7, `${MARKER}\n# report 1`));
  assert.equal(first.action, 'created');
  assert.match(first.url, /#issuecomment-\d+$/);
  const second = await upsertComment(client, target(7, `${MARKER}\n# report 2`));
  assert.equal(second.action, 'updated');
  assert.equal(second.id, first.id);
  const ours = gh.commentsOn(7).filter((c) => c.body.includes(MARKER));
  assert.equal(ours.length, 1, 'never a second comment');
  assert.equal(ours[0]!.body, `${MARKER}\n# report 2`);
  assert.equal(ours[0]!.user.login, 'github-actions[bot]');
  const writes = gh.requests.filter((r) => r.method !== 'GET');
  assert.deepEqual(writes.map((r) => `${r.method} ${r.path} ${r.status}`), [
    `POST /repos/acme/mesh/issues/7/comments 201`,
    `PATCH /repos/acme/mesh/issues/comments/${first.id} 200`,
  ]);
  for (const r of gh.requests) {
    assert.equal(r.headers.authorization, `token ${TOKEN}`);
    assert.ok(r.headers['user-agent']);
    assert.match(String(r.headers.accept), /application\/vnd\.github/);
  }
});

test('pagination: the marker on page 2 is found through the Link header and updated, not duplicated', async () => {
  const client = createClient(TOKEN, gh.url);
  for (let i = 0; i < 130; i++) gh.addComment(8, `comment ${i}`);
  const mine = gh.addComment(8, `${MARKER}\nold report`, 'github-actions[bot]');
  for (let i = 0; i < 5; i++) gh.addComment(8, `later ${i}`);
  const found = await findMarkedComment(client, { owner: 'acme', repo: 'mesh', issueNumber: 8, marker: MARKER });
  assert.equal(found?.id, mine.id);
  const lists = gh.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/issues/8/comments'));
  assert.deepEqual(lists.map((r) => r.query.page ?? '1'), ['1', '2'], 'followed the next link to page 2');
  const res = await upsertComment(client, target(8, `${MARKER}\nnew report`));
  assert.equal(res.action, 'updated');
  assert.equal(res.id, mine.id);
  assert.equal(gh.commentsOn(8).length, 136);
  assert.equal(gh.commentsOn(8).filter((c) => c.body.includes(MARKER)).length, 1);
});

test('a comment that starts with the marker wins over one that only quotes it', async () => {
  const client = createClient(TOKEN, gh.url);
  gh.addComment(9, `> quoting the bot:\n> ${MARKER}`, 'reviewer');
  const ours = gh.addComment(9, `${MARKER}\nreport`, 'github-actions[bot]');
  const res = await upsertComment(client, target(9, `${MARKER}\nreport 2`));
  assert.equal(res.id, ours.id);
  assert.match(gh.commentsOn(9)[0]!.body, /quoting the bot/, 'the quoting comment is untouched');
});

test('a comment that only quotes the marker is never edited: with no comment of ours, a new one is created', async () => {
  const client = createClient(TOKEN, gh.url);
  const quoting = gh.addComment(11, `> quoting the bot:\n> ${MARKER}`, 'reviewer');
  const res = await upsertComment(client, target(11, `${MARKER}\nreport`));
  assert.equal(res.action, 'created');
  assert.notEqual(res.id, quoting.id);
  assert.equal(gh.commentsOn(11).find((c) => c.id === quoting.id)!.body, `> quoting the bot:\n> ${MARKER}`);
});

test('a comment of another suite is left alone', async () => {
  const client = createClient(TOKEN, gh.url);
  const other = gh.addComment(9, '<!-- pvbench:suite=other -->\nreport');
  const res = await upsertComment(client, target(9, 'no marker in this body'));
  assert.equal(res.action, 'created');
  assert.notEqual(res.id, other.id);
  const created = gh.commentsOn(9).find((c) => c.id === res.id)!;
  assert.ok(created.body.startsWith(`${MARKER}\n`), 'the marker is added when the body lacks it');
});

test('a read-only (fork) token gets 403 "Resource not accessible by integration" and nothing is written', async () => {
  const client = createClient(READ, gh.url);
  await assert.rejects(upsertComment(client, target(7, `${MARKER}\nx`)), (err: unknown) => {
    assert.equal((err as { status?: number }).status, 403);
    assert.match((err as Error).message, /Resource not accessible by integration/);
    return true;
  });
  assert.equal(gh.commentsOn(7).length, 0);
});

test('the fake checks requests the way the API does', async () => {
  const base = `${gh.url}/repos/acme/mesh/issues/7/comments`;
  const headers = { accept: 'application/vnd.github+json', 'user-agent': 'test', 'content-type': 'application/json' };
  let r = await fetch(base, { headers: { accept: headers.accept, 'user-agent': 'test' } });
  assert.equal(r.status, 401);
  assert.deepEqual(Object.keys((await r.json()) as object).sort(), ['documentation_url', 'message', 'status']);
  r = await fetch(base, { headers: { ...headers, authorization: 'token wrong' } });
  assert.equal(r.status, 401);
  assert.equal(((await r.json()) as { message: string }).message, 'Bad credentials');
  r = await fetch(base, { headers: { accept: headers.accept, authorization: `Bearer ${TOKEN}`, 'user-agent': '' } });
  assert.equal(r.status, 403, 'no User-Agent');
  await r.body?.cancel();
  r = await fetch(base, { method: 'POST', headers: { ...headers, authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ text: 'x' }) });
  assert.equal(r.status, 422);
  assert.match(((await r.json()) as { message: string }).message, /properties\/body/);
  r = await fetch(base, { method: 'POST', headers: { ...headers, authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ body: 'x'.repeat(MAX_COMMENT_CHARS + 1) }) });
  assert.equal(r.status, 422);
  await r.body?.cancel();
  r = await fetch(`${gh.url}/repos/acme/other/issues/7/comments`, { headers: { ...headers, authorization: `token ${TOKEN}` } });
  assert.equal(r.status, 404);
  await r.body?.cancel();
  r = await fetch(`${gh.url}/repos/acme/mesh/issues/404/comments`, { headers: { ...headers, authorization: `token ${TOKEN}` } });
  assert.equal(r.status, 404);
  await r.body?.cancel();
  assert.equal(gh.commentsOn(7).length, 0);
});

test('commentBody keeps the marker first and fits the API limit', () => {
  const body = commentBody(MARKER, 'x'.repeat(MAX_COMMENT_CHARS * 2));
  assert.ok(body.startsWith(MARKER));
  assert.ok(body.length <= MAX_COMMENT_CHARS);
  assert.match(body, /report truncated/);
  assert.equal(commentBody(MARKER, `${MARKER}\nshort`), `${MARKER}\nshort`);
});
