import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, parseBaseline, readInputs } from '../../src/github/inputs.ts';
import { maskText } from '../../src/github/mask.ts';
import { captureStdout } from './helpers.ts';

function reader(values: Record<string, string>) {
  return (name: string) => values[name] ?? '';
}

async function workspace(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-inputs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'bench'));
  await writeFile(join(dir, 'bench', 'suite.yaml'), 'name: x\n');
  await writeFile(join(dir, 'bench', 'report.hbs'), '{{title}}\n');
  return dir;
}

test('defaults: embedded suite, artifact baseline, comment and upload on, suite settings kept', async (t) => {
  const ws = await workspace(t);
  const { value: i } = await captureStdout(() => readInputs(reader({ 'github-token': 'ghs_defaultsToken1234567890' }), { GITHUB_WORKSPACE: ws }));
  assert.equal(i.suite, undefined);
  assert.equal(i.platform, undefined);
  assert.deepEqual(i.baseline, { kind: 'artifact' });
  assert.equal(i.baselineArtifact, 'pvbench-results');
  assert.equal(i.comment, true);
  assert.equal(i.uploadArtifact, true);
  assert.equal(i.failOnRegression, undefined);
  assert.equal(i.threshold, undefined);
  assert.equal(i.trials, undefined);
  assert.equal(i.workingDirectory, ws);
});

test('typed values: paths resolve against working-directory, percent thresholds, booleans', async (t) => {
  const ws = await workspace(t);
  const { value: i } = await captureStdout(() =>
    readInputs(
      reader({
        'working-directory': 'bench',
        suite: 'suite.yaml',
        template: 'report.hbs',
        platform: 'local',
        baseline: 'file:old/results.json',
        'baseline-artifact': 'pvbench-mesh',
        comment: 'False',
        'fail-on-regression': 'TRUE',
        threshold: '15%',
        trials: '4',
        'output-dir': 'out',
        'upload-artifact': 'false',
        'github-token': 'ghs_typedValuesToken123456',
      }),
      { GITHUB_WORKSPACE: ws },
    ),
  );
  assert.equal(i.workingDirectory, join(ws, 'bench'));
  assert.equal(i.suite, join(ws, 'bench', 'suite.yaml'));
  assert.equal(i.template, join(ws, 'bench', 'report.hbs'));
  assert.equal(i.platform, 'local');
  assert.deepEqual(i.baseline, { kind: 'file', path: join(ws, 'bench', 'old', 'results.json') });
  assert.equal(i.baselineArtifact, 'pvbench-mesh');
  assert.equal(i.comment, false);
  assert.equal(i.failOnRegression, true);
  assert.equal(i.threshold, 0.15);
  assert.equal(i.trials, 4);
  assert.equal(i.outputDir, join(ws, 'bench', 'out'));
  assert.equal(i.uploadArtifact, false);
});

test('errors name the input, the problem and the fix', async (t) => {
  const ws = await workspace(t);
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ comment: 'yes' }, 'comment', /Input "comment": "yes" is not a boolean\. Fix: set "comment: true" or "comment: false"/],
    [{ threshold: 'ten' }, 'threshold', /Input "threshold": "ten" is not a number\. Fix: set e\.g\. "threshold: 0\.1/],
    [{ threshold: '20' }, 'threshold', /out of range\. Fix: use a value from 0 to 10/],
    [{ trials: '2.5' }, 'trials', /not a whole number/],
    [{ trials: '0' }, 'trials', /out of range\. Fix: use a value from 1 to 100/],
    [{ platform: 'k8s' }, 'platform', /Input "platform": "k8s" is not a platform\. Fix: use "local" or "kubernetes"/],
    [{ baseline: 'latest' }, 'baseline', /Input "baseline": "latest" is not a baseline source\. Fix: use one of "artifact"/],
    [{ baseline: 'file:' }, 'baseline', /"file:" needs a path/],
    [{ suite: 'missing.yaml' }, 'suite', /Input "suite": the suite file "missing\.yaml" does not exist \(looked for .*missing\.yaml\)\. Fix: pass the path/],
    [{ suite: 'bench' }, 'suite', /is not a file/],
    [{ template: 'nope.hbs' }, 'template', /Input "template": the template "nope\.hbs" does not exist/],
    [{ 'working-directory': 'nowhere' }, 'working-directory', /Input "working-directory": "nowhere" is not a directory/],
    [{ 'baseline-artifact': 'a/b' }, 'baseline-artifact', /cannot hold/],
  ];
  for (const [values, input, message] of cases) {
    await captureStdout(() => {
      assert.throws(
        () => readInputs(reader(values), { GITHUB_WORKSPACE: ws }),
        (err: unknown) => err instanceof InputError && err.input === input && message.test(err.message),
        `${JSON.stringify(values)} → ${input}`,
      );
    });
  }
});

test('baseline parsing', () => {
  assert.deepEqual(parseBaseline('', '/w'), { kind: 'artifact' });
  assert.deepEqual(parseBaseline('history', '/w'), { kind: 'history' });
  assert.deepEqual(parseBaseline('none', '/w'), { kind: 'none' });
  assert.deepEqual(parseBaseline('file:/abs/r.json', '/w'), { kind: 'file', path: '/abs/r.json' });
  assert.deepEqual(parseBaseline('file: rel/r.json', '/w'), { kind: 'file', path: '/w/rel/r.json' });
});

test('the token and kubeconfig secrets are masked as soon as they are read', async (t) => {
  const ws = await workspace(t);
  const token = 'ghs_maskMeImmediately0987654321';
  const kubeconfig = 'apiVersion: v1\nusers:\n- name: ci\n  user:\n    token: kubeTokenSecretValue42\n    client-key-data: LS0tLS1CRUdJTiBLRVktLS0tLQ==\n';
  const { value: i, commands } = await captureStdout(() => readInputs(reader({ 'github-token': token, kubeconfig }), { GITHUB_WORKSPACE: ws }));
  assert.equal(i.kubeconfig, kubeconfig);
  assert.ok(commands.masks.includes(token), 'the token is sent to the runner as ::add-mask::');
  assert.ok(commands.masks.includes('kubeTokenSecretValue42'), 'a kubeconfig token line is masked on its own');
  assert.ok(commands.masks.includes('LS0tLS1CRUdJTiBLRVktLS0tLQ=='));
  const text = `token ${token} and ${kubeconfig}`;
  const masked = maskText(text);
  assert.ok(!masked.includes(token) && !masked.includes('kubeTokenSecretValue42') && !masked.includes('LS0tLS1CRUdJTiBLRVktLS0tLQ=='), masked);
});
