// The harness around a run: inputs that fail fast and clearly, one run per output directory, no stale report
// beside new results, work directories of killed runs removed, and a results file that cannot be written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadSuiteFile } from '../../src/config/load.ts';
import { loadBaselineFile } from '../../src/baseline/store.ts';
import { suiteSchema } from '../../src/config/schema.ts';
import { LocalPlatform } from '../../src/platform/local/platform.ts';
import { runPipeline } from '../../src/suite/pipeline.ts';
import type { Logger } from '../../src/suite/pipeline.ts';
import { runSuite } from '../../src/suite/run.ts';

const SUITE = `name: harness
trials: 2
workload: { proxies: 1, accessLogLines: 50, statsSnapshots: 1, clusters: 2 }
tools:
  - type: copy
scenarios:
  - name: no-fault
    incremental: false
compare:
  baseline: { source: none }
`;

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined, group: (_n, fn) => fn() };

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-harness-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function configError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

test('a report template that does not compile is found before the first trial', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'bad.hbs'), '# {{title}}\n{{#each comparison.cells}}\n{{tool}}\n');
  await writeFile(join(dir, 'suite.yaml'), `${SUITE}report:\n  template: ${join(dir, 'bad.hbs')}\n`);
  const message = await configError(runPipeline({ suiteFile: join(dir, 'suite.yaml'), overrides: { outputDir: join(dir, 'out') }, log: quiet }));
  assert.match(message, new RegExp(`^${join(dir, 'bad.hbs')}: report\\.template: the template does not compile \\(Parse error on line 4: .*got 'EOF'\\)\\. Fix: `));
  await assert.rejects(stat(join(dir, 'out', 'results.json')), 'no trial ran, nothing was written');
});

test('an output directory that cannot be made or written is a clear error naming output.dir, before any trial', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'a-file'), 'x');
  await writeFile(join(dir, 'suite.yaml'), SUITE);
  const message = await configError(runPipeline({ suiteFile: join(dir, 'suite.yaml'), overrides: { outputDir: join(dir, 'a-file', 'out') }, log: quiet }));
  assert.match(message, /output\.dir: cannot create the output directory .*a-file\/out \(ENOTDIR\)\. Fix: pass --output with a directory you can write \(or set output\.dir\)/);
});

test('special and oversized suite and baseline files are refused with their limit named', async (t) => {
  const dir = await tempDir(t);
  assert.match(await configError(loadSuiteFile('/dev/zero')), /^\/dev\/zero: \(top level\): not a regular file \(a character device\)\. Fix: /);
  await mkdir(join(dir, 'a-dir'));
  assert.match(await configError(loadSuiteFile(join(dir, 'a-dir'))), /a-dir: \(top level\): not a regular file \(a directory\)/);
  const big = join(dir, 'big.yaml');
  await writeFile(big, '');
  await truncate(big, 2 * 1024 * 1024);
  assert.match(await configError(loadSuiteFile(big)), /big\.yaml: \(top level\): the suite file is 2\.0 MiB, more than the 1 MiB a suite may have\. Fix: /);
  // A results file far larger than any run writes: named and left out, not read into memory.
  const huge = join(dir, 'results.json');
  await writeFile(huge, '');
  await truncate(huge, 300 * 1024 * 1024);
  const b = await loadBaselineFile(huge, 'harness');
  assert.equal(b.runs.length, 0);
  assert.match(b.notice ?? '', /results\.json: the file is 300\.0 MiB, more than the 256 MiB a results file may have; pass a results\.json written by `pvbench run`; comparing without a baseline/);
});

test('legitimate YAML anchors and aliases are accepted; an alias bomb is refused', async (t) => {
  const dir = await tempDir(t);
  const anchors = SUITE.replace('tools:\n  - type: copy\n', 'tools:\n  - type: restic\n    options: &opts { compression: auto }\n  - type: restic\n    name: restic-two\n    options: *opts\n');
  await writeFile(join(dir, 'anchors.yaml'), anchors);
  const suite = await loadSuiteFile(join(dir, 'anchors.yaml'));
  assert.deepEqual(suite.tools.map((x) => [x.name ?? x.type, x.options.compression]), [
    ['restic', 'auto'],
    ['restic-two', 'auto'],
  ]);
  // Nine levels of ten aliases each: a billion nodes from a few hundred bytes.
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 9; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
  await writeFile(join(dir, 'bomb.yaml'), `${bomb.join('\n')}\n`);
  assert.match(await configError(loadSuiteFile(join(dir, 'bomb.yaml'))), /bomb\.yaml: \(top level\): the YAML expands its aliases into too many nodes \(more than \d+ alias uses\)\. Fix: /);
});

