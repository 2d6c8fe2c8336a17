// Faults that land exactly where asked: a crash through faultfs strikes within 5% of the requested byte on a tiny
// and on a larger workload, for cp, restic and kopia, 10 times out of 10; the crash scenario records where and how;
// without faultfs the crash falls back to the slice trigger and says so.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import type { ScenarioConfig, WorkloadConfig } from '../../src/config/schema.ts';
import { LocalPlatform } from '../../src/platform/local/platform.ts';
import { runScenario } from '../../src/suite/run.ts';
import type { ScenarioOutcome, TrialContext } from '../../src/faults/context.ts';
import { armCrash } from '../../src/faults/crash-arm.ts';
import { faultfsUnavailable } from '../../src/faults/faultfs.ts';
import type { BackupTool } from '../../src/tools/types.ts';
import { ToolError } from '../../src/tools/types.ts';
import { EXACT_WORKLOADS, installedLocalTools, localTrials, scenarioOf } from './harness.ts';

const { tiny, larger } = EXACT_WORKLOADS;
const seed = 42;
const why = faultfsUnavailable();
const tools = installedLocalTools();

const trials = localTrials('x');
let platform: LocalPlatform;
before(() => {
  platform = trials.platform();
});
const context = (tool: BackupTool, workload: WorkloadConfig): Promise<TrialContext> => trials.context(tool, workload, seed);
const drop = (ctx: TrialContext): Promise<void> => trials.drop(ctx);
const sc = (fault: unknown): ScenarioConfig => scenarioOf('f', fault);

/** faultfs mounts still up below the platform's folder, and faultfs processes that are children of this one. */
function leftovers(): { mounts: string[]; processes: number[] } {
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .filter((l) => l.includes('fuse.faultfs') && l.includes(platform.dir));
  const processes: number[] = [];
  for (const p of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('pvbench-faultfs')) processes.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return { mounts, processes };
}

if (why) test('faultfs crash tests', { skip: `faultfs is not available: ${why}` }, () => undefined);
else {
  for (const type of tools) {
    for (const [size, workload] of [
      ['tiny', tiny],
      ['larger', larger],
    ] as const) {
      test(`${type}, ${size} workload: a backup crash lands within 5% of the requested byte, 10 times out of 10`, async () => {
        const ctx = await context(platform.createTool({ type, options: {} }), workload);
        try {
          const landed: string[] = [];
          for (let i = 0; i < 10; i++) {
            const at = 0.05 + 0.09 * i; // 5% … 86%: the whole range, not one lucky point
            const arm = await armCrash(ctx, 'backup', at);
            const op = ctx.tool.backup(ctx.volumes, arm.hooks);
            await arm.done(op);
            const err = await op.then(
              () => undefined,
              (e: unknown) => e,
            );
            const d = arm.details();
            assert.equal(d.mechanism, 'faultfs');
            assert.equal(arm.fired(), true, `run ${i}: not struck (${JSON.stringify(d)})`);
            assert.ok(err instanceof ToolError && /killed by SIGKILL/.test(err.message), `run ${i}: the backup must die of the kill, got ${String(err)}`);
            const share = arm.killedAt()!;
            assert.ok(Math.abs(share - at) <= 0.05, `run ${i}: struck at ${share}, asked ${at}`);
            assert.equal(d.struckAtByte, d.requestedByte, `run ${i}: the cut lands on the requested byte`);
            assert.match(arm.killed()!, /^SIGKILL .* by faultfs at byte [\d,]+ of [\d,]+ read \(\d+\.\d%\)$/);
            landed.push(share.toFixed(3));
            await ctx.tool.recover();
          }
          assert.equal(landed.length, 10);
          assert.deepEqual(leftovers(), { mounts: [], processes: [] });
        } finally {
          await drop(ctx);
        }
      });
    }

    test(`${type}: crash scenario mid-restore through faultfs — exact byte in the details, retry restores intact`, async () => {
      const ctx = await context(platform.createTool({ type, options: {} }), tiny);
      let o: ScenarioOutcome;
      try {
        o = await runScenario(ctx, sc({ kind: 'crash', phase: 'restore', at: 0.4, retries: 2 }));
      } finally {
        await drop(ctx);
      }
      assert.equal(o.status, 'passed', o.error);
      assert.equal(o.fault.injected, true, o.fault.description);
      const d = o.fault.details;
      assert.equal(d.mechanism, 'faultfs');
      assert.equal(d.struckAtByte, d.requestedByte);
      assert.equal(d.struckAtShare, Number(((d.requestedByte as number) / (d.totalBytes as number)).toFixed(4)));
      assert.ok(Math.abs((d.struckAtShare as number) - 0.4) <= 0.001);
      assert.equal(d.killHow, 'told pid');
      assert.match(o.fault.description, / written \(40\.0%\) \(the restore\)/);
      assert.equal(o.restore?.attempts, 2);
      assert.equal(o.integrity?.ok, true);
    });
  }

  test('without faultfs the crash falls back to the slice trigger, and the details say why', async () => {
    const saved = process.env.PVBENCH_FAULTFS;
    process.env.PVBENCH_FAULTFS = '/nonexistent/pvbench-faultfs';
    const ctx = await context(platform.createTool({ type: 'copy', options: {} }), larger);
    try {
      const arm = await armCrash(ctx, 'backup', 0.3);
      const d = arm.details();
      assert.equal(d.mechanism, 'slice-trigger');
      assert.match(String(d.mechanismNote), /^faultfs not used: the faultfs binary is not built/);
      const op = ctx.tool.backup(ctx.volumes, arm.hooks);
      await arm.done(op);
      await op.catch(() => undefined);
    } finally {
      if (saved === undefined) delete process.env.PVBENCH_FAULTFS;
      else process.env.PVBENCH_FAULTFS = saved;
      await drop(ctx);
    }
  });
}
