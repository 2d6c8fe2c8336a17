// Every scenario runner of src/faults driven through the suite's own dispatch (runScenario) against an in-memory tool
// and platform (test/faults/fake.ts): what each reports in every branch, its RTO/RPO figures on a clock that only the
// fake operations move, and the pure helpers beside them. The real tools, processes and faultfs mounts are left to
// local.test.ts, exact.test.ts, exact-io.test.ts and io-faults.test.ts. The only processes here are a stand-in for the
// faultfs binary (fake.ts's shell script: the I/O faults and the exact-byte crash start it through armByteFault) and
// the fusermount -u its stop runs, which finds nothing mounted. The whole file takes about 3 s.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { faultLanded, runScenario } from '../../src/suite/run.ts';
import { integrityError, integrityStatus, judgeRestore } from '../../src/faults/context.ts';
import type { ScenarioOutcome } from '../../src/faults/context.ts';
import { byteFaultUnavailable, describeStrike, siteDir } from '../../src/faults/byte-point.ts';
import { layerDetails, measured } from '../../src/faults/io-fault.ts';
import type { FollowThrough, LayeredBackup } from '../../src/faults/io-fault.ts';
import { faultfsBinary, faultfsUnavailable, mountFaultfs } from '../../src/faults/faultfs.ts';
import { recoveryPoint } from '../../src/faults/outage.ts';
import type { IntegrityResult } from '../../src/suite/results.ts';
import { ToolError } from '../../src/tools/types.ts';
import { suiteSchema } from '../../src/config/schema.ts';
import { scenarioOf } from './harness.ts';
import { FakePlatform, FakeTool, fakeContext, faultfsReport, installClock, manifestOf, seededFiles, START, writeFakeFaultfs } from './fake.ts';
import type { FakePlatformOptions, FakeToolOptions, OpScript } from './fake.ts';

const NO_BINARY = '/nonexistent/pvbench-faultfs';
let restoreClock: () => void;
let tmp: string;
let fakeFaultfs: string;
/** A real directory of 10,000 bytes: armByteFault sizes the source on disk. */
let sourceDir: string;
let emptyDir: string;
/** Why faultfs cannot be used with PVBENCH_FAULTFS pointing nowhere (on this machine: the binary is not built). */
let noFaultfs: string;
const savedEnv = process.env.PVBENCH_FAULTFS;

before(() => {
  restoreClock = installClock();
  tmp = mkdtempSync(join(tmpdir(), 'pvbench-scenarios-'));
  fakeFaultfs = writeFakeFaultfs(tmp);
  sourceDir = join(tmp, 'volumes', 't1-source');
  mkdirSync(join(sourceDir, 'proxy-0'), { recursive: true });
  writeFileSync(join(sourceDir, 'proxy-0', 'data'), Buffer.alloc(10_000));
  emptyDir = join(tmp, 'empty', 't1-source');
  mkdirSync(emptyDir, { recursive: true });
  process.env.PVBENCH_FAULTFS = NO_BINARY;
  noFaultfs = faultfsUnavailable()!;
});

after(() => {
  restoreClock();
  rmSync(tmp, { recursive: true, force: true });
  if (savedEnv === undefined) delete process.env.PVBENCH_FAULTFS;
  else process.env.PVBENCH_FAULTFS = savedEnv;
});

/** A trial on the fake platform and tool; `location` is where the source volumes are (real where faultfs sizes them). */
function trial(platformOpts: FakePlatformOptions = {}, toolOpts: FakeToolOptions = {}, location?: string) {
  const platform = new FakePlatform(platformOpts);
  const tool = new FakeTool(platform, toolOpts);
  const ctx = fakeContext(platform, tool, location);
  return { platform, tool, ctx, source: platform.files(ctx.volumes) };
}

/** Runs `fn` with the stand-in faultfs binary reporting `out` (its stdout lines) and `err` (its stderr). */
async function withFaultfs<T>(out: string, fn: () => Promise<T>, err = ''): Promise<T> {
  process.env.PVBENCH_FAULTFS = fakeFaultfs;
  process.env.FAKE_FAULTFS_OUT = out;
  process.env.FAKE_FAULTFS_ERR = err;
  process.env.FAKE_FAULTFS_ARGS = join(tmp, 'faultfs-args');
  try {
    return await fn();
  } finally {
    process.env.PVBENCH_FAULTFS = NO_BINARY;
    delete process.env.FAKE_FAULTFS_OUT;
    delete process.env.FAKE_FAULTFS_ERR;
    delete process.env.FAKE_FAULTFS_ARGS;
  }
}

/** The arguments the last faultfs was started with. */
const faultfsArgs = () => readFileSync(join(tmp, 'faultfs-args'), 'utf8').trim();

/** A node outage, as a suite on a kind cluster gives it (the only platform where the schema accepts one). */
function nodeOutage(afterMs: number) {
  const suite = suiteSchema.parse({ platform: { kind: 'kubernetes', cluster: { mode: 'kind' } }, scenarios: [{ name: 'o', fault: { kind: 'outage', afterMs, scope: 'node' } }] });
  return suite.scenarios[0]!;
}
const LOG0 = 'proxy-0/logs/access.log';
const STATS = 'proxy-1/stats-0.prom';
const CONFIG = 'proxy-0/config.json';
const UNLOCK = 'unlock: 1 stale lock removed';

describe('no fault', () => {
  test('with incremental: full backup, churn, incremental backup, and the incremental snapshot restored intact', async () => {
    const { platform, tool, ctx, source } = trial({}, { backups: [{ ms: 1000 }, { ms: 1100 }], restores: [{ ms: 400 }] });
    const o = await runScenario(ctx, scenarioOf('nf', { kind: 'none' }, true));
    assert.equal(o.status, 'passed');
    assert.equal(o.error, undefined);
    assert.deepEqual(o.fault, { kind: 'none', injected: false, description: 'full backup, churn, incremental backup, restore', details: {} });
    assert.equal(o.backup?.wallMs, 1000);
    assert.equal(o.incremental?.wallMs, 1100);
    assert.equal(o.restore?.wallMs, 400);
    assert.equal(o.integrity?.ok, true);
    assert.equal(o.integrity?.matched, 4);
    assert.deepEqual(tool.calls, ['backup 1 of t1-source', 'backup 2 of t1-source', 'restore 1 of snap-2 into t1-restore-0']);
    assert.deepEqual(platform.events, ['churn t1-source seed 7 proxies 2', 'empty t1-restore-0']);
    assert.deepEqual(platform.files(ctx.scratch[0]!), source, 'the restore holds the churned data');
    assert.deepEqual(ctx.scratch.map((v) => v.id), ['t1-restore-0']);
  });

  test('without incremental: one backup restored, no churn', async () => {
    const { platform, tool, ctx } = trial();
    const o = await runScenario(ctx, scenarioOf('nf', { kind: 'none' }, false));
    assert.equal(o.status, 'passed');
    assert.equal(o.incremental, undefined);
    assert.equal(o.fault.description, 'full backup, restore');
    assert.deepEqual(tool.calls, ['backup 1 of t1-source', 'restore 1 of snap-1 into t1-restore-0']);
    assert.deepEqual(platform.events, ['empty t1-restore-0']);
  });

  test('a restore that loses and alters files fails with the integrity error', async () => {
    const { ctx } = trial({}, { restores: [{ lose: [STATS], alter: [CONFIG] }] });
    const o = await runScenario(ctx, scenarioOf('nf', { kind: 'none' }, true));
    assert.equal(o.status, 'failed');
    assert.equal(o.error, `integrity loss after restore: 1 mismatched, 1 missing of 4 files (${CONFIG}, ${STATS})`);
    assert.deepEqual([o.integrity?.ok, o.integrity?.matched, o.integrity?.mismatched, o.integrity?.missing], [false, 2, 1, 1]);
  });

  test('the source changed by someone else after seeding: an error that says so, not the tool losing data', async () => {
    const { ctx, source } = trial();
    for (const p of [CONFIG, LOG0, 'proxy-1/logs/access.log']) source.set(p, 'edited by a user');
    source.delete(STATS);
    const o = await runScenario(ctx, scenarioOf('nf', { kind: 'none' }, false));
    assert.equal(o.status, 'error');
    assert.equal(
      o.error,
      `the source volumes changed during the trial, not by pvbench or the tool (3 files changed, 1 removed: ${CONFIG}, ${LOG0}, proxy-1/logs/access.log): the restore cannot be judged against them`,
    );
    assert.equal(o.integrity?.ok, false, 'the restore itself differs from the seeded data');
  });

  test('the source changed by someone else: one file, singular; a removal alone names only the removal', async () => {
    const one = trial();
    one.source.set(CONFIG, 'edited');
    assert.match((await runScenario(one.ctx, scenarioOf('nf', { kind: 'none' }, false))).error!, /\(1 file changed: proxy-0\/config\.json\)/);
    const gone = trial();
    gone.source.delete(STATS);
    assert.match((await runScenario(gone.ctx, scenarioOf('nf', { kind: 'none' }, false))).error!, /\(1 removed: proxy-1\/stats-0\.prom\)/);
  });

  test('the tool failing in any step is the trial\'s exception', async () => {
    const cases: [FakeToolOptions, RegExp][] = [
      [{ backups: [{ fail: 'repository not found' }] }, /^ToolError: repository not found$/],
      [{ backups: [{}, { throws: 'incremental bug' }] }, /^Error: incremental bug$/],
      [{ restores: [{ fail: 'snapshot not found' }] }, /^ToolError: snapshot not found$/],
    ];
    for (const [opts, error] of cases) await assert.rejects(runScenario(trial({}, opts).ctx, scenarioOf('nf', { kind: 'none' }, true)), error);
  });
});

