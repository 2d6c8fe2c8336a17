// watchProcess over a process tree laid out as files (its procRoot option): exact CPU, memory and I/O figures for
// trees of several busy processes, processes that come and go, pid reuse and the fork before exec, none of which a
// real tree on a loaded machine can pin down to the tick or the byte.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { clockTicksPerSecond, watchProcess } from '../../src/metrics/process.ts';
import { fakeProcsOfFile, type FakeProcess } from '../helpers/fake-proc.ts';

const KIB = 1024;
/** No periodic sample lands within a test: the samples are the first, the test's own, and stop()'s. */
const NEVER = 600_000;
let msPerTick = 0;
const fakeProc = fakeProcsOfFile();

before(async () => {
  // Reads getconf now: no child of this process is reaped during a watch, so its own children's CPU stays out.
  msPerTick = 1000 / (await clockTicksPerSecond());
});

describe('watchProcess over a tree of several busy processes', { skip: process.platform !== 'linux' && 'needs Linux' }, () => {
  // Root 100 with children 101 and 102; 102 has a child 103. 200 and 201 are another tree.
  const TREE: FakeProcess[] = [
    { pid: 100, ppid: 1, utime: 30, stime: 5, rssKb: 1000, hwmKb: 1500, rchar: 10, wchar: 1 },
    { pid: 101, ppid: 100, utime: 200, stime: 20, rssKb: 3000, hwmKb: 3000, rchar: 1000, wchar: 100 },
    { pid: 102, ppid: 100, utime: 70, stime: 7, rssKb: 2000, hwmKb: 2500, rchar: 500, wchar: 50 },
    { pid: 103, ppid: 102, utime: 11, stime: 3, rssKb: 500, hwmKb: 600, rchar: 40, wchar: 4 },
    { pid: 200, ppid: 1, utime: 9000, stime: 900, rssKb: 90000, hwmKb: 90000, rchar: 9e6, wchar: 9e5 },
    { pid: 201, ppid: 200, utime: 8000, stime: 800, rssKb: 80000, hwmKb: 80000, rchar: 8e6, wchar: 8e5 },
  ];

  for (const scanPpids of [false, true]) {
    test(`sums CPU, I/O and resident memory over every process of the tree and nothing else (${scanPpids ? 'ppid scan' : 'children files'})`, async () => {
      const fake = fakeProc(...TREE);
      const watch = watchProcess(100, { procRoot: fake.root, scanPpids, intervalMs: NEVER });
      assert.deepEqual(watch.pids().sort(), [100, 101, 102, 103]);
      assert.equal(watch.bytesRead(), 10 + 1000 + 500 + 40);
      assert.equal(watch.bytesWritten(), 1 + 100 + 50 + 4);
      const { wallMs, ...figures } = await watch.stop();
      assert.ok(wallMs < 60_000, `wall time ${wallMs} ms`);
      assert.deepEqual(figures, {
        cpuUserMs: (30 + 200 + 70 + 11) * msPerTick,
        cpuSysMs: (5 + 20 + 7 + 3) * msPerTick,
        // The summed VmRSS (6,500 KiB) is above any one process's VmHWM.
        peakRssBytes: 6500 * KIB,
        bytesRead: 1550,
        bytesWritten: 155,
        samples: 2,
      });
    });
  }

  test('the wall time is the given stopwatch at stop(), read once', async () => {
    const fake = fakeProc({ pid: 100, ppid: 1 });
    let reads = 0;
    const watch = watchProcess(100, { procRoot: fake.root, intervalMs: NEVER, timer: () => 1234.5 + reads++ });
    assert.equal((await watch.stop()).wallMs, 1234.5);
    assert.equal((await watch.stop()).wallMs, 1234.5);
    assert.equal(reads, 1);
  });

  test("peak memory is one process's VmHWM when that is above the summed RSS of every sample", async () => {
    const fake = fakeProc(
      { pid: 100, ppid: 1, rssKb: 1000, hwmKb: 1200 },
      { pid: 101, ppid: 100, rssKb: 2000, hwmKb: 50_000 },
      { pid: 102, ppid: 100, rssKb: 3000, hwmKb: 4000 },
    );
    const usage = await watchProcess(100, { procRoot: fake.root, intervalMs: NEVER }).stop();
    assert.equal(usage.peakRssBytes, 50_000 * KIB);
  });

  test('peak memory is the largest summed RSS of any sample, not the last', async () => {
    const fake = fakeProc({ pid: 100, ppid: 1, rssKb: 1000, hwmKb: 1000 }, { pid: 101, ppid: 100, rssKb: 4000, hwmKb: 4000 });
    const watch = watchProcess(100, { procRoot: fake.root, intervalMs: NEVER });
    fake.remove(101);
    fake.put({ pid: 100, ppid: 1, rssKb: 2000, hwmKb: 2000 });
    assert.equal((await watch.stop()).peakRssBytes, 5000 * KIB);
  });

  test("a process's CPU counts once, at its latest reading, and still counts after it has gone", async () => {
    const fake = fakeProc({ pid: 100, ppid: 1, utime: 30, stime: 3 }, { pid: 101, ppid: 100, utime: 200, stime: 20 });
    const watch = watchProcess(100, { procRoot: fake.root, intervalMs: NEVER });
    fake.put({ pid: 100, ppid: 1, utime: 45, stime: 4 });
    await watch.sample();
    fake.remove(101);
    const usage = await watch.stop();
    assert.equal(usage.cpuUserMs, (45 + 200) * msPerTick);
    assert.equal(usage.cpuSysMs, (4 + 20) * msPerTick);
    assert.equal(usage.samples, 3);
  });

  test('the I/O of a child reaped by a parent in the tree counts once; an orphan that goes keeps its last counters', async () => {
    const fake = fakeProc(
      { pid: 100, ppid: 1, rchar: 10, wchar: 1 },
      { pid: 101, ppid: 100, rchar: 1000, wchar: 100 },
      { pid: 102, ppid: 100, rchar: 20, wchar: 2 },
      { pid: 103, ppid: 102, rchar: 300, wchar: 30 },
    );
    const watch = watchProcess(100, { procRoot: fake.root, intervalMs: NEVER });
    assert.equal(watch.bytesRead(), 1330);
    // 100 reaps 101: its counters now include 101's.
    fake.remove(101);
    fake.put({ pid: 100, ppid: 1, rchar: 1010, wchar: 101 });
    await watch.sample();
    assert.deepEqual([watch.bytesRead(), watch.bytesWritten()], [1330, 133]);
    // 102 exits and 100 reaps it; its child 103 is reparented to 1 but is still the tree's.
    fake.remove(102);
    fake.put({ pid: 100, ppid: 1, rchar: 1030, wchar: 103 }, { pid: 103, ppid: 1, rchar: 350, wchar: 35 });
    await watch.sample();
    assert.deepEqual(watch.pids().sort(), [100, 103]);
    assert.deepEqual([watch.bytesRead(), watch.bytesWritten()], [1380, 138]);
    // 103 goes with no parent in the tree to absorb it: its last counters stay in the figures.
    fake.remove(103);
    fake.put({ pid: 100, ppid: 1, rchar: 1040, wchar: 104 });
    await watch.sample();
    assert.deepEqual(watch.pids(), [100]);
    const usage = await watch.stop();
    assert.deepEqual([usage.bytesRead, usage.bytesWritten], [1040 + 350, 104 + 35]);
  });

  test('bytes read and written never go back, even while a parent has yet to absorb a gone child', async () => {
    const fake = fakeProc({ pid: 100, ppid: 1, rchar: 10, wchar: 1 }, { pid: 101, ppid: 100, rchar: 1000, wchar: 100 });
    const watch = watchProcess(100, { procRoot: fake.root, intervalMs: NEVER });
    fake.remove(101);
    await watch.sample();
    assert.deepEqual([watch.bytesRead(), watch.bytesWritten()], [1010, 101]);
    assert.deepEqual(watch.pids(), [100]);
  });

  test("a pid reused by another process after the tree's own has gone counts no more", async () => {
    const fake = fakeProc(
      { pid: 100, ppid: 1, utime: 10, rssKb: 100, hwmKb: 100 },
      { pid: 101, ppid: 100, utime: 20, starttime: '5000', rssKb: 200, hwmKb: 200, rchar: 7, wchar: 3 },
    );
    const watch = watchProcess(100, { procRoot: fake.root, intervalMs: NEVER });
    assert.deepEqual(watch.pids().sort(), [100, 101]);
    // 101 exits; a process of another tree starts with the same pid.
    fake.put({ pid: 101, ppid: 50, utime: 5000, starttime: '9000', rssKb: 90_000, hwmKb: 90_000, rchar: 1e6, wchar: 1e6 });
    await watch.sample();
    assert.deepEqual(watch.pids(), [100]);
    const usage = await watch.stop();
    assert.equal(usage.cpuUserMs, (10 + 20) * msPerTick);
    assert.equal(usage.peakRssBytes, 300 * KIB);
    assert.deepEqual([usage.bytesRead, usage.bytesWritten], [7, 3]);
  });

  test('a root pid reused by another process counts no more', async () => {
    const fake = fakeProc({ pid: 100, ppid: 1, utime: 10, starttime: '5000' });
    const watch = watchProcess(100, { procRoot: fake.root, intervalMs: NEVER });
    fake.put({ pid: 100, ppid: 1, utime: 900, starttime: '9000' });
    await watch.sample();
    assert.deepEqual(watch.pids(), []);
    assert.equal((await watch.stop()).cpuUserMs, 10 * msPerTick);
  });

  test('the root and its children count only once the root runs the expected command, and stay counted after', async () => {
    const argv = ['restic', 'backup', '/data'];
    const fake = fakeProc(
      { pid: 100, ppid: 1, utime: 50, rssKb: 40_000, hwmKb: 40_000, rchar: 5000, argv: ['node', 'pvbench'] },
      { pid: 101, ppid: 100, utime: 7, rssKb: 100, hwmKb: 100, rchar: 70 },
    );
    const watch = watchProcess(100, { procRoot: fake.root, intervalMs: NEVER, expectArgv: argv });
    assert.deepEqual(watch.pids(), []);
    // The fork has exec'd: its figures are the tool's from now on.
    fake.put({ pid: 100, ppid: 1, utime: 3, rssKb: 900, hwmKb: 1000, rchar: 20, argv });
    await watch.sample();
    assert.deepEqual(watch.pids().sort(), [100, 101]);
    // A tool that rewrites its command line (a process title) is still the tool.
    fake.put({ pid: 100, ppid: 1, utime: 4, rssKb: 900, hwmKb: 1000, rchar: 30, argv: ['restic: uploading'] });
    const usage = await watch.stop();
    assert.deepEqual(watch.pids().sort(), [100, 101]);
    assert.equal(usage.cpuUserMs, (4 + 7) * msPerTick);
    assert.equal(usage.peakRssBytes, 1000 * KIB);
    assert.equal(usage.bytesRead, 100);
  });

  test('a command line that only starts with the expected argv is not the tool yet', async () => {
    const fake = fakeProc({ pid: 100, ppid: 1, utime: 50, argv: ['restic', 'backup', '/data', '--verbose'] });
    const watch = watchProcess(100, { procRoot: fake.root, intervalMs: NEVER, expectArgv: ['restic', 'backup', '/data'] });
    assert.deepEqual(watch.pids(), []);
    assert.equal((await watch.stop()).cpuUserMs, 0);
  });

  test('a root whose cmdline has gone (it exited meanwhile) is not the tool, and the sample still counts', async () => {
    const fake = fakeProc({ pid: 100, ppid: 1, utime: 50 });
    rmSync(join(fake.root, '100', 'cmdline'));
    const usage = await watchProcess(100, { procRoot: fake.root, intervalMs: NEVER, expectArgv: ['tool100'] }).stop();
    assert.deepEqual([usage.cpuUserMs, usage.samples], [0, 2]);
  });

  test('a process whose io and status files are gone still counts its CPU; a thread without a children file has no children', async () => {
    const fake = fakeProc({ pid: 100, ppid: 1, utime: 10, rchar: 5 }, { pid: 101, ppid: 100, utime: 20, rssKb: 300, hwmKb: 300, rchar: 60, wchar: 6 });
    rmSync(join(fake.root, '101', 'io'));
    rmSync(join(fake.root, '101', 'status'));
    mkdirSync(join(fake.root, '100', 'task', '177'));
    const usage = await watchProcess(100, { procRoot: fake.root, intervalMs: NEVER }).stop();
    assert.equal(usage.cpuUserMs, 30 * msPerTick);
    assert.equal(usage.peakRssBytes, 0);
    assert.deepEqual([usage.bytesRead, usage.bytesWritten], [5, 0]);
    assert.equal(usage.samples, 2);
  });

  test('a process gone before its task directory is read has no children', async () => {
    const fake = fakeProc({ pid: 100, ppid: 1, utime: 10 }, { pid: 101, ppid: 100, utime: 20 });
    rmSync(join(fake.root, '101', 'task'), { recursive: true });
    const usage = await watchProcess(100, { procRoot: fake.root, intervalMs: NEVER }).stop();
    assert.equal(usage.cpuUserMs, 30 * msPerTick);
    assert.equal(usage.samples, 2);
  });

  test('an unexpected /proc error drops that sample and keeps the figures of the others', async () => {
    const fake = fakeProc({ pid: 100, ppid: 1, utime: 10, rssKb: 100, hwmKb: 100, rchar: 5 });
    const watch = watchProcess(100, { procRoot: fake.root, intervalMs: NEVER });
    fake.put({ pid: 100, ppid: 1, utime: 99, rssKb: 9000, hwmKb: 9000, rchar: 500 });
    rmSync(join(fake.root, '100', 'io'));
    mkdirSync(join(fake.root, '100', 'io')); // reading it fails with EISDIR, which no vanishing process causes
    await watch.sample();
    assert.equal(watch.bytesRead(), 5);
    const usage = await watch.stop();
    assert.deepEqual([usage.cpuUserMs, usage.peakRssBytes, usage.samples], [10 * msPerTick, 100 * KIB, 1]);
  });

  test('after stop() the figures no longer change', async () => {
    const fake = fakeProc({ pid: 100, ppid: 1, utime: 10, rchar: 5, wchar: 2 });
    const watch = watchProcess(100, { procRoot: fake.root, intervalMs: NEVER });
    const usage = await watch.stop();
    fake.put({ pid: 100, ppid: 1, utime: 99, rchar: 500, wchar: 200 });
    await watch.sample();
    assert.deepEqual([watch.bytesRead(), watch.bytesWritten()], [5, 2]);
    await sleep(20);
    assert.deepEqual(await watch.stop(), usage);
  });

  test('samples every intervalMs until stopped', async () => {
    const fake = fakeProc({ pid: 100, ppid: 1, rchar: 5 });
    const watch = watchProcess(100, { procRoot: fake.root, intervalMs: 5 });
    fake.put({ pid: 100, ppid: 1, rchar: 6 });
    // No explicit sample: only the timer can see each new value. A loaded machine may delay it, but not for 10 s.
    for (let rchar = 6; rchar <= 8; rchar++) {
      fake.put({ pid: 100, ppid: 1, rchar });
      for (let waited = 0; watch.bytesRead() < rchar && waited < 10_000; waited += 5) await sleep(5);
      assert.equal(watch.bytesRead(), rchar);
    }
    await watch.stop();
  });

  test('without intervalMs the tree is sampled periodically (every 20 ms); with a long one, not in between', async () => {
    const fake = fakeProc({ pid: 100, ppid: 1 });
    const quiet = watchProcess(100, { procRoot: fake.root, intervalMs: NEVER });
    const busy = watchProcess(100, { procRoot: fake.root });
    // Node fires timers in order of their due time: the 20 ms tick comes before this 100 ms sleep ends.
    await sleep(100);
    assert.equal((await quiet.stop()).samples, 2);
    assert.ok((await busy.stop()).samples >= 3, 'a periodic sample within 100 ms');
  });

  test('a watch never stopped does not keep its process alive', async () => {
    const module = new URL('../../src/metrics/process.ts', import.meta.url).href;
    const script = `const { watchProcess } = await import(${JSON.stringify(module)}); watchProcess(process.pid, { intervalMs: 5 }); setTimeout(() => console.log('ended'), 50);`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 30_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    assert.equal(out, 'ended\n');
  });

  test('scanPpids finds the tree from parent pids alone; otherwise the children files make it', { skip: !existsSync(`/proc/${process.pid}/task/${process.pid}/children`) && 'the kernel has no children files' }, async () => {
    const fake = fakeProc({ pid: 100, ppid: 1 }, { pid: 101, ppid: 100 }, { pid: 102, ppid: 1 });
    // The children files say otherwise than the ppids: 102 is 100's child, 101 nobody's.
    writeFileSync(join(fake.root, '100', 'task', '100', 'children'), '102 ');
    const byScan = watchProcess(100, { procRoot: fake.root, intervalMs: NEVER, scanPpids: true });
    const byChildrenFiles = watchProcess(100, { procRoot: fake.root, intervalMs: NEVER });
    assert.deepEqual(byScan.pids().sort(), [100, 101]);
    assert.deepEqual(byChildrenFiles.pids().sort(), [100, 102]);
    await Promise.all([byScan.stop(), byChildrenFiles.stop()]);
  });
});
