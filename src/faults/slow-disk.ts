// Slow disk: latency added to every read of the source (or write into the repository) of one backup. What it
// measures is the backup's wall time under that latency, how many operations were slowed, and that the result
// still restores intact.
import type { FaultConfig, ScenarioConfig } from '../config/schema.ts';
import type { ScenarioOutcome, TrialContext } from './context.ts';
import { backupThroughLayer, followThrough, layerDetails, measured } from './io-fault.ts';

type SlowDiskConfig = Extract<FaultConfig, { kind: 'slow-disk' }>;

export async function runSlowDisk(ctx: TrialContext, _scenario: ScenarioConfig, fault: SlowDiskConfig): Promise<ScenarioOutcome> {
  const lb = await backupThroughLayer(ctx, { site: fault.target, action: 'delay', atByte: 0, delayMs: fault.delayMs });
  const after = await followThrough(ctx, lb);
  const delayed = lb.stats?.delayed ?? 0;
  const injected = delayed > 0;
  const ops = fault.target === 'source' ? 'reads of the source' : 'writes into the repository';
  return {
    ...measured(after, false),
    fault: {
      kind: 'slow-disk',
      injected,
      description: !lb.layer
        ? `no latency injected: ${lb.unavailable}`
        : `+${fault.delayMs} ms on each of ${delayed} ${ops} (${Math.round(delayed * fault.delayMs)} ms added in all): the backup ${lb.result ? 'completed' : `failed (${lb.toolError})`} in ${lb.wallMs} ms; restored ${after.integrity!.ok ? 'intact' : 'DAMAGED'}`,
      details: { target: fault.target, delayMs: fault.delayMs, addedMs: Math.round(delayed * fault.delayMs), ...layerDetails(lb), restored: after.restored },
      detected: false,
    },
  };
}
