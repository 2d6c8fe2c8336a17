// A small REST client for the Kubernetes API over @kubernetes/client-node's KubeConfig (which supplies the server,
// TLS material, tokens and exec/OIDC authenticators). Raw HTTP rather than the generated clients because pvbench
// talks to custom resources, subresources (pods/log, node proxy), watches and aggregated APIs alike, and one
// uniform path-based client is what the fake API server in the tests can exercise end to end.
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** A Kubernetes object as far as pvbench needs to know. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name?: string;
    generateName?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
    uid?: string;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    ownerReferences?: unknown[];
    finalizers?: string[];
  };
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  status?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  [key: string]: unknown;
}

export interface KubeList<T = KubeObject> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

/** Where a kind of object lives in the API: `v1` + `pods`, `velero.io/v1` + `backups`. */
export interface ResourceRef {
  apiVersion: string;
  plural: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export function apiBase(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

export function resourcePath(ref: ResourceRef): string {
  let p = apiBase(ref.apiVersion);
  if (ref.namespace !== undefined) p += `/namespaces/${encodeURIComponent(ref.namespace)}`;
  p += `/${ref.plural}`;
  if (ref.name !== undefined) p += `/${encodeURIComponent(ref.name)}`;
  if (ref.subresource !== undefined) p += `/${ref.subresource}`;
  return p;
}

/** A failed API call, with the Status the server returned (reason NotFound, AlreadyExists, Conflict, Invalid, Forbidden ...). */
export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly method: string;
  readonly path: string;
  readonly body: string;
  constructor(method: string, path: string, status: number, reason: string, message: string, body: string) {
    super(`${method} ${path}: ${status} ${reason}: ${message}`);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = reason;
    this.method = method;
    this.path = path;
    this.body = body;
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 404;
}
export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 409;
}
export function isGone(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 410;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Default application/json; merge-patch+json for patch(). */
  contentType?: string;
  accept?: string;
  /** Per-request timeout; every request has one. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface StreamOptions {
  query?: Query;
  /** Default application/json (watch); '*' + '/*' for pod logs. */
  accept?: string;
  signal?: AbortSignal;
  /** Hard upper bound of the stream's life. */
  timeoutMs: number;
}

/** What pvbench needs from the API server; the real one talks HTTP, tests may wrap it. */
export interface Kube {
  /** "https://127.0.0.1:6443 (context kind-pvbench)". */
  describe(): string;
  request<T = unknown>(method: string, path: string, opts?: RequestOptions): Promise<T>;
  /** A text body (pods/log, node proxy metrics). */
  text(path: string, opts?: RequestOptions): Promise<string>;
  /**
   * A streaming GET (watch, log follow): calls `onLine` per line as it arrives. Resolves when the server ends the
   * stream (or the signal aborts / the timeout passes: then it resolves too, with `ended: 'aborted' | 'timeout'`).
   */
  stream(path: string, onLine: (line: string) => void, opts: StreamOptions): Promise<{ ended: 'server' | 'aborted' | 'timeout' }>;
}

const DEFAULT_TIMEOUT_MS = 30_000;

function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

function parseStatus(body: string): { reason: string; message: string } {
  try {
    const s = JSON.parse(body) as { reason?: string; message?: string };
    return { reason: s.reason ?? '', message: s.message ?? body.slice(0, 300) };
  } catch {
    return { reason: '', message: body.slice(0, 300) };
  }
}

/** The API server of one kubeconfig context. */
export class HttpKube implements Kube {
  private readonly kc: KubeConfig;
  private readonly server: URL;

  constructor(kc: KubeConfig) {
    this.kc = kc;
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error(`the kubeconfig has no cluster for context "${kc.getCurrentContext()}"`);
    this.server = new URL(cluster.server);
  }

  describe(): string {
    return `${this.server.origin} (context ${this.kc.getCurrentContext()})`;
  }

