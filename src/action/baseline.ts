// Which earlier runs the action compares with, per the baseline input. Never throws: problems become the notice.
import { resolve } from 'node:path';
import type { Suite } from '../config/schema.ts';
import { loadBaseline } from '../suite/pipeline.ts';
import { fetchArtifactBaseline } from '../github/artifacts.ts';
import { runIdentity } from '../baseline/compatible.ts';
import { newResults } from '../suite/run.ts';
import type { BaselineData } from '../github/artifacts.ts';
import type { GitHubClient } from '../github/client.ts';
import type { RunContext } from '../github/context.ts';
import type { BaselineSource } from '../github/inputs.ts';

export interface BaselineRequest {
  source: BaselineSource;
  artifactName: string;
  suite: Suite;
  ctx: RunContext;
  client?: GitHubClient;
  log: (msg: string) => void;
}

export async function resolveBaseline(r: BaselineRequest): Promise<BaselineData> {
  const { source, suite, ctx } = r;
  try {
    switch (source.kind) {
      case 'none':
      case 'file':
      case 'history': {
        // The same loading as the CLI's: the suite's compare.baseline, pointed where the input says.
        const baseline = source.kind === 'file' ? { source: 'file' as const, path: source.path } : { source: source.kind };
        const s: Suite = { ...suite, compare: { ...suite.compare, baseline: { ...suite.compare.baseline, ...baseline } } };
        return await loadBaseline(s, resolve(suite.output.dir));
      }
      case 'artifact': {
        if (!r.client) return { runs: [], source: `artifact "${r.artifactName}"`, notice: 'github-token is empty, so the baseline artifact of earlier runs could not be looked up' };
        return await fetchArtifactBaseline({
          client: r.client,
          owner: ctx.owner,
          repo: ctx.repo,
          workflowFile: ctx.workflowFile,
          branch: ctx.baselineBranch,
          artifactName: r.artifactName,
          suiteName: suite.name,
          maxRuns: suite.compare.baseline.maxRuns,
          excludeRunId: ctx.runId,
          // This run's results schema, suite and host: runs of another kind are named, not pooled.
          identity: runIdentity(newResults(suite, '', suite.platform.kind)),
          log: r.log,
        });
      }
    }
  } catch (err) {
    return { runs: [], source: source.kind, notice: `the baseline could not be loaded (${err instanceof Error ? err.message : String(err)}), so nothing is compared` };
  }
}
