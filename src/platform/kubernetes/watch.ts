// List + watch with resume: keeps a cache of the watched objects current and calls `check` after the initial list
// and after every change, until it returns a value. A dropped watch is resumed from the last resourceVersion seen;
// a 410 Gone (too old a resourceVersion, as an HTTP status or as an ERROR event) re-lists. Everything has an
// overall timeout, and an AbortSignal ends it early.
import type { Kube, KubeList, KubeObject, ResourceRef } from './client.ts';
import { KubeApiError, isGone, resourcePath } from './client.ts';
import { withTrialInterrupt } from '../interrupt.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent {
  type: WatchEventType;
  object: KubeObject;
}

/** Objects by "namespace/name" (or "name" for cluster-scoped ones). */
export type WatchState = Map<string, KubeObject>;

export function objectKey(obj: KubeObject): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name ?? ''}` : (obj.metadata.name ?? '');
}

export class WatchTimeoutError extends Error {
  readonly what: string;
  constructor(what: string, timeoutMs: number, lastSeen: string) {
    super(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${lastSeen ? `; last seen: ${lastSeen}` : ''}`);
    this.name = 'WatchTimeoutError';
    this.what = what;
  }
}

export class WatchAbortedError extends Error {
  constructor(what: string) {
    super(`stopped waiting for ${what}`);
    this.name = 'WatchAbortedError';
  }
}

export interface WatchStats {
  lists: number;
  watches: number;
  /** Watches that ended (server timeout, dropped connection) and were resumed from a resourceVersion. */
  resumed: number;
  /** 410 Gone: resourceVersion too old, state re-listed. */
  gone: number;
  events: number;
}

export interface WatchOptions<R> {
  /** The collection to watch (no name). */
  ref: ResourceRef;
  labelSelector?: string;
  /** Only this object (sent as a field selector and filtered here too). */
  name?: string;
  /** For messages: "Backup velero/pvbench-x to finish". */
  what: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Called with the current state after every list and event; the first value it returns ends the watch. */
  check: (state: WatchState, event: WatchEvent | undefined) => R | undefined;
  /** Summary of the state for the timeout message. */
  lastSeen?: (state: WatchState) => string;
  /** Called on every resume / re-list (for logs and tests). */
  onReconnect?: (why: 'dropped' | 'gone' | 'error', stats: WatchStats) => void;
  /** Server-side timeout of one watch request (it is resumed after), seconds. */
  watchSeconds?: number;
  /** Also call check (with no event) this often: for conditions that depend on time passing. */
  tickMs?: number;
  /**
   * Answers that mean "not yet" rather than "no", retried like a 5xx within the deadline: for waits through an API
   * server's restart, which answers 401/403 (authenticator or authorizer not ready) and 404 (resources not yet
   * registered) for a while. See RESTARTING_API.
   */
  transientStatuses?: readonly number[];
}

/**
 * A status timestamp (RFC 3339, whole seconds) surely later than `since` (ms since epoch): only one stamped in a
 * later second than `since` is, since one in the same second may be from before it.
 */
export function stampedAfter(stamp: unknown, since: number): boolean {
  if (typeof stamp !== 'string') return false;
  const t = Date.parse(stamp);
  return Number.isFinite(t) && t > Math.floor(since / 1000) * 1000;
}

/** What an API server answers while it restarts (a recovery waits through these). */
export const RESTARTING_API: readonly number[] = [401, 403, 404];

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Carries an error thrown by check() out of the stream handler. */
class CheckFailed extends Error {
  override readonly cause: unknown;
  constructor(cause: unknown) {
    super('check failed');
    this.cause = cause;
  }
}

