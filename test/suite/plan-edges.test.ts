// Cases of plan.ts that the mutation run (npm run mutate -- suite) showed untested.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suiteSchema } from '../../src/config/schema.ts';
import { duplicateNames, planTrials } from '../../src/suite/plan.ts';

test('trial ids stay DNS-safe even for names the schema would have refused', () => {
  const valid = suiteSchema.parse({ trials: 1, tools: [{ type: 'copy' }], scenarios: [{ name: 'a' }] });
  // A suite built in code, not parsed: names with capitals, spaces, dots and underscores.
  const suite = { ...valid, tools: [{ ...valid.tools[0]!, name: 'My Copy.v2' }], scenarios: [{ ...valid.scenarios[0]!, name: 'Crash_Backup' }] };
  assert.deepEqual(planTrials(suite).map((p) => p.id), ['my-copy-v2-crash-backup-1']);
});

test('only names used more than once are reported', () => {
  const suite = suiteSchema.parse({ tools: [{ type: 'copy' }, { type: 'restic', name: 'copy' }, { type: 'kopia' }], scenarios: [{ name: 'a' }, { name: 'b' }] });
  assert.deepEqual(duplicateNames(suite), ['tool name "copy" is used 2 times']);
  assert.deepEqual(duplicateNames(suiteSchema.parse({ tools: [{ type: 'copy' }], scenarios: [{ name: 'a' }] })), []);
});
