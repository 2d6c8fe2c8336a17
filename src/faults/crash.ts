// Container crash: SIGKILL (or pod deletion) of the tool mid-backup or mid-restore, then what a controller does:
// clear stale locks and partial state, retry, and record how long recovery took.
import type { FaultConfig, ScenarioConfig } from '../config/schema.ts';
import type { PhaseMetrics } from '../suite/results.ts';
import { ToolError } from '../tools/types.ts';
import { judgeRestore, restoreInto } from './context.ts';
import { armCrash } from './crash-arm.ts';
import type { CrashArm } from './crash-arm.ts';
import type { ScenarioOutcome, TrialContext } from './context.ts';

type CrashConfig = Extract<FaultConfig, { kind: 'crash' }>;

interface Attempted<T> {
  value: T;
  attempts: number;
  killed: string | undefined;
  killedAtProgress: number | undefined;
  recoveryMs: number | undefined;
  staleLocks: number;
  actions: string[];
  wallMs: number;
  /** How the attempt that was crashed ended ("completed", or "failed: <why>") and how long after the kill. */
  crashedAttempt: { outcome: string; endedAfterMs?: number };
  /** How the crash was aimed (faultfs at an exact byte, or the slice trigger) and where it struck. */
  aim: Record<string, string | number | boolean>;
}

/** "the crashed backup ended 12.5 s after the kill (failed: …); " or nothing when that is not known. */
function crashedEnd(phase: string, c: { outcome: string; endedAfterMs?: number }): string {
  if (c.endedAfterMs === undefined) return '';
  return `the crashed ${phase} ended ${(c.endedAfterMs / 1000).toFixed(1)} s after the kill (${c.outcome}); `;
}

/** Run an operation once with a crash armed, then retry after recovery until it succeeds or retries run out. */
async function withCrash<T extends { metrics: PhaseMetrics }>(
  ctx: TrialContext,
  fault: CrashConfig,
  attempt: (hooks: CrashArm['hooks'] | undefined, n: number) => Promise<T>,
): Promise<Attempted<T>> {
  const started = Date.now();
  const trigger = await armCrash(ctx, fault.phase, fault.at);
  const first = attempt(trigger.hooks, 1);
  // When and how the crashed attempt ended (for Velero: when its Backup left InProgress, and in which phase).
  let firstEnded = 0;
  void first.then(
    () => (firstEnded = Date.now()),
    () => (firstEnded = Date.now()),
  );
  await trigger.done(first);
  const killed = trigger.killed();
  const killedAt = trigger.killedAt();
  const killTime = trigger.killTime();
  const aim = trigger.details();
  let staleLocks = 0;
  const actions: string[] = [];
  const crashed = () => ({ endedAfterMs: firstEnded && killTime ? Math.max(0, firstEnded - killTime) : undefined });
  let crashedAttempt: Attempted<T>['crashedAttempt'];
  try {
    const value = await first;
    return { value, attempts: 1, killed, killedAtProgress: killedAt, recoveryMs: undefined, staleLocks, actions, wallMs: Date.now() - started, crashedAttempt: { ...crashed(), outcome: 'completed' }, aim };
  } catch (err) {
    if (!trigger.fired() || !(err instanceof ToolError)) throw err;
    // The first clause of the error: the phase it ended in, not every volume's story.
    crashedAttempt = { ...crashed(), outcome: `failed: ${err.message.split('\n')[0]!.split('; ')[0]!.slice(0, 160)}` };
    ctx.log(`crash: ${killed ?? 'kill'}; recovering`);
  }
  let lastError: unknown;
  for (let n = 2; n <= fault.retries + 1; n++) {
    const rec = await ctx.tool.recover();
    staleLocks += rec.staleLocks;
    actions.push(...rec.actions);
    try {
      const value = await attempt(undefined, n);
      return { value, attempts: n, killed, killedAtProgress: killedAt, recoveryMs: Date.now() - killTime, staleLocks, actions, wallMs: Date.now() - started, crashedAttempt, aim };
    } catch (err) {
      lastError = err;
      actions.push(`retry ${n - 1} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new ToolError(ctx.tool.name, `no successful retry after the crash (${fault.retries} retries): ${lastError instanceof Error ? lastError.message : String(lastError)}`);
}

export async function runCrash(ctx: TrialContext, scenario: ScenarioConfig, fault: CrashConfig): Promise<ScenarioOutcome> {
  let backup: PhaseMetrics;
  let restore: PhaseMetrics;
  let target;
  let run: Attempted<unknown>;
  if (fault.phase === 'backup') {
    const b = await withCrash(ctx, fault, (hooks) => ctx.tool.backup(ctx.volumes, hooks));
    run = b;
    backup = { ...b.value.metrics, attempts: b.attempts, wallMs: b.wallMs };
    ({ target, restore } = await restoreInto(ctx, b.value.snapshotId));
  } else {
    const b = await ctx.tool.backup(ctx.volumes);
    backup = b.metrics;
    const r = await withCrash(ctx, fault, async (hooks, n) => {
      if (n > 1) ctx.log(`crash: retrying restore into a fresh target`);
      return restoreInto(ctx, b.snapshotId, hooks).then((x) => ({ metrics: x.restore, target: x.target }));
    });
    run = r;
    restore = { ...r.value.metrics, attempts: r.attempts, wallMs: r.wallMs };
    target = r.value.target;
  }
  const integrity = await ctx.platform.verify(target, ctx.seeded);
  // Landed: something was killed mid-operation. A tool may ride it out (its own retry finishes the operation).
  const injected = run.killed !== undefined;
  // faultfs names the exact byte and share in `killed`; the slice trigger's share is what it read when it struck.
  const where = run.aim.mechanism === 'faultfs' ? ` (the ${fault.phase})` : ` at ${Math.round((run.killedAtProgress ?? 0) * 100)}% of the ${fault.phase}`;
  return {
    ...(await judgeRestore(ctx, integrity, ctx.seeded)),
    backup,
    restore,
    integrity,
    rtoMs: run.recoveryMs,
    fault: {
      kind: 'crash',
      injected,
      description: !injected
        ? `the ${fault.phase} finished before reaching ${Math.round(fault.at * 100)}%: no crash injected`
        : run.attempts > 1
          ? `${run.killed}${where}; ${crashedEnd(fault.phase, run.crashedAttempt)}${run.staleLocks} stale lock(s); succeeded on attempt ${run.attempts}`
          : `${run.killed}${where}; the ${fault.phase} completed anyway, without a retry`,
      details: {
        phase: fault.phase,
        attempts: run.attempts,
        staleLocks: run.staleLocks,
        recoveryActions: run.actions.join('; '),
        killedAtPercent: Math.round((run.killedAtProgress ?? 0) * 100),
        ...run.aim,
        ...(injected ? { crashedAttempt: run.crashedAttempt.outcome } : {}),
        ...(injected && run.crashedAttempt.endedAfterMs !== undefined ? { crashedAttemptEndedAfterMs: run.crashedAttempt.endedAfterMs } : {}),
      },
      detected: injected && run.attempts > 1,
      recoveryMs: run.recoveryMs,
    },
  };
}
