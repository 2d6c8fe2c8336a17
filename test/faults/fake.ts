// An in-memory world for the scenario runners of src/faults: a clock that moves only when an operation says so, volume
// sets as maps of path to content, a backup tool that stores snapshots of them and does what each test scripts for each
// of its operations, a platform with a writer and a node outage, and a stand-in for the faultfs binary (a shell script
// that prints the report a test gives it: the one child process these tests start, since armByteFault mounts faultfs
// through it). Nothing here reads or writes the tools' real files.
import { createHash } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suiteSchema } from '../../src/config/schema.ts';
import type { ToolConfig, WorkloadConfig } from '../../src/config/schema.ts';
import type { TrialContext } from '../../src/faults/context.ts';
import { acceptPrefixes, diffManifests, integrityFromDiff } from '../../src/metrics/manifest.ts';
import type { Manifest, ManifestList } from '../../src/metrics/types.ts';
import type { NodeOutage, Platform, VolumeSet, Writer } from '../../src/platform/types.ts';
import type { FaultRecord, IntegrityResult, PhaseMetrics, RepositoryCheck } from '../../src/suite/results.ts';
import { ToolError } from '../../src/tools/types.ts';
import type { BackupOutcome, BackupTool, OpHooks, Probe, RecoveryReport, RepairOutcome, RestoreOutcome, RunningOp } from '../../src/tools/types.ts';

/** Date.now() of the code under test: it moves only when a fake operation advances it. */
export const clock = {
  now: 1_700_000_000_000,
  advance(ms: number): void {
    this.now += ms;
  },
};

/** Replaces Date.now with the fake clock; returns the undo. */
export function installClock(): () => void {
  const real = Date.now;
  Date.now = () => clock.now;
  return () => {
    Date.now = real;
  };
}

/** One real turn of the event loop (the fake clock stands still). */
const nextTurn = () => new Promise<void>((r) => setImmediate(r));

type Files = Map<string, string>;

/** The seeded workload: two proxies, four files, 39 bytes. */
export function seededFiles(): Files {
  return new Map([
    ['proxy-0/config.json', '{"version":1}'],
    ['proxy-0/logs/access.log', 'GET /a\n'],
    ['proxy-1/logs/access.log', 'GET /b\n'],
    ['proxy-1/stats-0.prom', 'up 1\nreq 12\n'],
  ]);
}

export function manifestOf(files: Files): ManifestList {
  const list = [...files.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([path, content]) => ({ path, size: Buffer.byteLength(content), sha256: createHash('sha256').update(content).digest('hex') }));
  return { files: list, bytes: list.reduce((n, f) => n + f.size, 0) };
}

export interface FakeWriter extends Writer {
  kills: number;
  entries: { t: number; path: string; end: number }[];
}

export interface FakeNode {
  /** What strike() says; `onStrike` runs first (e.g. the tool's operation dies with the node). */
  struck: string;
  onStrike?: () => void;
  /** strike() fails with this message instead (e.g. one of two nodes could not be killed). */
  strikeFails?: string;
  /** How long the node takes to come back (fake clock). */
  recoverMs: number;
  events: string[];
}

export interface FakePlatformOptions {
  kind?: 'local' | 'kubernetes';
  /** The work directory (siteDir's repository site goes under it); none by default. */
  dir?: string;
  node?: FakeNode;
  /** How long each verify takes (fake clock). */
  verifyMs?: number;
}

export class FakePlatform implements Platform {
  readonly kind: 'local' | 'kubernetes';
  readonly dir: string | undefined;
  readonly sets = new Map<string, Files>();
  readonly events: string[] = [];
  readonly writer: FakeWriter;
  private readonly verifyMs: number;
  nodeOutage?: (volumes: VolumeSet) => Promise<NodeOutage>;

