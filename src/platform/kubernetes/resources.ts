// CPU and memory of a tool's pods during a phase. Source, in order of preference: the kubelet's
// /metrics/resource through the API server's node proxy (cumulative CPU counters: exact CPU time), else
// metrics.k8s.io (instantaneous usage, integrated over the samples), else nothing (reported as such).
// Per pod: max and average cores and memory (working set), CPU seconds over the phase.
import type { Kube, KubeObject } from './client.ts';
import { KubeApiError, listObjects } from './client.ts';
import { servedResources } from './preflight.ts';
import type { PhaseMetrics } from '../../suite/results.ts';

export type MetricsSource = 'kubelet' | 'metrics.k8s.io' | 'none';

export interface PodTarget {
  namespace: string;
  /** Empty: every pod of the namespace. */
  labelSelector?: string;
}

export interface PodUsage {
  /** "namespace/name". */
  pod: string;
  node?: string;
  samples: number;
  cpuSeconds: number;
  maxCpuCores: number;
  avgCpuCores: number;
  maxMemoryBytes: number;
  avgMemoryBytes: number;
}

export interface UsageSummary {
  source: MetricsSource;
  durationMs: number;
  pods: PodUsage[];
  /** Sum over pods. */
  cpuMs: number;
  /** The largest pod's peak working set. */
  peakMemoryBytes: number;
  /** Sampling problems (the phase is never failed by them). */
  errors: string[];
}

// --- parsing ----------------------------------------------------------------------------------------------------

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text exposition format: comments skipped, labels unescaped, timestamps ignored. */
export function parsePrometheusText(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    let i = 0;
    while (i < line.length && /[a-zA-Z0-9_:]/.test(line[i]!)) i++;
    const name = line.slice(0, i);
    if (!name) continue;
    const labels: Record<string, string> = {};
    if (line[i] === '{') {
      i++;
      while (i < line.length && line[i] !== '}') {
        while (line[i] === ' ' || line[i] === ',') i++;
        if (line[i] === '}') break;
        const eq = line.indexOf('=', i);
        if (eq < 0) break;
        const key = line.slice(i, eq).trim();
        i = eq + 1;
        if (line[i] !== '"') break;
        i++;
        let value = '';
        while (i < line.length && line[i] !== '"') {
          if (line[i] === '\\' && i + 1 < line.length) {
            const next = line[i + 1]!;
            value += next === 'n' ? '\n' : next;
            i += 2;
          } else value += line[i++];
        }
        i++; // closing quote
        labels[key] = value;
      }
      i++; // closing brace
    }
    const rest = line.slice(i).trim().split(/\s+/);
    const v = rest[0];
    if (v === undefined || v === '') continue;
    const value = v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v);
    if (Number.isNaN(value) && v !== 'NaN') continue;
    out.push({ name, labels, value });
  }
  return out;
}

