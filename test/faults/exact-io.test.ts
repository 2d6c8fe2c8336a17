// Issue 10's "each fault at its point, 10 times out of 10" for the faults beside the crash: an I/O error on the
// source (io-error's layer, EIO from the byte on) lands on the requested byte for copy, restic and kopia, on a tiny
// and a larger workload, at 10 points each; and the outage, which aims the same layer at half the source bytes,
// strikes there for each tool and workload.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { LocalPlatform } from '../../src/platform/local/platform.ts';
import { armByteFault } from '../../src/faults/byte-point.ts';
import { faultfsUnavailable } from '../../src/faults/faultfs.ts';
import { EXACT_WORKLOADS, installedLocalTools, localTrials, scenarioOf } from './harness.ts';

const { tiny, larger } = EXACT_WORKLOADS;
const sizes = [
  ['tiny', tiny],
  ['larger', larger],
] as const;
const why = faultfsUnavailable();
const tools = installedLocalTools();

const trials = localTrials('xio');
let platform: LocalPlatform;
before(() => {
  platform = trials.platform();
});

if (why) test('exact I/O fault and outage tests', { skip: `faultfs is not available: ${why}` }, () => undefined);
else {
  for (const type of tools) {
    for (const [size, workload] of sizes) {
      test(`${type}, ${size} workload: EIO on the source lands on the requested byte, 10 times out of 10`, async () => {
        const ctx = await trials.context(platform.createTool({ type, options: {} }), workload, 42);
        try {
          for (let i = 0; i < 10; i++) {
            const at = 0.05 + 0.09 * i;
            // A fresh repository each time: a backup that finished through the error (restic, kopia) would be the
            // parent of the next, which then reads only what failed and never reaches the later points.
            if (i > 0) await ctx.tool.init(`${ctx.trialId}-${i}`);
            const f = await armByteFault(ctx, { site: 'source', action: 'eio', fraction: at });
            const op = ctx.tool.backup(ctx.volumes, f.hooks);
            await op.catch(() => undefined);
            const { strike } = await f.finish();
            assert.ok(strike, `run ${i} (${at}): not struck`);
            assert.equal(strike.byte, f.atByte, `run ${i}: struck at ${strike.byte}, asked ${f.atByte}`);
            assert.equal(f.atByte, Math.round(at * f.totalBytes));
            assert.equal(strike.action, 'eio');
          }
        } finally {
          await trials.drop(ctx);
        }
      });

      test(`${type}, ${size} workload: the outage strikes the second backup on half its source bytes`, async () => {
        const o = await trials.run(platform.createTool({ type, options: {} }), scenarioOf('outage', { kind: 'outage', writesPerSecond: 300, afterMs: 60_000 }), workload, 42);
        assert.equal(o.status, 'passed', o.error);
        assert.equal(o.fault.injected, true, o.fault.description);
        const d = o.fault.details;
        assert.equal(d.mechanism, 'faultfs');
        assert.equal(d.struckBy, 'half the source bytes read');
        assert.equal(d.struckAtByte, d.requestedByte);
        assert.equal(d.requestedByte, Math.round((d.totalBytes as number) / 2));
      });
    }
  }
}
