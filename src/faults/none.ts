// No fault: full backup, optional churn and incremental backup, restore, verify.
import type { ScenarioConfig } from '../config/schema.ts';
import { judgeRestore, restoreInto } from './context.ts';
import type { ScenarioOutcome, TrialContext } from './context.ts';

export async function runNoFault(ctx: TrialContext, scenario: ScenarioConfig): Promise<ScenarioOutcome> {
  const full = await ctx.tool.backup(ctx.volumes);
  let expected = ctx.seeded;
  let latest = full.snapshotId;
  let incremental;
  if (scenario.incremental) {
    await ctx.platform.churn(ctx.volumes, ctx.workload, ctx.seed);
    expected = await ctx.platform.manifest(ctx.volumes);
    const inc = await ctx.tool.backup(ctx.volumes);
    incremental = inc.metrics;
    latest = inc.snapshotId;
  }
  const { target, restore } = await restoreInto(ctx, latest);
  const integrity = await ctx.platform.verify(target, expected);
  return {
    ...(await judgeRestore(ctx, integrity, expected)),
    backup: full.metrics,
    incremental,
    restore,
    integrity,
    fault: { kind: 'none', injected: false, description: scenario.incremental ? 'full backup, churn, incremental backup, restore' : 'full backup, restore', details: {} },
  };
}
