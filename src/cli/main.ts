// The pvbench command line: run, compare, report, validate, schema. Thin: everything real is in suite/.
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/load.ts';
import { suiteJsonSchema } from '../config/schema.ts';
import { parseResults, ResultsFileError } from '../baseline/store.ts';
import type { AbComparison } from '../baseline/ab.ts';
import { analyse, loadBaseline, runPipeline, resolveSuite } from '../suite/pipeline.ts';
import type { Logger } from '../suite/pipeline.ts';
import { ResultsWriteError } from '../suite/run.ts';
import { formatPercent, plainText } from '../report/format.ts';
import { buildManifest } from '../metrics/manifest.ts';
import { churnProxy, seedProxy } from '../workloads/mesh-proxy.ts';
import { workloadSchema } from '../config/schema.ts';

const USAGE = `pvbench: benchmark persistent-volume backup tools under faults

Usage:
  pvbench run [suite.yaml] [--trials N] [--output DIR] [--baseline FILE|none] [--threshold 0.1]
              [--template FILE] [--no-fail-on-regression]
      Run the suite (the embedded default when no file is given): results.json, report.md and
      history/ under --output (default .pvbench). Exit 1 on a regression, an integrity loss, an errored
      trial or a run that did not finish; 130 (143) after Ctrl-C (SIGTERM), which stops the operation in
      progress and writes what finished (a second one ends pvbench at once).
  pvbench compare <results.json> [--baseline FILE|DIR] [--suite suite.yaml] [--threshold 0.1] [--out report.md]
      Compare a results file with a baseline; print the verdict; exit 1 when it fails.
  pvbench report <results.json> [--baseline FILE|DIR] [--suite suite.yaml] [--out report.md]
      Render the Markdown report for a results file (to stdout without --out).
  pvbench validate <suite.yaml>...   Check suite files; errors name file, line, key and fix.
  pvbench schema [--out FILE]        Print the suite's JSON Schema (for editors).
  pvbench seed --volume DIR --proxy N [--seed S] [--workload JSON]
      Write one proxy's volume with the deterministic generator (used inside Kubernetes Jobs).
  pvbench churn --volume DIR --proxy N [--seed S] [--round R] [--workload JSON]
      Apply the churn step to one proxy's volume (used inside Kubernetes Jobs).
  pvbench manifest DIR               Print the sha256 manifest of a directory as JSON.
`;

export class UsageError extends Error {}

function consoleLogger(): Logger {
  return {
    // Tool output and names reach the terminal as plain text (no escape sequences).
    info: (m) => process.stderr.write(`${plainText(m)}\n`),
    warn: (m) => process.stderr.write(`warning: ${plainText(m)}\n`),
    error: (m) => process.stderr.write(`error: ${plainText(m)}\n`),
    group: async (name, fn) => {
      process.stderr.write(`== ${name}\n`);
      return fn();
    },
  };
}

