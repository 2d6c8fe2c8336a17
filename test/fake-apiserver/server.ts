// TEST-ONLY fake Kubernetes API server (plain HTTP on 127.0.0.1, bearer-token auth) for testing the Kubernetes
// adapters without a cluster. It follows the REST conventions a real apiserver has, validates every custom resource
// against its upstream CRD schema (rejecting unknown fields), and lets a test play the controllers.
//
// ── Starting ────────────────────────────────────────────────────────────────────────────────────────────────────
//   import { startFakeApiServer } from '../fake-apiserver/server.ts';
//   const server = await startFakeApiServer({ namespaces: ['velero', 'app'], nodes: ['node-1'] });
//   const kc = new KubeConfig(); kc.loadFromString(server.kubeconfigYaml());   // context namespace: 'default'
//   // or: process.env.KUBECONFIG = server.writeKubeconfig(); kc.loadFromDefault();
//   (The cluster entry is http://127.0.0.1:<port> with insecure-skip-tls-verify: true, which client-node requires
//   for plain-http servers; the user entry has a bearer token, checked on every API request.)
//   ... after(() => server.close());
//
// Options (all optional): crdsDir (default $PVBENCH_CRDS_DIR or <repo>/../shared/crds), crds (groups or CRD names to
// serve, default all; [] serves none), namespaces (created besides default, kube-system, kube-public,
// kube-node-lease), nodes (Ready nodes to create), objects (created at start, server-side), token, user (name in
// Forbidden messages), deny (access rules, see below), metricsApi (serve metrics.k8s.io/v1beta1 PodMetrics and
// NodeMetrics), historyLimit (watch history kept, default 10000 events), bookmarkIntervalMs (periodic BOOKMARKs for
// allowWatchBookmarks watches, default 60000, 0 = only on demand), kubernetesVersion (default v1.31.0).
//
// ── Server-side store access (no auth, no admission; writes bump resourceVersion and notify watchers/hooks) ──────
//   get(apiVersion, kindOrPlural, namespace | undefined, name): KubeObject | undefined      (a copy)
//   list(apiVersion, kindOrPlural, namespace?, { labelSelector? }): KubeObject[]
//   put(obj, { validate = true }): KubeObject        create or fully replace (status as given); CRs schema-validated
//   update(apiVersion, kind, ns, name, (draft) => void | KubeObject, { validate = true }): KubeObject  read-modify-write
//     (validation includes the immutability rules: pod spec, PVC spec, Job template, CEL transition rules)
//   setStatus(apiVersion, kind, ns, name, status | (old) => status): KubeObject             replaces .status
//   patchStatus(apiVersion, kind, ns, name, mergePatch): KubeObject                        merge-patches .status
//   delete(apiVersion, kind, ns, name, { force? }): KubeObject | undefined   honours finalizers unless force
//   removeFinalizers(apiVersion, kind, ns, name, ...finalizers): KubeObject | undefined  (none listed = all)
//   resourceVersion(): string;  compact(): string   (drops watch history: older resourceVersions now get 410)
//   crds: CrdIndex (what is served);  requests: RequestRecord[] ({ method, path, query, body, contentType, verb,
//   status, watch }) for every API request;  hookErrors: unknown[] (exceptions thrown by hooks)
//
// ── Playing a controller ────────────────────────────────────────────────────────────────────────────────────────
//   on('create' | 'update' | 'delete', [filter,] handler) → unsubscribe function. Events mirror watch events:
//   'create' = ADDED, 'update' = MODIFIED (spec, metadata, status, or deletionTimestamp being set),
//   'delete' = DELETED (gone from the store). filter: { apiVersion?, kind? (kind, plural, singular or short name),
//   namespace?, name? }. handler(obj, ctx: { event, old?, subresource?, source: 'api' | 'server', server }) runs
//   asynchronously after the write (like a controller reacting to a watch), may be async, and sees server-side
//   writes too (check ctx.source / ctx.old to avoid loops). Shorthands: onCreate / onUpdate / onDelete(apiVersion,
//   kindOrPlural, handler). idle(timeoutMs?) resolves once every queued hook (and namespace cleanup / garbage
//   collection) has finished.
//   onAdmit(apiVersion, kindOrPlural, handler(obj, { operation: 'CREATE'|'UPDATE'|'DELETE', old?, subresource? }))
//   runs synchronously on API writes before validation; it may mutate obj, or return { message, code?, reason? }
//   to deny (default 403 Forbidden: `admission webhook "fake.pvbench.test" denied the request: <message>`).
//   waitFor(apiVersion, kind, ns, name, predicate, timeoutMs = 5000): Promise<KubeObject>
//   waitForRequest(predicate, timeoutMs = 5000): Promise<RequestRecord>
//
// ── Streams, faults, access ─────────────────────────────────────────────────────────────────────────────────────
//   dropWatches({ abrupt? }): number   ends every open watch (abrupt: destroys the sockets); openWatches(): number
//   sendBookmarks(): sends a BOOKMARK on every watch that asked for them
//   injectFault({ method?, path? (substring or RegExp on the path), verb?, resource?, watch? },
//               { code?, reason?, message?, retryAfterSeconds?, times = 1, destroy?, delayMs? }): { hits, remove() }
//   setDeny(rules): DenyRule = { verb?, group?, resource? ('pods' or 'pods/log'), subresource?, namespace?, name? }
//     (each a string, string[] or '*'; absent = any). A denied API request gets 403 Forbidden and
//     SelfSubjectAccessReviews answer allowed: false.
//   setPodLog(ns, pod, text, container?) / appendPodLog(...) / endPodLog(ns, pod, container?)   for pods/log
//     (container defaults to the pod's first; follow=true streams what setPodLog/appendPodLog add until the pod
//     succeeds/fails, is deleted, endPodLog or close)
//   setNodeMetrics(node, prometheusText)   for GET /api/v1/nodes/<n>/proxy/metrics/resource (default: generated)
//   setNodeProxy(node, path, body, contentType?)   any other nodes/<n>/proxy/<path>
//   setPodMetrics(ns, pod, [{ name, cpu, memory }])   PodMetrics object (needs metricsApi)
//   onExec(handler(req: { namespace, pod, container, command, stdin }) => { stdout?, stderr?, exitCode? })
//     pods/exec over WebSocket (v4/v5.channel.k8s.io, non-interactive: stdin is collected until the client closes
//     it, output is sent in one piece). Without a handler, exec answers 400 "not supported by the fake apiserver".
//
// ── REST behaviour ──────────────────────────────────────────────────────────────────────────────────────────────
// /api, /apis, /api/v1, /apis/<g>, /apis/<g>/<v> discovery (CRD plurals, namespaced flag, verbs, '<plural>/status');
// /version, /healthz, /readyz, /livez (no auth). GET/LIST (labelSelector =,==,!=,in,notin,exists,!exists;
// fieldSelector metadata.name, metadata.namespace and the kind's usual fields, others 400; limit/continue),
// POST (generateName, 409 AlreadyExists, 422 Invalid with details.causes, 404 when the namespace is missing, 403 in a
// terminating namespace), PUT (409 Conflict on stale resourceVersion; custom resources require resourceVersion),
// PATCH (merge, json, apply (approximate, no field ownership), strategic merge for built-ins (approximate);
// custom resources answer strategic merge with 415 like a real server), DELETE (preconditions, finalizers keep the
// object with deletionTimestamp until removed, background garbage collection through ownerReferences, Job default
// orphan; a completed delete answers the object for pods, PVCs, PVs, services, service accounts, storage classes and
// namespaces, a Success Status for the rest, custom resources included), DELETE collection, /status subresource,
// namespace deletion (Terminating, contents deleted, then gone), dryRun=All on create/update/patch/delete,
// WATCH (?watch=1|true and /watch/ paths; ADDED/MODIFIED/DELETED/BOOKMARK/ERROR lines; resourceVersion; 410 Expired
// ERROR for compacted versions; selectors with transitions; timeoutSeconds; allowWatchBookmarks; sendInitialEvents),
// no-op updates do not bump resourceVersion, generation bumps on non-metadata (and, with a status subresource,
// non-status) changes. Built-in list items carry no apiVersion/kind, as from a real server.
// Built-in kinds get no schema validation, only ObjectMeta checks (names, labels, ...), the apiserver's create-time
// defaults (status reset, Job selector/labels, Service clusterIP, Secret stringData → data) and a few checks that
// catch common adapter mistakes (pod containers need name+image, Job restartPolicy, PVC accessModes/storage,
// Deployment/DaemonSet/StatefulSet selector must match the template, pod/PVC spec and Job template immutability).
// Not implemented: protobuf, tables, field ownership / managedFields, Foreground propagation (treated as
// Background), dry-run for deletecollection, CEL outside cel.ts's subset, conversion between CRD versions,
// pods/attach, port-forward, interactive exec.
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse, Server } from 'node:http';
import type { Socket } from 'node:net';
import { randomBytes, randomUUID, createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CrdIndex, loadCrds, parseCrd, validateObjectMeta, validateObjectDetailed, applyDefaults, formatFieldError, jsonType } from './schema.ts';
import type { FieldError } from './schema.ts';
import { builtinTypes, crdType, prepareBuiltinCreate, normalizeSecret, validateBuiltin, generateSuffix, BadRequest } from './resources.ts';
import type { KubeObject, ResourceType } from './resources.ts';
import { parseLabelSelector, parseFieldSelector, matchLabels, matchFields, SelectorError } from './selectors.ts';
import type { LabelRequirement, FieldRequirement } from './selectors.ts';
import { applyMergePatch, applyJsonPatch, applyStrategicMergePatch, applyApply, PatchError } from './patch.ts';
import { acceptWebSocket } from './websocket.ts';

export type { KubeObject, ResourceType } from './resources.ts';
export type { FieldError } from './schema.ts';

export interface DenyRule {
  verb?: string | string[];
  group?: string | string[];
  resource?: string | string[];
  subresource?: string | string[];
  namespace?: string | string[];
  name?: string | string[];
}

export interface FakeApiServerOptions {
  crdsDir?: string;
  crds?: string[];
  namespaces?: string[];
  nodes?: string[];
  objects?: KubeObject[];
  token?: string;
  user?: string;
  deny?: DenyRule[];
  metricsApi?: boolean;
  historyLimit?: number;
  bookmarkIntervalMs?: number;
  kubernetesVersion?: string;
}

export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  body?: unknown;
  contentType?: string;
  /** RBAC verb (get, list, watch, create, update, patch, delete, deletecollection) for resource requests. */
  verb?: string;
  /** HTTP status answered (set once the response starts). */
  status?: number;
  watch: boolean;
}

export type HookEvent = 'create' | 'update' | 'delete';

export interface HookContext {
  event: HookEvent;
  old?: KubeObject;
  subresource?: string;
  source: 'api' | 'server';
  server: FakeApiServer;
}

export type Hook = (obj: KubeObject, ctx: HookContext) => unknown;

export interface HookFilter {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
}

export interface AdmissionContext {
  operation: 'CREATE' | 'UPDATE' | 'DELETE';
  old?: KubeObject;
  subresource?: string;
}
export type AdmissionDenial = { message: string; code?: number; reason?: string };
export type AdmissionHook = (obj: KubeObject, ctx: AdmissionContext) => AdmissionDenial | void | undefined;

export interface FaultMatch {
  method?: string;
  path?: string | RegExp;
  verb?: string;
  resource?: string;
  watch?: boolean;
}
export interface Fault {
  code?: number;
  reason?: string;
  message?: string;
  retryAfterSeconds?: number;
  /** How many matching requests it applies to (default 1; Infinity for all). */
  times?: number;
  /** Destroy the connection instead of answering. */
  destroy?: boolean;
  /** Delay before answering (or, without code/destroy, before handling normally). */
  delayMs?: number;
}
export interface FaultHandle {
  readonly hits: number;
  remove(): void;
}

export interface ExecRequest {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  stdin: Buffer;
}
export interface ExecResult {
  stdout?: string | Buffer;
  stderr?: string | Buffer;
  exitCode?: number;
}
export type ExecHandler = (req: ExecRequest) => ExecResult | Promise<ExecResult>;

