// The slice of the GitHub REST API client pvbench uses: one `request` method, which an Octokit instance (from
// @actions/github's getOctokit) provides. Kept this small so tests can point it at a local server.
import { getOctokit } from '@actions/github';

export interface ApiResponse {
  status: number;
  url?: string;
  headers: Record<string, string | number | undefined>;
  data: unknown;
}

export interface GitHubClient {
  /** Octokit's request: a route like "GET /repos/{owner}/{repo}/issues/{issue_number}/comments" and its parameters. */
  request(route: string, params?: Record<string, unknown>): Promise<ApiResponse>;
}

export const API_VERSION = '2022-11-28';
export const USER_AGENT = 'pvbench-action';

/** An Octokit client for `token` against `baseUrl` (GITHUB_API_URL, read now rather than at module load). */
export function createClient(token: string, baseUrl: string = process.env.GITHUB_API_URL || 'https://api.github.com', timeoutMs = 60_000): GitHubClient {
  const octokit = getOctokit(token, { baseUrl: baseUrl.replace(/\/+$/, ''), userAgent: USER_AGENT });
  return {
    request: async (route, params = {}) => {
      const headers = { 'x-github-api-version': API_VERSION, ...((params.headers as Record<string, string> | undefined) ?? {}) };
      // Every request has a time limit: a stalled API must not hold the job until the runner's timeout.
      const request = { signal: AbortSignal.timeout(timeoutMs), ...((params.request as Record<string, unknown> | undefined) ?? {}) };
      const res = await octokit.request(route, { ...params, headers, request });
      return { status: res.status, url: res.url, headers: res.headers as ApiResponse['headers'], data: res.data as unknown };
    },
  };
}

/** The HTTP status of a failed request (Octokit's RequestError), or undefined for other errors. */
export function errorStatus(err: unknown): number | undefined {
  const s = (err as { status?: unknown } | null)?.status;
  return typeof s === 'number' ? s : undefined;
}

/** The API's error message (its JSON `message`), else the error's own message. */
export function errorMessage(err: unknown): string {
  const data = (err as { response?: { data?: unknown } } | null)?.response?.data;
  const m = (data as { message?: unknown } | undefined)?.message;
  if (typeof m === 'string' && m) return m;
  return err instanceof Error ? err.message : String(err);
}

/** The URL of the `rel="next"` page in a Link header, if any. */
export function nextLink(link: string | number | undefined): string | undefined {
  if (typeof link !== 'string') return undefined;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="([^"]+)"/.exec(part.trim());
    if (m && m[2]?.split(/\s+/).includes('next')) return m[1];
  }
  return undefined;
}
