// Workload presets mirroring Velero's file-system-backup performance guide: their shapes at full size and for CI,
// how a suite uses them, the errors, and the stats snapshots of an exact size they rely on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { ConfigError, parseSuite } from '../../src/config/load.ts';
import { MAX_WORKLOAD_FILES, workloadSchema } from '../../src/config/schema.ts';
import { presetShape } from '../../src/workloads/presets.ts';
import type { WorkloadPresetName } from '../../src/workloads/presets.ts';
import { seedWorkload } from '../../src/workloads/mesh-proxy.ts';
import { estimateVolumeBytes } from '../../src/platform/kubernetes/objects.ts';

const files = (name: WorkloadPresetName, scale?: number) => {
  const s = presetShape(name, scale);
  return { files: s.proxies * (s.statsSnapshots + 2), bytes: s.statsBytes, proxies: s.proxies };
};

test("full-size presets are the guide's cases: 10,625 files of 1 MB, 2,000,000 of 100 bytes, 2,000,000 empty", () => {
  assert.deepEqual(files('velero-fsb-1mb'), { files: 10_625, bytes: 1_000_000, proxies: 125 });
  assert.deepEqual(files('velero-fsb-100b'), { files: 2_000_000, bytes: 100, proxies: 500 });
  assert.deepEqual(files('velero-fsb-empty'), { files: 2_000_000, bytes: 0, proxies: 500 });
  assert.equal(presetShape('velero-fsb-empty').accessLogLines, 0, 'the access logs of the empty case are empty too');
});

test('-ci names and scale shrink the number of files, not their size', () => {
  assert.deepEqual(files('velero-fsb-1mb-ci'), { files: 106, bytes: 1_000_000, proxies: 1 });
  assert.deepEqual(files('velero-fsb-100b-ci'), { files: 10_000, bytes: 100, proxies: 2 });
  assert.deepEqual(files('velero-fsb-empty-ci'), { files: 10_000, bytes: 0, proxies: 2 });
  assert.deepEqual(files('velero-fsb-100b', 0.5), { files: 1_000_000, bytes: 100, proxies: 250 });
});

test('a suite names a preset: the workload gets its shape, and the preset and scale are kept', () => {
  const w = parseSuite('workload:\n  preset: velero-fsb-1mb-ci\n  churn:\n    appendLines: 5\n', 's.yaml').workload;
  assert.deepEqual({ ...w, churn: undefined }, { kind: 'mesh-proxy', proxies: 1, accessLogLines: 3774, statsSnapshots: 104, clusters: 40, statsBytes: 1_000_000, preset: 'velero-fsb-1mb-ci', churn: undefined });
  assert.equal(w.churn.appendLines, 5, 'churn is the suite\'s own');
  const half = parseSuite('workload:\n  preset: velero-fsb-empty\n  scale: 0.5\n  proxies: 250\n', 's.yaml').workload;
  assert.equal(half.proxies * (half.statsSnapshots + 2), 1_000_000, 'a key set to what the preset sets is fine');
  assert.equal(half.scale, 0.5);
  // What pvbench sends to its pods parses back to the same workload.
  assert.deepEqual(workloadSchema.parse(JSON.parse(JSON.stringify(half))), half);
});

function problems(text: string) {
  try {
    parseSuite(text, 'suite.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems.map((p) => ({ at: `${p.line}:${p.column}`, key: p.key, message: p.message, fix: p.fix }));
  }
  assert.fail('expected the suite to be rejected');
}

test('every preset is accepted at full size: 2,000,000 files is what a trial was measured with to the end', () => {
  for (const name of ['velero-fsb-1mb', 'velero-fsb-100b', 'velero-fsb-empty'] as const) {
    const w = parseSuite(`workload:\n  preset: ${name}\n`, 'suite.yaml').workload;
    assert.equal(w.preset, name);
    assert.equal(w.proxies * (w.statsSnapshots + 2), files(name).files);
  }
  assert.equal(MAX_WORKLOAD_FILES, 2_000_000);
  assert.equal(files('velero-fsb-100b').files, MAX_WORKLOAD_FILES, 'the largest preset is the limit, no more');
});

test('keys that contradict the preset, a scale without one or beside a -ci name, an unknown name: each at its line, with the fix', () => {
  assert.deepEqual(problems('workload:\n  preset: velero-fsb-1mb\n  proxies: 3\n'), [
    { at: '3:3', key: 'workload.proxies', message: 'preset velero-fsb-1mb sets proxies (to 125), and this suite sets it to 3', fix: 'remove workload.proxies (use scale to make the preset smaller), or remove workload.preset and give the whole shape yourself' },
  ]);
  assert.deepEqual(problems('workload:\n  scale: 0.1\n')[0]?.key, 'workload.scale');
  assert.match(problems('workload:\n  scale: 0.1\n')[0]!.fix, /add workload\.preset \(one of velero-fsb-1mb, /);
  assert.deepEqual(problems('workload:\n  preset: velero-fsb-1mb-ci\n  scale: 0.5\n')[0]?.fix, 'remove scale, or use preset: velero-fsb-1mb with scale: 0.5');
  const unknown = problems('workload:\n  preset: velero-fsb-2mb\n')[0]!;
  assert.equal(unknown.key, 'workload.preset');
  assert.match(unknown.fix, /"velero-fsb-1mb", "velero-fsb-100b", "velero-fsb-empty"/);
  assert.equal(problems('workload:\n  preset: velero-fsb-1mb\n  scale: 0\n')[0]?.key, 'workload.scale');
});

test('statsBytes: every stats snapshot exactly that long (0: empty), the same bytes for the same seed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-presets-'));
  try {
    const digest = async (root: string) => {
      const h = createHash('sha256');
      for (const p of ['proxy-0', 'proxy-1']) for (const f of (await readdir(join(root, p, 'stats'))).sort()) h.update(f).update(await readFile(join(root, p, 'stats', f)));
      return h.digest('hex');
    };
    for (const bytes of [0, 100, 70_000]) {
      const w = workloadSchema.parse({ proxies: 2, statsSnapshots: 3, statsBytes: bytes, accessLogLines: 10, clusters: 1 });
      const a = join(dir, `a-${bytes}`);
      const b = join(dir, `b-${bytes}`);
      await seedWorkload(a, w, 7, { workers: 2 });
      await seedWorkload(b, w, 7, { workers: 1 });
      for (const f of await readdir(join(a, 'proxy-1', 'stats'))) assert.equal((await stat(join(a, 'proxy-1', 'stats', f))).size, bytes, f);
      assert.equal(await digest(a), await digest(b));
      if (bytes > 0) assert.match(await readFile(join(a, 'proxy-0', 'stats', 'stats-00000.prom'), 'utf8'), /^# HELP envoy_cluster_upstream_rq_total/);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the CI preset of 100-byte files seeds its 10,000 files, and a PVC sized for the 1 MB case holds it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-presets-'));
  try {
    const w = parseSuite('workload:\n  preset: velero-fsb-100b-ci\n', 's.yaml').workload;
    await seedWorkload(dir, w, 42);
    let count = 0;
    for (const p of await readdir(dir)) count += 2 + (await readdir(join(dir, p, 'stats'))).length;
    assert.equal(count, 10_000);
    const big = parseSuite('workload:\n  preset: velero-fsb-1mb\n', 's.yaml').workload;
    assert.ok(estimateVolumeBytes(big) >= (big.statsSnapshots + 2) * 1_000_000, `${estimateVolumeBytes(big)} bytes per volume`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
