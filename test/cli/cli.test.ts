// The CLI end to end, as a user runs it: real processes, real files, exit codes.
import { test } from 'node:test';
import { existsSync, readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { runProcess } from '../helpers/process.ts';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const CLI = resolve(import.meta.dirname, '../../src/cli/index.ts');

async function pvbench(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; onSpawn?: (kill: (sig: NodeJS.Signals) => void, pid: number | undefined) => void } = {}) {
  const r = await runProcess(process.execPath, [CLI, ...args], { env: { ...process.env, ...opts.env }, timeoutMs: opts.timeoutMs ?? 120_000, onSpawn: opts.onSpawn });
  if (r.timedOut) throw new Error(`pvbench ${args.join(' ')} did not finish within ${opts.timeoutMs ?? 120_000} ms
${r.stderr}`);
  return r;
}

// Five trials a side: with three, Mann-Whitney U can never reach p <= 0.05, and the verdict would rest on every
// slowed trial being slower than every baseline trial, which one cold first trial on a busy CI machine can break.
const SUITE = `name: cli-e2e
trials: 5
workload: { proxies: 2, accessLogLines: 3000, statsSnapshots: 2, clusters: 10 }
tools:
  - type: copy
scenarios:
  - name: no-fault
    incremental: false
compare:
  metrics: [backup.wallMs]
  threshold: 0.2
  # The workload is tiny (copy backups of ~10 ms): a small floor, so the injected slowdown stands out.
  noiseFloor: { ms: 5 }
`;

test('validate: exit 2 and the file, line, key and fix of each problem', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'bad.yaml'), 'trials: 3\ntools:\n  - type: restic\n    optoins: {}\n');
  await writeFile(join(dir, 'good.yaml'), SUITE);
  const bad = await pvbench(['validate', join(dir, 'bad.yaml')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stdout, /bad\.yaml:4:5: tools\[0\]\.optoins: unknown key "optoins"\. Fix: did you mean "options"\?/);
  const good = await pvbench(['validate', join(dir, 'good.yaml')]);
  assert.equal(good.code, 0);
  assert.match(good.stdout, /good\.yaml: ok/);
});

test('schema: prints the JSON Schema; unknown command: exit 2 with usage', async () => {
  const s = await pvbench(['schema']);
  assert.equal(s.code, 0);
  assert.equal((JSON.parse(s.stdout) as { title: string }).title, 'pvbench suite');
  const u = await pvbench(['frobnicate']);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /unknown command "frobnicate"/);
  assert.match(u.stderr, /Usage:/);
});

test('run twice: the second run is compared with the first; an injected 10x backup slowdown fails it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const suite = join(dir, 'suite.yaml');
  await writeFile(suite, SUITE);
  const out = join(dir, 'out');

  const first = await pvbench(['run', suite, '--output', out]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /pvbench: PASS/);
  const r1 = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as { schemaVersion: number; run: { complete: boolean }; trials: { status: string }[] };
  assert.equal(r1.schemaVersion, 1);
  assert.equal(r1.run.complete, true);
  assert.deepEqual(r1.trials.map((x) => x.status), Array(5).fill('passed'));
  const report1 = await readFile(join(out, 'report.md'), 'utf8');
  assert.ok(report1.startsWith('<!-- pvbench:suite=cli-e2e -->'));
  assert.equal((await readdir(join(out, 'history', 'cli-e2e'))).length, 1);

  const second = await pvbench(['run', suite, '--output', out], { env: { PVBENCH_TEST_SLOWDOWN: '10' } });
  assert.equal(second.code, 1, second.stdout + second.stderr);
  assert.match(second.stdout, /pvbench: FAIL/);
  assert.match(second.stdout, /copy \/ no-fault/);
  const report2 = await readFile(join(out, 'report.md'), 'utf8');
  assert.match(report2, /regression/i);
  assert.equal((await readdir(join(out, 'history', 'cli-e2e'))).length, 1, 'a failing run does not join the baseline history');

  // compare the second results with the first run's file: same verdict from the stand-alone command.
  const [h1] = (await readdir(join(out, 'history', 'cli-e2e'))).sort();
  const cmp = await pvbench(['compare', join(out, 'results.json'), '--baseline', join(out, 'history', 'cli-e2e', h1!), '--suite', suite]);
  assert.equal(cmp.code, 1, cmp.stdout + cmp.stderr);
  const rep = await pvbench(['report', join(out, 'results.json'), '--baseline', join(out, 'history', 'cli-e2e', h1!), '--suite', suite]);
  assert.equal(rep.code, 0);
  assert.ok(rep.stdout.startsWith('<!-- pvbench:suite=cli-e2e -->'));
});

test('--baseline naming the output\'s own results.json compares with the previous run, never with the run itself', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const suite = join(dir, 'suite.yaml');
  await writeFile(suite, SUITE);
  const out = join(dir, 'out');
  const own = join(out, 'results.json');
  const first = await pvbench(['run', suite, '--output', out, '--baseline', own]);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.match(first.stderr, /baseline .*results\.json does not exist/);
  const firstId = (JSON.parse(await readFile(own, 'utf8')) as { run: { id: string } }).run.id;
  // The same file again: it holds the first run when the second starts; a 10x slowdown must show.
  const second = await pvbench(['run', suite, '--output', out, '--baseline', own], { env: { PVBENCH_TEST_SLOWDOWN: '10' } });
  assert.equal(second.code, 1, second.stdout + second.stderr);
  assert.match(second.stdout, /copy \/ no-fault: Backup time \+\d+%/);
  // Comparing the results file with itself afterwards: left out, said so, nothing compared.
  const self = await pvbench(['compare', own, '--baseline', own, '--suite', suite]);
  const secondId = (JSON.parse(await readFile(own, 'utf8')) as { run: { id: string } }).run.id;
  assert.notEqual(secondId, firstId);
  assert.match(self.stderr + self.stdout, new RegExp(`left out run ${secondId}: it is the run being compared`));
});

