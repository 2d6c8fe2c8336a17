// The copy tool (cp -a into a snapshot directory): how a fault trigger sees its progress.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suiteSchema } from '../../src/config/schema.ts';
import { LocalPlatform } from '../../src/platform/local/platform.ts';
import { CopyTool } from '../../src/tools/copy.ts';
import { manifestList, openManifestFile } from '../../src/metrics/manifest.ts';
import type { RunningOp } from '../../src/tools/types.ts';

// About 20 MB: cp needs tens of milliseconds, far longer than it can run before the hold at its start lands.
const workload = suiteSchema.parse({ workload: { proxies: 2, accessLogLines: 40_000, statsSnapshots: 2, clusters: 10 } }).workload;

let platform: LocalPlatform;
before(async () => {
  platform = new LocalPlatform({ keep: false, timeoutMs: 60_000 });
  await platform.prepare();
});
after(() => platform.cleanup());

/** Runs `phase` with hooks that look once at the held operation's progress, then let it run; returns that look. */
async function firstLook(run: (hooks: { holdAtStart: true; onStart: (op: RunningOp) => void }) => Promise<unknown>): Promise<number> {
  let look: Promise<number> | undefined;
  await run({
    holdAtStart: true,
    onStart: (op) => {
      look = (async () => {
        const p = await op.progress();
        await op.resume?.();
        return p;
      })();
    },
  });
  assert.ok(look, 'the operation reported itself to the hooks');
  return look;
}

test('copy: progress is what cp has written, not what the target directory holds (no tree walk per look)', async () => {
  const tool = new CopyTool({ type: 'copy', options: {} }, { workdir: platform.dir, timeoutMs: 60_000, slowdown: 1 });
  await tool.init('progress');
  const source = await platform.seedVolumes('progress-src', workload, 7);
  try {
    await tool.backup(source);
    const [snapshot] = await tool.snapshots();
    const target = await platform.emptyVolumes('progress-target', source);
    // Something already in the target, as large as the whole snapshot: not progress of this restore.
    await writeFile(join(target.location, 'already-there.bin'), Buffer.alloc(25_000_000));
    const look = await firstLook((hooks) => tool.restore(snapshot!, target, hooks));
    assert.ok(look >= 0 && look < 1, `held at its start, the restore was seen at ${look}`);
    const integrity = await platform.verify(target, await platform.manifest(source));
    assert.equal(integrity.ok, true);
    await platform.dropVolumes(target);
  } finally {
    await platform.dropVolumes(source);
    await tool.cleanup();
  }
});

test('copy: the manifest kept beside a snapshot is a streamed manifest file, and check reads it', async () => {
  const tool = new CopyTool({ type: 'copy', options: {} }, { workdir: platform.dir, timeoutMs: 60_000, slowdown: 1 });
  await tool.init('manifest-file');
  const small = suiteSchema.parse({ workload: { proxies: 2, accessLogLines: 100, statsSnapshots: 3, clusters: 2 } }).workload;
  const source = await platform.seedVolumes('manifest-src', small, 3);
  try {
    const { snapshotId } = await tool.backup(source);
    const file = join(platform.dir, 'repos', 'copy', 'manifest-file', 'manifests', `${snapshotId}.manifest`);
    const stored = await openManifestFile(file);
    const seeded = await manifestList(await platform.manifest(source));
    assert.equal(stored.count, 2 * 5);
    assert.deepEqual(await manifestList(stored), seeded);
    assert.match(await readFile(file, 'utf8'), /^[0-9a-f]{64} \d+ "proxy-0\/config_dump\.json"\n/);
    assert.deepEqual(await tool.check(), { ran: true, ok: true, output: '1 snapshot(s) match their manifests' });
  } finally {
    await platform.dropVolumes(source);
    await tool.cleanup();
  }
});
