// Baselines from earlier runs and the upload of this run's results.
//
// Download: the newest successful runs of the same workflow on the base branch (REST: list workflow runs, list
// run artifacts), the named unexpired artifact's zip (a 302 to blob storage, followed without the token), the
// results JSON read out of the zip. Any problem becomes a notice in the report; nothing here throws.
// Upload: @actions/artifact, only where the runner provides its runtime credentials.
import type { BaselineInput } from '../baseline/compare.ts';
import { runDifferences } from '../baseline/compatible.ts';
import type { RunIdentity } from '../baseline/compatible.ts';
import { parseResults, ResultsFileError } from '../baseline/store.ts';
import type { ResultsFile } from '../suite/results.ts';
import type { GitHubClient } from './client.ts';
import { errorMessage, errorStatus } from './client.ts';
import { listZip, readZipEntry } from './zip.ts';

/** What the pipeline compares with: earlier runs, where they came from, and a notice when there are none. */
export type BaselineData = BaselineInput;

export const DEFAULT_ARTIFACT_NAME = 'pvbench-results';
const MAX_ZIP_BYTES = 256 * 1024 * 1024;
const MAX_JSON_BYTES = 64 * 1024 * 1024;

export type ParsedResults = { ok: true; results: ResultsFile } | { ok: false; problem: string };

/**
 * Parse and check a results file as an artifact baseline: what baseline/store.ts's parseResults checks (JSON,
 * schemaVersion, the fields the comparison reads), and that it is a complete run of this suite.
 */
export function parseResultsJson(text: string, where: string, suiteName?: string): ParsedResults {
  let r: ResultsFile;
  try {
    r = parseResults(text, where);
  } catch (err) {
    return { ok: false, problem: err instanceof ResultsFileError ? `${where}: ${err.problem}` : `${where}: ${String(err)}` };
  }
  if (suiteName !== undefined && r.suite.name !== suiteName) return { ok: false, problem: `${where} holds suite "${r.suite.name}", not "${suiteName}"` };
  if (!r.run.complete) return { ok: false, problem: `${where} is from an interrupted run (run.complete is false)` };
  return { ok: true, results: r };
}

export interface ArtifactBaselineOptions {
  client: GitHubClient;
  owner: string;
  repo: string;
  /** Workflow file name (from GITHUB_WORKFLOW_REF), accepted by the API as workflow_id. */
  workflowFile?: string;
  /** The base branch of the pull request (or the branch of a push run). */
  branch?: string;
  artifactName: string;
  suiteName: string;
  /** How many earlier runs to gather (the suite's compare.baseline.maxRuns). */
  maxRuns: number;
  /** This run: never its own baseline. */
  excludeRunId?: number;
  /**
   * What this run will be (results schema, suite, host class): runs that differ are named and left out, and do not
   * count towards maxRuns. Without it the newest runs are taken as they are (the comparison still keeps them apart).
   */
  identity?: RunIdentity;
  log?: (msg: string) => void;
  /** fetch used for the redirect target (blob storage); globalThis.fetch by default. */
  fetchImpl?: typeof fetch;
  /** Per-download time limit. */
  timeoutMs?: number;
}

interface WorkflowRun {
  id: number;
  run_number?: number;
  head_branch?: string | null;
  head_sha?: string;
  event?: string;
  conclusion?: string | null;
  html_url?: string;
  head_repository?: { full_name?: string } | null;
}

interface Artifact {
  id: number;
  name: string;
  expired?: boolean;
  size_in_bytes?: number;
  created_at?: string | null;
}

/** Download an artifact's zip: the API answers with a redirect to blob storage, which must not get the token. */
export async function downloadArtifactZip(client: GitHubClient, o: { owner: string; repo: string; artifactId: number; fetchImpl?: typeof fetch; timeoutMs?: number }): Promise<Buffer> {
  const res = await client.request('GET /repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}', {
    owner: o.owner,
    repo: o.repo,
    artifact_id: o.artifactId,
    archive_format: 'zip',
    request: { redirect: 'manual' },
  });
  if (res.status >= 300 && res.status < 400) {
    const location = res.headers.location;
    if (typeof location !== 'string' || !location) throw new Error(`the API answered ${res.status} without a Location`);
    const target = new URL(location, res.url ?? undefined);
    const doFetch = o.fetchImpl ?? globalThis.fetch;
    // A new request with no Authorization header: the signed URL is the credential.
    const blob = await doFetch(target, { redirect: 'follow', signal: AbortSignal.timeout(o.timeoutMs ?? 120_000) });
    if (!blob.ok) throw new Error(`downloading the archive from ${target.origin} failed: HTTP ${blob.status}`);
    const len = Number(blob.headers.get('content-length') ?? 0);
    if (len > MAX_ZIP_BYTES) throw new Error(`the archive is ${len} bytes, more than the ${MAX_ZIP_BYTES} allowed`);
    const buf = Buffer.from(await blob.arrayBuffer());
    if (buf.length > MAX_ZIP_BYTES) throw new Error(`the archive is more than ${MAX_ZIP_BYTES} bytes`);
    return buf;
  }
  if (res.data instanceof ArrayBuffer) return Buffer.from(res.data);
  if (Buffer.isBuffer(res.data)) return res.data;
  throw new Error(`unexpected answer to the download request (HTTP ${res.status})`);
}

