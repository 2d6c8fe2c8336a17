// How src/faults/faultfs.ts starts its processes, with the stand-ins of standins.ts: fusermount is run with its output
// ignored (a process it leaves behind holding that output is not waited for, at exit or in an unmount), a faultfs that
// cannot be spawned at all is a failed mount (not an uncaught 'error'), and the byte-point hooks tell faultfs only a
// pid there is.
import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { running, until } from '../helpers/process.ts';
import { detachFaultfsMounts, mountFaultfs } from '../../src/faults/faultfs.ts';
import type { FaultfsPlan } from '../../src/faults/faultfs.ts';
import { armByteFault } from '../../src/faults/byte-point.ts';
import type { RunningOp } from '../../src/tools/types.ts';
import { FakePlatform, FakeTool, fakeContext } from './fake.ts';
import { useStandIns } from './standins.ts';

const h = useStandIns();
let run: string;
beforeEach(() => ({ run } = h));
const READY = `${JSON.stringify({ event: 'ready' })}\n`;
const plan = (over: Partial<FaultfsPlan> = {}): FaultfsPlan => ({ dir: join(run, 'mnt'), op: 'read', action: 'kill', atByte: 100, ...over });

/** The process the stand-in fusermount left behind ($FFS_FM_LINGER) and where fusermount's stdout went, from its log. */
function lingering(): { pid: number; stdout: string } {
  const found = h.logged().flatMap((l) => /^lingers (\d+), stdout (.*)$/.exec(l) ?? []);
  assert.equal(found.length, 3, 'one fusermount left a process behind');
  return { pid: Number(found[1]), stdout: found[2]! };
}

// First of this file: the exit hook is registered once per process, by the first mount.
test('the exit hook runs fusermount with its output ignored: a process it leaves behind holding it is not waited for', async () => {
  process.env.FFS_OUT = READY;
  const before = new Set(process.listeners('exit'));
  const m = await mountFaultfs(plan());
  const hooks = process.listeners('exit').filter((l) => !before.has(l));
  assert.equal(hooks.length, 1, 'one exit hook');
  process.removeListener('exit', hooks[0]!);
  // The stand-in fusermount leaves a sleep of 30 s holding its stdout. With that output piped, the hook's spawnSync
  // would wait for the sleep to end; ignored, it returns as soon as fusermount has exited.
  process.env.FFS_FM_LINGER = '30';
  (hooks[0] as () => void)();
  const { pid, stdout } = lingering();
  try {
    assert.equal(stdout, '/dev/null', "fusermount's output is not piped (a pipe is waited for up to the 5 s timeout)");
    assert.equal(running(pid), true, 'the hook returned while the process fusermount left was still there');
    assert.deepEqual(h.logged().filter((l) => l.startsWith('fusermount')), [`fusermount -u -z ${join(run, 'mnt')}`]);
  } finally {
    process.kill(pid, 'SIGKILL');
    delete process.env.FFS_FM_LINGER;
    await m.stop();
  }
});

test('an unmount runs fusermount with its output ignored: a process it leaves behind holding it is not waited for', async () => {
  const table = join(run, 'mounts');
  writeFileSync(table, 'faultfs /w/a fuse.faultfs rw,nosuid,nodev 0 0\n');
  process.env.FFS_FM_LINGER = '30';
  // detachFaultfsMounts runs fusermount -u -z through the same runUnmount as stop(): with the output piped, its
  // 'close' would come only once the sleep of 30 s has ended.
  assert.deepEqual(await detachFaultfsMounts('/w/a', table), ['/w/a']);
  const { pid, stdout } = lingering();
  try {
    assert.equal(stdout, '/dev/null', "fusermount's output is not piped");
    assert.equal(running(pid), true, 'the unmount ended while the process fusermount left was still there');
  } finally {
    process.kill(pid, 'SIGKILL');
  }
});

test('a faultfs that cannot be spawned (ENOENT): a failed mount with the exit code Node gives, not an uncaught error', async () => {
  // $PVBENCH_FAULTFS a bare name: executable in the working directory (so faultfsBinary takes it), but not on $PATH,
  // where spawn looks a bare name up. diesWithParent leaves a command it cannot find unwrapped (no setpriv), so the
  // spawn itself fails: 'error' (ENOENT), then 'close' with code -2 and no pid.
  const here = join(run, 'cwd');
  mkdirSync(here);
  writeFileSync(join(here, 'faultfs-here'), '#!/bin/sh\necho never run\n');
  chmodSync(join(here, 'faultfs-here'), 0o755);
  process.env.PVBENCH_FAULTFS = 'faultfs-here';
  // Only the synchronous start of mountFaultfs runs in that directory (the spawn is part of it): no signal or exit
  // handler of this process (Stryker's writes its report into the working directory) can run before it is back.
  const cwd = process.cwd();
  process.chdir(here);
  let mounting: Promise<unknown>;
  try {
    mounting = mountFaultfs(plan(), 5000);
  } finally {
    process.chdir(cwd);
  }
  await assert.rejects(mounting, { message: `faultfs (pid 0) did not mount over ${join(run, 'mnt')}: it exited: code -2` });
  assert.deepEqual(h.logged(), [], 'nothing ran: neither the script nor fusermount');
});

test('the byte-point hooks tell faultfs the pid of an operation that has one, nothing for one without', async () => {
  process.env.FFS_OUT = READY;
  const source = join(run, 'source');
  mkdirSync(source);
  writeFileSync(join(source, 'data'), Buffer.alloc(1000));
  const platform = new FakePlatform();
  const ctx = fakeContext(platform, new FakeTool(platform), source);
  const f = await armByteFault(ctx, { site: 'source', action: 'kill', fraction: 0.5 });
  const op = (pid: number | undefined): RunningOp => ({ describe: () => 'op', pid, progress: async () => 0, kill: async () => 'killed' });
  try {
    f.hooks.onStart!(op(undefined));
    f.hooks.onStart!(op(4242));
    await until('the stand-in was told a pid', () => h.logged().some((l) => l.startsWith('told ')));
  } finally {
    await f.finish();
  }
  assert.deepEqual(h.logged(), [`args -dir ${source} -op read -action kill -at-byte 500`, 'told pid 4242', `fusermount -u ${source}`, 'exit']);
});
