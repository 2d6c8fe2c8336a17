// The runner on a fake platform and tool (test/helpers/fake.ts): no processes, no disk, a mocked clock. What a trial
// records, what a trial that throws leaves, the log lines, the results-write failures and when a run is complete.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism, platform as osPlatform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { scenarioSchema, suiteSchema } from '../../src/config/schema.ts';
import type { ScenarioConfig, Suite } from '../../src/config/schema.ts';
import type { TrialContext } from '../../src/faults/context.ts';
import { registerSecret } from '../../src/platform/secrets.ts';
import type { VolumeSet } from '../../src/platform/types.ts';
import { faultLanded, measuredTool, newResults, ResultsWriteError, runScenario, runSuite } from '../../src/suite/run.ts';
import type { ResultsFile, TrialResult } from '../../src/suite/results.ts';
import type { ScenarioOutcome } from '../../src/faults/context.ts';
import { FakePlatform, FakeTool, metrics, OK_INTEGRITY } from '../helpers/fake.ts';

const WORKLOAD = { proxies: 1, accessLogLines: 5, statsSnapshots: 1, clusters: 1 };
const RESULTS = '/nowhere/results.json';

function suiteOf(over: Record<string, unknown> = {}): Suite {
  return suiteSchema.parse({ name: 'units', trials: 1, workload: WORKLOAD, tools: [{ type: 'copy' }], scenarios: [{ name: 'no-fault', incremental: false }], ...over });
}

/** Date.now() starts at 1_000_000 and moves only when the test ticks it. */
function clock(t: TestContext): (ms: number) => void {
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  return (ms) => t.mock.timers.tick(ms);
}

/** An in-memory results file: every write kept, by path. */
function memoryWrites() {
  const files = new Map<string, string>();
  const writes: string[] = [];
  return {
    files,
    writes,
    write: async (path: string, text: string) => {
      writes.push(path);
      files.set(path, text);
    },
  };
}

const START = new Date(1_000_000).toISOString();

function passedTrial(over: Partial<TrialResult> = {}): TrialResult {
  return {
    tool: 'copy',
    scenario: 'no-fault',
    trial: 1,
    startedAt: START,
    status: 'passed',
    backup: metrics(100),
    incremental: undefined,
    restore: metrics(50),
    integrity: OK_INTEGRITY,
    fault: { kind: 'none', injected: false, description: 'full backup, restore', details: {} },
    durationMs: 0,
    repository: { sizeBytes: 4096 },
    processes: { count: 0, wallMs: 0 },
    ...over,
  };
}

test('faultLanded: a passed trial whose fault did not land is not-injected, with an error saying so; anything else is kept as it is', () => {
  const outcome = (o: Partial<ScenarioOutcome>): ScenarioOutcome => ({ status: 'passed', fault: { kind: 'crash', injected: false, description: 'the backup finished first', details: {} }, ...o });
  const missed = outcome({});
  assert.deepStrictEqual(faultLanded(missed), {
    status: 'not-injected',
    error: 'the crash fault was not injected (the backup finished first): this trial measured nothing about recovery from it',
    fault: { kind: 'crash', injected: false, description: 'the backup finished first', details: {} },
  });
  for (const kept of [
    outcome({ fault: { kind: 'none', injected: false, description: 'full backup, restore', details: {} } }),
    outcome({ fault: { kind: 'crash', injected: true, description: 'SIGKILL at 30%', details: {} } }),
    outcome({ status: 'failed', error: 'integrity loss after restore' }),
    outcome({ status: 'error', error: 'restic exited' }),
  ]) {
    assert.equal(faultLanded(kept), kept);
  }
});

