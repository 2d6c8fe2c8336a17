// The faultfs process as src/faults/faultfs.ts runs it, without FUSE: a stand-in for the binary (a shell script that
// logs its arguments and what pvbench tells it, prints the report lines a test gives it, exits, hangs, or waits to be
// unmounted) and a stand-in fusermount on $PATH (it logs its arguments, fails as often as a test says, and "unmounts"
// by telling the stand-in). What is checked: the arguments, the report read across chunks and past noise, each way a
// mount can fail, stop's unmount (retried while busy, then detached, once however often it is called), the mounts
// detached on exit, and detachFaultfsMounts's reading of a mount table. test/faults/faultfs.test.ts does the same with
// the real binary and FUSE where the machine has them.
import { beforeEach, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { running, until } from '../helpers/process.ts';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCAL_FAULTFS, detachFaultfsMounts, faultfsBinary, faultfsUnavailable, mountFaultfs } from '../../src/faults/faultfs.ts';
import type { FaultfsMount, FaultfsPlan } from '../../src/faults/faultfs.ts';
import { useStandIns } from './standins.ts';

const h = useStandIns();
let standIn: string;
/** This test's folder (useStandIns's `run`). */
let run: string;
beforeEach(() => ({ standIn, run } = h));
const logged = h.logged;
const line = (ev: Record<string, unknown>) => `${JSON.stringify(ev)}\n`;
const READY = line({ event: 'ready' });
const plan = (over: Partial<FaultfsPlan> = {}): FaultfsPlan => ({ dir: join(run, 'mnt'), op: 'read', action: 'kill', atByte: 100, ...over });

// First of this file (the exit hook is registered once per process, by the first mount): every mount that was not
// stopped is detached by path when the process exits; one hook however many mounts.
test('mounts not stopped are detached lazily on exit, by one exit hook; a stopped mount is not', async () => {
  process.env.FFS_OUT = READY;
  const before = new Set(process.listeners('exit'));
  const a = await mountFaultfs(plan({ dir: join(run, 'a b') }));
  const b = await mountFaultfs(plan({ dir: join(run, 'b') }));
  const c = await mountFaultfs(plan({ dir: join(run, 'c') }));
  const hooks = process.listeners('exit').filter((l) => !before.has(l));
  assert.equal(hooks.length, 1, 'one exit hook');
  const hook = hooks[0]!;
  process.removeListener('exit', hook);
  await b.stop();
  writeFileSync(join(run, 'log'), '');
  (hook as () => void)();
  assert.deepEqual(logged().filter((l) => l.startsWith('fusermount')), [`fusermount -u -z ${join(run, 'a b')}`, `fusermount -u -z ${join(run, 'c')}`]);
  // The lazy unmounts above told those stand-ins they are unmounted: they leave; stop still unmounts by path.
  await a.stop();
  await c.stop();
  assert.deepEqual(logged().filter((l) => l.startsWith('fusermount')).slice(2), [`fusermount -u ${join(run, 'a b')}`, `fusermount -u ${join(run, 'c')}`]);
});

test('the arguments: the point rounded and never below 0; count and delay only when given, 0 included', async () => {
  process.env.FFS_OUT = READY;
  const m = await mountFaultfs(plan({ op: 'write', action: 'eio', atByte: 2.5, count: 0, delayMs: 0 }));
  await m.stop();
  const n = await mountFaultfs(plan({ op: 'read', action: 'delay', atByte: -7 }));
  await n.stop();
  const o = await mountFaultfs(plan({ action: 'enospc', atByte: 1234.4, count: 2, delayMs: 15 }));
  await o.stop();
  const dir = join(run, 'mnt');
  assert.deepEqual(
    logged().filter((l) => l.startsWith('args')),
    [
      `args -dir ${dir} -op write -action eio -at-byte 3 -count 0 -delay-ms 0`,
      `args -dir ${dir} -op read -action delay -at-byte 0`,
      `args -dir ${dir} -op read -action enospc -at-byte 1234 -count 2 -delay-ms 15`,
    ],
  );
});

