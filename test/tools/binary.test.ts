// options.binary (issue 9's A/B of two versions): the program a local tool runs, and a probe that names it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalPlatform } from '../../src/platform/local/platform.ts';

let scratch: string;
let platform: LocalPlatform;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'pvbench-binary-'));
  platform = new LocalPlatform({ keep: false, timeoutMs: 60_000, workdir: scratch });
  await platform.prepare();
});
after(async () => {
  await platform.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

test('a binary that does not run: the probe names options.binary and the fix', async () => {
  for (const type of ['restic', 'kopia'] as const) {
    const probe = await platform.createTool({ type, name: `${type}-x`, options: { binary: join(scratch, 'nope') } }).probe();
    assert.deepEqual(probe, { ok: false, reason: `options.binary "${join(scratch, 'nope')}" did not run as ${type} (not found, not executable, or its version command failed): point it at a ${type} program` });
  }
});

test('the binary named is the one that runs: its version is the one reported', { skip: !existsSync('/usr/bin/restic') && '/usr/bin/restic is not installed' }, async () => {
  const probe = await platform.createTool({ type: 'restic', options: { binary: '/usr/bin/restic' } }).probe();
  assert.equal(probe.ok, true);
  assert.equal(probe.ok && probe.version, '0.14.0');
});
