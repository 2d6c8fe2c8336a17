import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suiteSchema } from '../../src/config/schema.ts';
import { duplicateNames, planTrials } from '../../src/suite/plan.ts';
import { recoveryPoint } from '../../src/faults/outage.ts';

test('the plan is trial-major: every tool x scenario once per round', () => {
  const suite = suiteSchema.parse({ trials: 2, tools: [{ type: 'copy' }, { type: 'restic' }], scenarios: [{ name: 'a' }, { name: 'b' }] });
  const plan = planTrials(suite);
  assert.equal(plan.length, 8);
  assert.deepEqual(plan.slice(0, 4).map((p) => `${p.toolName}/${p.scenario.name}/${p.trial}`), ['copy/a/1', 'copy/b/1', 'restic/a/1', 'restic/b/1']);
  assert.equal(plan[4]?.trial, 2);
  assert.equal(new Set(plan.map((p) => p.id)).size, 8);
  for (const p of plan) assert.match(p.id, /^[a-z0-9-]+$/);
});

test('duplicate names are found', () => {
  const suite = suiteSchema.parse({ tools: [{ type: 'copy' }, { type: 'restic', name: 'copy' }], scenarios: [{ name: 'a' }, { name: 'a' }] });
  assert.deepEqual(duplicateNames(suite), ['tool name "copy" is used 2 times', 'scenario name "a" is used 2 times']);
});

test('RPO is the age at the outage of the newest acknowledged write present after restore', () => {
  const journal = [
    { t: 1000, path: 'p0/logs/access.log', end: 100 },
    { t: 1010, path: 'p1/logs/access.log', end: 50 },
    { t: 1020, path: 'p0/logs/access.log', end: 200 },
    { t: 1030, path: 'p1/logs/access.log', end: 120 },
    { t: 1100, path: 'p0/logs/access.log', end: 300 }, // after the outage: not acknowledged before it
  ];
  const sizes = new Map([
    ['p0/logs/access.log', 200],
    ['p1/logs/access.log', 60],
  ]);
  const rp = recoveryPoint(journal, sizes, 1050, 900);
  assert.equal(rp.rpoMs, 30); // newest present: t=1020
  assert.equal(rp.acknowledged, 4);
  assert.equal(rp.present, 3);
  assert.equal(rp.lost, 1);
  const none = recoveryPoint(journal, new Map(), 1050, 900);
  assert.equal(none.rpoMs, 150); // nothing present: everything since the writer started is lost
  assert.equal(none.present, 0);
});

test('an A/B plan runs each scenario on a and b side by side, their order alternating from trial to trial', () => {
  const suite = suiteSchema.parse({
    trials: 3,
    tools: [{ type: 'copy' }, { name: 'old', type: 'restic' }, { type: 'kopia' }, { name: 'new', type: 'restic' }],
    scenarios: [{ name: 's1' }, { name: 's2' }],
    ab: { a: 'old', b: 'new' },
  });
  const ids = planTrials(suite).map((p) => `${p.toolName}/${p.scenario.name}/${p.trial}`);
  assert.deepEqual(ids.slice(0, 8), ['copy/s1/1', 'old/s1/1', 'new/s1/1', 'kopia/s1/1', 'copy/s2/1', 'old/s2/1', 'new/s2/1', 'kopia/s2/1']);
  assert.deepEqual(ids.slice(8, 16), ['copy/s1/2', 'new/s1/2', 'old/s1/2', 'kopia/s1/2', 'copy/s2/2', 'new/s2/2', 'old/s2/2', 'kopia/s2/2']);
  assert.deepEqual(ids.slice(16, 19), ['copy/s1/3', 'old/s1/3', 'new/s1/3']);
  assert.equal(ids.length, 24);
});