function num(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`${flag} takes a number, got ${JSON.stringify(v)}`);
  return n;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  const log = consoleLogger();
  switch (command) {
    case 'run': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          trials: { type: 'string' },
          output: { type: 'string' },
          baseline: { type: 'string' },
          threshold: { type: 'string' },
          template: { type: 'string' },
          'no-fail-on-regression': { type: 'boolean' },
        },
      });
      if (positionals.length > 1) throw new UsageError('run takes at most one suite file');
      const suiteFile = positionals[0];
      const outputDir = values.output;
      const controller = new AbortController();
      // The first Ctrl-C or SIGTERM stops the operation in progress and writes what finished; a second one ends
      // pvbench at once (Node's default for a signal without a handler).
      let interruptedBy: NodeJS.Signals | undefined;
      const onSignal = (sig: NodeJS.Signals) => {
        interruptedBy = sig;
        log.warn(`interrupted (${sig}): stopping the operation in progress, then writing the results and report of what finished`);
        controller.abort();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const out = await runPipeline({
          suiteFile,
          overrides: {
            trials: num(values.trials, '--trials'),
            outputDir,
            threshold: num(values.threshold, '--threshold'),
            templateFile: values.template,
            failOnRegression: values['no-fail-on-regression'] ? false : undefined,
            baseline: values.baseline,
          },
          log,
          signal: controller.signal,
        });
        printVerdict(out.verdict, out.reasons, out.paths, out.comparison.ab);
        // 128 + the signal's number, as a shell reports a command ended by it.
        if (interruptedBy) return 128 + (interruptedBy === 'SIGINT' ? 2 : 15);
        return out.verdict === 'pass' ? 0 : 1;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    }
    case 'compare':
    case 'report': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { baseline: { type: 'string' }, suite: { type: 'string' }, threshold: { type: 'string' }, out: { type: 'string' } },
      });
      const file = positionals[0];
      if (!file || positionals.length > 1) throw new UsageError(`${command} takes one results file`);
      const results = parseResults(await readFile(file, 'utf8').catch(() => {
        throw new UsageError(`cannot read ${file}: pass the path of a results.json written by pvbench run`);
      }), file);
      const suite = await resolveSuite(values.suite, { threshold: num(values.threshold, '--threshold'), baseline: values.baseline });
      const baseline = await loadBaseline(suite, resolve(file, '..'));
      const { comparison, report } = await analyse(results, baseline, suite);
      if (comparison.baseline.notice) log.warn(`baseline: ${comparison.baseline.notice}`);
      if (values.out) await writeFile(values.out, report);
      if (command === 'report') {
        if (!values.out) process.stdout.write(report);
        return 0;
      }
      printVerdict(comparison.verdict, comparison.reasons, values.out ? { report: values.out } : undefined, comparison.ab);
      return comparison.verdict === 'pass' ? 0 : 1;
    }
    case 'validate': {
      if (rest.length === 0) throw new UsageError('validate takes one or more suite files');
      let bad = 0;
      for (const f of rest) {
        try {
          await resolveSuite(f);
          process.stdout.write(`${f}: ok\n`);
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          bad++;
          process.stdout.write(`${err.message}\n`);
        }
      }
      return bad ? 2 : 0;
    }
    case 'schema': {
      const { values } = parseArgs({ args: rest, options: { out: { type: 'string' } } });
      const text = JSON.stringify(suiteJsonSchema(), null, 2) + '\n';
      if (values.out) await writeFile(values.out, text);
      else process.stdout.write(text);
      return 0;
    }
    case 'seed':
    case 'churn': {
      const { values } = parseArgs({
        args: rest,
        options: { volume: { type: 'string' }, proxy: { type: 'string' }, seed: { type: 'string' }, round: { type: 'string' }, workload: { type: 'string' } },
      });
      if (!values.volume || values.proxy === undefined) throw new UsageError(`${command} needs --volume DIR and --proxy N`);
      const workload = parseWorkloadFlag(values.workload);
      const seed = num(values.seed, '--seed') ?? 42;
      const proxy = num(values.proxy, '--proxy') ?? 0;
      if (command === 'churn') {
        await churnProxy(values.volume, workload, seed, proxy, num(values.round, '--round') ?? 1);
        process.stdout.write(`${JSON.stringify({ volume: values.volume, churned: true })}\n`);
      } else {
        const bytes = await seedProxy(values.volume, workload, seed, proxy);
        process.stdout.write(`${JSON.stringify({ volume: values.volume, bytes })}\n`);
      }
      return 0;
    }
    case 'manifest': {
      if (rest.length !== 1 || !rest[0]) throw new UsageError('manifest takes one directory');
      process.stdout.write(JSON.stringify(await buildManifest(rest[0])) + '\n');
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

function parseWorkloadFlag(text: string | undefined) {
  let input: unknown = {};
  if (text) {
    try {
      input = JSON.parse(text);
    } catch {
      throw new UsageError('--workload takes the workload block as JSON');
    }
  }
  const parsed = workloadSchema.safeParse(input);
  if (!parsed.success) throw new UsageError(`--workload: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

function printVerdict(verdict: 'pass' | 'fail', reasons: string[], paths?: { results?: string; report?: string }, ab?: AbComparison): void {
  process.stdout.write(`pvbench: ${verdict === 'pass' ? 'PASS' : 'FAIL'}\n`);
  for (const r of reasons) process.stdout.write(`  - ${plainText(r)}\n`);
  if (ab) {
    const lines = [...ab.worse, ...ab.better];
    const beyond = `beyond ±${formatPercent(ab.threshold)}`;
    const head = ab.notice ?? (lines.length ? `${lines.length} difference(s) ${beyond}` : `no difference ${beyond} (${ab.rows.length} metric(s) compared)`);
    process.stdout.write(`A/B ${plainText(ab.b)} vs ${plainText(ab.a)}: ${plainText(head)}\n`);
    // The failing ones are already among the reasons.
    for (const l of ab.failOnRegression ? ab.better : lines) process.stdout.write(`  - ${plainText(l)}\n`);
  }
  if (paths?.results) process.stdout.write(`results: ${paths.results}\n`);
  if (paths?.report) process.stdout.write(`report:  ${paths.report}\n`);
}

/** Run main and map errors to exit codes: 2 for usage and configuration errors, 3 for anything unexpected. */
export async function cli(argv: string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof ResultsFileError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`pvbench: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof ResultsWriteError) {
      process.stderr.write(`pvbench: ${err.message}\n`);
      return 3;
    }
    process.stderr.write(`pvbench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 3;
  }
}
