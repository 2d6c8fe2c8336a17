// The I/O faults on faultfs: io-error, disk-full and slow-disk, each with a real tool. What the tool did, where the
// fault struck (to the byte), and that the data restored afterwards is intact; plus the configuration checks.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { suiteSchema } from '../../src/config/schema.ts';
import { parseSuite } from '../../src/config/load.ts';
import { LocalPlatform } from '../../src/platform/local/platform.ts';
import type { ScenarioOutcome } from '../../src/faults/context.ts';
import { faultfsUnavailable } from '../../src/faults/faultfs.ts';
import { runs } from '../helpers/process.ts';
import { localTrials, scenarioOf } from './harness.ts';

const workload = suiteSchema.parse({ workload: { proxies: 2, accessLogLines: 2000, statsSnapshots: 2, clusters: 5 } }).workload;
const why = faultfsUnavailable();
const hasRestic = runs('restic', ['version']);

const trials = localTrials('io');
let platform: LocalPlatform;
before(() => {
  platform = trials.platform();
});

function scenario(type: 'copy' | 'restic', fault: unknown): Promise<ScenarioOutcome> {
  return trials.run(platform.createTool({ type, options: {} }), scenarioOf('f', fault), workload, 7);
}

/** The struck byte is the requested one: `at` of the volume bytes, rounded. */
function assertExact(o: ScenarioOutcome, at: number): void {
  const d = o.fault.details;
  assert.equal(d.mechanism, 'faultfs');
  assert.equal(d.requestedByte, Math.round(at * (d.totalBytes as number)));
  assert.equal(d.struckAtByte, d.requestedByte);
}

if (why) test('I/O fault tests', { skip: `faultfs is not available: ${why}` }, () => undefined);
else {
  test('copy: io-error on the source — cp fails with EIO at the byte, a clean backup restores intact', async () => {
    const o = await scenario('copy', { kind: 'io-error', target: 'source', at: 0.4 });
    assert.equal(o.status, 'passed', o.error);
    assert.equal(o.fault.kind, 'io-error');
    assert.equal(o.fault.injected, true);
    assert.equal(o.fault.detected, true);
    assertExact(o, 0.4);
    assert.match(String(o.fault.details.faultedBackup), /^failed: cp -a exited with code 1: .*Input\/output error/);
    assert.equal(o.fault.details.restored, 'clean-backup');
    assert.equal(o.integrity?.ok, true);
    assert.equal(o.integrity?.files, o.integrity?.matched);
  });

  if (hasRestic) {
    test('restic: io-error on the source — restic reports the unreadable file (exit 3), nothing silent', async () => {
      const o = await scenario('restic', { kind: 'io-error', target: 'source', at: 0.25 });
      assert.equal(o.status, 'passed', o.error);
      assert.equal(o.fault.injected, true);
      assert.equal(o.fault.detected, true);
      assertExact(o, 0.25);
      assert.match(String(o.fault.details.faultedBackup), /^failed: restic backup exited with code 3: .*input\/output error/);
      assert.equal(o.check?.ran, true);
      assert.equal(o.check?.ok, true, o.check?.output);
      assert.equal(o.integrity?.ok, true);
    });

    test('restic: disk-full past what restic writes (it compresses) — never struck: injected false, not a pass', async () => {
      const o = await scenario('restic', { kind: 'disk-full', at: 0.9 });
      assert.equal(o.fault.injected, false);
      assert.equal(o.status, 'not-injected');
      assert.match(o.fault.description, /^the backup wrote less than \d+ bytes into the repository: the disk never filled; the backup completed anyway$/);
      assert.ok((o.fault.details.layerBytes as number) < (o.fault.details.requestedByte as number));
      assert.equal(o.integrity?.ok, true);
    });

    test('restic: disk-full on the repository — ENOSPC at the byte, backup fails, check passes, clean backup intact', async () => {
      const o = await scenario('restic', { kind: 'disk-full', at: 0.1 });
      assert.equal(o.status, 'passed', o.error);
      assert.equal(o.fault.kind, 'disk-full');
      assert.equal(o.fault.injected, true, o.fault.description);
      assertExact(o, 0.1);
      assert.equal(o.fault.details.site, 'repository');
      assert.match(String(o.fault.details.faultedBackup), /no space left on device/);
      assert.match(o.fault.description, /repository check after the fault passed; with space back, a clean backup restored intact$/);
      assert.equal(o.integrity?.ok, true);
    });
  }

  test('copy: io-error on the repository, 2 operations only — cp fails (it goes on past both failed writes); recovery removes the partial copy', async () => {
    const o = await scenario('copy', { kind: 'io-error', target: 'repository', at: 0.5, count: 2 });
    assert.equal(o.status, 'passed', o.error);
    assertExact(o, 0.5);
    assert.equal(o.fault.details.op, 'write');
    assert.equal(o.fault.details.failedOps, 2, 'both failing writes were used: cp reports a file it cannot write and goes on to the next');
    assert.match(String(o.fault.details.faultedBackup), /^failed: cp -a exited with code 1: .*Input\/output error/);
    assert.match(String(o.fault.details.recoveryActions), /^removed partial snapshot snap-0001\.partial$/);
    assert.equal(o.integrity?.ok, true);
  });

  test('copy: slow-disk on the source — every read delayed, the added latency is in the backup time, data intact', async () => {
    const o = await scenario('copy', { kind: 'slow-disk', target: 'source', delayMs: 5 });
    assert.equal(o.status, 'passed', o.error);
    assert.equal(o.fault.kind, 'slow-disk');
    assert.equal(o.fault.injected, true);
    const d = o.fault.details;
    assert.equal(d.delayedOps, d.layerOps, 'every read is delayed');
    assert.equal(d.layerBytes, d.totalBytes, 'cp read every byte through the layer');
    assert.equal(d.addedMs, Math.round((d.delayedOps as number) * 5));
    // cp reads one file at a time: the delays add up inside its wall time.
    assert.ok((d.faultedBackupWallMs as number) >= (d.addedMs as number), `backup ${d.faultedBackupWallMs} ms < ${d.addedMs} ms added`);
    assert.equal(d.restored, 'faulted-backup');
    assert.equal(o.integrity?.ok, true);
  });
}

