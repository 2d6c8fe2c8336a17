// Every fault, on the local platform, with real data movers (copy always; restic when installed, as in CI).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, rm } from 'node:fs/promises';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suiteSchema } from '../../src/config/schema.ts';
import type { ScenarioConfig, Suite } from '../../src/config/schema.ts';
import { LocalPlatform } from '../../src/platform/local/platform.ts';
import type { ScenarioOutcome } from '../../src/faults/context.ts';
import type { BackupTool } from '../../src/tools/types.ts';
import { CopyTool } from '../../src/tools/copy.ts';
import { runs } from '../helpers/process.ts';
import { faultfsUnavailable } from '../../src/faults/faultfs.ts';
import { localTrials, scenarioOf } from './harness.ts';

const suite: Suite = suiteSchema.parse({
  workload: { proxies: 3, accessLogLines: 20000, statsSnapshots: 3, clusters: 20, churn: { appendLines: 300, rewriteConfig: true, newStats: 1 } },
});
const hasRestic = runs('restic', ['version']);

const trials = localTrials('t');
let platform: LocalPlatform;
before(() => {
  platform = trials.platform();
});

const scenario = (tool: BackupTool, sc: ScenarioConfig, workload = suite.workload): Promise<ScenarioOutcome> => trials.run(tool, sc, workload, suite.seed);
const sc = scenarioOf;

const hasKopia = runs('kopia', ['--version']);
const tools = ['copy', ...(hasRestic ? ['restic'] : []), ...(hasKopia ? ['kopia'] : [])];
if (!hasRestic) test('restic fault tests', { skip: 'restic is not installed (scripts/setup.sh installs it)' }, () => undefined);
if (!hasKopia) test('kopia fault tests', { skip: 'kopia is not installed (scripts/setup.sh builds it where Go is available)' }, () => undefined);

for (const type of tools) {
  const make = () => platform.createTool({ type: type as 'copy' | 'restic' | 'kopia', options: {} });

  test(`${type}: no fault — full, churn, incremental, restore, integrity ok`, async () => {
    const o = await scenario(make(), sc('no-fault', { kind: 'none' }, true));
    assert.equal(o.status, 'passed', o.error);
    assert.ok(o.backup && o.backup.wallMs > 0 && o.backup.bytesProcessed > 10_000_000);
    assert.ok(o.incremental && o.incremental.wallMs > 0);
    assert.ok(o.restore && o.restore.wallMs > 0);
    if (type !== 'copy') {
      // A Go program's start-up alone (runtime, key derivation) takes CPU time and megabytes: both figures must be there.
      assert.ok(o.backup.cpuUserMs + o.backup.cpuSysMs > 0, 'CPU of the tool was measured');
      assert.ok(o.backup.peakRssBytes > 1024 * 1024, 'peak RSS of the tool was measured');
    } else {
      // cp of ~14 MB can finish within one clock tick (10 ms of CPU) and one sampling interval, so its figures may be
      // 0; what must hold is that they are never the forked Node process's.
      assert.ok(o.backup.peakRssBytes < 64 * 1024 * 1024, 'never the forked Node process\'s memory');
    }
    assert.equal(o.integrity?.ok, true);
    assert.equal(o.integrity?.files, o.integrity?.matched);
  });

  test(`${type}: corrupted volume — damage detected by the manifest, restore brings every file back`, async () => {
    const o = await scenario(make(), sc('corrupt-volume', { kind: 'corrupt-volume', bitFlips: 2, truncate: 1, delete: 1 }));
    assert.equal(o.status, 'passed', o.error);
    assert.equal(o.fault.injected, true);
    assert.equal(o.fault.detected, true);
    assert.equal(o.fault.details.foundMissing, 1);
    assert.equal(o.fault.details.foundMismatched, 3);
    assert.equal(o.integrity?.ok, true);
    assert.ok((o.rtoMs ?? 0) > 0);
  });

  test(`${type}: corrupted repository — the tool's check detects it`, async () => {
    const o = await scenario(make(), sc('corrupt-repository', { kind: 'corrupt-repository', bitFlips: 4 }));
    assert.equal(o.status, 'passed', o.error);
    assert.equal(o.check?.ran, true);
    assert.equal(o.check?.ok, false, `check output: ${o.check?.output}`);
    assert.equal(o.fault.detected, true);
    assert.match(o.fault.description, /check detected it/);
  });

  test(`${type}: outage — writer and backup killed together, restore the last completed backup, RTO and RPO`, async () => {
    const o = await scenario(make(), sc('outage', { kind: 'outage', writesPerSecond: 300, afterMs: 150 }));
    assert.equal(o.status, 'passed', o.error);
    assert.equal(o.integrity?.ok, true, 'restored logs are consistent prefixes and other files match');
    assert.ok((o.fault.details.acknowledgedWrites as number) > 0, 'the writer made acknowledged writes');
    // Exact figures on a fake clock: scenarios.test.ts. Here, with real processes: the books balance, and lost writes
    // mean a recovery point before the outage.
    const { acknowledgedWrites, writesPresent, writesLost } = o.fault.details as Record<string, number>;
    assert.equal(writesLost, acknowledgedWrites! - writesPresent!);
    assert.ok(writesPresent! <= acknowledgedWrites!, `${writesPresent} present of ${acknowledgedWrites}`);
    assert.ok(o.rpoMs !== undefined && (writesLost === 0 || o.rpoMs > 0), `RPO ${o.rpoMs} ms with ${writesLost} writes lost`);
    assert.ok(o.rtoMs !== undefined && o.rtoMs > 0);
    if (/mid-backup/.test(o.fault.description)) assert.match(o.fault.description, /restored the last completed backup/);
  });
}

