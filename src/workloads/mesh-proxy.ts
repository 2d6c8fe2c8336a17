// The mesh-proxy workload: what a service-mesh sidecar keeps on its persistent volume.
// Per proxy: an Envoy admin config dump (JSON), access logs in Envoy's default format, Prometheus text stats
// snapshots. Everything is a pure function of (workload config, seed, proxy index): byte-identical on every run,
// whichever thread writes it.
//
// Seeding runs on every core: proxies are handed out to worker threads, each writing whole proxies with
// synchronous file calls. The generator is one self-contained factory (no imports, no free variables) whose source
// text the workers run, as metrics/manifest.ts does with its hashing script: the same code serves the .ts sources
// and the single-file bundle in dist/, and this thread uses the very same functions.
import { appendFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { WorkloadConfig } from '../config/schema.ts';
import { deriveSeed, randomKit, seededRandom } from './random.ts';
import type { Random, RandomKit } from './random.ts';

/** What one proxy's seeding needs of the workload (what a worker is sent). */
type ProxyShape = Pick<WorkloadConfig, 'clusters' | 'accessLogLines' | 'statsSnapshots' | 'statsBytes'>;

export function meshProxyKit(random: RandomKit) {
  const ACCESS_LOG = 'logs/access.log';
  const CONFIG_DUMP = 'config_dump.json';
  const STATS_DIR = 'stats';
  const SERVICES = ['orders', 'payments', 'catalog', 'users', 'inventory', 'shipping', 'reviews', 'search', 'auth', 'cart'];
  const METHODS = ['GET', 'GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
  const CODES = [200, 200, 200, 200, 200, 200, 201, 204, 301, 404, 429, 500, 503];
  const AGENTS = ['envoy/1.31.2', 'grpc-go/1.66.0', 'okhttp/4.12.0', 'curl/8.5.0', 'Go-http-client/2.0', 'python-requests/2.32.3'];
  /** Epoch for generated timestamps: fixed so output never depends on the clock. */
  const EPOCH_MS = Date.UTC(2026, 0, 1, 0, 0, 0);
  /** Access log lines generated and written at a time: memory stays flat for any line count. */
  const LOG_CHUNK = 2000;
  /** Where access log lines are put together before they are written (lines are ASCII, far shorter than this). */
  const LOG_BUFFER = Buffer.allocUnsafe(1 << 20);
  const PAD2: string[] = [];
  for (let i = 0; i < 60; i++) PAD2.push(String(i).padStart(2, '0'));
  const PAD3: string[] = [];
  for (let i = 0; i < 1000; i++) PAD3.push(String(i).padStart(3, '0'));

  const HEX2: string[] = [];
  for (let b = 0; b < 256; b++) HEX2.push((b < 16 ? '0' : '') + b.toString(16));

  /**
   * A version-4-looking request id from 32 hex digits (r.hex(32): four draws, eight digits each), two of them
   * replaced by '4' and 'a': put together from the draws' bytes rather than sliced from that string.
   */
  function uuid(r: Random): string {
    const a = r.next() * 4294967296;
    const b = r.next() * 4294967296;
    const c = r.next() * 4294967296;
    const d = r.next() * 4294967296;
    return (
      HEX2[a >>> 24]! + HEX2[(a >>> 16) & 255]! + HEX2[(a >>> 8) & 255]! + HEX2[a & 255]! +
      '-' + HEX2[b >>> 24]! + HEX2[(b >>> 16) & 255]! +
      '-4' + HEX2[(b >>> 8) & 255]![1]! + HEX2[b & 255]! +
      '-a' + HEX2[c >>> 24]![1]! + HEX2[(c >>> 16) & 255]! +
      '-' + HEX2[(c >>> 8) & 255]! + HEX2[c & 255]! + HEX2[d >>> 24]! + HEX2[(d >>> 16) & 255]! + HEX2[(d >>> 8) & 255]! + HEX2[d & 255]!
    );
  }

  function podIp(r: Random): string {
    return `10.244.${r.int(16)}.${2 + r.int(250)}`;
  }

  // toISOString of a time: the part up to the minute from a Date once per minute, seconds and milliseconds from
  // tables (a Date per line was a third of the generator's time).
  let isoMinute = NaN;
  let isoPrefix = '';
  function isoTime(ms: number): string {
    const minute = Math.floor(ms / 60_000);
    if (minute !== isoMinute) {
      isoMinute = minute;
      isoPrefix = new Date(minute * 60_000).toISOString().slice(0, 17);
    }
    const within = ms - minute * 60_000;
    const second = Math.floor(within / 1000);
    return `${isoPrefix}${PAD2[second]}.${PAD3[within - second * 1000]}Z`;
  }

  /** One access log line in Envoy's default format (the format used when none is configured). */
  function accessLogLine(r: Random, timeMs: number): string {
    const svc = r.pick(SERVICES);
    const method = r.pick(METHODS);
    const code = r.pick(CODES);
    const flags = code === 503 ? 'UF' : code === 429 ? 'RL' : '-';
    const path = `/api/v${1 + r.int(2)}/${svc}/${r.int(100000)}${r.int(4) === 0 ? `?page=${r.int(50)}` : ''}`;
    const duration = 1 + r.int(400);
    const upstream = Math.max(0, duration - r.int(5));
    return (
      `[${isoTime(timeMs)}] "${method} ${path} HTTP/1.1" ${code} ${flags} ` +
      `${method === 'GET' ? 0 : r.int(4096)} ${r.int(65536)} ${duration} ${upstream} ` +
      `"${podIp(r)}" "${r.pick(AGENTS)}" "${uuid(r)}" "${svc}.mesh.svc.cluster.local" "${podIp(r)}:8080"\n`
    );
  }

  function accessLogChunk(r: Random, lines: number, startMs: number): string {
    let out = '';
    let t = startMs;
    for (let i = 0; i < lines; i++) {
      t += r.int(40);
      out += accessLogLine(r, t);
    }
    return out;
  }

  /** An Envoy admin /config_dump: bootstrap, clusters, listeners and routes. */
  function configDump(r: Random, proxy: number, clusters: number, version: number): string {
    const node = { id: `sidecar~10.244.0.${proxy + 2}~proxy-${proxy}.mesh~mesh.svc.cluster.local`, cluster: `proxy-${proxy}.mesh` };
    const cluster = (i: number) => {
      const svc = `${SERVICES[i % SERVICES.length]}-${Math.floor(i / SERVICES.length)}`;
      return {
        version_info: `v${version}-${r.hex(8)}`,
        cluster: {
          '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
          name: `outbound|8080||${svc}.mesh.svc.cluster.local`,
          type: 'EDS',
          eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' }, service_name: `outbound|8080||${svc}.mesh.svc.cluster.local` },
          connect_timeout: `${1 + r.int(10)}s`,
          circuit_breakers: { thresholds: [{ max_connections: 1024 * (1 + r.int(4)), max_pending_requests: 1024, max_requests: 4096, max_retries: 3 }] },
          lb_policy: r.pick(['ROUND_ROBIN', 'LEAST_REQUEST', 'RING_HASH']),
          transport_socket: {
            name: 'envoy.transport_sockets.tls',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
              sni: `outbound_.8080_._.${svc}.mesh.svc.cluster.local`,
              common_tls_context: { alpn_protocols: ['istio-peer-exchange', 'istio', 'h2'], tls_certificate_sds_secret_configs: [{ name: 'default' }] },
            },
          },
          metadata: { filter_metadata: { istio: { services: [{ host: `${svc}.mesh.svc.cluster.local`, name: svc, namespace: 'mesh' }] } } },
        },
        last_updated: new Date(EPOCH_MS + version * 60_000 + r.int(60_000)).toISOString(),
      };
    };
    const listener = (i: number) => ({
      version_info: `v${version}`,
      listener: {
        '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener',
        name: `0.0.0.0_${8000 + i}`,
        address: { socket_address: { address: '0.0.0.0', port_value: 8000 + i } },
        filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: { stat_prefix: `outbound_0.0.0.0_${8000 + i}`, rds: { route_config_name: `${8000 + i}` } } }] }],
      },
    });
    const dump = {
      configs: [
        { '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump', bootstrap: { node, admin: { address: { socket_address: { address: '127.0.0.1', port_value: 15000 } } } } },
        { '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump', version_info: `v${version}`, dynamic_active_clusters: Array.from({ length: clusters }, (_, i) => cluster(i)) },
        { '@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump', version_info: `v${version}`, dynamic_listeners: Array.from({ length: Math.max(1, Math.ceil(clusters / 8)) }, (_, i) => ({ name: `0.0.0.0_${8000 + i}`, active_state: listener(i) })) },
        { '@type': 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump', dynamic_route_configs: [{ version_info: `v${version}`, route_config: { name: '8080', virtual_hosts: SERVICES.map((s) => ({ name: `${s}.mesh.svc.cluster.local:8080`, domains: [`${s}.mesh.svc.cluster.local`, s], routes: [{ match: { prefix: '/' }, route: { cluster: `outbound|8080||${s}-0.mesh.svc.cluster.local`, timeout: '0s', retry_policy: { retry_on: 'connect-failure,refused-stream,unavailable', num_retries: 2 } } }] })) } }] },
      ],
    };
    return JSON.stringify(dump, null, 2) + '\n';
}

  /** A Prometheus text-format snapshot of Envoy's stats (the /stats/prometheus endpoint). */
  function statsSnapshot(r: Random, clusters: number, index: number): string {
    const lines: string[] = [];
    const counter = (name: string, help: string, series: [string, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [labels, v] of series) lines.push(`${name}{${labels}} ${v}`);
    };
    const per = (f: (name: string) => number): [string, number][] =>
      Array.from({ length: clusters }, (_, i) => {
        const name = `outbound|8080||${SERVICES[i % SERVICES.length]}-${Math.floor(i / SERVICES.length)}.mesh.svc.cluster.local`;
        return [`envoy_cluster_name="${name}"`, f(name)];
      });
    const base = (index + 1) * 1000;
    counter('envoy_cluster_upstream_rq_total', 'Total requests', per(() => base * 7 + r.int(100000)));
    counter('envoy_cluster_upstream_rq_retry', 'Total request retries', per(() => r.int(500)));
    counter('envoy_cluster_upstream_cx_connect_fail', 'Total connection failures', per(() => r.int(50)));
    lines.push('# HELP envoy_cluster_upstream_rq_time Request time milliseconds', '# TYPE envoy_cluster_upstream_rq_time histogram');
    for (const [labels] of per(() => 0).slice(0, Math.min(clusters, 20))) {
      let cum = 0;
      for (const le of [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000]) {
        cum += r.int(2000);
        lines.push(`envoy_cluster_upstream_rq_time_bucket{${labels},le="${le}"} ${cum}`);
      }
      lines.push(`envoy_cluster_upstream_rq_time_bucket{${labels},le="+Inf"} ${cum}`, `envoy_cluster_upstream_rq_time_sum{${labels}} ${cum * 13}`, `envoy_cluster_upstream_rq_time_count{${labels}} ${cum}`);
    }
    lines.push('# HELP envoy_server_uptime Server uptime', '# TYPE envoy_server_uptime gauge', `envoy_server_uptime ${(index + 1) * 3600}`);
    lines.push('# HELP envoy_server_memory_allocated Allocated memory', '# TYPE envoy_server_memory_allocated gauge', `envoy_server_memory_allocated ${20_000_000 + r.int(10_000_000)}`);
    return lines.join('\n') + '\n';
}

  /**
   * A stats snapshot of exactly `bytes` bytes when given (snapshots of more clusters, joined and cut: every byte
   * generated, none repeated; '' for 0), else as statsSnapshot makes it.
   */
  function sizedStats(r: Random, clusters: number, index: number, bytes: number | undefined): string {
    if (bytes === undefined || bytes === null) return statsSnapshot(r, clusters, index);
    let text = '';
    while (text.length < bytes) text += statsSnapshot(r, Math.max(clusters, Math.ceil((bytes - text.length) / 300) + 1), index);
    return text.slice(0, bytes);
  }

  function statsName(index: number): string {
    return `${STATS_DIR}/stats-${String(index).padStart(5, '0')}.prom`;
  }

  /**
   * Writes one proxy's volume into `dir` (created if missing) with synchronous file calls; returns the bytes
   * written. The order in which the proxy's random stream is drawn is the format: config dump, access log, stats.
   */
  function writeProxySync(dir: string, w: ProxyShape, seed: number, proxy: number): number {
    const fs = process.getBuiltinModule('node:fs');
    const r = random.seededRandom(random.deriveSeed(seed, 'proxy', proxy));
    fs.mkdirSync(`${dir}/logs`, { recursive: true });
    fs.mkdirSync(`${dir}/${STATS_DIR}`, { recursive: true });
    let bytes = 0;
    const put = (rel: string, content: string): void => {
      fs.writeFileSync(`${dir}/${rel}`, content);
      bytes += Buffer.byteLength(content);
    };
    put(CONFIG_DUMP, configDump(r, proxy, w.clusters, 1));
    // The access log, a chunk of LOG_CHUNK lines at a time as accessLogChunk makes them (each chunk starts 20 ms
    // per line after the last one started), its ASCII lines copied straight into one reused buffer.
    const log = fs.openSync(`${dir}/${ACCESS_LOG}`, 'w');
    try {
      let used = 0;
      const flush = (): void => {
        for (let off = 0; off < used; ) off += fs.writeSync(log, LOG_BUFFER, off, used - off);
        bytes += used;
        used = 0;
      };
      let start = EPOCH_MS + proxy * 1000;
      for (let done = 0; done < w.accessLogLines; done += LOG_CHUNK) {
        const n = Math.min(LOG_CHUNK, w.accessLogLines - done);
        let t = start;
        for (let i = 0; i < n; i++) {
          t += r.int(40);
          const line = accessLogLine(r, t);
          if (used + line.length > LOG_BUFFER.length) flush();
          used += LOG_BUFFER.write(line, used, 'latin1');
        }
        start += n * 20;
      }
      flush();
    } finally {
      fs.closeSync(log);
    }
    for (let i = 0; i < w.statsSnapshots; i++) put(statsName(i), sizedStats(r, w.clusters, i, w.statsBytes));
    return bytes;
  }

  return { ACCESS_LOG, CONFIG_DUMP, STATS_DIR, EPOCH_MS, accessLogLine, accessLogChunk, configDump, statsSnapshot, sizedStats, statsName, writeProxySync };
}

