// The run's GitHub context, read from the environment a runner gives a step at the time of the call (not at module
// load, unlike @actions/github's `context`), so tests and the post step see what they set.
import { readFileSync } from 'node:fs';

export interface PullRequestInfo {
  number: number;
  /** Branch the pull request merges into: where the baseline comes from. */
  baseRef: string;
  headRef: string;
  headSha?: string;
  /** owner/name of the repository the pull request's head lives in. */
  headRepo?: string;
  baseRepo?: string;
  /** The head lives in another repository (a fork). */
  fork: boolean;
}

export interface RunContext {
  owner: string;
  repo: string;
  eventName: string;
  sha?: string;
  ref?: string;
  runId?: number;
  runAttempt?: number;
  runUrl?: string;
  apiUrl: string;
  serverUrl: string;
  /** The workflow file's name (e.g. "bench.yml") from GITHUB_WORKFLOW_REF: the REST API accepts it as workflow_id. */
  workflowFile?: string;
  /** The branch the baseline is taken from: the pull request's base, else the branch of a push/dispatch run. */
  baselineBranch?: string;
  pullRequest?: PullRequestInfo;
  payload: Record<string, unknown>;
}

type Env = Record<string, string | undefined>;

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** "owner/repo/.github/workflows/bench.yml@refs/heads/main" → "bench.yml". */
export function workflowFileFromRef(workflowRef: string | undefined): string | undefined {
  if (!workflowRef) return undefined;
  const path = workflowRef.split('@')[0] ?? '';
  const m = /\.github\/workflows\/([^/]+\.ya?ml)$/.exec(path);
  return m?.[1];
}

export function readEventPayload(env: Env = process.env): Record<string, unknown> {
  const path = env.GITHUB_EVENT_PATH;
  if (!path) return {};
  try {
    return obj(JSON.parse(readFileSync(path, 'utf8'))) ?? {};
  } catch {
    return {};
  }
}

/** Pull request facts from an event payload (pull_request and pull_request_target events). */
export function pullRequestFromPayload(payload: Record<string, unknown>): PullRequestInfo | undefined {
  const pr = obj(payload.pull_request);
  if (!pr || typeof pr.number !== 'number') return undefined;
  const base = obj(pr.base);
  const head = obj(pr.head);
  const baseRepo = str(obj(base?.repo)?.full_name);
  const headRepo = str(obj(head?.repo)?.full_name);
  // A deleted fork has head.repo null: still a fork (and its token is just as read-only).
  const fork = head !== undefined && (head.repo === null || (headRepo !== undefined && baseRepo !== undefined && headRepo.toLowerCase() !== baseRepo.toLowerCase()));
  return {
    number: pr.number,
    baseRef: str(base?.ref) ?? '',
    headRef: str(head?.ref) ?? '',
    headSha: str(head?.sha),
    headRepo,
    baseRepo,
    fork,
  };
}

export function readRunContext(env: Env = process.env): RunContext {
  const repository = env.GITHUB_REPOSITORY ?? '';
  const [owner = '', repo = ''] = repository.split('/');
  const payload = readEventPayload(env);
  const eventName = env.GITHUB_EVENT_NAME ?? '';
  const pullRequest = pullRequestFromPayload(payload);
  const serverUrl = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
  const apiUrl = (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, '');
  const runId = env.GITHUB_RUN_ID ? Number(env.GITHUB_RUN_ID) : undefined;
  const runAttempt = env.GITHUB_RUN_ATTEMPT ? Number(env.GITHUB_RUN_ATTEMPT) : undefined;
  const ref = env.GITHUB_REF || undefined;
  let baselineBranch: string | undefined;
  if (pullRequest?.baseRef) baselineBranch = pullRequest.baseRef;
  else if (env.GITHUB_BASE_REF) baselineBranch = env.GITHUB_BASE_REF;
  else if (ref?.startsWith('refs/heads/')) baselineBranch = ref.slice('refs/heads/'.length);
  return {
    owner,
    repo,
    eventName,
    sha: env.GITHUB_SHA || undefined,
    ref,
    runId: Number.isFinite(runId) ? runId : undefined,
    runAttempt: Number.isFinite(runAttempt) ? runAttempt : undefined,
    runUrl: owner && repo && runId ? `${serverUrl}/${owner}/${repo}/actions/runs/${runId}` : undefined,
    apiUrl,
    serverUrl,
    workflowFile: workflowFileFromRef(env.GITHUB_WORKFLOW_REF),
    baselineBranch,
    pullRequest,
    payload,
  };
}
