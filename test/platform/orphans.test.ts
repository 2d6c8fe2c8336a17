// No process outlives pvbench, however it ends: a parent killed with SIGKILL (no handler runs) takes its tool
// processes with it, also one held stopped by a fault trigger, the outage writer, and cluster tooling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { running } from '../helpers/process.ts';

const SRC = resolve(import.meta.dirname, '../../src');


/** Runs `code` in a Node process that prints the pids of what it started, one per line, then "ready"; SIGKILLs it. */
async function killParent(code: string): Promise<number[]> {
  const parent = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`the parent did not report ready within 20 s: ${out}`)), 20_000);
    parent.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) {
        clearTimeout(timer);
        res();
      }
    });
  });
  const pids = out.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
  assert.ok(pids.length > 0 && pids.every(running), `children running before the kill: ${pids}`);
  parent.kill('SIGKILL');
  await new Promise((r) => parent.once('exit', r));
  const deadline = Date.now() + 5_000;
  while (pids.some(running) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return pids.filter(running);
}

test('a tool process, also one held stopped (SIGSTOP) by a fault trigger, dies with a pvbench killed by SIGKILL', async () => {
  const left = await killParent(`
    import { readFileSync } from 'node:fs';
    import { runLocalOp } from ${JSON.stringify(join(SRC, 'tools/local-process.ts'))};
    let n = 0;
    let held = '';
    for (const holdAtStart of [false, true]) {
      // As a fault trigger starts an operation: held (stopped) from the start, and left held.
      void runLocalOp({ tool: 't', cmd: 'sleep', args: ['60'], timeoutMs: 120_000, sourceBytes: 1, hooks: { holdAtStart, onStart: (op) => {
        const pid = /pid (\\d+)/.exec(op.describe())[1];
        console.log(pid);
        if (holdAtStart) held = pid;
        if (++n === 2) setTimeout(() => {
          const state = readFileSync('/proc/' + held + '/stat', 'utf8').split(') ')[1][0];
          console.log(state === 'T' ? 'ready' : 'not held: state ' + state);
        }, 300);
      } } });
    }
  `);
  for (const pid of left) process.kill(pid, 'SIGKILL');
  assert.deepEqual(left, [], 'no tool process outlived its parent');
});

test('the outage writer and cluster tooling die with a pvbench killed by SIGKILL', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-orphans-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const left = await killParent(`
    import { mkdir, readFile } from 'node:fs/promises';
    import { startLocalWriter } from ${JSON.stringify(join(SRC, 'platform/local/writer.ts'))};
    import { spawnProcess } from ${JSON.stringify(join(SRC, 'platform/kubernetes/spawn.ts'))};
    await mkdir(${JSON.stringify(join(dir, 'vol', 'proxy-0', 'logs'))}, { recursive: true });
    await startLocalWriter({ id: 't', location: ${JSON.stringify(join(dir, 'vol'))}, volumes: ['proxy-0'] }, 50, 42, ${JSON.stringify(join(dir, 'scratch'))});
    void spawnProcess('sleep', ['60'], { timeoutMs: 120_000 });
    await new Promise((r) => setTimeout(r, 300));
    // This process's children: the writer and the tooling.
    const children = (await readFile('/proc/' + process.pid + '/task/' + process.pid + '/children', 'utf8')).trim().split(' ');
    console.log(children.join('\\n'));
    console.log('ready');
  `);
  for (const pid of left) process.kill(pid, 'SIGKILL');
  assert.deepEqual(left, [], 'no writer or tooling process outlived its parent');
});
