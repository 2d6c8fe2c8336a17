// Can this run write a pull-request comment? Pull requests from forks run `pull_request` workflows with a
// read-only token; the API then answers 403 "Resource not accessible by integration".
import type { RunContext } from './context.ts';
import { errorMessage, errorStatus } from './client.ts';

export type CommentPermission = { ok: true } | { ok: false; reason: string };

/** What the event says before any request is made. */
export function commentPermission(ctx: Pick<RunContext, 'eventName' | 'pullRequest'>): CommentPermission {
  const pr = ctx.pullRequest;
  if (!pr) return { ok: false, reason: `the ${ctx.eventName || 'current'} event is not a pull request` };
  if (pr.fork && ctx.eventName === 'pull_request') {
    return {
      ok: false,
      reason: `pull request #${pr.number} comes from the fork ${pr.headRepo ?? '(deleted repository)'}, and GitHub gives pull_request workflows from forks a read-only token, so the report is in the job summary only`,
    };
  }
  return { ok: true };
}

/** A 403 from a write: the token lacks permission (a fork's token, or no "pull-requests: write"). */
export function isWriteForbidden(err: unknown): boolean {
  if (errorStatus(err) !== 403) return false;
  const m = errorMessage(err);
  // Rate limiting also answers 403, with its own message; that one is not a permission problem.
  return !/rate limit/i.test(m);
}