export interface FakeApiServer {
  readonly url: string;
  readonly token: string;
  readonly crds: CrdIndex;
  readonly requests: RequestRecord[];
  readonly hookErrors: unknown[];
  kubeconfigYaml(opts?: { namespace?: string; token?: string }): string;
  /** Writes kubeconfigYaml() to a file (default: a fresh temp dir, removed by close()) and returns its path. */
  writeKubeconfig(path?: string, opts?: { namespace?: string; token?: string }): string;
  close(): Promise<void>;
  get(apiVersion: string, kindOrPlural: string, namespace: string | undefined, name: string): KubeObject | undefined;
  list(apiVersion: string, kindOrPlural: string, namespace?: string, opts?: { labelSelector?: string }): KubeObject[];
  put(obj: object, opts?: { validate?: boolean }): KubeObject;
  update(apiVersion: string, kindOrPlural: string, namespace: string | undefined, name: string, mutate: (draft: KubeObject) => KubeObject | void, opts?: { validate?: boolean }): KubeObject;
  setStatus(apiVersion: string, kindOrPlural: string, namespace: string | undefined, name: string, status: unknown): KubeObject;
  patchStatus(apiVersion: string, kindOrPlural: string, namespace: string | undefined, name: string, patch: Record<string, unknown>): KubeObject;
  delete(apiVersion: string, kindOrPlural: string, namespace: string | undefined, name: string, opts?: { force?: boolean }): KubeObject | undefined;
  removeFinalizers(apiVersion: string, kindOrPlural: string, namespace: string | undefined, name: string, ...finalizers: string[]): KubeObject | undefined;
  resourceVersion(): string;
  compact(): string;
  on(event: HookEvent, handler: Hook): () => void;
  on(event: HookEvent, filter: HookFilter, handler: Hook): () => void;
  onCreate(apiVersion: string, kindOrPlural: string, handler: Hook): () => void;
  onUpdate(apiVersion: string, kindOrPlural: string, handler: Hook): () => void;
  onDelete(apiVersion: string, kindOrPlural: string, handler: Hook): () => void;
  onAdmit(apiVersion: string, kindOrPlural: string, handler: AdmissionHook): () => void;
  idle(timeoutMs?: number): Promise<void>;
  waitFor(apiVersion: string, kindOrPlural: string, namespace: string | undefined, name: string, predicate: (obj: KubeObject | undefined) => boolean, timeoutMs?: number): Promise<KubeObject | undefined>;
  waitForRequest(predicate: (r: RequestRecord) => boolean, timeoutMs?: number): Promise<RequestRecord>;
  dropWatches(opts?: { abrupt?: boolean }): number;
  openWatches(): number;
  sendBookmarks(): void;
  injectFault(match: FaultMatch, fault: Fault): FaultHandle;
  setDeny(rules: DenyRule[]): void;
  setPodLog(namespace: string, pod: string, text: string, container?: string): void;
  appendPodLog(namespace: string, pod: string, text: string, container?: string): void;
  endPodLog(namespace: string, pod: string, container?: string): void;
  setNodeMetrics(node: string, text: string): void;
  setNodeProxy(node: string, path: string, body: string, contentType?: string): void;
  setPodMetrics(namespace: string, pod: string, containers: { name: string; cpu: string; memory: string }[]): KubeObject;
  onExec(handler: ExecHandler | undefined): void;
}

// ---------------------------------------------------------------------------------------------------------------
// Status objects

export interface StatusObject {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: { reason: string; message: string; field: string }[]; retryAfterSeconds?: number };
  code: number;
}

class ApiError extends Error {
  status: StatusObject;
  headers: Record<string, string>;
  constructor(status: StatusObject, headers: Record<string, string> = {}) {
    super(status.message);
    this.status = status;
    this.headers = headers;
  }
}

function statusObj(code: number, reason: string, message: string, details?: StatusObject['details']): StatusObject {
  const s: StatusObject = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) s.details = details;
  return s;
}

function qualified(rt: { group: string; plural: string }): string {
  return rt.group ? `${rt.plural}.${rt.group}` : rt.plural;
}
function detailsFor(rt: ResourceType, name?: string): NonNullable<StatusObject['details']> {
  const d: NonNullable<StatusObject['details']> = {};
  if (name !== undefined) d.name = name;
  if (rt.group) d.group = rt.group;
  d.kind = rt.plural;
  return d;
}
const E = {
  notFound: (rt: ResourceType, name: string) => new ApiError(statusObj(404, 'NotFound', `${qualified(rt)} "${name}" not found`, detailsFor(rt, name))),
  nsNotFound: (ns: string) => new ApiError(statusObj(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' })),
  pathNotFound: () => new ApiError(statusObj(404, 'NotFound', 'the server could not find the requested resource', {})),
  exists: (rt: ResourceType, name: string) => new ApiError(statusObj(409, 'AlreadyExists', `${qualified(rt)} "${name}" already exists`, detailsFor(rt, name))),
  conflict: (rt: ResourceType, name: string, why: string) =>
    new ApiError(statusObj(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(rt)} "${name}": ${why}`, detailsFor(rt, name))),
  invalid: (rt: ResourceType, name: string, errs: FieldError[]) => {
    const msgs = errs.map(formatFieldError);
    const gk = rt.group ? `${rt.kind}.${rt.group}` : rt.kind;
    const d: NonNullable<StatusObject['details']> = { name };
    if (rt.group) d.group = rt.group;
    d.kind = rt.kind;
    d.causes = errs.map((e) => ({ reason: e.type, message: e.message, field: e.path }));
    return new ApiError(statusObj(422, 'Invalid', `${gk} "${name}" is invalid: ${msgs.length === 1 ? msgs[0] : `[${msgs.join(', ')}]`}`, d));
  },
  badRequest: (msg: string) => new ApiError(statusObj(400, 'BadRequest', msg)),
  methodNotAllowed: () => new ApiError(statusObj(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {})),
  unsupportedMedia: (ct: string) =>
    new ApiError(
      statusObj(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`, {}),
      { 'x-content-type': ct },
    ),
  expired: (msg: string) => new ApiError(statusObj(410, 'Expired', msg)),
};

// ---------------------------------------------------------------------------------------------------------------
// Helpers

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}
function canon(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canon);
  if (isObj(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])]));
  return v;
}
function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(canon(a)) === JSON.stringify(canon(b));
}
function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}
function meta(o: KubeObject): KubeObject['metadata'] {
  return o.metadata;
}
function nsOf(o: KubeObject): string {
  return typeof o.metadata.namespace === 'string' ? o.metadata.namespace : '';
}
function keyOf(ns: string | undefined, name: string): string {
  return `${ns ?? ''}/${name}`;
}
function matchOne(rule: string | string[] | undefined, v: string | undefined): boolean {
  if (rule === undefined || rule === '*') return true;
  const list = Array.isArray(rule) ? rule : [rule];
  return list.includes('*') || list.includes(v ?? '');
}

interface Watcher {
  rt: ResourceType;
  ns?: string;
  labels: LabelRequirement[];
  fields: FieldRequirement[];
  res: ServerResponse;
  bookmarks: boolean;
  timers: NodeJS.Timeout[];
  closed: boolean;
}

interface HistoryEntry {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  skey: string;
  obj: KubeObject;
  prev?: KubeObject;
}

interface HookReg {
  event: HookEvent;
  filter: HookFilter;
  handler: Hook;
}

interface FaultReg {
  match: FaultMatch;
  fault: Fault;
  hits: number;
  left: number;
}

interface LogStream {
  ns: string;
  pod: string;
  container: string;
  res: ServerResponse;
}

type Source = 'api' | 'server';

const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

class FakeApiServerImpl implements FakeApiServer {
  url = '';
  token: string;
  crds: CrdIndex;
  requests: RequestRecord[] = [];
  hookErrors: unknown[] = [];

  private http: Server;
  private opts: FakeApiServerOptions;
  private user: string;
  private rv = 0;
  private compactedRv = 0;
  private historyLimit: number;
  private store = new Map<string, Map<string, KubeObject>>();
  private history: HistoryEntry[] = [];
  private types: ResourceType[] = [];
  private builtins: ResourceType[];
  private watchers = new Set<Watcher>();
  private hooks: HookReg[] = [];
  private admits: { filter: HookFilter; handler: AdmissionHook }[] = [];
  private faults: FaultReg[] = [];
  private deny: DenyRule[];
  private pending = 0;
  private idleWaiters: (() => void)[] = [];
  private changeListeners = new Set<() => void>();
  private requestListeners = new Set<(r: RequestRecord) => void>();
  private podLogs = new Map<string, string>();
  private logStreams = new Set<LogStream>();
  private nodeMetrics = new Map<string, string>();
  private nodeProxy = new Map<string, { body: string; contentType: string }>();
  private execHandler: ExecHandler | undefined;
  private sockets = new Set<Socket>();
  private closed = false;
  private tempDirs: string[] = [];
  private bookmarkTimer: NodeJS.Timeout | undefined;

