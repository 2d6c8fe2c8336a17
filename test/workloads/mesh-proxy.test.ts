import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workloadSchema } from '../../src/config/schema.ts';
import { ACCESS_LOG, CONFIG_DUMP, churnWorkload, isAppendOnly, seedProxy, seedWorkload } from '../../src/workloads/mesh-proxy.ts';
import { buildManifest } from '../../src/metrics/manifest.ts';
import { deriveSeed, seededRandom } from '../../src/workloads/random.ts';

const small = workloadSchema.parse({ proxies: 2, accessLogLines: 500, statsSnapshots: 2, clusters: 5, churn: { appendLines: 50, rewriteConfig: true, newStats: 1 } });

async function digestTree(root: string, rel = ''): Promise<string> {
  const h = createHash('sha256');
  const entries = (await readdir(join(root, rel), { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    h.update(p);
    h.update(e.isDirectory() ? await digestTree(root, p) : await readFile(join(root, p)));
  }
  return h.digest('hex');
}

test('seeding is deterministic: same seed, same bytes; another seed, other bytes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-wl-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const a = await seedWorkload(join(dir, 'a'), small, 7);
  const b = await seedWorkload(join(dir, 'b'), small, 7);
  const c = await seedWorkload(join(dir, 'c'), small, 8);
  assert.equal(a.bytes, b.bytes);
  assert.deepEqual(a.volumes, ['proxy-0', 'proxy-1']);
  assert.equal(await digestTree(join(dir, 'a')), await digestTree(join(dir, 'b')));
  assert.notEqual(await digestTree(join(dir, 'a')), await digestTree(join(dir, 'c')));
  assert.ok(c.bytes > 0);
});

test('a proxy volume holds an Envoy config dump, Envoy default-format access logs and Prometheus stats', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-wl-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await seedWorkload(dir, small, 1);
  const dump = JSON.parse(await readFile(join(dir, 'proxy-0', CONFIG_DUMP), 'utf8')) as { configs: { '@type': string }[] };
  assert.deepEqual(
    dump.configs.map((c) => c['@type'].split('.').pop()),
    ['BootstrapConfigDump', 'ClustersConfigDump', 'ListenersConfigDump', 'RoutesConfigDump'],
  );
  const lines = (await readFile(join(dir, 'proxy-0', ACCESS_LOG), 'utf8')).trimEnd().split('\n');
  assert.equal(lines.length, 500);
  // [%START_TIME%] "%METHOD% %PATH% %PROTOCOL%" %CODE% %FLAGS% %RX% %TX% %DURATION% %UPSTREAM_TIME% "%XFF%" "%UA%" "%REQ_ID%" "%AUTHORITY%" "%UPSTREAM_HOST%"
  const envoyDefault = /^\[\d{4}-\d\d-\d\dT[\d:.]+Z\] "(GET|POST|PUT|DELETE) \/\S+ HTTP\/1\.1" \d{3} \S+ \d+ \d+ \d+ \d+ "[\d.]+" "[^"]+" "[0-9a-f-]{36}" "[a-z.]+" "[\d.]+:\d+"$/;
  for (const l of lines) assert.match(l, envoyDefault);
  const stats = await readFile(join(dir, 'proxy-0', 'stats', 'stats-00000.prom'), 'utf8');
  assert.match(stats, /^# HELP envoy_cluster_upstream_rq_total /m);
  assert.match(stats, /^# TYPE envoy_cluster_upstream_rq_time histogram$/m);
  assert.match(stats, /^envoy_cluster_upstream_rq_time_bucket\{envoy_cluster_name="[^"]+",le="\+Inf"\} \d+$/m);
});

test('churn appends to the access log, rewrites the config dump and adds stats, deterministically', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-wl-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await seedWorkload(join(dir, 'a'), small, 3);
  await seedWorkload(join(dir, 'b'), small, 3);
  const log = join(dir, 'a', 'proxy-1', ACCESS_LOG);
  const before = await readFile(log);
  const dumpBefore = await readFile(join(dir, 'a', 'proxy-1', CONFIG_DUMP), 'utf8');
  await churnWorkload(join(dir, 'a'), ['proxy-0', 'proxy-1'], small, 3);
  await churnWorkload(join(dir, 'b'), ['proxy-0', 'proxy-1'], small, 3);
  const after = await readFile(log);
  assert.ok(after.subarray(0, before.length).equals(before), 'the log is only appended to');
  assert.equal(after.toString().trimEnd().split('\n').length, 550);
  assert.notEqual(await readFile(join(dir, 'a', 'proxy-1', CONFIG_DUMP), 'utf8'), dumpBefore);
  assert.equal((await readdir(join(dir, 'a', 'proxy-1', 'stats'))).length, 3);
  assert.equal(await digestTree(join(dir, 'a')), await digestTree(join(dir, 'b')));
  assert.ok((await stat(log)).size > before.length);
});

test('only access logs are append-only', () => {
  assert.equal(isAppendOnly('proxy-3/logs/access.log'), true);
  assert.equal(isAppendOnly('proxy-3/config_dump.json'), false);
  assert.equal(isAppendOnly('proxy-3/stats/stats-00001.prom'), false);
});

test('the PRNG is stable across machines (fixed first values) and sub-seeds differ', () => {
  const r = seededRandom(42);
  const first = [r.next(), r.next(), r.next()].map((x) => x.toFixed(12));
  assert.deepEqual(first, ['0.481316090561', '0.985253632534', '0.737917189952']);
  assert.equal(deriveSeed(42, 'proxy', 0), 3889675670);
  assert.notEqual(deriveSeed(42, 'proxy', 0), deriveSeed(42, 'proxy', 1));
  const u = seededRandom(1);
  for (let i = 0; i < 1000; i++) {
    const x = u.next();
    assert.ok(x >= 0 && x < 1);
  }
});

// Digests of what the generator wrote before it ran on all cores (seed 7; seeded, then after one churn round): the
// bytes must not change, so that runs before and after compare.
const GOLDEN = [
  {
    workload: { proxies: 2, accessLogLines: 500, statsSnapshots: 2, clusters: 5, churn: { appendLines: 50, rewriteConfig: true, newStats: 1 } },
    bytes: 292541,
    seeded: 'f3fa4dfa99c1996dcdba4f35aa496a6be8b97983abc9ed45651249eec302905e',
    churned: '3908f7f52fbdb10dd2da4dec74971ed4176730ae37896f57ebf6ca376930288b',
  },
  {
    workload: { proxies: 3, accessLogLines: 4321, statsSnapshots: 7, clusters: 13 },
    bytes: 3393424,
    seeded: 'c2bd2e15104845cb85f38039dd72f793eb6635d7fb4e45c4d1e8150f10c3e3ce',
    churned: '625649a56c94112aa9d6c15b2ce1734d64bb8e72568f9c501d3205a933ddbf7a',
  },
];

test('the generated bytes are those of the generator before it ran on all cores', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-wl-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [i, g] of GOLDEN.entries()) {
    const w = workloadSchema.parse(g.workload);
    const root = join(dir, String(i));
    const seeded = await seedWorkload(root, w, 7);
    assert.equal(seeded.bytes, g.bytes);
    assert.equal(await digestTree(root), g.seeded);
    await churnWorkload(root, seeded.volumes, w, 7);
    assert.equal(await digestTree(root), g.churned);
  }
});