describe('context helpers', () => {
  const result = (over: Partial<IntegrityResult>): IntegrityResult => ({
    files: 10,
    matched: 10,
    mismatched: 0,
    missing: 0,
    extra: 0,
    bytes: 100,
    ok: true,
    examples: { mismatched: [], missing: [], extra: [] },
    ...over,
  });

  test('integrityStatus: no result or an intact one passes, a loss fails', () => {
    assert.equal(integrityStatus(undefined), 'passed');
    assert.equal(integrityStatus(result({})), 'passed');
    assert.equal(integrityStatus(result({ ok: false, missing: 1 })), 'failed');
  });

  test('integrityError: none when intact; the counts that are not zero and at most three examples, mismatched first', () => {
    assert.equal(integrityError(result({})), undefined);
    assert.equal(
      integrityError(result({ ok: false, missing: 2, examples: { mismatched: [], missing: ['m1', 'm2'], extra: ['x'] } })),
      'integrity loss after restore: 2 missing of 10 files (m1, m2)',
    );
    assert.equal(
      integrityError(result({ ok: false, mismatched: 3, missing: 2, examples: { mismatched: ['a', 'b', 'c'], missing: ['m1', 'm2'], extra: [] } })),
      'integrity loss after restore: 3 mismatched, 2 missing of 10 files (a, b, c)',
    );
  });

  test('judgeRestore: an intact restore passes without looking at the source', async () => {
    const { ctx, source } = trial();
    source.clear();
    assert.deepEqual(await judgeRestore(ctx, result({}), ctx.seeded), { status: 'passed' });
  });

  test('judgeRestore: the source examples are at most three, changed ones first', async () => {
    const { ctx, source } = trial();
    source.set(LOG0, 'x');
    source.set(STATS, 'y');
    source.delete(CONFIG);
    source.delete('proxy-1/logs/access.log');
    const j = await judgeRestore(ctx, result({ ok: false, missing: 1 }), ctx.seeded);
    assert.deepEqual(j, {
      status: 'error',
      error: `the source volumes changed during the trial, not by pvbench or the tool (2 files changed, 2 removed: ${LOG0}, ${STATS}, ${CONFIG}): the restore cannot be judged against them`,
    });
  });

  test('faultLanded: only a passed trial of a fault that did not land becomes not-injected', () => {
    const base: ScenarioOutcome = { status: 'passed', fault: { kind: 'crash', injected: false, description: 'missed', details: {} } };
    assert.deepEqual(faultLanded(base), { ...base, status: 'not-injected', error: 'the crash fault was not injected (missed): this trial measured nothing about recovery from it' });
    for (const o of [{ ...base, status: 'failed' as const }, { ...base, fault: { ...base.fault, injected: true } }, { ...base, fault: { ...base.fault, kind: 'none' as const } }]) assert.equal(faultLanded(o), o);
  });
});

