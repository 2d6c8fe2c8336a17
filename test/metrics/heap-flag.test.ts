// keepYoungGenerationSmall in this process (issue 8): heap.test.ts measures its effect in a child process, which a
// mutation run cannot see. Here node:v8's setFlagsFromString is replaced (before heap.ts is loaded) by a recorder:
// the call sets exactly V8's semi-space growth factor to 1, once per call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire, syncBuiltinESMExports } from 'node:module';

const require = createRequire(import.meta.url);
const v8 = require('node:v8') as typeof import('node:v8');
const real = v8.setFlagsFromString;
const flags: string[] = [];
v8.setFlagsFromString = (flag: string) => {
  flags.push(flag);
  real(flag);
};
syncBuiltinESMExports();
const { keepYoungGenerationSmall } = await import('../../src/metrics/heap.ts');

test('keepYoungGenerationSmall sets --semi-space-growth-factor=1 and nothing else', () => {
  assert.deepEqual(flags, []);
  keepYoungGenerationSmall();
  assert.deepEqual(flags, ['--semi-space-growth-factor=1']);
  keepYoungGenerationSmall();
  assert.deepEqual(flags, ['--semi-space-growth-factor=1', '--semi-space-growth-factor=1']);
});
