// Disk full: the repository's disk has room for a given share of the volume bytes, and every write past it fails with
// ENOSPC (a short write reaches the last free byte, as on a real file system). Did the backup fail loudly, is the
// repository still consistent (the tool's own check), and once space is back does a backup restore intact?
import type { FaultConfig, ScenarioConfig } from '../config/schema.ts';
import type { ScenarioOutcome, TrialContext } from './context.ts';
import { describeStrike } from './byte-point.ts';
import { backupThroughLayer, followThrough, layerDetails, measured } from './io-fault.ts';

type DiskFullConfig = Extract<FaultConfig, { kind: 'disk-full' }>;

export async function runDiskFull(ctx: TrialContext, _scenario: ScenarioConfig, fault: DiskFullConfig): Promise<ScenarioOutcome> {
  const lb = await backupThroughLayer(ctx, { site: 'repository', action: 'enospc', fraction: fault.at });
  const after = await followThrough(ctx, lb);
  const injected = lb.strike !== undefined;
  const toolDid = lb.result ? 'the backup completed anyway' : `the backup failed (${lb.toolError})`;
  const then =
    after.restored === 'faulted-backup'
      ? `its snapshot restored ${after.integrity!.ok ? 'intact' : 'DAMAGED'}`
      : `${after.check!.ran ? `repository check after the fault ${after.check!.ok ? 'passed' : 'FAILED'}; ` : ''}with space back, a clean backup restored ${after.integrity!.ok ? 'intact' : 'DAMAGED'}`;
  return {
    ...measured(after),
    fault: {
      kind: 'disk-full',
      injected,
      description: !lb.layer
        ? `no disk-full injected: ${lb.unavailable}`
        : !injected
          ? `the backup wrote less than ${lb.layer.atByte} bytes into the repository: the disk never filled; ${toolDid}`
          : `ENOSPC on the repository past ${describeStrike(lb.layer, lb.strike!.byte)}: ${toolDid}; ${then}`,
      details: { ...layerDetails(lb), restored: after.restored, ...(after.actions.length ? { recoveryActions: after.actions.join('; ') } : {}) },
      detected: injected && lb.result === undefined,
      recoveryMs: after.recoveryMs,
    },
  };
}