describe('crash', () => {
  test('mid-backup, retried after recovery: RTO from the kill to the retry that succeeded, wall time from the start', async () => {
    const { tool, ctx } = trial(
      { kind: 'kubernetes' },
      { backups: [{ progress: [0.1, 0.3], lookMs: 100, dieMs: 2500 }, { ms: 900, fail: 'repository is locked\nby pid 1' }, { ms: 1200 }], recoverMs: 700 },
    );
    const o = await runScenario(ctx, scenarioOf('c', { kind: 'crash', phase: 'backup', at: 0.3, retries: 3 }));
    // Killed at 200 (the second look reads exactly 30%), dead at 2700; recover 700, a failed retry 900, recover 700, the retry 1200: done at 6200.
    assert.equal(o.status, 'passed');
    assert.equal(o.rtoMs, 6000);
    assert.deepEqual([o.backup?.wallMs, o.backup?.attempts, o.backup?.cpuUserMs], [6200, 3, 3], 'the successful attempt\'s metrics, its wall time the whole phase');
    assert.equal(o.restore?.wallMs, 400);
    assert.deepEqual(o.fault, {
      kind: 'crash',
      injected: true,
      description:
        'SIGKILL fake backup 1 (pid 4242) at 30% of the backup; the crashed backup ended 2.5 s after the kill (failed: fake backup 1 killed by SIGKILL); 2 stale lock(s); succeeded on attempt 3',
      details: {
        phase: 'backup',
        attempts: 3,
        staleLocks: 2,
        recoveryActions: `${UNLOCK}; retry 1 failed: repository is locked\nby pid 1; ${UNLOCK}`,
        killedAtPercent: 30,
        mechanism: 'slice-trigger',
        crashedAttempt: 'failed: fake backup 1 killed by SIGKILL',
        crashedAttemptEndedAfterMs: 2500,
      },
      detected: true,
      recoveryMs: 6000,
    });
    assert.deepEqual(tool.calls, ['backup 1 of t1-source (hooked)', 'recover', 'backup 2 of t1-source', 'recover', 'backup 3 of t1-source', 'restore 1 of snap-3 into t1-restore-0']);
    assert.deepEqual(ctx.logs, ['crash: SIGKILL fake backup 1 (pid 4242); recovering']);
  });

  test('a kill the backup rides out: injected, completed without a retry, not detected, no RTO', async () => {
    const { ctx } = trial({}, { backups: [{ progress: [0.5], dieMs: 300, survivesKill: true, ms: 100 }] });
    const o = await runScenario(ctx, scenarioOf('c', { kind: 'crash', phase: 'backup', at: 0.3 }));
    const why = 'faultfs is wired for copy, restic and kopia, not velero-fs';
    assert.equal(o.status, 'passed');
    assert.equal(o.rtoMs, undefined);
    assert.deepEqual(o.fault, {
      kind: 'crash',
      injected: true,
      description: 'SIGKILL fake backup 1 (pid 4242) at 50% of the backup; the backup completed anyway, without a retry',
      details: {
        phase: 'backup',
        attempts: 1,
        staleLocks: 0,
        recoveryActions: '',
        killedAtPercent: 50,
        mechanism: 'slice-trigger',
        mechanismNote: `faultfs not used: ${why}`,
        crashedAttempt: 'completed',
        crashedAttemptEndedAfterMs: 400,
      },
      detected: false,
      recoveryMs: undefined,
    });
    assert.equal(o.backup?.attempts, 1);
    assert.equal(o.backup?.wallMs, 400);
    assert.deepEqual(ctx.logs, [`crash: ${why}; the crash lands by timing (slice trigger), not at an exact byte`]);
  });

  test('a backup that finishes before the point: not injected, and the trial says it measured nothing', async () => {
    const { tool, ctx } = trial({ kind: 'kubernetes' }, { backups: [{ progress: [0.1, 0.2], ms: 500 }] });
    const o = await runScenario(ctx, scenarioOf('c', { kind: 'crash', phase: 'backup', at: 0.3 }));
    assert.equal(o.status, 'not-injected');
    assert.equal(o.error, 'the crash fault was not injected (the backup finished before reaching 30%: no crash injected): this trial measured nothing about recovery from it');
    assert.deepEqual(o.fault, {
      kind: 'crash',
      injected: false,
      description: 'the backup finished before reaching 30%: no crash injected',
      details: { phase: 'backup', attempts: 1, staleLocks: 0, recoveryActions: '', killedAtPercent: 0, mechanism: 'slice-trigger' },
      detected: false,
      recoveryMs: undefined,
    });
    assert.deepEqual(tool.calls, ['backup 1 of t1-source (hooked)', 'restore 1 of snap-1 into t1-restore-0']);
  });

  test('a crash that did not land but whose restore lost data stays failed', async () => {
    const { ctx } = trial({ kind: 'kubernetes' }, { backups: [{ progress: [0.1] }], restores: [{ lose: [STATS] }] });
    const o = await runScenario(ctx, scenarioOf('c', { kind: 'crash', phase: 'backup', at: 0.3 }));
    assert.equal(o.status, 'failed');
    assert.equal(o.error, `integrity loss after restore: 1 missing of 4 files (${STATS})`);
  });

  test('mid-restore: the retry restores into a fresh target, which is the one verified', async () => {
    const { tool, ctx } = trial({ kind: 'kubernetes' }, { restores: [{ progress: [0.6], dieMs: 100 }, { ms: 500 }], recoverMs: 700 });
    const o = await runScenario(ctx, scenarioOf('c', { kind: 'crash', phase: 'restore', at: 0.5, retries: 2 }));
    // Backup 0..1000; the restore killed at 1000, dead at 1100; recover to 1800, the retry to 2300.
    assert.equal(o.status, 'passed');
    assert.equal(o.backup?.wallMs, 1000);
    assert.equal(o.backup?.attempts, 1);
    assert.deepEqual([o.restore?.wallMs, o.restore?.attempts, o.restore?.cpuUserMs], [1300, 2, 3]);
    assert.equal(o.rtoMs, 1300);
    assert.equal(o.integrity?.ok, true);
    assert.equal(
      o.fault.description,
      'SIGKILL fake restore 1 (pid 4242) at 60% of the restore; the crashed restore ended 0.1 s after the kill (failed: fake restore 1 killed by SIGKILL); 1 stale lock(s); succeeded on attempt 2',
    );
    assert.equal(o.fault.details.phase, 'restore');
    assert.deepEqual(tool.calls, ['backup 1 of t1-source', 'restore 1 of snap-1 into t1-restore-0 (hooked)', 'recover', 'restore 2 of snap-1 into t1-restore-1']);
    assert.deepEqual(ctx.logs, ['crash: SIGKILL fake restore 1 (pid 4242); recovering', 'crash: retrying restore into a fresh target']);
  });

  test('mid-restore, the retried restore losing a file: failed against the seeded data', async () => {
    const { ctx } = trial({ kind: 'kubernetes' }, { restores: [{ progress: [0.9] }, { lose: [CONFIG] }] });
    const o = await runScenario(ctx, scenarioOf('c', { kind: 'crash', phase: 'restore', at: 0.5 }));
    assert.equal(o.status, 'failed');
    assert.equal(o.error, `integrity loss after restore: 1 missing of 4 files (${CONFIG})`);
    assert.equal(o.fault.injected, true);
  });

  test('no retry succeeds: the trial fails with the last retry\'s error', async () => {
    const { tool, ctx } = trial({ kind: 'kubernetes' }, { backups: [{ progress: [0.9] }, { fail: 'lock held' }] });
    await assert.rejects(runScenario(ctx, scenarioOf('c', { kind: 'crash', at: 0.3, retries: 1 })), (e: Error) => {
      assert.ok(e instanceof ToolError);
      assert.equal(e.message, 'no successful retry after the crash (1 retries): lock held');
      assert.equal(e.tool, 'fake');
      return true;
    });
    assert.deepEqual(tool.calls, ['backup 1 of t1-source (hooked)', 'recover', 'backup 2 of t1-source']);
  });

  test('a first attempt that fails on its own (not killed) or with a non-tool error is not retried', async () => {
    const unfired = trial({ kind: 'kubernetes' }, { backups: [{ progress: [0.1], fail: 'disk gone' }] });
    await assert.rejects(runScenario(unfired.ctx, scenarioOf('c', { kind: 'crash', at: 0.3 })), /^ToolError: disk gone$/);
    assert.deepEqual(unfired.tool.calls, ['backup 1 of t1-source (hooked)']);
    const bug = trial({ kind: 'kubernetes' }, { backups: [{ progress: [0.9], survivesKill: true, throws: 'bug' }] });
    await assert.rejects(runScenario(bug.ctx, scenarioOf('c', { kind: 'crash', at: 0.3 })), /^Error: bug$/);
    assert.deepEqual(bug.tool.calls, ['backup 1 of t1-source (hooked)']);
  });

  test('a long crash error is cut to its first clause and 160 characters', async () => {
    const { ctx } = trial({ kind: 'kubernetes' }, { backups: [{ progress: [0.9], killedMessage: `${'x'.repeat(200)}; second\nthird` }] });
    const o = await runScenario(ctx, scenarioOf('c', { kind: 'crash', at: 0.3 }));
    assert.equal(o.fault.details.crashedAttempt, `failed: ${'x'.repeat(160)}`);
  });

  test('at an exact byte through faultfs: the strike named, its figures in the details, RTO from the strike', async () => {
    const report = faultfsReport(
      { action: 'kill', op: 'read', byte: 3100, opBytes: 4096, path: LOG0, callerPid: 4242, killed: 4242, killHow: 'SIGKILL while held' },
      { bytes: 3100, ops: 3, failed: 0, delayed: 0, struck: true },
    );
    const { ctx } = trial({}, { type: 'copy', backups: [{ ms: 1500, fail: 'signal: killed' }, { ms: 1000 }], recoverMs: 700 }, sourceDir);
    const o = await withFaultfs(report, () => runScenario(ctx, scenarioOf('c', { kind: 'crash', at: 0.3 })));
    // faultfs reported the strike at 0 (when the layer came up); the crashed backup ended at 1500, the retry at 3200.
    assert.equal(o.status, 'passed');
    assert.equal(o.rtoMs, 3200);
    assert.equal(o.backup?.wallMs, 3200);
    assert.deepEqual(o.fault, {
      kind: 'crash',
      injected: true,
      description:
        'SIGKILL fake backup 1 (pid 4242) by faultfs at byte 3,100 of 10,000 read (31.0%) (the backup); the crashed backup ended 1.5 s after the kill (failed: signal: killed); 1 stale lock(s); succeeded on attempt 2',
      details: {
        phase: 'backup',
        attempts: 2,
        staleLocks: 1,
        recoveryActions: UNLOCK,
        killedAtPercent: 31,
        mechanism: 'faultfs',
        requestedByte: 3000,
        totalBytes: 10000,
        struckAtByte: 3100,
        struckAtShare: 0.31,
        struckFile: LOG0,
        heldOpBytes: 4096,
        killHow: 'SIGKILL while held',
        faultfsBytes: 3100,
        faultfsOps: 3,
        crashedAttempt: 'failed: signal: killed',
        crashedAttemptEndedAfterMs: 1500,
      },
      detected: true,
      recoveryMs: 3200,
    });
    assert.match(ctx.logs[0]!, new RegExp(`^faultfs \\(pid \\d+\\) over ${sourceDir}: kill at read byte 3000 of 10000$`));
    assert.equal(faultfsArgs(), `-dir ${sourceDir} -op read -action kill -at-byte 3000`);
  });

  test('faultfs is told the pid of the tool it is to kill', async () => {
    const report = faultfsReport({ action: 'kill', op: 'read', byte: 3000, opBytes: 1, path: LOG0, callerPid: 1, killed: 'PID' }, { bytes: 3000, ops: 1, failed: 0, delayed: 0, struck: true }).replace('"PID"', 'PID');
    const { ctx } = trial({}, { type: 'copy', backups: [{ fail: 'signal: killed' }] }, sourceDir);
    const o = await withFaultfs(report, () => runScenario(ctx, scenarioOf('c', { kind: 'crash', at: 0.3 })));
    assert.equal(o.fault.injected, true, 'faultfs reported killing the pid it was told');
    assert.equal(o.fault.details.attempts, 2);
  });

  test('at an exact byte of the restore: faultfs over the restore folder, the bytes written', async () => {
    const report = faultfsReport({ action: 'kill', op: 'write', byte: 5000, opBytes: 10, path: 't1-restore-0/x', callerPid: 4242, killed: 4242 }, { bytes: 5000, ops: 1, failed: 0, delayed: 0, struck: true });
    const { ctx } = trial({}, { type: 'restic', restores: [{ ms: 200, fail: 'killed' }] }, sourceDir);
    const o = await withFaultfs(report, () => runScenario(ctx, scenarioOf('c', { kind: 'crash', phase: 'restore', at: 0.5 })));
    assert.match(o.fault.description, /^SIGKILL fake restore 1 \(pid 4242\) by faultfs at byte 5,000 of 10,000 written \(50\.0%\) \(the restore\); /);
    assert.equal(o.fault.details.killHow, '', 'faultfs did not say how');
    assert.match(ctx.logs[0]!, new RegExp(`over ${join(tmp, 'volumes')}: kill at write byte 5000 of 10000$`));
  });

  test('through faultfs, a strike that killed nothing is no crash; no account from faultfs, no layer figures', async () => {
    const report = faultfsReport({ action: 'kill', op: 'read', byte: 3000, opBytes: 0, path: LOG0, callerPid: 1 }, undefined);
    const { ctx } = trial({}, { type: 'kopia' }, sourceDir);
    const o = await withFaultfs(report, () => runScenario(ctx, scenarioOf('c', { kind: 'crash', at: 0.3 })));
    assert.equal(o.status, 'not-injected');
    assert.deepEqual(o.fault, {
      kind: 'crash',
      injected: false,
      description: 'the backup finished before reaching 30%: no crash injected',
      details: {
        phase: 'backup',
        attempts: 1,
        staleLocks: 0,
        recoveryActions: '',
        killedAtPercent: 0,
        mechanism: 'faultfs',
        requestedByte: 3000,
        totalBytes: 10000,
        struckAtByte: 3000,
        struckAtShare: 0.3,
        struckFile: LOG0,
        heldOpBytes: 0,
        killHow: '',
      },
      detected: false,
      recoveryMs: undefined,
    });
  });

  test('through faultfs over empty volumes: the shares are 0, not a division by zero', async () => {
    const report = faultfsReport({ action: 'kill', op: 'read', byte: 0, opBytes: 0, path: 'a', callerPid: 1, killed: 4242 }, { bytes: 0, ops: 0, failed: 0, delayed: 0, struck: true });
    const { ctx } = trial({}, { type: 'kopia', backups: [{ fail: 'killed' }] }, emptyDir);
    const o = await withFaultfs(report, () => runScenario(ctx, scenarioOf('c', { kind: 'crash', at: 0.3 })));
    assert.equal(o.fault.injected, true);
    assert.match(o.fault.description, /^SIGKILL fake backup 1 \(pid 4242\) by faultfs at byte 0 of 0 read \(the backup\); /);
    assert.deepEqual([o.fault.details.killedAtPercent, o.fault.details.totalBytes, o.fault.details.struckAtShare, o.fault.details.requestedByte], [0, 0, 0, 0]);
  });

  test('through faultfs, a tool that never reported its process is named "the tool"', async () => {
    const report = faultfsReport({ action: 'kill', op: 'read', byte: 3000, opBytes: 1, path: LOG0, callerPid: 1, killed: 999 }, undefined);
    const { ctx } = trial({}, { type: 'copy', backups: [{ unwatched: true, fail: 'killed' }] }, sourceDir);
    const o = await withFaultfs(report, () => runScenario(ctx, scenarioOf('c', { kind: 'crash', at: 0.3 })));
    assert.match(o.fault.description, /^SIGKILL the tool by faultfs at byte 3,000 of 10,000 read \(30\.0%\) \(the backup\); /);
  });

  test('through faultfs, a layer that struck nothing: not injected, no strike figures', async () => {
    const { ctx } = trial({}, { type: 'copy' }, sourceDir);
    const o = await withFaultfs(faultfsReport(undefined, { bytes: 10, ops: 1, failed: 0, delayed: 0, struck: false }), () => runScenario(ctx, scenarioOf('c', { kind: 'crash', at: 0.3 })));
    assert.equal(o.status, 'not-injected');
    assert.equal('struckAtByte' in o.fault.details, false);
    assert.deepEqual([o.fault.details.faultfsBytes, o.fault.details.faultfsOps], [10, 1]);
  });

  test('a faultfs that exits with a long story: the last 2000 characters of its stderr', async () => {
    const { ctx } = trial({}, { type: 'copy', backups: [{ progress: [0.1] }] }, sourceDir);
    const o = await withFaultfs('', () => runScenario(ctx, scenarioOf('c', { kind: 'crash', at: 0.3 })), `${'x'.repeat(100)}${'y'.repeat(2000)}`);
    // The last 2000 characters end with the newline the stand-in printed, which the message trims.
    assert.match(String(o.fault.details.mechanismNote), new RegExp(`: it exited: ${'y'.repeat(1999)}$`));
  });

  test('mountFaultfs without a binary says why faultfs is unavailable', async () => {
    await assert.rejects(mountFaultfs({ dir: tmp, op: 'read', action: 'none', atByte: 0 }), { message: noFaultfs });
  });

  test('a faultfs that cannot mount: the crash falls back to the slice trigger and says why', async () => {
    const { ctx } = trial({}, { type: 'copy', backups: [{ progress: [0.5], dieMs: 10 }] }, sourceDir);
    const o = await withFaultfs('', () => runScenario(ctx, scenarioOf('c', { kind: 'crash', at: 0.3 })), 'fuse: device not found');
    const why = new RegExp(`^faultfs \\(pid \\d+\\) did not mount over ${sourceDir}: it exited: fuse: device not found`);
    assert.equal(o.fault.details.mechanism, 'slice-trigger');
    assert.match(String(o.fault.details.mechanismNote), new RegExp(`^faultfs not used: ${why.source.slice(1)}$`));
    assert.match(ctx.logs[0]!, new RegExp(`^crash: ${why.source.slice(1)}; the crash lands by timing \\(slice trigger\\), not at an exact byte$`));
    assert.equal(o.fault.injected, true);
    assert.equal(o.fault.details.killedAtPercent, 50);
  });

  test('no faultfs on a local trial: the slice trigger, and the note says why', async () => {
    const { ctx } = trial({}, { type: 'copy', backups: [{ progress: [0.1] }] }, sourceDir);
    const o = await runScenario(ctx, scenarioOf('c', { kind: 'crash', at: 0.3 }));
    assert.equal(o.fault.details.mechanismNote, `faultfs not used: ${noFaultfs}`);
  });
});