function fakeContext(kind: 'local' | 'kubernetes', toolType: 'copy' | 'velero-fs' = 'copy'): { ctx: TrialContext; platform: FakePlatform; logs: string[] } {
  const platform = new FakePlatform(kind);
  const logs: string[] = [];
  const tool = new FakeTool({ type: toolType }, platform.events);
  const volumes: VolumeSet = { id: 't1', location: '/fake/t1', volumes: ['proxy-0'] };
  return { platform, logs, ctx: { platform, tool, workload: suiteOf().workload, seed: 7, trialId: 't1', volumes, seeded: { files: [], bytes: 0 }, random: () => 0.5, log: (m) => logs.push(m), scratch: [] } };
}

test('runScenario hands each fault kind to its own runner', async () => {
  const sc = (fault: Record<string, unknown>): ScenarioConfig => scenarioSchema.parse({ name: String(fault.kind), incremental: false, fault });
  const seen: Record<string, [string, string, string]> = {};
  for (const fault of [{ kind: 'none' }, { kind: 'crash' }, { kind: 'corrupt-volume' }, { kind: 'corrupt-repository' }, { kind: 'io-error' }, { kind: 'disk-full' }, { kind: 'slow-disk' }]) {
    const { ctx } = fakeContext('kubernetes');
    const o = await runScenario(ctx, sc(fault));
    seen[fault.kind] = [o.status, o.fault.kind, o.fault.description];
  }
  assert.deepStrictEqual(seen, {
    none: ['passed', 'none', 'full backup, restore'],
    crash: ['not-injected', 'crash', 'the backup finished before reaching 30%: no crash injected'],
    'corrupt-volume': ['passed', 'corrupt-volume', 'flipped 1 bit; the manifest check found 0 mismatched and 0 missing'],
    'corrupt-repository': ['passed', 'corrupt-repository', 'flipped 1 bit; check passed and restored data was intact (the flipped bits hit nothing the restore reads)'],
    'io-error': ['not-injected', 'io-error', 'no I/O error injected: faultfs works on the local platform only, this trial runs on kubernetes'],
    'disk-full': ['not-injected', 'disk-full', 'no disk-full injected: faultfs works on the local platform only, this trial runs on kubernetes'],
    'slow-disk': ['not-injected', 'slow-disk', 'no latency injected: faultfs works on the local platform only, this trial runs on kubernetes'],
  });
  // An outage of a whole node, where the platform has none: its own runner's refusal.
  const { ctx } = fakeContext('kubernetes');
  await assert.rejects(runScenario(ctx, sc({ kind: 'outage', scope: 'node' })), { message: 'an outage with scope: node cannot be injected on the kubernetes platform; use scope: workload' });
});

test('newResults: the suite, a fresh incomplete run on this host, the scenarios; ab only when the suite has one', (t) => {
  clock(t);
  const plain = newResults(suiteOf({ seed: 9, trials: 2, scenarios: [{ name: 'no-fault' }, { name: 'crash-backup', fault: { kind: 'crash' } }] }), 'units.yaml', 'local', { sha: 'abc' });
  assert.match(plain.run.id, /^[0-9a-f]{12}$/);
  assert.deepStrictEqual(plain, {
    schemaVersion: 1,
    pvbenchVersion: '0.1.0',
    suite: { name: 'units', file: 'units.yaml', seed: 9, trials: 2, platform: 'local', workload: suiteOf().workload },
    run: {
      id: plain.run.id,
      startedAt: START,
      complete: false,
      git: { sha: 'abc' },
      host: { cpus: availableParallelism(), memoryBytes: totalmem(), os: `${osPlatform()} ${release()}`, node: process.version },
    },
    tools: [],
    scenarios: [
      { name: 'no-fault', fault: 'none' },
      { name: 'crash-backup', fault: 'crash' },
    ],
    trials: [],
  });
  const suite = suiteOf({ tools: [{ type: 'copy', name: 'a' }, { type: 'copy', name: 'b' }], ab: { a: 'a', b: 'b' } });
  const withAb = newResults(suite, 'units.yaml', 'kubernetes');
  assert.deepStrictEqual(withAb.suite.ab, { a: 'a', b: 'b', threshold: suite.ab!.threshold, failOnRegression: false });
  assert.notEqual(withAb.suite.ab, suite.ab, 'a copy: the results never share the suite object');
  assert.notEqual(newResults(suite, 'u', 'local').run.id, withAb.run.id);
});

