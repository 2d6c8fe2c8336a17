// The mesh-proxy workload: what a service-mesh sidecar keeps on its persistent volume.
// Per proxy: an Envoy admin config dump (JSON), access logs in Envoy's default format, Prometheus text stats
// snapshots. Everything is a pure function of (workload config, seed, proxy index): byte-identical on every run.
import { mkdir, writeFile, appendFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { WorkloadConfig } from '../config/schema.ts';
import { deriveSeed, seededRandom } from './random.ts';
import type { Random } from './random.ts';

export const ACCESS_LOG = 'logs/access.log';
export const CONFIG_DUMP = 'config_dump.json';
export const STATS_DIR = 'stats';

/** Files the workload only ever appends to: after an outage they must restore as a consistent prefix. */
export function isAppendOnly(relPath: string): boolean {
  return relPath.endsWith('/' + ACCESS_LOG) || relPath === ACCESS_LOG;
}

export function volumeName(proxy: number): string {
  return `proxy-${proxy}`;
}

const SERVICES = ['orders', 'payments', 'catalog', 'users', 'inventory', 'shipping', 'reviews', 'search', 'auth', 'cart'];
const METHODS = ['GET', 'GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const CODES = [200, 200, 200, 200, 200, 200, 201, 204, 301, 404, 429, 500, 503];
const AGENTS = ['envoy/1.31.2', 'grpc-go/1.66.0', 'okhttp/4.12.0', 'curl/8.5.0', 'Go-http-client/2.0', 'python-requests/2.32.3'];
/** Epoch for generated timestamps: fixed so output never depends on the clock. */
const EPOCH_MS = Date.UTC(2026, 0, 1, 0, 0, 0);

function uuid(r: Random): string {
  const h = r.hex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function podIp(r: Random): string {
  return `10.244.${r.int(16)}.${2 + r.int(250)}`;
}

/** One access log line in Envoy's default format (the format used when none is configured). */
export function accessLogLine(r: Random, timeMs: number): string {
  const svc = r.pick(SERVICES);
  const method = r.pick(METHODS);
  const code = r.pick(CODES);
  const flags = code === 503 ? 'UF' : code === 429 ? 'RL' : '-';
  const path = `/api/v${1 + r.int(2)}/${svc}/${r.int(100000)}${r.int(4) === 0 ? `?page=${r.int(50)}` : ''}`;
  const duration = 1 + r.int(400);
  const upstream = Math.max(0, duration - r.int(5));
  return (
    `[${new Date(timeMs).toISOString()}] "${method} ${path} HTTP/1.1" ${code} ${flags} ` +
    `${method === 'GET' ? 0 : r.int(4096)} ${r.int(65536)} ${duration} ${upstream} ` +
    `"${podIp(r)}" "${r.pick(AGENTS)}" "${uuid(r)}" "${svc}.mesh.svc.cluster.local" "${podIp(r)}:8080"\n`
  );
}

export function accessLogChunk(r: Random, lines: number, startMs: number): string {
  const out: string[] = [];
  let t = startMs;
  for (let i = 0; i < lines; i++) {
    t += r.int(40);
    out.push(accessLogLine(r, t));
  }
  return out.join('');
}

/** An Envoy admin /config_dump: bootstrap, clusters, listeners and routes. */
export function configDump(r: Random, proxy: number, clusters: number, version: number): string {
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
export function statsSnapshot(r: Random, clusters: number, index: number): string {
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

function statsName(index: number): string {
  return `${STATS_DIR}/stats-${String(index).padStart(5, '0')}.prom`;
}

/** Write one proxy's volume into `dir` (created if missing). Returns the bytes written. */
export async function seedProxy(dir: string, w: WorkloadConfig, seed: number, proxy: number): Promise<number> {
  const r = seededRandom(deriveSeed(seed, 'proxy', proxy));
  await mkdir(join(dir, 'logs'), { recursive: true });
  await mkdir(join(dir, STATS_DIR), { recursive: true });
  let bytes = 0;
  const put = async (rel: string, content: string) => {
    await writeFile(join(dir, rel), content);
    bytes += Buffer.byteLength(content);
  };
  await put(CONFIG_DUMP, configDump(r, proxy, w.clusters, 1));
  // Access logs are written in chunks to keep memory flat for large line counts.
  const chunk = 2000;
  let t = EPOCH_MS + proxy * 1000;
  await put(ACCESS_LOG, '');
  for (let done = 0; done < w.accessLogLines; done += chunk) {
    const n = Math.min(chunk, w.accessLogLines - done);
    const text = accessLogChunk(r, n, t);
    t += n * 20;
    await appendFile(join(dir, ACCESS_LOG), text);
    bytes += Buffer.byteLength(text);
  }
  for (let i = 0; i < w.statsSnapshots; i++) await put(statsName(i), statsSnapshot(r, w.clusters, i));
  return bytes;
}

/** Seed every proxy's volume under `root` (root/proxy-N). */
export async function seedWorkload(root: string, w: WorkloadConfig, seed: number): Promise<{ volumes: string[]; bytes: number }> {
  const volumes: string[] = [];
  let bytes = 0;
  for (let p = 0; p < w.proxies; p++) {
    const name = volumeName(p);
    bytes += await seedProxy(join(root, name), w, seed, p);
    volumes.push(name);
  }
  return { volumes, bytes };
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
    for (let i = 0; i < w.churn.newStats; i++) await writeFile(join(dir, statsName(existing + i)), statsSnapshot(r, w.clusters, existing + i));
  }
}

export async function churnWorkload(root: string, volumes: string[], w: WorkloadConfig, seed: number, round = 1): Promise<void> {
  for (const name of volumes) {
    const proxy = Number(name.replace(/^proxy-/, ''));
    await churnProxy(join(root, name), w, seed, proxy, round);
  }
}