  constructor(opts: FakePlatformOptions = {}) {
    this.kind = opts.kind ?? 'local';
    this.dir = opts.dir;
    this.verifyMs = opts.verifyMs ?? 0;
    const writer: FakeWriter = {
      kills: 0,
      entries: [],
      describe: () => 'the writer (pid 77)',
      kill: async () => {
        writer.kills++;
      },
      journal: async () => writer.entries,
    };
    this.writer = writer;
    const node = opts.node;
    if (node) {
      this.nodeOutage = async () => ({
        describe: () => 'node pvbench-worker',
        strike: async () => {
          node.events.push('strike');
          node.onStrike?.();
          if (node.strikeFails) throw new Error(node.strikeFails);
          return node.struck;
        },
        recover: async () => {
          node.events.push('recover');
          clock.advance(node.recoverMs);
          return `node back after ${node.recoverMs} ms`;
        },
      });
    }
  }

  files(v: VolumeSet): Files {
    const f = this.sets.get(v.location);
    if (!f) throw new Error(`no volume set at ${v.location}`);
    return f;
  }

  /** A volume set holding `files`. */
  add(id: string, location: string, files: Files): VolumeSet {
    this.sets.set(location, files);
    return { id, location, volumes: ['proxy-0', 'proxy-1'] };
  }

  describe(): string {
    return 'fake platform';
  }
  async prepare(): Promise<void> {}
  async seedVolumes(): Promise<VolumeSet> {
    throw new Error('the tests build their trial context themselves');
  }
  async emptyVolumes(id: string, like: VolumeSet): Promise<VolumeSet> {
    this.events.push(`empty ${id}`);
    return this.add(id, `/fake/${id}`, new Map());
  }
  async churn(volumes: VolumeSet, workload: WorkloadConfig, seed: number): Promise<void> {
    this.events.push(`churn ${volumes.id} seed ${seed} proxies ${workload.proxies}`);
    const f = this.files(volumes);
    f.set('proxy-0/logs/access.log', `${f.get('proxy-0/logs/access.log')}GET /c\n`);
    f.set('proxy-0/config.json', '{"version":2}');
  }
  async manifest(volumes: VolumeSet): Promise<Manifest> {
    return manifestOf(this.files(volumes));
  }
  async verify(volumes: VolumeSet, expected: Manifest, opts?: { appendOnly?: (path: string) => boolean; prefixSource?: VolumeSet }): Promise<IntegrityResult> {
    clock.advance(this.verifyMs);
    if ('file' in expected) throw new Error('the fake platform makes manifests in memory');
    const files = this.files(volumes);
    const actual = manifestOf(files);
    let diff = diffManifests(expected, actual);
    const { appendOnly, prefixSource } = opts ?? {};
    if (appendOnly && prefixSource) {
      const source = this.files(prefixSource);
      const prefixOk = diff.mismatched.filter((p) => appendOnly(p) && (source.get(p) ?? '').startsWith(files.get(p) ?? '\0'));
      diff = acceptPrefixes(diff, new Set(prefixOk));
    }
    return integrityFromDiff(expected, actual, diff);
  }
  /** Flips a character in the first files (path order), truncates the next ones, deletes the ones after. */
  async corruptVolume(volumes: VolumeSet, plan: { bitFlips: number; truncate: number; delete: number }): Promise<Pick<FaultRecord, 'description' | 'details'>> {
    const f = this.files(volumes);
    const paths = [...f.keys()].sort();
    const flip = paths.splice(0, plan.bitFlips);
    const cut = paths.splice(0, plan.truncate);
    const gone = paths.splice(0, plan.delete);
    for (const p of flip) f.set(p, `${f.get(p)!.slice(0, -1)}#`);
    for (const p of cut) f.set(p, f.get(p)!.slice(0, 2));
    for (const p of gone) f.delete(p);
    return { description: `flipped ${flip.length}, truncated ${cut.length}, deleted ${gone.length}`, details: { flipped: flip.join(','), truncated: cut.length, deleted: gone.length } };
  }
  async startWriter(volumes: VolumeSet, writesPerSecond: number, seed: number): Promise<Writer> {
    this.events.push(`writer on ${volumes.id} at ${writesPerSecond}/s seed ${seed}`);
    return this.writer;
  }
  createTool(): BackupTool {
    throw new Error('the tests make their tools themselves');
  }
  async dropVolumes(): Promise<void> {}
  created(): { kind: 'dir' | 'kind-cluster'; value: string }[] {
    return [];
  }
  async cleanup(): Promise<void> {}
}