test('measuredTool settles the machine before each backup and restore, and passes everything else through bound to the tool', async () => {
  const events: string[] = [];
  const tool = new FakeTool({ type: 'copy', name: 'fast' }, events);
  const settled = measuredTool(tool, { beforeOperation: async () => void events.push('settle') });
  const v: VolumeSet = { id: 'v', location: '/fake/v', volumes: [] };
  assert.deepStrictEqual(await settled.backup(v), { snapshotId: 'snap-v', metrics: metrics(100) });
  assert.deepStrictEqual(await settled.restore('snap-v', v), { metrics: metrics(50) });
  assert.deepStrictEqual(events, ['settle', 'fast backup v', 'settle', 'fast restore snap-v v']);
  assert.equal(settled.name, 'fast');
  assert.deepStrictEqual(await settled.probe(), { ok: true, version: 'fake 1.0' }, 'a method reads its own fields: bound to the tool');
  // A platform with nothing to settle.
  const plain = measuredTool(tool, {});
  assert.deepStrictEqual(await plain.backup(v), { snapshotId: 'snap-v', metrics: metrics(100) });
});

test("measuredTool records the machine's memory the platform reports after settling, on each backup and restore", async () => {
  const events: string[] = [];
  const tool = new FakeTool({ type: 'copy', name: 'fast' }, events);
  const states = [1, 2].map((n) => ({ memFreeBytes: n, memAvailableBytes: 10 * n, cachedBytes: 100 * n, dirtyBytes: 0, writebackBytes: n }));
  let i = 0;
  const settled = measuredTool(tool, { beforeOperation: async () => states[i++] });
  const v: VolumeSet = { id: 'v', location: '/fake/v', volumes: [] };
  assert.deepStrictEqual(await settled.backup(v), { snapshotId: 'snap-v', metrics: { ...metrics(100), machine: states[0] } });
  assert.deepStrictEqual(await settled.restore('snap-v', v), { metrics: { ...metrics(50), machine: states[1] } });
});

test('a run on the fake platform: the trial recorded in full, the log lines, the results file after every step', async (t) => {
  const tick = clock(t);
  const platform = new FakePlatform('kubernetes');
  platform.setUp = (tool) => {
    tool.probeResult = { ok: true, version: 'copy 9.9', notes: ['ignores $COPY_OPTS'] };
    const backup = tool.backup.bind(tool);
    tool.backup = async (...a) => (tick(1500), backup(...a));
  };
  const log: string[] = [];
  const mem = memoryWrites();
  const results = await runSuite({ suite: suiteOf({ trials: 2, seed: 5 }), suiteFile: 'units.yaml', platform, resultsPath: RESULTS, log: (m) => log.push(m), writeResults: mem.write });
  assert.deepStrictEqual(results.trials, [
    passedTrial({ trial: 1, durationMs: 1500 }),
    passedTrial({ trial: 2, durationMs: 1500, startedAt: new Date(1_001_500).toISOString() }),
  ]);
  assert.deepStrictEqual(results.tools, [{ name: 'copy', type: 'copy', status: 'ok', version: 'copy 9.9' }]);
  assert.deepStrictEqual(log, ['tool copy: copy 9.9', 'tool copy: ignores $COPY_OPTS', '[1/2] copy / no-fault #1: passed in 1.5 s', '[2/2] copy / no-fault #2: passed in 1.5 s']);
  assert.equal(results.run.complete, true);
  assert.equal(results.run.platform, 'fake platform');
  assert.equal(results.run.finishedAt, new Date(1_003_000).toISOString());
  assert.equal(results.run.interrupted, undefined);
  // The header, the tools, each trial, the end.
  assert.deepStrictEqual(mem.writes, [RESULTS, RESULTS, RESULTS, RESULTS, RESULTS]);
  assert.equal(mem.files.get(RESULTS), JSON.stringify(results, null, 2) + '\n');
  assert.deepStrictEqual(platform.events, [
    'prepare',
    'copy init copy-no-fault-1',
    'seed copy-no-fault-1 5',
    'copy backup copy-no-fault-1',
    'empty copy-no-fault-1-restore-0',
    'copy restore snap-copy-no-fault-1 copy-no-fault-1-restore-0',
    'drop copy-no-fault-1',
    'drop copy-no-fault-1-restore-0',
    'copy cleanup',
    'copy init copy-no-fault-2',
    'seed copy-no-fault-2 5',
    'copy backup copy-no-fault-2',
    'empty copy-no-fault-2-restore-0',
    'copy restore snap-copy-no-fault-2 copy-no-fault-2-restore-0',
    'drop copy-no-fault-2',
    'drop copy-no-fault-2-restore-0',
    'copy cleanup',
  ]);
});

