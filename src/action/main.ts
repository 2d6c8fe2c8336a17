// The action's main step. Thin: inputs → baseline → the shared pipeline → comment, summary, outputs, annotations.
import * as core from '@actions/core';
import { randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError } from '../config/load.ts';
import type { Suite } from '../config/schema.ts';
import { resolveSuite, runPipeline, suiteMarker } from '../suite/pipeline.ts';
import type { Logger, PipelineOverrides } from '../suite/pipeline.ts';
import { uploadResultsArtifact } from '../github/artifacts.ts';
import { createClient } from '../github/client.ts';
import { readRunContext } from '../github/context.ts';
import { InputError, readInputs } from '../github/inputs.ts';
import type { ActionInputs } from '../github/inputs.ts';
import { forwardSecretsToRunner, maskText, noWorkflowCommands } from '../github/mask.ts';
import { plainText } from '../report/format.ts';
import { setOutputs } from '../github/outputs.ts';
import { publishReport } from '../github/publish.ts';
import { resolveBaseline } from './baseline.ts';
import { RUN_MARKER_ENV, StateRecorder } from './state.ts';

const actionLogger: Logger = {
  // Tool output and names in the log: plain text that issues no workflow command (warning/error escape themselves).
  info: (m) => core.info(noWorkflowCommands(plainText(m))),
  warn: (m) => core.warning(m),
  error: (m) => core.error(m),
  group: (name, fn) => core.group(name, fn),
};

function overridesFrom(inputs: ActionInputs): PipelineOverrides {
  return {
    trials: inputs.trials,
    outputDir: inputs.outputDir,
    threshold: inputs.threshold,
    failOnRegression: inputs.failOnRegression,
    templateFile: inputs.template,
    platform: inputs.platform,
  };
}

function keeps(suite: Suite): boolean {
  return suite.platform.kind === 'local' ? suite.platform.keep : suite.platform.cluster.keep;
}

/** A kubeconfig given as content is written to a private file; a single line naming an existing file is used as is. */
async function installKubeconfig(content: string, dir: string): Promise<string> {
  const line = content.trim();
  if (!line.includes('\n') && existsSync(line) && statSync(line).isFile()) return resolve(line);
  const path = join(dir, 'kubeconfig');
  await writeFile(path, content, { mode: 0o600 });
  await chmod(path, 0o600);
  return path;
}

/** Stop the operation in progress at the first signal (what finished is reported); leave at the second. */
function cancellation(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      core.setFailed(`pvbench: cancelled (${sig} twice); the post step removes what the run created`);
      process.exit(1);
    }
    core.warning(`pvbench: ${sig}: stopping the operation in progress, then reporting what finished`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

export async function run(): Promise<void> {
  forwardSecretsToRunner();
  const state = new StateRecorder();
  const marker = randomUUID();
  process.env[RUN_MARKER_ENV] = marker;
  state.setRunMarker(marker);
  state.add('pids', process.pid);
  if (process.argv[1]) state.setMainScript(process.argv[1]);

  let inputs: ActionInputs;
  try {
    inputs = readInputs();
  } catch (err) {
    if (err instanceof InputError) return core.setFailed(maskText(err.message));
    throw err;
  }
  process.chdir(inputs.workingDirectory);
  const ctx = readRunContext();

  const tmp = await mkdtemp(join(process.env.RUNNER_TEMP || tmpdir(), 'pvbench-'));
  state.add('tempDirs', tmp);
  if (inputs.kubeconfig) {
    process.env.KUBECONFIG = await installKubeconfig(inputs.kubeconfig, tmp);
    core.info(`kubeconfig: from the kubeconfig input (${process.env.KUBECONFIG})`);
  }

  const overrides = overridesFrom(inputs);
  let suite: Suite;
  try {
    suite = await resolveSuite(inputs.suite, overrides);
  } catch (err) {
    if (err instanceof ConfigError) return core.setFailed(maskText(err.message));
    throw err;
  }
  state.flag('keep', keeps(suite));
  const reportMarker = suiteMarker(suite.name);
  const client = inputs.githubToken ? createClient(inputs.githubToken, ctx.apiUrl) : undefined;

  const baseline = await core.group(`pvbench: baseline (${inputs.baseline.kind})`, async () => {
    const b = await resolveBaseline({ source: inputs.baseline, artifactName: inputs.baselineArtifact, suite, ctx, client, log: (m) => actionLogger.info(m) });
    core.info(`baseline: ${b.runs.length} earlier run(s) from ${b.source}`);
    return b;
  });

  const cancel = cancellation();
  let outcome;
  try {
    outcome = await runPipeline({
      suiteFile: inputs.suite,
      overrides,
      baseline,
      git: {
        sha: ctx.pullRequest?.headSha ?? ctx.sha,
        ref: ctx.ref,
        runId: ctx.runId !== undefined ? String(ctx.runId) : undefined,
        runUrl: ctx.runUrl,
      },
      marker: reportMarker,
      log: actionLogger,
      signal: cancel.signal,
      onCreated: (what) => state.add(what.kind === 'dir' ? 'platformDirs' : 'kindClusters', what.value),
    });
  } catch (err) {
    if (err instanceof ConfigError) return core.setFailed(maskText(err.message));
    throw err;
  } finally {
    cancel.dispose();
  }
  state.flag('finished', true);

  const notices: string[] = [];
  if (inputs.uploadArtifact && !outcome.results.run.complete) {
    // A run that did not finish is no baseline for later runs: its missing trials would skew them.
    const notice = 'results not uploaded as a baseline artifact: the run did not finish';
    core.info(notice);
    notices.push(notice);
  } else if (inputs.uploadArtifact) {
    const up = await uploadResultsArtifact({ name: inputs.baselineArtifact, files: [outcome.paths.results], rootDirectory: outcome.paths.dir });
    if (up.uploaded) core.info(`artifact: uploaded "${inputs.baselineArtifact}" (id ${up.id ?? '?'}) for later runs`);
    if (up.notice) {
      core.info(up.notice);
      notices.push(up.notice);
    }
  }

  const published = await core.group('pvbench: report', async () => {
    try {
      return await publishReport({ client, ctx, comment: inputs.comment, marker: reportMarker, report: outcome.report, notices });
    } catch (err) {
      // The verdict and outputs still count when the summary cannot be written.
      core.warning(maskText(`publishing the report failed: ${err instanceof Error ? err.message : String(err)}`), { title: 'pvbench: report not published' });
      return { comment: undefined };
    }
  });

  setOutputs({
    verdict: outcome.verdict,
    resultsPath: outcome.paths.results,
    reportPath: outcome.paths.report,
    regressions: outcome.regressions,
    integrityFailures: outcome.integrityFailures,
    commentUrl: published.comment?.url ?? '',
  });

  for (const f of outcome.findings) {
    const props = { title: maskText(f.title) };
    if (f.level === 'error') core.error(maskText(f.message), props);
    else if (f.level === 'notice') core.notice(maskText(f.message), props);
    else core.warning(maskText(f.message), props);
  }

  if (outcome.verdict === 'fail') {
    core.setFailed(maskText(['pvbench: FAIL', ...outcome.reasons.map((r) => `- ${r}`)].join('\n')));
  } else {
    core.info(`pvbench: PASS (${outcome.results.trials.length} trial(s); report: ${outcome.paths.report})`);
  }
}
