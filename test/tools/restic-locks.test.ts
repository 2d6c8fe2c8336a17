// Which restic commands take the repository lock. A locking command writes a lock file and sleeps 200 ms before it
// looks for a competing lock (restic's waitBeforeLockCheck): the measured backups and restores keep it, as users run
// them (the tools table reports it beside the key derivation); pvbench's own unmeasured reads of a trial's
// repository, which nothing else uses, do without it (`--no-lock`): listing snapshots and the repository check.
// Repair writes the repository and keeps its lock. The tool runs through options.binary, a script that logs its argv.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalPlatform } from '../../src/platform/local/platform.ts';
import { enoughLockPairs } from '../../src/tools/restic.ts';

const restic = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v restic'], { timeout: 10_000 }).toString().trim();
  } catch {
    return '';
  }
})();

let scratch: string;
let platform: LocalPlatform;
let log: string;
let wrapper: string;
before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'pvbench-restic-locks-'));
  log = join(scratch, 'argv.log');
  wrapper = join(scratch, 'restic-logged');
  writeFileSync(wrapper, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${restic}' "$@"\n`);
  chmodSync(wrapper, 0o755);
  platform = new LocalPlatform({ keep: false, timeoutMs: 120_000, workdir: join(scratch, 'work') });
  await platform.prepare();
});
after(async () => {
  await platform?.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

/** The commands logged since `from` lines, without restic's global --no-cache. */
const commands = (from = 0): string[] => readFileSync(log, 'utf8').trim().split('\n').slice(from);

test('backup and restore take the lock; listing snapshots and the check do not; repair does', { skip: !restic && 'restic is not on PATH', timeout: 120_000 }, async () => {
  const tool = platform.createTool({ type: 'restic', options: { binary: wrapper } });
  await tool.init('locks-1');
  const src = join(scratch, 'src');
  mkdirSync(join(src, 'proxy-0'), { recursive: true });
  writeFileSync(join(src, 'proxy-0', 'access.log'), 'GET / 200\n'.repeat(1000));
  const start = commands().length;
  const { snapshotId } = await tool.backup({ id: 'src', location: src, volumes: ['proxy-0'] });
  assert.deepEqual(await tool.snapshots(), [snapshotId]);
  assert.equal((await tool.check()).ok, true);
  const target = join(scratch, 'target');
  await tool.restore(snapshotId, { id: 'target', location: target, volumes: ['proxy-0'] });
  assert.equal(readFileSync(join(target, 'proxy-0', 'access.log'), 'utf8'), 'GET / 200\n'.repeat(1000));
  const repair = await tool.repair!();
  assert.equal(repair.ran, true);
  assert.deepEqual(
    commands(start).map((c) => c.replace(/ --no-cache/g, '').replace(/[0-9a-f]{8}( |$)/, 'ID$1').replace(/ \/\S+/g, ' PATH')),
    [
      'backup --json --host pvbench --tag src PATH',
      '--no-lock snapshots --json',
      '--no-lock check --read-data',
      'restore ID --target PATH',
      'repair --help',
      '--no-lock check --read-data',
      'repair index',
      'repair snapshots --forget',
      '--no-lock check --read-data',
    ],
  );
  await tool.cleanup();
});

test('the lock wait is timed until neither fastest time improves: 3 pairs at least, 8 at most', () => {
  // [with the lock, without]: each list in the order timed.
  assert.equal(enoughLockPairs([300, 290], [90, 95]), false, 'fewer than 3 pairs');
  assert.equal(enoughLockPairs([300, 290, 295], [90, 95, 92]), true, 'the third pair improved neither minimum');
  assert.equal(enoughLockPairs([300, 290, 285], [90, 95, 92]), false, 'the third pair has the fastest locked run');
  assert.equal(enoughLockPairs([300, 290, 295], [240, 250, 88]), false, 'the third pair has the fastest unlocked run (a loaded machine slowed the others)');
  assert.equal(enoughLockPairs([300, 290, 295, 296], [240, 250, 88, 89]), true, 'then one pair without a new minimum');
  assert.equal(enoughLockPairs([9, 8, 7, 6, 5, 4, 3, 2], [9, 8, 7, 6, 5, 4, 3, 2]), true, '8 pairs: enough, whatever they say');
  assert.equal(enoughLockPairs([9, 8, 7, 6, 5, 4, 3], [9, 8, 7, 6, 5, 4, 3]), false);
});
