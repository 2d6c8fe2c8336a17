// examples/kind.yaml is a valid suite for the Kubernetes platform, with only tools the platform drives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadSuiteFile } from '../../src/config/load.ts';

const file = fileURLToPath(new URL('../../examples/kind.yaml', import.meta.url));

test('examples/kind.yaml loads and targets a kind cluster with the Kubernetes tools', async () => {
  const suite = await loadSuiteFile(file);
  assert.equal(suite.platform.kind, 'kubernetes');
  if (suite.platform.kind !== 'kubernetes') return;
  assert.equal(suite.platform.cluster.mode, 'kind');
  assert.equal(suite.platform.storageClass, 'csi-hostpath-sc');
  assert.deepEqual(suite.platform.install, { csiHostpath: true, minio: true, velero: true });
  assert.deepEqual(suite.tools.map((t) => t.type), ['velero-fs', 'velero-csi', 'csi-snapshot']);
  assert.deepEqual(suite.scenarios.map((s) => `${s.fault.kind}${s.fault.kind === 'outage' ? `/${s.fault.scope}` : ''}`), ['none', 'crash', 'outage/workload', 'outage/node', 'corrupt-volume', 'corrupt-repository']);
});

test('every example suite loads, and the options of its Velero tools parse', async () => {
  const { readdir } = await import('node:fs/promises');
  const { veleroOptions } = await import('../../src/tools/velero-status.ts');
  const dir = fileURLToPath(new URL('../../examples/', import.meta.url));
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
  assert.deepEqual(files, ['ab.yaml', 'kind.yaml', 'local-cluster-faults.yaml', 'local-cluster.yaml']);
  for (const f of files) {
    const suite = await loadSuiteFile(dir + f);
    for (const t of suite.tools.filter((x) => x.type.startsWith('velero'))) assert.doesNotThrow(() => veleroOptions(t), `${f}: ${t.name ?? t.type}`);
  }
  const faults = await loadSuiteFile(dir + 'local-cluster-faults.yaml');
  assert.deepEqual(faults.tools.map((t) => veleroOptions(t).crashTarget), ['server', 'object-store', 'node-agent', 'object-store']);
});