test('the progress line pads the trial number to the width of the count and ends with the error of a trial that has one', async (t) => {
  clock(t);
  const platform = new FakePlatform('kubernetes');
  platform.setUp = (tool) => {
    tool.initError = new Error('repository locked');
  };
  const log: string[] = [];
  await runSuite({ suite: suiteOf({ trials: 10 }), suiteFile: 'units.yaml', platform, resultsPath: RESULTS, log: (m) => log.push(m), writeResults: memoryWrites().write });
  assert.deepStrictEqual(log.slice(1, 3), ['[ 1/10] copy / no-fault #1: error in 0.0 s — repository locked', '[ 2/10] copy / no-fault #2: error in 0.0 s — repository locked']);
  assert.equal(log[10], '[10/10] copy / no-fault #10: error in 0.0 s — repository locked');
});

test('a trial that throws is an error: its message (secrets masked), its time, a fault not injected; its volumes and scratch sets are dropped and the tool cleaned', async (t) => {
  const tick = clock(t);
  registerSecret('s3cr3t-pass');
  const platform = new FakePlatform('kubernetes');
  platform.verify = async () => {
    tick(250);
    throw new Error('verifier pod failed with s3cr3t-pass');
  };
  const results = await runSuite({ suite: suiteOf({ scenarios: [{ name: 'crash-backup', fault: { kind: 'crash' }, incremental: false }] }), suiteFile: 'units.yaml', platform, resultsPath: RESULTS, log: () => undefined, writeResults: memoryWrites().write });
  assert.deepStrictEqual(results.trials, [
    {
      tool: 'copy',
      scenario: 'crash-backup',
      trial: 1,
      startedAt: START,
      status: 'error',
      durationMs: 250,
      error: 'verifier pod failed with ***',
      fault: { kind: 'crash', injected: false, description: 'trial did not complete', details: {} },
    },
  ]);
  assert.deepStrictEqual(platform.events.slice(-3), ['drop copy-crash-backup-1', 'drop copy-crash-backup-1-restore-0', 'copy cleanup']);
  // An error that is not an Error, thrown before any volume exists: nothing to drop, the tool still cleaned.
  const early = new FakePlatform('kubernetes');
  early.setUp = (tool) => {
    tool.initError = 'no repository';
  };
  const r2 = await runSuite({ suite: suiteOf(), suiteFile: 'units.yaml', platform: early, resultsPath: RESULTS, log: () => undefined, writeResults: memoryWrites().write });
  assert.equal(r2.trials[0]!.error, 'no repository');
  assert.deepStrictEqual(early.events, ['prepare', 'copy init copy-no-fault-1', 'copy cleanup']);
  // A volume set that cannot be dropped, or a tool that cannot clean up, does not turn a passed trial into an error.
  const stubborn = new FakePlatform('kubernetes');
  stubborn.dropVolumes = async () => {
    throw new Error('busy');
  };
  stubborn.setUp = (tool) => {
    tool.cleanup = async () => {
      throw new Error('busy');
    };
  };
  const r3 = await runSuite({ suite: suiteOf(), suiteFile: 'units.yaml', platform: stubborn, resultsPath: RESULTS, log: () => undefined, writeResults: memoryWrites().write });
  assert.equal(r3.trials[0]!.status, 'passed');
});

