// The runner itself, on the local platform: what an interrupt does to the operation in progress, what a tool that
// could not run does to the run, and a trial that throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { suiteSchema } from '../../src/config/schema.ts';
import type { Suite, ToolConfig } from '../../src/config/schema.ts';
import { LocalPlatform } from '../../src/platform/local/platform.ts';
import type { VolumeSet } from '../../src/platform/types.ts';
import { runSuite } from '../../src/suite/run.ts';
import type { ResultsFile } from '../../src/suite/results.ts';
import { CopyTool } from '../../src/tools/copy.ts';
import { runLocalOp } from '../../src/tools/local-process.ts';
import type { BackupOutcome, BackupTool, OpHooks } from '../../src/tools/types.ts';
import { running } from '../helpers/process.ts';

const TINY = { proxies: 1, accessLogLines: 50, statsSnapshots: 1, clusters: 2 };

/** A copy tool whose backup is a long `sleep` (a stand-in for a big backup), reporting the pid it started. */
class SleepyTool extends CopyTool {
  pids: number[] = [];
  override async backup(_source: VolumeSet, hooks?: OpHooks): Promise<BackupOutcome> {
    await runLocalOp({
      tool: this.name,
      cmd: 'sleep',
      args: ['60'],
      timeoutMs: 120_000,
      sourceBytes: 1,
      hooks: {
        ...hooks,
        onStart: (op) => {
          this.pids.push(Number(/pid (\d+)/.exec(op.describe())?.[1]));
          hooks?.onStart?.(op);
        },
      },
    });
    return { snapshotId: 'never', metrics: {} as BackupOutcome['metrics'] };
  }
}

class TestPlatform extends LocalPlatform {
  readonly tools: BackupTool[] = [];
  private readonly make: (cfg: ToolConfig, p: LocalPlatform) => BackupTool | undefined;
  constructor(make: (cfg: ToolConfig, p: LocalPlatform) => BackupTool | undefined) {
    super({ keep: false, timeoutMs: 120_000 });
    this.make = make;
  }
  override createTool(cfg: ToolConfig): BackupTool {
    const t = this.make(cfg, this) ?? super.createTool(cfg);
    this.tools.push(t);
    return t;
  }
}

function suiteOf(over: Record<string, unknown>): Suite {
  return suiteSchema.parse({ name: 'runner', trials: 2, workload: TINY, scenarios: [{ name: 'no-fault', incremental: false }], ...over });
}


test('the first interrupt stops the operation in progress within seconds: its process is gone, the trial is not recorded, the run is incomplete', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-run-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  let sleepy: SleepyTool | undefined;
  const platform = new TestPlatform((cfg, p) => (sleepy = new SleepyTool(cfg, { workdir: p.dir, timeoutMs: 120_000, slowdown: 1 })));
  const controller = new AbortController();
  const log: string[] = [];
  const run = runSuite({ suite: suiteOf({ tools: [{ type: 'copy' }] }), suiteFile: 'runner.yaml', platform, resultsPath: join(dir, 'results.json'), log: (m) => log.push(m), signal: controller.signal });
  try {
    const deadline = Date.now() + 20_000;
    while (!sleepy?.pids.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(sleepy?.pids.length, 'the backup started');
    const abortedAt = Date.now();
    controller.abort();
    const results = await Promise.race([run, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('runSuite did not return within 10 s of the interrupt')), 10_000))]);
    assert.ok(Date.now() - abortedAt < 5_000, `stopped ${Date.now() - abortedAt} ms after the interrupt`);
    assert.equal(running(sleepy.pids[0]!), false, 'the operation in progress was killed');
    assert.deepEqual(results.trials, [], 'the interrupted trial measured nothing and is not recorded');
    assert.equal(results.run.complete, false);
    assert.equal(results.run.interrupted, 'interrupted during copy / no-fault #1; 2 of 2 planned trials not run');
    const onDisk = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as ResultsFile;
    assert.equal(onDisk.run.interrupted, results.run.interrupted);
    assert.ok(log.some((l) => l === 'interrupted: copy / no-fault #1 was stopped and is not recorded; the results so far are kept'), log.join('\n'));
  } finally {
    await platform.cleanup();
  }
});

