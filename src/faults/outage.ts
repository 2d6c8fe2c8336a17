// Unplanned outage: while the workload writes (fsync'd, journaled writes), the writer and an in-flight backup die
// together. Recovery restores the last completed backup; RTO is outage → verified restore, RPO is the age, at the
// outage, of the newest acknowledged write the restored data still holds (from the writer's journal).
import type { FaultConfig, ScenarioConfig } from '../config/schema.ts';
import { isAppendOnly } from '../workloads/mesh-proxy.ts';
import { manifestEntries } from '../metrics/manifest.ts';
import { armTrigger, integrityError, integrityStatus, restoreInto, sleep } from './context.ts';
import type { ScenarioOutcome, TrialContext } from './context.ts';
import type { NodeOutage } from '../platform/types.ts';
import type { OpHooks, RunningOp } from '../tools/types.ts';
import { armCrash } from './crash-arm.ts';
import { byteFaultUnavailable } from './byte-point.ts';

type OutageConfig = Extract<FaultConfig, { kind: 'outage' }>;

/** Recovery point from the journal: newest acknowledged write whose bytes are all in the restored file. */
export function recoveryPoint(
  journal: { t: number; path: string; end: number }[],
  restoredSizes: Map<string, number>,
  outageAt: number,
  writerStartedAt: number,
): { rpoMs: number; acknowledged: number; present: number; lost: number } {
  let newest = -Infinity;
  let present = 0;
  for (const w of journal) {
    if (w.t > outageAt) continue;
    if (w.end <= (restoredSizes.get(w.path) ?? 0)) {
      present++;
      if (w.t > newest) newest = w.t;
    }
  }
  const acknowledged = journal.filter((w) => w.t <= outageAt).length;
  const rpoMs = Math.max(0, outageAt - (Number.isFinite(newest) ? newest : writerStartedAt));
  return { rpoMs, acknowledged, present, lost: acknowledged - present };
}

/** The trigger of the outage: when it struck, what it killed, and how it was aimed. */
interface OutageArm {
  hooks: OpHooks;
  fired(): boolean;
  done(settled: Promise<unknown>): Promise<void>;
  /**
   * Once fired, after done(): when faultfs or its timer struck (ms since epoch) and what of the backup faultfs killed;
   * undefined where the outage's own `fire` ran alone (the slice trigger), which then set both.
   */
  struck(): { at: number; killed?: string } | undefined;
  details(): Record<string, string | number | boolean>;
}

/**
 * A workload outage on the local platform strikes the second backup at exactly half the source bytes it reads,
 * through faultfs (the backup killed on the byte that crosses the point, the writer right after), or at afterMs if
 * that comes first. Without faultfs, on Kubernetes and for a node outage: the slice trigger, at the first look that
 * sees half the bytes read or afterMs passed, which runs `fire`.
 */
async function armOutage(ctx: TrialContext, fault: OutageConfig, node: boolean, fire: (op: RunningOp) => Promise<void>): Promise<OutageArm> {
  const slice = () => {
    const t = armTrigger(0.5, fault.afterMs, (op) => fire(op));
    return { hooks: t.hooks, fired: t.fired, done: t.done, struck: () => undefined, details: () => ({ mechanism: 'slice-trigger' }) };
  };
  if (node || ctx.platform.kind !== 'local') return slice();
  const why = byteFaultUnavailable(ctx, 'source');
  if (why) return { ...slice(), details: () => ({ mechanism: 'slice-trigger', mechanismNote: `faultfs not used: ${why}` }) };
  // A mount that fails falls back to the slice trigger inside armCrash, which then says why.
  const arm = await armCrash(ctx, 'backup', 0.5);
  if (arm.details().mechanism !== 'faultfs') {
    const t = slice();
    return { ...t, details: () => arm.details() };
  }
  let timed = false;
  let timedAt = 0;
  let timer: NodeJS.Timeout | undefined;
  let kill: Promise<void> | undefined;
  const hooks: OpHooks = {
    onStart: (o) => {
      arm.hooks.onStart!(o);
      // done() clears this timer as soon as the backup has settled: not after faultfs has unmounted, which can take
      // longer than afterMs, so that the timer never strikes a backup that has already ended.
      timer = setTimeout(() => {
        timed = true;
        timedAt = Date.now();
        kill = fire(o);
      }, fault.afterMs);
    },
  };
  return {
    hooks,
    fired: () => arm.fired() || timed,
    done: async (settled) => {
      await settled.then(
        () => clearTimeout(timer),
        () => clearTimeout(timer),
      );
      await arm.done(settled);
      await kill;
    },
    // Fired: faultfs struck, or else the timer did (its `fire` named what it killed).
    struck: () => (arm.fired() ? { at: arm.killTime(), killed: arm.killed() } : { at: timedAt }),
    details: () => ({ ...arm.details(), ...(timed ? { struckBy: `the timer (afterMs ${fault.afterMs}) before half the bytes were read` } : arm.fired() ? { struckBy: 'half the source bytes read' } : {}) }),
  };
}