/** Watch until `check` returns a value. Rejects with WatchTimeoutError / WatchAbortedError / API errors. */
export async function watchUntil<R>(kube: Kube, options: WatchOptions<R>): Promise<R> {
  // A wait inside a trial ends at the run's interrupt too.
  const opts = { ...options, signal: withTrialInterrupt(options.signal) };
  const deadline = Date.now() + opts.timeoutMs;
  const state: WatchState = new Map();
  const stats: WatchStats = { lists: 0, watches: 0, resumed: 0, gone: 0, events: 0 };
  const path = resourcePath(opts.ref);
  const fieldSelector = opts.name ? `metadata.name=${opts.name}` : undefined;
  const mine = (o: KubeObject) => !opts.name || o.metadata.name === opts.name;
  const timedOut = () => new WatchTimeoutError(opts.what, opts.timeoutMs, opts.lastSeen ? opts.lastSeen(state) : '');
  let errors = 0;
  let rv = '';
  let needList = true;

  while (true) {
    if (opts.signal?.aborted) throw new WatchAbortedError(opts.what);
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw timedOut();

    if (needList) {
      let list: KubeList;
      try {
        list = await kube.request<KubeList>('GET', path, {
          query: { labelSelector: opts.labelSelector, fieldSelector },
          timeoutMs: Math.min(remaining, 30_000),
          signal: opts.signal,
        });
      } catch (err) {
        if (opts.signal?.aborted) throw new WatchAbortedError(opts.what);
        if (err instanceof KubeApiError && err.status < 500 && err.status !== 429 && !opts.transientStatuses?.includes(err.status)) throw err;
        // The API server is restarting or overloaded: back off and list again, within the deadline.
        errors++;
        opts.onReconnect?.('error', stats);
        await sleep(Math.min(2000, 100 * 2 ** Math.min(errors, 5)), opts.signal);
        continue;
      }
      stats.lists++;
      state.clear();
      for (const item of list.items ?? []) if (mine(item)) state.set(objectKey(item), item);
      rv = list.metadata?.resourceVersion ?? '';
      needList = false;
      const r = opts.check(state, undefined);
      if (r !== undefined) return r;
    }

    let result: R | undefined;
    let failure: unknown;
    let gone = false;
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    // Run check(); a result or a thrown error (check() deciding the wait failed, e.g. a Failed phase) ends the watch.
    const evaluate = (event: Parameters<typeof opts.check>[1]): void => {
      try {
        const r = opts.check(state, event);
        if (r !== undefined) {
          result = r;
          stop.abort();
        }
      } catch (err) {
        failure = err ?? new Error('watch check failed');
        stop.abort();
      }
    };
    const ticker = opts.tickMs
      ? setInterval(() => {
          if (result !== undefined || failure !== undefined || gone) return;
          evaluate(undefined);
        }, opts.tickMs)
      : undefined;
    const watchSeconds = Math.max(1, Math.min(opts.watchSeconds ?? 290, Math.ceil((deadline - Date.now()) / 1000)));
    try {
      stats.watches++;
      const ended = await kube.stream(
        path,
        (line) => {
          if (result !== undefined || gone || failure !== undefined) return;
          let ev: { type?: string; object?: KubeObject & { code?: number } };
          try {
            ev = JSON.parse(line) as typeof ev;
          } catch {
            return; // a torn line from a dropped connection
          }
          const obj = ev.object;
          if (!ev.type || !obj) return;
          if (ev.type === 'ERROR') {
            // A Status object: 410 Gone means our resourceVersion is too old.
            gone = true;
            if (obj.code !== 410) errors++;
            stop.abort();
            return;
          }
          if (obj.metadata?.resourceVersion) rv = obj.metadata.resourceVersion;
          if (ev.type === 'BOOKMARK') return;
          if (!mine(obj)) return;
          stats.events++;
          const type = ev.type as WatchEventType;
          if (type === 'DELETED') state.delete(objectKey(obj));
          else state.set(objectKey(obj), obj);
          evaluate({ type, object: obj });
        },
        {
          query: {
            watch: 1,
            resourceVersion: rv || undefined,
            allowWatchBookmarks: true,
            labelSelector: opts.labelSelector,
            fieldSelector,
            timeoutSeconds: watchSeconds,
          },
          signal: stop.signal,
          timeoutMs: Math.max(1, Math.min(deadline - Date.now(), watchSeconds * 1000 + 5000)),
        },
      );
      if (failure !== undefined) throw new CheckFailed(failure);
      if (result !== undefined) return result;
      if (opts.signal?.aborted) throw new WatchAbortedError(opts.what);
      if (gone) {
        stats.gone++;
        needList = true;
        opts.onReconnect?.('gone', stats);
        continue;
      }
      if (ended.ended === 'timeout' && Date.now() >= deadline) throw timedOut();
      stats.resumed++;
      opts.onReconnect?.('dropped', stats);
      await sleep(50, opts.signal);
    } catch (err) {
      if (err instanceof CheckFailed) throw err.cause;
      if (err instanceof WatchAbortedError || err instanceof WatchTimeoutError) throw err;
      if (opts.signal?.aborted) throw new WatchAbortedError(opts.what);
      if (isGone(err)) {
        stats.gone++;
        needList = true;
        opts.onReconnect?.('gone', stats);
        continue;
      }
      if (err instanceof KubeApiError && err.status < 500 && err.status !== 429 && !opts.transientStatuses?.includes(err.status)) throw err;
      errors++;
      needList = true;
      opts.onReconnect?.('error', stats);
      await sleep(Math.min(2000, 100 * 2 ** Math.min(errors, 5)), opts.signal);
    } finally {
      if (ticker) clearInterval(ticker);
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }
}

/** Follow a watch in the background until `stop()`: `latest()` is the current state. */
export function observe(
  kube: Kube,
  opts: Omit<WatchOptions<never>, 'check' | 'signal'> & { onChange?: (state: WatchState) => void },
): { latest(): WatchState; stop(): Promise<void> } {
  let current: WatchState = new Map();
  const ctl = new AbortController();
  const running = watchUntil<never>(kube, {
    ...opts,
    signal: ctl.signal,
    check: (state) => {
      current = new Map(state);
      opts.onChange?.(current);
      return undefined;
    },
  }).catch(() => undefined);
  return {
    latest: () => current,
    stop: async () => {
      ctl.abort();
      await running;
    },
  };
}