test('an interrupt before the first trial starts no trial', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-run-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const platform = new TestPlatform(() => undefined);
  const controller = new AbortController();
  controller.abort();
  try {
    const results = await runSuite({ suite: suiteOf({ tools: [{ type: 'copy' }] }), suiteFile: 'runner.yaml', platform, resultsPath: join(dir, 'results.json'), log: () => undefined, signal: controller.signal });
    assert.deepEqual(results.trials, []);
    assert.equal(results.run.complete, false);
    assert.equal(results.run.interrupted, 'interrupted before the first trial; 2 of 2 planned trials not run');
  } finally {
    await platform.cleanup();
  }
});

test('a configured tool that could not run makes the run incomplete; an optional one does not', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-run-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const missing = (cfg: ToolConfig, p: LocalPlatform) =>
    cfg.name === 'ghost'
      ? new (class extends CopyTool {
          override async probe() {
            return { ok: false as const, reason: 'ghost is not on PATH' };
          }
        })(cfg, { workdir: p.dir, timeoutMs: 60_000, slowdown: 1 })
      : undefined;
  for (const optional of [false, true]) {
    const platform = new TestPlatform(missing);
    try {
      const results = await runSuite({
        suite: suiteOf({ trials: 1, tools: [{ type: 'copy' }, { type: 'copy', name: 'ghost', optional }] }),
        suiteFile: 'runner.yaml',
        platform,
        resultsPath: join(dir, `results-${optional}.json`),
        log: () => undefined,
      });
      assert.equal(results.trials.length, 1, 'the copy tool still ran');
      assert.deepEqual(results.tools.map((x) => [x.name, x.status, x.optional ?? false]), [
        ['copy', 'ok', false],
        ['ghost', 'skipped', optional],
      ]);
      assert.equal(results.run.complete, optional, optional ? 'an optional tool may be missing' : 'a configured tool that could not run leaves the run incomplete');
    } finally {
      await platform.cleanup();
    }
  }
});

test('platform.cache: cold settles the machine before every measured backup and restore (outside the timed region)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-run-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const events: string[] = [];
  class Recording extends CopyTool {
    override async backup(...a: Parameters<CopyTool['backup']>) {
      events.push('backup');
      return super.backup(...a);
    }
    override async restore(...a: Parameters<CopyTool['restore']>) {
      events.push('restore');
      return super.restore(...a);
    }
  }
  const platform = new TestPlatform((cfg, p) => new Recording(cfg, { workdir: p.dir, timeoutMs: 60_000, slowdown: 1 }));
  (platform as unknown as { beforeOperation: () => Promise<void> }).beforeOperation = async () => {
    events.push('settle');
  };
  try {
    await runSuite({ suite: suiteOf({ trials: 1, tools: [{ type: 'copy' }], scenarios: [{ name: 'no-fault', incremental: true }] }), suiteFile: 'runner.yaml', platform, resultsPath: join(dir, 'results.json'), log: () => undefined });
  } finally {
    await platform.cleanup();
  }
  assert.deepEqual(events, ['settle', 'backup', 'settle', 'backup', 'settle', 'restore']);
});

test('the local platform drops the page cache before each operation only when asked, and says so in its description', async (t) => {
  const { LocalPlatform: LP } = await import('../../src/platform/local/platform.ts');
  const drops: string[] = [];
  const cold = new LP({ keep: false, cache: 'cold', dropCaches: async () => void drops.push('drop') });
  const warm = new LP({ keep: false, dropCaches: async () => void drops.push('unexpected') });
  await cold.prepare();
  await warm.prepare();
  t.after(async () => {
    await cold.cleanup();
    await warm.cleanup();
  });
  await cold.beforeOperation();
  await warm.beforeOperation();
  assert.deepEqual(drops, ['drop']);
  // And each reports the machine's memory after settling: /proc/meminfo, or the file a test gives.
  const fake = join(await mkdtemp(join(tmpdir(), 'pvbench-meminfo-')), 'meminfo');
  t.after(() => rm(dirname(fake), { recursive: true, force: true }));
  await writeFile(fake, 'MemFree: 3 kB\nMemAvailable: 5 kB\nCached: 7 kB\nDirty: 0 kB\nWriteback: 1 kB\n');
  const faked = new LP({ keep: false, meminfo: fake });
  await faked.prepare();
  t.after(() => faked.cleanup());
  assert.deepEqual(await faked.beforeOperation(), { memFreeBytes: 3072, memAvailableBytes: 5120, cachedBytes: 7168, dirtyBytes: 0, writebackBytes: 1024 });
  assert.match(cold.describe(), /, page cache dropped before each backup and restore\)$/);
  assert.match(warm.describe(), /, warm page cache, dirty pages written back before each backup and restore\)$/);
});