const kit = meshProxyKit(randomKit());

export const ACCESS_LOG = kit.ACCESS_LOG;
export const CONFIG_DUMP = kit.CONFIG_DUMP;
export const STATS_DIR = kit.STATS_DIR;
export const accessLogLine = kit.accessLogLine;
export const accessLogChunk = kit.accessLogChunk;
export const configDump = kit.configDump;
export const statsSnapshot = kit.statsSnapshot;
const sizedStats = kit.sizedStats;
const EPOCH_MS = kit.EPOCH_MS;
const statsName = kit.statsName;

/** Files the workload only ever appends to: after an outage they must restore as a consistent prefix. */
export function isAppendOnly(relPath: string): boolean {
  return relPath.endsWith('/' + ACCESS_LOG) || relPath === ACCESS_LOG;
}

export function volumeName(proxy: number): string {
  return `proxy-${proxy}`;
}

/** Write one proxy's volume into `dir` (created if missing), in this thread. Returns the bytes written. */
export async function seedProxy(dir: string, w: WorkloadConfig, seed: number, proxy: number): Promise<number> {
  return kit.writeProxySync(dir, w, seed, proxy);
}

// A seeding worker: the generator built from the factories' source, one proxy per message.
const SEED_WORKER_SOURCE = `
'use strict';
const { parentPort } = process.getBuiltinModule('node:worker_threads');
const kit = (${meshProxyKit.toString()})((${randomKit.toString()})());
parentPort.on('message', ({ dir, w, seed, proxy }) => {
  try {
    parentPort.postMessage({ bytes: kit.writeProxySync(dir, w, seed, proxy) });
  } catch (err) {
    parentPort.postMessage({ error: String((err && err.message) || err), code: err && err.code });
  }
});
`;

