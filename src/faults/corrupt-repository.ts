// Corrupted backup repository: after a backup, flip bits in the tool's stored data. Does the tool's own check
// detect it, and does a restore fail loudly rather than hand back wrong data? Silent corruption fails the trial.
import type { FaultConfig, ScenarioConfig } from '../config/schema.ts';
import type { IntegrityResult, PhaseMetrics } from '../suite/results.ts';
import { integrityError, restoreInto } from './context.ts';
import type { ScenarioOutcome, TrialContext } from './context.ts';

type CorruptRepositoryConfig = Extract<FaultConfig, { kind: 'corrupt-repository' }>;

export async function runCorruptRepository(ctx: TrialContext, _scenario: ScenarioConfig, fault: CorruptRepositoryConfig): Promise<ScenarioOutcome> {
  const b = await ctx.tool.backup(ctx.volumes);
  const done = await ctx.tool.corruptRepository(fault.bitFlips, ctx.random);
  const check = await ctx.tool.check();
  let restore: PhaseMetrics | undefined;
  let integrity: IntegrityResult | undefined;
  let restoreError: string | undefined;
  try {
    const r = await restoreInto(ctx, b.snapshotId);
    restore = r.restore;
    integrity = await ctx.platform.verify(r.target, ctx.seeded);
  } catch (err) {
    restoreError = err instanceof Error ? err.message : String(err);
  }
  const checkDetected = !check.ok;
  const restoreDetected = restoreError !== undefined;
  const dataIntact = integrity?.ok === true;
  const silent = !checkDetected && !restoreDetected && !dataIntact;
  const outcome = checkDetected
    ? `check detected it${restoreDetected ? '; restore refused' : dataIntact ? '; restore still returned intact data' : '; restore returned damaged data'}`
    : restoreDetected
      ? 'check passed; restore failed loudly'
      : dataIntact
        ? 'check passed and restored data was intact (the flipped bits hit nothing the restore reads)'
        : 'SILENT CORRUPTION: check passed and restore returned damaged data';
  return {
    status: silent ? 'failed' : 'passed',
    error: silent && integrity ? `silent corruption: ${integrityError(integrity)}` : undefined,
    backup: b.metrics,
    restore,
    integrity,
    check,
    fault: {
      kind: 'corrupt-repository',
      injected: true,
      description: `${done.description}; ${outcome}`,
      details: { ...done.details, checkOk: check.ok, restoreError: restoreError ?? '' },
      detected: checkDetected || restoreDetected,
    },
  };
}
