import { execFileSync, spawn } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clockTicksPerSecond, parseProcIo, parseProcStatus, watchProcess } from '../../src/metrics/process.ts';
import { runMeasured, toPhaseMetrics, tallyProcesses } from '../../src/metrics/run.ts';
import { startTimer } from '../../src/metrics/timer.ts';
import { duringTrial } from '../../src/platform/interrupt.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { leftoverPids } from '../helpers/process.ts';

const NODE = process.execPath;
const linux = process.platform === 'linux';
const DATA_BYTES = 3 * 1024 * 1024;

// Burns at least 300 ms of user CPU by hashing (checking the clock rarely, so the time is user, not system).
const BURN = `
  const { createHash } = require('node:crypto');
  const buf = Buffer.alloc(1 << 20, 7);
  const h = createHash('sha256');
  while (process.cpuUsage().user < 300_000) for (let i = 0; i < 4; i++) h.update(buf);
`;

let tmp: string;
let dataFile: string;
const leftovers = leftoverPids();

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'pvbench-process-'));
  dataFile = join(tmp, 'data.bin');
  writeFileSync(dataFile, Buffer.alloc(DATA_BYTES, 1));
});

after(() => rmSync(tmp, { recursive: true, force: true }));

/** Alive, not a zombie, and without a pending SIGKILL (delivered but not yet acted on). */
function running(pid: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    if (/^State:\s+[ZX]/m.test(status)) return false;
    const pending = [...status.matchAll(/^(?:SigPnd|ShdPnd):\s+([0-9a-f]+)/gm)].map((m) => BigInt(`0x${m[1]}`));
    return !pending.some((mask) => (mask & (1n << 8n)) !== 0n);
  } catch {
    return false;
  }
}

describe('/proc parsers', () => {
  test('parseProcStatus reads VmRSS and VmHWM in bytes, zero when absent', () => {
    const text = 'Name:\tx\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\nThreads:\t1\n';
    assert.deepEqual(parseProcStatus(text), { rssBytes: 1024 * 1024, hwmBytes: 2048 * 1024 });
    assert.deepEqual(parseProcStatus('Name:\tzombie\nState:\tZ (zombie)\n'), { rssBytes: 0, hwmBytes: 0 });
  });

  test('parseProcIo reads rchar and wchar', () => {
    const text = 'rchar: 123456\nwchar: 789\nsyscr: 5\nsyscw: 6\nread_bytes: 4096\nwrite_bytes: 0\n';
    assert.deepEqual(parseProcIo(text), { rchar: 123456, wchar: 789 });
  });
});

describe('toPhaseMetrics', () => {
  test('derives cores and throughput from wall time', () => {
    const usage = { wallMs: 2000, cpuUserMs: 1500, cpuSysMs: 500, peakRssBytes: 10, bytesRead: 20, bytesWritten: 30, samples: 4 };
    assert.deepEqual(toPhaseMetrics(usage, 4_000_000, 2, 'proc'), {
      wallMs: 2000,
      cpuUserMs: 1500,
      cpuSysMs: 500,
      cpuCores: 1,
      peakRssBytes: 10,
      bytesRead: 20,
      bytesWritten: 30,
      bytesProcessed: 4_000_000,
      throughputBytesPerSec: 2_000_000,
      attempts: 2,
      source: 'proc',
    });
    const zero = toPhaseMetrics({ ...usage, wallMs: 0 }, 5, 1, 'tool');
    assert.equal(zero.cpuCores, 0);
    assert.equal(zero.throughputBytesPerSec, 0);
  });
});

