// watchProcess at the edges a real /proc reaches only by chance, over trees laid out as files (test/helpers/fake-proc.ts):
// a read that fails because its process went meanwhile, names in /proc that are not pids, a root pid taken by a
// process started in the same clock tick as one of the tree's, and the sampling timer once stopped.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { clockTicksPerSecond, watchProcess } from '../../src/metrics/process.ts';
import { fakeProcsOfFile, type FakeProcess } from '../helpers/fake-proc.ts';

/** No periodic sample lands within a test: the samples are the first, the test's own, and stop()'s. */
const NEVER = 600_000;
let msPerTick = 0;
const fakeProc = fakeProcsOfFile();

/** A reader of the fake tree's files that fails the read of `failing` with `code`, as the kernel's read(2) would. */
function failingRead(failing: string, code: string): (path: string) => string {
  return (path) => {
    if (path === failing) throw Object.assign(new Error(`${code}: read ${path}`), { code });
    return readFileSync(path, 'utf8');
  };
}

before(async () => {
  // Reads getconf now, so that no stop() below starts a process (or its timeout's timer).
  msPerTick = 1000 / (await clockTicksPerSecond());
});

describe('watchProcess at the edges of /proc', { skip: process.platform !== 'linux' && 'needs Linux' }, () => {
  for (const scanPpids of [false, true]) {
    // A process that exits while its files are read: ESRCH; one that is not ours (or turns setuid): EACCES, EPERM.
    for (const code of ['ENOENT', 'ESRCH', 'EACCES', 'EPERM', 'EINVAL']) {
      test(`a read failing with ${code} leaves that process out and keeps the sample (${scanPpids ? 'ppid scan' : 'children files'})`, async () => {
        const fake = fakeProc({ pid: 100, ppid: 1, utime: 10, rchar: 5 }, { pid: 101, ppid: 100, utime: 20, rchar: 60 });
        const readFile = failingRead(join(fake.root, '101', 'stat'), code);
        const watch = watchProcess(100, { procRoot: fake.root, intervalMs: NEVER, scanPpids, readFile });
        assert.deepEqual(watch.pids(), [100]);
        const usage = await watch.stop();
        assert.deepEqual([usage.cpuUserMs, usage.bytesRead, usage.samples], [10 * msPerTick, 5, 2]);
      });
    }
  }

  test('a read failing with another code (EIO) is unexpected: the sample is dropped', async () => {
    const fake = fakeProc({ pid: 100, ppid: 1, utime: 10, rchar: 5 }, { pid: 101, ppid: 100, utime: 20, rchar: 60 });
    const watch = watchProcess(100, { procRoot: fake.root, intervalMs: NEVER, readFile: failingRead(join(fake.root, '101', 'stat'), 'EIO') });
    assert.deepEqual(watch.pids(), []);
    const usage = await watch.stop();
    assert.deepEqual([usage.bytesRead, usage.samples], [0, 0]);
  });

  test('the ppid scan reads only the entries whose names are all digits', async () => {
    const fake = fakeProc({ pid: 100, ppid: 1, utime: 10 }, { pid: 101, ppid: 100, utime: 20 });
    // Names with digits at one end only, each holding the stat of a child of 100: the scan must not open them.
    const stat = readFileSync(join(fake.root, '101', 'stat'), 'utf8');
    for (const name of ['12abc', 'abc12']) {
      mkdirSync(join(fake.root, name));
      writeFileSync(join(fake.root, name, 'stat'), stat);
    }
    const read: string[] = [];
    const readFile = (path: string): string => {
      read.push(path.slice(fake.root.length + 1));
      return readFileSync(path, 'utf8');
    };
    const watch = watchProcess(100, { procRoot: fake.root, intervalMs: NEVER, scanPpids: true, readFile });
    assert.deepEqual(watch.pids().sort(), [100, 101]);
    assert.deepEqual(read.filter((p) => !/^\d+\//.test(p)), []);
    assert.equal((await watch.stop()).cpuUserMs, 30 * msPerTick);
  });

  test("a root pid taken, once the root has gone, by a process started in the same clock tick as the root's child counts no more", async () => {
    // Start times are in clock ticks: processes started within the same tick share one.
    const fake = fakeProc({ pid: 100, ppid: 1, utime: 10, starttime: '5000' }, { pid: 101, ppid: 100, utime: 20, starttime: '6000' });
    const watch = watchProcess(100, { procRoot: fake.root, intervalMs: NEVER });
    assert.deepEqual(watch.pids().sort(), [100, 101]);
    // The root exits, its child is reparented to 1 and stays in the tree; another tree's process takes pid 100.
    fake.remove(100);
    fake.put({ pid: 101, ppid: 1, utime: 25, starttime: '6000' }, { pid: 100, ppid: 50, utime: 900, starttime: '6000' });
    await watch.sample();
    assert.deepEqual(watch.pids(), [101]);
    assert.equal((await watch.stop()).cpuUserMs, (10 + 25) * msPerTick);
  });

  test('stop() clears the pending sampling timer: none stays armed', async () => {
    const fake = fakeProc({ pid: 100, ppid: 1 });
    // Spies that call the real functions, in place only while the watch starts and stop() runs up to its first await.
    const set = mock.method(globalThis, 'setTimeout');
    const clear = mock.method(globalThis, 'clearTimeout');
    let stopped: Promise<unknown>;
    try {
      stopped = watchProcess(100, { procRoot: fake.root, intervalMs: NEVER }).stop();
    } finally {
      set.mock.restore();
      clear.mock.restore();
    }
    await stopped;
    const armed = set.mock.calls.map((c) => c.result);
    assert.equal(armed.length, 1);
    assert.deepEqual(clear.mock.calls.map((c) => c.arguments[0]), armed);
  });
});