if (hasRestic) {
  test('restic: crash mid-backup — SIGKILL, stale lock found and removed, retry succeeds, data intact', async () => {
    const o = await scenario(platform.createTool({ type: 'restic', options: {} }), sc('crash-backup', { kind: 'crash', phase: 'backup', at: 0.2, retries: 3 }));
    assert.equal(o.status, 'passed', o.error);
    assert.equal(o.fault.injected, true, o.fault.description);
    assert.match(o.fault.description, /SIGKILL restic backup/);
    assert.ok((o.fault.details.staleLocks as number) >= 1, 'a killed restic leaves its lock behind');
    assert.match(String(o.fault.details.recoveryActions), /restic unlock/);
    assert.equal(o.backup?.attempts, 2);
    assert.ok((o.fault.recoveryMs ?? 0) > 0);
    assert.equal(o.integrity?.ok, true);
  });

  test('restic: crash mid-restore — retry into a fresh target, data intact', async () => {
    // At the default point (30%), measured by bytes the restore has written.
    const o = await scenario(platform.createTool({ type: 'restic', options: {} }), sc('crash-restore', { kind: 'crash', phase: 'restore', at: 0.3, retries: 3 }));
    assert.equal(o.status, 'passed', o.error);
    assert.equal(o.fault.injected, true, o.fault.description);
    assert.match(o.fault.description, /SIGKILL restic restore .* written/);
    assert.equal(o.restore?.attempts, 2);
    assert.equal(o.integrity?.ok, true);
  });
}

// Repair after corruption: the tool's own repair path, then a restore of what it kept and a fresh backup.
const resticRepairs = hasRestic && runs('restic', ['repair', '--help']);
for (const type of [...(resticRepairs ? ['restic'] : []), ...(hasKopia ? ['kopia'] : [])]) {
  test(`${type}: repair after a detected corruption recovers what it can, measured; the repository takes backups again`, async () => {
    // restic repair packs saves copies of the damaged packs to its working directory: never pvbench's own (run
    // from an empty folder of this test's, which other test files running meanwhile do not write to).
    const cwd = process.cwd();
    const here = mkdtempSync(join(tmpdir(), 'pvbench-cwd-'));
    process.chdir(here);
    let o: ScenarioOutcome;
    try {
      o = await scenario(platform.createTool({ type: type as 'restic' | 'kopia', options: {} }), sc('corrupt-repository', { kind: 'corrupt-repository', bitFlips: 1 }));
    } finally {
      process.chdir(cwd);
    }
    assert.deepEqual(readdirSync(here), [], 'files left in the working directory');
    rmSync(here, { recursive: true, force: true });
    assert.equal(o.status, 'passed', o.error);
    assert.equal(o.fault.detected, true);
    const d = o.fault.details;
    assert.equal(d.repairRan, true, String(d.repairActions));
    const files = d.filesTotal as number;
    const recovered = d.filesRecovered as number;
    assert.equal(files, o.integrity?.files ?? files);
    assert.ok(recovered > 0 && recovered <= files, `${recovered} of ${files} files recovered`);
    assert.equal(d.recoveredShare, Math.round((recovered / files) * 1000) / 1000);
    assert.equal(typeof d.repairMs, 'number');
    assert.equal(d.freshBackup, 'ok');
    assert.match(o.fault.description, new RegExp(`; repaired \\(.+\\) in \\d+\\.\\d s: ${recovered} of ${files} files recovered; a fresh backup succeeded$`));
  });

  test(`${type}: repair that cannot recover (every pack damaged) says so: nothing recovered, still detected, not a pass by silence`, async () => {
    const o = await scenario(platform.createTool({ type: type as 'restic' | 'kopia', options: {} }), sc('corrupt-repository', { kind: 'corrupt-repository', bitFlips: 400 }));
    assert.equal(o.fault.detected, true);
    const d = o.fault.details;
    assert.equal(d.repairRan, true);
    assert.ok((d.filesRecovered as number) < (d.filesTotal as number), `${d.filesRecovered} of ${d.filesTotal}`);
    assert.match(o.fault.description, /repaired \(.+\) in \d+\.\d s: \d+ of \d+ files recovered/);
  });
}