describe('runMeasured', { skip: !linux && 'needs /proc' }, () => {
  test('the forked copy of this Node process (before exec) never counts as the tool: sleep measures a few MiB', async () => {
    // Without the exec check, a sample taken between fork and exec reports Node's own high-water mark (tens of MiB).
    for (let i = 0; i < 5; i++) {
      const r = await runMeasured('sleep', ['0.05'], { timeoutMs: 10_000, intervalMs: 1 });
      assert.equal(r.exitCode, 0);
      assert.ok(r.usage.peakRssBytes < 16 * 1024 * 1024, `sleep peak RSS ${r.usage.peakRssBytes} bytes`);
    }
  });

  test('measures a CPU-burning child and reports its exit code', async () => {
    const script = `require('node:fs').readFileSync(${JSON.stringify(dataFile)});\n${BURN}\nprocess.exit(7);`;
    const res = await runMeasured(NODE, ['-e', script], { timeoutMs: 60_000 });
    assert.equal(res.exitCode, 7);
    assert.equal(res.signal, null);
    assert.equal(res.timedOut, false);
    assert.ok(res.usage.cpuUserMs + res.usage.cpuSysMs >= 250, `cpu ${res.usage.cpuUserMs}+${res.usage.cpuSysMs} ms`);
    // Node itself is resident in more than 16 MiB (sleep, in less: the first test).
    assert.ok(res.usage.peakRssBytes >= 16 << 20, `peak RSS ${res.usage.peakRssBytes}`);
    assert.ok(res.usage.bytesRead >= DATA_BYTES, `bytesRead ${res.usage.bytesRead}`);
    // The first sample, at least one every 20 ms while it burns, and the last.
    assert.ok(res.usage.samples >= 3, `samples ${res.usage.samples}`);
    assert.ok(res.usage.wallMs >= 150, `wall ${res.usage.wallMs} ms for 300 ms of CPU`);
  });

  test('a child that ends between samples still counts its CPU: the reaped-children time of this process', async () => {
    // No periodic sample: the first one sees the launcher, stop()'s the child already reaped.
    const res = await runMeasured(NODE, ['-e', BURN], { timeoutMs: 60_000, intervalMs: 600_000 });
    assert.equal(res.usage.samples, 2);
    assert.ok(res.usage.cpuUserMs + res.usage.cpuSysMs >= 250, `cpu ${res.usage.cpuUserMs}+${res.usage.cpuSysMs} ms`);
  });

  test('leaves no timer behind: the process that ran it ends at once, not after the 5 s grace or the deadline', async () => {
    const module = new URL('../../src/metrics/run.ts', import.meta.url).href;
    const script = `
      const { runMeasured } = await import(${JSON.stringify(module)});
      const elapsed = performance.now();
      process.on('exit', () => console.log(Math.round(performance.now() - elapsed)));
      await runMeasured('true', [], { timeoutMs: 600_000 });
    `;
    const ms = Number(execFileSync(NODE, ['--input-type=module', '-e', script], { timeout: 60_000 }).toString());
    assert.ok(ms < 4_500, `ended ${ms} ms after the start of the run`);
  });

  test('counts the CPU of grandchildren', async () => {
    const script = `require('node:child_process').spawnSync(process.execPath, ['-e', ${JSON.stringify(BURN)}], { stdio: 'inherit' });`;
    const res = await runMeasured(NODE, ['-e', script], { timeoutMs: 60_000 });
    assert.equal(res.exitCode, 0);
    assert.ok(res.usage.cpuUserMs + res.usage.cpuSysMs >= 250, `cpu ${res.usage.cpuUserMs}+${res.usage.cpuSysMs} ms`);
  });

  test('captures output and feeds input', async () => {
    const res = await runMeasured(NODE, ['-e', "process.stdin.pipe(process.stdout); process.stderr.write('err')"], {
      timeoutMs: 60_000,
      input: 'hello input',
    });
    assert.equal(res.stdout, 'hello input');
    assert.equal(res.stderr, 'err');
    assert.equal(res.exitCode, 0);
  });

  test('resolves once the output is drained, without waiting out the 5 s grace for pipes held by others', async () => {
    const elapsed = startTimer();
    const res = await runMeasured(NODE, ['-e', "console.log('done')"], { timeoutMs: 60_000 });
    assert.equal(res.stdout, 'done\n');
    assert.ok(elapsed() < 4_900, `${elapsed()} ms`);
  });

  test('keeps the tail of output beyond the cap', async () => {
    const res = await runMeasured(NODE, ['-e', "process.stdout.write('a'.repeat(100000) + 'END')"], { timeoutMs: 60_000, maxOutputBytes: 1000 });
    assert.equal(res.stdout.length, 1000);
    assert.ok(res.stdout.endsWith('aEND'));
  });

  test('kills the tree on timeout, as it is at the deadline, and says so', async () => {
    const script = `
      const kid = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      console.log(kid.pid);
      setInterval(() => {}, 1000);
    `;
    // No periodic sample: only the one taken at the deadline knows the grandchild. The deadline leaves the child
    // time to start Node and its grandchild on a loaded machine (1 s was not always enough beside mutation runs).
    const res = await runMeasured(NODE, ['-e', script], { timeoutMs: 4_000, intervalMs: 600_000 });
    const grandchild = Number(res.stdout.trim());
    leftovers.push(grandchild);
    assert.equal(res.timedOut, true);
    assert.equal(res.signal, 'SIGKILL');
    assert.equal(res.exitCode, null);
    assert.ok(grandchild > 0);
    // SIGKILL is delivered at once, but the zombie may linger until its new parent reaps it.
    assert.equal(running(grandchild), false);
  });

  test("without input the child's stdin is /dev/null; input it never reads is no error", async () => {
    // /dev/null is a character device; the input comes through a socket pair.
    const stdinIsDevice = "process.stdout.write(String(require('node:fs').fstatSync(0).isCharacterDevice()))";
    assert.equal((await runMeasured(NODE, ['-e', stdinIsDevice], { timeoutMs: 60_000 })).stdout, 'true');
    assert.equal((await runMeasured(NODE, ['-e', stdinIsDevice], { timeoutMs: 60_000, input: '' })).stdout, 'false');
    // The child exits without reading: writing the rest of the input fails with EPIPE, which is not the run's error.
    const res = await runMeasured(NODE, ['-e', 'process.exit(3)'], { timeoutMs: 60_000, input: 'x'.repeat(4 << 20) });
    assert.equal(res.exitCode, 3);
  });

  test('keeps the last 4 MiB of each stream by default', async () => {
    const script = "for (const s of [process.stdout, process.stderr]) s.write('<' + 'a'.repeat(4 << 20) + 'END')";
    const res = await runMeasured(NODE, ['-e', script], { timeoutMs: 60_000 });
    for (const text of [res.stdout, res.stderr]) {
      assert.equal(text.length, 4 << 20);
      assert.equal(text.slice(0, 1), 'a');
      assert.equal(text.slice(-4), 'aEND');
    }
  });

  test('an abort kills the tree at once and says so; the signal keeps no listener afterwards', async () => {
    const controller = new AbortController();
    const res = await runMeasured(NODE, ['-e', 'setInterval(() => {}, 1000)'], {
      timeoutMs: 20_000,
      signal: controller.signal,
      onStart: () => setTimeout(() => controller.abort(), 100),
    });
    assert.deepEqual([res.aborted, res.timedOut, res.signal, res.exitCode], [true, false, 'SIGKILL', null]);
    const kept = new AbortController();
    await runMeasured('true', [], { timeoutMs: 60_000, signal: kept.signal });
    assert.equal(getEventListeners(kept.signal, 'abort').length, 0);
  });

  test('a signal aborted before the start kills the child at once', async () => {
    const res = await runMeasured(NODE, ['-e', 'setInterval(() => {}, 1000)'], { timeoutMs: 20_000, signal: AbortSignal.abort() });
    assert.deepEqual([res.aborted, res.timedOut, res.signal], [true, false, 'SIGKILL']);
  });

  test("the trial's interrupt stops a command that was given no signal of its own", async () => {
    const trial = new AbortController();
    const res = await duringTrial(trial.signal, () =>
      runMeasured(NODE, ['-e', 'setInterval(() => {}, 1000)'], { timeoutMs: 20_000, onStart: () => setTimeout(() => trial.abort(), 100) }),
    );
    assert.deepEqual([res.aborted, res.signal], [true, 'SIGKILL']);
  });

  test('holdAtExec stops the child once it runs the command itself; signal() reaches it only until it is reaped', async () => {
    const marker = join(tmp, 'held-ran');
    const script = `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran')`;
    let seen: { held: boolean; cmdline: string; ranBeforeCont: boolean } | undefined;
    let signal: ((sig: NodeJS.Signals) => boolean) | undefined;
    const res = await runMeasured(NODE, ['-e', script], {
      timeoutMs: 60_000,
      holdAtExec: true,
      onStart: (pid, _watch, sig, held) => {
        signal = sig;
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        void (async () => {
          // SIGSTOP takes effect when the kernel next schedules the child: wait for it, however loaded the machine.
          for (let i = 0; i < 2000 && !/^State:\s+T/m.test(readFileSync(`/proc/${pid}/status`, 'utf8')); i++) await sleep(5);
          await sleep(200);
          seen = { held, cmdline, ranBeforeCont: existsSync(marker) };
          sig('SIGCONT');
        })();
      },
    });
    assert.deepEqual(seen, { held: true, cmdline: `${NODE}\0-e\0${script}\0`, ranBeforeCont: false });
    assert.equal(res.exitCode, 0);
    assert.equal(readFileSync(marker, 'utf8'), 'ran');
    assert.equal(signal!('SIGCONT'), false, 'exited and reaped: its pid may be another process');
  });

  test('onStart is told the child is not held without holdAtExec; signal() is refused once it was killed', async () => {
    let held: boolean | undefined;
    let signal: ((sig: NodeJS.Signals) => boolean) | undefined;
    const res = await runMeasured(NODE, ['-e', 'setInterval(() => {}, 1000)'], {
      timeoutMs: 60_000,
      onStart: (_pid, _watch, sig, h) => {
        held = h;
        signal = sig;
        assert.equal(sig('SIGNOPE' as NodeJS.Signals), false, 'no such signal');
        assert.equal(sig('SIGKILL'), true);
      },
    });
    assert.equal(held, false);
    assert.equal(res.signal, 'SIGKILL');
    assert.equal(signal!('SIGKILL'), false);
  });

  test('reports a child killed by SIGKILL from outside', async () => {
    const res = await runMeasured(NODE, ['-e', 'setInterval(() => {}, 1000)'], {
      timeoutMs: 60_000,
      onStart: (pid, watch) => {
        assert.equal(watch.pid, pid);
        process.kill(pid, 'SIGKILL');
      },
    });
    assert.equal(res.signal, 'SIGKILL');
    assert.equal(res.exitCode, null);
    assert.equal(res.timedOut, false);
  });

  test('a throwing onStart kills the child and rejects', async () => {
    let child = 0;
    await assert.rejects(
      runMeasured(NODE, ['-e', 'setInterval(() => {}, 1000)'], {
        timeoutMs: 60_000,
        onStart: (pid) => {
          child = pid;
          throw new Error('observer failed');
        },
      }),
      /observer failed/,
    );
    assert.ok(child > 0);
    assert.equal(running(child), false);
  });

  test('rejects when the command does not exist', async () => {
    await assert.rejects(runMeasured('pvbench-no-such-command', [], { timeoutMs: 10_000 }), { code: 'ENOENT' });
  });

  test('resolves after exit even when a grandchild keeps the output pipes open; neither deadline nor abort counts then', async () => {
    const script = `
      const kid = require('node:child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], { stdio: 'inherit', detached: true });
      kid.unref();
      console.log(kid.pid);
    `;
    // The deadline and the abort fall while runMeasured waits for the pipes: the child exited in time, so this is
    // no timeout, and nothing was killed.
    const controller = new AbortController();
    const { res, count } = await tallyProcesses(async (tally) => {
      const res = await runMeasured(NODE, ['-e', script], {
        timeoutMs: 2_500,
        signal: controller.signal,
        onStart: (_pid, _watch, signal) => {
          void (async () => {
            // signal() is refused once the child has exited and been reaped.
            while (signal('SIGCONT')) await sleep(10);
            controller.abort();
          })();
        },
      });
      // Giving up on the pipes closes them on this side, and Node's 'close' follows: the run still counts once.
      await sleep(200);
      return { res, count: tally.count };
    });
    assert.equal(count, 1);
    const grandchild = Number(res.stdout.trim());
    leftovers.push(grandchild);
    assert.equal(res.exitCode, 0);
    assert.equal(res.timedOut, false);
    assert.equal(res.aborted, false);
    assert.ok(grandchild > 0);
    assert.equal(running(grandchild), true);
  });
});