test('an interrupted run keeps what it measured (results written after every trial)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const suite = join(dir, 'suite.yaml');
  await writeFile(suite, SUITE.replace('trials: 5', 'trials: 100'));
  const out = join(dir, 'out');
  const res = await pvbench(['run', suite, '--output', out], {
    onSpawn: (kill) => {
      const poll = setInterval(async () => {
        const text = await readFile(join(out, 'results.json'), 'utf8').catch(() => '');
        try {
          if ((JSON.parse(text) as { trials: unknown[] }).trials.length >= 2) {
            clearInterval(poll);
            kill('SIGINT');
          }
        } catch {
          /* not written yet */
        }
      }, 20);
      setTimeout(() => clearInterval(poll), 60_000);
    },
  });
  assert.match(res.stderr, /interrupted \(SIGINT\): stopping the operation in progress/);
  assert.equal(res.code, 130, 'a run that did not finish never exits 0');
  assert.match(res.stdout, /pvbench: FAIL\n  - the run did not finish: interrupted (during|after) copy \/ no-fault #\d+; \d+ of 100 planned trials not run/);
  const r = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as { run: { complete: boolean }; trials: unknown[] };
  assert.equal(r.run.complete, false);
  await assert.rejects(readdir(join(out, 'history')), 'an unfinished run is not kept as a baseline');
  assert.ok(r.trials.length >= 2 && r.trials.length < 100, `${r.trials.length} trials kept`);
  assert.ok(await readFile(join(out, 'report.md'), 'utf8'));
});

test('a run killed with SIGKILL leaves no old report beside its new results, and no process behind', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const suite = join(dir, 'suite.yaml');
  await writeFile(suite, SUITE.replace('trials: 5', 'trials: 100'));
  const out = join(dir, 'out');
  await mkdir(out);
  await writeFile(join(out, 'report.md'), '# OLD report of another run\n');
  // Killed while it runs a tool process (a cp of some trial), once a trial has been written.
  let toolPids: number[] = [];
  await pvbench(['run', suite, '--output', out], {
    onSpawn: (kill, pid) => {
      const poll = setInterval(async () => {
        const text = await readFile(join(out, 'results.json'), 'utf8').catch(() => '');
        try {
          if ((JSON.parse(text) as { trials: unknown[] }).trials.length < 1) return;
        } catch {
          return; // not written yet
        }
        const children = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')).trim();
        if (!children) return;
        clearInterval(poll);
        toolPids = children.split(' ').map(Number);
        kill('SIGKILL');
      }, 5);
      setTimeout(() => clearInterval(poll), 60_000);
    },
  });
  const report = await readFile(join(out, 'report.md'), 'utf8');
  assert.doesNotMatch(report, /OLD report/);
  assert.match(report, /is in progress, or was stopped before it could write its report/);
  assert.ok(toolPids.length > 0, 'pvbench was killed while a tool process ran');
  const deadline = Date.now() + 5_000;
  const alive = () => toolPids.filter((p) => existsSync(`/proc/${p}`) && !/^Z/.test(readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1] ?? ''));
  while (alive().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(alive(), [], 'the tool processes died with pvbench');
});

test('seed and churn (what the Kubernetes Jobs run) write the same bytes as the library does locally', async (t) => {
  const { seedProxy, churnProxy } = await import('../../src/workloads/mesh-proxy.ts');
  const { workloadSchema } = await import('../../src/config/schema.ts');
  const { buildManifest } = await import('../../src/metrics/manifest.ts');
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const workload = { proxies: 1, accessLogLines: 400, statsSnapshots: 2, clusters: 5, churn: { appendLines: 30 } };
  const seeded = await pvbench(['seed', '--volume', join(dir, 'cli'), '--proxy', '3', '--seed', '9', '--workload', JSON.stringify(workload)]);
  assert.equal(seeded.code, 0, seeded.stderr);
  assert.ok((JSON.parse(seeded.stdout) as { bytes: number }).bytes > 0);
  const churned = await pvbench(['churn', '--volume', join(dir, 'cli'), '--proxy', '3', '--seed', '9', '--round', '1', '--workload', JSON.stringify(workload)]);
  assert.equal(churned.code, 0, churned.stderr);
  const w = workloadSchema.parse(workload);
  await seedProxy(join(dir, 'lib'), w, 9, 3);
  await churnProxy(join(dir, 'lib'), w, 9, 3, 1);
  assert.deepEqual((await buildManifest(join(dir, 'cli'))).files, (await buildManifest(join(dir, 'lib'))).files);
  const bad = await pvbench(['churn', '--volume', join(dir, 'x'), '--proxy', '0', '--workload', '{"proxies": "many"}']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--workload: proxies/);
});