export async function runOutage(ctx: TrialContext, _scenario: ScenarioConfig, fault: OutageConfig): Promise<ScenarioOutcome> {
  let node: NodeOutage | undefined;
  if (fault.scope === 'node') {
    if (!ctx.platform.nodeOutage) throw new Error(`an outage with scope: node cannot be injected on the ${ctx.platform.kind} platform; use scope: workload`);
    node = await ctx.platform.nodeOutage(ctx.volumes);
  }
  const writer = await ctx.platform.startWriter(ctx.volumes, fault.writesPerSecond, ctx.seed);
  const writerStartedAt = Date.now();
  let outageAt = 0;
  let killedOp = '';
  let nodeRecovery = '';
  let secondEnded = false;
  let midBackup = false;
  try {
    await sleep(Math.min(200, fault.afterMs));
    const first = await ctx.tool.backup(ctx.volumes);
    const trigger = await armOutage(ctx, fault, node !== undefined, async (op) => {
      outageAt = Date.now();
      if (node) {
        // Everything on the node dies at once, the writer and the backup with it; the node comes back before
        // anything else is done (on a one-node cluster the API server is down until then).
        midBackup = !secondEnded;
        try {
          killedOp = await node.strike();
        } finally {
          // Also after a failed strike (one of two nodes killed): never leave a node down for the next trials.
          nodeRecovery = await node.recover();
        }
        return;
      }
      const [desc] = await Promise.all([op.kill(), writer.kill()]);
      killedOp = desc;
    });
    const second = ctx.tool.backup(ctx.volumes, trigger.hooks);
    const secondSucceeded = second.then(
      () => true,
      () => false,
    );
    void secondSucceeded.then(() => (secondEnded = true));
    await trigger.done(second);
    const secondOk = await secondSucceeded;
    if (!trigger.fired()) outageAt = Date.now();
    else {
      const struck = trigger.struck();
      if (struck) {
        // faultfs struck: the backup died on the byte of the point; the writer goes now (its writes after the
        // outage instant are not acknowledged before it, so they count nowhere).
        outageAt = struck.at;
        if (struck.killed) killedOp = struck.killed;
      }
    }
    await writer.kill();

    // Recovery, as an operator would: clear locks, find the last completed backup, restore it, verify. After a
    // node outage everything on the node restarted: the tool's components must be ready again since the outage.
    const rec = await ctx.tool.recover(node && trigger.fired() ? { since: outageAt } : undefined);
    const snaps = await ctx.tool.snapshots();
    const last = snaps[snaps.length - 1] ?? first.snapshotId;
    const { target, restore } = await restoreInto(ctx, last);
    const restoredAt = Date.now();
    const atOutage = await ctx.platform.manifest(ctx.volumes);
    const verifyStarted = Date.now();
    const integrity = await ctx.platform.verify(target, atOutage, { appendOnly: isAppendOnly, prefixSource: ctx.volumes });
    const rtoMs = restoredAt - outageAt + (Date.now() - verifyStarted);

    const journal = await writer.journal();
    const restored = await ctx.platform.manifest(target);
    const written = new Set(journal.map((w) => w.path));
    const restoredSizes = new Map<string, number>();
    for await (const f of manifestEntries(restored)) if (written.has(f.path)) restoredSizes.set(f.path, f.size);
    const rp = recoveryPoint(journal, restoredSizes, outageAt, writerStartedAt);
    return {
      status: integrityStatus(integrity),
      error: integrityError(integrity),
      backup: first.metrics,
      restore,
      integrity,
      rtoMs,
      rpoMs: rp.rpoMs,
      fault: {
        kind: 'outage',
        injected: trigger.fired(),
        description: !trigger.fired()
          ? `the second backup finished before the outage; writer killed after it`
          : `${
              node
                ? `${killedOp} ${midBackup ? `mid-backup (the backup then ${secondOk ? 'completed' : 'failed'})` : 'after the backup had completed'}, with ${writer.describe()}; ${nodeRecovery}`
                : `${killedOp} and ${writer.describe()} killed together ${secondOk ? '(the backup had already completed)' : 'mid-backup'}`
            }; restored ${last === first.snapshotId ? 'the last completed backup' : 'the latest snapshot'}; ${rp.lost} of ${rp.acknowledged} acknowledged writes lost`,
        details: {
          scope: fault.scope,
          ...trigger.details(),
          ...(node ? { nodeRecovery } : {}),
          acknowledgedWrites: rp.acknowledged,
          writesPresent: rp.present,
          writesLost: rp.lost,
          staleLocks: rec.staleLocks,
          recoveryActions: rec.actions.join('; '),
          restoredSnapshot: last,
        },
        detected: true,
        recoveryMs: rtoMs,
      },
    };
  } finally {
    await writer.kill();
  }
}