describe('watchProcess', { skip: !linux && 'needs /proc' }, () => {
  /** Spawns `script` with piped stdio; nextLine() resolves with each stdout line in turn. */
  function spawnWithLines(script: string) {
    const child = spawn(NODE, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines: string[] = [];
    const waiters: ((line: string) => void)[] = [];
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        const waiter = waiters.shift();
        if (waiter) waiter(line);
        else lines.push(line);
      }
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const nextLine = (): Promise<string> =>
      lines.length > 0
        ? Promise.resolve(lines.shift()!)
        : Promise.race([new Promise<string>((resolve) => waiters.push(resolve)), exited.then(() => Promise.reject(new Error('child exited before printing')))]);
    return { child, nextLine, exited };
  }

  test('sees the bytes a process has read', async () => {
    const { child, nextLine, exited } = spawnWithLines(
      `require('node:fs').readFileSync(${JSON.stringify(dataFile)}); console.log('read'); process.stdin.resume();`,
    );
    const watch = watchProcess(child.pid!);
    try {
      assert.equal(await nextLine(), 'read');
      await watch.sample();
      assert.ok(watch.bytesRead() >= DATA_BYTES, `bytesRead ${watch.bytesRead()}`);
    } finally {
      child.stdin.end();
      await exited;
    }
    const usage = await watch.stop();
    assert.ok(usage.bytesRead >= DATA_BYTES);
    assert.ok(usage.samples >= 2);
    assert.deepEqual(await watch.stop(), usage, 'stop() is idempotent');
  });

  test('counts the reads of a reaped child once (its parent absorbs them)', async () => {
    // The child reads the data and waits; once it is told to go and exits, its parent has reaped it.
    const kid = `require('node:fs').readFileSync(${JSON.stringify(dataFile)}); console.log('child-read'); process.stdin.once('data', () => process.exit(0));`;
    const { child, nextLine, exited } = spawnWithLines(
      `require('node:child_process').spawnSync(process.execPath, ['-e', ${JSON.stringify(kid)}], { stdio: 'inherit' }); console.log('parent-done'); process.stdin.resume();`,
    );
    const watch = watchProcess(child.pid!);
    try {
      assert.equal(await nextLine(), 'child-read');
      await watch.sample();
      assert.equal(watch.pids().length, 2);
      assert.ok(watch.bytesRead() >= DATA_BYTES);
      child.stdin.write('go\n');
      assert.equal(await nextLine(), 'parent-done');
      await watch.sample();
      assert.equal(watch.pids().length, 1);
      assert.ok(watch.bytesRead() >= DATA_BYTES, `bytesRead ${watch.bytesRead()}`);
      assert.ok(watch.bytesRead() < 2 * DATA_BYTES, `bytesRead ${watch.bytesRead()}: counted twice`);
    } finally {
      child.stdin.end();
      await exited;
    }
    assert.ok((await watch.stop()).bytesRead < 2 * DATA_BYTES);
  });

  for (const scanPpids of [false, true]) {
    test(`samples the CPU and memory of descendants before anything is reaped (${scanPpids ? 'ppid scan' : 'children files'})`, async () => {
      // The grandchild burns CPU, reports, then waits: nothing has exited, so only sampling can see its CPU.
      const grandchild = `${BURN}; console.log('burnt'); process.stdin.resume();`;
      const { child, nextLine, exited } = spawnWithLines(
        `require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(grandchild)}], { stdio: 'inherit' });`,
      );
      const watch = watchProcess(child.pid!, { scanPpids });
      try {
        assert.equal(await nextLine(), 'burnt');
        await watch.sample();
        assert.equal(watch.pids().length, 2);
        const usage = await watch.stop();
        assert.ok(usage.cpuUserMs + usage.cpuSysMs >= 250, `cpu ${usage.cpuUserMs}+${usage.cpuSysMs} ms`);
        // Two Node processes, each resident in more than 16 MiB.
        assert.ok(usage.peakRssBytes >= 32 << 20, `peak RSS ${usage.peakRssBytes}`);
      } finally {
        child.stdin.end();
        await exited;
      }
    });
  }

  test('a process that is already gone is not an error', async () => {
    const pid = Number(execFileSync(NODE, ['-e', 'console.log(process.pid)'], { timeout: 30_000 }).toString().trim());
    const usage = await watchProcess(pid, { intervalMs: 5 }).stop();
    assert.equal(usage.cpuUserMs + usage.cpuSysMs, 0);
    assert.equal(usage.peakRssBytes, 0);
    assert.equal(usage.bytesRead, 0);
    // Both samples (the first and stop()'s) were taken, and found nothing.
    assert.equal(usage.samples, 2);
  });

  test('clock ticks per second come from getconf', async () => {
    const hz = await clockTicksPerSecond();
    assert.equal(hz, Number(execFileSync('getconf', ['CLK_TCK'], { timeout: 10_000 }).toString().trim()));
  });
});

