// The real-cluster tier: the Kubernetes suite (examples/local-cluster.yaml, one trial per tool and scenario) run by the
// bundled CLI on the local cluster that scripts/cluster/ built and started. scripts/test.sh starts the cluster, runs
// this with PVBENCH_CLUSTER_KUBECONFIG set, and stops the cluster. Without a cluster this file fails (it is never
// picked up by the unit glob, test/**/*.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { runProcess } from '../helpers/process.ts';
import type { ResultsFile, TrialResult } from '../../src/suite/results.ts';

const root = resolve(import.meta.dirname, '..', '..');
const kubeconfig = process.env.PVBENCH_CLUSTER_KUBECONFIG;

test('the Kubernetes suite on the local cluster: every tool runs, no-fault passes, every fault lands or says why not', { timeout: 60 * 60_000 }, async () => {
  assert.ok(kubeconfig, 'PVBENCH_CLUSTER_KUBECONFIG is not set: run this through scripts/test.sh, which starts the local cluster');
  // Kept after the run (git ignores it): the results and report of the tier's last run, to read when it fails.
  const out = join(root, '.pvbench-cluster-tier');
  await rm(out, { recursive: true, force: true });
  const run = await runProcess(process.execPath, [join(root, 'dist', 'cli', 'index.js'), 'run', join(root, 'examples', 'local-cluster.yaml'), '--trials', '1', '--output', out], {
    env: { ...process.env, KUBECONFIG: kubeconfig },
    timeoutMs: 55 * 60_000,
  });
  process.stderr.write(run.stderr.split('\n').filter((l) => /\[\s*\d+\/\d+\]|tool |error|warning/.test(l)).join('\n') + '\n');
  assert.equal(run.timedOut, false, 'the suite did not finish within 55 minutes');
  const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as ResultsFile;
  const report = await readFile(join(out, 'report.md'), 'utf8');

  assert.equal(results.run.complete, true, 'every planned trial ran');
  assert.match(results.run.platform ?? '', /\(Kubernetes v1\.34\.\d+\)/, 'the API server reported its version');
  assert.deepEqual(
    results.tools.map((x) => [x.name, x.status, x.reason ?? '']),
    [
      ['velero-fs', 'ok', ''],
      ['velero-csi-move', 'ok', ''],
      ['csi-snapshot', 'ok', ''],
    ],
  );
  const scenarios = ['no-fault', 'crash-backup', 'outage', 'corrupt-volume', 'corrupt-repository'];
  const byKey = new Map(results.trials.map((x) => [`${x.tool}/${x.scenario}`, x]));
  assert.equal(results.trials.length, 3 * scenarios.length);
  // Three proxies, each with a config dump, an access log and four stats snapshots, and in no-fault (the one
  // scenario with an incremental backup) one more stats snapshot from the churn before it.
  const files = 3 * (1 + 1 + 4 + 1);

  for (const tool of ['velero-fs', 'velero-csi-move', 'csi-snapshot']) {
    const nf = byKey.get(`${tool}/no-fault`) as TrialResult;
    assert.equal(nf.status, 'passed', `${tool} no-fault: ${nf.error ?? ''}`);
    assert.deepEqual({ ok: nf.integrity?.ok, files: nf.integrity?.files, mismatched: nf.integrity?.mismatched, missing: nf.integrity?.missing }, { ok: true, files, mismatched: 0, missing: 0 }, `${tool} no-fault restores every file intact`);
    // Where the time went, by Velero's own timestamps: the parts add up to its backup's span, and a mode that moves
    // volume data through per-volume operations has a volume-transfer part (issue 11).
    if (tool.startsWith('velero')) {
      for (const ph of [nf.backup, nf.incremental, nf.restore]) {
        const tl = ph?.timeline;
        assert.ok(tl, `${tool} no-fault has a timeline for each phase`);
        assert.equal(tl.parts.reduce((sum, p) => sum + p.ms, 0), tl.totalMs);
        assert.deepEqual(tl.parts.map((p) => p.name), ['queued', 'before-volumes', 'preparing', 'moving-data', 'finishing'], `${tool}: parts`);
        assert.ok(tl.dataMs !== undefined && tl.dataMs >= 1000 && tl.dataMs <= tl.totalMs, `${tool}: volume transfers took ${tl.dataMs} ms of ${tl.totalMs}`);
        assert.ok(Math.abs(tl.totalMs - ph!.wallMs) <= 3000, `${tool}: Velero's span ${tl.totalMs} ms is within 3 s of the observed ${ph!.wallMs} ms`);
      }
      assert.ok(report.includes(`\n| ${tool} | no-fault | backup | `), `${tool}: the report's where-the-time-went row`);
    }
    for (const sc of scenarios.slice(1)) {
      const tr = byKey.get(`${tool}/${sc}`) as TrialResult;
      assert.ok(tr, `${tool}/${sc} ran`);
      // A fault that did not land never reads as a pass; a failure names its reason, and the report shows it.
      if (!tr.fault.injected) assert.notEqual(tr.status, 'passed', `${tool}/${sc}: the fault did not land (${tr.fault.description}), so the trial must not pass`);
      if (tr.status !== 'passed') {
        assert.ok((tr.error ?? '').length > 10, `${tool}/${sc} ${tr.status} names its reason`);
        assert.ok(report.includes(tr.scenario), `the report shows ${tool}/${sc}`);
      }
    }
  }
});
