// Where the report goes: the pull-request comment (one per suite, updated in place) and the job summary, with
// the reason in both the summary and a notice annotation whenever the comment cannot be written.
import * as core from '@actions/core';
import type { GitHubClient } from './client.ts';
import { errorMessage, errorStatus } from './client.ts';
import { upsertComment } from './comment.ts';
import type { CommentResult } from './comment.ts';
import type { RunContext } from './context.ts';
import { commentPermission, isWriteForbidden } from './fork.ts';
import { maskText } from './mask.ts';
import { writeSummary } from './summary.ts';

export interface PublishOptions {
  /** undefined when there is no token. */
  client?: GitHubClient;
  ctx: Pick<RunContext, 'owner' | 'repo' | 'eventName' | 'pullRequest'>;
  /** The comment input. */
  comment: boolean;
  marker: string;
  report: string;
  /** Notices shown above the report in the summary (e.g. artifact upload skipped). */
  notices?: string[];
  env?: Record<string, string | undefined>;
}

export interface PublishResult {
  comment?: CommentResult;
  /** Why there is no comment, when one was wanted but could not be written. */
  fallback?: string;
  summaryWritten: boolean;
}

export async function publishReport(o: PublishOptions): Promise<PublishResult> {
  const report = maskText(o.report);
  const notices = [...(o.notices ?? [])];
  let comment: CommentResult | undefined;
  let fallback: string | undefined;
  let unexpected = false;
  if (!o.comment) core.info('comment: off (comment: false); the report is in the job summary');
  else {
    const perm = commentPermission(o.ctx);
    const pr = o.ctx.pullRequest;
    if (!perm.ok && !pr) core.info(`comment: skipped, ${perm.reason}; the report is in the job summary`);
    else if (!perm.ok) fallback = perm.reason;
    else if (!o.client) fallback = 'github-token is empty, so the report is in the job summary only';
    else if (pr) {
      try {
        comment = await upsertComment(o.client, { owner: o.ctx.owner, repo: o.ctx.repo, issueNumber: pr.number, marker: o.marker, body: report });
        core.info(`comment: ${comment.action} ${comment.url || `#${comment.id}`}`);
      } catch (err) {
        if (isWriteForbidden(err)) {
          fallback = `the token may not comment on pull request #${pr.number} (HTTP 403: ${errorMessage(err)}); this happens for pull requests from forks and for jobs without "permissions: pull-requests: write", so the report is in the job summary only`;
        } else {
          const status = errorStatus(err);
          fallback = `commenting on pull request #${pr.number} failed (${status ? `HTTP ${status}: ` : ''}${errorMessage(err)}), so the report is in the job summary only`;
          unexpected = true;
        }
      }
    }
  }
  if (fallback) {
    notices.unshift(fallback);
    if (unexpected) core.warning(maskText(fallback), { title: 'pvbench: no PR comment' });
    else core.notice(maskText(fallback), { title: 'pvbench: report in the job summary only' });
  }
  const summaryWritten = await writeSummary(report, notices, o.env);
  return { comment, fallback, summaryWritten };
}