test('seeding on one worker and on two gives the same manifest; a proxy seeded alone (as in a pod) matches too', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-wl-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const w = workloadSchema.parse({ proxies: 5, accessLogLines: 3000, statsSnapshots: 40, clusters: 3 });
  const one = await seedWorkload(join(dir, 'one'), w, 11, { workers: 1 });
  const two = await seedWorkload(join(dir, 'two'), w, 11, { workers: 2 });
  assert.equal(one.workers, 1);
  assert.equal(two.workers, 2);
  assert.equal(one.bytes, two.bytes);
  assert.deepEqual(one.volumes, two.volumes);
  const m = await buildManifest(join(dir, 'one'));
  assert.equal(m.files.length, 5 * 42);
  assert.deepEqual(await buildManifest(join(dir, 'two')), m);
  await seedProxy(join(dir, 'alone'), w, 11, 3);
  assert.deepEqual(await buildManifest(join(dir, 'alone')), await buildManifest(join(dir, 'one', 'proxy-3')));
});

test('the generator runs from a single-file esbuild bundle (its workers need no file on disk)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-wl-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { build } = await import('esbuild');
  const root = join(import.meta.dirname, '..', '..');
  const outfile = join(dir, 'seed.mjs');
  await build({
    stdin: {
      contents:
        "import { seedWorkload } from './src/workloads/mesh-proxy.ts';\nimport { workloadSchema } from './src/config/schema.ts';\n" +
        "const r = await seedWorkload(process.argv[2], workloadSchema.parse({ proxies: 2, accessLogLines: 500, statsSnapshots: 2, clusters: 5, churn: { appendLines: 50, rewriteConfig: true, newStats: 1 } }), 7, { workers: 2 });\n" +
        'process.stdout.write(JSON.stringify(r));\n',
      resolveDir: root,
      loader: 'ts',
      sourcefile: 'entry.ts',
    },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    logLevel: 'silent',
  });
  const out = await new Promise<string>((res, rej) =>
    execFile(process.execPath, [outfile, join(dir, 'tree')], { timeout: 60_000 }, (err, stdout) => (err ? rej(err) : res(stdout))),
  );
  assert.deepEqual(JSON.parse(out), { volumes: ['proxy-0', 'proxy-1'], bytes: 292541, workers: 2 });
  assert.equal(await digestTree(join(dir, 'tree')), GOLDEN[0]!.seeded);
});
