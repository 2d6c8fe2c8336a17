// CPU and memory of tool pods: Prometheus text from the kubelet (through the node proxy) and metrics.k8s.io.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFake } from './helpers.ts';
import type { FakeApiServer } from '../fake-apiserver/server.ts';
import { ResourceSampler, detectMetricsSource, kubeletPodUsage, parseCpu, parseMemory, parsePrometheusText, phaseMetrics, podMetricsUsage } from '../../src/platform/kubernetes/resources.ts';

test('Prometheus text: comments, labels with escapes, timestamps, special values', () => {
  const text = [
    '# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time',
    '# TYPE container_cpu_usage_seconds_total counter',
    'container_cpu_usage_seconds_total{container="velero",namespace="velero",pod="velero-7d9f"} 12.5 1700000000000',
    'odd{a="x\\"y",b="line\\nbreak" , c="back\\\\slash"} 1.5e+07',
    'plain 3',
    'inf_metric +Inf',
    'bad_line',
    '',
  ].join('\n');
  const s = parsePrometheusText(text);
  assert.deepEqual(s[0], { name: 'container_cpu_usage_seconds_total', labels: { container: 'velero', namespace: 'velero', pod: 'velero-7d9f' }, value: 12.5 });
  assert.deepEqual(s[1], { name: 'odd', labels: { a: 'x"y', b: 'line\nbreak', c: 'back\\slash' }, value: 15_000_000 });
  assert.deepEqual(s[2], { name: 'plain', labels: {}, value: 3 });
  assert.equal(s[3]?.value, Infinity);
  assert.equal(s.length, 4);
});

test('quantities: CPU in cores, memory in bytes', () => {
  assert.equal(parseCpu('250m'), 0.25);
  assert.equal(parseCpu('123456789n'), 0.123456789);
  assert.equal(parseCpu('1500u'), 0.0015);
  assert.equal(parseCpu('2'), 2);
  assert.equal(parseMemory('128Ki'), 131072);
  assert.equal(parseMemory('1.5Gi'), 1.5 * 2 ** 30);
  assert.equal(parseMemory('100M'), 100_000_000);
  assert.equal(parseMemory('4096'), 4096);
  assert.equal(parseMemory('junk'), 0);
});

test('kubelet pod usage prefers pod series and sums containers otherwise', () => {
  const usage = kubeletPodUsage(
    [
      'container_cpu_usage_seconds_total{container="a",namespace="ns",pod="p1"} 1',
      'container_cpu_usage_seconds_total{container="b",namespace="ns",pod="p1"} 2',
      'container_memory_working_set_bytes{container="a",namespace="ns",pod="p1"} 100',
      'container_memory_working_set_bytes{container="b",namespace="ns",pod="p1"} 50',
      'pod_cpu_usage_seconds_total{namespace="ns",pod="p2"} 7',
      'container_cpu_usage_seconds_total{container="a",namespace="ns",pod="p2"} 6',
      'pod_memory_working_set_bytes{namespace="ns",pod="p2"} 900',
      'node_cpu_usage_seconds_total 99',
    ].join('\n'),
  );
  assert.deepEqual(usage.get('ns/p1'), { cpuSeconds: 3, memoryBytes: 150 });
  assert.deepEqual(usage.get('ns/p2'), { cpuSeconds: 7, memoryBytes: 900 });
  assert.equal(usage.size, 2);
  const m = podMetricsUsage({ items: [{ metadata: { name: 'p', namespace: 'ns' }, containers: [{ usage: { cpu: '500m', memory: '1Mi' } }, { usage: { cpu: '250000000n', memory: '1Mi' } }] }] });
  assert.deepEqual(m.get('ns/p'), { cores: 0.75, memoryBytes: 2 * 2 ** 20 });
});

function putPod(server: FakeApiServer, name: string, node: string): void {
  server.put({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'velero', labels: { component: 'velero' } },
    spec: { nodeName: node, containers: [{ name: 'main', image: 'velero/velero:v1.17.0' }] },
    status: { phase: 'Running' },
  });
}

function kubeletText(pods: Record<string, { cpu: number; mem: number }>): string {
  const lines = ['# TYPE pod_cpu_usage_seconds_total counter'];
  for (const [p, u] of Object.entries(pods)) lines.push(`pod_cpu_usage_seconds_total{namespace="velero",pod="${p}"} ${u.cpu} 1700000000000`);
  for (const [p, u] of Object.entries(pods)) lines.push(`pod_memory_working_set_bytes{namespace="velero",pod="${p}"} ${u.mem} 1700000000000`);
  return lines.join('\n') + '\n';
}

