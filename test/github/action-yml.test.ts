// action.yml matches what the code reads and writes; the runner harness parses commands like the runner does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readInputs } from '../../src/github/inputs.ts';
import { OUTPUT_NAMES } from '../../src/github/outputs.ts';
import { captureStdout } from './helpers.ts';
import { parseFileCommands, parseWorkflowCommands, readActionDefinition } from './runner.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('action.yml: node24 with main and an always-run post step; every input the code reads is declared, and no other', async () => {
  const def = await readActionDefinition(ROOT);
  assert.deepEqual(def.runs, { using: 'node24', main: 'dist/action/index.js', post: 'dist/action/post.js', 'post-if': 'always()' });
  const read: string[] = [];
  await captureStdout(() => readInputs((name) => (read.push(name), ''), { GITHUB_WORKSPACE: ROOT }));
  assert.deepEqual([...new Set(read)].sort(), Object.keys(def.inputs).sort());
  assert.equal(def.inputs['github-token']?.default, '${{ github.token }}');
  assert.equal(def.inputs.baseline?.default, 'artifact');
  assert.equal(def.inputs['baseline-artifact']?.default, 'pvbench-results');
  for (const [name, spec] of Object.entries(def.inputs)) assert.ok(spec.description && spec.description.length > 10, `input ${name} is described`);
  assert.deepEqual(Object.keys(def.outputs).sort(), Object.values(OUTPUT_NAMES).sort());
  const raw = await import('node:fs/promises').then((fs) => fs.readFile(join(ROOT, 'action.yml'), 'utf8'));
  assert.match(raw, /^branding:\n {2}icon: \S+\n {2}color: \S+/m);
});

test('runner harness: workflow commands and file commands are parsed the way the runner does', () => {
  const out = [
    'plain line',
    '::add-mask::s3cr3t-value',
    '::group::pvbench: baseline',
    '::endgroup::',
    '::error title=pvbench regression%3A copy / no-fault,file=a%2Cb::Backup time +285%25%0Asecond line',
    '::warning::careful',
    '::notice title=t::n',
  ].join('\n');
  const c = parseWorkflowCommands(out);
  assert.deepEqual(c.masks, ['s3cr3t-value']);
  assert.deepEqual(c.groups, ['pvbench: baseline']);
  assert.deepEqual(c.annotations[0], { level: 'error', message: 'Backup time +285%\nsecond line', properties: { title: 'pvbench regression: copy / no-fault', file: 'a,b' } });
  assert.deepEqual(c.annotations.map((a) => a.level), ['error', 'warning', 'notice']);
  const f = parseFileCommands('a=1\nmulti<<ghadelimiter_x\nline 1\nline 2\nghadelimiter_x\na=2\nempty<<EOF\n\nEOF\n');
  assert.deepEqual(f, { a: '2', multi: 'line 1\nline 2', empty: '' });
  assert.throws(() => parseFileCommands('x<<EOF\nnever closed\n'), /not closed/);
});
