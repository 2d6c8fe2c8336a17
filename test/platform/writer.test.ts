// The outage's local writer: killing it leaves nothing that keeps pvbench alive. Its wait for the writer's exit
// kept a 5 s timer running after the exit, so every run whose last outage trial ended less than 5 s before the
// report was written idled up to 5 s before it exited (2.6 s of the default run's 57 s here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const WRITER = pathToFileURL(join(import.meta.dirname, '../../src/platform/local/writer.ts')).href;

test('a killed writer lets the process exit at once: no timer of the wait for its exit is left running', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-writer-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'vol', 'proxy-0', 'logs'), { recursive: true });
  const script = `
    import { startLocalWriter } from ${JSON.stringify(WRITER)};
    const w = await startLocalWriter({ id: 'v', location: ${JSON.stringify(join(dir, 'vol'))}, volumes: ['proxy-0'] }, 50, 1, ${JSON.stringify(join(dir, 'scratch'))});
    await new Promise((r) => setTimeout(r, 100));
    await w.kill();
    process.stdout.write(String(Date.now()) + '\\n');
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((r) => child.once('close', r));
  clearTimeout(timer);
  const exitedAt = Date.now();
  assert.equal(code, 0, err);
  const killReturnedAt = Number(out.trim()); // the child's clock, the same machine's
  assert.ok(Number.isFinite(killReturnedAt), out);
  const lingerMs = exitedAt - killReturnedAt;
  assert.ok(lingerMs < 1000, `the process exited ${lingerMs} ms after the writer's kill returned`);
});