describe('outage', () => {
  /** The source's log grows after the first backup (a write the backup does not hold); the journal says when. */
  function outageTrial(platformOpts: FakePlatformOptions, second: OpScript, more: FakeToolOptions = {}, location?: string) {
    const t = trial({ verifyMs: 30, ...platformOpts }, { recoverMs: 700, ...more, backups: [{ ms: 1000, then: () => t.source.set(LOG0, 'GET /a\nbbbb') }, second] }, location);
    t.platform.writer.entries = [
      { t: START + 100, path: LOG0, end: 7 },
      { t: START + 1010, path: LOG0, end: 11 },
      { t: START + 1030, path: LOG0, end: 15 },
    ];
    return t;
  }

  test('writer and backup killed together mid-backup: RTO from the outage to the verified restore, RPO from the journal', async () => {
    const { platform, tool, ctx } = outageTrial({ kind: 'kubernetes' }, { progress: [0.2, 0.7], lookMs: 10, dieMs: 50 }, { recover: { staleLocks: 1, actions: [UNLOCK, 'prune'] } });
    const o = await runScenario(ctx, scenarioOf('o', { kind: 'outage', afterMs: 50, writesPerSecond: 300 }));
    // Outage at 1020 (first backup 1000, two looks); dead at 1070, recover to 1770, restored at 2170, verified by 2200.
    assert.equal(o.status, 'passed');
    assert.equal(o.error, undefined);
    assert.equal(o.rtoMs, 1180);
    assert.equal(o.rpoMs, 920);
    assert.equal(o.backup?.wallMs, 1000);
    assert.equal(o.restore?.wallMs, 400);
    assert.equal(o.integrity?.ok, true, 'the restored log is a prefix of the source log');
    assert.deepEqual(o.fault, {
      kind: 'outage',
      injected: true,
      description: 'SIGKILL fake backup 2 (pid 4242) and the writer (pid 77) killed together mid-backup; restored the last completed backup; 1 of 2 acknowledged writes lost',
      details: { scope: 'workload', mechanism: 'slice-trigger', acknowledgedWrites: 2, writesPresent: 1, writesLost: 1, staleLocks: 1, recoveryActions: `${UNLOCK}; prune`, restoredSnapshot: 'snap-1' },
      detected: true,
      recoveryMs: 1180,
    });
    assert.deepEqual(tool.calls, ['backup 1 of t1-source', 'backup 2 of t1-source (hooked)', 'recover', 'restore 1 of snap-1 into t1-restore-0']);
    assert.deepEqual(platform.events, ['writer on t1-source at 300/s seed 7', 'empty t1-restore-0']);
    assert.equal(platform.writer.kills, 3, 'at the outage, after it, and on the way out');
  });

  test('the time limit strikes first when half the bytes are not read in time', async () => {
    const { ctx } = outageTrial({ kind: 'kubernetes' }, { progress: [0.1, 0.2, 0.3], lookMs: 25, dieMs: 50 });
    const o = await runScenario(ctx, scenarioOf('o', { kind: 'outage', afterMs: 50 }));
    // Looks at 1025 and 1050: the second is exactly afterMs in, and strikes.
    assert.equal(o.fault.injected, true);
    assert.equal(o.rpoMs, 950);
    assert.equal(o.fault.details.acknowledgedWrites, 3);
  });

  test('a backup that completes despite the kill: the latest snapshot restored', async () => {
    const { ctx } = outageTrial({ kind: 'kubernetes' }, { progress: [0.7], survivesKill: true, ms: 300 });
    const o = await runScenario(ctx, scenarioOf('o', { kind: 'outage', afterMs: 50 }));
    assert.equal(o.fault.description, 'SIGKILL fake backup 2 (pid 4242) and the writer (pid 77) killed together (the backup had already completed); restored the latest snapshot; 0 of 1 acknowledged writes lost');
    assert.equal(o.fault.details.restoredSnapshot, 'snap-2');
    assert.equal(o.rpoMs, 900, 'the outage at 1000: the one write acknowledged before it (at 100) is in the restore');
  });

  test('a second backup that finishes before the outage: not injected, the outage instant is its end', async () => {
    const { ctx } = outageTrial({}, { progress: [0.1, 0.2], ms: 500 });
    const o = await runScenario(ctx, scenarioOf('o', { kind: 'outage', afterMs: 60000 }));
    assert.equal(o.status, 'not-injected');
    assert.deepEqual(ctx.logs, [], 'faultfs not wired for the tool: no crash arm tried');
    assert.equal(o.fault.description, 'the second backup finished before the outage; writer killed after it');
    assert.deepEqual(o.fault.details, {
      scope: 'workload',
      mechanism: 'slice-trigger',
      mechanismNote: 'faultfs not used: faultfs is wired for copy, restic and kopia, not velero-fs',
      acknowledgedWrites: 3,
      writesPresent: 2,
      writesLost: 1,
      staleLocks: 1,
      recoveryActions: UNLOCK,
      restoredSnapshot: 'snap-2',
    });
    // The outage at 1500 (the second backup's end); restored at 1500 + 700 + 400, verified in 30; the newest write
    // the second snapshot holds was acknowledged at 1010.
    assert.equal(o.rtoMs, 1130);
    assert.equal(o.rpoMs, 490);
  });

  test('a restore that loses a file fails the outage trial with the integrity error', async () => {
    const { ctx } = outageTrial({ kind: 'kubernetes' }, { progress: [0.7] }, { restores: [{ lose: [STATS] }] });
    const o = await runScenario(ctx, scenarioOf('o', { kind: 'outage', afterMs: 50 }));
    assert.equal(o.status, 'failed');
    assert.equal(o.error, `integrity loss after restore: 1 missing of 4 files (${STATS})`);
  });

  test('a node outage: the node struck and back before recovery, which waits for the tool since the outage', async () => {
    const node = { struck: 'node pvbench-worker killed', recoverMs: 5000, events: [] as string[], onStrike: () => tool.killRunning() };
    const { platform, tool, ctx } = outageTrial({ node }, { progress: [0.2, 0.7], lookMs: 10, dieMs: 50 });
    const o = await runScenario(ctx, nodeOutage(50));
    // Outage at 1020; node back at 6020, the backup dead at 6070; recover to 6770, restored at 7170, verified at 7200.
    assert.equal(o.rtoMs, 6180);
    assert.equal(o.rpoMs, 920);
    assert.deepEqual(o.fault, {
      kind: 'outage',
      injected: true,
      description: 'node pvbench-worker killed mid-backup (the backup then failed), with the writer (pid 77); node back after 5000 ms; restored the last completed backup; 1 of 2 acknowledged writes lost',
      details: { scope: 'node', mechanism: 'slice-trigger', nodeRecovery: 'node back after 5000 ms', acknowledgedWrites: 2, writesPresent: 1, writesLost: 1, staleLocks: 1, recoveryActions: UNLOCK, restoredSnapshot: 'snap-1' },
      detected: true,
      recoveryMs: 6180,
    });
    assert.deepEqual(node.events, ['strike', 'recover']);
    assert.ok(tool.calls.includes('recover since 1020'), tool.calls.join(' | '));
    assert.equal(platform.writer.kills, 2);
  });

  test('a node outage whose backup outlives the strike: mid-backup, the backup then completed', async () => {
    const node = { struck: 'node n1 killed', recoverMs: 10, events: [] as string[] };
    const { ctx } = outageTrial({ node }, { progress: [0.7] });
    const o = await runScenario(ctx, nodeOutage(50));
    assert.match(o.fault.description, /^node n1 killed mid-backup \(the backup then completed\), with the writer \(pid 77\); node back after 10 ms; restored the latest snapshot; /);
  });

  test('a node outage that strikes just after the backup ended: after the backup had completed, the latest snapshot restored', async () => {
    const node = { struck: 'node n1 killed', recoverMs: 10, events: [] as string[] };
    const { tool, ctx } = outageTrial({ node }, { progress: [0.1, 0.7], lookMs: 10, finishesAtLook: 1 });
    const o = await runScenario(ctx, nodeOutage(50));
    assert.equal(o.fault.description, 'node n1 killed after the backup had completed, with the writer (pid 77); node back after 10 ms; restored the latest snapshot; 1 of 3 acknowledged writes lost');
    // The backup ended at 2020 (looks at 1010 and 1020, then its 1000 ms), the strike right then: all three writes
    // acknowledged; the snapshot holds the first two.
    assert.equal(o.fault.injected, true);
    assert.deepEqual(node.events, ['strike', 'recover']);
    assert.ok(tool.calls.includes('recover since 2020'), tool.calls.join(' | '));
  });

  test('a node outage whose strike fails: the node is still brought back, and the trial fails with why', async () => {
    const node = { struck: '', strikeFails: 'docker kill pvbench-worker2: no such container', recoverMs: 10, events: [] as string[] };
    const { platform, ctx } = outageTrial({ node }, { progress: [0.7] });
    await assert.rejects(runScenario(ctx, nodeOutage(50)), /^Error: docker kill pvbench-worker2: no such container$/);
    assert.deepEqual(node.events, ['strike', 'recover']);
    assert.equal(platform.writer.kills, 1);
  });

  test('a node outage that never struck: recovery is not told an outage instant', async () => {
    const node = { struck: 'node n1 killed', recoverMs: 10, events: [] as string[] };
    const { tool, ctx } = outageTrial({ kind: 'kubernetes', node }, { progress: [0.1] });
    const o = await runScenario(ctx, nodeOutage(60000));
    assert.equal(o.status, 'not-injected');
    assert.deepEqual(node.events, []);
    assert.equal(o.fault.details.nodeRecovery, '', 'no node was brought back');
    assert.ok(tool.calls.includes('recover'));
  });

  test('a node outage where the platform has none is an error before anything starts', async () => {
    const { platform, ctx } = trial({ kind: 'kubernetes' });
    await assert.rejects(runScenario(ctx, nodeOutage(600)), {
      message: 'an outage with scope: node cannot be injected on the kubernetes platform; use scope: workload',
    });
    assert.deepEqual(platform.events, []);
  });

  test('the writer is killed also when the first backup throws', async () => {
    const { platform, ctx } = trial({ kind: 'kubernetes' }, { backups: [{ throws: 'boom' }] });
    await assert.rejects(runScenario(ctx, scenarioOf('o', { kind: 'outage', afterMs: 50 })), /boom/);
    assert.equal(platform.writer.kills, 1);
  });

  test('through faultfs: the backup killed at half the source bytes, the outage instant when faultfs reported it', async () => {
    const report = faultfsReport({ action: 'kill', op: 'read', byte: 5000, opBytes: 100, path: LOG0, callerPid: 4242, killed: 4242, killHow: 'SIGKILL' }, { bytes: 5000, ops: 2, failed: 0, delayed: 0, struck: true });
    const { platform, ctx } = outageTrial({}, { ms: 100, fail: 'signal: killed' }, { type: 'copy' }, sourceDir);
    const o = await withFaultfs(report, () => runScenario(ctx, scenarioOf('o', { kind: 'outage', afterMs: 60000 })));
    // faultfs reported at 1000 (its layer came up after the first backup); recover to 1800, restored at 2200, verified by 2230.
    assert.equal(o.rtoMs, 1230);
    assert.equal(o.rpoMs, 900);
    assert.equal(
      o.fault.description,
      'SIGKILL fake backup 2 (pid 4242) by faultfs at byte 5,000 of 10,000 read (50.0%) and the writer (pid 77) killed together mid-backup; restored the last completed backup; 0 of 1 acknowledged writes lost',
    );
    assert.deepEqual(o.fault.details, {
      scope: 'workload',
      mechanism: 'faultfs',
      requestedByte: 5000,
      totalBytes: 10000,
      struckAtByte: 5000,
      struckAtShare: 0.5,
      struckFile: LOG0,
      heldOpBytes: 100,
      killHow: 'SIGKILL',
      faultfsBytes: 5000,
      faultfsOps: 2,
      struckBy: 'half the source bytes read',
      acknowledgedWrites: 1,
      writesPresent: 1,
      writesLost: 0,
      staleLocks: 1,
      recoveryActions: UNLOCK,
      restoredSnapshot: 'snap-1',
    });
    assert.equal(platform.writer.kills, 2, 'after the strike and on the way out');
  });

  test('through faultfs, the timer strikes first when half the bytes are not read within afterMs', async () => {
    const report = faultfsReport(undefined, { bytes: 10, ops: 1, failed: 0, delayed: 0, struck: false });
    const { platform, ctx } = outageTrial({}, { progress: [0], dieMs: 20 }, { type: 'copy' }, sourceDir);
    const o = await withFaultfs(report, () => runScenario(ctx, scenarioOf('o', { kind: 'outage', afterMs: 50 })));
    assert.equal(o.fault.injected, true);
    assert.equal(o.fault.details.struckBy, 'the timer (afterMs 50) before half the bytes were read');
    assert.equal(o.fault.details.mechanism, 'faultfs');
    assert.match(o.fault.description, /^SIGKILL fake backup 2 \(pid 4242\) and the writer \(pid 77\) killed together mid-backup; /);
    // The outage at 1000 (the timer's instant: the clock stood still); dead at 1020, recover to 1720, restored at 2120.
    assert.equal(o.rtoMs, 1150);
    assert.equal(platform.writer.kills, 3);
  });

  test('through faultfs, a layer that struck nothing and no timer: not injected, no struckBy', async () => {
    const report = faultfsReport(undefined, { bytes: 10, ops: 1, failed: 0, delayed: 0, struck: false });
    const { ctx } = outageTrial({}, { ms: 100 }, { type: 'copy' }, sourceDir);
    const o = await withFaultfs(report, () => runScenario(ctx, scenarioOf('o', { kind: 'outage', afterMs: 60000 })));
    assert.equal(o.status, 'not-injected');
    assert.equal('struckBy' in o.fault.details, false);
  });

  test('through faultfs, a backup that ends before afterMs while faultfs is slow to unmount: the timer does not strike after it', async () => {
    const report = faultfsReport(undefined, { bytes: 10, ops: 1, failed: 0, delayed: 0, struck: false });
    const { ctx } = outageTrial({}, { ms: 100 }, { type: 'copy' }, sourceDir);
    // The backup settles at once (the fake clock); faultfs takes 0.6 s more to exit, and afterMs (100 ms) passes then.
    process.env.FAKE_FAULTFS_LINGER = '0.6';
    let o: ScenarioOutcome;
    try {
      o = await withFaultfs(report, () => runScenario(ctx, scenarioOf('o', { kind: 'outage', afterMs: 100 })));
    } finally {
      delete process.env.FAKE_FAULTFS_LINGER;
    }
    assert.equal(o.status, 'not-injected');
    assert.equal(o.fault.injected, false);
    assert.equal('struckBy' in o.fault.details, false);
    assert.equal(o.fault.description, 'the second backup finished before the outage; writer killed after it');
  });

  test('a faultfs that cannot mount: the outage falls back to the slice trigger, with armCrash\'s note', async () => {
    const { platform, ctx } = outageTrial({}, { progress: [0.7] }, { type: 'copy' }, sourceDir);
    const o = await withFaultfs('', () => runScenario(ctx, scenarioOf('o', { kind: 'outage', afterMs: 50 })));
    assert.equal(o.fault.injected, true);
    assert.equal(platform.writer.kills, 3, 'the outage\'s own trigger struck: the writer with the backup');
    assert.equal('struckBy' in o.fault.details, false);
    assert.equal(o.fault.details.mechanism, 'slice-trigger');
    assert.match(String(o.fault.details.mechanismNote), /^faultfs not used: faultfs \(pid \d+\) did not mount over .*: it exited: code 0$/, 'nothing on stderr: its exit code');
  });
});

