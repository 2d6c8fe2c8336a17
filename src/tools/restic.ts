// restic on the local platform: one repository per trial (copied from a template initialised once per run, since
// `restic init` spends seconds calibrating its key derivation), the password generated per run and masked. The
// template's key is rewritten with fixed scrypt parameters unless options.keyDerivation is "calibrated" (see
// restic-key.ts: restic repeats the derivation on every command, and its calibrated cost dominated and varied).
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { RESTIC_KEY_DERIVATION } from '../config/schema.ts';
import type { ToolConfig } from '../config/schema.ts';
import type { VolumeSet } from '../platform/types.ts';
import type { KeyDerivationInfo, LockWaitInfo, RepositoryCheck, ToolInfo } from '../suite/results.ts';
import { registerSecret, excerpt } from '../platform/secrets.ts';
import { listFiles } from '../metrics/manifest.ts';
import { copyTree, flipBit, pickDistinct, removeTree, treeSize } from '../platform/local/fsutil.ts';
import type { LocalToolContext } from './local-context.ts';
import { notFound, runLocalOp, runQuick, toolBinary, whichVersion } from './local-process.ts';
import { ignoredNote, toolEnv } from './tool-env.ts';
import { FIXED_SCRYPT, openKeyFile, openMasterKey, readRepositoryKey, ResticKeyError, rewriteRepositoryKey } from './restic-key.ts';
import { FIXED_CHUNKER_POLYNOMIAL, readChunkerPolynomial, setChunkerPolynomial } from './restic-chunker.ts';
import { packKind } from './restic-pack.ts';
import { ToolError } from './types.ts';
import type { BackupOutcome, BackupTool, OpHooks, Probe, RecoveryReport, RepairOutcome, RestoreOutcome } from './types.ts';

export class ResticTool implements BackupTool {
  readonly name: string;
  readonly type = 'restic' as const;
  /** The program run: options.binary, or "restic" from PATH. */
  private readonly bin: string;
  private readonly ctx: LocalToolContext;
  private readonly options: ToolConfig['options'];
  private readonly password = randomBytes(24).toString('hex');
  private repo = '';
  private templateReady: Promise<void> | undefined;
  private readonly sources = new Map<string, string>();
  private readonly keyMode: (typeof RESTIC_KEY_DERIVATION)[number];
  private keyInfo: KeyDerivationInfo | undefined;
  private chunkerInfo: ToolInfo['chunker'];
  private lockInfo: LockWaitInfo | undefined;

  constructor(config: ToolConfig, ctx: LocalToolContext) {
    this.name = config.name ?? config.type;
    this.ctx = ctx;
    this.bin = toolBinary(config.options, 'restic');
    this.options = config.options;
    const kd = config.options.keyDerivation ?? 'fixed';
    // The suite's validation rejects other values; this is for callers that build a ToolConfig themselves.
    if (kd !== 'fixed' && kd !== 'calibrated') throw new Error(`${this.name}: options.keyDerivation must be "fixed" or "calibrated", not ${JSON.stringify(kd)}`);
    this.keyMode = kd;
    registerSecret(this.password);
  }

  /** This process's environment without the user's RESTIC_* variables (issue 8), and pvbench's own. */
  private env(repo = this.repo): NodeJS.ProcessEnv {
    return toolEnv('RESTIC_', { RESTIC_REPOSITORY: repo, RESTIC_PASSWORD: this.password, RESTIC_PROGRESS_FPS: '0.1' }).env;
  }

  private get base(): string {
    return join(this.ctx.workdir, 'repos', this.name);
  }

  async probe(): Promise<Probe> {
    const v = await whichVersion(this.name, this.bin, ['version']);
    if (!v) return { ok: false, reason: notFound(this.options, 'restic', 'install it: apt-get install -y restic') };
    return { ok: true, version: v.replace(/^restic\s+/, '').split(' ')[0] ?? v, notes: ignoredNote('restic', toolEnv('RESTIC_', {}).ignored) };
  }

  async init(trialId: string): Promise<void> {
    const template = join(this.base, '_template');
    this.templateReady ??= (async () => {
      await removeTree(template);
      await mkdir(this.base, { recursive: true });
      const args = ['init', '--no-cache'];
      if (typeof this.options.repositoryVersion === 'string' || typeof this.options.repositoryVersion === 'number') {
        args.push('--repository-version', String(this.options.repositoryVersion));
      }
      const res = await runQuick(this.name, this.bin, args, this.env(template), this.ctx.timeoutMs);
      if (res.exitCode !== 0) throw new ToolError(this.name, `restic init failed: ${excerpt(res.stderr, 300)}`, res.exitCode);
      this.keyInfo = await this.settleKey(template);
      this.chunkerInfo = await this.settleChunker(template);
      this.lockInfo = await this.measureLockWait(template);
    })();
    try {
      await this.templateReady;
    } catch (err) {
      this.templateReady = undefined; // the next trial tries again
      throw err;
    }
    this.repo = join(this.base, trialId);
    await removeTree(this.repo);
    await copyTree(template, this.repo);
  }