test('the sampler integrates kubelet CPU counters per pod through the node proxy', async () => {
  const { server, kube } = await startFake({ namespaces: ['velero'], nodes: ['node-1', 'node-2'] });
  try {
    putPod(server, 'velero-server', 'node-1');
    putPod(server, 'node-agent-a', 'node-2');
    // Creation times come from the server's clock: start after them, and add the mover a second later.
    let clock = Date.now() + 1;
    server.setNodeMetrics('node-1', kubeletText({ 'velero-server': { cpu: 10, mem: 50e6 } }));
    server.setNodeMetrics('node-2', kubeletText({ 'node-agent-a': { cpu: 100, mem: 20e6 } }));
    const sampler = new ResourceSampler(kube, [{ namespace: 'velero', labelSelector: 'component=velero' }], { intervalMs: 3_600_000, now: () => clock });
    await sampler.start();
    clock += 2000;
    server.setNodeMetrics('node-1', kubeletText({ 'velero-server': { cpu: 11, mem: 80e6 } }));
    server.setNodeMetrics('node-2', kubeletText({ 'node-agent-a': { cpu: 103, mem: 30e6 } }));
    await sampler.sample();
    clock += 2000;
    // The node agent restarts (its counter starts over); a data-mover pod appears during the phase.
    await new Promise((r) => setTimeout(r, 1100));
    putPod(server, 'mover', 'node-2');
    server.setNodeMetrics('node-1', kubeletText({ 'velero-server': { cpu: 12, mem: 60e6 } }));
    server.setNodeMetrics('node-2', kubeletText({ 'node-agent-a': { cpu: 0.5, mem: 10e6 }, mover: { cpu: 4, mem: 200e6 } }));
    const s = await sampler.stop();
    assert.equal(s.source, 'kubelet');
    assert.equal(s.durationMs, 4000);
    const byPod = new Map(s.pods.map((p) => [p.pod, p]));
    const server1 = byPod.get('velero/velero-server')!;
    assert.equal(server1.cpuSeconds, 2);
    assert.equal(server1.maxMemoryBytes, 80e6);
    assert.equal(server1.avgCpuCores, 0.5);
    assert.equal(server1.node, 'node-1');
    const agent = byPod.get('velero/node-agent-a')!;
    assert.equal(agent.cpuSeconds, 3.5, 'counter reset counts the new counter');
    assert.equal(agent.maxCpuCores, 1.5);
    assert.equal(byPod.get('velero/mover')!.cpuSeconds, 4, 'a pod born in the phase counts all its CPU');
    assert.equal(s.cpuMs, 9500);
    assert.equal(s.peakMemoryBytes, 200e6);
    assert.deepEqual(s.errors, []);
    assert.deepEqual(await sampler.stop(), s, 'stop is idempotent');
    const m = phaseMetrics({ wallMs: 4000, usage: s, bytesProcessed: 8_000_000, bytesWritten: 1000 });
    assert.equal(m.cpuUserMs, 9500);
    assert.equal(m.cpuSysMs, 0);
    assert.equal(m.cpuCores, 9500 / 4000);
    assert.equal(m.peakRssBytes, 200e6);
    assert.equal(m.throughputBytesPerSec, 2_000_000);
    assert.equal(m.source, 'kubernetes');
  } finally {
    await server.close();
  }
});

test('the sampler uses metrics.k8s.io when the node proxy is denied', async () => {
  const { server, kube } = await startFake({ namespaces: ['velero'], nodes: ['node-1'], metricsApi: true, deny: [{ resource: 'nodes', subresource: 'proxy' }] });
  try {
    putPod(server, 'velero-server', 'node-1');
    assert.equal(await detectMetricsSource(kube, 'node-1'), 'metrics.k8s.io');
    let clock = 0;
    server.setPodMetrics('velero', 'velero-server', [{ name: 'main', cpu: '500m', memory: '100Mi' }]);
    const sampler = new ResourceSampler(kube, [{ namespace: 'velero' }], { intervalMs: 3_600_000, now: () => clock });
    await sampler.start();
    clock = 2000;
    server.setPodMetrics('velero', 'velero-server', [{ name: 'main', cpu: '1500m', memory: '300Mi' }]);
    const s = await sampler.stop();
    assert.equal(s.source, 'metrics.k8s.io');
    const p = s.pods[0]!;
    assert.equal(p.cpuSeconds, 2, 'trapezoid of 0.5 and 1.5 cores over 2 s');
    assert.equal(p.maxCpuCores, 1.5);
    assert.equal(p.avgCpuCores, 1);
    assert.equal(p.maxMemoryBytes, 300 * 2 ** 20);
    assert.equal(p.avgMemoryBytes, 200 * 2 ** 20);
  } finally {
    await server.close();
  }
});

test('no metrics at all: source none, zeros, no failure', async () => {
  const { server, kube } = await startFake({ namespaces: ['velero'], nodes: ['node-1'], deny: [{ resource: 'nodes', subresource: 'proxy' }] });
  try {
    putPod(server, 'velero-server', 'node-1');
    const sampler = new ResourceSampler(kube, [{ namespace: 'velero' }], { intervalMs: 3_600_000 });
    await sampler.start();
    const s = await sampler.stop();
    assert.equal(s.source, 'none');
    assert.equal(s.cpuMs, 0);
    assert.equal(s.peakMemoryBytes, 0);
  } finally {
    await server.close();
  }
});
