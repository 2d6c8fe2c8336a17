// What the I/O faults (io-error, disk-full, slow-disk) share: one backup through a faultfs layer over the source or
// the repository, then the follow-through every fault gets here: what the tool did (failed, with what error, or
// completed), and whether the data comes back intact: the faulted backup's own snapshot when it completed (a tool
// that swallowed the error and stored damaged data fails the trial), else a recovery, a repository check and a
// clean backup, restored and verified.
import type { IntegrityResult, PhaseMetrics, RepositoryCheck, TrialStatus } from '../suite/results.ts';
import type { BackupOutcome } from '../tools/types.ts';
import { ToolError } from '../tools/types.ts';
import { integrityError, integrityStatus, restoreInto } from './context.ts';
import type { TrialContext } from './context.ts';
import { armByteFault, byteFaultUnavailable } from './byte-point.ts';
import type { ByteFault, ByteFaultPlan } from './byte-point.ts';
import type { FaultfsStats, FaultfsStrike } from './faultfs.ts';

export interface LayeredBackup {
  /** Why faultfs could not be used: nothing was injected. */
  unavailable?: string;
  layer?: ByteFault;
  strike?: FaultfsStrike;
  stats?: FaultfsStats;
  /** The faulted backup, when it completed. */
  result?: BackupOutcome;
  /** Its error, when it failed (the first line of the tool's message). */
  toolError?: string;
  wallMs: number;
}

/** One backup of the trial's volumes through a faultfs layer; a tool failure is an outcome, not an exception. */
export async function backupThroughLayer(ctx: TrialContext, plan: ByteFaultPlan): Promise<LayeredBackup> {
  const unavailable = byteFaultUnavailable(ctx, plan.site);
  if (unavailable) return { unavailable, wallMs: 0 };
  const layer = await armByteFault(ctx, plan);
  const started = Date.now();
  let result: BackupOutcome | undefined;
  let toolError: string | undefined;
  try {
    result = await ctx.tool.backup(ctx.volumes, layer.hooks);
  } catch (err) {
    if (!(err instanceof ToolError)) {
      await layer.finish();
      throw err;
    }
    toolError = err.message.split('\n')[0]!.slice(0, 300);
  }
  const wallMs = Date.now() - started;
  const { strike, stats } = await layer.finish();
  return { layer, strike, stats, result, toolError, wallMs };
}

export interface FollowThrough {
  status: TrialStatus;
  error?: string;
  backup?: PhaseMetrics;
  restore?: PhaseMetrics;
  integrity?: IntegrityResult;
  check?: RepositoryCheck;
  recoveryMs?: number;
  /** What was restored: the faulted backup's snapshot, or a clean backup's after recovery. */
  restored: 'faulted-backup' | 'clean-backup';
  actions: string[];
}

/** Restore and verify after a layered backup (see the file's head). */
export async function followThrough(ctx: TrialContext, lb: LayeredBackup): Promise<FollowThrough> {
  if (lb.result) {
    const { target, restore } = await restoreInto(ctx, lb.result.snapshotId);
    const integrity = await ctx.platform.verify(target, ctx.seeded);
    const silent = !integrity.ok && lb.strike !== undefined;
    return {
      status: integrityStatus(integrity),
      error: integrity.ok ? undefined : `${silent ? 'the backup completed through the fault and stored damaged data: ' : ''}${integrityError(integrity)}`,
      backup: lb.result.metrics,
      restore,
      integrity,
      restored: 'faulted-backup',
      actions: [],
    };
  }
  const rec = await ctx.tool.recover();
  const check = await ctx.tool.check();
  const clean = await ctx.tool.backup(ctx.volumes);
  const { target, restore } = await restoreInto(ctx, clean.snapshotId);
  const integrity = await ctx.platform.verify(target, ctx.seeded);
  const recoveryMs = lb.strike ? Date.now() - lb.strike.at : undefined;
  const status: TrialStatus = !integrity.ok ? 'failed' : check.ran && !check.ok ? 'failed' : 'passed';
  const error = !integrity.ok ? integrityError(integrity) : check.ran && !check.ok ? `the repository check failed after the fault: ${check.output.split('\n')[0]!.slice(0, 200)}` : undefined;
  return { status, error, backup: clean.metrics, restore, integrity, check, recoveryMs, restored: 'clean-backup', actions: rec.actions };
}

/** The trial's figures after the follow-through, as every I/O fault reports them (its own fault record beside). */
export function measured(after: FollowThrough, withRto = true) {
  return {
    status: after.status,
    error: after.error,
    backup: after.backup,
    restore: after.restore,
    integrity: after.integrity,
    check: after.check,
    ...(withRto ? { rtoMs: after.recoveryMs } : {}),
  };
}

/** The details every I/O fault records about its layer and strike. */
export function layerDetails(lb: LayeredBackup): Record<string, string | number | boolean> {
  if (!lb.layer) return { mechanism: 'none', mechanismNote: `faultfs not used: ${lb.unavailable ?? 'unknown'}` };
  const l = lb.layer;
  return {
    mechanism: 'faultfs',
    site: l.site,
    op: l.op,
    requestedByte: l.atByte,
    totalBytes: l.totalBytes,
    ...(lb.strike
      ? { struckAtByte: lb.strike.byte, struckAtShare: l.totalBytes > 0 ? Number((lb.strike.byte / l.totalBytes).toFixed(4)) : 0, struckFile: lb.strike.path }
      : {}),
    ...(lb.stats ? { layerBytes: lb.stats.bytes, layerOps: lb.stats.ops, failedOps: lb.stats.failed, delayedOps: lb.stats.delayed } : {}),
    faultedBackup: lb.result ? 'completed' : `failed: ${lb.toolError ?? ''}`,
    faultedBackupWallMs: lb.wallMs,
  };
}
