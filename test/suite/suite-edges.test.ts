// Edges of the runner the main unit tests (run-units.test.ts) leave open: a tool method used apart from its tool,
// and an interrupt between trials of different tools and scenarios.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suiteSchema } from '../../src/config/schema.ts';
import { measuredTool, runSuite } from '../../src/suite/run.ts';
import { FakePlatform, FakeTool } from '../helpers/fake.ts';

test('measuredTool: a method taken off the tool still runs on the tool (bound), as one using private fields needs', async () => {
  class Private extends FakeTool {
    #secret = 'kept';
    override async snapshots(): Promise<string[]> {
      return [this.#secret];
    }
  }
  const settled = measuredTool(new Private({ type: 'copy' }), {});
  const { snapshots, probe } = settled;
  assert.deepStrictEqual(await snapshots(), ['kept']);
  assert.deepStrictEqual(await probe(), { ok: true, version: 'fake 1.0' });
  assert.deepStrictEqual(await settled.snapshots(), ['kept']);
});

test('an interrupt between trials names the trial before it: its tool, scenario and number', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 0 });
  const controller = new AbortController();
  const log: string[] = [];
  const results = await runSuite({
    suite: suiteSchema.parse({
      name: 'edges',
      trials: 1,
      workload: { proxies: 1, accessLogLines: 5, statsSnapshots: 1, clusters: 1 },
      tools: [{ type: 'copy', name: 'a' }, { type: 'copy', name: 'b' }],
      scenarios: ['s1', 's2', 's3'].map((name) => ({ name, incremental: false })),
    }),
    suiteFile: 'edges.yaml',
    platform: new FakePlatform('kubernetes'),
    resultsPath: '/nowhere/results.json',
    log: (m) => {
      log.push(m);
      if (m.startsWith('[3/6]')) controller.abort();
    },
    signal: controller.signal,
    writeResults: async () => undefined,
  });
  // The plan: a/s1, a/s2, a/s3, b/s1, b/s2, b/s3; stopped after the third.
  assert.equal(results.run.interrupted, 'interrupted after a / s3 #1; 3 of 6 planned trials not run');
  assert.deepStrictEqual(log.slice(2), ['[1/6] a / s1 #1: passed in 0.0 s', '[2/6] a / s2 #1: passed in 0.0 s', '[3/6] a / s3 #1: passed in 0.0 s', 'interrupted: 3 of 6 planned trials not run; the results so far are kept']);
});
