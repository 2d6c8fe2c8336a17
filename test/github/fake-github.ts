// A local stand-in for api.github.com, strict the way the API is about what it is sent: the Authorization header
// (401 with GitHub's JSON error shape otherwise), User-Agent and Accept headers, paths, payload shapes (422),
// write permission (403 "Resource not accessible by integration" for a fork's read-only token), pagination with
// Link headers, and artifact downloads by 302 to a signed "blob storage" URL that refuses an Authorization header.
// Its state (comments, runs, artifacts, requests) is public for tests to inspect and arrange.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

export type TokenKind = 'write' | 'read';

export interface FakeComment {
  id: number;
  node_id: string;
  issue: number;
  body: string;
  user: { login: string; id: number; type: string };
  created_at: string;
  updated_at: string;
}

export interface FakeRun {
  id: number;
  run_number: number;
  workflow_id: number;
  head_branch: string;
  head_sha: string;
  event: string;
  status: 'completed' | 'in_progress' | 'queued';
  conclusion: 'success' | 'failure' | 'cancelled' | null;
  created_at: string;
  head_repository?: string;
}

export interface FakeArtifact {
  id: number;
  runId: number;
  name: string;
  zip: Buffer;
  expired: boolean;
  created_at: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body?: string;
  status: number;
}

export interface FakeGitHubOptions {
  owner?: string;
  repo?: string;
  /** token → what it may do. */
  tokens?: Record<string, TokenKind>;
  /** Issue / pull request numbers that exist. */
  issues?: number[];
  /** Workflow files, e.g. ["bench.yml"]. */
  workflows?: string[];
  /** The bot user comments are created as. */
  login?: string;
}

const DOCS = 'https://docs.github.com/rest';
const MAX_BODY = 65536;

export class FakeGitHub {
  readonly owner: string;
  readonly repo: string;
  readonly tokens: Record<string, TokenKind>;
  readonly issues: Set<number>;
  readonly workflows: { id: number; path: string }[];
  readonly login: string;
  readonly comments: FakeComment[] = [];
  readonly runs: FakeRun[] = [];
  readonly artifacts: FakeArtifact[] = [];
  readonly requests: RecordedRequest[] = [];
  /** Blob downloads: accepted and refused. */
  readonly blobRequests: { path: string; hadAuthorization: boolean; status: number }[] = [];
  url = '';
  private server?: Server;
  private nextId = 1000;
  private readonly signatures = new Map<string, { artifactId: number; expires: number }>();

