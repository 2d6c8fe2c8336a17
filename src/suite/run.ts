// Runs the planned matrix on a platform and keeps the results file current after every trial, so an interrupted
// run keeps everything it measured.
import { availableParallelism, totalmem, platform as osPlatform, release, tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import type { ScenarioConfig, Suite } from '../config/schema.ts';
import type { Platform, VolumeSet } from '../platform/types.ts';
import { writeFileAtomic } from '../platform/local/fsutil.ts';
import { maskSecrets } from '../platform/secrets.ts';
import type { BackupTool, OpHooks } from '../tools/types.ts';
import { deriveSeed, seededRandom } from '../workloads/random.ts';
import type { ScenarioOutcome, TrialContext } from '../faults/context.ts';
import { runNoFault } from '../faults/none.ts';
import { runCrash } from '../faults/crash.ts';
import { runOutage } from '../faults/outage.ts';
import { runIoError } from '../faults/io-error.ts';
import { runDiskFull } from '../faults/disk-full.ts';
import { runSlowDisk } from '../faults/slow-disk.ts';
import { runCorruptVolume } from '../faults/corrupt-volume.ts';
import { runCorruptRepository } from '../faults/corrupt-repository.ts';
import { planTrials } from './plan.ts';
import type { PlannedTrial } from './plan.ts';
import { describeKeyDerivation, RESULTS_SCHEMA_VERSION, timeSpent } from './results.ts';
import type { PhaseMetrics, ResultsFile, ToolInfo, TrialResult } from './results.ts';
import { duringTrial } from '../platform/interrupt.ts';
import { tallyProcesses } from '../metrics/run.ts';

export const PVBENCH_VERSION = '0.1.0';

export interface RunOptions {
  suite: Suite;
  suiteFile: string;
  platform: Platform;
  resultsPath: string;
  git?: ResultsFile['run']['git'];
  log: (msg: string) => void;
  signal?: AbortSignal;
  /** How results.json is written (atomically, by default); tests substitute a full disk. */
  writeResults?: (path: string, text: string) => Promise<void>;
}

/** results.json could not be written: what is still on disk, where the trial just measured went, what to do. */
export class ResultsWriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResultsWriteError';
  }
}

export async function runScenario(ctx: TrialContext, scenario: ScenarioConfig): Promise<ScenarioOutcome> {
  return faultLanded(await dispatch(ctx, scenario));
}

/**
 * A fault that did not land (a crash aimed at an operation that finished first, an outage that struck nothing)
 * measured nothing about recovery from it: such a trial is never a pass, and its error says what did not happen.
 */
export function faultLanded(o: ScenarioOutcome): ScenarioOutcome {
  if (o.fault.kind === 'none' || o.fault.injected || o.status !== 'passed') return o;
  return { ...o, status: 'not-injected', error: `the ${o.fault.kind} fault was not injected (${o.fault.description}): this trial measured nothing about recovery from it` };
}

function dispatch(ctx: TrialContext, scenario: ScenarioConfig): Promise<ScenarioOutcome> {
  const f = scenario.fault;
  switch (f.kind) {
    case 'none':
      return runNoFault(ctx, scenario);
    case 'crash':
      return runCrash(ctx, scenario, f);
    case 'outage':
      return runOutage(ctx, scenario, f);
    case 'corrupt-volume':
      return runCorruptVolume(ctx, scenario, f);
    case 'corrupt-repository':
      return runCorruptRepository(ctx, scenario, f);
    case 'io-error':
      return runIoError(ctx, scenario, f);
    case 'disk-full':
      return runDiskFull(ctx, scenario, f);
    case 'slow-disk':
      return runSlowDisk(ctx, scenario, f);
  }
}

export function newResults(suite: Suite, suiteFile: string, platformName: string, git?: ResultsFile['run']['git']): ResultsFile {
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    pvbenchVersion: PVBENCH_VERSION,
    suite: { name: suite.name, file: suiteFile, seed: suite.seed, trials: suite.trials, platform: platformName, workload: suite.workload, ...(suite.ab ? { ab: { ...suite.ab } } : {}) },
    run: {
      id: randomBytes(6).toString('hex'),
      startedAt: new Date().toISOString(),
      complete: false,
      git,
      host: { cpus: availableParallelism(), memoryBytes: totalmem(), os: `${osPlatform()} ${release()}`, node: process.version },
    },
    tools: [],
    scenarios: suite.scenarios.map((s) => ({ name: s.name, fault: s.fault.kind })),
    trials: [],
  };
}