test('config: the I/O faults name the key and the fix on Kubernetes and with tools faultfs does not cover', () => {
  const issues = (input: unknown) => {
    const r = suiteSchema.safeParse(input);
    assert.equal(r.success, false);
    return r.error!.issues.map((i) => ({ path: i.path, message: i.message, fix: (i as { params?: { fix?: string } }).params?.fix }));
  };
  const p1 = issues({ tools: [{ type: 'velero-fs' }], scenarios: [{ name: 'full', fault: { kind: 'disk-full' } }] });
  assert.deepEqual(p1, [{ path: ['tools', 0, 'type'], message: 'the disk-full fault (scenario "full") works with copy, restic, kopia, not velero-fs', fix: 'drop the disk-full scenario or use a tool of type copy, restic, kopia' }]);
  const p2 = issues({ platform: { kind: 'kubernetes', cluster: { mode: 'existing' } }, tools: [{ type: 'velero-fs' }], scenarios: [{ name: 'slow', fault: { kind: 'slow-disk' } }] });
  assert.deepEqual(p2.map((p) => p.path), [['scenarios', 0, 'fault', 'kind']]);
  assert.match(p2[0]!.fix!, /^run the slow-disk scenario with platform.kind: local, or remove it from this suite$/);
  // Through the loader: the message names the file, the key and the fix.
  assert.throws(
    () => parseSuite('tools: [{type: velero-fs}]\nscenarios: [{name: full, fault: {kind: disk-full}}]\n', 'suite.yaml'),
    (e: Error) => /^suite\.yaml:\d+:\d+: tools\[0\]\.type: the disk-full fault .*\. Fix: drop the disk-full scenario/m.test(e.message),
  );
  assert.equal(suiteSchema.safeParse({ scenarios: [{ name: 'e', fault: { kind: 'io-error', at: 1 } }] }).success, false);
  assert.equal(suiteSchema.safeParse({ scenarios: [{ name: 'e', fault: { kind: 'slow-disk', delayMs: 0 } }] }).success, false);
  const d = suiteSchema.parse({ scenarios: [{ name: 'e', fault: { kind: 'io-error' } }] }).scenarios[0]!.fault;
  assert.deepEqual(d, { kind: 'io-error', target: 'source', at: 0.3, count: 0 });
});
