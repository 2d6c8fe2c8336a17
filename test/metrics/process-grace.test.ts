// runMeasured's 5 s grace: after SIGKILL to a child that does not die of it (a process in uninterruptible sleep), and
// after the exit of a child whose grandchild still holds the output pipes. Seconds each: stryker.config.mjs runs
// this file after the fast ones.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { runMeasured, type MeasuredRun } from '../../src/metrics/run.ts';
import { startTimer } from '../../src/metrics/timer.ts';
import { leftoverPids, running, until } from '../helpers/process.ts';

const NODE = process.execPath;
/** runMeasured's grace, less a margin for the timer against this stopwatch. */
const GRACE_MS = 4_900;
/** How long a run that gives up after the grace may take on a loaded machine, before the test says it hangs. */
const SETTLES_MS = 30_000;

let tmp: string;
const leftovers = leftoverPids();

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'pvbench-grace-'));
});

after(() => rmSync(tmp, { recursive: true, force: true }));

/** The run's result, or a failure once it has not settled within SETTLES_MS. */
async function settled(run: Promise<MeasuredRun>): Promise<MeasuredRun> {
  const bound = new AbortController();
  try {
    return await Promise.race([
      run,
      sleep(SETTLES_MS, undefined, { signal: bound.signal }).then(() => assert.fail(`not settled within ${SETTLES_MS} ms`)),
    ]);
  } finally {
    bound.abort();
  }
}

describe('runMeasured gives up waiting after a grace', { skip: process.platform !== 'linux' && 'needs /proc' }, () => {
  test('for a child that does not die of SIGKILL: an abort settles after the grace, with neither exit code nor signal, and the deadline that falls meanwhile changes nothing', async () => {
    let child = 0;
    const sigkills: number[] = [];
    const realKill = process.kill.bind(process);
    // kill(2) succeeds and the process stays, as one in uninterruptible sleep (D state) does.
    const kill = mock.method(process, 'kill', (pid: number, sig?: string | number) => {
      if (pid !== child || sig !== 'SIGKILL') return realKill(pid, sig);
      sigkills.push(pid);
      return true;
    });
    const controller = new AbortController();
    const elapsed = startTimer();
    try {
      const res = await settled(
        runMeasured('sleep', ['600'], {
          // Falls during the grace: the abort has cleared it.
          timeoutMs: 1_000,
          signal: controller.signal,
          onStart: (pid) => {
            child = pid;
            controller.abort();
          },
        }),
      );
      const { exitCode, signal, timedOut, aborted } = res;
      assert.deepEqual({ exitCode, signal, timedOut, aborted }, { exitCode: null, signal: null, timedOut: false, aborted: true });
      assert.ok(elapsed() >= GRACE_MS, `settled after ${elapsed()} ms`);
      assert.deepEqual(sigkills, [child], 'one SIGKILL, at the abort');
      assert.equal(running(child), true);
    } finally {
      kill.mock.restore();
      if (child > 0) realKill(child, 'SIGKILL');
    }
    await until('the child killed for real', () => !running(child), 20_000);
  });

  test('for pipes a grandchild holds after the exit: the run settles after the grace and closes them, so that its writes fail', async () => {
    const pidFile = join(tmp, 'grandchild.pid');
    const failed = join(tmp, 'failed');
    // Writes to both pipes every 20 ms; notes each that fails (EPIPE once this side is closed), ends when both have.
    const grandchild = `
      const fs = require('node:fs');
      fs.writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));
      const broken = new Set();
      for (const [name, stream] of [['stdout', process.stdout], ['stderr', process.stderr]]) {
        stream.once('error', (e) => {
          broken.add(name);
          fs.appendFileSync(${JSON.stringify(failed)}, name + ' ' + e.code + '\\n');
          if (broken.size === 2) process.exit(0);
        });
      }
      setInterval(() => {
        if (!broken.has('stdout')) process.stdout.write('.');
        if (!broken.has('stderr')) process.stderr.write('.');
      }, 20);
      setTimeout(() => process.exit(3), 120_000);
    `;
    const script = `require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(grandchild)}], { stdio: 'inherit', detached: true }).unref();`;
    const elapsed = startTimer();
    const res = await settled(runMeasured(NODE, ['-e', script], { timeoutMs: 60_000 }));
    const pid = Number(readFileSync(pidFile, 'utf8'));
    leftovers.push(pid);
    assert.deepEqual([res.exitCode, res.timedOut, res.aborted], [0, false, false]);
    assert.ok(elapsed() >= GRACE_MS, `settled after ${elapsed()} ms`);
    await until('both pipes closed on this side', () => existsSync(failed) && readFileSync(failed, 'utf8').split('\n').length === 3, 20_000);
    assert.deepEqual(readFileSync(failed, 'utf8').split('\n').sort(), ['', 'stderr EPIPE', 'stdout EPIPE']);
    await until('the grandchild gone', () => !running(pid), 20_000);
  });
});