  /**
   * Fixed: the template's key rewritten with pvbench's scrypt parameters. Calibrated: left as `restic init` wrote it.
   * Either way the key is opened with the password once (which checks it) and one derivation is timed.
   */
  private async settleKey(repo: string): Promise<KeyDerivationInfo> {
    try {
      if (this.keyMode === 'fixed') {
        const rw = await rewriteRepositoryKey(repo, this.password, FIXED_SCRYPT);
        return { mode: 'fixed', kdf: 'scrypt', ...rw.to, ms: round1(rw.toMs) };
      }
      const key = await readRepositoryKey(repo);
      const opened = await openKeyFile(key.text, this.password, key.name);
      return { mode: 'calibrated', kdf: 'scrypt', ...opened.params, ms: round1(opened.derivationMs) };
    } catch (err) {
      if (err instanceof ResticKeyError) throw new ToolError(this.name, `after restic init: ${err.message}`);
      throw err;
    }
  }

  keyDerivation(): KeyDerivationInfo | undefined {
    return this.keyInfo;
  }

  /** Fixed (the default): the template's chunker polynomial replaced by pvbench's (restic-chunker.ts). Random: kept. */
  private async settleChunker(repo: string): Promise<NonNullable<ToolInfo['chunker']>> {
    try {
      if (this.options.chunker === 'random') return { mode: 'random', polynomial: await readChunkerPolynomial(repo, this.password) };
      await setChunkerPolynomial(repo, this.password, FIXED_CHUNKER_POLYNOMIAL);
      return { mode: 'fixed', polynomial: FIXED_CHUNKER_POLYNOMIAL };
    } catch (err) {
      if (err instanceof ResticKeyError) throw new ToolError(this.name, `after restic init: ${err.message}`);
      throw err;
    }
  }

  chunker(): ToolInfo['chunker'] {
    return this.chunkerInfo;
  }

  /**
   * The lock wait (results.ts LockWaitInfo), on the template before any trial: `snapshots` with and without
   * `--no-lock`, in pairs whose order alternates, so that the difference is the lock alone (the lock file written,
   * the sleep, the check, the removal). A command that fails is the tool's error, not a figure.
   */
  private async measureLockWait(repo: string): Promise<LockWaitInfo> {
    const timed = async (args: string[]): Promise<number> => {
      const t0 = performance.now();
      const res = await runQuick(this.name, this.bin, args, this.env(repo), this.ctx.timeoutMs);
      if (res.exitCode !== 0) throw new ToolError(this.name, `restic ${args.join(' ')} failed on the new repository: ${excerpt(res.stderr, 300)}`, res.exitCode);
      return performance.now() - t0;
    };
    const locked = ['snapshots', '--no-cache', '--json'];
    const unlocked = ['--no-lock', ...locked];
    const withLock: number[] = [];
    const without: number[] = [];
    for (let i = 0; !enoughLockPairs(withLock, without); i++) {
      const lockedFirst = i % 2 === 1;
      (lockedFirst ? withLock : without).push(await timed(lockedFirst ? locked : unlocked));
      (lockedFirst ? without : withLock).push(await timed(lockedFirst ? unlocked : locked));
    }
    // The fastest of each: what other load on the machine adds to a run only ever lengthens it, so the minima are the
    // commands' own times (a median of differences came out at 172 ms for a 200 ms sleep on a loaded machine).
    return { ms: round1(Math.min(...withLock) - Math.min(...without)), pairs: withLock.length };
  }

  lockWait(): LockWaitInfo | undefined {
    return this.lockInfo;
  }

  /**
   * pvbench's own unmeasured reads of the trial's repository (listing snapshots, the check) without restic's lock: a
   * locking command sleeps 200 ms before it looks for a competing lock, and nothing else uses a trial's repository.
   * The measured backups and restores keep the lock, as users run them; repair, which writes, keeps it too.
   */
  private read(args: string[], timeoutMs?: number) {
    return runQuick(this.name, this.bin, ['--no-lock', ...args], this.env(), timeoutMs);
  }

  /** restic's check of every pack's data, unlocked: check() and repair's before and after. */
  private checkData() {
    return this.read(['check', '--no-cache', '--read-data'], this.ctx.timeoutMs);
  }

  private commonArgs(): string[] {
    const args = ['--no-cache'];
    if (typeof this.options.compression === 'string') args.push('--compression', this.options.compression);
    return args;
  }

