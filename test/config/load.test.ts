import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, defaultSuite, loadSuiteFile, parseSuite } from '../../src/config/load.ts';
import { suiteJsonSchema } from '../../src/config/schema.ts';
import { resolveSuite } from '../../src/suite/pipeline.ts';

function problems(text: string) {
  try {
    parseSuite(text, 'suite.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('expected the suite to be rejected');
}

test('the embedded default is the schema defaults: local, copy+restic+kopia, five scenarios, 3 trials', () => {
  const s = defaultSuite();
  assert.equal(s.platform.kind, 'local');
  assert.equal(s.trials, 3);
  assert.deepEqual(s.tools.map((t) => t.type), ['copy', 'restic', 'kopia']);
  assert.deepEqual(s.scenarios.map((x) => x.fault.kind), ['none', 'crash', 'outage', 'corrupt-volume', 'corrupt-repository']);
});

test('a valid suite parses with defaults filled in', () => {
  const s = parseSuite('name: mesh\ntrials: 5\ntools:\n  - type: restic\n    name: restic-auto\n    options: { compression: auto }\nscenarios:\n  - name: crash\n    fault: { kind: crash, phase: restore }\n', 'x.yaml');
  assert.equal(s.trials, 5);
  assert.equal(s.tools[0]?.name, 'restic-auto');
  const f = s.scenarios[0]?.fault;
  assert.equal(f?.kind, 'crash');
  assert.equal(f?.kind === 'crash' && f.at, 0.3);
  assert.equal(f?.kind === 'crash' && f.phase, 'restore');
});

test('an unknown key names the file, line, column, key and suggests the fix', () => {
  const [p] = problems('tools:\n  - type: copy\n    optoins: {}\n');
  assert.equal(p?.file, 'suite.yaml');
  assert.equal(p?.line, 3);
  assert.equal(p?.column, 5);
  assert.equal(p?.key, 'tools[0].optoins');
  assert.match(p?.fix ?? '', /did you mean "options"/);
});

test('a bad enum value lists the allowed values', () => {
  const [p] = problems('tools:\n  - type: restik\n');
  assert.equal(p?.key, 'tools[0].type');
  assert.equal(p?.line, 2);
  assert.match(p?.message ?? '', /"restik" is not allowed/);
  assert.match(p?.fix ?? '', /"restic"/);
});

test('an unknown fault kind points at the kind and lists the kinds', () => {
  const [p] = problems('scenarios:\n  - name: a\n    fault:\n      kind: explode\n');
  assert.equal(p?.key, 'scenarios[0].fault.kind');
  assert.equal(p?.line, 4);
  assert.match(p?.fix ?? '', /"corrupt-repository"/);
});

test('out of range and wrong type give the bound and the expected type', () => {
  const ps = problems('trials: 0\nworkload:\n  proxies: six\n');
  const trials = ps.find((p) => p.key === 'trials');
  assert.match(trials?.fix ?? '', />= 1/);
  const proxies = ps.find((p) => p.key === 'workload.proxies');
  assert.equal(proxies?.line, 3);
  assert.match(proxies?.message ?? '', /expected number/);
});

test('YAML syntax errors carry a position', () => {
  const [p] = problems('name: [unclosed\n');
  assert.ok((p?.line ?? 0) >= 1);
  assert.match(p?.message ?? '', /YAML syntax/);
});

test('a missing file is a ConfigError naming it', async () => {
  await assert.rejects(loadSuiteFile('/nonexistent/suite.yaml'), (err: unknown) => err instanceof ConfigError && /\/nonexistent\/suite.yaml: .*does not exist/.test(err.message));
});

test('duplicate tool names are rejected with the fix', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-cfg-'));
  try {
    const f = join(dir, 's.yaml');
    await writeFile(f, 'tools:\n  - type: copy\n  - type: copy\n');
    await assert.rejects(resolveSuite(f), (err: unknown) => err instanceof ConfigError && /tool name "copy" is used 2 times/.test(err.message) && /unique name/.test(err.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a node outage off kind is rejected at its line, with the fix; also when an override moves the suite to local', async () => {
  const [p, more] = problems('scenarios:\n  - name: no-fault\n  - name: node-down\n    fault: { kind: outage, scope: node }\n');
  assert.equal(more, undefined);
  assert.equal(p?.line, 4);
  assert.equal(p?.key, 'scenarios[1].fault.scope');
  assert.match(p?.message ?? '', /a node outage needs a kind cluster, and this suite runs on the local platform/);
  assert.equal(p?.fix, 'use scope: workload, or run on platform.kind: kubernetes with cluster.mode: kind');
  const [e] = problems('platform: { kind: kubernetes, cluster: { mode: existing } }\nscenarios:\n  - name: node-down\n    fault: { kind: outage, scope: node }\n');
  assert.match(e?.message ?? '', /runs on an existing cluster/);
  const kind = parseSuite('platform: { kind: kubernetes, cluster: { mode: kind } }\nscenarios:\n  - name: node-down\n    fault: { kind: outage, scope: node }\n', 'k.yaml');
  assert.equal(kind.scenarios[0]?.fault.kind === 'outage' && kind.scenarios[0].fault.scope, 'node');
  assert.equal(parseSuite('scenarios:\n  - name: o\n    fault: { kind: outage }\n', 'o.yaml').scenarios[0]?.fault.kind === 'outage', true, 'scope defaults to workload, valid anywhere');

  const dir = await mkdtemp(join(tmpdir(), 'pvbench-cfg-'));
  try {
    const f = join(dir, 'kind.yaml');
    await writeFile(f, 'platform: { kind: kubernetes, cluster: { mode: kind } }\nscenarios:\n  - name: node-down\n    fault: { kind: outage, scope: node }\n');
    await assert.rejects(resolveSuite(f, { platform: 'local' }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /^\(overrides\): platform: platform=local \(--platform, or the action's platform input\) runs .*kind\.yaml locally, but scenarios\[0\]\.fault\.scope is "node": a node outage needs a kind cluster\. Fix: drop the platform override, or set scenarios\[0\]\.fault\.scope: workload in .*kind\.yaml$/);
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the JSON Schema comes from the same source and knows every key and enum', () => {
  const schema = suiteJsonSchema() as { properties: Record<string, { default?: unknown }>; additionalProperties?: unknown };
  for (const key of ['name', 'seed', 'trials', 'platform', 'workload', 'tools', 'scenarios', 'compare', 'report', 'output']) assert.ok(key in schema.properties, key);
  const text = JSON.stringify(schema);
  assert.ok(text.includes('"corrupt-repository"'));
  assert.ok(text.includes('"velero-csi"'));
  assert.equal(schema.additionalProperties, false);
});

test('compare.thresholds: a threshold of its own per metric (e.g. RTO, RPO, writes lost); unknown metrics and negative values are refused', () => {
  const s = parseSuite('compare:\n  thresholds: { rtoMs: 0.3, writesLost: 0.5 }\n', 'x.yaml');
  assert.deepEqual(s.compare.thresholds, { rtoMs: 0.3, writesLost: 0.5 });
  assert.deepEqual(defaultSuite().compare.thresholds, {});
  assert.equal(defaultSuite().compare.noiseFloor.writes, 10);
  assert.ok(defaultSuite().compare.metrics.includes('writesLost'), 'writes lost is compared by default');
  const [p] = problems('compare:\n  thresholds: { rto: 0.3 }\n');
  assert.match(p!.message, /unknown key "rto"/);
  assert.equal(p!.key, 'compare.thresholds.rto');
  const [q] = problems('compare:\n  thresholds: { rpoMs: -1 }\n');
  assert.equal(q!.key, 'compare.thresholds.rpoMs');
});

test('a workload of more files than a trial is measured with is rejected at its line, saying how many and what to lower', () => {
  const [p, more] = problems('workload:\n  proxies: 500\n  statsSnapshots: 3999\n');
  assert.equal(more, undefined);
  assert.equal(p?.key, 'workload.statsSnapshots');
  assert.equal(p?.line, 3);
  assert.equal(
    p?.message,
    'the workload makes 2,000,500 files (500 proxies × (3999 stats snapshots + a config dump and an access log)); a trial handles at most 2,000,000',
  );
  assert.equal(p?.fix, 'lower workload.proxies or workload.statsSnapshots so that proxies × (statsSnapshots + 2) is at most 2,000,000');
  assert.equal(parseSuite('workload:\n  proxies: 500\n  statsSnapshots: 3998\n', 'ok.yaml').workload.proxies, 500, '2,000,000 files exactly is fine');
});

test("kopia's keyDerivation is pbkdf2 or scrypt: another value is refused at its key, with the fix", () => {
  const [p, more] = problems('tools:\n  - type: kopia\n    options: { keyDerivation: argon2 }\n');
  assert.equal(more, undefined);
  assert.equal(p?.key, 'tools[0].options.keyDerivation');
  assert.equal(p?.message, 'kopia\'s keyDerivation is "argon2"');
  assert.equal(p?.fix, 'use "pbkdf2" or "scrypt" ("pbkdf2" is the default)');
  assert.equal(parseSuite('tools:\n  - type: kopia\n    options: { keyDerivation: scrypt }\n', 'ok.yaml').tools[0]?.options.keyDerivation, 'scrypt');
});
