// A fault at an exact byte of a local operation's I/O, through faultfs: where to mount it (the backup's source, the
// restore's target, the repository), how many bytes the point is into, and what it reported. One armed layer, one
// operation: the layer is unmounted as soon as that operation has ended.
import { dirname, join } from 'node:path';
import type { OpHooks } from '../tools/types.ts';
import { treeSize } from '../platform/local/fsutil.ts';
import { faultfsUnavailable, mountFaultfs } from './faultfs.ts';
import type { FaultfsAction, FaultfsMount, FaultfsStats, FaultfsStrike } from './faultfs.ts';
import type { TrialContext } from './context.ts';

/** source: the volumes a backup reads; restore: the folder restores write into; repository: the tool's repository. */
export type FaultSite = 'source' | 'restore' | 'repository';

export interface ByteFaultPlan {
  site: FaultSite;
  action: FaultfsAction;
  /** The point as a share of the volume bytes (source, restore), or in bytes (`atByte`, e.g. into the repository). */
  fraction?: number;
  atByte?: number;
  count?: number;
  delayMs?: number;
}

export interface ByteFault {
  mechanism: 'faultfs';
  site: FaultSite;
  dir: string;
  op: 'read' | 'write';
  /** Volume bytes (the data the operation moves): the reference of the share struck. */
  totalBytes: number;
  atByte: number;
  hooks: OpHooks;
  mount: FaultfsMount;
  /** Unmount; what struck (if anything) and the layer's account. */
  finish(): Promise<{ strike?: FaultfsStrike; stats?: FaultfsStats }>;
}

/** The directory faultfs goes over for a site; undefined where the platform is not local. */
export function siteDir(ctx: TrialContext, site: FaultSite): string | undefined {
  if (ctx.platform.kind !== 'local') return undefined;
  if (site === 'source') return ctx.volumes.location;
  // Restores go into fresh volume sets beside the source (restic through a staging folder beside them too).
  if (site === 'restore') return dirname(ctx.volumes.location);
  const work = (ctx.platform as unknown as { dir?: string }).dir;
  return work ? join(work, 'repos', ctx.tool.name) : undefined;
}

/** Why a byte-point fault cannot be armed in this trial, or undefined when it can. */
export function byteFaultUnavailable(ctx: TrialContext, site: FaultSite): string | undefined {
  if (ctx.platform.kind !== 'local') return `faultfs works on the local platform only, this trial runs on ${ctx.platform.kind}`;
  if (!['copy', 'restic', 'kopia'].includes(ctx.tool.type)) return `faultfs is wired for copy, restic and kopia, not ${ctx.tool.type}`;
  if (!siteDir(ctx, site)) return 'no local directory for the fault';
  return faultfsUnavailable();
}

/** Mount faultfs for one operation; throws when it cannot (check byteFaultUnavailable first). */
export async function armByteFault(ctx: TrialContext, plan: ByteFaultPlan): Promise<ByteFault> {
  const dir = siteDir(ctx, plan.site)!;
  const op = plan.site === 'source' ? 'read' : 'write';
  const totalBytes = await treeSize(ctx.volumes.location);
  const atByte = plan.atByte ?? Math.round((plan.fraction ?? 0) * totalBytes);
  const mount = await mountFaultfs({ dir, op, action: plan.action, atByte, count: plan.count, delayMs: plan.delayMs });
  ctx.log(`faultfs (pid ${mount.pid}) over ${dir}: ${plan.action} at ${op} byte ${atByte} of ${totalBytes}`);
  return {
    mechanism: 'faultfs',
    site: plan.site,
    dir,
    op,
    totalBytes,
    atByte,
    mount,
    hooks: { onStart: (running) => running.pid !== undefined && mount.tellPid(running.pid) },
    finish: () => mount.stop(),
  };
}

/** "byte 1,048,576 of 5,242,880 read (20.0%)" */
export function describeStrike(f: Pick<ByteFault, 'op' | 'totalBytes'>, byte: number): string {
  const share = f.totalBytes > 0 ? ` (${((100 * byte) / f.totalBytes).toFixed(1)}%)` : '';
  return `byte ${byte.toLocaleString('en-US')} of ${f.totalBytes.toLocaleString('en-US')} ${f.op === 'read' ? 'read' : 'written'}${share}`;
}