/** What one operation of the fake tool does. */
export interface OpScript {
  /** Its duration on the fake clock (default: backup 1000 ms, restore 400 ms). */
  ms?: number;
  /** Fails with a ToolError of this message. */
  fail?: string;
  /** Throws a plain Error of this message (a bug, not the tool's failure). */
  throws?: string;
  /** With a trigger watching: the progress it reports at each look (each look takes `lookMs`); it ends at the look after the last. */
  progress?: number[];
  lookMs?: number;
  /** Once killed: how long it takes to die (fake clock), and whether it finishes anyway. */
  dieMs?: number;
  survivesKill?: boolean;
  /** The ToolError it dies with when killed (default: "<what> killed by SIGKILL; exit status 137\nlast output: nothing"). */
  killedMessage?: string;
  /** Restore: paths it leaves out, paths whose content it changes. */
  lose?: string[];
  alter?: string[];
  /** The look (0-based) during which it finishes: that look reports its step only once the operation has ended. */
  finishesAtLook?: number;
  /** Never tells the hooks it started (a tool that cannot report its process). */
  unwatched?: boolean;
  /** Runs once the operation has done its work (e.g. someone else changing the source). */
  then?: () => void;
}

/** An operation a fault trigger watches: it reports scripted progress, can be held, and ends when killed or done. */
class FakeOp implements RunningOp {
  readonly pid = 4242;
  private looks = 0;
  killed = false;
  private end!: (how: 'killed' | 'done') => void;
  readonly ended = new Promise<'killed' | 'done'>((r) => (this.end = r));
  private readonly what: string;
  private readonly script: OpScript;

  constructor(what: string, script: OpScript) {
    this.what = what;
    this.script = script;
    if (!script.progress?.length) this.end('done');
    // Left alone (no look, no kill: a trigger that broke), it ends by itself after 2 s rather than hanging the test.
    const alone = setTimeout(() => this.end('done'), 2000);
    alone.unref();
    void this.ended.then(() => clearTimeout(alone));
  }
  describe(): string {
    return `${this.what} (pid ${this.pid})`;
  }
  async progress(): Promise<number> {
    const steps = this.script.progress ?? [];
    clock.advance(this.script.lookMs ?? 0);
    // A look past the last step finds it finished.
    if (this.looks >= steps.length) {
      this.end('done');
      return steps.at(-1) ?? 0;
    }
    if (this.script.finishesAtLook === this.looks) {
      this.end('done');
      await nextTurn();
    }
    return steps[this.looks++]!;
  }
  async kill(): Promise<string> {
    this.killed = true;
    this.end('killed');
    return `SIGKILL ${this.describe()}`;
  }
  async pause(): Promise<boolean> {
    return true;
  }
  /** Let run on after its last step, it runs to its end. */
  async resume(): Promise<void> {
    if (this.looks >= (this.script.progress ?? []).length) this.end('done');
  }
}

function metrics(wallMs: number): PhaseMetrics {
  return { wallMs, cpuUserMs: 3, cpuSysMs: 1, cpuCores: 0.5, peakRssBytes: 1024, bytesRead: 40, bytesWritten: 40, bytesProcessed: 40, throughputBytesPerSec: 40, attempts: 1, source: 'proc' };
}

export interface FakeToolOptions {
  type?: ToolConfig['type'];
  /** One script per call, in order; calls past the list do the default. */
  backups?: OpScript[];
  restores?: OpScript[];
  check?: RepositoryCheck;
  recover?: RecoveryReport;
  recoverMs?: number;
  /** The tool's repair: absent (no repair method), its outcome, or an error it throws. */
  repair?: RepairOutcome | Error;
  repairMs?: number;
  /** Snapshots the repair leaves (by index into the backups made); all of them by default. */
  keptAfterRepair?: number[];
  /** What corruptRepository does to the stored data: nothing the restore sees, wrong bytes, or a restore that fails. */
  corruption?: 'harmless' | 'damages' | 'breaks-restore';
  /** snapshots() fails once the repository was repaired. */
  snapshotsFailAfterRepair?: boolean;
}