test('a second run on the same output directory refuses, naming the first; a lock whose owner is gone is taken over', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'suite.yaml'), SUITE);
  const out = join(dir, 'out');
  await mkdir(out);
  // A live owner: a process of ours that is not this one.
  const owner = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.after(() => owner.kill('SIGKILL'));
  await writeFile(join(out, '.pvbench.lock'), JSON.stringify({ pid: owner.pid, startedAt: '2026-11-29T10:00:00.000Z', runId: 'first1' }));
  const message = await configError(runPipeline({ suiteFile: join(dir, 'suite.yaml'), overrides: { outputDir: out }, log: quiet }));
  assert.match(message, new RegExp(`output\\.dir: ${out} is in use by another pvbench run \\(pid ${owner.pid}, started 2026-11-29T10:00:00\\.000Z\\)\\. Fix: wait for it to finish, or pass --output with another directory`));
  owner.kill('SIGKILL');
  await new Promise((r) => owner.once('exit', r));
  const warnings: string[] = [];
  const res = await runPipeline({ suiteFile: join(dir, 'suite.yaml'), overrides: { outputDir: out }, log: { ...quiet, warn: (m) => warnings.push(m) } });
  assert.equal(res.results.trials.length, 2);
  assert.ok(warnings.some((w) => w.includes(`took over ${join(out, '.pvbench.lock')}: its run (pid ${owner.pid}) is gone`)), warnings.join('\n'));
  await assert.rejects(stat(join(out, '.pvbench.lock')), 'the lock is released at the end');
});

test('a work directory left by a killed run is removed by a later run; one whose owner lives, or not made by pvbench, is kept', async (t) => {
  const parent = await tempDir(t);
  const dead = join(parent, 'pvbench-dead01');
  const live = join(parent, 'pvbench-live01');
  const foreign = join(parent, 'pvbench-notours');
  for (const d of [dead, live, foreign]) await mkdir(join(d, 'volumes'), { recursive: true });
  await writeFile(join(dead, '.pvbench-owner'), JSON.stringify({ pid: 2 ** 22 + 17, starttime: '1' }));
  await writeFile(join(live, '.pvbench-owner'), JSON.stringify({ pid: process.pid, starttime: (await readFile('/proc/self/stat', 'utf8')).split(') ')[1]!.split(' ')[19] }));
  const platform = new LocalPlatform({ workdir: parent, keep: false });
  const notes: string[] = [];
  await platform.prepare((m) => notes.push(m));
  try {
    const left = (await readdir(parent)).sort();
    assert.deepEqual(left.filter((n) => n !== platform.dir.split('/').pop()), ['pvbench-live01', 'pvbench-notours']);
    assert.deepEqual(notes, [`removed ${dead}: a work directory left by a pvbench run that is gone (pid ${2 ** 22 + 17})`]);
    assert.ok(JSON.parse(await readFile(join(platform.dir, '.pvbench-owner'), 'utf8')).pid === process.pid);
  } finally {
    await platform.cleanup();
  }
});

test('when results.json cannot be written, the last good file and every trial in it stay, the trial just measured is saved beside it, and the run stops with a clear error', async (t) => {
  const dir = await tempDir(t);
  const suite = suiteSchema.parse({ name: 'harness', trials: 3, workload: { proxies: 1, accessLogLines: 50, statsSnapshots: 1, clusters: 2 }, tools: [{ type: 'copy' }], scenarios: [{ name: 'no-fault', incremental: false }] });
  const platform = new LocalPlatform({ keep: false });
  const resultsPath = join(dir, 'results.json');
  let writes = 0;
  const failing = async (path: string, text: string) => {
    // The header and the tool list are written, then the first trial; the second trial's write finds the disk full.
    if (path === resultsPath && ++writes === 4) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    await writeFile(path, text);
  };
  try {
    await assert.rejects(runSuite({ suite, suiteFile: 'harness.yaml', platform, resultsPath, log: () => undefined, writeResults: failing }), (err: Error) => {
      assert.match(err.message, new RegExp(`^cannot write ${resultsPath} \\(ENOSPC\\): it still holds the 1 trial measured before; the trial just measured \\(copy / no-fault #2\\) is in ${resultsPath}\\.unsaved-\\d+\\.json\\. Fix: free space`));
      return true;
    });
  } finally {
    await platform.cleanup();
  }
  const kept = JSON.parse(await readFile(resultsPath, 'utf8')) as { trials: unknown[] };
  assert.equal(kept.trials.length, 1);
  const unsaved = (await readdir(dir)).filter((n) => n.startsWith('results.json.unsaved-'));
  assert.equal(unsaved.length, 1);
  const trial = JSON.parse(await readFile(join(dir, unsaved[0]!), 'utf8')) as { tool: string; trial: number; status: string };
  assert.deepEqual([trial.tool, trial.trial, trial.status], ['copy', 2, 'passed']);
});

test('every local tool operation has a timeout the suite sets (platform.timeoutSeconds)', async (t) => {
  const dir = await tempDir(t);
  const { createPlatform } = await import('../../src/suite/pipeline.ts');
  const suite = suiteSchema.parse({ platform: { kind: 'local', timeoutSeconds: 1 }, tools: [{ type: 'copy' }] });
  const platform = await createPlatform(suite);
  await platform.prepare();
  try {
    const { runLocalOp } = await import('../../src/tools/local-process.ts');
    const tool = platform.createTool(suite.tools[0]!) as unknown as { ctx: { timeoutMs: number } };
    assert.equal(tool.ctx.timeoutMs, 1000);
    const started = Date.now();
    await assert.rejects(runLocalOp({ tool: 'copy', cmd: 'sleep', args: ['30'], timeoutMs: tool.ctx.timeoutMs, sourceBytes: 1 }), /sleep 30 timed out after 1000 ms/);
    assert.ok(Date.now() - started < 5_000);
  } finally {
    await platform.cleanup();
  }
  void dir;
});