test('the report: lines read across chunks, noise and blank lines skipped, the strike timed when read, the account at the end', async () => {
  const strike = { event: 'struck', action: 'kill', op: 'read', byte: 100, opBytes: 7, path: 'p/q', callerPid: 9, killed: 4242 };
  const stats = { event: 'stats', bytes: 100, ops: 3, failed: 0, delayed: 0, struck: true };
  // Ready is on the second line, after a blank one; the strike comes 0.1 s later, split in two chunks with noise between.
  const struck = line(strike);
  process.env.FFS_OUT = `\n${READY}not json\n${struck.slice(0, 20)}`;
  process.env.FFS_LATER = struck.slice(20);
  process.env.FFS_FINAL = `${line(stats)}{"event":"stats"`;
  const t0 = Date.now();
  const m = await mountFaultfs(plan(), 5000);
  assert.equal(m.strike(), undefined, 'nothing struck yet');
  assert.ok(m.pid > 0);
  m.tellPid(4242);
  await until('the strike is read', () => m.strike() !== undefined);
  const t1 = Date.now();
  const s = m.strike()!;
  assert.deepEqual({ ...s, at: 0 }, { ...strike, at: 0 });
  assert.ok(s.at >= t0 && s.at <= t1, `read at ${s.at}, between ${t0} and ${t1}`);
  const result = await m.stop();
  assert.deepEqual(result, { strike: s, stats }, 'a line cut off at the end counts for nothing');
  assert.deepEqual(logged(), [`args -dir ${join(run, 'mnt')} -op read -action kill -at-byte 100`, 'told pid 4242', `fusermount -u ${join(run, 'mnt')}`, 'exit']);
  assert.equal(running(m.pid), false);
  m.tellPid(1);
  assert.deepEqual(await m.stop(), result, 'stopped once, the same account again');
  assert.equal(logged().length, 4, 'no second unmount, nothing told after the end');
});

test('ready only on a whole line: a report cut before its newline is not a mount', async () => {
  process.env.FFS_OUT = '{"event":"ready"}';
  process.env.FFS_EXIT = '0';
  await assert.rejects(mountFaultfs(plan(), 5000), (e: Error) => /: it exited: code 0$/.test(e.message));
});

test('stop called twice at once unmounts once', async () => {
  process.env.FFS_OUT = READY;
  process.env.FFS_FINAL = line({ event: 'stats', bytes: 1, ops: 1, failed: 0, delayed: 0, struck: false });
  const m = await mountFaultfs(plan());
  const [x, y] = await Promise.all([m.stop(), m.stop()]);
  assert.equal(x, y);
  assert.deepEqual(x, { strike: undefined, stats: { event: 'stats', bytes: 1, ops: 1, failed: 0, delayed: 0, struck: false } });
  assert.deepEqual(logged().filter((l) => l.startsWith('fusermount')), [`fusermount -u ${join(run, 'mnt')}`]);
});

test('a busy mount: the unmount is retried until it succeeds, no detach', async () => {
  process.env.FFS_OUT = READY;
  process.env.FFS_FM_FAILS = '3';
  const m = await mountFaultfs(plan());
  const t0 = Date.now();
  await m.stop();
  const dir = join(run, 'mnt');
  assert.deepEqual(logged().slice(1), [`fusermount -u ${dir}`, `fusermount -u ${dir}`, `fusermount -u ${dir}`, `fusermount -u ${dir}`, 'exit']);
  assert.ok(Date.now() - t0 >= 150, '50 ms between tries');
  assert.equal(running(m.pid), false);
});

test('a mount busy for good: 21 tries, then detached lazily (the 50 ms between them on mocked timers)', async () => {
  process.env.FFS_OUT = READY;
  process.env.FFS_FM_FAILS = 'always';
  mock.timers.enable({ apis: ['setTimeout'] });
  let m: FaultfsMount;
  try {
    m = await mountFaultfs(plan());
    let stopped = false;
    const stopping = m.stop().then(() => (stopped = true));
    // The mocked clock moves 50 ms at a time until the detach; then the stand-in leaves by itself, in real time.
    for (let n = 0; !logged().some((l) => l.includes('-u -z')) && n < 100_000; n++) {
      mock.timers.tick(50);
      await new Promise((r) => setImmediate(r));
    }
    for (let n = 0; !stopped && n < 1_000_000; n++) await new Promise((r) => setImmediate(r));
    await stopping;
  } finally {
    mock.timers.reset();
  }
  const dir = join(run, 'mnt');
  const calls = logged().filter((l) => l.startsWith('fusermount'));
  assert.deepEqual(calls, [...Array<string>(21).fill(`fusermount -u ${dir}`), `fusermount -u -z ${dir}`]);
  assert.equal(logged().at(-1), 'exit');
  assert.equal(running(m.pid), false);
});

