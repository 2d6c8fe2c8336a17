import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workloadSchema } from '../../src/config/schema.ts';
import { ACCESS_LOG, CONFIG_DUMP, churnWorkload, isAppendOnly, seedWorkload } from '../../src/workloads/mesh-proxy.ts';
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