export class FakeTool implements BackupTool {
  readonly name = 'fake';
  readonly type: ToolConfig['type'];
  readonly calls: string[] = [];
  readonly stored: { id: string; files: Files }[] = [];
  repair?: () => Promise<RepairOutcome>;
  private readonly platform: FakePlatform;
  private readonly opts: FakeToolOptions;
  private backupsDone = 0;
  private restoresDone = 0;
  private running: FakeOp | undefined;
  private repaired = false;
  private corrupted = false;

  constructor(platform: FakePlatform, opts: FakeToolOptions = {}) {
    this.platform = platform;
    this.opts = opts;
    this.type = opts.type ?? 'velero-fs';
    const rep = opts.repair;
    if (rep !== undefined) {
      this.repair = async () => {
        this.calls.push('repair');
        clock.advance(opts.repairMs ?? 0);
        if (rep instanceof Error) throw rep;
        if (rep.ran) {
          this.repaired = true;
          const kept = opts.keptAfterRepair;
          if (kept) this.stored.splice(0, this.stored.length, ...kept.map((i) => this.stored[i]!));
        }
        return rep;
      };
    }
  }

  /** Kills the operation in flight, as a node going down does. */
  killRunning(): void {
    void this.running?.kill();
  }

  async probe(): Promise<Probe> {
    return { ok: true, version: 'fake 1' };
  }
  async init(): Promise<void> {}

  /** Runs one scripted operation: watched by the hooks' trigger if any, then for its time on the clock. */
  private async operate(what: string, script: OpScript, ms: number, hooks: OpHooks | undefined): Promise<void> {
    if (hooks?.onStart && !script.unwatched) {
      const op = new FakeOp(what, script);
      this.running = op;
      hooks.onStart(op);
      const how = await op.ended;
      this.running = undefined;
      if (how === 'killed') {
        await nextTurn();
        clock.advance(script.dieMs ?? 0);
        if (!script.survivesKill) throw new ToolError(this.name, script.killedMessage ?? `${what} killed by SIGKILL; exit status 137\nlast output: nothing`);
      }
    }
    clock.advance(ms);
    if (script.fail) throw new ToolError(this.name, script.fail);
    if (script.throws) throw new Error(script.throws);
  }

  async backup(source: VolumeSet, hooks?: OpHooks): Promise<BackupOutcome> {
    const n = ++this.backupsDone;
    const script = this.opts.backups?.[n - 1] ?? {};
    const ms = script.ms ?? 1000;
    this.calls.push(`backup ${n} of ${source.id}${hooks ? ' (hooked)' : ''}`);
    await this.operate(`fake backup ${n}`, script, ms, hooks);
    const id = `snap-${n}`;
    this.stored.push({ id, files: new Map(this.platform.files(source)) });
    script.then?.();
    return { snapshotId: id, metrics: metrics(ms) };
  }

  async restore(snapshotId: string, target: VolumeSet, hooks?: OpHooks): Promise<RestoreOutcome> {
    const n = ++this.restoresDone;
    const script = this.opts.restores?.[n - 1] ?? {};
    const ms = script.ms ?? 400;
    this.calls.push(`restore ${n} of ${snapshotId} into ${target.id}${hooks ? ' (hooked)' : ''}`);
    await this.operate(`fake restore ${n}`, script, ms, hooks);
    const snap = this.stored.find((s) => s.id === snapshotId);
    if (!snap) throw new ToolError(this.name, `no snapshot ${snapshotId}`);
    if (this.corrupted && !this.repaired && this.opts.corruption === 'breaks-restore') throw new ToolError(this.name, 'pack 3f2a: ciphertext verification failed');
    const into = this.platform.files(target);
    for (const [path, content] of snap.files) into.set(path, content);
    for (const p of script.lose ?? []) into.delete(p);
    for (const p of script.alter ?? []) into.set(p, 'garbage');
    if (this.corrupted && !this.repaired && this.opts.corruption === 'damages') into.set('proxy-0/config.json', '{"version":0}');
    script.then?.();
    return { metrics: metrics(ms) };
  }