test('copy: no repair path: the report says so', async () => {
  const o = await scenario(new CopyTool({ type: 'copy', options: {} }, { workdir: platform.dir, timeoutMs: 60_000, slowdown: 1 }), sc('corrupt-repository', { kind: 'corrupt-repository', bitFlips: 2 }));
  assert.equal(o.fault.details.repairRan, false);
  assert.match(o.fault.description, /; no repair: cp keeps plain copies, there is nothing to repair$/);
});

// cp copies the default workload (~10 MB) in ~15 ms: polling alone let it finish between two looks in some trials.
// These use ~40 MB (cp: ~50 ms), so that even on a loaded CI machine, where a 1 ms slice can last far longer, cp
// cannot finish within one slice: what is tested is that the hold catches it, not the machine's timer resolution.
const bigger = suiteSchema.parse({ workload: { proxies: 3, accessLogLines: 50000, statsSnapshots: 3, clusters: 20 } }).workload;

/** Runs `fn` with faultfs out of reach: the crash then falls back to the slice trigger, which these tests are about. */
async function withoutFaultfs<T>(fn: () => Promise<T>): Promise<T> {
  const saved = process.env.PVBENCH_FAULTFS;
  process.env.PVBENCH_FAULTFS = '/nonexistent/pvbench-faultfs';
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.PVBENCH_FAULTFS;
    else process.env.PVBENCH_FAULTFS = saved;
  }
}

