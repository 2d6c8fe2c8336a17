// Corrupted persistent volume: after a backup, flip bits in, truncate and delete files of the live volume; show
// that a manifest check detects the damage, restore from the backup and verify every file.
import type { FaultConfig, ScenarioConfig } from '../config/schema.ts';
import { integrityError, integrityStatus, restoreInto } from './context.ts';
import type { ScenarioOutcome, TrialContext } from './context.ts';

type CorruptVolumeConfig = Extract<FaultConfig, { kind: 'corrupt-volume' }>;

export async function runCorruptVolume(ctx: TrialContext, _scenario: ScenarioConfig, fault: CorruptVolumeConfig): Promise<ScenarioOutcome> {
  const b = await ctx.tool.backup(ctx.volumes);
  const done = await ctx.platform.corruptVolume(ctx.volumes, fault, ctx.random);
  const corruptedAt = Date.now();
  const damage = await ctx.platform.verify(ctx.volumes, ctx.seeded);
  const { target, restore } = await restoreInto(ctx, b.snapshotId);
  const integrity = await ctx.platform.verify(target, ctx.seeded);
  const rtoMs = Date.now() - corruptedAt;
  return {
    status: integrityStatus(integrity),
    error: integrityError(integrity),
    backup: b.metrics,
    restore,
    integrity,
    rtoMs,
    fault: {
      kind: 'corrupt-volume',
      injected: true,
      description: `${done.description}; the manifest check found ${damage.mismatched} mismatched and ${damage.missing} missing`,
      details: { ...done.details, foundMismatched: damage.mismatched, foundMissing: damage.missing },
      detected: !damage.ok,
      recoveryMs: rtoMs,
    },
  };
}
