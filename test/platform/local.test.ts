// The local platform's manifests: files in the run's work directory, streamed, gone with the volumes they describe.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { suiteSchema } from '../../src/config/schema.ts';
import { LocalPlatform } from '../../src/platform/local/platform.ts';
import { buildManifest, manifestList } from '../../src/metrics/manifest.ts';

const workload = suiteSchema.parse({ workload: { proxies: 2, accessLogLines: 50, statsSnapshots: 2, clusters: 2 } }).workload;

let platform: LocalPlatform;
before(async () => {
  platform = new LocalPlatform({ keep: false, timeoutMs: 60_000 });
  await platform.prepare();
});
after(() => platform.cleanup());

test('a manifest of local volumes is a file in the work directory, removed when the volumes are dropped', async () => {
  const volumes = await platform.seedVolumes('m1', workload, 1);
  const m = await platform.manifest(volumes);
  assert.ok('file' in m, 'a manifest file, not a list in memory');
  assert.equal(dirname(dirname(m.file)), platform.dir);
  assert.equal(existsSync(m.file), true);
  assert.equal(m.count, 2 * 4);
  assert.deepEqual(await manifestList(m), await buildManifest(volumes.location));
  const again = await platform.manifest(volumes);
  assert.notEqual(again.file, m.file);
  await platform.dropVolumes(volumes);
  assert.equal(existsSync(m.file), false);
  assert.equal(existsSync(again.file), false);
});