  constructor(opts: FakeApiServerOptions) {
    this.opts = opts;
    this.token = opts.token ?? `fake-${randomBytes(12).toString('hex')}`;
    this.user = opts.user ?? 'system:serviceaccount:default:pvbench';
    this.deny = opts.deny ?? [];
    this.historyLimit = opts.historyLimit ?? 10000;
    this.builtins = builtinTypes({ metricsApi: opts.metricsApi === true });
    let crds = loadCrds(opts.crdsDir);
    if (opts.crds) crds = crds.filter(opts.crds);
    this.crds = new CrdIndex();
    this.types = [...this.builtins];
    const crdRt = this.rtFor('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!;
    for (const info of crds.crds) {
      const o = clone(info.raw) as KubeObject;
      o.status = crdStatus(o);
      this.insert(crdRt, o, 'server');
    }
    this.refreshCrds();
    for (const ns of [...DEFAULT_NAMESPACES, ...(opts.namespaces ?? [])]) {
      if (!this.get('v1', 'namespaces', undefined, ns)) {
        this.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
      }
    }
    for (const n of opts.nodes ?? []) this.put(nodeObject(n));
    for (const o of opts.objects ?? []) this.put(o);
    this.http = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        console.error('[fake-apiserver] internal error', e);
        if (!res.headersSent) this.sendStatus(res, statusObj(500, 'InternalError', `Internal error occurred: ${String(e)}`));
        else res.destroy();
      });
    });
    this.http.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      this.handleUpgrade(req, socket, head).catch((e: unknown) => {
        console.error('[fake-apiserver] upgrade error', e);
        socket.destroy();
      });
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = this.http.address();
    if (!addr || typeof addr === 'string') throw new Error('no address');
    this.url = `http://127.0.0.1:${addr.port}`;
    const interval = this.opts.bookmarkIntervalMs ?? 60000;
    if (interval > 0) {
      this.bookmarkTimer = setInterval(() => this.sendBookmarks(), interval);
      this.bookmarkTimer.unref();
    }
  }

  kubeconfigYaml(opts: { namespace?: string; token?: string } = {}): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: fake',
      '  cluster:',
      `    server: ${this.url}`,
      // client-node refuses http:// servers unless TLS verification is explicitly skipped
      '    insecure-skip-tls-verify: true',
      'users:',
      '- name: fake',
      '  user:',
      `    token: ${JSON.stringify(opts.token ?? this.token)}`,
      'contexts:',
      '- name: fake',
      '  context:',
      '    cluster: fake',
      '    user: fake',
      `    namespace: ${JSON.stringify(opts.namespace ?? 'default')}`,
      'current-context: fake',
      '',
    ].join('\n');
  }

  writeKubeconfig(file?: string, opts: { namespace?: string; token?: string } = {}): string {
    let target = file;
    if (!target) {
      const dir = mkdtempSync(join(tmpdir(), 'fake-apiserver-'));
      this.tempDirs.push(dir);
      target = join(dir, 'kubeconfig');
    }
    writeFileSync(target, this.kubeconfigYaml(opts), { mode: 0o600 });
    return target;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const d of this.tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
    if (this.bookmarkTimer) clearInterval(this.bookmarkTimer);
    this.dropWatches({ abrupt: true });
    for (const s of this.logStreams) s.res.destroy();
    this.logStreams.clear();
    const done = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeAllConnections();
    for (const s of this.sockets) s.destroy();
    await done;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  // ── registry ────────────────────────────────────────────────────────────────────────────────────────────────

  private refreshCrds(): void {
    const idx = new CrdIndex();
    const types = [...this.builtins];
    for (const o of this.bucket('apiextensions.k8s.io/customresourcedefinitions').values()) {
      let info;
      try {
        info = parseCrd(o);
      } catch {
        continue;
      }
      idx.add(info);
      for (const v of info.versions) if (v.served) types.push(crdType(info, v));
    }
    this.crds = idx;
    this.types = types;
  }

  private rtFor(group: string, version: string, plural: string): ResourceType | undefined {
    return this.types.find((t) => t.group === group && t.version === version && t.plural === plural);
  }

  private resolve(apiVersion: string, kindOrPlural: string): ResourceType {
    const slash = apiVersion.indexOf('/');
    const group = slash < 0 ? '' : apiVersion.slice(0, slash);
    const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
    const k = kindOrPlural.toLowerCase();
    const rt = this.types.find(
      (t) => t.group === group && t.version === version && (t.kind.toLowerCase() === k || t.plural === k || t.singular === k || t.shortNames.includes(k)),
    );
    if (!rt) throw new Error(`fake-apiserver: no resource ${kindOrPlural} in ${apiVersion}`);
    return rt;
  }

  private bucket(skey: string): Map<string, KubeObject> {
    let b = this.store.get(skey);
    if (!b) {
      b = new Map();
      this.store.set(skey, b);
    }
    return b;
  }

  private output(rt: ResourceType, o: KubeObject): KubeObject {
    const c = clone(o);
    c.apiVersion = rt.apiVersion;
    return c;
  }

  // ── commit primitives ───────────────────────────────────────────────────────────────────────────────────────

  private record(type: HistoryEntry['type'], rt: ResourceType, obj: KubeObject, prev?: KubeObject): void {
    const e: HistoryEntry = { rv: this.rv, type, skey: rt.storageKey, obj: clone(obj) };
    if (prev) e.prev = clone(prev);
    this.history.push(e);
    while (this.history.length > this.historyLimit) this.compactedRv = this.history.shift()!.rv;
    for (const w of this.watchers) if (w.rt.storageKey === rt.storageKey) this.deliver(w, e);
    for (const l of this.changeListeners) l();
  }

  private insert(rt: ResourceType, o: KubeObject, source: Source): KubeObject {
    const m = meta(o);
    m.uid ??= randomUUID();
    m.creationTimestamp = now();
    if (rt.generation) m.generation = 1;
    else delete m.generation;
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    delete m.selfLink;
    delete m.managedFields;
    this.rv++;
    m.resourceVersion = String(this.rv);
    this.bucket(rt.storageKey).set(keyOf(nsOf(o), m.name), clone(o));
    this.record('ADDED', rt, o);
    this.fire('create', rt, o, { source });
    return clone(o);
  }

  /** Stores `o` over `old`. Returns `old` untouched when nothing changed (no new resourceVersion, no event). */
  private replace(rt: ResourceType, old: KubeObject, o: KubeObject, source: Source, subresource?: string, deleting = false): KubeObject {
    const m = meta(o);
    const om = meta(old);
    m.uid = om.uid;
    m.creationTimestamp = om.creationTimestamp;
    m.name = om.name;
    if (rt.namespaced) m.namespace = om.namespace;
    if (deleting) {
      // requestDelete sets deletionTimestamp / deletionGracePeriodSeconds itself
    } else if (om.deletionTimestamp) {
      m.deletionTimestamp = om.deletionTimestamp;
      m.deletionGracePeriodSeconds = om.deletionGracePeriodSeconds;
    } else {
      delete m.deletionTimestamp;
      delete m.deletionGracePeriodSeconds;
    }
    delete m.managedFields;
    delete m.selfLink;
    if (rt.generation) {
      const strip = (x: KubeObject) => {
        const c: Record<string, unknown> = { ...x };
        delete c.metadata;
        if (rt.statusSubresource) delete c.status;
        return c;
      };
      // setting deletionTimestamp bumps generation too, as the apiserver does
      m.generation = (typeof om.generation === 'number' ? om.generation : 1) + (same(strip(old), strip(o)) && !deleting ? 0 : 1);
    } else delete m.generation;
    m.resourceVersion = om.resourceVersion;
    if (same(o, old)) return clone(old);
    this.rv++;
    m.resourceVersion = String(this.rv);
    this.bucket(rt.storageKey).set(keyOf(nsOf(o), m.name), clone(o));
    this.record('MODIFIED', rt, o, old);
    const ctx: { source: Source; old: KubeObject; subresource?: string } = { source, old };
    if (subresource) ctx.subresource = subresource;
    this.fire('update', rt, o, ctx);
    this.afterModify(rt, o, old);
    if (m.deletionTimestamp && !(Array.isArray(m.finalizers) && m.finalizers.length) && !(rt.kind === 'Namespace' && rt.group === '')) {
      this.removeNow(rt, o, source, false);
    }
    return clone(o);
  }

  private removeNow(rt: ResourceType, o: KubeObject, source: Source, orphan: boolean): KubeObject {
    const b = this.bucket(rt.storageKey);
    const k = keyOf(nsOf(o), o.metadata.name);
    if (!b.has(k)) return clone(o);
    b.delete(k);
    this.rv++;
    const gone = clone(o);
    gone.metadata.resourceVersion = String(this.rv);
    this.record('DELETED', rt, gone);
    this.fire('delete', rt, gone, { source });
    this.afterRemove(rt, gone, orphan);
    return gone;
  }

  private afterModify(rt: ResourceType, o: KubeObject, old: KubeObject): void {
    if (rt.group === '' && rt.kind === 'Pod') {
      const phase = isObj(o.status) ? o.status.phase : undefined;
      if (phase === 'Succeeded' || phase === 'Failed') this.endPodLog(nsOf(o), o.metadata.name);
    }
    if (rt.group === 'apiextensions.k8s.io' && rt.plural === 'customresourcedefinitions' && !same(old.spec, o.spec)) this.refreshCrds();
  }

  private afterRemove(rt: ResourceType, gone: KubeObject, orphan: boolean): void {
    const uid = gone.metadata.uid;
    if (rt.group === '' && rt.kind === 'Pod') {
      this.endPodLog(nsOf(gone), gone.metadata.name);
      for (const k of [...this.podLogs.keys()]) if (k.startsWith(`${nsOf(gone)}/${gone.metadata.name}/`)) this.podLogs.delete(k);
    }
    if (rt.group === 'apiextensions.k8s.io' && rt.plural === 'customresourcedefinitions') {
      const info = this.crds.byName.get(gone.metadata.name);
      if (info) {
        const crRt = this.types.find((t) => t.crd?.info === info);
        if (crRt) for (const cr of [...this.bucket(crRt.storageKey).values()]) this.removeNow(crRt, cr, 'server', true);
        this.store.delete(`${info.group}/${info.plural}`);
      }
      this.refreshCrds();
    }
    // garbage collection through ownerReferences (background), or orphaning
    if (typeof uid === 'string') {
      this.defer(() => {
        for (const t of this.types) {
          if (t.crd && t !== this.types.find((x) => x.storageKey === t.storageKey)) continue;
          for (const dep of [...this.bucket(t.storageKey).values()]) {
            const refs = dep.metadata.ownerReferences;
            if (!Array.isArray(refs) || !refs.some((r) => isObj(r) && r.uid === uid)) continue;
            if (orphan) {
              const cur = this.bucket(t.storageKey).get(keyOf(nsOf(dep), dep.metadata.name));
              if (!cur) continue;
              const next = clone(cur);
              next.metadata.ownerReferences = refs.filter((r) => !(isObj(r) && r.uid === uid));
              if ((next.metadata.ownerReferences as unknown[]).length === 0) delete next.metadata.ownerReferences;
              this.replace(t, cur, next, 'server');
            } else this.requestDelete(t, dep, 'server', {});
          }
        }
      });
    }
    this.defer(() => this.finalizeNamespaces());
  }

  private finalizeNamespaces(): void {
    const nsRt = this.resolve('v1', 'namespaces');
    for (const ns of [...this.bucket(nsRt.storageKey).values()]) {
      if (!ns.metadata.deletionTimestamp) continue;
      const name = ns.metadata.name;
      let left = 0;
      for (const t of this.types) if (t.namespaced) for (const o of this.bucket(t.storageKey).values()) if (nsOf(o) === name) left++;
      if (left > 0) continue;
      const spec = isObj(ns.spec) ? ns.spec : {};
      if (Array.isArray(spec.finalizers) && spec.finalizers.length) {
        const next = clone(ns);
        next.spec = { ...spec, finalizers: [] };
        this.replace(nsRt, ns, next, 'server');
      }
      const cur = this.bucket(nsRt.storageKey).get(keyOf('', name));
      if (cur && !(Array.isArray(cur.metadata.finalizers) && cur.metadata.finalizers.length)) this.removeNow(nsRt, cur, 'server', false);
    }
  }

  /** DELETE semantics: finalizers → deletionTimestamp; else removal. Returns [object, removed]. */
  private requestDelete(rt: ResourceType, o: KubeObject, source: Source, opts: { orphan?: boolean; force?: boolean }): [KubeObject, boolean] {
    const cur = this.bucket(rt.storageKey).get(keyOf(nsOf(o), o.metadata.name));
    if (!cur) return [o, true];
    const isNs = rt.group === '' && rt.kind === 'Namespace';
    const fin = Array.isArray(cur.metadata.finalizers) && cur.metadata.finalizers.length > 0;
    if (opts.force) return [this.removeNow(rt, cur, source, opts.orphan === true), true];
    if (isNs || fin) {
      if (cur.metadata.deletionTimestamp) return [clone(cur), false];
      const next = clone(cur);
      next.metadata.deletionTimestamp = now();
      next.metadata.deletionGracePeriodSeconds = 0;
      if (isNs) next.status = { ...(isObj(next.status) ? next.status : {}), phase: 'Terminating' };
      const out = this.replace(rt, cur, next, source, undefined, true);
      if (isNs) {
        const name = cur.metadata.name;
        this.defer(() => {
          for (const t of this.types) {
            if (!t.namespaced || t !== this.types.find((x) => x.storageKey === t.storageKey)) continue;
            for (const x of [...this.bucket(t.storageKey).values()]) if (nsOf(x) === name) this.requestDelete(t, x, 'server', {});
          }
          this.finalizeNamespaces();
        });
      }
      return [out, false];
    }
    return [this.removeNow(rt, cur, source, opts.orphan ?? rt.defaultOrphan), true];
  }

  // ── hooks ───────────────────────────────────────────────────────────────────────────────────────────────────

  private filterMatches(f: HookFilter, rt: ResourceType, o: KubeObject): boolean {
    if (f.apiVersion !== undefined) {
      const g = f.apiVersion.includes('/') ? f.apiVersion.slice(0, f.apiVersion.indexOf('/')) : '';
      if (g !== rt.group) return false;
    }
    if (f.kind !== undefined) {
      const k = f.kind.toLowerCase();
      if (!(rt.kind.toLowerCase() === k || rt.plural === k || rt.singular === k || rt.shortNames.includes(k))) return false;
    }
    if (f.namespace !== undefined && nsOf(o) !== f.namespace) return false;
    if (f.name !== undefined && o.metadata.name !== f.name) return false;
    return true;
  }

  private fire(event: HookEvent, rt: ResourceType, o: KubeObject, c: { source: Source; old?: KubeObject; subresource?: string }): void {
    for (const h of this.hooks) {
      if (h.event !== event || !this.filterMatches(h.filter, rt, o)) continue;
      const obj = this.output(rt, o);
      const ctx: HookContext = { event, source: c.source, server: this };
      if (c.old) ctx.old = this.output(rt, c.old);
      if (c.subresource) ctx.subresource = c.subresource;
      this.defer(() => h.handler(obj, ctx));
    }
  }

  private defer(fn: () => unknown): void {
    if (this.closed) return;
    this.pending++;
    setImmediate(() => {
      void (async () => {
        try {
          if (!this.closed) await fn();
        } catch (e) {
          this.hookErrors.push(e);
          console.error('[fake-apiserver] hook error:', e);
        } finally {
          this.pending--;
          if (this.pending === 0) for (const w of this.idleWaiters.splice(0)) w();
        }
      })();
    });
  }

  on(event: HookEvent, a: HookFilter | Hook, b?: Hook): () => void {
    const reg: HookReg = typeof a === 'function' ? { event, filter: {}, handler: a } : { event, filter: a, handler: b! };
    this.hooks.push(reg);
    return () => {
      this.hooks = this.hooks.filter((h) => h !== reg);
    };
  }
  onCreate(apiVersion: string, kind: string, handler: Hook): () => void {
    return this.on('create', { apiVersion, kind }, handler);
  }
  onUpdate(apiVersion: string, kind: string, handler: Hook): () => void {
    return this.on('update', { apiVersion, kind }, handler);
  }
  onDelete(apiVersion: string, kind: string, handler: Hook): () => void {
    return this.on('delete', { apiVersion, kind }, handler);
  }
  onAdmit(apiVersion: string, kind: string, handler: AdmissionHook): () => void {
    const reg = { filter: { apiVersion, kind }, handler };
    this.admits.push(reg);
    return () => {
      this.admits = this.admits.filter((x) => x !== reg);
    };
  }

  private admit(rt: ResourceType, o: KubeObject, ctx: AdmissionContext): void {
    for (const a of this.admits) {
      if (!this.filterMatches(a.filter, rt, o)) continue;
      const r = a.handler(o, ctx);
      if (r) {
        const code = r.code ?? 403;
        const reason = r.reason ?? (code === 403 ? 'Forbidden' : code === 400 ? 'BadRequest' : code === 422 ? 'Invalid' : 'InternalError');
        throw new ApiError(statusObj(code, reason, `admission webhook "fake.pvbench.test" denied the request: ${r.message}`, detailsFor(rt, o.metadata.name)));
      }
    }
  }

  idle(timeoutMs = 5000): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`fake-apiserver: hooks still running after ${timeoutMs}ms`)), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  waitFor(apiVersion: string, kind: string, ns: string | undefined, name: string, predicate: (o: KubeObject | undefined) => boolean, timeoutMs = 5000): Promise<KubeObject | undefined> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const o = this.get(apiVersion, kind, ns, name);
        if (predicate(o)) {
          cleanup();
          resolve(o);
          return true;
        }
        return false;
      };
      const t = setTimeout(() => {
        cleanup();
        reject(new Error(`fake-apiserver: timed out after ${timeoutMs}ms waiting for ${kind} ${ns ? `${ns}/` : ''}${name}; last: ${JSON.stringify(this.get(apiVersion, kind, ns, name))}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(t);
        this.changeListeners.delete(check);
      };
      this.changeListeners.add(check);
      check();
    });
  }

  waitForRequest(predicate: (r: RequestRecord) => boolean, timeoutMs = 5000): Promise<RequestRecord> {
    const found = this.requests.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const l = (r: RequestRecord) => {
        if (!predicate(r)) return;
        clearTimeout(t);
        this.requestListeners.delete(l);
        resolve(r);
      };
      const t = setTimeout(() => {
        this.requestListeners.delete(l);
        reject(new Error(`fake-apiserver: no matching request after ${timeoutMs}ms`));
      }, timeoutMs);
      this.requestListeners.add(l);
    });
  }

  // ── server-side store API ───────────────────────────────────────────────────────────────────────────────────

  get(apiVersion: string, kind: string, ns: string | undefined, name: string): KubeObject | undefined {
    const rt = this.resolve(apiVersion, kind);
    const o = this.bucket(rt.storageKey).get(keyOf(rt.namespaced ? ns : '', name));
    return o && this.output(rt, o);
  }

  list(apiVersion: string, kind: string, ns?: string, opts: { labelSelector?: string } = {}): KubeObject[] {
    const rt = this.resolve(apiVersion, kind);
    const reqs = opts.labelSelector ? parseLabelSelector(opts.labelSelector) : [];
    return this.sorted(rt)
      .filter((o) => (ns === undefined || !rt.namespaced || nsOf(o) === ns) && matchLabels(reqs, o.metadata.labels as Record<string, string>))
      .map((o) => this.output(rt, o));
  }

  private sorted(rt: ResourceType): KubeObject[] {
    return [...this.bucket(rt.storageKey).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, o]) => o);
  }

  private validateFor(rt: ResourceType, o: KubeObject, old?: KubeObject): FieldError[] {
    if (rt.crd) {
      return validateObjectDetailed(this.crds, o, old ? { old } : {}).errors;
    }
    return [...validateObjectMeta(o.metadata, { nameRule: rt.nameRule }), ...validateBuiltin(rt, o, old)];
  }

  put(obj: object, opts: { validate?: boolean } = {}): KubeObject {
    const input = obj as Record<string, unknown>;
    if (typeof input.apiVersion !== 'string' || typeof input.kind !== 'string' || !isObj(input.metadata)) {
      throw new Error('fake-apiserver put: apiVersion, kind and metadata are required');
    }
    const rt = this.resolve(input.apiVersion, input.kind);
    const o = clone(input) as KubeObject;
    const m = meta(o);
    if (rt.namespaced) {
      m.namespace ??= 'default';
      if (!this.bucket('/namespaces').has(keyOf('', m.namespace))) throw new Error(`fake-apiserver put: namespace ${m.namespace} does not exist`);
    } else delete m.namespace;
    if (!m.name && typeof m.generateName === 'string') m.name = this.generateName(rt, m.namespace, m.generateName);
    if (!m.name) throw new Error('fake-apiserver put: metadata.name is required');
    normalizeSecret(o);
    const old = this.bucket(rt.storageKey).get(keyOf(m.namespace, m.name));
    if (rt.crd) applyDefaults(rt.crd.version.schema, o);
    if (opts.validate !== false) {
      const errs = this.validateFor(rt, o, old);
      if (errs.length) throw new Error(`fake-apiserver put: ${rt.kind} ${m.name} is invalid: ${errs.map(formatFieldError).join('; ')}`);
    }
    if (old) return this.output(rt, this.replace(rt, old, o, 'server'));
    const created = this.insert(rt, o, 'server');
    if (rt.group === 'apiextensions.k8s.io' && rt.plural === 'customresourcedefinitions') this.refreshCrds();
    return this.output(rt, created);
  }

  private mustGet(rt: ResourceType, ns: string | undefined, name: string): KubeObject {
    const o = this.bucket(rt.storageKey).get(keyOf(rt.namespaced ? ns : '', name));
    if (!o) throw new Error(`fake-apiserver: ${qualified(rt)} ${ns ? `${ns}/` : ''}${name} not found`);
    return o;
  }

  update(apiVersion: string, kind: string, ns: string | undefined, name: string, mutate: (d: KubeObject) => KubeObject | void, opts: { validate?: boolean } = {}): KubeObject {
    const rt = this.resolve(apiVersion, kind);
    const old = this.mustGet(rt, ns, name);
    const draft = this.output(rt, old);
    const next = mutate(draft) ?? draft;
    if (rt.crd) applyDefaults(rt.crd.version.schema, next);
    const errs = opts.validate === false ? [] : this.validateFor(rt, next, old);
    if (errs.length) throw new Error(`fake-apiserver update: ${rt.kind} ${name} is invalid: ${errs.map(formatFieldError).join('; ')}`);
    return this.output(rt, this.replace(rt, old, next, 'server'));
  }

  setStatus(apiVersion: string, kind: string, ns: string | undefined, name: string, status: unknown): KubeObject {
    const rt = this.resolve(apiVersion, kind);
    const old = this.mustGet(rt, ns, name);
    const next = clone(old);
    next.status = typeof status === 'function' ? (status as (s: unknown) => unknown)(clone(old.status)) : clone(status);
    if (next.status === undefined) delete next.status;
    const errs = this.validateFor(rt, next, old);
    if (errs.length) throw new Error(`fake-apiserver setStatus: ${rt.kind} ${name} is invalid: ${errs.map(formatFieldError).join('; ')}`);
    return this.output(rt, this.replace(rt, old, next, 'server', 'status'));
  }

  patchStatus(apiVersion: string, kind: string, ns: string | undefined, name: string, patch: Record<string, unknown>): KubeObject {
    return this.setStatus(apiVersion, kind, ns, name, (s: unknown) => applyMergePatch(s ?? {}, patch));
  }

  delete(apiVersion: string, kind: string, ns: string | undefined, name: string, opts: { force?: boolean } = {}): KubeObject | undefined {
    const rt = this.resolve(apiVersion, kind);
    const o = this.bucket(rt.storageKey).get(keyOf(rt.namespaced ? ns : '', name));
    if (!o) return undefined;
    const [out] = this.requestDelete(rt, o, 'server', opts.force ? { force: true } : {});
    return this.output(rt, out);
  }

  removeFinalizers(apiVersion: string, kind: string, ns: string | undefined, name: string, ...finalizers: string[]): KubeObject | undefined {
    const rt = this.resolve(apiVersion, kind);
    const old = this.bucket(rt.storageKey).get(keyOf(rt.namespaced ? ns : '', name));
    if (!old) return undefined;
    const next = clone(old);
    const f = Array.isArray(next.metadata.finalizers) ? (next.metadata.finalizers as string[]) : [];
    const left = finalizers.length ? f.filter((x) => !finalizers.includes(x)) : [];
    if (left.length) next.metadata.finalizers = left;
    else delete next.metadata.finalizers;
    return this.output(rt, this.replace(rt, old, next, 'server'));
  }

  resourceVersion(): string {
    return String(this.rv);
  }

  compact(): string {
    this.history = [];
    this.compactedRv = this.rv;
    return String(this.rv);
  }

  setDeny(rules: DenyRule[]): void {
    this.deny = rules;
  }

  injectFault(match: FaultMatch, fault: Fault): FaultHandle {
    const reg: FaultReg = { match, fault, hits: 0, left: fault.times ?? 1 };
    this.faults.push(reg);
    const self = this;
    return {
      get hits() {
        return reg.hits;
      },
      remove() {
        self.faults = self.faults.filter((f) => f !== reg);
      },
    };
  }

  // ── pod logs, node metrics, metrics API, exec ─────────────────────────────────────────────────────────────

  private podContainers(ns: string, pod: string): string[] {
    const p = this.bucket('/pods').get(keyOf(ns, pod));
    const spec = p && isObj(p.spec) ? p.spec : {};
    const names = (l: unknown) => (Array.isArray(l) ? l.map((c) => (isObj(c) ? String(c.name) : '')) : []);
    return [...names(spec.containers), ...names(spec.initContainers)];
  }

  private logKey(ns: string, pod: string, container?: string): string {
    return `${ns}/${pod}/${container ?? this.podContainers(ns, pod)[0] ?? ''}`;
  }

  setPodLog(ns: string, pod: string, text: string, container?: string): void {
    const k = this.logKey(ns, pod, container);
    const before = this.podLogs.get(k) ?? '';
    this.podLogs.set(k, text);
    // followers see what was added (the whole text when it does not extend the previous one)
    const delta = text.startsWith(before) ? text.slice(before.length) : text;
    if (delta) for (const s of this.logStreams) if (`${s.ns}/${s.pod}/${s.container}` === k) s.res.write(delta);
  }

  appendPodLog(ns: string, pod: string, text: string, container?: string): void {
    const k = this.logKey(ns, pod, container);
    this.podLogs.set(k, (this.podLogs.get(k) ?? '') + text);
    for (const s of this.logStreams) if (`${s.ns}/${s.pod}/${s.container}` === k) s.res.write(text);
  }

  endPodLog(ns: string, pod: string, container?: string): void {
    for (const s of [...this.logStreams]) {
      if (s.ns === ns && s.pod === pod && (container === undefined || s.container === container)) {
        this.logStreams.delete(s);
        s.res.end();
      }
    }
  }

  setNodeMetrics(node: string, text: string): void {
    this.nodeMetrics.set(node, text);
  }

  setNodeProxy(node: string, path: string, body: string, contentType = 'text/plain; charset=utf-8'): void {
    this.nodeProxy.set(`${node}/${path.replace(/^\/+/, '')}`, { body, contentType });
  }

  setPodMetrics(ns: string, pod: string, containers: { name: string; cpu: string; memory: string }[]): KubeObject {
    return this.put({
      apiVersion: 'metrics.k8s.io/v1beta1',
      kind: 'PodMetrics',
      metadata: { name: pod, namespace: ns },
      timestamp: now(),
      window: '15s',
      containers: containers.map((c) => ({ name: c.name, usage: { cpu: c.cpu, memory: c.memory } })),
    });
  }

  onExec(handler: ExecHandler | undefined): void {
    this.execHandler = handler;
  }

  private defaultNodeMetrics(node: string): string {
    const ts = Date.now();
    const lines = [
      '# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds',
      '# TYPE node_cpu_usage_seconds_total counter',
      `node_cpu_usage_seconds_total 0 ${ts}`,
      '# HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes',
      '# TYPE node_memory_working_set_bytes gauge',
      `node_memory_working_set_bytes 0 ${ts}`,
      '# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds',
      '# TYPE container_cpu_usage_seconds_total counter',
    ];
    const pods = [...this.bucket('/pods').values()].filter((p) => isObj(p.spec) && p.spec.nodeName === node);
    for (const p of pods) for (const c of this.podContainers(nsOf(p), p.metadata.name)) {
      lines.push(`container_cpu_usage_seconds_total{container="${c}",namespace="${nsOf(p)}",pod="${p.metadata.name}"} 0 ${ts}`);
    }
    lines.push('# HELP container_memory_working_set_bytes [STABLE] Current working set of the container in bytes', '# TYPE container_memory_working_set_bytes gauge');
    for (const p of pods) for (const c of this.podContainers(nsOf(p), p.metadata.name)) {
      lines.push(`container_memory_working_set_bytes{container="${c}",namespace="${nsOf(p)}",pod="${p.metadata.name}"} 0 ${ts}`);
    }
    lines.push('# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise', '# TYPE resource_scrape_error gauge', 'resource_scrape_error 0', '');
    return lines.join('\n');
  }

  // ── watches ─────────────────────────────────────────────────────────────────────────────────────────────────

  private watchMatches(w: Watcher, o: KubeObject | undefined): boolean {
    if (!o) return false;
    if (w.ns !== undefined && nsOf(o) !== w.ns) return false;
    return matchLabels(w.labels, o.metadata.labels as Record<string, string>) && matchFields(w.fields, o);
  }

  private writeEvent(w: Watcher, type: string, o: unknown): void {
    if (w.closed) return;
    w.res.write(`${JSON.stringify({ type, object: o })}\n`);
  }

  private deliver(w: Watcher, e: HistoryEntry): void {
    const now = this.watchMatches(w, e.obj);
    let type: string | undefined;
    if (e.type === 'MODIFIED') {
      const before = this.watchMatches(w, e.prev);
      type = before && now ? 'MODIFIED' : now ? 'ADDED' : before ? 'DELETED' : undefined;
    } else if (now) type = e.type;
    if (type) this.writeEvent(w, type, this.output(w.rt, e.obj));
  }

  private bookmark(w: Watcher, initialEnd = false): void {
    const m: Record<string, unknown> = { resourceVersion: String(this.rv) };
    if (initialEnd) m.annotations = { 'k8s.io/initial-events-end': 'true' };
    this.writeEvent(w, 'BOOKMARK', { kind: w.rt.kind, apiVersion: w.rt.apiVersion, metadata: m });
  }

  sendBookmarks(): void {
    for (const w of this.watchers) if (w.bookmarks) this.bookmark(w);
  }

  private endWatch(w: Watcher, abrupt = false): void {
    if (w.closed) return;
    w.closed = true;
    for (const t of w.timers) clearTimeout(t);
    this.watchers.delete(w);
    if (abrupt) w.res.destroy();
    else w.res.end();
  }

  dropWatches(opts: { abrupt?: boolean } = {}): number {
    const ws = [...this.watchers];
    for (const w of ws) this.endWatch(w, opts.abrupt === true);
    return ws.length;
  }

  openWatches(): number {
    return this.watchers.size;
  }

  // ── HTTP ────────────────────────────────────────────────────────────────────────────────────────────────────

  private send(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json', 'Cache-Control': 'no-cache, private', ...headers });
    res.end(text);
  }

  private sendStatus(res: ServerResponse, s: StatusObject, headers: Record<string, string> = {}): void {
    const h = { ...headers };
    delete h['x-content-type'];
    this.send(res, s.code, s, h);
  }

  private async readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  private decode(raw: Buffer, contentType: string): unknown {
    if (raw.length === 0) return undefined;
    const text = raw.toString('utf8');
    if (contentType.includes('protobuf')) throw E.unsupportedMedia(contentType);
    try {
      if (contentType.includes('yaml')) return parseYaml(text) as unknown;
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw E.badRequest(`the body of the request could not be decoded: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private authorized(req: IncomingMessage): boolean {
    const h = req.headers.authorization;
    return typeof h === 'string' && h === `Bearer ${this.token}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const query = Object.fromEntries(url.searchParams.entries());
    const contentType = String(req.headers['content-type'] ?? '');
    const raw = await this.readBody(req);
    const rec: RequestRecord = { method, path: url.pathname, query, watch: query.watch === '1' || query.watch === 'true' || url.pathname.includes('/watch/') };
    if (contentType) rec.contentType = contentType;
    if (raw.length) {
      try {
        rec.body = contentType.includes('yaml') ? parseYaml(raw.toString('utf8')) : JSON.parse(raw.toString('utf8'));
      } catch {
        rec.body = raw.toString('utf8');
      }
    }
    const origWriteHead = res.writeHead.bind(res);
    res.writeHead = ((code: number, ...rest: unknown[]) => {
      rec.status = code;
      return (origWriteHead as (c: number, ...r: unknown[]) => ServerResponse)(code, ...rest);
    }) as typeof res.writeHead;
    this.requests.push(rec);

    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (['/healthz', '/readyz', '/livez'].includes(path)) return this.send(res, 200, 'ok');
    if (path === '/version') return this.send(res, 200, this.versionInfo());
    if (!this.authorized(req)) {
      for (const l of this.requestListeners) l(rec);
      return this.sendStatus(res, statusObj(401, 'Unauthorized', 'Unauthorized'));
    }
    try {
      const route = this.route(method, path, query);
      if (route.kind === 'resource') rec.verb = route.verb;
      for (const l of this.requestListeners) l(rec);
      await this.applyFaults(method, path, rec, route, res);
      if (res.writableEnded || res.destroyed) return;
      if (route.kind === 'discovery') return this.send(res, 200, route.body);
      const body = this.decode(raw, contentType);
      await this.dispatch(route, req, res, body, contentType);
    } catch (e) {
      if (e instanceof ApiError) {
        if (!res.headersSent) this.sendStatus(res, e.status, e.headers);
        return;
      }
      if (e instanceof SelectorError || e instanceof BadRequest) {
        if (!res.headersSent) this.sendStatus(res, statusObj(400, 'BadRequest', e.message));
        return;
      }
      throw e;
    }
  }

  private async applyFaults(method: string, path: string, rec: RequestRecord, route: Route, res: ServerResponse): Promise<void> {
    for (const f of this.faults) {
      const m = f.match;
      if (f.left <= 0) continue;
      if (m.method && m.method.toUpperCase() !== method) continue;
      if (m.path !== undefined && (typeof m.path === 'string' ? !path.includes(m.path) : !m.path.test(path))) continue;
      if (m.watch !== undefined && m.watch !== rec.watch) continue;
      if (m.verb && (route.kind !== 'resource' || route.verb !== m.verb)) continue;
      if (m.resource && (route.kind !== 'resource' || route.rt.plural !== m.resource)) continue;
      f.left--;
      f.hits++;
      const { fault } = f;
      if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs).unref());
      if (fault.destroy) {
        res.destroy();
        return;
      }
      if (fault.code) {
        const reasons: Record<number, string> = { 400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict', 410: 'Expired', 422: 'Invalid', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout' };
        const s = statusObj(fault.code, fault.reason ?? reasons[fault.code] ?? 'InternalError', fault.message ?? `injected fault (${fault.code})`);
        const headers: Record<string, string> = {};
        if (fault.retryAfterSeconds !== undefined) {
          headers['Retry-After'] = String(fault.retryAfterSeconds);
          s.details = { retryAfterSeconds: fault.retryAfterSeconds };
        }
        this.sendStatus(res, s, headers);
        return;
      }
      return;
    }
  }

  private versionInfo(): Record<string, string> {
    const v = this.opts.kubernetesVersion ?? 'v1.31.0';
    const m = /^v?(\d+)\.(\d+)/.exec(v);
    return { major: m?.[1] ?? '1', minor: m?.[2] ?? '31', gitVersion: v, gitCommit: 'fake', gitTreeState: 'clean', buildDate: '2024-08-13T00:00:00Z', goVersion: 'go1.22.5', compiler: 'gc', platform: 'linux/amd64' };
  }

  // ── discovery ───────────────────────────────────────────────────────────────────────────────────────────────

  private groupVersions(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const t of this.types) {
      if (!t.group) continue;
      const vs = out.get(t.group) ?? [];
      if (!vs.includes(t.version)) vs.push(t.version);
      out.set(t.group, vs);
    }
    for (const vs of out.values()) vs.sort(compareVersions);
    return out;
  }

  private apiGroup(name: string, versions: string[]): Record<string, unknown> {
    const preferred = versions[0]!;
    return {
      name,
      versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
      preferredVersion: { groupVersion: `${name}/${preferred}`, version: preferred },
    };
  }

  private resourceList(group: string, version: string): Record<string, unknown> | undefined {
    const ts = this.types.filter((t) => t.group === group && t.version === version);
    if (ts.length === 0) return undefined;
    const resources: Record<string, unknown>[] = [];
    for (const t of ts) {
      const r: Record<string, unknown> = { name: t.plural, singularName: t.singular, namespaced: t.namespaced, kind: t.kind, verbs: t.verbs };
      if (t.shortNames.length) r.shortNames = t.shortNames;
      if (t.categories.length) r.categories = t.categories;
      r.storageVersionHash = createHash('sha256').update(`${t.group}/${t.version}/${t.kind}`).digest('base64').slice(0, 11);
      resources.push(r);
      for (const [sub, verbs] of Object.entries(t.subresources)) {
        const kinds: Record<string, string> = { exec: 'PodExecOptions', attach: 'PodAttachOptions', portforward: 'PodPortForwardOptions', proxy: 'NodeProxyOptions', scale: 'Scale' };
        resources.push({ name: `${t.plural}/${sub}`, singularName: '', namespaced: t.namespaced, kind: kinds[sub] ?? t.kind, verbs });
      }
    }
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
  }

  // ── routing ─────────────────────────────────────────────────────────────────────────────────────────────────

  private route(method: string, path: string, query: Record<string, string>): Route {
    const segs = path.split('/').filter(Boolean).map(decodeURIComponent);
    if (method === 'GET') {
      if (path === '/api') return { kind: 'discovery', body: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: this.url.replace('http://', '') }] } };
      if (path === '/apis') {
        const groups = [...this.groupVersions().entries()].map(([g, vs]) => this.apiGroup(g, vs));
        return { kind: 'discovery', body: { kind: 'APIGroupList', apiVersion: 'v1', groups } };
      }
      if (segs[0] === 'apis' && segs.length === 2) {
        const vs = this.groupVersions().get(segs[1]!);
        if (!vs) throw E.pathNotFound();
        return { kind: 'discovery', body: { kind: 'APIGroup', apiVersion: 'v1', ...this.apiGroup(segs[1]!, vs) } };
      }
      if ((segs[0] === 'api' && segs.length === 2) || (segs[0] === 'apis' && segs.length === 3)) {
        const list = segs[0] === 'api' ? this.resourceList('', segs[1]!) : this.resourceList(segs[1]!, segs[2]!);
        if (!list) throw E.pathNotFound();
        return { kind: 'discovery', body: list };
      }
    }
    let group: string;
    let version: string;
    let rest: string[];
    if (segs[0] === 'api' && segs.length >= 3) {
      group = '';
      version = segs[1]!;
      rest = segs.slice(2);
    } else if (segs[0] === 'apis' && segs.length >= 4) {
      group = segs[1]!;
      version = segs[2]!;
      rest = segs.slice(3);
    } else throw E.pathNotFound();
    let watch = query.watch === '1' || query.watch === 'true';
    if (rest[0] === 'watch') {
      watch = true;
      rest = rest.slice(1);
    }
    let ns: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const t = this.rtFor(group, version, rest[2]!);
      if (t && t.namespaced) {
        ns = rest[1]!;
        rest = rest.slice(2);
      } else if (!(group === '' && ['status', 'finalize'].includes(rest[2]!) && rest.length === 3)) throw E.pathNotFound();
    }
    const [plural, name, sub, ...subPath] = rest;
    const rt = plural ? this.rtFor(group, version, plural) : undefined;
    if (!rt) throw E.pathNotFound();
    if (rt.namespaced !== (ns !== undefined) && !(rt.namespaced && name === undefined && ns === undefined)) throw E.pathNotFound();
    if (sub !== undefined && !rt.subresources[sub]) throw E.pathNotFound();
    let verb: string;
    if (watch) verb = 'watch';
    else if (method === 'GET') verb = name === undefined ? 'list' : 'get';
    else if (method === 'POST') verb = 'create';
    else if (method === 'PUT') verb = 'update';
    else if (method === 'PATCH') verb = 'patch';
    else if (method === 'DELETE') verb = name === undefined ? 'deletecollection' : 'delete';
    else throw E.methodNotAllowed();
    if (sub === 'exec' || sub === 'attach' || sub === 'portforward') verb = 'create';
    const r: Route = { kind: 'resource', rt, verb, watch, method, subPath };
    if (ns !== undefined) r.ns = ns;
    if (name !== undefined) r.name = name;
    if (sub !== undefined) r.sub = sub;
    return r;
  }

  private denied(attrs: { verb: string; group: string; resource: string; subresource?: string; namespace?: string; name?: string }): boolean {
    return this.deny.some((d) => {
      let resource = d.resource;
      let subresource = d.subresource;
      if (typeof resource === 'string' && resource.includes('/')) {
        [resource, subresource] = resource.split('/') as [string, string];
      }
      return (
        matchOne(d.verb, attrs.verb) &&
        matchOne(d.group, attrs.group) &&
        matchOne(resource, attrs.resource) &&
        (subresource === undefined ? true : matchOne(subresource, attrs.subresource)) &&
        matchOne(d.namespace, attrs.namespace) &&
        matchOne(d.name, attrs.name)
      );
    });
  }

  private async dispatch(r: ResourceRoute, req: IncomingMessage, res: ServerResponse, body: unknown, contentType: string): Promise<void> {
    const { rt, verb } = r;
    const attrs: Parameters<FakeApiServerImpl['denied']>[0] = { verb, group: rt.group, resource: rt.plural };
    if (r.sub) attrs.subresource = r.sub;
    if (r.ns) attrs.namespace = r.ns;
    if (r.name) attrs.name = r.name;
    if (rt.kind !== 'SelfSubjectAccessReview' && this.denied(attrs)) {
      const res2 = r.sub ? `${rt.plural}/${r.sub}` : rt.plural;
      const scope = r.ns ? `in the namespace "${r.ns}"` : 'at the cluster scope';
      const subject = r.name ? `${qualified(rt)} "${r.name}"` : qualified(rt);
      throw new ApiError(statusObj(403, 'Forbidden', `${subject} is forbidden: User "${this.user}" cannot ${verb} resource "${res2}" in API group "${rt.group}" ${scope}`, detailsFor(rt, r.name)));
    }
    if (verb !== 'create' && !rt.verbs.includes(verb) && !r.sub) throw E.methodNotAllowed();
    const q = Object.fromEntries(new URL(req.url ?? '/', 'http://x').searchParams.entries());
    const dryRun = q.dryRun === 'All';

    if (r.sub === 'log') return this.podLog(r, q, res);
    if (r.sub === 'exec' || r.sub === 'attach' || r.sub === 'portforward') {
      throw E.badRequest(`Upgrade request required`);
    }
    if (r.sub === 'proxy') return this.proxy(r, res);

    if (r.name === undefined) {
      if (r.watch) return this.watch(r, q, res);
      if (r.method === 'GET') return this.send(res, 200, this.listResponse(r, q));
      if (r.method === 'POST') {
        if (!rt.verbs.includes('create')) throw E.methodNotAllowed();
        if (rt.namespaced && r.ns === undefined) throw E.methodNotAllowed();
        if (rt.kind === 'SelfSubjectAccessReview') return this.send(res, 201, this.accessReview(body));
        const created = this.create(rt, r.ns, body, { dryRun });
        return this.send(res, 201, created);
      }
      if (r.method === 'DELETE') return this.send(res, 200, this.deleteCollection(r, q));
      throw E.methodNotAllowed();
    }
    if (r.watch) return this.watch(r, { ...q, fieldSelector: [q.fieldSelector, `metadata.name=${r.name}`].filter(Boolean).join(',') }, res);
    switch (r.method) {
      case 'GET': {
        const o = this.bucket(rt.storageKey).get(keyOf(r.ns, r.name));
        if (!o) throw E.notFound(rt, r.name);
        return this.send(res, 200, this.output(rt, o));
      }
      case 'PUT': {
        if (r.sub === 'finalize') return this.send(res, 200, this.apiUpdate(rt, r.ns, r.name, body, { dryRun, sub: 'finalize' }));
        return this.send(res, 200, this.apiUpdate(rt, r.ns, r.name, body, r.sub ? { dryRun, sub: r.sub } : { dryRun }));
      }
      case 'PATCH': {
        const [code, out] = this.patch(rt, r.ns, r.name, body, contentType, q, r.sub, dryRun);
        return this.send(res, code, out);
      }
      case 'DELETE': {
        if (r.sub) throw E.methodNotAllowed();
        const [code, out] = this.apiDelete(rt, r.ns, r.name, body, q, dryRun);
        return this.send(res, code, out);
      }
      default:
        throw E.methodNotAllowed();
    }
  }

  // ── LIST / WATCH ────────────────────────────────────────────────────────────────────────────────────────────

  private selectors(rt: ResourceType, q: Record<string, string>): { labels: LabelRequirement[]; fields: FieldRequirement[] } {
    const labels = q.labelSelector ? parseLabelSelector(q.labelSelector) : [];
    const fields = q.fieldSelector ? parseFieldSelector(q.fieldSelector) : [];
    const allowed = ['metadata.name', 'metadata.namespace', ...rt.fieldSelectors];
    for (const f of fields) {
      if (!allowed.includes(f.field)) {
        throw E.badRequest(rt.crd ? `"${f.field}" is not a known field selector: only "metadata.name", "metadata.namespace"` : `field label not supported: ${f.field}`);
      }
    }
    return { labels, fields };
  }

  private matching(r: ResourceRoute, q: Record<string, string>): KubeObject[] {
    const { labels, fields } = this.selectors(r.rt, q);
    return this.sorted(r.rt).filter((o) => (r.ns === undefined || nsOf(o) === r.ns) && matchLabels(labels, o.metadata.labels as Record<string, string>) && matchFields(fields, o));
  }

  private listResponse(r: ResourceRoute, q: Record<string, string>): Record<string, unknown> {
    const rt = r.rt;
    let items = this.matching(r, q);
    const listMeta: Record<string, unknown> = { resourceVersion: String(this.rv) };
    if (q.continue) {
      let tok: { rv: number; key: string };
      try {
        tok = JSON.parse(Buffer.from(q.continue, 'base64url').toString('utf8')) as { rv: number; key: string };
        if (typeof tok.rv !== 'number' || typeof tok.key !== 'string') throw new Error('bad token');
      } catch {
        throw E.badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
      }
      if (tok.rv < this.compactedRv) {
        throw E.expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.');
      }
      items = items.filter((o) => keyOf(nsOf(o), o.metadata.name) > tok.key);
    }
    const limit = q.limit ? Number(q.limit) : 0;
    if (limit > 0 && items.length > limit) {
      const last = items[limit - 1]!;
      listMeta.continue = Buffer.from(JSON.stringify({ rv: this.rv, key: keyOf(nsOf(last), last.metadata.name) })).toString('base64url');
      listMeta.remainingItemCount = items.length - limit;
      items = items.slice(0, limit);
    }
    return {
      apiVersion: rt.apiVersion,
      kind: rt.listKind,
      metadata: listMeta,
      items: items.map((o) => {
        const c = this.output(rt, o) as Record<string, unknown>;
        if (!rt.crd) {
          delete c.apiVersion;
          delete c.kind;
        }
        return c;
      }),
    };
  }

  private watch(r: ResourceRoute, q: Record<string, string>, res: ServerResponse): void {
    if (!r.rt.verbs.includes('watch')) throw E.methodNotAllowed();
    const { labels, fields } = this.selectors(r.rt, q);
    const rvParam = q.resourceVersion ?? '';
    if (rvParam !== '' && !/^\d+$/.test(rvParam)) throw E.badRequest(`invalid resource version: ${rvParam}`);
    const w: Watcher = { rt: r.rt, labels, fields, res, bookmarks: q.allowWatchBookmarks === 'true' || q.allowWatchBookmarks === '1', timers: [], closed: false };
    if (r.ns !== undefined) w.ns = r.ns;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const from = rvParam === '' ? 0 : Number(rvParam);
    const initial = rvParam === '' || rvParam === '0' || q.sendInitialEvents === 'true';
    if (initial) {
      for (const o of this.sorted(r.rt)) if (this.watchMatches(w, o)) this.writeEvent(w, 'ADDED', this.output(r.rt, o));
      if (q.sendInitialEvents === 'true' && w.bookmarks) this.bookmark(w, true);
    } else {
      if (from < this.compactedRv) {
        this.writeEvent(w, 'ERROR', statusObj(410, 'Expired', `too old resource version: ${from} (${this.compactedRv})`));
        w.closed = true;
        res.end();
        return;
      }
      for (const e of this.history) if (e.rv > from && e.skey === r.rt.storageKey) this.deliver(w, e);
    }
    this.watchers.add(w);
    const timeout = q.timeoutSeconds ? Number(q.timeoutSeconds) : 0;
    if (timeout > 0) {
      const t = setTimeout(() => {
        if (w.bookmarks) this.bookmark(w);
        this.endWatch(w);
      }, timeout * 1000);
      t.unref();
      w.timers.push(t);
    }
    res.on('close', () => {
      w.closed = true;
      for (const t of w.timers) clearTimeout(t);
      this.watchers.delete(w);
    });
  }

  // ── CREATE ──────────────────────────────────────────────────────────────────────────────────────────────────

  private checkTypeMeta(rt: ResourceType, body: unknown): KubeObject {
    if (!isObj(body)) throw E.badRequest(`the body of the request could not be decoded: expected an object, got ${jsonType(body)}`);
    const shown = JSON.stringify(body).slice(0, 200);
    if (typeof body.kind !== 'string' || body.kind === '') throw E.badRequest(`Object 'Kind' is missing in '${shown}'`);
    if (typeof body.apiVersion !== 'string' || body.apiVersion === '') throw E.badRequest(`Object 'apiVersion' is missing in '${shown}'`);
    if (body.apiVersion !== rt.apiVersion) {
      throw E.badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (${rt.apiVersion})`);
    }
    if (body.kind !== rt.kind) throw E.badRequest(`${body.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: kind mismatch`);
    if (body.metadata !== undefined && !isObj(body.metadata)) throw E.badRequest(`${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: metadata must be an object`);
    const o = clone(body) as KubeObject;
    o.metadata ??= { name: '' };
    return o;
  }

  private generateName(rt: ResourceType, ns: string | undefined, prefix: string): string {
    for (;;) {
      const n = `${prefix}${generateSuffix()}`;
      if (!this.bucket(rt.storageKey).has(keyOf(ns, n))) return n;
    }
  }

  private create(rt: ResourceType, ns: string | undefined, body: unknown, opts: { dryRun: boolean }): KubeObject {
    const o = this.checkTypeMeta(rt, body);
    const m = meta(o);
    if (rt.namespaced) {
      if (m.namespace !== undefined && m.namespace !== '' && m.namespace !== ns) {
        throw E.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      m.namespace = ns!;
    } else delete m.namespace;
    if (m.resourceVersion !== undefined && m.resourceVersion !== '') throw E.badRequest('resourceVersion should not be set on objects to be created');
    const nameForErrors = () => (typeof m.name === 'string' && m.name ? m.name : typeof m.generateName === 'string' ? m.generateName : '');
    if (rt.namespaced) {
      const nso = this.bucket('/namespaces').get(keyOf('', ns!));
      if (!nso) throw E.nsNotFound(ns!);
      if (nso.metadata.deletionTimestamp) {
        const msg = `unable to create new content in namespace ${ns} because it is being terminated`;
        const d = detailsFor(rt, nameForErrors());
        d.causes = [{ reason: 'NamespaceTerminating', message: msg, field: 'metadata.namespace' }];
        throw new ApiError(statusObj(403, 'Forbidden', `${qualified(rt)} "${nameForErrors()}" is forbidden: ${msg}`, d));
      }
    }
    if ((!m.name || m.name === '') && typeof m.generateName === 'string' && m.generateName) {
      m.name = this.generateName(rt, ns, m.generateName);
    }
    delete m.uid;
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    // PrepareForCreate drops status (Nodes are the exception: they may be created with one)
    if (rt.statusSubresource && !(rt.group === '' && rt.kind === 'Node')) delete o.status;
    if (!rt.crd) {
      m.uid = randomUUID();
      prepareBuiltinCreate(rt, o);
      normalizeSecret(o);
    } else applyDefaults(rt.crd.version.schema, o);
    if (rt.group === 'apiextensions.k8s.io' && rt.kind === 'CustomResourceDefinition') {
      try {
        parseCrd(o);
      } catch (e) {
        throw E.invalid(rt, nameForErrors(), [{ path: 'spec', type: 'FieldValueInvalid', message: `Invalid value: "object": ${e instanceof Error ? e.message : String(e)}` }]);
      }
      o.status = crdStatus(o);
    }
    this.admit(rt, o, { operation: 'CREATE' });
    const errs = this.validateFor(rt, o);
    if (errs.length) throw E.invalid(rt, nameForErrors(), errs);
    if (this.bucket(rt.storageKey).has(keyOf(m.namespace, m.name))) throw E.exists(rt, m.name);
    if (opts.dryRun) {
      m.uid ??= randomUUID();
      m.creationTimestamp = now();
      if (rt.generation) m.generation = 1;
      return this.output(rt, o);
    }
    const created = this.insert(rt, o, 'api');
    if (rt.group === 'apiextensions.k8s.io' && rt.kind === 'CustomResourceDefinition') this.refreshCrds();
    return this.output(rt, created);
  }

  private accessReview(body: unknown): Record<string, unknown> {
    if (!isObj(body) || !isObj(body.spec)) throw E.badRequest('SelfSubjectAccessReview needs a spec');
    const spec = body.spec;
    const ra = isObj(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
    let allowed = true;
    if (ra) {
      const attrs: Parameters<FakeApiServerImpl['denied']>[0] = { verb: String(ra.verb ?? ''), group: String(ra.group ?? ''), resource: String(ra.resource ?? '') };
      if (typeof ra.subresource === 'string' && ra.subresource) attrs.subresource = ra.subresource;
      if (typeof ra.namespace === 'string' && ra.namespace) attrs.namespace = ra.namespace;
      if (typeof ra.name === 'string' && ra.name) attrs.name = ra.name;
      allowed = !this.denied(attrs);
    }
    return {
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec,
      status: allowed ? { allowed: true, reason: 'allowed by the fake apiserver' } : { allowed: false, reason: 'denied by a fake apiserver deny rule' },
    };
  }

  // ── UPDATE / PATCH ──────────────────────────────────────────────────────────────────────────────────────────

  private apiUpdate(rt: ResourceType, ns: string | undefined, name: string, body: unknown, opts: { dryRun: boolean; sub?: string; patched?: boolean }): KubeObject {
    const o = this.checkTypeMeta(rt, body);
    const m = meta(o);
    if (m.name !== name) throw E.badRequest(`the name of the object (${String(m.name ?? '')}) does not match the name on the URL (${name})`);
    if (rt.namespaced && m.namespace !== undefined && m.namespace !== '' && m.namespace !== ns) {
      throw E.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const old = this.bucket(rt.storageKey).get(keyOf(ns, name));
    if (!old) throw E.notFound(rt, name);
    if (m.uid !== undefined && m.uid !== '' && m.uid !== old.metadata.uid) {
      throw E.conflict(rt, name, `Precondition failed: UID in precondition: ${String(m.uid)}, UID in object meta: ${String(old.metadata.uid)}`);
    }
    if (m.resourceVersion === undefined || m.resourceVersion === '') {
      if (!rt.unconditionalUpdate && !opts.patched) {
        throw E.invalid(rt, name, [{ path: 'metadata.resourceVersion', type: 'FieldValueInvalid', message: 'Invalid value: 0x0: must be specified for an update' }]);
      }
    } else if (m.resourceVersion !== old.metadata.resourceVersion) {
      throw E.conflict(rt, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    let next: KubeObject;
    if (opts.sub === 'status') {
      next = clone(old);
      if (o.status === undefined) delete next.status;
      else next.status = o.status;
    } else if (opts.sub === 'finalize') {
      next = clone(old);
      next.spec = { ...(isObj(old.spec) ? old.spec : {}), finalizers: isObj(o.spec) && Array.isArray(o.spec.finalizers) ? o.spec.finalizers : [] };
    } else {
      next = o;
      if (rt.statusSubresource) {
        if (old.status === undefined) delete next.status;
        else next.status = clone(old.status);
      }
      if (rt.kind === 'Secret' && !rt.group) normalizeSecret(next);
      if (rt.crd) applyDefaults(rt.crd.version.schema, next);
      if (old.metadata.deletionTimestamp) {
        const before = Array.isArray(old.metadata.finalizers) ? (old.metadata.finalizers as string[]) : [];
        const after = Array.isArray(next.metadata.finalizers) ? (next.metadata.finalizers as string[]) : [];
        const added = after.filter((f) => !before.includes(f));
        if (added.length) {
          throw E.invalid(rt, name, [{ path: 'metadata.finalizers', type: 'FieldValueForbidden', message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((a) => `"${a}"`).join(', ')}}` }]);
        }
      }
    }
    if (rt.group === 'apiextensions.k8s.io' && rt.kind === 'CustomResourceDefinition' && opts.sub !== 'status') {
      try {
        parseCrd(next);
      } catch (e) {
        throw E.invalid(rt, name, [{ path: 'spec', type: 'FieldValueInvalid', message: `Invalid value: "object": ${e instanceof Error ? e.message : String(e)}` }]);
      }
    }
    const admitCtx: AdmissionContext = { operation: 'UPDATE', old: this.output(rt, old) };
    if (opts.sub) admitCtx.subresource = opts.sub;
    this.admit(rt, next, admitCtx);
    next.metadata.uid = old.metadata.uid;
    next.metadata.creationTimestamp = old.metadata.creationTimestamp;
    const errs = this.validateFor(rt, next, old);
    if (errs.length) throw E.invalid(rt, name, errs);
    if (opts.dryRun) return this.output(rt, next);
    return this.output(rt, this.replace(rt, old, next, 'api', opts.sub));
  }

  private patch(rt: ResourceType, ns: string | undefined, name: string, body: unknown, contentType: string, q: Record<string, string>, sub: string | undefined, dryRun: boolean): [number, KubeObject] {
    const ct = contentType.split(';')[0]!.trim();
    const old = this.bucket(rt.storageKey).get(keyOf(ns, name));
    if (body === undefined) throw E.badRequest('the body of the request was empty');
    if (ct === 'application/apply-patch+yaml') {
      if (!q.fieldManager) {
        throw new ApiError(statusObj(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', { group: 'meta.k8s.io', kind: 'PatchOptions', causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }] }));
      }
      if (!old) {
        if (sub) throw E.notFound(rt, name);
        const o = this.checkTypeMeta(rt, body);
        if (o.metadata.name !== name) throw E.badRequest(`the name of the object (${String(o.metadata.name ?? '')}) does not match the name on the URL (${name})`);
        return [201, this.create(rt, ns, o, { dryRun })];
      }
      const listKeys = (p: string[]) => this.listMapKeys(rt, p);
      const merged = applyApply(this.output(rt, old), body, listKeys) as KubeObject;
      merged.metadata.resourceVersion = old.metadata.resourceVersion!;
      return [200, this.apiUpdate(rt, ns, name, merged, { dryRun, patched: true, ...(sub ? { sub } : {}) })];
    }
    if (!old) throw E.notFound(rt, name);
    const current = this.output(rt, old);
    let patched: unknown;
    try {
      if (ct === 'application/merge-patch+json') patched = applyMergePatch(current, body);
      else if (ct === 'application/json-patch+json') patched = applyJsonPatch(current, body);
      else if (ct === 'application/strategic-merge-patch+json') {
        if (rt.crd) throw E.unsupportedMedia(ct);
        patched = applyStrategicMergePatch(current, body);
      } else throw E.unsupportedMedia(ct);
    } catch (e) {
      if (e instanceof PatchError) {
        if (e.code === 400) throw E.badRequest(e.message);
        throw new ApiError(statusObj(422, 'Invalid', e.message));
      }
      throw e;
    }
    if (!isObj(patched) || !isObj(patched.metadata)) throw E.badRequest('the patch removed the object metadata');
    if (patched.metadata.resourceVersion === undefined || patched.metadata.resourceVersion === null) patched.metadata.resourceVersion = old.metadata.resourceVersion;
    return [200, this.apiUpdate(rt, ns, name, patched, { dryRun, patched: true, ...(sub ? { sub } : {}) })];
  }

  private listMapKeys(rt: ResourceType, p: string[]): string[] | undefined {
    if (!rt.crd) return undefined;
    let s: import('./schema.ts').JSONSchemaProps | undefined = rt.crd.version.schema;
    for (const k of p) {
      if (!s) return undefined;
      if (k === '[]') s = s.items;
      else s = s.properties?.[k] ?? (isObj(s.additionalProperties) ? s.additionalProperties : undefined);
    }
    return s?.['x-kubernetes-list-type'] === 'map' ? s['x-kubernetes-list-map-keys'] : s?.['x-kubernetes-list-type'] ? [] : undefined;
  }

  // ── DELETE ──────────────────────────────────────────────────────────────────────────────────────────────────

  private deleteOptions(body: unknown, q: Record<string, string>): { orphan?: boolean; uid?: string; rv?: string; dryRun: boolean } {
    const b = isObj(body) ? body : {};
    const policy = (typeof b.propagationPolicy === 'string' ? b.propagationPolicy : q.propagationPolicy) ?? undefined;
    const pre = isObj(b.preconditions) ? b.preconditions : {};
    const out: { orphan?: boolean; uid?: string; rv?: string; dryRun: boolean } = { dryRun: q.dryRun === 'All' || (Array.isArray(b.dryRun) && b.dryRun.includes('All')) };
    if (policy === 'Orphan' || b.orphanDependents === true || q.orphanDependents === 'true') out.orphan = true;
    else if (policy === 'Background' || policy === 'Foreground' || b.orphanDependents === false) out.orphan = false;
    if (typeof pre.uid === 'string') out.uid = pre.uid;
    if (typeof pre.resourceVersion === 'string') out.rv = pre.resourceVersion;
    return out;
  }

  private apiDelete(rt: ResourceType, ns: string | undefined, name: string, body: unknown, q: Record<string, string>, dryRun: boolean): [number, unknown] {
    const o = this.bucket(rt.storageKey).get(keyOf(ns, name));
    if (!o) throw E.notFound(rt, name);
    const opts = this.deleteOptions(body, q);
    if (opts.uid !== undefined && opts.uid !== o.metadata.uid) {
      throw E.conflict(rt, name, `Precondition failed: UID in precondition: ${opts.uid}, UID in object meta: ${String(o.metadata.uid)}`);
    }
    if (opts.rv !== undefined && opts.rv !== o.metadata.resourceVersion) {
      throw E.conflict(rt, name, `Precondition failed: ResourceVersion in precondition: ${opts.rv}, ResourceVersion in object meta: ${String(o.metadata.resourceVersion)}`);
    }
    this.admit(rt, this.output(rt, o), { operation: 'DELETE', old: this.output(rt, o) });
    if (dryRun || opts.dryRun) return [200, this.output(rt, o)];
    const delOpts: { orphan?: boolean } = {};
    if (opts.orphan !== undefined) delOpts.orphan = opts.orphan;
    const [out, removed] = this.requestDelete(rt, o, 'api', delOpts);
    if (!removed || rt.returnDeletedObject) return [200, this.output(rt, out)];
    const d = detailsFor(rt, name);
    d.uid = String(o.metadata.uid);
    return [200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: d }];
  }

  private deleteCollection(r: ResourceRoute, q: Record<string, string>): Record<string, unknown> {
    const items = this.matching(r, q);
    const out: KubeObject[] = [];
    const opts = this.deleteOptions(undefined, q);
    for (const o of items) {
      const delOpts: { orphan?: boolean } = {};
      if (opts.orphan !== undefined) delOpts.orphan = opts.orphan;
      const [x] = this.requestDelete(r.rt, o, 'api', delOpts);
      out.push(this.output(r.rt, x));
    }
    return { apiVersion: r.rt.apiVersion, kind: r.rt.listKind, metadata: { resourceVersion: String(this.rv) }, items: out };
  }

  // ── pods/log, nodes/proxy, exec ─────────────────────────────────────────────────────────────────────────────

  private podLog(r: ResourceRoute, q: Record<string, string>, res: ServerResponse): void {
    const ns = r.ns!;
    const pod = this.bucket('/pods').get(keyOf(ns, r.name!));
    if (!pod) throw E.notFound(r.rt, r.name!);
    const containers = this.podContainers(ns, r.name!);
    const mainContainers = (isObj(pod.spec) && Array.isArray(pod.spec.containers) ? pod.spec.containers : []).map((c) => (isObj(c) ? String(c.name) : ''));
    let container = q.container;
    if (!container) {
      if (mainContainers.length !== 1) throw E.badRequest(`a container name must be specified for pod ${r.name}, choose one of: [${mainContainers.join(' ')}]`);
      container = mainContainers[0]!;
    }
    if (!containers.includes(container)) throw E.badRequest(`container ${container} is not valid for pod ${r.name}`);
    const statuses = isObj(pod.status) ? [...(Array.isArray(pod.status.containerStatuses) ? pod.status.containerStatuses : []), ...(Array.isArray(pod.status.initContainerStatuses) ? pod.status.initContainerStatuses : [])] : [];
    const cs = statuses.find((s) => isObj(s) && s.name === container);
    if (isObj(cs) && isObj(cs.state) && isObj(cs.state.waiting)) {
      throw E.badRequest(`container "${container}" in pod "${r.name}" is waiting to start: ${String(cs.state.waiting.reason ?? 'ContainerCreating')}`);
    }
    let text = this.podLogs.get(`${ns}/${r.name}/${container}`) ?? '';
    if (q.tailLines !== undefined) {
      const n = Number(q.tailLines);
      const lines = text.split('\n');
      const trailing = text.endsWith('\n');
      if (trailing) lines.pop();
      text = n <= 0 ? '' : lines.slice(-n).join('\n') + (trailing && lines.length ? '\n' : '');
    }
    if (q.limitBytes !== undefined) text = Buffer.from(text).subarray(0, Number(q.limitBytes)).toString('utf8');
    const follow = q.follow === 'true' || q.follow === '1';
    if (!follow) return this.send(res, 200, text);
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
    res.write(text);
    const phase = isObj(pod.status) ? pod.status.phase : undefined;
    if (phase === 'Succeeded' || phase === 'Failed') {
      res.end();
      return;
    }
    const s: LogStream = { ns, pod: r.name!, container, res };
    this.logStreams.add(s);
    res.on('close', () => this.logStreams.delete(s));
  }

  private proxy(r: ResourceRoute, res: ServerResponse): void {
    if (r.rt.kind !== 'Node') throw E.pathNotFound();
    if (!this.bucket('/nodes').has(keyOf('', r.name!))) throw E.notFound(r.rt, r.name!);
    const p = r.subPath.join('/');
    const custom = this.nodeProxy.get(`${r.name}/${p}`);
    if (custom) return this.send(res, 200, custom.body, { 'Content-Type': custom.contentType });
    if (p === 'metrics/resource') {
      return this.send(res, 200, this.nodeMetrics.get(r.name!) ?? this.defaultNodeMetrics(r.name!), { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
    }
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('404 page not found\n');
  }

  private async handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const query: Record<string, string> = Object.fromEntries(url.searchParams.entries());
    const rec: RequestRecord = { method: req.method ?? 'GET', path: url.pathname, query, watch: false, verb: 'create' };
    this.requests.push(rec);
    for (const l of this.requestListeners) l(rec);
    const reject = (s: StatusObject) => {
      rec.status = s.code;
      const body = JSON.stringify(s);
      socket.end(`HTTP/1.1 ${s.code} ${s.reason ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    };
    if (!this.authorized(req)) return reject(statusObj(401, 'Unauthorized', 'Unauthorized'));
    let route: Route;
    try {
      route = this.route('POST', url.pathname.replace(/\/+$/, ''), query);
    } catch (e) {
      if (e instanceof ApiError) return reject(e.status);
      throw e;
    }
    if (route.kind !== 'resource' || route.sub !== 'exec') return reject(statusObj(400, 'BadRequest', `the fake apiserver only upgrades pods/exec requests`));
    const ns = route.ns!;
    const podName = route.name!;
    const pod = this.bucket('/pods').get(keyOf(ns, podName));
    if (!pod) return reject(E.notFound(route.rt, podName).status);
    const attrs = { verb: 'create', group: '', resource: 'pods', subresource: 'exec', namespace: ns, name: podName };
    if (this.denied(attrs)) {
      return reject(statusObj(403, 'Forbidden', `pods "${podName}" is forbidden: User "${this.user}" cannot create resource "pods/exec" in API group "" in the namespace "${ns}"`, { name: podName, kind: 'pods' }));
    }
    const handler = this.execHandler;
    if (!handler) return reject(statusObj(400, 'BadRequest', 'pods/exec is not supported by the fake apiserver (register server.onExec(handler) to answer exec requests)'));
    const mainContainers = (isObj(pod.spec) && Array.isArray(pod.spec.containers) ? pod.spec.containers : []).map((c) => (isObj(c) ? String(c.name) : ''));
    let container = query.container;
    if (!container) {
      if (mainContainers.length !== 1) return reject(statusObj(400, 'BadRequest', `a container name must be specified for pod ${podName}, choose one of: [${mainContainers.join(' ')}]`));
      container = mainContainers[0]!;
    }
    if (!this.podContainers(ns, podName).includes(container)) return reject(statusObj(400, 'BadRequest', `container ${container} is not valid for pod ${podName}`));
    const command = url.searchParams.getAll('command');
    const wantStdin = query.stdin === 'true' || query.stdin === '1';
    const ws = acceptWebSocket(req, socket, ['v5.channel.k8s.io', 'v4.channel.k8s.io'], head);
    if (!ws) return;
    rec.status = 101;
    const stdinChunks: Buffer[] = [];
    const stdinDone = new Promise<void>((resolve) => {
      if (!wantStdin) return resolve();
      ws.onMessage((data) => {
        if (data.length === 0) return;
        const ch = data[0]!;
        if (ch === 0) stdinChunks.push(data.subarray(1));
        else if (ch === 255 && data[1] === 0) resolve();
      });
      ws.onClose(() => resolve());
    });
    await stdinDone;
    let result: ExecResult;
    try {
      result = await handler({ namespace: ns, pod: podName, container, command, stdin: Buffer.concat(stdinChunks) });
    } catch (e) {
      result = { stderr: `${e instanceof Error ? e.message : String(e)}\n`, exitCode: 126 };
    }
    const chan = (n: number, data: string | Buffer | undefined) => {
      if (data === undefined || data.length === 0) return;
      ws.send(Buffer.concat([Buffer.from([n]), typeof data === 'string' ? Buffer.from(data) : data]));
    };
    chan(1, result.stdout);
    chan(2, result.stderr);
    const code = result.exitCode ?? 0;
    const st =
      code === 0
        ? { metadata: {}, status: 'Success' }
        : { metadata: {}, status: 'Failure', message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`, reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: String(code) }] } };
    chan(3, JSON.stringify(st));
    ws.close();
  }
}

type Route = { kind: 'discovery'; body: unknown } | ResourceRoute;
interface ResourceRoute {
  kind: 'resource';
  rt: ResourceType;
  verb: string;
  watch: boolean;
  method: string;
  ns?: string;
  name?: string;
  sub?: string;
  subPath: string[];
}

/** Kubernetes version priority: GA before beta before alpha, higher numbers first, others alphabetically last. */
export function compareVersions(a: string, b: string): number {
  const rank = (v: string): [number, number, number, string] => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [3, 0, 0, v];
    const level = m[2] === undefined ? 0 : m[2] === 'beta' ? 1 : 2;
    return [level, -Number(m[1]), -Number(m[3] ?? 0), v];
  };
  const ra = rank(a);
  const rb = rank(b);
  for (let i = 0; i < 3; i++) if (ra[i] !== rb[i]) return (ra[i] as number) - (rb[i] as number);
  return ra[3] < rb[3] ? -1 : ra[3] > rb[3] ? 1 : 0;
}

function crdStatus(o: Record<string, unknown>): Record<string, unknown> {
  const spec = isObj(o.spec) ? o.spec : {};
  const versions = Array.isArray(spec.versions) ? spec.versions : [];
  const storage = versions.find((v) => isObj(v) && v.storage === true);
  const t = now();
  return {
    acceptedNames: spec.names,
    conditions: [
      { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: t },
      { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: t },
    ],
    storedVersions: isObj(storage) ? [storage.name] : [],
  };
}

function nodeObject(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' } },
    spec: {},
    status: {
      capacity: { cpu: '4', memory: '16Gi', pods: '110', 'ephemeral-storage': '100Gi' },
      allocatable: { cpu: '4', memory: '16Gi', pods: '110', 'ephemeral-storage': '100Gi' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now(), lastTransitionTime: now() }],
      nodeInfo: { kubeletVersion: 'v1.31.0', containerRuntimeVersion: 'containerd://1.7.0', operatingSystem: 'linux', architecture: 'amd64' },
      addresses: [{ type: 'InternalIP', address: '10.0.0.1' }, { type: 'Hostname', address: name }],
    },
  };
}

export async function startFakeApiServer(opts: FakeApiServerOptions = {}): Promise<FakeApiServer> {
  const s = new FakeApiServerImpl(opts);
  await s.listen();
  return s;
}
