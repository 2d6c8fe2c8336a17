// runMeasured where the kernel or Node answers otherwise than usual: a kill() of the child that fails (EPERM), a pid
// taken by another process once the child has been reaped, and a command whose /proc cmdline never becomes its argv.
// The first two stand in Node's own kill for the kernel's answer (node:test's mock), since a real EPERM needs a child
// that changed its user and a real reuse a wrap-around of the pids.
import { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { runMeasured } from '../../src/metrics/run.ts';
import { startTimer } from '../../src/metrics/timer.ts';

let tmp: string;

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'pvbench-run-edges-'));
});

after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('runMeasured at the edges', { skip: process.platform !== 'linux' && 'needs /proc' }, () => {
  test("a kill() of the child that fails with EPERM (Node's 'error' event) is no crash: a throwing onStart still rejects with its own error", async () => {
    // What Node's ChildProcess.kill() does when kill(2) fails otherwise than with ESRCH: it emits 'error'.
    const kill = mock.method(ChildProcess.prototype, 'kill', function (this: ChildProcess) {
      this.emit('error', Object.assign(new Error('kill EPERM'), { code: 'EPERM', errno: -1, syscall: 'kill' }));
      return false;
    });
    try {
      // The child is not killed, then: a short sleep that ends by itself.
      const run = runMeasured('sleep', ['0.2'], {
        timeoutMs: 60_000,
        onStart: () => {
          throw new Error('observer failed');
        },
      });
      await assert.rejects(run, /observer failed/);
    } finally {
      kill.mock.restore();
    }
    assert.deepEqual(kill.mock.calls.map((c) => c.arguments), [['SIGKILL']]);
  });

  test('signal() sends nothing once the child has been reaped, also when its pid has been taken by another process', async () => {
    // An exit, and a death by a signal: each sets one of Node's exitCode and signalCode.
    const ends: [string[], number | null, NodeJS.Signals | null][] = [
      [['-c', 'exit 0'], 0, null],
      [['-c', 'kill -KILL $$'], null, 'SIGKILL'],
    ];
    for (const [args, exitCode, signal] of ends) {
      let signalChild: ((sig: NodeJS.Signals) => boolean) | undefined;
      const res = await runMeasured('sh', args, { timeoutMs: 60_000, onStart: (_pid, _watch, sig) => (signalChild = sig) });
      assert.deepEqual([res.exitCode, res.signal], [exitCode, signal]);
      // The pid is another process's now: kill(2) would succeed.
      const kill = mock.method(process, 'kill', () => true);
      try {
        assert.equal(signalChild!('SIGTERM'), false);
      } finally {
        kill.mock.restore();
      }
      assert.equal(kill.mock.callCount(), 0, `${args.join(' ')}: a signal went to the pid`);
    }
  });

  test('holdAtExec stops a command whose cmdline never becomes its argv (a script runs as its interpreter) after waiting 250 ms for it', async () => {
    const script = join(tmp, 'tool.sh');
    // Its cmdline is the interpreter's, then sleep's.
    writeFileSync(script, '#!/bin/sh\nexec sleep 30\n');
    chmodSync(script, 0o755);
    let seen: { held: boolean; stopped: boolean; waitedMs: number } | undefined;
    const elapsed = startTimer();
    const res = await runMeasured(script, [], {
      timeoutMs: 60_000,
      holdAtExec: true,
      onStart: (pid, _watch, sig, held) => {
        const waitedMs = elapsed();
        void (async () => {
          // SIGSTOP takes effect when the kernel next schedules the child: wait for it, however loaded the machine.
          const state = (): string => /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';
          for (let i = 0; i < 2000 && state() !== 'T'; i++) await sleep(5);
          seen = { held, stopped: state() === 'T', waitedMs };
          sig('SIGKILL');
        })();
      },
    });
    assert.equal(res.signal, 'SIGKILL');
    assert.deepEqual([seen?.held, seen?.stopped], [true, true]);
    // At least the 250 ms of the wait (a little less on this stopwatch than on Date.now()'s), however long more.
    assert.ok(seen!.waitedMs >= 200, `held after ${seen!.waitedMs} ms`);
  });
});