  private async options(method: string, path: string, headers: Record<string, string>): Promise<https.RequestOptions> {
    const opts: https.RequestOptions = { method, headers: { ...headers } };
    await this.kc.applyToHTTPSOptions(opts);
    const base = this.server.pathname.replace(/\/$/, '');
    opts.protocol = this.server.protocol;
    opts.hostname = this.server.hostname.replace(/^\[|\]$/g, '');
    opts.port = this.server.port || (this.server.protocol === 'https:' ? 443 : 80);
    opts.path = base + path;
    return opts;
  }

  private send(
    method: string,
    path: string,
    opts: RequestOptions,
    onResponse: (res: http.IncomingMessage, req: http.ClientRequest) => void,
    onRequest?: (req: http.ClientRequest) => void,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const headers: Record<string, string> = { Accept: opts.accept ?? 'application/json' };
      let payload: Buffer | undefined;
      if (opts.body !== undefined) {
        payload = Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
        headers['Content-Type'] = opts.contentType ?? 'application/json';
        headers['Content-Length'] = String(payload.length);
      }
      this.options(method, withQuery(path, opts.query), headers).then((o) => {
        const mod = o.protocol === 'http:' ? http : https;
        const req = mod.request(o, (res) => onResponse(res, req));
        onRequest?.(req);
        req.on('error', reject);
        req.on('close', () => resolve());
        if (payload) req.write(payload);
        req.end();
      }, reject);
    });
  }

  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const body = await this.raw(method, path, opts);
    return (body ? JSON.parse(body) : undefined) as T;
  }

  text(path: string, opts: RequestOptions = {}): Promise<string> {
    return this.raw('GET', path, { accept: '*/*', ...opts });
  }

  private raw(method: string, path: string, opts: RequestOptions): Promise<string> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise<string>((resolve, reject) => {
      let done = false;
      let request: http.ClientRequest | undefined;
      const finish = (err: Error | undefined, value?: string) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        if (err) {
          request?.destroy();
          reject(err);
        } else resolve(value ?? '');
      };
      const timer = setTimeout(() => finish(new Error(`${method} ${path}: no answer from the API server within ${timeoutMs} ms`)), timeoutMs);
      const onAbort = () => finish(new Error(`${method} ${path}: aborted`));
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.send(method, path, opts, (res, req) => {
        request = req;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => finish(e));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return finish(undefined, body);
          const s = parseStatus(body);
          finish(new KubeApiError(method, path, status, s.reason || res.statusMessage || '', s.message, body));
        });
      }, (req) => {
        request = req;
        // Timed out or aborted before the request existed: end it now.
        if (done) req.destroy();
      }).catch((e: unknown) => finish(e instanceof Error ? e : new Error(String(e))));
    });
  }

  stream(path: string, onLine: (line: string) => void, opts: StreamOptions): Promise<{ ended: 'server' | 'aborted' | 'timeout' }> {
    return new Promise((resolve, reject) => {
      let done = false;
      let responded = false;
      let request: http.ClientRequest | undefined;
      const finish = (result: { ended: 'server' | 'aborted' | 'timeout' } | Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        request?.destroy();
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      const timer = setTimeout(() => finish({ ended: 'timeout' }), opts.timeoutMs);
      const onAbort = () => finish({ ended: 'aborted' });
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.send('GET', path, { query: opts.query, accept: opts.accept ?? 'application/json' }, (res, req) => {
        request = req;
        responded = true;
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            const s = parseStatus(body);
            finish(new KubeApiError('GET', path, status, s.reason || res.statusMessage || '', s.message, body));
          });
          return;
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let nl = buffered.indexOf('\n');
          while (nl >= 0) {
            const line = buffered.slice(0, nl);
            buffered = buffered.slice(nl + 1);
            if (line.trim() && !done) onLine(line);
            nl = buffered.indexOf('\n');
          }
        });
        const end = () => {
          if (buffered.trim() && !done) onLine(buffered);
          buffered = '';
          finish({ ended: 'server' });
        };
        res.on('end', end);
        res.on('aborted', end);
        res.on('error', end);
        res.on('close', end);
      }, (req) => {
        request = req;
        if (done) req.destroy();
      })
        .then(() => finish({ ended: 'server' }))
        .catch((e: unknown) => {
          // A connection reset mid-stream is a dropped watch, not a failure: the caller resumes.
          if (responded) finish({ ended: 'server' });
          else finish(e instanceof Error ? e : new Error(String(e)));
        });
    });
  }
}