test("a command's wall time covers its whole life, from before spawn(): a 50 ms sleep is never under 50 ms", async () => {
  // The sleep starts inside spawn() (Node returns after the exec); a stopwatch started after spawn() returned loses
  // that part and read 49.7 ms here for some runs.
  const walls: number[] = [];
  for (let i = 0; i < 20; i++) walls.push((await runMeasured('sleep', ['0.05'], { timeoutMs: 10_000 })).usage.wallMs);
  assert.deepEqual(walls.filter((w) => w < 50), [], `wall times: ${walls.join(', ')}`);
});

test('tallyProcesses counts the processes started within it, however deep, with their wall time; not those outside', async () => {
  const outside = runMeasured('sleep', ['0.3'], { timeoutMs: 10_000 });
  const seen = await tallyProcesses(async (tally) => {
    await runMeasured('sleep', ['0.1'], { timeoutMs: 10_000 });
    // Started from a callback deeper down: still this tally's.
    await new Promise<void>((resolve, reject) => setTimeout(() => runMeasured('sleep', ['0.1'], { timeoutMs: 10_000 }).then(() => resolve(), reject), 5));
    return { ...tally };
  });
  await outside;
  assert.equal(seen.count, 2);
  assert.ok(seen.wallMs >= 200 && seen.wallMs < 2000, `two 100 ms sleeps: ${seen.wallMs} ms`);
});
