// The one core the CLI and the action share: load the suite, run it, compare with the baseline, render the
// report, write results.json, report.md and the history entry.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError, defaultSuite, EMBEDDED_DEFAULT, loadSuiteFile } from '../config/load.ts';
import type { Suite } from '../config/schema.ts';
import { crossFieldProblems } from '../config/schema.ts';
import { compare } from '../baseline/compare.ts';
import type { BaselineInput, Comparison } from '../baseline/compare.ts';
import { loadBaselineFile, loadHistory, saveToHistory } from '../baseline/store.ts';
import { renderReport, templateError } from '../report/render.ts';
import { oneLine } from '../report/format.ts';
import { LocalPlatform } from '../platform/local/platform.ts';
import type { Platform } from '../platform/types.ts';
import { maskSecrets } from '../platform/secrets.ts';
import { duplicateNames } from './plan.ts';
import type { ResultsFile } from './results.ts';
import { runSuite } from './run.ts';
import { lockOutputDir } from './output-lock.ts';

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

export interface PipelineOverrides {
  trials?: number;
  outputDir?: string;
  threshold?: number;
  failOnRegression?: boolean;
  templateFile?: string;
  platform?: 'local' | 'kubernetes';
  title?: string;
  /** "none", or a results file (or directory of them) to compare with: overrides compare.baseline. */
  baseline?: string;
}

export interface PipelineOptions {
  /** undefined → the embedded default suite. */
  suiteFile?: string;
  overrides?: PipelineOverrides;
  /** A baseline found by the caller (e.g. a GitHub artifact); else the suite's compare.baseline is used. */
  baseline?: BaselineInput;
  git?: ResultsFile['run']['git'];
  /** Hidden marker placed first in the report. */
  marker?: string;
  log: Logger;
  signal?: AbortSignal;
  /** The platform to run on (tests: a fake one); by default the suite's, made by createPlatform. */
  platform?: Platform;
  /** Told about everything the run creates outside output.dir, so a post step can remove it after a cancel. */
  onCreated?: (what: { kind: 'dir' | 'kind-cluster'; value: string }) => void;
}

export interface Finding {
  level: 'error' | 'warning' | 'notice';
  title: string;
  message: string;
}

export interface PipelineOutcome {
  results: ResultsFile;
  comparison: Comparison;
  report: string;
  verdict: 'pass' | 'fail';
  regressions: number;
  integrityFailures: number;
  reasons: string[];
  paths: { dir: string; results: string; report: string };
  findings: Finding[];
}

export function suiteMarker(suiteName: string): string {
  return `<!-- pvbench:suite=${suiteName} -->`;
}

