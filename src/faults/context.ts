// What a scenario gets to work with, and the steps every scenario shares.
import type { WorkloadConfig } from '../config/schema.ts';
import type { Manifest } from '../metrics/types.ts';
import type { Platform, VolumeSet } from '../platform/types.ts';
import type { IntegrityResult, PhaseMetrics, TrialResult, TrialStatus } from '../suite/results.ts';
import type { BackupTool, OpHooks, RunningOp } from '../tools/types.ts';

export interface TrialContext {
  platform: Platform;
  tool: BackupTool;
  workload: WorkloadConfig;
  seed: number;
  trialId: string;
  /** Freshly seeded volumes. */
  volumes: VolumeSet;
  /** Their manifest right after seeding. */
  seeded: Manifest;
  random: () => number;
  log: (msg: string) => void;
  /** Volume sets this trial created besides `volumes`, dropped after the trial. */
  scratch: VolumeSet[];
}

/** What a scenario measured; the runner adds identity, timing and repository size. */
export type ScenarioOutcome = Omit<TrialResult, 'tool' | 'scenario' | 'trial' | 'startedAt' | 'durationMs' | 'repository'>;

export async function restoreInto(ctx: TrialContext, snapshotId: string, hooks?: OpHooks): Promise<{ target: VolumeSet; restore: PhaseMetrics }> {
  const target = await ctx.platform.emptyVolumes(`${ctx.trialId}-restore-${ctx.scratch.length}`, ctx.volumes);
  ctx.scratch.push(target);
  const { metrics } = await ctx.tool.restore(snapshotId, target, hooks);
  return { target, restore: metrics };
}

/** Status from integrity: any loss fails the trial. */
export function integrityStatus(integrity: IntegrityResult | undefined): TrialStatus {
  return integrity && !integrity.ok ? 'failed' : 'passed';
}

export function integrityError(integrity: IntegrityResult): string | undefined {
  if (integrity.ok) return undefined;
  const parts = [
    integrity.mismatched ? `${integrity.mismatched} mismatched` : '',
    integrity.missing ? `${integrity.missing} missing` : '',
  ].filter(Boolean);
  const examples = [...integrity.examples.mismatched, ...integrity.examples.missing].slice(0, 3).join(', ');
  return `integrity loss after restore: ${parts.join(', ')} of ${integrity.files} files (${examples})`;
}

/**
 * The trial's verdict from a restore compared with `expected`, for scenarios in which nothing but the tool touches
 * the source after `expected` was taken. When the restore differs, the source is compared too: if it no longer
 * matches `expected` either, something else changed it during the trial (a user, another process), and the
 * difference says nothing about the tool: an error that says so, not the tool's data loss.
 */
export async function judgeRestore(ctx: TrialContext, integrity: IntegrityResult, expected: Manifest): Promise<{ status: TrialStatus; error?: string }> {
  if (integrity.ok) return { status: 'passed' };
  const source = await ctx.platform.verify(ctx.volumes, expected);
  if (source.ok) return { status: integrityStatus(integrity), error: integrityError(integrity) };
  const what = [source.mismatched ? `${source.mismatched} file${source.mismatched === 1 ? '' : 's'} changed` : '', source.missing ? `${source.missing} removed` : ''].filter(Boolean).join(', ');
  const examples = [...source.examples.mismatched, ...source.examples.missing].slice(0, 3).join(', ');
  return { status: 'error', error: `the source volumes changed during the trial, not by pvbench or the tool (${what}: ${examples}): the restore cannot be judged against them` };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Arm a trigger on a running operation: fire once it reaches `fraction` of progress or `afterMs` have passed
 * (whichever comes first), unless it finishes before. Never outlives `settled`.
 *
 * Where the operation can be held (local processes: SIGSTOP/SIGCONT), it starts held, is held while its progress
 * is read and while the fault fires, and runs in between for four times as long as the last look took, from 1 to
 * MAX_SLICE_MS: a copy that takes 15 ms cannot finish between two looks, the kill lands at the progress that was
 * read, and a slow look (a tree walk over many files) costs the operation about a fifth of its speed, more only
 * when one look takes over 2 ms. Operations that cannot be held are polled every 3 ms.
 */
const MAX_SLICE_MS = 8;

export function armTrigger(
  fraction: number,
  afterMs: number | undefined,
  fire: (op: RunningOp, progress: number) => Promise<void>,
): { hooks: OpHooks; fired: () => boolean; done: (settled: Promise<unknown>) => Promise<void> } {
  let fired = false;
  let loop: Promise<void> | undefined;
  let finished = false;
  const hooks: OpHooks = {
    holdAtStart: true,
    onStart: (op) => {
      if (finished || loop) {
        // One trigger, one operation: a later one (hooks reused) must not stay held.
        void op.resume?.();
        return;
      }
      const started = Date.now();
      loop = (async () => {
        let held = false;
        try {
          while (!finished) {
            held = (await op.pause?.()) ?? false;
            const lookStarted = performance.now();
            const p = await op.progress();
            if (p >= fraction || Date.now() - started >= (afterMs ?? Infinity)) {
              fired = true;
              await fire(op, p);
              return;
            }
            const lookMs = performance.now() - lookStarted;
            // Held means pause() said so; an operation that can be held can be let go (resume comes with pause).
            if (held) {
              held = false;
              await op.resume!();
            }
            await sleep(op.pause ? Math.min(MAX_SLICE_MS, Math.max(1, Math.ceil(4 * lookMs))) : 3);
          }
        } finally {
          if (held) await op.resume!();
        }
      })();
    },
  };
  return {
    hooks,
    fired: () => fired,
    done: async (settled) => {
      await settled.then(
        () => undefined,
        () => undefined,
      );
      finished = true;
      await loop;
    },
  };
}