// --- typed helpers over any Kube ---------------------------------------------------------------------------

export function getObject<T extends KubeObject = KubeObject>(kube: Kube, ref: ResourceRef & { name: string }, opts?: RequestOptions): Promise<T> {
  return kube.request<T>('GET', resourcePath(ref), opts);
}

/** The object, or undefined when it does not exist. */
export async function findObject<T extends KubeObject = KubeObject>(kube: Kube, ref: ResourceRef & { name: string }): Promise<T | undefined> {
  try {
    return await getObject<T>(kube, ref);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export function listObjects<T extends KubeObject = KubeObject>(
  kube: Kube,
  ref: ResourceRef,
  query?: { labelSelector?: string; fieldSelector?: string },
  opts?: RequestOptions,
): Promise<KubeList<T>> {
  return kube.request<KubeList<T>>('GET', resourcePath(ref), { ...opts, query: { ...opts?.query, ...query } });
}

/** Create an object whose apiVersion/kind/metadata say where it goes. */
export function createObject<T extends KubeObject = KubeObject>(kube: Kube, plural: string, obj: KubeObject, opts?: RequestOptions): Promise<T> {
  if (!obj.apiVersion) throw new Error(`createObject: ${plural} object without apiVersion`);
  return kube.request<T>('POST', resourcePath({ apiVersion: obj.apiVersion, plural, namespace: obj.metadata.namespace }), { ...opts, body: obj });
}

/** Create, or leave alone when it already exists (returns the existing object). */
export async function ensureObject<T extends KubeObject = KubeObject>(kube: Kube, plural: string, obj: KubeObject): Promise<T> {
  try {
    return await createObject<T>(kube, plural, obj);
  } catch (err) {
    if (!isConflict(err) || !obj.metadata.name) throw err;
    return getObject<T>(kube, { apiVersion: obj.apiVersion!, plural, namespace: obj.metadata.namespace, name: obj.metadata.name });
  }
}

export function patchObject<T extends KubeObject = KubeObject>(kube: Kube, ref: ResourceRef & { name: string }, patch: unknown, opts?: RequestOptions): Promise<T> {
  return kube.request<T>('PATCH', resourcePath(ref), { ...opts, body: patch, contentType: 'application/merge-patch+json' });
}

/** Delete; a missing object is not an error. Returns whether a delete was issued for an existing object. */
export async function deleteObject(
  kube: Kube,
  ref: ResourceRef & { name: string },
  opts: { gracePeriodSeconds?: number; propagationPolicy?: 'Foreground' | 'Background' | 'Orphan' } = {},
): Promise<boolean> {
  try {
    await kube.request('DELETE', resourcePath(ref), {
      body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: opts.gracePeriodSeconds, propagationPolicy: opts.propagationPolicy ?? 'Background' },
    });
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** Delete every object matching a label selector (one by one: not every API serves DELETE on collections). */
export async function deleteMatching(kube: Kube, ref: ResourceRef, labelSelector: string, opts?: { gracePeriodSeconds?: number }): Promise<string[]> {
  let list: KubeList;
  try {
    list = await listObjects(kube, ref, { labelSelector });
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
  const deleted: string[] = [];
  for (const item of list.items) {
    const name = item.metadata.name;
    if (!name) continue;
    if (await deleteObject(kube, { ...ref, namespace: item.metadata.namespace ?? ref.namespace, name }, opts)) deleted.push(name);
  }
  return deleted;
}

/** Does the API server serve this group/version and resource? (discovery) */
export async function servesResource(kube: Kube, apiVersion: string, plural: string): Promise<boolean> {
  try {
    const list = await kube.request<{ resources?: { name: string }[] }>('GET', apiBase(apiVersion));
    return (list.resources ?? []).some((r) => r.name === plural);
  } catch (err) {
    if (err instanceof KubeApiError && (err.status === 404 || err.status === 503)) return false;
    throw err;
  }
}
