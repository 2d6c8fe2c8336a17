// The post step's cleanup, on the source modules: leftover processes, work directories, state round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanup, markedProcesses, safeToRemove } from '../../src/action/cleanup.ts';
import { readCleanupState, RUN_MARKER_ENV, STATE, StateRecorder } from '../../src/action/state.ts';
import { captureStdout } from './helpers.ts';
import { parseFileCommands } from './runner.ts';

function exited(child: ChildProcess, timeoutMs = 10_000): Promise<NodeJS.Signals | number | null> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.signalCode ?? child.exitCode);
    const timer = setTimeout(() => reject(new Error('the process did not exit in time')), timeoutMs);
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      resolve(sig ?? code);
    });
  });
}

test('state saved by the main step reads back in the post step', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-state-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'state');
  await writeFile(file, '');
  const prev = process.env.GITHUB_STATE;
  process.env.GITHUB_STATE = file;
  t.after(() => {
    if (prev === undefined) delete process.env.GITHUB_STATE;
    else process.env.GITHUB_STATE = prev;
  });
  const s = new StateRecorder();
  s.setRunMarker('m-1');
  s.setMainScript('/a/dist/action/index.js');
  s.add('pids', 1234);
  s.add('tempDirs', '/tmp/x/pvbench-1');
  s.add('platformDirs', '/tmp/x/work-1');
  s.add('platformDirs', '/tmp/x/work-2');
  s.add('platformDirs', '/tmp/x/work-2');
  s.add('kindClusters', 'pvbench');
  s.flag('keep', false);
  s.flag('finished', true);
  const { readFile } = await import('node:fs/promises');
  const saved = parseFileCommands(await readFile(file, 'utf8'));
  const st = readCleanupState((name) => saved[name] ?? '');
  assert.deepEqual(st, {
    runMarker: 'm-1',
    mainScript: '/a/dist/action/index.js',
    pids: [1234],
    tempDirs: ['/tmp/x/pvbench-1'],
    platformDirs: ['/tmp/x/work-1', '/tmp/x/work-2'],
    kindClusters: ['pvbench'],
    finished: true,
    keep: false,
  });
  assert.deepEqual(readCleanupState(() => ''), { runMarker: undefined, mainScript: undefined, pids: [], tempDirs: [], platformDirs: [], kindClusters: [], finished: false, keep: false });
  assert.deepEqual(readCleanupState((n) => (n === STATE.pids ? '{not json' : '')).pids, []);
});

test('after a cancelled run: leftover processes of the run are stopped, work and temporary directories removed', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'pvbench-cleanup-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const work = join(root, 'work');
  const temp = join(root, 'temp');
  await mkdir(join(work, 'repos', 'copy'), { recursive: true });
  await mkdir(temp);
  await writeFile(join(temp, 'kubeconfig'), 'x');
  const marker = `test-${process.pid}-${Date.now()}`;
  const ours = spawn('sleep', ['60'], { env: { ...process.env, [RUN_MARKER_ENV]: marker }, stdio: 'ignore' });
  const other = spawn('sleep', ['60'], { env: { ...process.env, [RUN_MARKER_ENV]: 'another-run' }, stdio: 'ignore' });
  t.after(() => {
    ours.kill('SIGKILL');
    other.kill('SIGKILL');
  });
  // Wait (bounded) until /proc shows the marker for our process.
  const deadline = Date.now() + 5000;
  while (!(await markedProcesses(marker)).includes(ours.pid!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(await markedProcesses(marker), [ours.pid]);

  const lines: string[] = [];
  const report = await cleanup(
    { runMarker: marker, pids: [], tempDirs: [temp], platformDirs: [work], kindClusters: [], finished: false, keep: false },
    { log: (m) => lines.push(m), graceMs: 2000 },
  );
  assert.deepEqual(report.killed, [ours.pid]);
  assert.equal(await exited(ours), 'SIGTERM');
  assert.equal(other.exitCode, null, 'a process of another run is left alone');
  assert.equal(other.signalCode, null);
  assert.deepEqual(report.removed.sort(), [temp, work].sort());
  assert.equal(existsSync(work), false);
  assert.equal(existsSync(temp), false);
  assert.deepEqual(report.problems, []);
  assert.ok(lines.some((l) => /stopped 1 leftover process/.test(l)));
});

test('after a finished run, or with keep: true, the platform work directory is left to the platform', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'pvbench-cleanup-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const work = join(root, 'work');
  const temp = join(root, 'temp');
  for (const flags of [{ finished: true, keep: false }, { finished: false, keep: true }]) {
    await mkdir(work, { recursive: true });
    await mkdir(temp, { recursive: true });
    const report = await cleanup({ runMarker: 'nobody', pids: [], tempDirs: [temp], platformDirs: [work], kindClusters: ['never-deleted'], ...flags }, { log: () => undefined });
    assert.equal(existsSync(work), true);
    assert.equal(existsSync(temp), false);
    assert.deepEqual(report.clusters, []);
  }
});

test('cleanup refuses paths that cannot be the run\'s own, and never throws', async () => {
  assert.equal(safeToRemove('/'), false);
  assert.equal(safeToRemove('relative/dir'), false);
  assert.equal(safeToRemove('/tmp'), false);
  assert.equal(safeToRemove(process.cwd()), false);
  assert.equal(safeToRemove('/w', { GITHUB_WORKSPACE: '/w' }), false);
  assert.equal(safeToRemove('/tmp/pvbench-x'), true);
  const { value: report } = await captureStdout(() =>
    cleanup({ runMarker: undefined, pids: [999999999], tempDirs: ['/', 'rel'], platformDirs: [], kindClusters: [], finished: false, keep: false }, { log: () => undefined, procDir: '/nonexistent' }),
  );
  assert.equal(report.problems.length, 2);
  assert.deepEqual(report.killed, []);
});