test("each trial's fault runners log with the trial's id in front", async (t) => {
  clock(t);
  // velero on the local platform: faultfs cannot serve it, the crash falls back to timing and says so.
  const platform = new FakePlatform('local');
  const log: string[] = [];
  await runSuite({
    suite: suiteSchema.parse({ name: 'units', trials: 1, workload: WORKLOAD, tools: [{ type: 'velero-fs' }], scenarios: [{ name: 'crash-backup', fault: { kind: 'crash' }, incremental: false }] }),
    suiteFile: 'units.yaml',
    platform,
    resultsPath: RESULTS,
    log: (m) => log.push(m),
    writeResults: memoryWrites().write,
  });
  assert.equal(log[1], '  velero-fs-crash-backup-1: crash: faultfs is wired for copy, restic and kopia, not velero-fs; the crash lands by timing (slice trigger), not at an exact byte');
});

test('on the local platform the last line says where the time went; on a cluster there is none', async (t) => {
  clock(t);
  const log: string[] = [];
  await runSuite({ suite: suiteOf(), suiteFile: 'units.yaml', platform: new FakePlatform('local'), resultsPath: RESULTS, log: (m) => log.push(m), writeResults: memoryWrites().write });
  assert.equal(log.at(-1), "time: 1 trial took 0.0 s; 0 processes ran for 0.0 s of it (the measured backups and restores 0.1 s); pvbench's own work (seeding, manifests, verifying, settling the machine) about 0.0 s");
  const onCluster: string[] = [];
  await runSuite({ suite: suiteOf(), suiteFile: 'units.yaml', platform: new FakePlatform('kubernetes'), resultsPath: RESULTS, log: (m) => onCluster.push(m), writeResults: memoryWrites().write });
  assert.deepStrictEqual(onCluster, ['tool copy: fake 1.0', '[1/1] copy / no-fault #1: passed in 0.0 s']);
});

test('tools that cannot run: logged as skipped with their reason, their trials not planned; the run incomplete unless they are optional', async (t) => {
  clock(t);
  for (const optional of [false, true]) {
    const platform = new FakePlatform('kubernetes');
    platform.setUp = (tool) => {
      // A failing probe never has notes worth logging, even if it carried some.
      if (tool.name === 'ghost') tool.probeResult = { ok: false, reason: 'ghost is not on PATH', notes: ['unused'] } as never;
    };
    const log: string[] = [];
    const results = await runSuite({
      suite: suiteOf({ tools: [{ type: 'copy' }, { type: 'copy', name: 'ghost', optional }] }),
      suiteFile: 'units.yaml',
      platform,
      resultsPath: RESULTS,
      log: (m) => log.push(m),
      writeResults: memoryWrites().write,
    });
    assert.deepStrictEqual(results.tools, [
      { name: 'copy', type: 'copy', status: 'ok', version: 'fake 1.0' },
      { name: 'ghost', type: 'copy', status: 'skipped', reason: 'ghost is not on PATH', ...(optional ? { optional: true } : {}) },
    ]);
    assert.deepStrictEqual(log, ['tool copy: fake 1.0', 'tool ghost: skipped (ghost is not on PATH)', '[1/1] copy / no-fault #1: passed in 0.0 s']);
    assert.equal(results.run.complete, optional);
  }
});