test('a faultfs that outlives its unmount: 10 s later it is killed, and the stop ends (mocked timers)', async () => {
  process.env.FFS_OUT = READY;
  process.env.FFS_FINAL = line({ event: 'stats', bytes: 5, ops: 1, failed: 0, delayed: 0, struck: false });
  process.env.FFS_STAY = '1';
  // Mocked from before the mount: every timer of it (its 15 s mount timeout too) is on the mocked clock. The waits
  // of 10 s are counted as they are set (child_process's own timers do not go through the global setTimeout).
  mock.timers.enable({ apis: ['setTimeout'] });
  const mocked = globalThis.setTimeout;
  let tenSecondWaits = 0;
  globalThis.setTimeout = ((fn: () => void, ms?: number) => {
    if (ms === 10_000) tenSecondWaits++;
    return mocked(fn, ms);
  }) as typeof setTimeout;
  const flush = async (n = 20) => {
    for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
  };
  let res: Awaited<ReturnType<FaultfsMount['stop']>> | undefined;
  let m: FaultfsMount | undefined;
  try {
    m = await mountFaultfs(plan());
    const stopping = m.stop().then((r) => (res = r));
    // Unmounted, the stand-in prints its account and logs that it stays; stop waits for it.
    for (let n = 0; (tenSecondWaits === 0 || !logged().includes('stays')) && n < 1_000_000; n++) await new Promise((r) => setImmediate(r));
    assert.equal(tenSecondWaits, 1, 'unmounted, then waiting for the process');
    await flush(100);
    assert.equal(running(m.pid), true, 'still there after the unmount');
    mock.timers.tick(9_999);
    await flush();
    assert.equal(running(m.pid), true, 'not killed before 10 s');
    assert.equal(res, undefined);
    mock.timers.tick(1);
    for (let n = 0; res === undefined && n < 1_000_000; n++) await new Promise((r) => setImmediate(r));
    await stopping;
  } finally {
    globalThis.setTimeout = mocked;
    mock.timers.reset();
  }
  assert.deepEqual(res, { strike: undefined, stats: { event: 'stats', bytes: 5, ops: 1, failed: 0, delayed: 0, struck: false } });
  await until('killed', () => !running(m!.pid), 2000);
  assert.deepEqual(logged().filter((l) => l.startsWith('fusermount')), [`fusermount -u ${join(run, 'mnt')}`]);
});

test('a faultfs already gone when stopped: one try, no retries, then detached', async () => {
  process.env.FFS_OUT = READY;
  process.env.FFS_LEAVE = '1';
  process.env.FFS_FM_FAILS = 'always';
  const m = await mountFaultfs(plan());
  await until('the stand-in left', () => !running(m.pid));
  await new Promise((r) => setTimeout(r, 50));
  const res = await m.stop();
  const dir = join(run, 'mnt');
  assert.deepEqual(logged().slice(1), [`fusermount -u ${dir}`, `fusermount -u -z ${dir}`]);
  assert.deepEqual(res, { strike: undefined, stats: undefined });
});

test('no fusermount on $PATH: the unmount fails, the stop still ends with the process', async () => {
  process.env.FFS_OUT = READY;
  process.env.FFS_LEAVE = '1';
  const m = await mountFaultfs(plan());
  process.env.PATH = '/nonexistent';
  try {
    assert.deepEqual(await m.stop(), { strike: undefined, stats: undefined });
  } finally {
    process.env.PATH = h.path;
  }
});

test('a faultfs that exits before its mount: the directory, the pid and its stderr (trimmed), or its exit code', async () => {
  process.env.FFS_ERR = '  fuse: device not found \n';
  process.env.FFS_EXIT = '1';
  let pid = 0;
  await assert.rejects(mountFaultfs(plan()), (e: Error) => {
    pid = Number(/^faultfs \(pid (\d+)\)/.exec(e.message)?.[1]);
    return e.message === `faultfs (pid ${pid}) did not mount over ${join(run, 'mnt')}: it exited: fuse: device not found`;
  });
  assert.ok(pid > 0);
  delete process.env.FFS_ERR;
  process.env.FFS_EXIT = '3';
  process.env.FFS_OUT = 'starting\n';
  await assert.rejects(mountFaultfs(plan()), (e: Error) => /^faultfs \(pid \d+\) did not mount over .*: it exited: code 3$/.test(e.message));
  assert.equal(logged().filter((l) => l.startsWith('fusermount')).length, 0, 'nothing to unmount');
});

test('a faultfs that never mounts: the wait ends at the timeout, the process is killed before the error', async () => {
  process.env.FFS_HANG = '1';
  let pid = 0;
  const t0 = Date.now();
  await assert.rejects(mountFaultfs(plan(), 200), (e: Error) => {
    pid = Number(/^faultfs \(pid (\d+)\)/.exec(e.message)?.[1]);
    return e.message === `faultfs (pid ${pid}) did not mount over ${join(run, 'mnt')}: no mount after 200 ms`;
  });
  assert.ok(Date.now() - t0 < 3000, 'killed, not waited for');
  assert.equal(running(pid), false, 'killed');
});

