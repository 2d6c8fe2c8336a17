// Corrupted backup repository: after a backup, flip bits in the tool's stored data. Does the tool's own check
// detect it, and does a restore fail loudly rather than hand back wrong data? Silent corruption fails the trial.
// Once detected, the tool's own repair path runs (where it has one), then a restore of what the repair kept is
// verified (the share of files recovered) and a fresh backup shows whether the repository is usable again.
import type { FaultConfig, ScenarioConfig } from '../config/schema.ts';
import type { IntegrityResult, PhaseMetrics } from '../suite/results.ts';
import { integrityError, restoreInto } from './context.ts';
import type { ScenarioOutcome, TrialContext } from './context.ts';
import { manifestCount } from '../metrics/manifest.ts';

type CorruptRepositoryConfig = Extract<FaultConfig, { kind: 'corrupt-repository' }>;

export async function runCorruptRepository(ctx: TrialContext, _scenario: ScenarioConfig, fault: CorruptRepositoryConfig): Promise<ScenarioOutcome> {
  const b = await ctx.tool.backup(ctx.volumes);
  const done = await ctx.tool.corruptRepository(fault.bitFlips, ctx.random);
  const check = await ctx.tool.check();
  let restore: PhaseMetrics | undefined;
  let integrity: IntegrityResult | undefined;
  let restoreError: string | undefined;
  try {
    const r = await restoreInto(ctx, b.snapshotId);
    restore = r.restore;
    integrity = await ctx.platform.verify(r.target, ctx.seeded);
  } catch (err) {
    restoreError = err instanceof Error ? err.message : String(err);
  }
  const checkDetected = !check.ok;
  const restoreDetected = restoreError !== undefined;
  const repaired = checkDetected || restoreDetected ? await repairAndMeasure(ctx) : undefined;
  const dataIntact = integrity?.ok === true;
  const silent = !checkDetected && !restoreDetected && !dataIntact;
  const outcome = checkDetected
    ? `check detected it${restoreDetected ? '; restore refused' : dataIntact ? '; restore still returned intact data' : '; restore returned damaged data'}`
    : restoreDetected
      ? 'check passed; restore failed loudly'
      : dataIntact
        ? 'check passed and restored data was intact (the flipped bits hit nothing the restore reads)'
        : 'SILENT CORRUPTION: check passed and restore returned damaged data';
  return {
    status: silent ? 'failed' : 'passed',
    error: silent && integrity ? `silent corruption: ${integrityError(integrity)}` : undefined,
    backup: b.metrics,
    restore,
    integrity,
    check,
    fault: {
      kind: 'corrupt-repository',
      injected: true,
      description: `${done.description}; ${outcome}${repaired ? `; ${repaired.summary}` : ''}`,
      details: { ...done.details, checkOk: check.ok, restoreError: restoreError ?? '', ...(repaired?.details ?? {}) },
      detected: checkDetected || restoreDetected,
    },
  };
}

/** The tool's repair, then what it kept: restored and verified against the seeded data, and a fresh backup. */
async function repairAndMeasure(ctx: TrialContext): Promise<{ summary: string; details: Record<string, string | number | boolean> }> {
  if (!ctx.tool.repair) return { summary: 'no repair path in this tool', details: { repairRan: false } };
  const started = Date.now();
  let rep;
  try {
    rep = await ctx.tool.repair();
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { summary: `repair failed: ${why}`, details: { repairRan: false, repairError: why } };
  }
  if (!rep.ran) return { summary: `no repair: ${rep.reason ?? 'the tool has no repair path'}`, details: { repairRan: false, repairReason: rep.reason ?? '' } };
  const files = manifestCount(ctx.seeded);
  let recovered = 0;
  let restoreAfter = '';
  const snaps = await ctx.tool.snapshots().catch(() => [] as string[]);
  const latest = snaps[snaps.length - 1];
  if (latest) {
    try {
      const r = await restoreInto(ctx, latest);
      recovered = (await ctx.platform.verify(r.target, ctx.seeded)).matched;
    } catch (err) {
      restoreAfter = err instanceof Error ? err.message : String(err);
    }
  } else restoreAfter = 'no snapshot left after the repair';
  const repairMs = Date.now() - started;
  let freshBackup = 'ok';
  try {
    await ctx.tool.backup(ctx.volumes);
  } catch (err) {
    freshBackup = `failed: ${err instanceof Error ? err.message : String(err)}`;
  }
  const share = files > 0 ? Math.round((recovered / files) * 1000) / 1000 : 0;
  const how = rep.actions.map((a) => a.split(':')[0]).join(', ');
  return {
    summary: `repaired (${how}) in ${(repairMs / 1000).toFixed(1)} s: ${recovered} of ${files} files recovered${restoreAfter ? ` (${restoreAfter.slice(0, 160)})` : ''}; ${freshBackup === 'ok' ? 'a fresh backup succeeded' : `a fresh backup ${freshBackup.slice(0, 160)}`}`,
    details: {
      repairRan: true,
      repairActions: rep.actions.join('; '),
      repairCheckOk: rep.checkOk ?? false,
      repairMs,
      filesRecovered: recovered,
      filesTotal: files,
      recoveredShare: share,
      freshBackup,
      ...(restoreAfter ? { restoreAfterRepair: restoreAfter } : {}),
    },
  };
}