test('an interrupt before the first trial, and one between trials, name where the run stopped and how many trials did not run', async (t) => {
  clock(t);
  const early = new AbortController();
  early.abort();
  const log: string[] = [];
  const platform = new FakePlatform('kubernetes');
  const r1 = await runSuite({ suite: suiteOf({ trials: 2 }), suiteFile: 'units.yaml', platform, resultsPath: RESULTS, log: (m) => log.push(m), signal: early.signal, writeResults: memoryWrites().write });
  assert.equal(r1.run.interrupted, 'interrupted before the first trial; 2 of 2 planned trials not run');
  assert.deepStrictEqual(log, ['tool copy: fake 1.0', 'interrupted: 2 of 2 planned trials not run; the results so far are kept']);
  assert.deepStrictEqual(platform.events, ['prepare']);
  assert.equal(r1.run.complete, false);

  // Stopped once the first of three trials is in.
  const between = new AbortController();
  const log2: string[] = [];
  const r2 = await runSuite({
    suite: suiteOf({ trials: 3, tools: [{ type: 'copy', name: 'fast' }] }),
    suiteFile: 'units.yaml',
    platform: new FakePlatform('kubernetes'),
    resultsPath: RESULTS,
    log: (m) => {
      log2.push(m);
      if (m.startsWith('[1/3]')) between.abort();
    },
    signal: between.signal,
    writeResults: memoryWrites().write,
  });
  assert.equal(r2.run.interrupted, 'interrupted after fast / no-fault #1; 2 of 3 planned trials not run');
  assert.deepStrictEqual(log2.slice(1), ['[1/3] fast / no-fault #1: passed in 0.0 s', 'interrupted: 2 of 3 planned trials not run; the results so far are kept']);
  assert.deepStrictEqual(r2.trials.map((x) => x.trial), [1]);
  assert.equal(r2.run.complete, false);

  // Stopped while the second trial runs: that trial is not recorded.
  const during = new AbortController();
  const p3 = new FakePlatform('kubernetes');
  p3.setUp = (tool) => {
    tool.init = async (id) => void (id.endsWith('-2') && during.abort());
  };
  const log3: string[] = [];
  const r3 = await runSuite({ suite: suiteOf({ trials: 3 }), suiteFile: 'units.yaml', platform: p3, resultsPath: RESULTS, log: (m) => log3.push(m), signal: during.signal, writeResults: memoryWrites().write });
  assert.equal(r3.run.interrupted, 'interrupted during copy / no-fault #2; 2 of 3 planned trials not run');
  assert.deepStrictEqual(log3.slice(2), ['interrupted: copy / no-fault #2 was stopped and is not recorded; the results so far are kept']);
  assert.equal(r3.trials.length, 1);
  assert.equal(r3.run.complete, false);
});

test("a tool's repository facts (chunker, key derivation, lock wait) are copied into its info and logged once", async (t) => {
  clock(t);
  for (const mode of ['fixed', 'random'] as const) {
    const platform = new FakePlatform('kubernetes');
    platform.setUp = (tool) => {
      if (tool.name !== 'restic') return;
      tool.facts = {
        chunker: { mode, polynomial: '0x3da3358b4dc173' },
        keyDerivation: { kdf: 'scrypt', N: 16384, r: 8, p: 1, mode: 'fixed', ms: 12.4 },
        lockWait: { ms: 201.6, pairs: 3 },
      };
    };
    const log: string[] = [];
    const results = await runSuite({ suite: suiteOf({ trials: 2, tools: [{ type: 'restic' }, { type: 'copy' }] }), suiteFile: 'units.yaml', platform, resultsPath: RESULTS, log: (m) => log.push(m), writeResults: memoryWrites().write });
    assert.deepStrictEqual(results.tools, [
      {
        name: 'restic',
        type: 'restic',
        status: 'ok',
        version: 'fake 1.0',
        chunker: { mode, polynomial: '0x3da3358b4dc173' },
        keyDerivation: { kdf: 'scrypt', N: 16384, r: 8, p: 1, mode: 'fixed', ms: 12.4 },
        lockWait: { ms: 201.6, pairs: 3 },
      },
      { name: 'copy', type: 'copy', status: 'ok', version: 'fake 1.0' },
    ]);
    assert.deepStrictEqual(log.filter((l) => !l.startsWith('[')), [
      'tool restic: fake 1.0',
      'tool copy: fake 1.0',
      `tool restic: chunker polynomial 0x3da3358b4dc173 (${mode === 'fixed' ? "pvbench's fixed one, the same in every run" : 'drawn by restic init: chunks, and what backups add, differ from run to run'})`,
      'tool restic: key derivation scrypt N=16384,r=8,p=1 (fixed): 12 ms per derivation',
      'tool restic: repository lock: each locking command waits 202 ms on it (the fastest of 3 snapshots listings with the lock against 3 without)',
    ]);
  }
});