test('detachFaultfsMounts: the faultfs mounts at or below the folder, deepest first, unescaped; the ones detached', async () => {
  const table = join(run, 'mounts');
  writeFileSync(
    table,
    [
      '/dev/sda1 / ext4 rw,relatime 0 0',
      'faultfs /w/a fuse.faultfs rw,nosuid,nodev 0 0',
      'faultfs /w/a/b\\040c\\134d fuse.faultfs rw 0 0',
      'faultfs /w/ab fuse.faultfs rw 0 0',
      'sshfs /w/a/x fuse.sshfs rw 0 0',
      'faultfs /w/a/failing fuse.faultfs rw 0 0',
      'faultfs /elsewhere/w/a fuse.faultfs rw 0 0',
      'faultfs /w/a/d\\0401 fuse.faultfs rw 0 0',
      '',
    ].join('\n'),
  );
  process.env.FFS_FM_LAZY_FAIL = '/w/a/failing';
  assert.deepEqual(await detachFaultfsMounts('/w/a', table), ['/w/a/b c\\d', '/w/a/d 1', '/w/a']);
  assert.deepEqual(logged(), ['fusermount -u -z /w/a/failing', 'fusermount -u -z /w/a/b c\\d', 'fusermount -u -z /w/a/d 1', 'fusermount -u -z /w/a']);
  writeFileSync(join(run, 'log'), '');
  assert.deepEqual(await detachFaultfsMounts('/w/a/', table), ['/w/a/b c\\d', '/w/a/d 1'], 'with a trailing slash: below it only');
  assert.deepEqual(await detachFaultfsMounts('/w/ab', table), ['/w/ab']);
  assert.deepEqual(await detachFaultfsMounts('/w/a', join(run, 'no-such-table')), [], 'no mount table: nothing');
  assert.deepEqual(await detachFaultfsMounts('/nowhere', table), []);
});

test('faultfsBinary: $PVBENCH_FAULTFS, else on $PATH, else the checkout\'s .tools/bin, else none', () => {
  const here = dirname(fileURLToPath(import.meta.url));
  assert.equal(LOCAL_FAULTFS, join(here, '..', '..', '.tools', 'bin', 'pvbench-faultfs'));
  const onPath = join(run, 'path');
  mkdirSync(onPath);
  writeFileSync(join(onPath, 'pvbench-faultfs'), '#!/bin/sh\n', { mode: 0o755 });
  const local = join(run, 'local-faultfs');
  writeFileSync(local, '#!/bin/sh\n', { mode: 0o755 });
  const notExecutable = join(run, 'not-executable');
  writeFileSync(notExecutable, '#!/bin/sh\n', { mode: 0o644 });
  assert.equal(faultfsBinary({ PVBENCH_FAULTFS: standIn, PATH: onPath }, local), standIn);
  assert.equal(faultfsBinary({ PVBENCH_FAULTFS: notExecutable, PATH: onPath }, local), undefined, 'not looked past');
  assert.equal(faultfsBinary({ PVBENCH_FAULTFS: '', PATH: onPath }, local), join(onPath, 'pvbench-faultfs'), 'empty: unset');
  assert.equal(faultfsBinary({ PATH: run }, local), local);
  assert.equal(faultfsBinary({ PATH: run }, notExecutable), undefined);
  assert.equal(faultfsBinary({}, join(run, 'missing')), undefined);
});

test('faultfsUnavailable: Linux, then the FUSE device, then the binary', () => {
  const noBinary = { PVBENCH_FAULTFS: join(run, 'missing') };
  const built = { PVBENCH_FAULTFS: standIn };
  const device = join(run, 'fuse');
  writeFileSync(device, '');
  assert.equal(faultfsUnavailable(built, 'darwin', device), 'faultfs needs Linux (FUSE)');
  assert.equal(faultfsUnavailable(built, 'linux', join(run, 'no-fuse')), `no ${join(run, 'no-fuse')} on this machine`);
  assert.equal(faultfsUnavailable(noBinary, 'linux', device), 'the faultfs binary is not built (scripts/setup.sh builds it where Go is available; or set PVBENCH_FAULTFS)');
  assert.equal(faultfsUnavailable(built, 'linux', device), undefined);
  if (process.platform === 'linux' && existsSync('/dev/fuse')) assert.equal(faultfsUnavailable(built), undefined, 'this machine by default');
});
