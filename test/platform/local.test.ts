// The local platform's manifests: files in the run's work directory, streamed, gone with the volumes they describe.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
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

/** Dirty page cache of the whole machine (/proc/meminfo), in bytes. */
async function dirtyBytes(): Promise<number> {
  const m = /^Dirty:\s+(\d+) kB/m.exec(await readFile('/proc/meminfo', 'utf8'));
  return Number(m?.[1] ?? NaN) * 1024;
}

test('seeded volumes are written back to disk before the trial measures anything', { skip: !existsSync('/proc/meminfo') && 'needs /proc/meminfo' }, async () => {
  // About 100 MB: seeding and copying leave about 200 MB of dirty pages unless they are written back.
  const big = suiteSchema.parse({ workload: { proxies: 4, accessLogLines: 95_000, statsSnapshots: 2, clusters: 2 } }).workload;
  const before = await dirtyBytes();
  const volumes = await platform.seedVolumes('written-back', big, 5);
  const after = await dirtyBytes();
  try {
    assert.ok(after - before < 60e6, `dirty pages grew by ${((after - before) / 1e6).toFixed(0)} MB over the seeding`);
  } finally {
    await platform.dropVolumes(volumes);
  }
});
