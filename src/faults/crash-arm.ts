// How a crash is aimed at its point: faultfs where it can (the exact byte of the source read by a backup or of the
// data written by a restore, on the local platform), the slice trigger elsewhere (Kubernetes, or no faultfs here:
// then the details say why). Both give the crash fault the same handle.
import type { OpHooks, RunningOp } from '../tools/types.ts';
import { armTrigger } from './context.ts';
import type { TrialContext } from './context.ts';
import { armByteFault, byteFaultUnavailable, describeStrike } from './byte-point.ts';

export interface CrashArm {
  hooks: OpHooks;
  /** Waits for the crashed attempt to settle (and, with faultfs, unmounts it). */
  done(settled: Promise<unknown>): Promise<void>;
  fired(): boolean;
  /** What was killed and where, once fired. */
  killed(): string | undefined;
  /** 0..1: the share of the bytes at which it struck. */
  killedAt(): number | undefined;
  killTime(): number;
  details(): Record<string, string | number | boolean>;
}

function sliceArm(fraction: number, note: string | undefined): CrashArm {
  let killed: string | undefined;
  let at: number | undefined;
  let time = 0;
  const t = armTrigger(fraction, undefined, async (op: RunningOp, progress) => {
    at = progress;
    killed = await op.kill();
    time = Date.now();
  });
  return {
    hooks: t.hooks,
    done: (s) => t.done(s),
    fired: t.fired,
    killed: () => killed,
    killedAt: () => at,
    killTime: () => time,
    details: () => ({ mechanism: 'slice-trigger', ...(note ? { mechanismNote: note } : {}) }),
  };
}

/** Arm a crash at `fraction` of the phase's bytes. */
export async function armCrash(ctx: TrialContext, phase: 'backup' | 'restore', fraction: number): Promise<CrashArm> {
  const site = phase === 'backup' ? 'source' : 'restore';
  const why = byteFaultUnavailable(ctx, site);
  if (why) {
    if (ctx.platform.kind === 'local') ctx.log(`crash: ${why}; the crash lands by timing (slice trigger), not at an exact byte`);
    return sliceArm(fraction, ctx.platform.kind === 'local' ? `faultfs not used: ${why}` : undefined);
  }
  let f: Awaited<ReturnType<typeof armByteFault>>;
  try {
    f = await armByteFault(ctx, { site, action: 'kill', fraction });
  } catch (err) {
    // A mount that fails here (FUSE refused, a timeout) must not cost the trial: the crash still lands, by timing.
    const msg = err instanceof Error ? err.message : String(err);
    ctx.log(`crash: ${msg}; the crash lands by timing (slice trigger), not at an exact byte`);
    return sliceArm(fraction, `faultfs not used: ${msg}`);
  }
  let what = '';
  let result: Awaited<ReturnType<typeof f.finish>> = {};
  const hooks: OpHooks = {
    onStart: (op) => {
      what = op.describe();
      f.hooks.onStart!(op);
    },
  };
  const fired = () => result.strike !== undefined && (result.strike.killed ?? 0) > 0;
  return {
    hooks,
    done: async (settled) => {
      await settled.then(
        () => undefined,
        () => undefined,
      );
      result = await f.finish();
    },
    fired,
    killed: () => (fired() ? `SIGKILL ${what || 'the tool'} by faultfs at ${describeStrike(f, result.strike!.byte)}` : undefined),
    killedAt: () => (fired() && f.totalBytes > 0 ? result.strike!.byte / f.totalBytes : undefined),
    killTime: () => result.strike?.at ?? 0,
    details: () => ({
      mechanism: 'faultfs',
      requestedByte: f.atByte,
      totalBytes: f.totalBytes,
      ...(result.strike
        ? {
            struckAtByte: result.strike.byte,
            struckAtShare: f.totalBytes > 0 ? Number((result.strike.byte / f.totalBytes).toFixed(4)) : 0,
            struckFile: result.strike.path,
            heldOpBytes: result.strike.opBytes,
            killHow: result.strike.killHow ?? '',
          }
        : {}),
      ...(result.stats ? { faultfsBytes: result.stats.bytes, faultfsOps: result.stats.ops } : {}),
    }),
  };
}