/** The suite after command-line / action overrides; throws ConfigError naming the override. */
export async function resolveSuite(suiteFile: string | undefined, o: PipelineOverrides = {}): Promise<Suite> {
  const suite = suiteFile ? await loadSuiteFile(suiteFile) : defaultSuite();
  const file = suiteFile ?? EMBEDDED_DEFAULT;
  const bad = (key: string, message: string, fix: string) => new ConfigError([{ file: '(overrides)', line: 0, column: 0, key, message, fix }]);
  if (o.trials !== undefined) {
    if (!Number.isInteger(o.trials) || o.trials < 1 || o.trials > 100) throw bad('trials', `${o.trials} is not a whole number from 1 to 100`, 'pass e.g. --trials 3');
    suite.trials = o.trials;
  }
  if (o.threshold !== undefined) {
    if (!(o.threshold >= 0 && o.threshold <= 10)) throw bad('threshold', `${o.threshold} is not a fraction from 0 to 10`, 'pass e.g. --threshold 0.1 for 10%');
    suite.compare.threshold = o.threshold;
  }
  if (o.failOnRegression !== undefined) suite.compare.failOnRegression = o.failOnRegression;
  if (o.outputDir) suite.output.dir = o.outputDir;
  if (o.templateFile) suite.report.template = o.templateFile;
  if (o.title) suite.report.title = o.title;
  if (o.baseline) suite.compare.baseline = o.baseline === 'none' ? { ...suite.compare.baseline, source: 'none' } : { ...suite.compare.baseline, source: 'file', path: o.baseline };
  if (o.platform && o.platform !== suite.platform.kind) {
    if (o.platform === 'kubernetes') throw bad('platform', 'the kubernetes platform needs its cluster settings', `set platform.kind: kubernetes with a cluster block in the suite file (${file})`);
    suite.platform = { kind: 'local', keep: false, timeoutSeconds: 3600, cache: 'warm' };
    // The file passed these checks when it was loaded and no other override touches what they read (platform,
    // scenarios, tools, workload, ab): a problem now comes from running it locally, i.e. a node outage.
    const cross = crossFieldProblems(suite);
    if (cross.length) {
      throw new ConfigError(
        cross.map((p) => {
          const key = p.path.map((k) => (typeof k === 'number' ? `[${k}]` : k)).join('.').replace(/\.\[/g, '[');
          return { file: '(overrides)', line: 0, column: 0, key: 'platform', message: `platform=${o.platform} (--platform, or the action's platform input) runs ${file} locally, but ${key} is "node": ${p.message.replace(/, and this suite runs on .*$/, '')}`, fix: `drop the platform override, or set ${key}: workload in ${file}` };
        }),
      );
    }
  }
  const dups = duplicateNames(suite);
  if (dups.length) throw new ConfigError(dups.map((d) => ({ file, line: 0, column: 0, key: d.startsWith('tool') ? 'tools' : 'scenarios', message: d, fix: 'give each a unique name (tools: the name key)' })));
  return suite;
}

export async function createPlatform(suite: Suite, onCreated?: PipelineOptions['onCreated']): Promise<Platform> {
  const p = suite.platform;
  if (p.kind === 'local') return new LocalPlatform({ workdir: p.workdir, keep: p.keep, timeoutMs: p.timeoutSeconds * 1000, cache: p.cache });
  const { KubernetesPlatform } = await import('../platform/kubernetes/platform.ts');
  return new KubernetesPlatform(p, suite, { onCreated });
}

export async function loadBaseline(suite: Suite, outDir: string): Promise<BaselineInput> {
  const b = suite.compare.baseline;
  if (b.source === 'none') return { runs: [], source: 'none', notice: 'no baseline: compare.baseline.source is "none" (or --baseline none, or the action\'s baseline: none), so nothing is compared' };
  if (b.source === 'file') {
    if (!b.path) return { runs: [], source: 'file', notice: 'compare.baseline.source is "file" but compare.baseline.path is not set' };
    return loadBaselineFile(resolve(b.path), suite.name);
  }
  return loadHistory(join(outDir, 'history'), { suiteName: suite.name, maxRuns: b.maxRuns });
}

/** The report template override of the suite, read and compiled (undefined: the built-in one). */
export async function readTemplate(suite: Suite): Promise<string | undefined> {
  const file = suite.report.template;
  if (!file) return undefined;
  const problem = (message: string) => new ConfigError([{ file, line: 0, column: 0, key: 'report.template', message, fix: 'point report.template (or --template) at a Handlebars file that compiles, e.g. a copy of templates/report.md.hbs' }]);
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (err) {
    throw problem(`cannot read the template (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const error = templateError(source);
  if (error) throw problem(`the template does not compile (${oneLine(error)})`);
  return source;
}

/** Comparison, report and findings for a results file: pure apart from reading a template override. */
export async function analyse(results: ResultsFile, baseline: BaselineInput, suite: Suite, marker?: string): Promise<{ comparison: Comparison; report: string; findings: Finding[] }> {
  const comparison = compare(results, baseline, suite.compare);
  const template = await readTemplate(suite);
  const report = maskSecrets(
    renderReport({ results, comparison, title: suite.report.title ?? `pvbench: ${suite.name}`, marker: marker ?? suiteMarker(suite.name), template, maxChars: suite.report.maxChars }),
  );
  const findings: Finding[] = [];
  for (const cell of comparison.cells) {
    for (const m of cell.metrics) {
      if (m.status === 'regression') {
        findings.push({ level: suite.compare.failOnRegression ? 'error' : 'warning', title: `pvbench regression: ${cell.tool} / ${cell.scenario}`, message: `${m.label} ${formatRatio(m.ratio)} vs baseline${m.pValue !== undefined ? ` (p=${m.pValue.toPrecision(2)})` : ''}` });
      }
    }
  }
  const ab = comparison.ab;
  if (ab) {
    for (const line of ab.worse) findings.push({ level: ab.failOnRegression ? 'error' : 'warning', title: `pvbench A/B: ${ab.b} worse than ${ab.a}`, message: line });
    for (const line of ab.better) findings.push({ level: 'notice', title: `pvbench A/B: ${ab.b} better than ${ab.a}`, message: line });
  }
  for (const t of results.trials) {
    if (t.status === 'failed') findings.push({ level: 'error', title: `pvbench integrity: ${t.tool} / ${t.scenario} #${t.trial}`, message: t.error ?? 'integrity loss after restore' });
    if (t.status === 'error') findings.push({ level: 'error', title: `pvbench error: ${t.tool} / ${t.scenario} #${t.trial}`, message: t.error ?? 'the trial did not complete' });
    if (t.status === 'not-injected') findings.push({ level: suite.compare.failOnNotInjected ? 'error' : 'warning', title: `pvbench fault not injected: ${t.tool} / ${t.scenario} #${t.trial}`, message: t.error ?? `the ${t.fault.kind} fault did not land` });
  }
  return { comparison, report, findings };
}

/** A regression's ratio as a signed whole percentage (+25%), or "changed" without one. */
export function formatRatio(r: number | undefined): string {
  if (r === undefined) return 'changed';
  const pct = Math.round((r - 1) * 100);
  return `${pct >= 0 ? '+' : ''}${pct}%`;
}

export async function runPipeline(opts: PipelineOptions): Promise<PipelineOutcome> {
  const suite = await resolveSuite(opts.suiteFile, opts.overrides);
  const dir = resolve(suite.output.dir);
  const paths = { dir, results: join(dir, 'results.json'), report: join(dir, 'report.md') };
  // Everything that can be found wrong before the first trial is: the template, the output directory, the rights.
  await readTemplate(suite);
  if (suite.platform.kind === 'local' && suite.platform.cache === 'cold' && process.getuid?.() !== 0) {
    throw new ConfigError([{ file: opts.suiteFile ?? EMBEDDED_DEFAULT, line: 0, column: 0, key: 'platform.cache', message: 'cold drops the page cache before each operation, which needs root', fix: 'run pvbench as root, or set platform.cache: warm' }]);
  }
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new ConfigError([{ file: '(overrides)', line: 0, column: 0, key: 'output.dir', message: `cannot create the output directory ${dir} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, fix: 'pass --output with a directory you can write (or set output.dir)' }]);
  }
  const lock = await lockOutputDir(dir, (m) => opts.log.warn(m)).catch((err: unknown) => {
    if (err instanceof ConfigError || !(err as NodeJS.ErrnoException).code) throw err;
    throw new ConfigError([{ file: '(overrides)', line: 0, column: 0, key: 'output.dir', message: `cannot write to the output directory ${dir} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, fix: 'pass --output with a directory you can write (or set output.dir)' }]);
  });
  try {
    return await runLocked(opts, suite, paths);
  } finally {
    await lock.release();
  }
}