/**
 * Seed every proxy's volume under `root` (root/proxy-N) on `workers` threads (default: every core, never more
 * than there are proxies). The bytes do not depend on the number of workers: each proxy is written whole by one
 * of them, from its own random stream.
 */
export async function seedWorkload(root: string, w: WorkloadConfig, seed: number, opts: { workers?: number } = {}): Promise<{ volumes: string[]; bytes: number; workers: number }> {
  const volumes = Array.from({ length: w.proxies }, (_, p) => volumeName(p));
  const threads = Math.max(1, Math.min(Math.floor(opts.workers ?? availableParallelism()), w.proxies));
  const shape: ProxyShape = { clusters: w.clusters, accessLogLines: w.accessLogLines, statsSnapshots: w.statsSnapshots, statsBytes: w.statsBytes };
  const pool = Array.from({ length: threads }, () => new Worker(SEED_WORKER_SOURCE, { eval: true }));
  let next = 0;
  let bytes = 0;
  const seedOne = (worker: Worker, proxy: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const done = (reply: { bytes: number } | { error: string; code?: string }): void => {
        worker.off('error', failed);
        worker.off('exit', exited);
        if ('error' in reply) reject(Object.assign(new Error(`seeding ${volumes[proxy]} failed: ${reply.error}`), { code: reply.code }));
        else resolve(reply.bytes);
      };
      const failed = (err: Error): void => {
        worker.off('message', done);
        worker.off('exit', exited);
        reject(err);
      };
      const exited = (code: number): void => {
        worker.off('message', done);
        worker.off('error', failed);
        reject(new Error(`a seeding worker exited with code ${code}`));
      };
      worker.once('message', done);
      worker.once('error', failed);
      worker.once('exit', exited);
      worker.postMessage({ dir: join(root, volumes[proxy]!), w: shape, seed, proxy });
    });
  try {
    await Promise.all(
      pool.map(async (worker) => {
        while (next < w.proxies) {
          const written = await seedOne(worker, next++);
          bytes += written;
        }
      }),
    );
  } finally {
    await Promise.all(pool.map((worker) => worker.terminate()));
  }
  return { volumes, bytes, workers: threads };
}