describe('corrupt-volume', () => {
  test('damage the manifest check finds, then a restore from the backup: intact, RTO from the corruption', async () => {
    const { ctx, source } = trial({ verifyMs: 30 });
    const o = await runScenario(ctx, scenarioOf('cv', { kind: 'corrupt-volume', bitFlips: 1, truncate: 1, delete: 1 }));
    // Corrupted at 1000; the check 30, the restore 400, its verify 30.
    assert.equal(o.status, 'passed');
    assert.equal(o.error, undefined);
    assert.equal(o.rtoMs, 460);
    assert.equal(o.backup?.wallMs, 1000);
    assert.equal(o.restore?.wallMs, 400);
    assert.deepEqual(o.fault, {
      kind: 'corrupt-volume',
      injected: true,
      description: 'flipped 1, truncated 1, deleted 1; the manifest check found 2 mismatched and 1 missing',
      details: { flipped: CONFIG, truncated: 1, deleted: 1, foundMismatched: 2, foundMissing: 1 },
      detected: true,
      recoveryMs: 460,
    });
    assert.equal(source.size, 3, 'the live volume was damaged');
  });

  test('a corruption the manifest check does not see is not detected; a restore that loses a file fails', async () => {
    const { ctx } = trial({}, { restores: [{ lose: [STATS] }] });
    const o = await runScenario(ctx, scenarioOf('cv', { kind: 'corrupt-volume', bitFlips: 0, truncate: 0, delete: 0 }));
    assert.equal(o.status, 'failed');
    assert.equal(o.error, `integrity loss after restore: 1 missing of 4 files (${STATS})`);
    assert.equal(o.fault.detected, false);
    assert.equal(o.fault.injected, true);
    assert.equal(o.fault.description, 'flipped 0, truncated 0, deleted 0; the manifest check found 0 mismatched and 0 missing');
  });
});

