// TEST-ONLY helpers for talking to the fake API server with plain fetch (no client library), and reading watch streams.
import type { FakeApiServer } from './server.ts';

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export interface CallOptions {
  contentType?: string;
  token?: string | null;
}

export function caller(server: FakeApiServer) {
  return async function call(method: string, path: string, body?: unknown, opts: CallOptions = {}): Promise<ApiResponse> {
    const headers: Record<string, string> = {};
    const token = opts.token === undefined ? server.token : opts.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let payload: string | undefined;
    if (body !== undefined) {
      headers['content-type'] = opts.contentType ?? 'application/json';
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const init: RequestInit = { method, headers, signal: AbortSignal.timeout(10_000) };
    if (payload !== undefined) init.body = payload;
    const res = await fetch(server.url + path, init);
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  };
}

export interface WatchEvent {
  type: string;
  object: any;
}

/** Reads newline-delimited watch events; next() resolves with an event, or null once the stream has ended. */
export class WatchStream {
  status = 0;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private buf = '';
  private queue: WatchEvent[] = [];
  private ended = false;
  private controller = new AbortController();
  private decoder = new TextDecoder();

  static async open(server: FakeApiServer, path: string): Promise<WatchStream> {
    const w = new WatchStream();
    const timer = setTimeout(() => w.controller.abort(), 10_000);
    const res = await fetch(server.url + path, { headers: { authorization: `Bearer ${server.token}` }, signal: w.controller.signal });
    clearTimeout(timer);
    w.status = res.status;
    w.reader = res.body!.getReader();
    return w;
  }

  async next(timeoutMs = 5000): Promise<WatchEvent | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = this.queue.shift();
      if (e) return e;
      if (this.ended) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no watch event within ${timeoutMs}ms`);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), left);
      });
      let chunk: { done: boolean; value?: Uint8Array } | 'timeout';
      try {
        chunk = await Promise.race([this.reader!.read(), timeout]);
      } catch {
        this.ended = true;
        continue;
      } finally {
        clearTimeout(timer);
      }
      if (chunk === 'timeout') throw new Error(`no watch event within ${timeoutMs}ms`);
      if (chunk.done) {
        this.ended = true;
        continue;
      }
      this.buf += this.decoder.decode(chunk.value, { stream: true });
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        if (line.trim()) this.queue.push(JSON.parse(line) as WatchEvent);
      }
    }
  }

  /** Collects `n` events (throws on timeout or early end). */
  async take(n: number, timeoutMs = 5000): Promise<WatchEvent[]> {
    const out: WatchEvent[] = [];
    while (out.length < n) {
      const e = await this.next(timeoutMs);
      if (!e) throw new Error(`watch ended after ${out.length} of ${n} events: ${JSON.stringify(out.map((x) => x.type))}`);
      out.push(e);
    }
    return out;
  }

  close(): void {
    this.controller.abort();
  }
}