async function runTrial(p: PlannedTrial, tool: BackupTool, opts: RunOptions): Promise<TrialResult> {
  const { suite, platform } = opts;
  const started = Date.now();
  const base = { tool: p.toolName, scenario: p.scenario.name, trial: p.trial, startedAt: new Date(started).toISOString() };
  let ctx: TrialContext | undefined;
  let volumes: TrialContext['volumes'] | undefined;
  try {
    // Everything the trial starts stops at the run's interrupt; its clean-up (below) runs outside it.
    return await duringTrial(opts.signal, () =>
      tallyProcesses(async (processes) => {
        await tool.init(p.id);
        volumes = await platform.seedVolumes(p.id, suite.workload, suite.seed);
        ctx = {
          platform,
          tool,
          workload: suite.workload,
          seed: suite.seed,
          trialId: p.id,
          volumes,
          seeded: await platform.manifest(volumes),
          random: seededRandom(deriveSeed(suite.seed, p.id)).next,
          log: (m) => opts.log(`  ${p.id}: ${m}`),
          scratch: [],
        };
        const outcome = await runScenario(ctx, p.scenario);
        const sizeBytes = await tool.repositorySize();
        return {
          ...base,
          ...outcome,
          durationMs: Date.now() - started,
          repository: { sizeBytes },
          processes: { count: processes.count, wallMs: Math.round(processes.wallMs) },
        };
      }),
    );
  } catch (err) {
    return {
      ...base,
      status: 'error',
      durationMs: Date.now() - started,
      error: maskSecrets(err instanceof Error ? err.message : String(err)),
      fault: { kind: p.scenario.fault.kind, injected: false, description: 'trial did not complete', details: {} },
    };
  } finally {
    for (const v of [...(volumes ? [volumes] : []), ...(ctx?.scratch ?? [])]) await platform.dropVolumes(v).catch(() => undefined);
    await tool.cleanup().catch(() => undefined);
  }
}

/**
 * The tool as a trial drives it: every backup and restore preceded by the platform's settling of the machine
 * (outside the tool's timed region). The run's interrupt reaches its processes and waits through duringTrial.
 */