async function runLocked(opts: PipelineOptions, suite: Suite, paths: PipelineOutcome['paths']): Promise<PipelineOutcome> {
  const { log } = opts;
  const { dir } = paths;
  // Read before the run, which overwrites results.json: `--baseline <output>/results.json` means the previous run.
  const baseline = opts.baseline ?? (await loadBaseline(suite, dir));
  // The report of an earlier run must not sit beside this run's results as if it described them (if this run is
  // killed before it writes its own).
  await writeFile(paths.report, `# pvbench: ${suite.name}\n\nA run started at ${new Date().toISOString()} is in progress, or was stopped before it could write its report. ${paths.results} holds what it measured; \`pvbench report ${paths.results}\` renders it.\n`);
  const platform = opts.platform ?? (await createPlatform(suite, opts.onCreated));
  let results: ResultsFile;
  try {
    results = await log.group(`pvbench: running suite "${suite.name}" on ${suite.platform.kind} (${suite.trials} trial(s))`, async () => {
      await platform.prepare((m) => log.warn(m));
      for (const c of platform.created()) opts.onCreated?.(c);
      return runSuite({ suite, suiteFile: opts.suiteFile ?? EMBEDDED_DEFAULT, platform, resultsPath: paths.results, git: opts.git, log: (m) => log.info(m), signal: opts.signal });
    });
  } finally {
    await platform.cleanup().catch((err: unknown) => log.warn(`cleanup: ${err instanceof Error ? err.message : String(err)}`));
  }
  const { comparison, report, findings } = await analyse(results, baseline, suite, opts.marker);
  if (comparison.baseline.notice) log.warn(`baseline: ${comparison.baseline.notice}`);
  await writeFile(paths.report, report);
  // Only passing runs join the history: a failed run in the baseline pool would pull it towards the regression.
  if (results.run.complete && comparison.verdict === 'pass') await saveToHistory(join(dir, 'history'), results);
  return {
    results,
    comparison,
    report,
    verdict: comparison.verdict,
    regressions: comparison.regressions,
    integrityFailures: comparison.integrityFailures,
    reasons: comparison.reasons,
    paths,
    findings,
  };
}