  async check(): Promise<RepositoryCheck> {
    this.calls.push('check');
    return this.opts.check ?? { ran: true, ok: true, output: 'no errors were found' };
  }
  async recover(opts?: { since?: number }): Promise<RecoveryReport> {
    this.calls.push(opts?.since !== undefined ? `recover since ${opts.since - START}` : 'recover');
    clock.advance(this.opts.recoverMs ?? 0);
    return this.opts.recover ?? { staleLocks: 1, actions: ['unlock: 1 stale lock removed'] };
  }
  async snapshots(): Promise<string[]> {
    if (this.repaired && this.opts.snapshotsFailAfterRepair) throw new ToolError(this.name, 'repository locked');
    return this.stored.map((s) => s.id);
  }
  async repositorySize(): Promise<number> {
    return 0;
  }
  async corruptRepository(bitFlips: number): Promise<Pick<FaultRecord, 'description' | 'details'>> {
    this.corrupted = true;
    return { description: `flipped ${bitFlips} bit(s) in 2 pack files`, details: { bitFlips, packFiles: 2 } };
  }
  async cleanup(): Promise<void> {}
}

/** Where every trial's fake clock starts: figures in the tests are offsets from it. */
export const START = clock.now;

/** The workload every test's context names (the fake platform only passes it on). */
export const WORKLOAD = suiteSchema.parse({ workload: { proxies: 2 } }).workload;

/** A trial context as runTrial makes it: seeded volumes at `location` (a real directory where faultfs must size it). */
export function fakeContext(platform: FakePlatform, tool: FakeTool, location = '/fake/t1-source'): TrialContext & { logs: string[] } {
  clock.now = START;
  const volumes = platform.add('t1-source', location, seededFiles());
  const logs: string[] = [];
  return {
    platform,
    tool,
    workload: WORKLOAD,
    seed: 7,
    trialId: 't1',
    volumes,
    seeded: manifestOf(seededFiles()),
    random: () => 0.5,
    log: (m) => logs.push(m),
    scratch: [],
    logs,
  };
}

/**
 * Writes the stand-in for the faultfs binary into `dir`. It prints $FAKE_FAULTFS_OUT on stdout (faultfs's JSON report
 * lines) and $FAKE_FAULTFS_ERR on stderr, writes its arguments into $FAKE_FAULTFS_ARGS (a file) where set, and exits, as
 * faultfs does once unmounted. Where the report holds the word PID, it prints the first line (ready), waits (at most
 * 2 s) for the pid pvbench tells it on stdin ("pid 4242"), and puts that pid in the rest. With $FAKE_FAULTFS_LINGER
 * (seconds) it then waits that long before it exits, as a faultfs slow to unmount.
 */
export function writeFakeFaultfs(dir: string): string {
  const path = join(dir, 'fake-faultfs');
  const script = [
    '#!/bin/bash',
    'if [[ -n $FAKE_FAULTFS_ARGS ]]; then printf \'%s\\n\' "$*" > "$FAKE_FAULTFS_ARGS"; fi',
    'out=$FAKE_FAULTFS_OUT',
    'if [[ $out == *PID* ]]; then',
    "  printf '%s\\n' \"${out%%$'\\n'*}\"",
    '  read -r -t 2 told',
    "  rest=${out#*$'\\n'}",
    "  printf '%s\\n' \"${rest//PID/${told#pid }}\"",
    'else',
    "  printf '%s\\n' \"$out\"",
    'fi',
    'if [[ -n $FAKE_FAULTFS_ERR ]]; then printf \'%s\\n\' "$FAKE_FAULTFS_ERR" >&2; fi',
    'if [[ -n $FAKE_FAULTFS_LINGER ]]; then sleep "$FAKE_FAULTFS_LINGER"; fi',
    '',
  ].join('\n');
  writeFileSync(path, script);
  chmodSync(path, 0o755);
  return path;
}

/** faultfs's report lines: ready, then what struck (if anything), then its account. */
export function faultfsReport(strike: Record<string, unknown> | undefined, stats: Record<string, unknown> | undefined): string {
  return [{ event: 'ready' }, ...(strike ? [{ event: 'struck', ...strike }] : []), ...(stats ? [{ event: 'stats', ...stats }] : [])].map((e) => JSON.stringify(e)).join('\n');
}