export function measuredTool(tool: BackupTool, platform: Pick<Platform, 'beforeOperation'>): BackupTool {
  /** Settles the machine, runs the operation, and records the machine's memory as it was at the start. */
  const measured = async <T extends { metrics: PhaseMetrics }>(op: () => Promise<T>): Promise<T> => {
    const machine = platform.beforeOperation ? await platform.beforeOperation() : undefined;
    const out = await op();
    if (machine) out.metrics.machine = machine;
    return out;
  };
  return new Proxy(tool, {
    get(target, prop) {
      if (prop === 'backup') return (source: VolumeSet, hooks?: OpHooks) => measured(() => target.backup(source, hooks));
      if (prop === 'restore') return (id: string, to: VolumeSet, hooks?: OpHooks) => measured(() => target.restore(id, to, hooks));
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

export async function runSuite(opts: RunOptions): Promise<ResultsFile> {
  const { suite, platform, log } = opts;
  const results = newResults(suite, opts.suiteFile, platform.kind, opts.git);
  const write = opts.writeResults ?? writeFileAtomic;
  // Masked as a whole: tool output excerpts anywhere in the results never carry a registered secret.
  const json = (v: unknown) => maskSecrets(JSON.stringify(v, null, 2)) + '\n';
  const save = async (justMeasured?: TrialResult) => {
    try {
      await write(opts.resultsPath, json(results));
    } catch (err) {
      // The write is atomic: the file still holds the last good results. The trial that did not get in is kept apart.
      const code = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
      const kept = justMeasured ? results.trials.length - 1 : results.trials.length;
      let where = '';
      if (justMeasured) {
        const label = `${justMeasured.tool} / ${justMeasured.scenario} #${justMeasured.trial}`;
        const beside = `${opts.resultsPath}.unsaved-${Date.now()}.json`;
        const fallback = join(tmpdir(), basename(beside));
        where = `; the trial just measured (${label}) is in `;
        if (await write(beside, json(justMeasured)).then(() => true, () => false)) where += beside;
        else if (await write(fallback, json(justMeasured)).then(() => true, () => false)) where += fallback;
        else where = `; the trial just measured (${label}) could not be written anywhere: ${JSON.stringify(justMeasured)}`;
      }
      throw new ResultsWriteError(`cannot write ${opts.resultsPath} (${code}): it still holds the ${kept === 1 ? '1 trial' : `${kept} trials`} measured before${where}. Fix: free space (or make the directory writable) and run again; the results file is complete up to that trial`);
    }
  };
  await save();
  await platform.prepare();
  // What the platform is, as it reported itself (for a cluster: its API server and the version it reported).
  results.run.platform = platform.describe();

  const ready = new Map<string, BackupTool>();
  const infos = new Map<string, ToolInfo>();
  for (const cfg of suite.tools) {
    const tool = platform.createTool(cfg);
    const probe = await tool.probe();
    const info: ToolInfo = { name: tool.name, type: cfg.type, status: probe.ok ? 'ok' : 'skipped', ...(cfg.optional ? { optional: true } : {}) };
    if (probe.ok) {
      info.version = probe.version;
      ready.set(tool.name, tool);
    } else info.reason = probe.reason;
    results.tools.push(info);
    infos.set(tool.name, info);
    log(probe.ok ? `tool ${tool.name}: ${probe.version}` : `tool ${tool.name}: skipped (${probe.reason})`);
    if (probe.ok) for (const note of probe.notes ?? []) log(`tool ${tool.name}: ${note}`);
  }
  await save();

  const plan = planTrials(suite).filter((p) => ready.has(p.toolName));
  const width = String(plan.length).length;
  const notRun = (i: number) => `${plan.length - i} of ${plan.length} planned trials not run`;
  for (const [i, p] of plan.entries()) {
    const label = `${p.toolName} / ${p.scenario.name} #${p.trial}`;
    if (opts.signal?.aborted) {
      results.run.interrupted = `interrupted ${i === 0 ? 'before the first trial' : `after ${plan[i - 1]!.toolName} / ${plan[i - 1]!.scenario.name} #${plan[i - 1]!.trial}`}; ${notRun(i)}`;
      log(`interrupted: ${notRun(i)}; the results so far are kept`);
      break;
    }
    const tool = ready.get(p.toolName)!;
    const trial = await runTrial(p, measuredTool(tool, platform), opts);
    if (opts.signal?.aborted) {
      // Stopped mid-way (its operation killed, or it failed because of that): it measured nothing to keep.
      results.run.interrupted = `interrupted during ${label}; ${notRun(i)}`;
      log(`interrupted: ${label} was stopped and is not recorded; the results so far are kept`);
      break;
    }
    results.trials.push(trial);
    noteRepositoryFacts(infos.get(p.toolName)!, tool, log);
    await save(trial);
    const secs = (trial.durationMs / 1000).toFixed(1);
    log(`[${String(i + 1).padStart(width)}/${plan.length}] ${label}: ${trial.status} in ${secs} s${trial.error ? ` — ${trial.error}` : ''}`);
  }
  results.run.finishedAt = new Date().toISOString();
  // Locally the tools are processes of this machine; on Kubernetes the rest of a trial is the cluster's work too.
  const spent = platform.kind === 'local' ? timeSpent(results.trials) : '';
  if (spent) log(spent);
  const missingTools = results.tools.filter((t) => t.status === 'skipped' && !t.optional);
  // Every planned trial is recorded unless the run was interrupted (a results write that fails ends the run).
  results.run.complete = !results.run.interrupted && missingTools.length === 0;
  await save();
  return results;
}

/**
 * What a tool's first repository tells about the whole run (restic: its chunker polynomial, key derivation and lock
 * wait), copied into the tool's info once and logged.
 */
function noteRepositoryFacts(info: ToolInfo, tool: BackupTool, log: (line: string) => void): void {
  if (!info.chunker) {
    const ch = tool.chunker?.();
    if (ch) {
      info.chunker = ch;
      log(`tool ${tool.name}: chunker polynomial ${ch.polynomial} (${ch.mode === 'fixed' ? "pvbench's fixed one, the same in every run" : 'drawn by restic init: chunks, and what backups add, differ from run to run'})`);
    }
  }
  if (!info.keyDerivation) {
    const kd = tool.keyDerivation?.();
    if (kd) {
      info.keyDerivation = kd;
      log(`tool ${tool.name}: key derivation ${describeKeyDerivation(kd)} (${kd.mode}): ${Math.round(kd.ms)} ms per derivation`);
    }
  }
  if (!info.lockWait) {
    const lw = tool.lockWait?.();
    if (lw) {
      info.lockWait = lw;
      log(`tool ${tool.name}: repository lock: each locking command waits ${Math.round(lw.ms)} ms on it (the fastest of ${lw.pairs} snapshots listings with the lock against ${lw.pairs} without)`);
    }
  }
}