/** The results JSON inside an artifact zip: results.json at any depth, else the first *.json that parses. */
export function resultsFromZip(zip: Buffer, where: string, suiteName: string): ParsedResults {
  let entries;
  try {
    entries = listZip(zip).filter((e) => !e.isDirectory && e.name.toLowerCase().endsWith('.json'));
  } catch (err) {
    return { ok: false, problem: `${where} is not a readable zip (${err instanceof Error ? err.message : String(err)})` };
  }
  if (entries.length === 0) return { ok: false, problem: `${where} holds no .json file` };
  entries.sort((a, b) => Number(b.name.endsWith('results.json')) - Number(a.name.endsWith('results.json')));
  const problems: string[] = [];
  for (const e of entries) {
    try {
      const parsed = parseResultsJson(readZipEntry(zip, e, MAX_JSON_BYTES).toString('utf8'), `${where}:${e.name}`, suiteName);
      if (parsed.ok) return parsed;
      problems.push(parsed.problem);
    } catch (err) {
      problems.push(`${where}:${e.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { ok: false, problem: problems.join('; ') };
}

const NON_BASELINE_EVENTS = new Set(['pull_request', 'pull_request_target']);

/**
 * Results of the newest successful runs of this workflow on the base branch, from their artifacts. Never throws:
 * whatever goes wrong is said in `notice`, and the comparison goes ahead without (or with fewer) baseline runs.
 */
export async function fetchArtifactBaseline(o: ArtifactBaselineOptions): Promise<BaselineData> {
  const log = o.log ?? (() => undefined);
  const source = `artifact "${o.artifactName}"${o.branch ? ` from ${o.branch}` : ''}`;
  const none = (notice: string): BaselineData => ({ runs: [], source, notice });
  if (!o.workflowFile) return none('cannot tell which workflow this is (GITHUB_WORKFLOW_REF is not set), so no earlier run was looked up');
  if (!o.branch) return none('this run has no base branch (not a pull request, push or dispatch on a branch), so no earlier run was looked up');

  let runs: WorkflowRun[];
  try {
    const res = await o.client.request('GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs', {
      owner: o.owner,
      repo: o.repo,
      workflow_id: o.workflowFile,
      branch: o.branch,
      status: 'success',
      exclude_pull_requests: true,
      per_page: Math.min(100, Math.max(10, o.maxRuns * 4)),
    });
    const data = res.data as { workflow_runs?: WorkflowRun[] };
    runs = Array.isArray(data?.workflow_runs) ? data.workflow_runs : [];
  } catch (err) {
    const status = errorStatus(err);
    if (status === 403) return none(`the token may not read workflow runs (${errorMessage(err)}); give the job "permissions: actions: read"`);
    if (status === 404) return none(`workflow ${o.workflowFile} was not found in ${o.owner}/${o.repo} (${errorMessage(err)})`);
    return none(`listing the runs of ${o.workflowFile} failed: ${errorMessage(err)}${status ? ` (HTTP ${status})` : ''}`);
  }
  const candidates = runs.filter(
    (r) =>
      typeof r.id === 'number' &&
      r.id !== o.excludeRunId &&
      r.head_branch === o.branch &&
      (r.conclusion === undefined || r.conclusion === null || r.conclusion === 'success') &&
      !NON_BASELINE_EVENTS.has(r.event ?? '') &&
      (!r.head_repository?.full_name || r.head_repository.full_name.toLowerCase() === `${o.owner}/${o.repo}`.toLowerCase()),
  );
  if (candidates.length === 0) return none(`no successful run of ${o.workflowFile} on ${o.branch} yet, so there is nothing to compare with (the first run on ${o.branch} becomes the baseline)`);

  const found: ResultsFile[] = [];
  const used: string[] = [];
  const problems: string[] = [];
  const leftOut: string[] = [];
  for (const run of candidates) {
    if (found.length >= o.maxRuns) break;
    const label = `run ${run.run_number !== undefined ? `#${run.run_number} ` : ''}(${run.id})`;
    let artifacts: Artifact[];
    try {
      const res = await o.client.request('GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts', {
        owner: o.owner,
        repo: o.repo,
        run_id: run.id,
        name: o.artifactName,
        per_page: 100,
      });
      const data = res.data as { artifacts?: Artifact[] };
      artifacts = Array.isArray(data?.artifacts) ? data.artifacts : [];
    } catch (err) {
      problems.push(`${label}: listing artifacts failed (${errorMessage(err)})`);
      continue;
    }
    const named = artifacts.filter((a) => a.name === o.artifactName);
    const artifact = named
      .filter((a) => !a.expired)
      .sort((a, b) => String(b.created_at ?? '').localeCompare(String(a.created_at ?? '')) || b.id - a.id)[0];
    if (!artifact) {
      problems.push(named.length ? `${label}: artifact "${o.artifactName}" has expired` : `${label}: no artifact "${o.artifactName}"`);
      continue;
    }
    let zip: Buffer;
    try {
      log(`baseline: downloading artifact "${artifact.name}" (${artifact.size_in_bytes ?? '?'} bytes) of ${label}`);
      zip = await downloadArtifactZip(o.client, { owner: o.owner, repo: o.repo, artifactId: artifact.id, fetchImpl: o.fetchImpl, timeoutMs: o.timeoutMs });
    } catch (err) {
      problems.push(`${label}: download failed (${errorMessage(err)})`);
      continue;
    }
    const parsed = resultsFromZip(zip, `artifact of ${label}`, o.suiteName);
    if (!parsed.ok) {
      problems.push(parsed.problem);
      continue;
    }
    const diffs = o.identity ? runDifferences(o.identity, parsed.results) : [];
    if (diffs.length) {
      log(`baseline: ${label} is not comparable (${diffs.join(', ')}); left out`);
      leftOut.push(`${label}: ${diffs.join(', ')}`);
      continue;
    }
    found.push(parsed.results);
    used.push(`${label}${run.head_sha ? ` at ${run.head_sha.slice(0, 7)}` : ''}`);
  }
  const notices: string[] = [];
  if (leftOut.length) notices.push(`left out of the baseline, not pooled: ${leftOut.slice(0, 10).join('; ')}${leftOut.length > 10 ? ` and ${leftOut.length - 10} more` : ''}`);
  if (problems.length) notices.push(`skipped: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ' …' : ''}`);
  if (found.length === 0) {
    return none(`no ${leftOut.length ? 'comparable' : 'usable'} baseline in the last ${candidates.length} successful run(s) of ${o.workflowFile} on ${o.branch}: ${notices.join('; ').replace(/^skipped: /, '')}`);
  }
  return {
    runs: found,
    source: `artifact "${o.artifactName}" of ${o.workflowFile} on ${o.branch}: ${used.join(', ')}`,
    notice: notices.length ? notices.join('; ') : undefined,
  };
}

export interface UploadOutcome {
  uploaded: boolean;
  id?: number;
  notice?: string;
}

/** Upload the run's results as an artifact for later runs; only possible on a GitHub Actions runner. */
export async function uploadResultsArtifact(o: {
  name: string;
  files: string[];
  rootDirectory: string;
  retentionDays?: number;
  env?: Record<string, string | undefined>;
}): Promise<UploadOutcome> {
  const env = o.env ?? process.env;
  if (!env.ACTIONS_RUNTIME_TOKEN || !env.ACTIONS_RESULTS_URL) {
    return { uploaded: false, notice: 'artifact upload skipped: not running on GitHub Actions runner (ACTIONS_RUNTIME_TOKEN / ACTIONS_RESULTS_URL are not set)' };
  }
  try {
    const { DefaultArtifactClient } = await import('@actions/artifact');
    const res = await new DefaultArtifactClient().uploadArtifact(o.name, o.files, o.rootDirectory, o.retentionDays ? { retentionDays: o.retentionDays } : {});
    return { uploaded: true, id: res.id };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const hint = /conflict|already exists|409/i.test(message) ? ' (an artifact name can be used once per workflow run: give each pvbench step its own baseline-artifact)' : '';
    return { uploaded: false, notice: `artifact upload failed: ${message}${hint}` };
  }
}