/**
 * The churn step between a full and an incremental backup: append access log lines, rewrite the config dump
 * with a new version, add stats snapshots. Deterministic for (seed, round).
 */
export async function churnProxy(dir: string, w: WorkloadConfig, seed: number, proxy: number, round = 1): Promise<void> {
  const r = seededRandom(deriveSeed(seed, 'churn', round, proxy));
  if (w.churn.appendLines > 0) {
    await appendFile(join(dir, ACCESS_LOG), accessLogChunk(r, w.churn.appendLines, EPOCH_MS + 86_400_000 * round));
  }
  if (w.churn.rewriteConfig) await writeFile(join(dir, CONFIG_DUMP), configDump(r, proxy, w.clusters, 1 + round));
  if (w.churn.newStats > 0) {
    await mkdir(join(dir, STATS_DIR), { recursive: true });
    const existing = (await readdir(join(dir, STATS_DIR))).length;
    for (let i = 0; i < w.churn.newStats; i++) await writeFile(join(dir, statsName(existing + i)), sizedStats(r, w.clusters, existing + i, w.statsBytes));
  }
}

export async function churnWorkload(root: string, volumes: string[], w: WorkloadConfig, seed: number, round = 1): Promise<void> {
  for (const name of volumes) {
    const proxy = Number(name.replace(/^proxy-/, ''));
    await churnProxy(join(root, name), w, seed, proxy, round);
  }
}
