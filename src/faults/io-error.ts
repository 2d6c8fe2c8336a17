// I/O error: EIO from an exact byte on, on the reads of the source during a backup (a failing disk under the
// volumes) or on the writes into the repository (a failing backup disk). Did the tool fail loudly, or complete? Is
// the data restored intact afterwards? A backup that completes through the error and restores damaged data fails.
import type { FaultConfig, ScenarioConfig } from '../config/schema.ts';
import type { ScenarioOutcome, TrialContext } from './context.ts';
import { describeStrike } from './byte-point.ts';
import { backupThroughLayer, followThrough, layerDetails, measured } from './io-fault.ts';

type IoErrorConfig = Extract<FaultConfig, { kind: 'io-error' }>;

export async function runIoError(ctx: TrialContext, _scenario: ScenarioConfig, fault: IoErrorConfig): Promise<ScenarioOutcome> {
  const lb = await backupThroughLayer(ctx, { site: fault.target, action: 'eio', fraction: fault.at, count: fault.count });
  const after = await followThrough(ctx, lb);
  const injected = lb.strike !== undefined;
  const ops = fault.target === 'source' ? 'reads of the source' : 'writes into the repository';
  const how = fault.count === 0 ? 'every operation from then on' : `${fault.count} operation(s)`;
  const toolDid = lb.result ? 'the backup completed anyway' : `the backup failed (${lb.toolError})`;
  const then =
    after.restored === 'faulted-backup'
      ? `its snapshot restored ${after.integrity!.ok ? 'intact' : 'DAMAGED'}`
      : `after recovery a clean backup restored ${after.integrity!.ok ? 'intact' : 'DAMAGED'}${after.check!.ran ? `; repository check ${after.check!.ok ? 'passed' : 'FAILED'}` : ''}`;
  return {
    ...measured(after),
    fault: {
      kind: 'io-error',
      injected,
      description: !lb.layer
        ? `no I/O error injected: ${lb.unavailable}`
        : !injected
          ? `the backup's ${ops} never reached byte ${lb.layer.atByte}: no I/O error injected; ${toolDid}`
          : `EIO on the ${ops} at ${describeStrike(lb.layer, lb.strike!.byte)} (${how}): ${toolDid}; ${then}`,
      details: { target: fault.target, count: fault.count, ...layerDetails(lb), restored: after.restored, ...(after.actions.length ? { recoveryActions: after.actions.join('; ') } : {}) },
      detected: injected && lb.result === undefined,
      recoveryMs: after.recoveryMs,
    },
  };
}