test('copy: a crash in a fast cp is injected every time (held in slices, without faultfs), mid-backup and mid-restore', () => withoutFaultfs(async () => {
  for (const phase of ['backup', 'restore'] as const) {
    for (let i = 0; i < 3; i++) {
      const o = await scenario(new CopyTool({ type: 'copy', options: {} }, { workdir: platform.dir, timeoutMs: 60_000, slowdown: 1 }), sc(`crash-${phase}`, { kind: 'crash', phase, at: 0.3, retries: 1 }), bigger);
      assert.equal(o.status, 'passed', o.error);
      assert.equal(o.fault.injected, true, `${phase} #${i}: ${o.fault.description}`);
      assert.match(o.fault.description, /^SIGKILL cp\b[^(]* \(pid \d+\) after \d+ KiB written at \d+% of the /);
      const at = o.fault.details.killedAtPercent as number;
      assert.ok(at >= 30 && at < 100, `killed at ${at}%`);
      assert.equal((phase === 'backup' ? o.backup : o.restore)?.attempts, 2);
      assert.equal(o.integrity?.ok, true);
      // How the crashed attempt ended, and how soon after the kill: what a user of a cluster tool wants to know.
      assert.match(String(o.fault.details.crashedAttempt), /^failed: cp -a exited|^failed: cp -a was killed by SIGKILL/);
      const ended = o.fault.details.crashedAttemptEndedAfterMs as number;
      assert.equal(typeof ended, 'number');
      assert.ok(ended < 2_000, `a killed cp is seen to end at once, not ${ended} ms later`);
      assert.equal(o.fault.details.mechanism, 'slice-trigger');
    }
  }
}));

test('copy: an outage aimed at mid-backup kills the second backup mid-way every time', async () => {
  for (let i = 0; i < 2; i++) {
    const o = await scenario(new CopyTool({ type: 'copy', options: {} }, { workdir: platform.dir, timeoutMs: 60_000, slowdown: 1 }), sc('outage', { kind: 'outage', writesPerSecond: 300, afterMs: 5000 }), bigger);
    assert.equal(o.status, 'passed', o.error);
    assert.equal(o.fault.injected, true);
    assert.match(o.fault.description, /mid-backup; restored the last completed backup/, `#${i}: ${o.fault.description}`);
  }
});

test('an outage through faultfs strikes the second backup on exactly half its source bytes, on a tiny workload too', { skip: faultfsUnavailable() ?? false }, async () => {
  const tiny = suiteSchema.parse({ workload: { proxies: 2, accessLogLines: 300, statsSnapshots: 1, clusters: 2 } }).workload;
  for (const make of [() => new CopyTool({ type: 'copy', options: {} }, { workdir: platform.dir, timeoutMs: 60_000, slowdown: 1 }), ...(hasRestic ? [() => platform.createTool({ type: 'restic', options: {} })] : [])]) {
    const o = await scenario(make(), sc('outage', { kind: 'outage', writesPerSecond: 300, afterMs: 60_000 }), tiny);
    assert.equal(o.status, 'passed', o.error);
    assert.equal(o.fault.injected, true, o.fault.description);
    const d = o.fault.details;
    assert.equal(d.mechanism, 'faultfs', String(d.mechanismNote ?? ''));
    assert.equal(d.struckBy, 'half the source bytes read');
    assert.equal(d.struckAtByte, d.requestedByte);
    assert.equal(d.requestedByte, Math.round((d.totalBytes as number) / 2));
    assert.match(o.fault.description, /^SIGKILL .* by faultfs at byte [\d,]+ of [\d,]+ read \(50\.0%\) and workload writer .*killed together mid-backup; restored the last completed backup/);
  }
});

// Tools that lose data must fail the trial: these prove the checks above can fail.
class LossyCopy extends CopyTool {
  override async restore(...args: Parameters<CopyTool['restore']>) {
    const r = await super.restore(...args);
    await rm(`${args[1].location}/proxy-0/config_dump.json`);
    return r;
  }
}
class SilentCopy extends LossyCopy {
  override async check() {
    return { ran: true, ok: true, output: 'all good (not really)' };
  }
}

test('a tool that drops a file on restore fails the no-fault trial with the missing file named', async () => {
  const o = await scenario(new LossyCopy({ type: 'copy', name: 'lossy', options: {} }, { workdir: platform.dir, timeoutMs: 60_000, slowdown: 1 }), sc('no-fault', { kind: 'none' }));
  assert.equal(o.status, 'failed');
  assert.equal(o.integrity?.missing, 1);
  assert.match(o.error ?? '', /1 missing .*proxy-0\/config_dump.json/);
});

test('silent corruption (check passes, restore returns damaged data) fails the corrupted-repository trial', async () => {
  const o = await scenario(new SilentCopy({ type: 'copy', name: 'silent', options: {} }, { workdir: platform.dir, timeoutMs: 60_000, slowdown: 1 }), sc('corrupt-repository', { kind: 'corrupt-repository', bitFlips: 1 }));
  assert.equal(o.status, 'failed');
  assert.equal(o.fault.detected, false);
  assert.match(o.fault.description, /SILENT CORRUPTION/);
});

// Someone else writes to the source volume while the backup reads it (not pvbench, not the tool).
class MeddledCopy extends CopyTool {
  override async backup(...args: Parameters<CopyTool['backup']>) {
    const [source] = args;
    await appendFile(join(source.location, source.volumes[0]!, 'config_dump.json'), '\n{"edited": "by someone else"}\n');
    await rm(join(source.location, source.volumes[1]!, 'config_dump.json'));
    return super.backup(source);
  }
}

test('a source file changed or removed by someone else during the backup is reported as such, not as the tool\'s data loss', async () => {
  const o = await scenario(new MeddledCopy({ type: 'copy', name: 'meddled', options: {} }, { workdir: platform.dir, timeoutMs: 60_000, slowdown: 1 }), sc('no-fault', { kind: 'none' }));
  assert.equal(o.status, 'error');
  assert.equal(
    o.error,
    'the source volumes changed during the trial, not by pvbench or the tool (1 file changed, 1 removed: proxy-0/config_dump.json, proxy-1/config_dump.json): the restore cannot be judged against them',
  );
  assert.equal(o.integrity?.ok, false, 'the comparison itself is kept');
});

// A tool whose operations never report themselves to a fault trigger: a crash aimed at them cannot land.
class UnreachableCopy extends CopyTool {
  override async backup(...args: Parameters<CopyTool['backup']>) {
    return super.backup(args[0]);
  }
}

// With faultfs the kill lands even on a tool that never reports its pid (faultfs kills the reader it holds): the
// slice trigger, which needs the hooks, is the one that can miss.
test('a fault that did not land never reads as a pass: the trial is "not-injected" and says what did not happen', async () => {
  const o = await withoutFaultfs(() => scenario(new UnreachableCopy({ type: 'copy', name: 'unreachable', options: {} }, { workdir: platform.dir, timeoutMs: 60_000, slowdown: 1 }), sc('crash-backup', { kind: 'crash', phase: 'backup', at: 0.5, retries: 1 })));
  assert.equal(o.fault.injected, false);
  assert.equal(o.integrity?.ok, true, 'the data came back: only the fault is missing');
  assert.equal(o.status, 'not-injected');
  assert.equal(o.error, 'the crash fault was not injected (the backup finished before reaching 50%: no crash injected): this trial measured nothing about recovery from it');
});
