// createPlatform in-process: the platform of the kind the suite names (kept apart from pipeline.test.ts: loading the
// Kubernetes client takes a second).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultSuite } from '../../src/config/load.ts';
import { suiteSchema } from '../../src/config/schema.ts';
import { createPlatform } from '../../src/suite/pipeline.ts';

test('createPlatform makes the kind the suite names', async () => {
  const local = await createPlatform(defaultSuite());
  assert.equal(local.kind, 'local');
  const suite = suiteSchema.parse({ platform: { kind: 'kubernetes', cluster: { mode: 'existing' } }, tools: [{ type: 'velero-fs' }], scenarios: [{ name: 'no-fault' }] });
  const onCreated = () => undefined;
  const k = await createPlatform(suite, onCreated);
  assert.equal(k.kind, 'kubernetes');
  // What it creates (a kind cluster) is reported to the caller, for a post step to remove after a cancel.
  const inside = k as unknown as { cfg: unknown; suite: unknown; deps: { onCreated?: unknown } };
  assert.equal(inside.deps.onCreated, onCreated);
  assert.equal(inside.cfg, suite.platform);
  assert.equal(inside.suite, suite);
});

