// The faultfs process as pvbench runs it: mounted over a directory and waited for, taken down by path and pid, a
// failure to mount that names what was waited for, and nothing left behind when pvbench itself is killed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detachFaultfsMounts, faultfsUnavailable, mountFaultfs } from '../../src/faults/faultfs.ts';
import { running, until } from '../helpers/process.ts';

const why = faultfsUnavailable();
const mounted = (dir: string) => readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === dir && l.split(' ')[2] === 'fuse.faultfs');

if (why) test('faultfs process tests', { skip: `faultfs is not available: ${why}` }, () => undefined);
else {
  test('mounted over a directory, the same path reads the same bytes; stop unmounts by path and ends the process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pvbench-ffs-'));
    try {
      writeFileSync(join(dir, 'a'), Buffer.alloc(300_000, 7));
      const m = await mountFaultfs({ dir, op: 'read', action: 'none', atByte: 0 });
      assert.equal(mounted(dir), true);
      assert.deepEqual(readFileSync(join(dir, 'a')), Buffer.alloc(300_000, 7));
      const { strike, stats } = await m.stop();
      assert.equal(strike, undefined);
      assert.deepEqual(stats, { event: 'stats', bytes: 300_000, ops: stats!.ops, failed: 0, delayed: 0, struck: false });
      assert.ok(stats!.ops >= 3, 'read in requests of at most 128 KiB');
      assert.equal(mounted(dir), false);
      assert.equal(running(m.pid), false);
      assert.deepEqual(await m.stop(), { strike, stats }, 'stop is idempotent');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a mount that cannot happen names the directory and why', async () => {
    await assert.rejects(mountFaultfs({ dir: '/nonexistent/pvbench-ffs', op: 'read', action: 'none', atByte: 0 }), (e: Error) =>
      /^faultfs \(pid \d+\) did not mount over \/nonexistent\/pvbench-ffs: it exited: faultfs: open \/nonexistent\/pvbench-ffs: no such file or directory$/.test(e.message),
    );
  });

  test('a faultfs that never reports its mount: the wait ends at its timeout, names what it waited for, kills it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pvbench-ffs-'));
    const saved = process.env.PVBENCH_FAULTFS;
    try {
      const fake = join(dir, 'silent-faultfs');
      writeFileSync(fake, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
      process.env.PVBENCH_FAULTFS = fake;
      let pid = 0;
      await assert.rejects(mountFaultfs({ dir, op: 'read', action: 'none', atByte: 0 }, 300), (e: Error) => {
        pid = Number(/pid (\d+)/.exec(e.message)?.[1]);
        return new RegExp(`^faultfs \\(pid \\d+\\) did not mount over ${dir}: no mount after 300 ms$`).test(e.message);
      });
      await until('the silent faultfs is killed', () => !running(pid), 5000);
    } finally {
      if (saved === undefined) delete process.env.PVBENCH_FAULTFS;
      else process.env.PVBENCH_FAULTFS = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('pvbench killed mid-fault: faultfs dies with it, and the dead mount it leaves is detached by path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pvbench-ffs-'));
    try {
      writeFileSync(join(dir, 'kept'), 'data');
      const mod = fileURLToPath(new URL('../../src/faults/faultfs.ts', import.meta.url));
      const script = `import { mountFaultfs } from ${JSON.stringify(mod)}; const m = await mountFaultfs({ dir: ${JSON.stringify(dir)}, op: 'read', action: 'kill', atByte: 1 }); console.log(m.pid); setInterval(() => {}, 1000);`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      const pid = await new Promise<number>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('the child did not report faultfs mounted within 15 s')), 15_000);
        child.stdout!.once('data', (b: Buffer) => {
          clearTimeout(t);
          resolve(Number(b.toString().trim()));
        });
      });
      assert.ok(pid > 0 && running(pid));
      child.kill('SIGKILL');
      await until('faultfs dies with its parent (pdeathsig)', () => !running(pid), 10_000);
      assert.equal(mounted(dir), true, 'the mount outlives its server, dead');
      assert.deepEqual(await detachFaultfsMounts(dir), [dir]);
      assert.equal(mounted(dir), false);
      assert.deepEqual(readdirSync(dir), ['kept']);
    } finally {
      await detachFaultfsMounts(dir);
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
