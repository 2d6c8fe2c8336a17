// The suite's in-run A/B (ab) and the tools' binary option: validation names the file, the key and the fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseSuite } from '../../src/config/load.ts';

function problems(text: string) {
  try {
    parseSuite(text, 'ab.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.problems.map((p) => ({ key: p.key, message: p.message, fix: p.fix }));
  }
  assert.fail('expected the suite to be rejected');
}

const TOOLS = 'tools:\n  - { name: old, type: restic, options: { binary: /usr/bin/restic } }\n  - { name: new, type: restic, options: { binary: .tools/bin/restic } }\n';

test('an A/B of two tools parses with its defaults: threshold 5%, differences do not fail the run', () => {
  const s = parseSuite(`${TOOLS}ab: { a: old, b: new }\n`, 'ab.yaml');
  assert.deepEqual(s.ab, { a: 'old', b: 'new', threshold: 0.05, failOnRegression: false });
  assert.equal(s.tools[0]?.options.binary, '/usr/bin/restic');
});

test('ab.a naming no tool of the suite is refused with the names it could be', () => {
  assert.deepEqual(problems(`${TOOLS}ab: { a: olde, b: new }\n`), [
    { key: 'ab.a', message: 'ab.a is "olde", which is not a tool of this suite (its tools: old, new)', fix: 'name one of "old", "new", or add a tool with name: olde' },
  ]);
});

test('ab.a and ab.b naming the same tool is refused, and the fix says how to make an A/A run', () => {
  assert.deepEqual(problems(`${TOOLS}ab: { a: new, b: new }\n`), [
    { key: 'ab.b', message: 'ab.a and ab.b both name "new": a tool compared with itself measures nothing', fix: 'name two tools; for an A/A run (the noise of this machine) add the same tool twice under two names' },
  ]);
});

test('a binary on a tool that runs no program of its own, or an empty one, is refused', () => {
  assert.deepEqual(problems('tools:\n  - { type: copy, options: { binary: /bin/cp } }\n'), [
    { key: 'tools[0].options.binary', message: 'copy has no binary option (only restic and kopia run a program pvbench starts)', fix: 'remove options.binary' },
  ]);
  assert.deepEqual(problems('tools:\n  - { type: kopia, options: { binary: " " } }\n'), [
    { key: 'tools[0].options.binary', message: 'binary is " ", not a command or a path', fix: 'give the program to run, e.g. binary: /usr/bin/kopia, or leave binary out for the kopia on PATH' },
  ]);
});

test("restic's chunker: fixed or random, anything else refused with the choices", () => {
  assert.deepEqual(problems('tools:\n  - { type: restic, options: { chunker: seeded } }\n'), [
    { key: 'tools[0].options.chunker', message: `restic's chunker is "seeded"`, fix: 'use "fixed" or "random" ("fixed" is the default)' },
  ]);
  assert.equal(parseSuite('tools:\n  - { type: restic, options: { chunker: random } }\n', 'ab.yaml').tools[0]?.options.chunker, 'random');
});