/** Kubernetes CPU quantity in cores: "250m", "123456789n", "12u", "2". */
export function parseCpu(q: string): number {
  const m = /^([0-9.]+(?:e[+-]?[0-9]+)?)([numk]?)$/.exec(q.trim());
  if (!m) return 0;
  const n = Number(m[1]);
  switch (m[2]) {
    case 'n':
      return n / 1e9;
    case 'u':
      return n / 1e6;
    case 'm':
      return n / 1e3;
    case 'k':
      return n * 1e3;
    default:
      return n;
  }
}

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** Kubernetes memory quantity in bytes: "123Ki", "1.5Gi", "100M", "4096". */
export function parseMemory(q: string): number {
  const m = /^([0-9.]+(?:e[+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|[numkKMGTPE]?)$/.exec(q.trim());
  if (!m) return 0;
  const n = Number(m[1]);
  const unit = m[2] ?? '';
  return Math.round(n * (BINARY[unit] ?? DECIMAL[unit] ?? 1));
}

/** Per-pod CPU counter (seconds) and working set (bytes) from a kubelet's /metrics/resource text. */
export function kubeletPodUsage(text: string): Map<string, { cpuSeconds?: number; memoryBytes?: number }> {
  const pods = new Map<string, { cpuSeconds?: number; memoryBytes?: number }>();
  const containers = new Map<string, { cpuSeconds: number; memoryBytes: number; cpu: boolean; mem: boolean }>();
  for (const s of parsePrometheusText(text)) {
    const ns = s.labels.namespace;
    const pod = s.labels.pod;
    if (!ns || !pod) continue;
    const key = `${ns}/${pod}`;
    if (s.name === 'pod_cpu_usage_seconds_total') pods.set(key, { ...pods.get(key), cpuSeconds: s.value });
    else if (s.name === 'pod_memory_working_set_bytes') pods.set(key, { ...pods.get(key), memoryBytes: s.value });
    else if (s.name === 'container_cpu_usage_seconds_total' || s.name === 'container_memory_working_set_bytes') {
      const c = containers.get(key) ?? { cpuSeconds: 0, memoryBytes: 0, cpu: false, mem: false };
      if (s.name === 'container_cpu_usage_seconds_total') {
        c.cpuSeconds += s.value;
        c.cpu = true;
      } else {
        c.memoryBytes += s.value;
        c.mem = true;
      }
      containers.set(key, c);
    }
  }
  // Older kubelets have only the container series: sum them per pod.
  for (const [key, c] of containers) {
    const p = pods.get(key) ?? {};
    if (p.cpuSeconds === undefined && c.cpu) p.cpuSeconds = c.cpuSeconds;
    if (p.memoryBytes === undefined && c.mem) p.memoryBytes = c.memoryBytes;
    pods.set(key, p);
  }
  return pods;
}

/** Per-pod cores and bytes from a metrics.k8s.io PodMetricsList. */
export function podMetricsUsage(list: { items?: { metadata: { name?: string; namespace?: string }; containers?: { usage?: { cpu?: string; memory?: string } }[] }[] }): Map<string, { cores: number; memoryBytes: number }> {
  const out = new Map<string, { cores: number; memoryBytes: number }>();
  for (const item of list.items ?? []) {
    let cores = 0;
    let memoryBytes = 0;
    for (const c of item.containers ?? []) {
      cores += parseCpu(c.usage?.cpu ?? '0');
      memoryBytes += parseMemory(c.usage?.memory ?? '0');
    }
    out.set(`${item.metadata.namespace ?? ''}/${item.metadata.name ?? ''}`, { cores, memoryBytes });
  }
  return out;
}

// --- sampling -------------------------------------------------------------------------------------------------------

/** Which source this cluster offers. The kubelet path needs get on nodes/proxy. */
export async function detectMetricsSource(kube: Kube, nodeName?: string): Promise<MetricsSource> {
  if (nodeName) {
    try {
      await kube.text(`/api/v1/nodes/${encodeURIComponent(nodeName)}/proxy/metrics/resource`, { timeoutMs: 10_000 });
      return 'kubelet';
    } catch {
      // fall through to metrics.k8s.io
    }
  }
  const served = await servedResources(kube, 'metrics.k8s.io/v1beta1').catch(() => undefined);
  return served?.has('pods') ? 'metrics.k8s.io' : 'none';
}

interface Track {
  node?: string;
  createdMs: number;
  samples: number;
  firstCpu?: number;
  lastCpu?: number;
  lastCpuAt?: number;
  cpuSeconds: number;
  maxCores: number;
  sumCores: number;
  coreSamples: number;
  maxMem: number;
  sumMem: number;
  lastCoresAt?: number;
  lastCores?: number;
}

export interface SamplerOptions {
  intervalMs?: number;
  source?: MetricsSource;
  now?: () => number;
}

/** Samples the pods of `targets` every intervalMs between start() and stop(); stop() samples once more. */
export class ResourceSampler {
  private readonly kube: Kube;
  private readonly targets: PodTarget[];
  private readonly intervalMs: number;
  private readonly now: () => number;
  private source: MetricsSource | undefined;
  private readonly tracks = new Map<string, Track>();
  private readonly errors: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private inFlight: Promise<void> | undefined;
  private stopped = false;
  private final: Promise<UsageSummary> | undefined;

  constructor(kube: Kube, targets: PodTarget[], opts: SamplerOptions = {}) {
    this.kube = kube;
    this.targets = targets;
    this.intervalMs = opts.intervalMs ?? 1000;
    this.source = opts.source;
    this.now = opts.now ?? Date.now;
  }

  async start(): Promise<void> {
    this.startedAt = this.now();
    await this.sample();
    const tick = () => {
      if (this.stopped) return;
      this.inFlight = this.sample().finally(() => {
        this.inFlight = undefined;
        if (!this.stopped) this.timer = setTimeout(tick, this.intervalMs);
      });
    };
    this.timer = setTimeout(tick, this.intervalMs);
  }

  /** Stop sampling (one last sample first); later calls return the same summary. */
  stop(): Promise<UsageSummary> {
    this.final ??= (async () => {
      this.stopped = true;
      if (this.timer) clearTimeout(this.timer);
      await this.inFlight;
      await this.sample().catch((err: unknown) => this.error(err instanceof Error ? err.message : String(err)));
      return this.summary();
    })();
    return this.final;
  }

  private async pods(): Promise<KubeObject[]> {
    const all: KubeObject[] = [];
    for (const t of this.targets) {
      try {
        const list = await listObjects(this.kube, { apiVersion: 'v1', plural: 'pods', namespace: t.namespace }, t.labelSelector ? { labelSelector: t.labelSelector } : undefined, { timeoutMs: 10_000 });
        all.push(...list.items);
      } catch (err) {
        this.error(`listing pods in ${t.namespace}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return all;
  }

  private error(msg: string): void {
    if (this.errors.length < 10 && !this.errors.includes(msg)) this.errors.push(msg);
  }

  private track(pod: KubeObject): Track {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    let t = this.tracks.get(key);
    if (!t) {
      const created = pod.metadata.creationTimestamp ? Date.parse(pod.metadata.creationTimestamp) : 0;
      t = { node: pod.spec?.nodeName, createdMs: Number.isFinite(created) ? created : 0, samples: 0, cpuSeconds: 0, maxCores: 0, sumCores: 0, coreSamples: 0, maxMem: 0, sumMem: 0 };
      this.tracks.set(key, t);
    }
    t.node ??= pod.spec?.nodeName;
    return t;
  }

  /** One sample of every target pod (public for tests: no timers needed). */
  async sample(): Promise<void> {
    const at = this.now();
    const pods = (await this.pods()).filter((p) => p.metadata.name);
    if (pods.length === 0) return;
    if (this.source === undefined) this.source = await detectMetricsSource(this.kube, pods.find((p) => p.spec?.nodeName)?.spec?.nodeName);
    if (this.source === 'kubelet') await this.sampleKubelet(pods, at);
    else if (this.source === 'metrics.k8s.io') await this.sampleMetricsApi(pods, at);
  }

  private async sampleKubelet(pods: KubeObject[], at: number): Promise<void> {
    const nodes = [...new Set(pods.map((p) => p.spec?.nodeName as string | undefined).filter((n): n is string => !!n))];
    const usage = new Map<string, { cpuSeconds?: number; memoryBytes?: number }>();
    await Promise.all(
      nodes.map(async (node) => {
        try {
          const text = await this.kube.text(`/api/v1/nodes/${encodeURIComponent(node)}/proxy/metrics/resource`, { timeoutMs: 10_000 });
          for (const [k, v] of kubeletPodUsage(text)) usage.set(k, v);
        } catch (err) {
          this.error(`kubelet metrics of node ${node}: ${err instanceof KubeApiError ? `${err.status} ${err.reason}` : err instanceof Error ? err.message : String(err)}`);
        }
      }),
    );
    for (const pod of pods) {
      const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
      const u = usage.get(key);
      if (!u) continue;
      const t = this.track(pod);
      t.samples++;
      if (u.cpuSeconds !== undefined) {
        if (t.firstCpu === undefined) {
          // A pod created during the phase used all its CPU time within it.
          t.firstCpu = t.createdMs >= this.startedAt ? 0 : u.cpuSeconds;
          t.lastCpu = t.firstCpu;
          t.lastCpuAt = t.createdMs >= this.startedAt ? t.createdMs : at;
        }
        // A restarted container resets its counter: count what it used since.
        const delta = u.cpuSeconds >= (t.lastCpu ?? 0) ? u.cpuSeconds - (t.lastCpu ?? 0) : u.cpuSeconds;
        t.cpuSeconds += delta;
        const dt = (at - (t.lastCpuAt ?? at)) / 1000;
        if (dt > 0) {
          const cores = delta / dt;
          t.maxCores = Math.max(t.maxCores, cores);
        }
        t.lastCpu = u.cpuSeconds;
        t.lastCpuAt = at;
      }
      if (u.memoryBytes !== undefined) {
        t.maxMem = Math.max(t.maxMem, u.memoryBytes);
        t.sumMem += u.memoryBytes;
      }
    }
  }

  private async sampleMetricsApi(pods: KubeObject[], at: number): Promise<void> {
    const usage = new Map<string, { cores: number; memoryBytes: number }>();
    for (const target of this.targets) {
      try {
        const list = await this.kube.request<Parameters<typeof podMetricsUsage>[0]>('GET', `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(target.namespace)}/pods`, {
          query: { labelSelector: target.labelSelector || undefined },
          timeoutMs: 10_000,
        });
        for (const [k, v] of podMetricsUsage(list)) usage.set(k, v);
      } catch (err) {
        this.error(`metrics.k8s.io in ${target.namespace}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    for (const pod of pods) {
      const u = usage.get(`${pod.metadata.namespace}/${pod.metadata.name}`);
      if (!u) continue;
      const t = this.track(pod);
      t.samples++;
      // Integrate usage over time (trapezoids between samples).
      if (t.lastCoresAt !== undefined && t.lastCores !== undefined) t.cpuSeconds += ((u.cores + t.lastCores) / 2) * ((at - t.lastCoresAt) / 1000);
      t.lastCores = u.cores;
      t.lastCoresAt = at;
      t.maxCores = Math.max(t.maxCores, u.cores);
      t.sumCores += u.cores;
      t.coreSamples++;
      t.maxMem = Math.max(t.maxMem, u.memoryBytes);
      t.sumMem += u.memoryBytes;
    }
  }

  summary(): UsageSummary {
    const durationMs = Math.max(0, this.now() - this.startedAt);
    const pods: PodUsage[] = [];
    for (const [pod, t] of this.tracks) {
      if (t.samples === 0) continue;
      const avgCpuCores = this.source === 'metrics.k8s.io' ? (t.coreSamples ? t.sumCores / t.coreSamples : 0) : durationMs > 0 ? t.cpuSeconds / (durationMs / 1000) : 0;
      pods.push({
        pod,
        node: t.node,
        samples: t.samples,
        cpuSeconds: t.cpuSeconds,
        maxCpuCores: Math.max(t.maxCores, avgCpuCores),
        avgCpuCores,
        maxMemoryBytes: t.maxMem,
        avgMemoryBytes: t.samples ? t.sumMem / t.samples : 0,
      });
    }
    pods.sort((a, b) => (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : 0));
    return {
      source: this.source ?? 'none',
      durationMs,
      pods,
      cpuMs: Math.round(pods.reduce((s, p) => s + p.cpuSeconds, 0) * 1000),
      peakMemoryBytes: pods.reduce((m, p) => Math.max(m, p.maxMemoryBytes), 0),
      errors: [...this.errors],
    };
  }
}

/**
 * PhaseMetrics from a phase's wall time, its pods' usage and the bytes the tool reported. Kubernetes does not
 * split user and system CPU: all of it is reported as user time.
 */
export function phaseMetrics(o: { wallMs: number; usage?: UsageSummary; bytesProcessed: number; bytesRead?: number; bytesWritten?: number; attempts?: number }): PhaseMetrics {
  const cpuMs = o.usage?.cpuMs ?? 0;
  return {
    wallMs: Math.round(o.wallMs),
    cpuUserMs: cpuMs,
    cpuSysMs: 0,
    cpuCores: o.wallMs > 0 ? cpuMs / o.wallMs : 0,
    peakRssBytes: o.usage?.peakMemoryBytes ?? 0,
    bytesRead: o.bytesRead ?? o.bytesProcessed,
    bytesWritten: o.bytesWritten ?? 0,
    bytesProcessed: o.bytesProcessed,
    throughputBytesPerSec: o.wallMs > 0 ? o.bytesProcessed / (o.wallMs / 1000) : 0,
    attempts: o.attempts ?? 1,
    source: 'kubernetes',
  };
}
