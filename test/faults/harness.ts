// The local fault tests' shared set-up: one LocalPlatform per test file (made before, removed after), a trial
// context for a tool on a seeded workload, and a scenario run through the suite's own dispatch with clean-up.
import { before, after } from 'node:test';
import { rm } from 'node:fs/promises';
import { suiteSchema } from '../../src/config/schema.ts';
import type { ScenarioConfig, WorkloadConfig } from '../../src/config/schema.ts';
import { LocalPlatform } from '../../src/platform/local/platform.ts';
import { runScenario } from '../../src/suite/run.ts';
import type { ScenarioOutcome, TrialContext } from '../../src/faults/context.ts';
import type { BackupTool } from '../../src/tools/types.ts';
import { deriveSeed, seededRandom } from '../../src/workloads/random.ts';
import { runs } from '../helpers/process.ts';

/** A scenario of one fault, as a suite file would give it. */
export function scenarioOf(name: string, fault: unknown, incremental = false): ScenarioConfig {
  return suiteSchema.parse({ scenarios: [{ name, fault, incremental }] }).scenarios[0]!;
}

export interface LocalTrials {
  /** The platform of this file's tests (set once `before` has run). */
  platform(): LocalPlatform;
  /** A trial context: the tool initialised and the workload seeded under a fresh trial id. */
  context(tool: BackupTool, workload: WorkloadConfig, seed: number, label?: string): Promise<TrialContext>;
  /** Drops what a context made: its volumes and scratch sets, and the tool's repository. */
  drop(ctx: TrialContext): Promise<void>;
  /** Runs one scenario in a fresh context, then drops it. */
  run(tool: BackupTool, sc: ScenarioConfig, workload: WorkloadConfig, seed: number): Promise<ScenarioOutcome>;
}

/** Registers the file's before/after hooks; `prefix` keeps trial ids of different files apart. */
export function localTrials(prefix: string): LocalTrials {
  let platform: LocalPlatform | undefined;
  before(async () => {
    platform = new LocalPlatform({ keep: false, timeoutMs: 120_000 });
    await platform.prepare();
  });
  after(async () => {
    if (!platform) return;
    const dir = platform.dir;
    await platform.cleanup();
    await rm(dir, { recursive: true, force: true });
  });
  let counter = 0;
  const p = () => {
    if (!platform) throw new Error('the platform is made in before(): use it inside a test');
    return platform;
  };
  const t: LocalTrials = {
    platform: p,
    async context(tool, workload, seed, label = '') {
      const id = `${prefix}${++counter}-${tool.name}${label ? `-${label}` : ''}`;
      await tool.init(id);
      const volumes = await p().seedVolumes(id, workload, seed);
      return { platform: p(), tool, workload, seed, trialId: id, volumes, seeded: await p().manifest(volumes), random: seededRandom(deriveSeed(1, id)).next, log: () => undefined, scratch: [] };
    },
    async drop(ctx) {
      for (const v of [ctx.volumes, ...ctx.scratch]) await p().dropVolumes(v);
      await ctx.tool.cleanup();
    },
    async run(tool, sc, workload, seed) {
      const ctx = await t.context(tool, workload, seed, sc.name);
      try {
        return await runScenario(ctx, sc);
      } finally {
        await t.drop(ctx);
      }
    },
  };
  return t;
}

/** The exact-fault tests' workloads: a tiny one (about 300 KB), and a larger one. */
export const EXACT_WORKLOADS = {
  tiny: suiteSchema.parse({ workload: { proxies: 2, accessLogLines: 500, statsSnapshots: 2, clusters: 5 } }).workload,
  // About 4 MB: several files larger than one FUSE request, read by restic and kopia on several threads.
  larger: suiteSchema.parse({ workload: { proxies: 2, accessLogLines: 12000, statsSnapshots: 3, clusters: 20 } }).workload,
};

/** The local tools that run here: copy always, restic and kopia where installed. */
export function installedLocalTools(): ('copy' | 'restic' | 'kopia')[] {
  return ['copy', ...(runs('restic', ['version']) ? (['restic'] as const) : []), ...(runs('kopia', ['--version']) ? (['kopia'] as const) : [])];
}