describe('corrupt-repository', () => {
  const failedCheck = { ran: true, ok: false, output: 'pack 3f2a: ciphertext verification failed' };
  const run = (toolOpts: FakeToolOptions, platformOpts: FakePlatformOptions = {}) => {
    const t = trial(platformOpts, toolOpts);
    return { ...t, outcome: runScenario(t.ctx, scenarioOf('cr', { kind: 'corrupt-repository', bitFlips: 4 })) };
  };

  test('check detects it, restore refuses, no repair path: passed, detected, no restore figures', async () => {
    const { outcome, tool } = run({ check: failedCheck, corruption: 'breaks-restore' });
    const o = await outcome;
    assert.equal(o.status, 'passed');
    assert.equal(o.error, undefined);
    assert.equal(o.restore, undefined);
    assert.equal(o.integrity, undefined);
    assert.deepEqual(o.check, failedCheck);
    assert.equal(o.backup?.wallMs, 1000);
    assert.deepEqual(o.fault, {
      kind: 'corrupt-repository',
      injected: true,
      description: 'flipped 4 bit(s) in 2 pack files; check detected it; restore refused; no repair path in this tool',
      details: { bitFlips: 4, packFiles: 2, checkOk: false, restoreError: 'pack 3f2a: ciphertext verification failed', repairRan: false },
      detected: true,
    });
    assert.deepEqual(tool.calls, ['backup 1 of t1-source', 'check', 'restore 1 of snap-1 into t1-restore-0']);
  });

  test('check detects it, restore intact; the repair runs: what it kept restored and verified, a fresh backup made', async () => {
    const repair = { ran: true, actions: ['repair index: rebuilt 2 packs', 'repair snapshots: 1 forgotten'], checkOk: true };
    const { outcome, tool } = run({ check: failedCheck, repair, repairMs: 2000, restores: [{ ms: 400 }, { ms: 600, lose: [STATS] }] }, { verifyMs: 30 });
    const o = await outcome;
    // The repair 2000, the restore of what it kept 600, its verify 30: 2.6 s.
    assert.equal(o.status, 'passed');
    assert.equal(o.restore?.wallMs, 400, 'the restore right after the corruption');
    assert.equal(
      o.fault.description,
      'flipped 4 bit(s) in 2 pack files; check detected it; restore still returned intact data; repaired (repair index, repair snapshots) in 2.6 s: 3 of 4 files recovered; a fresh backup succeeded',
    );
    assert.deepEqual(o.fault.details, {
      bitFlips: 4,
      packFiles: 2,
      checkOk: false,
      restoreError: '',
      repairRan: true,
      repairActions: 'repair index: rebuilt 2 packs; repair snapshots: 1 forgotten',
      repairCheckOk: true,
      repairMs: 2630,
      filesRecovered: 3,
      filesTotal: 4,
      recoveredShare: 0.75,
      freshBackup: 'ok',
    });
    assert.deepEqual(tool.calls, ['backup 1 of t1-source', 'check', 'restore 1 of snap-1 into t1-restore-0', 'repair', 'restore 2 of snap-1 into t1-restore-1', 'backup 2 of t1-source']);
  });

  test('check passed, restore failed loudly; a repair that did not run says why', async () => {
    const o = await run({ corruption: 'breaks-restore', repair: { ran: false, reason: 'kopia has no repair for this', actions: [] } }).outcome;
    assert.equal(o.status, 'passed');
    assert.equal(o.fault.description, 'flipped 4 bit(s) in 2 pack files; check passed; restore failed loudly; no repair: kopia has no repair for this');
    assert.deepEqual(o.fault.details, { bitFlips: 4, packFiles: 2, checkOk: true, restoreError: 'pack 3f2a: ciphertext verification failed', repairRan: false, repairReason: 'kopia has no repair for this' });
    assert.equal(o.fault.detected, true);
  });

  test('a repair that did not run and gives no reason', async () => {
    const o = await run({ check: failedCheck, repair: { ran: false, actions: [] } }).outcome;
    assert.match(o.fault.description, /; no repair: the tool has no repair path$/);
    assert.equal(o.fault.details.repairReason, '');
  });

  test('check passed and data intact: the flipped bits hit nothing the restore reads; nothing to repair', async () => {
    const { outcome, tool } = run({ corruption: 'harmless', repair: { ran: true, actions: ['x'] } });
    const o = await outcome;
    assert.equal(o.status, 'passed');
    assert.equal(o.fault.description, 'flipped 4 bit(s) in 2 pack files; check passed and restored data was intact (the flipped bits hit nothing the restore reads)');
    assert.equal(o.fault.detected, false);
    assert.equal(o.integrity?.ok, true);
    assert.equal(tool.calls.includes('repair'), false);
  });

  test('check passed and restore returned damaged data: silent corruption fails the trial', async () => {
    const o = await run({ corruption: 'damages' }).outcome;
    assert.equal(o.status, 'failed');
    assert.equal(o.error, `silent corruption: integrity loss after restore: 1 mismatched of 4 files (${CONFIG})`);
    assert.equal(o.fault.description, 'flipped 4 bit(s) in 2 pack files; SILENT CORRUPTION: check passed and restore returned damaged data');
    assert.equal(o.fault.detected, false);
  });

  test('check detected it and restore returned damaged data: detected, so passed', async () => {
    const o = await run({ check: failedCheck, corruption: 'damages' }).outcome;
    assert.equal(o.status, 'passed');
    assert.equal(o.error, undefined);
    assert.match(o.fault.description, /; check detected it; restore returned damaged data; no repair path in this tool$/);
  });

  test('a repair that throws: repair failed, with why', async () => {
    const o = await run({ check: failedCheck, repair: new Error('repair crashed') }).outcome;
    assert.match(o.fault.description, /; repair failed: repair crashed$/);
    assert.deepEqual(o.fault.details, { bitFlips: 4, packFiles: 2, checkOk: false, restoreError: '', repairRan: false, repairError: 'repair crashed' });
  });

  test('a repair that leaves no snapshot, and a fresh backup that fails', async () => {
    const o = await run({ check: failedCheck, repair: { ran: true, actions: ['forget: all'] }, keptAfterRepair: [], backups: [{}, { fail: 'repository damaged' }] }).outcome;
    assert.equal(
      o.fault.description,
      'flipped 4 bit(s) in 2 pack files; check detected it; restore still returned intact data; repaired (forget) in 0.0 s: 0 of 4 files recovered (no snapshot left after the repair); a fresh backup failed: repository damaged',
    );
    assert.deepEqual(
      [o.fault.details.filesRecovered, o.fault.details.recoveredShare, o.fault.details.freshBackup, o.fault.details.restoreAfterRepair, o.fault.details.repairCheckOk],
      [0, 0, 'failed: repository damaged', 'no snapshot left after the repair', false],
    );
  });

  test('after the repair, snapshots failing counts as none left; a failing restore of what it kept is said', async () => {
    const noList = await run({ check: failedCheck, repair: { ran: true, actions: ['a'] }, snapshotsFailAfterRepair: true }).outcome;
    assert.equal(noList.fault.details.restoreAfterRepair, 'no snapshot left after the repair');
    const long = 'y'.repeat(200);
    const broken = await run({ check: failedCheck, repair: { ran: true, actions: ['a'] }, restores: [{}, { fail: long }] }).outcome;
    assert.equal(broken.fault.details.restoreAfterRepair, long);
    assert.match(broken.fault.description, new RegExp(`0 of 4 files recovered \\(${'y'.repeat(160)}\\); a fresh backup succeeded$`));
  });

  test('an empty workload: 0 of 0 files recovered, a share of 0', async () => {
    const t = trial({}, { check: failedCheck, repair: { ran: true, actions: ['a'] } });
    t.source.clear();
    t.ctx.seeded = manifestOf(new Map());
    const o = await runScenario(t.ctx, scenarioOf('cr', { kind: 'corrupt-repository' }));
    assert.deepEqual([o.fault.details.filesRecovered, o.fault.details.filesTotal, o.fault.details.recoveredShare], [0, 0, 0]);
    assert.match(o.fault.description, /: 0 of 0 files recovered; a fresh backup succeeded$/);
  });

  test('a fresh backup failing with a long message is cut to 160 characters in the description', async () => {
    const long = 'z'.repeat(200);
    const o = await run({ check: failedCheck, repair: { ran: true, actions: ['a'] }, backups: [{}, { fail: long }] }).outcome;
    assert.equal(o.fault.details.freshBackup, `failed: ${long}`);
    assert.ok(o.fault.description.endsWith(`; a fresh backup ${`failed: ${long}`.slice(0, 160)}`), o.fault.description);
  });
});

describe('I/O faults without faultfs', () => {
  test('io-error: nothing injected, the follow-through still recovers, checks and restores a clean backup', async () => {
    const { tool, ctx } = trial({}, {});
    const o = await runScenario(ctx, scenarioOf('io', { kind: 'io-error' }));
    const why = 'faultfs is wired for copy, restic and kopia, not velero-fs';
    assert.equal(o.status, 'not-injected');
    assert.equal(o.error, `the io-error fault was not injected (no I/O error injected: ${why}): this trial measured nothing about recovery from it`);
    assert.deepEqual(o.fault, {
      kind: 'io-error',
      injected: false,
      description: `no I/O error injected: ${why}`,
      details: { target: 'source', count: 0, mechanism: 'none', mechanismNote: `faultfs not used: ${why}`, restored: 'clean-backup', recoveryActions: UNLOCK },
      detected: false,
      recoveryMs: undefined,
    });
    assert.equal(o.rtoMs, undefined);
    assert.deepEqual(o.check, { ran: true, ok: true, output: 'no errors were found' });
    assert.deepEqual(tool.calls, ['recover', 'check', 'backup 1 of t1-source', 'restore 1 of snap-1 into t1-restore-0']);
  });

  test('disk-full on a local copy trial without a work directory: no local directory for the fault', async () => {
    const { ctx } = trial({}, { type: 'copy', recover: { staleLocks: 0, actions: [] } });
    const o = await runScenario(ctx, scenarioOf('df', { kind: 'disk-full' }));
    assert.equal(o.status, 'not-injected');
    assert.equal(o.fault.description, 'no disk-full injected: no local directory for the fault');
    assert.deepEqual(o.fault.details, { mechanism: 'none', mechanismNote: 'faultfs not used: no local directory for the fault', restored: 'clean-backup' });
  });

  test('slow-disk on Kubernetes: no latency injected, and no RTO figure at all', async () => {
    const { ctx } = trial({ kind: 'kubernetes' });
    const o = await runScenario(ctx, scenarioOf('sd', { kind: 'slow-disk' }));
    const why = 'faultfs works on the local platform only, this trial runs on kubernetes';
    assert.equal(o.status, 'not-injected');
    assert.equal(o.fault.description, `no latency injected: ${why}`);
    assert.deepEqual(o.fault.details, { target: 'source', delayMs: 2, addedMs: 0, mechanism: 'none', mechanismNote: `faultfs not used: ${why}`, restored: 'clean-backup' });
    assert.equal(o.fault.detected, false);
    assert.equal('rtoMs' in o, false);
  });
});

