// pidAlive: a process that has exited is gone, even while it is a zombie that its parent (or, on these machines, an
// init that reaps every 2 s or so) has not reaped yet; ownerAlive goes by it. A zombie is made on purpose: bash starts
// a short `sleep` and then execs a long one, which never reaps the short one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ownerAlive, pidAlive, processStartTime } from '../../src/platform/processes.ts';

/** The state letter of /proc/<pid>/stat (field 3), or undefined once the pid is gone. */
function state(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

test('a zombie is not alive; its running parent and this process are', { skip: process.platform !== 'linux' }, async () => {
  const parent = spawn('bash', ['-c', 'sleep 0.05 & echo $!; exec sleep 20'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const zombie = await new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('waited 10 s for bash to print the pid of its background sleep')), 10_000);
      parent.stdout.once('data', (d: Buffer) => {
        clearTimeout(t);
        resolve(Number(d.toString().trim()));
      });
    });
    const deadline = Date.now() + 10_000;
    while (state(zombie) !== 'Z') {
      assert.ok(Date.now() < deadline, `waited 10 s for pid ${zombie} to become a zombie (state ${state(zombie)})`);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(pidAlive(zombie), false, 'the exited, unreaped sleep');
    assert.equal(ownerAlive({ pid: zombie }), false, 'an owner that has exited');
    assert.equal(ownerAlive({ pid: zombie, starttime: processStartTime(zombie)! }), false, 'the same, with its start time');
    assert.equal(pidAlive(parent.pid!), true, 'the running parent');
    assert.equal(pidAlive(process.pid), true, 'this process');
  } finally {
    parent.kill('SIGKILL');
  }
});

test('a pid that is not there, and pids that cannot be, are not alive', () => {
  // pid_max is at most 2^22 on Linux.
  assert.equal(pidAlive(2 ** 22 + 1), false);
  assert.equal(pidAlive(0), false, 'not a process: kill(0, 0) would signal our own group');
  assert.equal(pidAlive(-1), false, 'not a process: kill(-1, 0) would reach every process');
  assert.equal(pidAlive(1.5), false);
});

test('a process of another user counts as alive (EPERM): pid 1', { skip: process.platform !== 'linux' }, () => {
  assert.equal(pidAlive(1), true);
});