  constructor(o: FakeGitHubOptions = {}) {
    this.owner = o.owner ?? 'acme';
    this.repo = o.repo ?? 'mesh';
    this.tokens = o.tokens ?? { 'ghs_writeTokenForTests0123456789': 'write' };
    this.issues = new Set(o.issues ?? [7]);
    this.workflows = (o.workflows ?? ['bench.yml']).map((path, i) => ({ id: 9000 + i, path: `.github/workflows/${path}` }));
    this.login = o.login ?? 'github-actions[bot]';
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.json(res, 500, { message: `fake server error: ${String(err)}`, documentation_url: DOCS });
        else res.destroy();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this.url;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  // ---- arranging state ----

  addComment(issue: number, body: string, login = 'someone'): FakeComment {
    const now = new Date().toISOString();
    const id = this.nextId++;
    const c: FakeComment = { id, node_id: `IC_${id}`, issue, body, user: { login, id: 1, type: login.endsWith('[bot]') ? 'Bot' : 'User' }, created_at: now, updated_at: now };
    this.comments.push(c);
    return c;
  }

  addRun(r: Partial<FakeRun> & { head_branch: string }): FakeRun {
    const id = this.nextId++;
    const run: FakeRun = {
      id,
      run_number: this.runs.length + 1,
      workflow_id: this.workflows[0]!.id,
      head_sha: randomBytes(20).toString('hex'),
      event: 'push',
      status: 'completed',
      conclusion: 'success',
      created_at: new Date(Date.now() + this.runs.length * 1000).toISOString(),
      ...r,
    };
    this.runs.push(run);
    return run;
  }

  addArtifact(runId: number, name: string, zip: Buffer, o: { expired?: boolean } = {}): FakeArtifact {
    const a: FakeArtifact = { id: this.nextId++, runId, name, zip, expired: o.expired ?? false, created_at: new Date().toISOString() };
    this.artifacts.push(a);
    return a;
  }

  commentsOn(issue: number): FakeComment[] {
    return this.comments.filter((c) => c.issue === issue).sort((a, b) => a.id - b.id);
  }

  // ---- HTTP ----

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
      'x-github-media-type': 'github.v3; format=json',
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4999',
      ...headers,
    });
    res.end(text);
  }

  private error(res: ServerResponse, status: number, message: string, doc = DOCS, extra: Record<string, unknown> = {}): void {
    this.json(res, status, { message, documentation_url: doc, status: String(status), ...extra });
  }

  private async readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > 2 * 1024 * 1024) throw new Error('request body too large');
      chunks.push(c as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  private commentJson(c: FakeComment): Record<string, unknown> {
    const api = `${this.url}/repos/${this.owner}/${this.repo}`;
    return {
      id: c.id,
      node_id: c.node_id,
      url: `${api}/issues/comments/${c.id}`,
      html_url: `https://github.com/${this.owner}/${this.repo}/pull/${c.issue}#issuecomment-${c.id}`,
      issue_url: `${api}/issues/${c.issue}`,
      body: c.body,
      user: c.user,
      created_at: c.created_at,
      updated_at: c.updated_at,
      author_association: 'NONE',
    };
  }

  private runJson(r: FakeRun): Record<string, unknown> {
    const wf = this.workflows.find((w) => w.id === r.workflow_id)!;
    return {
      id: r.id,
      name: 'bench',
      run_number: r.run_number,
      workflow_id: r.workflow_id,
      path: wf.path,
      head_branch: r.head_branch,
      head_sha: r.head_sha,
      event: r.event,
      status: r.status,
      conclusion: r.conclusion,
      created_at: r.created_at,
      updated_at: r.created_at,
      html_url: `https://github.com/${this.owner}/${this.repo}/actions/runs/${r.id}`,
      artifacts_url: `${this.url}/repos/${this.owner}/${this.repo}/actions/runs/${r.id}/artifacts`,
      head_repository: { full_name: r.head_repository ?? `${this.owner}/${this.repo}` },
      repository: { full_name: `${this.owner}/${this.repo}` },
    };
  }

  private artifactJson(a: FakeArtifact): Record<string, unknown> {
    const run = this.runs.find((r) => r.id === a.runId);
    const api = `${this.url}/repos/${this.owner}/${this.repo}`;
    return {
      id: a.id,
      node_id: `MDg6QXJ0aWZhY3Q${a.id}`,
      name: a.name,
      size_in_bytes: a.zip.length,
      url: `${api}/actions/artifacts/${a.id}`,
      archive_download_url: `${api}/actions/artifacts/${a.id}/zip`,
      expired: a.expired,
      created_at: a.created_at,
      updated_at: a.created_at,
      expires_at: new Date(Date.parse(a.created_at) + 90 * 86400_000).toISOString(),
      workflow_run: run ? { id: run.id, head_branch: run.head_branch, head_sha: run.head_sha, repository_id: 1, head_repository_id: 1 } : null,
    };
  }

  /** Page a list the way the API does: per_page (default 30, max 100), page, and a Link header. */
  private paged<T>(req: URL, items: T[]): { page: T[]; link?: string } {
    const perPage = Math.min(100, Math.max(1, Number(req.searchParams.get('per_page') ?? 30) || 30));
    const pageNo = Math.max(1, Number(req.searchParams.get('page') ?? 1) || 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const page = items.slice((pageNo - 1) * perPage, pageNo * perPage);
    const link = (n: number, rel: string) => {
      const u = new URL(req.toString());
      u.searchParams.set('per_page', String(perPage));
      u.searchParams.set('page', String(n));
      return `<${u.toString()}>; rel="${rel}"`;
    };
    const parts: string[] = [];
    if (pageNo > 1) parts.push(link(pageNo - 1, 'prev'));
    if (pageNo < last) parts.push(link(pageNo + 1, 'next'), link(last, 'last'));
    if (pageNo > 1) parts.push(link(1, 'first'));
    return { page, link: parts.length ? parts.join(', ') : undefined };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    const body = method === 'GET' || method === 'HEAD' ? '' : await this.readBody(req);
    const record: RecordedRequest = { method, path: url.pathname, query: Object.fromEntries(url.searchParams), headers: { ...req.headers }, body: body || undefined, status: 0 };
    res.on('finish', () => {
      record.status = res.statusCode;
    });

    // Blob storage: a different service behind a signed URL. It never wants the API token.
    if (url.pathname.startsWith('/_blobs/')) {
      const hadAuthorization = req.headers.authorization !== undefined;
      const sig = url.searchParams.get('sig') ?? '';
      const grant = this.signatures.get(sig);
      let status = 200;
      if (hadAuthorization) {
        status = 400;
        res.writeHead(400, { 'content-type': 'application/xml' });
        res.end('<?xml version="1.0" encoding="utf-8"?><Error><Code>InvalidAuthenticationInfo</Code><Message>Authentication information is not given in the correct format. Check the value of Authorization header.</Message></Error>');
      } else if (!grant || grant.expires < Date.now() || url.pathname !== `/_blobs/artifact-${grant.artifactId}.zip`) {
        status = 403;
        res.writeHead(403, { 'content-type': 'application/xml' });
        res.end('<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code><Message>Signature not valid or expired.</Message></Error>');
      } else {
        const a = this.artifacts.find((x) => x.id === grant.artifactId)!;
        res.writeHead(200, { 'content-type': 'application/zip', 'content-length': String(a.zip.length) });
        res.end(a.zip);
      }
      this.blobRequests.push({ path: url.pathname, hadAuthorization, status });
      return;
    }
    this.requests.push(record);

    // Headers every API request needs.
    if (!req.headers['user-agent']) {
      return this.error(res, 403, 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required).');
    }
    const accept = req.headers.accept ?? '';
    if (!accept || !/application\/(vnd\.github(\.v3)?(\+json)?|json)|\*\/\*/.test(accept)) {
      return this.error(res, 415, `Unsupported 'Accept' header: ${JSON.stringify(accept)}. Must accept 'application/json'.`, `${DOCS}/overview/media-types`);
    }
    const auth = req.headers.authorization;
    if (!auth) return this.error(res, 401, 'Requires authentication', `${DOCS}/overview/authenticating-to-the-rest-api`);
    const m = /^(token|bearer)\s+(\S+)$/i.exec(auth);
    const kind = m ? this.tokens[m[2]!] : undefined;
    if (!kind) return this.error(res, 401, 'Bad credentials', DOCS);

    const repoPrefix = `/repos/${this.owner}/${this.repo}`;
    const p = url.pathname;
    if (!p.toLowerCase().startsWith(repoPrefix.toLowerCase() + '/')) return this.error(res, 404, 'Not Found', DOCS);
    const rest = p.slice(repoPrefix.length);
    let mm: RegExpExecArray | null;

    // Issue comments.
    if ((mm = /^\/issues\/(\d+)\/comments$/.exec(rest))) {
      const issue = Number(mm[1]);
      if (!this.issues.has(issue)) return this.error(res, 404, 'Not Found', `${DOCS}/issues/comments#list-issue-comments`);
      if (method === 'GET') {
        const { page, link } = this.paged(url, this.commentsOn(issue));
        return this.json(res, 200, page.map((c) => this.commentJson(c)), link ? { link } : {});
      }
      if (method === 'POST') {
        if (kind !== 'write') return this.error(res, 403, 'Resource not accessible by integration', `${DOCS}/issues/comments#create-an-issue-comment`);
        const payload = this.commentPayload(res, body, req.headers['content-type']);
        if (payload === undefined) return;
        const c = this.addComment(issue, payload, this.login);
        return this.json(res, 201, this.commentJson(c), { location: `${this.url}${repoPrefix}/issues/comments/${c.id}` });
      }
      return this.error(res, 404, 'Not Found', DOCS);
    }
    if ((mm = /^\/issues\/comments\/(\d+)$/.exec(rest))) {
      const c = this.comments.find((x) => x.id === Number(mm![1]));
      if (!c) return this.error(res, 404, 'Not Found', `${DOCS}/issues/comments#update-an-issue-comment`);
      if (method === 'GET') return this.json(res, 200, this.commentJson(c));
      if (method === 'PATCH') {
        if (kind !== 'write') return this.error(res, 403, 'Resource not accessible by integration', `${DOCS}/issues/comments#update-an-issue-comment`);
        const payload = this.commentPayload(res, body, req.headers['content-type']);
        if (payload === undefined) return;
        c.body = payload;
        c.updated_at = new Date().toISOString();
        return this.json(res, 200, this.commentJson(c));
      }
      return this.error(res, 404, 'Not Found', DOCS);
    }

    // Actions: workflow runs, run artifacts, artifact download.
    if (method !== 'GET') return this.error(res, 404, 'Not Found', DOCS);
    if ((mm = /^\/actions\/workflows\/([^/]+)\/runs$/.exec(rest))) {
      const key = decodeURIComponent(mm[1]!);
      const wf = this.workflows.find((w) => String(w.id) === key || w.path.endsWith(`/${key}`));
      if (!wf) return this.error(res, 404, 'Not Found', `${DOCS}/actions/workflow-runs#list-workflow-runs-for-a-workflow`);
      const branch = url.searchParams.get('branch');
      const status = url.searchParams.get('status');
      const event = url.searchParams.get('event');
      const runs = this.runs
        .filter((r) => r.workflow_id === wf.id)
        .filter((r) => !branch || r.head_branch === branch)
        .filter((r) => !event || r.event === event)
        .filter((r) => !status || r.status === status || r.conclusion === status)
        .sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id - a.id);
      const { page, link } = this.paged(url, runs);
      return this.json(res, 200, { total_count: runs.length, workflow_runs: page.map((r) => this.runJson(r)) }, link ? { link } : {});
    }
    if ((mm = /^\/actions\/runs\/(\d+)\/artifacts$/.exec(rest))) {
      const run = this.runs.find((r) => r.id === Number(mm![1]));
      if (!run) return this.error(res, 404, 'Not Found', `${DOCS}/actions/artifacts#list-workflow-run-artifacts`);
      const name = url.searchParams.get('name');
      const list = this.artifacts.filter((a) => a.runId === run.id && (!name || a.name === name));
      const { page, link } = this.paged(url, list);
      return this.json(res, 200, { total_count: list.length, artifacts: page.map((a) => this.artifactJson(a)) }, link ? { link } : {});
    }
    if ((mm = /^\/actions\/artifacts\/(\d+)\/([^/]+)$/.exec(rest))) {
      const a = this.artifacts.find((x) => x.id === Number(mm![1]));
      if (!a) return this.error(res, 404, 'Not Found', `${DOCS}/actions/artifacts#download-an-artifact`);
      if (mm[2] !== 'zip') return this.error(res, 422, 'Validation Failed: archive_format must be zip', `${DOCS}/actions/artifacts#download-an-artifact`);
      if (a.expired) return this.error(res, 410, 'Artifact has expired', `${DOCS}/actions/artifacts#download-an-artifact`);
      const sig = randomBytes(12).toString('hex');
      this.signatures.set(sig, { artifactId: a.id, expires: Date.now() + 60_000 });
      res.writeHead(302, { location: `${this.url}/_blobs/artifact-${a.id}.zip?sig=${sig}&se=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, 'content-length': '0' });
      res.end();
      return;
    }
    return this.error(res, 404, 'Not Found', DOCS);
  }

  /** The `body` of a create/update comment request, or undefined after answering 400/422 the way the API does. */
  private commentPayload(res: ServerResponse, raw: string, contentType: string | undefined): string | undefined {
    let data: unknown;
    try {
      data = JSON.parse(raw);
    } catch {
      this.error(res, 400, 'Problems parsing JSON', `${DOCS}/issues/comments`);
      return undefined;
    }
    if (contentType && !/json/i.test(contentType)) {
      this.error(res, 415, 'Unsupported Media Type', `${DOCS}/issues/comments`);
      return undefined;
    }
    const b = (data as { body?: unknown } | null)?.body;
    if (typeof data !== 'object' || data === null || Array.isArray(data) || typeof b !== 'string') {
      this.error(res, 422, `Invalid request.\n\nFor 'properties/body', ${b === undefined ? 'nil' : JSON.stringify(b)} is not a string.`, `${DOCS}/issues/comments#create-an-issue-comment`);
      return undefined;
    }
    if (b.length > MAX_BODY) {
      this.json(res, 422, {
        message: 'Validation Failed',
        errors: [{ resource: 'IssueComment', code: 'custom', field: 'body', message: `body is too long (maximum is ${MAX_BODY} characters)` }],
        documentation_url: `${DOCS}/issues/comments#create-an-issue-comment`,
        status: '422',
      });
      return undefined;
    }
    return b;
  }
}