test('results.json that cannot be written: what it still holds, where the trial just measured went (beside it, the temporary directory, nowhere)', async (t) => {
  clock(t);
  const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  const beside = `${RESULTS}.unsaved-1000000.json`;
  const fallback = join(tmpdir(), 'results.json.unsaved-1000000.json');
  const FIX = '. Fix: free space (or make the directory writable) and run again; the results file is complete up to that trial';
  /** A run of `trials` trials whose results write fails from the `failAt`-th on; `fails` says which other paths fail. */
  const run = async (trials: number, failAt: number, fails: (path: string) => boolean) => {
    const files = new Map<string, string>();
    let n = 0;
    const write = async (path: string, text: string) => {
      if ((path === RESULTS && ++n >= failAt) || (path !== RESULTS && fails(path))) throw enospc();
      files.set(path, text);
    };
    const err = await runSuite({ suite: suiteOf({ trials }), suiteFile: 'units.yaml', platform: new FakePlatform('kubernetes'), resultsPath: RESULTS, log: () => undefined, writeResults: write }).then(
      () => assert.fail('expected the run to stop'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ResultsWriteError);
    assert.equal(err.name, 'ResultsWriteError');
    return { message: err.message, files };
  };
  // Writes: header, tools, trial 1, trial 2 ...
  const besideOk = await run(3, 5, () => false);
  assert.equal(besideOk.message, `cannot write ${RESULTS} (ENOSPC): it still holds the 2 trials measured before; the trial just measured (copy / no-fault #3) is in ${beside}${FIX}`);
  assert.equal(besideOk.files.get(beside), JSON.stringify(passedTrial({ trial: 3 }), null, 2) + '\n');
  assert.deepStrictEqual([...besideOk.files.keys()], [RESULTS, beside]);
  assert.equal((JSON.parse(besideOk.files.get(RESULTS)!) as ResultsFile).trials.length, 2);

  const tmpOk = await run(1, 3, (p) => p === beside);
  assert.equal(tmpOk.message, `cannot write ${RESULTS} (ENOSPC): it still holds the 0 trials measured before; the trial just measured (copy / no-fault #1) is in ${fallback}${FIX}`);
  assert.equal(tmpOk.files.get(fallback), JSON.stringify(passedTrial(), null, 2) + '\n');

  const nowhere = await run(2, 4, () => true);
  assert.equal(nowhere.message, `cannot write ${RESULTS} (ENOSPC): it still holds the 1 trial measured before; the trial just measured (copy / no-fault #2) could not be written anywhere: ${JSON.stringify(passedTrial({ trial: 2 }))}${FIX}`);
  assert.deepStrictEqual([...nowhere.files.keys()], [RESULTS]);

  // The first write: no trial yet; an error without a code is named by its message, a thrown string as it is.
  for (const [thrown, named] of [
    [new Error('disk gone'), 'disk gone'],
    ['EIO', 'EIO'],
  ] as const) {
    const err = await runSuite({ suite: suiteOf(), suiteFile: 'units.yaml', platform: new FakePlatform('kubernetes'), resultsPath: RESULTS, log: () => undefined, writeResults: () => Promise.reject(thrown) }).catch((e: Error) => e);
    assert.equal((err as Error).message, `cannot write ${RESULTS} (${named}): it still holds the 0 trials measured before${FIX}`);
  }
});