describe('I/O faults through faultfs', () => {
  const stats = (over: Record<string, unknown> = {}) => ({ bytes: 3072, ops: 5, failed: 7, delayed: 0, struck: true, ...over });
  const strikeAt = (byte: number, op = 'read') => ({ action: 'eio', op, byte, opBytes: 10, path: LOG0, callerPid: 4242 });
  const ioTrial = (toolOpts: FakeToolOptions, platformOpts: FakePlatformOptions = {}) =>
    trial({ verifyMs: 30, dir: '/fake/work', ...platformOpts }, { type: 'copy', recoverMs: 700, ...toolOpts }, sourceDir);

  test('io-error on the source: the backup failed loudly, recovery and a clean backup restore intact; RTO from the strike', async () => {
    const { tool, ctx } = ioTrial({ backups: [{ ms: 800, fail: 'read proxy-0/x: input/output error\ngo stack' }, { ms: 1000 }], recover: { staleLocks: 1, actions: [UNLOCK, 'prune: 2 packs'] } });
    const o = await withFaultfs(faultfsReport(strikeAt(3072), stats()), () => runScenario(ctx, scenarioOf('io', { kind: 'io-error', at: 0.3 })));
    // Struck at 0 (reported when the layer came up); the backup failed at 800; recover 700, backup 1000, restore 400, verify 30.
    assert.equal(o.status, 'passed');
    assert.equal(o.error, undefined);
    assert.equal(o.rtoMs, 2930);
    assert.equal(o.backup?.wallMs, 1000, 'the clean backup');
    assert.equal(o.restore?.wallMs, 400);
    assert.deepEqual(o.fault, {
      kind: 'io-error',
      injected: true,
      description:
        'EIO on the reads of the source at byte 3,072 of 10,000 read (30.7%) (every operation from then on): the backup failed (read proxy-0/x: input/output error); after recovery a clean backup restored intact; repository check passed',
      details: {
        target: 'source',
        count: 0,
        mechanism: 'faultfs',
        site: 'source',
        op: 'read',
        requestedByte: 3000,
        totalBytes: 10000,
        struckAtByte: 3072,
        struckAtShare: 0.3072,
        struckFile: LOG0,
        layerBytes: 3072,
        layerOps: 5,
        failedOps: 7,
        delayedOps: 0,
        faultedBackup: 'failed: read proxy-0/x: input/output error',
        faultedBackupWallMs: 800,
        restored: 'clean-backup',
        recoveryActions: `${UNLOCK}; prune: 2 packs`,
      },
      detected: true,
      recoveryMs: 2930,
    });
    assert.deepEqual(tool.calls, ['backup 1 of t1-source (hooked)', 'recover', 'check', 'backup 2 of t1-source', 'restore 1 of snap-2 into t1-restore-0']);
    assert.match(ctx.logs[0]!, /^faultfs \(pid \d+\) over .*t1-source: eio at read byte 3000 of 10000$/);
    assert.equal(faultfsArgs(), `-dir ${sourceDir} -op read -action eio -at-byte 3000 -count 0`);
  });

  test('io-error on the repository writes, completed through it with damaged data: failed, its own snapshot restored', async () => {
    const { tool, ctx } = ioTrial({ backups: [{ ms: 900 }], restores: [{ alter: [STATS] }] });
    const o = await withFaultfs(faultfsReport(strikeAt(2048, 'write'), stats()), () => runScenario(ctx, scenarioOf('io', { kind: 'io-error', target: 'repository', at: 0.2, count: 2 })));
    assert.equal(o.status, 'failed');
    assert.equal(o.error, `the backup completed through the fault and stored damaged data: integrity loss after restore: 1 mismatched of 4 files (${STATS})`);
    assert.equal(
      o.fault.description,
      'EIO on the writes into the repository at byte 2,048 of 10,000 written (20.5%) (2 operation(s)): the backup completed anyway; its snapshot restored DAMAGED',
    );
    assert.deepEqual(
      [o.fault.details.site, o.fault.details.op, o.fault.details.requestedByte, o.fault.details.faultedBackup, o.fault.details.faultedBackupWallMs, o.fault.details.restored, o.fault.detected],
      ['repository', 'write', 2000, 'completed', 900, 'faulted-backup', false],
    );
    assert.equal('recoveryActions' in o.fault.details, false);
    assert.equal(o.rtoMs, undefined);
    assert.equal(o.check, undefined);
    assert.equal(o.backup?.wallMs, 900);
    assert.deepEqual(tool.calls, ['backup 1 of t1-source (hooked)', 'restore 1 of snap-1 into t1-restore-0']);
    assert.match(ctx.logs[0]!, /^faultfs \(pid \d+\) over \/fake\/work\/repos\/fake: eio at write byte 2000 of 10000$/);
    assert.equal(faultfsArgs(), '-dir /fake/work/repos/fake -op write -action eio -at-byte 2000 -count 2');
  });

  test('io-error completed through the fault with its snapshot intact: passed, detected false', async () => {
    const { ctx } = ioTrial({});
    const o = await withFaultfs(faultfsReport(strikeAt(3000), stats()), () => runScenario(ctx, scenarioOf('io', { kind: 'io-error', at: 0.3 })));
    assert.equal(o.status, 'passed');
    assert.match(o.fault.description, /: the backup completed anyway; its snapshot restored intact$/);
    assert.equal(o.fault.detected, false);
  });

  test('io-error never reached: not injected; a damaged restore without a strike is plain integrity loss', async () => {
    const clean = ioTrial({});
    const o = await withFaultfs(faultfsReport(undefined, stats({ struck: false })), () => runScenario(clean.ctx, scenarioOf('io', { kind: 'io-error', at: 0.3 })));
    assert.equal(o.status, 'not-injected');
    assert.equal(o.fault.description, "the backup's reads of the source never reached byte 3000: no I/O error injected; the backup completed anyway");
    assert.equal('struckAtByte' in o.fault.details, false);
    const damaged = ioTrial({ restores: [{ lose: [CONFIG] }] });
    const d = await withFaultfs(faultfsReport(undefined, stats({ struck: false })), () => runScenario(damaged.ctx, scenarioOf('io', { kind: 'io-error', at: 0.3 })));
    assert.equal(d.status, 'failed');
    assert.equal(d.error, `integrity loss after restore: 1 missing of 4 files (${CONFIG})`);
  });

  test('io-error, then a failed repository check: failed with the check\'s first line; a check that did not run is not said', async () => {
    const check = { ran: true, ok: false, output: `error: ${'c'.repeat(250)}\nmore` };
    const failing = ioTrial({ backups: [{ fail: 'EIO' }], check });
    const o = await withFaultfs(faultfsReport(strikeAt(3000), stats()), () => runScenario(failing.ctx, scenarioOf('io', { kind: 'io-error', at: 0.3 })));
    assert.equal(o.status, 'failed');
    assert.equal(o.error, `the repository check failed after the fault: ${`error: ${'c'.repeat(250)}`.slice(0, 200)}`, 'its first line, cut to 200 characters');
    assert.match(o.fault.description, /: the backup failed \(EIO\); after recovery a clean backup restored intact; repository check FAILED$/);
    const unchecked = ioTrial({ backups: [{ fail: 'EIO' }], check: { ran: false, ok: false, output: '' } });
    const u = await withFaultfs(faultfsReport(strikeAt(3000), stats()), () => runScenario(unchecked.ctx, scenarioOf('io', { kind: 'io-error', at: 0.3 })));
    assert.equal(u.status, 'passed');
    assert.match(u.fault.description, /; after recovery a clean backup restored intact$/);
    const lost = ioTrial({ backups: [{ fail: 'EIO' }], check, restores: [{ lose: [STATS] }] });
    const l = await withFaultfs(faultfsReport(strikeAt(3000), stats()), () => runScenario(lost.ctx, scenarioOf('io', { kind: 'io-error', at: 0.3 })));
    assert.equal(l.error, `integrity loss after restore: 1 missing of 4 files (${STATS})`, 'the data loss comes before the check');
    assert.match(l.fault.description, /after recovery a clean backup restored DAMAGED; repository check FAILED$/);
  });

  test('a faulted backup that throws a non-tool error is the trial\'s exception', async () => {
    const { ctx } = ioTrial({ backups: [{ throws: 'bug in the tool wrapper' }] });
    await assert.rejects(withFaultfs(faultfsReport(undefined, stats()), () => runScenario(ctx, scenarioOf('io', { kind: 'io-error' }))), /^Error: bug in the tool wrapper$/);
  });

  test('a long tool error is cut to its first line and 300 characters', async () => {
    const { ctx } = ioTrial({ backups: [{ fail: `${'e'.repeat(400)}\nsecond` }] });
    const o = await withFaultfs(faultfsReport(strikeAt(3000), stats()), () => runScenario(ctx, scenarioOf('io', { kind: 'io-error' })));
    assert.equal(o.fault.details.faultedBackup, `failed: ${'e'.repeat(300)}`);
  });

  test('disk-full: the backup failed with ENOSPC, the check passed, with space back a clean backup restored intact', async () => {
    const { ctx } = ioTrial({ backups: [{ ms: 500, fail: 'write: no space left on device' }], recover: { staleLocks: 1, actions: [UNLOCK, 'prune: 2 packs'] } });
    const o = await withFaultfs(faultfsReport({ ...strikeAt(2000, 'write'), action: 'enospc' }, stats()), () => runScenario(ctx, scenarioOf('df', { kind: 'disk-full', at: 0.2 })));
    assert.equal(o.status, 'passed');
    assert.equal(o.rtoMs, 2630);
    assert.deepEqual(o.fault, {
      kind: 'disk-full',
      injected: true,
      description:
        'ENOSPC on the repository past byte 2,000 of 10,000 written (20.0%): the backup failed (write: no space left on device); repository check after the fault passed; with space back, a clean backup restored intact',
      details: {
        mechanism: 'faultfs',
        site: 'repository',
        op: 'write',
        requestedByte: 2000,
        totalBytes: 10000,
        struckAtByte: 2000,
        struckAtShare: 0.2,
        struckFile: LOG0,
        layerBytes: 3072,
        layerOps: 5,
        failedOps: 7,
        delayedOps: 0,
        faultedBackup: 'failed: write: no space left on device',
        faultedBackupWallMs: 500,
        restored: 'clean-backup',
        recoveryActions: `${UNLOCK}; prune: 2 packs`,
      },
      detected: true,
      recoveryMs: 2630,
    });
    assert.equal(faultfsArgs(), '-dir /fake/work/repos/fake -op write -action enospc -at-byte 2000');
  });

  test('disk-full: a failed check fails the trial; a check that did not run is not said; a damaged clean restore', async () => {
    const failed = ioTrial({ backups: [{ fail: 'ENOSPC' }], check: { ran: true, ok: false, output: 'index damaged' } });
    const f = await withFaultfs(faultfsReport(strikeAt(2000, 'write'), stats()), () => runScenario(failed.ctx, scenarioOf('df', { kind: 'disk-full' })));
    assert.equal(f.status, 'failed');
    assert.match(f.fault.description, /: the backup failed \(ENOSPC\); repository check after the fault FAILED; with space back, a clean backup restored intact$/);
    const unchecked = ioTrial({ backups: [{ fail: 'ENOSPC' }], check: { ran: false, ok: false, output: '' }, restores: [{ lose: [STATS] }] });
    const u = await withFaultfs(faultfsReport(strikeAt(2000, 'write'), stats()), () => runScenario(unchecked.ctx, scenarioOf('df', { kind: 'disk-full' })));
    assert.match(u.fault.description, /: the backup failed \(ENOSPC\); with space back, a clean backup restored DAMAGED$/);
  });

  test('disk-full: completed through it, its snapshot restored (intact, then damaged); never filled: not injected', async () => {
    const through = ioTrial({});
    const t = await withFaultfs(faultfsReport(strikeAt(2000, 'write'), stats()), () => runScenario(through.ctx, scenarioOf('df', { kind: 'disk-full' })));
    assert.equal(t.status, 'passed');
    assert.match(t.fault.description, /: the backup completed anyway; its snapshot restored intact$/);
    assert.equal(t.fault.detected, false);
    const damaged = ioTrial({ restores: [{ alter: [STATS] }] });
    const d = await withFaultfs(faultfsReport(strikeAt(2000, 'write'), stats()), () => runScenario(damaged.ctx, scenarioOf('df', { kind: 'disk-full' })));
    assert.match(d.fault.description, /: the backup completed anyway; its snapshot restored DAMAGED$/);
    const never = ioTrial({});
    const n = await withFaultfs(faultfsReport(undefined, stats()), () => runScenario(never.ctx, scenarioOf('df', { kind: 'disk-full' })));
    assert.equal(n.status, 'not-injected');
    assert.equal(n.fault.description, 'the backup wrote less than 2000 bytes into the repository: the disk never filled; the backup completed anyway');
    const neverFailed = ioTrial({ backups: [{ fail: 'other' }] });
    const nf = await withFaultfs(faultfsReport(undefined, stats()), () => runScenario(neverFailed.ctx, scenarioOf('df', { kind: 'disk-full' })));
    assert.equal(nf.fault.description, 'the backup wrote less than 2000 bytes into the repository: the disk never filled; the backup failed (other)');
    assert.equal(nf.rtoMs, undefined, 'no strike, no recovery time');
  });

  test('slow-disk on the source: the delayed reads counted, the time they added, the backup\'s wall time; no RTO', async () => {
    const { ctx } = ioTrial({});
    const report = `${faultfsReport(undefined, stats({ delayed: 51, struck: false }))}\n{"event":"note","bytes":1}`;
    const o = await withFaultfs(report, () => runScenario(ctx, scenarioOf('sd', { kind: 'slow-disk', delayMs: 2.5 })));
    assert.equal(o.status, 'passed');
    assert.equal('rtoMs' in o, false);
    assert.deepEqual(o.fault, {
      kind: 'slow-disk',
      injected: true,
      description: '+2.5 ms on each of 51 reads of the source (128 ms added in all): the backup completed in 1000 ms; restored intact',
      details: {
        target: 'source',
        delayMs: 2.5,
        addedMs: 128,
        mechanism: 'faultfs',
        site: 'source',
        op: 'read',
        requestedByte: 0,
        totalBytes: 10000,
        layerBytes: 3072,
        layerOps: 5,
        failedOps: 7,
        delayedOps: 51,
        faultedBackup: 'completed',
        faultedBackupWallMs: 1000,
        restored: 'faulted-backup',
      },
      detected: false,
    });
    assert.match(ctx.logs[0]!, / delay at read byte 0 of 10000$/);
    assert.equal(faultfsArgs(), `-dir ${sourceDir} -op read -action delay -at-byte 0 -delay-ms 2.5`);
  });

  test('slow-disk on the repository with nothing delayed: not injected; a failed backup and a damaged restore said', async () => {
    const { ctx } = ioTrial({ backups: [{ ms: 500, fail: 'timeout' }], restores: [{ lose: [STATS] }] });
    const o = await withFaultfs(faultfsReport(undefined, stats()), () => runScenario(ctx, scenarioOf('sd', { kind: 'slow-disk', target: 'repository', delayMs: 5 })));
    assert.equal(o.status, 'failed');
    assert.equal(o.fault.injected, false);
    assert.equal(o.fault.description, '+5 ms on each of 0 writes into the repository (0 ms added in all): the backup failed (timeout) in 500 ms; restored DAMAGED');
    assert.equal(o.fault.details.restored, 'clean-backup');
  });

  test('slow-disk whose layer gave no account: nothing delayed, not injected', async () => {
    const { ctx } = ioTrial({});
    const o = await withFaultfs('\n{"event":"ready"}', () => runScenario(ctx, scenarioOf('sd', { kind: 'slow-disk' })));
    assert.equal(o.fault.details.mechanism, 'faultfs', 'a blank line before ready is skipped');
    assert.equal(o.status, 'not-injected');
    assert.equal(o.fault.details.addedMs, 0);
    assert.equal('layerOps' in o.fault.details, false);
  });
});