  async backup(source: VolumeSet, hooks?: OpHooks): Promise<BackupOutcome> {
    const sourceBytes = await treeSize(source.location);
    const args = ['backup', ...this.commonArgs(), '--json', '--host', 'pvbench', '--tag', source.id, source.location];
    const res = await runLocalOp({ tool: this.name, cmd: this.bin, args, env: this.env(), timeoutMs: this.ctx.timeoutMs, sourceBytes, hooks, slowdown: this.ctx.slowdown });
    const summary = res.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('{') && l.includes('"summary"'))
      .map((l) => JSON.parse(l) as { snapshot_id?: string; total_bytes_processed?: number; data_added?: number })
      .pop();
    if (!summary?.snapshot_id) throw new ToolError(this.name, 'restic backup printed no summary with a snapshot id', 0, excerpt(res.stdout));
    // restic 0.14 reports the short id here, 0.17 and later the full one: the short id (its first 8 hex digits)
    // is what `snapshots` lists and what every command takes.
    const snapshotId = summary.snapshot_id.slice(0, 8);
    this.sources.set(snapshotId, source.location);
    const metrics = { ...res.metrics, source: 'mixed' as const };
    if (summary.total_bytes_processed) {
      metrics.bytesProcessed = summary.total_bytes_processed;
      metrics.throughputBytesPerSec = metrics.wallMs > 0 ? summary.total_bytes_processed / (metrics.wallMs / 1000) : 0;
    }
    if (summary.data_added) metrics.bytesWritten = Math.max(metrics.bytesWritten, summary.data_added);
    return { snapshotId, metrics };
  }

  async restore(snapshotId: string, target: VolumeSet, hooks?: OpHooks): Promise<RestoreOutcome> {
    // restic 0.14 restores the snapshot's absolute source path below --target: restore into a staging
    // directory, then move the volume directories into place.
    const staging = `${target.location}.restic-staging`;
    await removeTree(staging);
    const sourcePath = this.sources.get(snapshotId) ?? (await this.snapshotPath(snapshotId));
    const sourceBytes = await treeSize(sourcePath).catch(() => 0);
    const args = ['restore', ...this.commonArgs(), snapshotId, '--target', staging];
    try {
      const res = await runLocalOp({ tool: this.name, cmd: this.bin, args, env: this.env(), timeoutMs: this.ctx.timeoutMs, sourceBytes, hooks, progressBy: 'written' });
      const restoredRoot = join(staging, sourcePath);
      await mkdir(target.location, { recursive: true });
      // Nothing there: the snapshot holds no files (after a repair cut out what was lost, for one).
      const entries = await readdir(restoredRoot).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return [] as string[];
        throw err;
      });
      for (const entry of entries) await rename(join(restoredRoot, entry), join(target.location, entry));
      const bytes = await treeSize(target.location);
      return { metrics: { ...res.metrics, bytesProcessed: bytes, throughputBytesPerSec: res.metrics.wallMs > 0 ? bytes / (res.metrics.wallMs / 1000) : 0 } };
    } finally {
      await removeTree(staging);
    }
  }

  private async snapshotPath(snapshotId: string): Promise<string> {
    const res = await this.read(['snapshots', '--no-cache', '--json', snapshotId]);
    const list = JSON.parse(res.stdout || '[]') as { paths?: string[] }[];
    const p = list[0]?.paths?.[0];
    if (!p) throw new ToolError(this.name, `restic knows no snapshot ${snapshotId}`, res.exitCode, excerpt(res.stderr));
    return p;
  }

  async check(): Promise<RepositoryCheck> {
    const res = await this.checkData();
    return { ran: true, ok: res.exitCode === 0, output: excerpt(res.stderr + res.stdout, 400) };
  }

  /**
   * restic's repair path for damaged data (0.16 and later): `repair packs` for the packs its check names (it salvages
   * their intact blobs), `repair index`, then `repair snapshots --forget` (files whose data is gone are cut out
   * of new snapshots, which replace the old ones), and a check to see what is left.
   */
  async repair(): Promise<RepairOutcome> {
    const help = await runQuick(this.name, this.bin, ['repair', '--help'], this.env());
    if (help.exitCode !== 0) return { ran: false, reason: 'this restic has no repair command (restic 0.16 and later have it)', actions: [] };
    const actions: string[] = [];
    // `repair packs` writes the blobs it salvages to its working directory: a folder of the trial's, not pvbench's.
    const salvage = `${this.repo}.salvaged`;
    await mkdir(salvage, { recursive: true });
    const step = async (label: string, args: string[]) => {
      const res = await runQuick(this.name, this.bin, [...args, '--no-cache'], this.env(), this.ctx.timeoutMs, salvage);
      const said = (res.stderr + res.stdout).split('\n').map((l) => l.trim()).filter(Boolean).pop() ?? '';
      actions.push(`${label}: ${res.exitCode === 0 ? 'ok' : `exit ${res.exitCode}`}${said ? ` (${excerpt(said, 120)})` : ''}`);
      return res;
    };
    const check = await this.checkData();
    const packs = [...new Set([...(check.stdout + check.stderr).matchAll(/restic repair packs ((?:[0-9a-f]{64}\s*)+)/g)].flatMap((m) => m[1]!.trim().split(/\s+/)))];
    if (packs.length) await step(`restic repair packs (${packs.length} pack${packs.length > 1 ? 's' : ''})`, ['repair', 'packs', ...packs]);
    await step('restic repair index', ['repair', 'index']);
    await step('restic repair snapshots --forget', ['repair', 'snapshots', '--forget']);
    const after = await this.checkData();
    await removeTree(salvage);
    return { ran: true, actions, checkOk: after.exitCode === 0 };
  }

  async recover(): Promise<RecoveryReport> {
    const locks = (await readdir(join(this.repo, 'locks')).catch(() => [])).length;
    const actions: string[] = [];
    if (locks > 0) {
      const res = await runQuick(this.name, this.bin, ['unlock', '--no-cache'], this.env());
      actions.push(res.exitCode === 0 ? `restic unlock removed stale locks (${locks} found)` : `restic unlock failed: ${excerpt(res.stderr, 200)}`);
    }
    return { staleLocks: locks, actions };
  }

  async snapshots(): Promise<string[]> {
    const res = await this.read(['snapshots', '--no-cache', '--json']);
    if (res.exitCode !== 0) throw new ToolError(this.name, `restic snapshots failed: ${excerpt(res.stderr, 300)}`, res.exitCode);
    // Short ids, as backup() keeps them.
    const list = JSON.parse(res.stdout || '[]') as { short_id: string; time: string; paths?: string[] }[];
    list.sort((a, b) => a.time.localeCompare(b.time));
    for (const s of list) if (s.paths?.[0]) this.sources.set(s.short_id, s.paths[0]);
    return list.map((s) => s.short_id);
  }

  async repositorySize(): Promise<number> {
    return treeSize(this.repo);
  }

  async corruptRepository(bitFlips: number, random: () => number) {
    const all = (await listFiles(join(this.repo, 'data'))).map((p) => join('data', p));
    if (all.length === 0) throw new ToolError(this.name, 'the repository has no data packs to corrupt (was a backup taken?)');
    // Data packs only (see restic-pack.ts): a tree pack hit or missed at random would make the outcome a coin toss.
    const mk = await openMasterKey(this.repo, this.password);
    const kinds = await Promise.all(all.map((p) => packKind(join(this.repo, p), mk)));
    const data = all.filter((_, i) => kinds[i] === 'data');
    const packs = data.length ? data : all;
    const flips: string[] = [];
    for (let i = 0; i < bitFlips; i++) {
      const [file] = pickDistinct(packs, 1, random);
      if (!file) break;
      const { offset, bit } = await flipBit(join(this.repo, file), random);
      flips.push(`${file}@${offset}:${bit}`);
    }
    const trees = kinds.filter((k) => k === 'tree').length;
    return {
      description: `flipped ${flips.length} bit(s) in ${new Set(flips.map((f) => f.split('@')[0])).size} of ${packs.length} restic data pack(s)${trees ? ` (its ${trees} tree pack(s) left alone)` : ''}`,
      details: { packs: all.length, dataPacks: data.length, treePacks: trees, flips: flips.join(' ') },
    };
  }

  async cleanup(): Promise<void> {
    if (!this.repo) return;
    await removeTree(this.repo);
    await removeTree(`${this.repo}.salvaged`);
  }
}

/** Pairs timed for the lock wait, at least and at most: its 200 ms is a fixed sleep; each pair costs about 0.35 s. */
const LOCK_PAIRS = { min: 3, max: 8 };

/**
 * Are the pairs timed so far (the lock wait's runs with and without the lock, in the order timed) enough? From the
 * third pair on, once the last pair set neither fastest time: a loaded machine slows some runs, and a new fastest run
 * says the earlier ones were slowed (a lock wait of 64 ms was read from 3 pairs at load 9). At most 8 pairs.
 */
export function enoughLockPairs(withLock: readonly number[], without: readonly number[]): boolean {
  const n = withLock.length;
  if (n < LOCK_PAIRS.min) return false;
  if (n >= LOCK_PAIRS.max) return true;
  const improved = (xs: readonly number[]) => xs[n - 1]! < Math.min(...xs.slice(0, n - 1));
  return !improved(withLock) && !improved(without);
}

function round1(ms: number): number {
  return Math.round(ms * 10) / 10;
}