test('the interrupt also stops what a trial runs besides backup and restore (a repository set-up, a recovery, a wait on the cluster)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-run-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { runQuick } = await import('../../src/tools/local-process.ts');
  const { watchUntil } = await import('../../src/platform/kubernetes/watch.ts');
  let started = 0;
  class SlowInit extends CopyTool {
    override async init(trialId: string) {
      await super.init(trialId);
      started = Date.now();
      // A long helper command, then a wait on an API that never answers what is waited for.
      await runQuick('slow-init', 'sleep', ['60'], undefined, 120_000);
      const kube = { list: async () => ({ items: [], metadata: { resourceVersion: '1' } }), watch: () => new Promise(() => undefined) } as never;
      await watchUntil(kube, { ref: { apiVersion: 'v1', plural: 'pods', namespace: 'x' }, what: 'nothing', timeoutMs: 120_000, check: () => undefined });
    }
  }
  const platform = new TestPlatform((cfg, p) => new SlowInit(cfg, { workdir: p.dir, timeoutMs: 120_000, slowdown: 1 }));
  const controller = new AbortController();
  const run = runSuite({ suite: suiteOf({ trials: 1, tools: [{ type: 'copy' }] }), suiteFile: 'runner.yaml', platform, resultsPath: join(dir, 'results.json'), log: () => undefined, signal: controller.signal });
  try {
    while (!started) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    const abortedAt = Date.now();
    controller.abort();
    const results = await Promise.race([run, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('runSuite did not return within 10 s of the interrupt')), 10_000))]);
    assert.ok(Date.now() - abortedAt < 5_000, `stopped ${Date.now() - abortedAt} ms after the interrupt`);
    assert.equal(results.run.interrupted, 'interrupted during copy / no-fault #1; 1 of 1 planned trials not run');
  } finally {
    await platform.cleanup();
  }
});

test("each trial counts the processes it started and their wall time; the run's last line says where the time went", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-run-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const platform = new TestPlatform(() => undefined);
  const log: string[] = [];
  try {
    const results = await runSuite({ suite: suiteOf({ tools: [{ type: 'copy' }] }), suiteFile: 'runner.yaml', platform, resultsPath: join(dir, 'results.json'), log: (m) => log.push(m) });
    assert.equal(results.trials.length, 2);
    for (const trial of results.trials) {
      // copy: `cp -a` for the backup and `cp -a` for the restore, nothing else (the probe runs before the trials).
      assert.equal(trial.processes?.count, 2, JSON.stringify(trial.processes));
      const measured = trial.backup!.wallMs + trial.restore!.wallMs;
      // The tally times the same processes as the measured phases: at least their wall, at most the trial's.
      assert.ok(trial.processes.wallMs >= Math.floor(measured) && trial.processes.wallMs <= trial.durationMs, `${trial.processes.wallMs} ms of processes, ${measured} ms measured, trial ${trial.durationMs} ms`);
    }
    const last = log.find((l) => l.startsWith('time: '));
    assert.match(last ?? '', /^time: 2 trials took \d+\.\d s; 4 processes ran for \d+\.\d s of it \(the measured backups and restores \d+\.\d s\); pvbench's own work \(seeding, manifests, verifying, settling the machine\) about \d+\.\d s$/);
  } finally {
    await platform.cleanup();
  }
});
