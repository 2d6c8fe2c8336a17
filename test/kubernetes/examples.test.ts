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
