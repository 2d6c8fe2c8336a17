// One pull-request comment per suite: found by its hidden marker and edited in place, never posted twice.
import type { GitHubClient } from './client.ts';
import { nextLink } from './client.ts';

/** GitHub refuses comment bodies longer than this. */
export const MAX_COMMENT_CHARS = 65536;
const MAX_PAGES = 100;

export interface CommentTarget {
  owner: string;
  repo: string;
  issueNumber: number;
  /** Hidden marker, e.g. "<!-- pvbench:suite=default -->": the comment that contains it is ours. */
  marker: string;
  body: string;
}

export interface CommentResult {
  id: number;
  url: string;
  action: 'created' | 'updated';
}

interface IssueComment {
  id: number;
  body?: string | null;
  html_url?: string;
}

function asComments(data: unknown): IssueComment[] {
  if (!Array.isArray(data)) throw new Error('listing issue comments: the API did not return a list');
  return data.filter((c): c is IssueComment => typeof c === 'object' && c !== null && typeof (c as IssueComment).id === 'number');
}

/** The body as posted: starts with the marker (added when missing) and fits GitHub's limit. */
export function commentBody(marker: string, body: string): string {
  let text = body.includes(marker) ? body : `${marker}\n${body}`;
  if (text.length > MAX_COMMENT_CHARS) {
    const note = '\n\n… (report truncated to fit a comment; the full report is in the job summary and the results artifact)\n';
    text = text.slice(0, MAX_COMMENT_CHARS - note.length) + note;
  }
  return text;
}

/** The comment holding the marker, through every page of the issue's comments (Link header, rel="next"). */
export async function findMarkedComment(client: GitHubClient, t: Omit<CommentTarget, 'body'>): Promise<IssueComment | undefined> {
  let res = await client.request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', {
    owner: t.owner,
    repo: t.repo,
    issue_number: t.issueNumber,
    per_page: 100,
  });
  // Ours start with the marker (commentBody puts it first). A comment that merely contains it, e.g. someone
  // quoting the raw report, is somebody else's and is never edited.
  for (let page = 1; ; page++) {
    for (const c of asComments(res.data)) {
      if (typeof c.body === 'string' && c.body.trimStart().startsWith(t.marker)) return c;
    }
    const next = nextLink(res.headers.link);
    if (!next) return undefined;
    if (page >= MAX_PAGES) throw new Error(`more than ${MAX_PAGES} pages of comments on #${t.issueNumber}; not creating a possibly duplicate comment`);
    res = await client.request(`GET ${next}`);
  }
}

/** Update the comment holding the marker, else create it. Exactly one comment per marker. */
export async function upsertComment(client: GitHubClient, t: CommentTarget): Promise<CommentResult> {
  const body = commentBody(t.marker, t.body);
  const existing = await findMarkedComment(client, t);
  if (existing) {
    const res = await client.request('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', {
      owner: t.owner,
      repo: t.repo,
      comment_id: existing.id,
      body,
    });
    const c = res.data as IssueComment;
    return { id: existing.id, url: c.html_url ?? existing.html_url ?? '', action: 'updated' };
  }
  const res = await client.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
    owner: t.owner,
    repo: t.repo,
    issue_number: t.issueNumber,
    body,
  });
  const c = res.data as IssueComment;
  if (typeof c?.id !== 'number') throw new Error('creating the comment: the API returned no comment id');
  return { id: c.id, url: c.html_url ?? '', action: 'created' };
}