describe('byte-point and io-fault helpers', () => {
  test('describeStrike: thousands separated, the share to a tenth, read or written; no share of nothing', () => {
    assert.equal(describeStrike({ op: 'read', totalBytes: 5_242_880 }, 1_048_576), 'byte 1,048,576 of 5,242,880 read (20.0%)');
    assert.equal(describeStrike({ op: 'write', totalBytes: 0 }, 12), 'byte 12 of 0 written');
  });

  test('siteDir: the source, the folder beside it for restores, the tool\'s repository under the work directory', () => {
    const local = trial({ dir: '/w' }, {}, '/w/volumes/t1');
    assert.equal(siteDir(local.ctx, 'source'), '/w/volumes/t1');
    assert.equal(siteDir(local.ctx, 'restore'), '/w/volumes');
    assert.equal(siteDir(local.ctx, 'repository'), '/w/repos/fake');
    assert.equal(siteDir(trial({}).ctx, 'repository'), undefined, 'no work directory');
    assert.equal(siteDir(trial({ kind: 'kubernetes', dir: '/w' }).ctx, 'source'), undefined);
  });

  test('byteFaultUnavailable: the platform, then the tool, then the directory, then faultfs itself', async () => {
    assert.equal(byteFaultUnavailable(trial({ kind: 'kubernetes' }, { type: 'copy' }).ctx, 'source'), 'faultfs works on the local platform only, this trial runs on kubernetes');
    assert.equal(byteFaultUnavailable(trial({}, { type: 'velero-fs' }).ctx, 'source'), 'faultfs is wired for copy, restic and kopia, not velero-fs');
    assert.equal(byteFaultUnavailable(trial({}, { type: 'restic' }).ctx, 'repository'), 'no local directory for the fault');
    assert.equal(byteFaultUnavailable(trial({}, { type: 'kopia' }).ctx, 'source'), noFaultfs);
    await withFaultfs('', async () => assert.equal(byteFaultUnavailable(trial({}, { type: 'copy' }).ctx, 'restore'), undefined));
  });

  test('faultfsBinary and faultfsUnavailable: $PVBENCH_FAULTFS when it is executable, else pvbench-faultfs on $PATH', () => {
    const bin = join(tmp, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'pvbench-faultfs'), '#!/bin/sh\n', { mode: 0o755 });
    assert.equal(faultfsBinary({ PVBENCH_FAULTFS: fakeFaultfs }), fakeFaultfs);
    assert.equal(faultfsBinary({ PVBENCH_FAULTFS: NO_BINARY, PATH: bin }), undefined, 'a $PVBENCH_FAULTFS that is not there is not looked past');
    assert.equal(faultfsBinary({ PATH: `/nonexistent:${bin}` }), join(bin, 'pvbench-faultfs'));
    assert.equal(faultfsUnavailable({ PVBENCH_FAULTFS: fakeFaultfs }), undefined);
    if (existsSync('/dev/fuse')) {
      const missing = 'the faultfs binary is not built (scripts/setup.sh builds it where Go is available; or set PVBENCH_FAULTFS)';
      assert.equal(faultfsUnavailable({ PVBENCH_FAULTFS: NO_BINARY }), missing);
      assert.equal(noFaultfs, missing);
    }
  });

  test('layerDetails: without a layer, the reason (or unknown); a strike over no bytes has share 0', () => {
    assert.deepEqual(layerDetails({ wallMs: 0 }), { mechanism: 'none', mechanismNote: 'faultfs not used: unknown' });
    const lb = {
      layer: { site: 'source', op: 'read', atByte: 0, totalBytes: 0 },
      strike: { byte: 5, path: 'p' },
      toolError: 'EIO',
      wallMs: 12,
    } as unknown as LayeredBackup;
    assert.deepEqual(layerDetails(lb), {
      mechanism: 'faultfs',
      site: 'source',
      op: 'read',
      requestedByte: 0,
      totalBytes: 0,
      struckAtByte: 5,
      struckAtShare: 0,
      struckFile: 'p',
      faultedBackup: 'failed: EIO',
      faultedBackupWallMs: 12,
    });
    assert.equal(layerDetails({ ...lb, toolError: undefined }).faultedBackup, 'failed: ');
  });

  test('measured: the follow-through\'s figures, with or without the RTO key', () => {
    const after: FollowThrough = { status: 'failed', error: 'e', recoveryMs: 42, restored: 'clean-backup', actions: ['a'] };
    const all = { status: 'failed', error: 'e', backup: undefined, restore: undefined, integrity: undefined, check: undefined };
    assert.deepEqual(measured(after), { ...all, rtoMs: 42 });
    assert.deepEqual(measured(after, false), all);
    assert.equal('rtoMs' in measured(after, false), false);
  });

  test('recoveryPoint: writes after the outage never count; a write exactly at the restored size is present', () => {
    const journal = [
      { t: 100, path: 'a', end: 10 },
      { t: 200, path: 'b', end: 5 },
      { t: 300, path: 'a', end: 20 },
      { t: 400, path: 'a', end: 30 },
    ];
    assert.deepEqual(recoveryPoint(journal, new Map([['a', 20], ['b', 4]]), 350, 50), { rpoMs: 50, acknowledged: 3, present: 2, lost: 1 });
    assert.deepEqual(recoveryPoint(journal, new Map(), 300, 50), { rpoMs: 250, acknowledged: 3, present: 0, lost: 3 });
    assert.deepEqual(recoveryPoint([], new Map(), 40, 50), { rpoMs: 0, acknowledged: 0, present: 0, lost: 0 });
    // A write at the outage instant counts; the newest present write is the latest in time, not the last listed.
    const unordered = [
      { t: 300, path: 'a', end: 1 },
      { t: 100, path: 'a', end: 1 },
      { t: 350, path: 'b', end: 1 },
    ];
    assert.deepEqual(recoveryPoint(unordered, new Map([['a', 1]]), 350, 0), { rpoMs: 50, acknowledged: 3, present: 2, lost: 1 });
    assert.deepEqual(recoveryPoint(unordered, new Map([['a', 1], ['b', 1]]), 350, 0), { rpoMs: 0, acknowledged: 3, present: 3, lost: 0 });
  });

  test('the fake world itself: manifests in path order with sizes', () => {
    const m = manifestOf(seededFiles());
    assert.deepEqual(m.files.map((f) => [f.path, f.size]), [[CONFIG, 13], [LOG0, 7], ['proxy-1/logs/access.log', 7], [STATS, 12]]);
    assert.equal(m.bytes, 39);
  });
});
