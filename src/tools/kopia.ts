// kopia on the local platform, where it is installed (it is not in Debian: the probe says so and the tool is
// listed as skipped). A filesystem repository per trial, its own config file, the password per run, masked. The
// repository is created once per run (a template) and copied for each trial, its config pointed at the copy:
// `kopia repository create` costs most of a second. Its format block's key is derived from the password on every
// command, with the algorithm chosen at creation: pvbench picks kopia's pbkdf2-sha256-600000 (cheaper than kopia's
// default scrypt-65536-8-1: here 0.18 s against 0.37 s for a `snapshot list`) unless options.keyDerivation is
// "scrypt". The derivation is timed once per run (node's crypto, kopia's parameters) and recorded like restic's.
import { pbkdf2, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KOPIA_KEY_DERIVATION } from '../config/schema.ts';
import type { ToolConfig } from '../config/schema.ts';
import type { VolumeSet } from '../platform/types.ts';
import type { KeyDerivationInfo, RepositoryCheck } from '../suite/results.ts';
import { excerpt, registerSecret } from '../platform/secrets.ts';
import { listFiles } from '../metrics/manifest.ts';
import { copyTree, flipBit, pickDistinct, removeTree, treeSize } from '../platform/local/fsutil.ts';
import type { LocalToolContext } from './local-context.ts';
import { notFound, runLocalOp, runQuick, toolBinary, whichVersion } from './local-process.ts';
import { ignoredNote, toolEnv } from './tool-env.ts';
import { measureKeyDerivation } from './restic-key.ts';
import { ToolError } from './types.ts';
import type { BackupOutcome, BackupTool, OpHooks, Probe, RecoveryReport, RepairOutcome, RestoreOutcome } from './types.ts';

export class KopiaTool implements BackupTool {
  readonly name: string;
  readonly type = 'kopia' as const;
  /** The program run: options.binary, or "kopia" from PATH. */
  private readonly bin: string;
  private readonly config: ToolConfig;
  private readonly ctx: LocalToolContext;
  private readonly password = randomBytes(24).toString('hex');
  private repo = '';
  /** Bytes each snapshot holds (from its backup), so a restore's progress can be measured. */
  private readonly sizes = new Map<string, number>();
  private templateReady: Promise<void> | undefined;
  private readonly keyAlgorithm: string;
  private keyInfo: KeyDerivationInfo | undefined;

  constructor(config: ToolConfig, ctx: LocalToolContext) {
    this.name = config.name ?? config.type;
    this.ctx = ctx;
    this.config = config;
    this.bin = toolBinary(config.options, 'kopia');
    const kd = config.options.keyDerivation ?? 'pbkdf2';
    // The suite's validation rejects other values; this is for callers that build a ToolConfig themselves.
    if (!(KOPIA_KEY_DERIVATION as readonly unknown[]).includes(kd)) throw new Error(`${this.name}: options.keyDerivation must be ${KOPIA_KEY_DERIVATION.map((v) => `"${v}"`).join(' or ')}, not ${JSON.stringify(kd)}`);
    this.keyAlgorithm = kd === 'scrypt' ? 'scrypt-65536-8-1' : 'pbkdf2-sha256-600000';
    registerSecret(this.password);
  }

  /** This process's environment without the user's KOPIA_* variables (issue 8), and pvbench's own. */
  private env(): NodeJS.ProcessEnv {
    return toolEnv('KOPIA_', { KOPIA_PASSWORD: this.password, KOPIA_CHECK_FOR_UPDATES: 'false', KOPIA_LOG_DIR: join(this.repo, 'logs') }).env;
  }

  private args(...rest: string[]): string[] {
    return [...rest, '--config-file', join(this.repo, 'kopia.config'), '--no-progress'];
  }

  private async run(args: string[]): Promise<string> {
    const res = await runQuick(this.name, this.bin, args, this.env(), this.ctx.timeoutMs);
    if (res.exitCode !== 0) throw new ToolError(this.name, `kopia ${args[0]} ${args[1] ?? ''} failed: ${excerpt(res.stderr, 300)}`, res.exitCode);
    return res.stdout;
  }

  async probe(): Promise<Probe> {
    const v = await whichVersion(this.name, this.bin, ['--version']);
    if (!v) return { ok: false, reason: notFound(this.config.options, 'kopia', 'it is not packaged in Debian; install it from kopia.io to include it') };
    return { ok: true, version: v.split(' ')[0] ?? v, notes: ignoredNote('kopia', toolEnv('KOPIA_', {}).ignored) };
  }

  async init(trialId: string): Promise<void> {
    const template = join(this.ctx.workdir, 'repos', this.name, '_template');
    this.templateReady ??= (async () => {
      this.repo = template;
      await removeTree(template);
      await mkdir(join(template, 'data'), { recursive: true });
      // The cache folder is a setting of the connection (kept in the config file, relative to it), given once here.
      await this.run(this.args('repository', 'create', 'filesystem', '--path', join(template, 'data'), '--cache-directory', join(template, 'cache'), `--format-block-key-derivation-algorithm=${this.keyAlgorithm}`));
      await removeTree(join(template, 'logs'));
      this.keyInfo = await timeKopiaDerivation(this.keyAlgorithm === 'scrypt-65536-8-1' ? 'scrypt' : 'pbkdf2');
    })();
    try {
      await this.templateReady;
    } catch (err) {
      this.templateReady = undefined; // the next trial tries again
      throw err;
    }
    this.repo = join(this.ctx.workdir, 'repos', this.name, trialId);
    await removeTree(this.repo);
    await copyTree(template, this.repo);
    await pointConfigAt(join(this.repo, 'kopia.config'), join(this.repo, 'data'));
  }

  keyDerivation(): KeyDerivationInfo | undefined {
    return this.keyInfo;
  }

  async backup(source: VolumeSet, hooks?: OpHooks): Promise<BackupOutcome> {
    const sourceBytes = await treeSize(source.location);
    const res = await runLocalOp({
      tool: this.name,
      cmd: this.bin,
      args: this.args('snapshot', 'create', source.location, '--json'),
      env: this.env(),
      timeoutMs: this.ctx.timeoutMs,
      sourceBytes,
      hooks,
      slowdown: this.ctx.slowdown,
    });
    const manifest = JSON.parse(res.stdout.slice(res.stdout.indexOf('{'))) as { id?: string; stats?: { totalSize?: number } };
    if (!manifest.id) throw new ToolError(this.name, 'kopia snapshot create printed no snapshot id', 0, excerpt(res.stdout));
    this.sizes.set(manifest.id, manifest.stats?.totalSize ?? sourceBytes);
    return { snapshotId: manifest.id, metrics: { ...res.metrics, source: 'mixed', bytesProcessed: manifest.stats?.totalSize ?? sourceBytes } };
  }

  async restore(snapshotId: string, target: VolumeSet, hooks?: OpHooks): Promise<RestoreOutcome> {
    await mkdir(target.location, { recursive: true });
    const res = await runLocalOp({
      tool: this.name,
      cmd: this.bin,
      args: this.args('snapshot', 'restore', snapshotId, target.location),
      env: this.env(),
      timeoutMs: this.ctx.timeoutMs,
      sourceBytes: this.sizes.get(snapshotId) ?? 0,
      hooks,
      progressBy: 'written',
    });
    const bytes = await treeSize(target.location);
    return { metrics: { ...res.metrics, bytesProcessed: bytes, throughputBytesPerSec: res.metrics.wallMs > 0 ? bytes / (res.metrics.wallMs / 1000) : 0 } };
  }

  async check(): Promise<RepositoryCheck> {
    const res = await runQuick(this.name, this.bin, this.args('snapshot', 'verify', '--verify-files-percent=100'), this.env(), this.ctx.timeoutMs);
    return { ran: true, ok: res.exitCode === 0, output: excerpt(res.stderr + res.stdout, 400) };
  }

  /**
   * kopia's repair path for damaged content: `snapshot fix invalid-files` reads every file of every snapshot and
   * removes the ones it cannot read from new snapshot manifests that replace the old, then a verify.
   */
  async repair(): Promise<RepairOutcome> {
    const actions: string[] = [];
    const fix = await runQuick(this.name, this.bin, this.args('snapshot', 'fix', 'invalid-files', '--verify-files-percent=100', '--commit'), this.env(), this.ctx.timeoutMs);
    const said = (fix.stderr + fix.stdout).split('\n').map((l) => l.trim()).filter(Boolean).pop() ?? '';
    actions.push(`kopia snapshot fix invalid-files: ${fix.exitCode === 0 ? 'ok' : `exit ${fix.exitCode}`}${said ? ` (${excerpt(said, 120)})` : ''}`);
    const verify = await runQuick(this.name, this.bin, this.args('snapshot', 'verify', '--verify-files-percent=100'), this.env(), this.ctx.timeoutMs);
    return { ran: true, actions, checkOk: verify.exitCode === 0 };
  }

  async recover(): Promise<RecoveryReport> {
    // kopia keeps no repository lock on a filesystem repository; a killed snapshot leaves only unreferenced
    // pack blobs, which its maintenance collects later. Nothing to do before a retry.
    return { staleLocks: 0, actions: [] };
  }

  async snapshots(): Promise<string[]> {
    const list = JSON.parse(await this.run(this.args('snapshot', 'list', '--json', '--all'))) as { id: string; startTime: string }[];
    return list.sort((a, b) => a.startTime.localeCompare(b.startTime)).map((s) => s.id);
  }

  async repositorySize(): Promise<number> {
    return treeSize(join(this.repo, 'data'));
  }

  async corruptRepository(bitFlips: number, random: () => number) {
    // Data packs: blobs whose id starts with "p", sharded into folders (p/557/0910….f) or flat (p0910….f).
    const packs = (await listFiles(join(this.repo, 'data'))).filter((f) => f.startsWith('p/') || /^p[0-9a-f]/.test(f));
    if (packs.length === 0) throw new ToolError(this.name, 'the repository has no pack blobs to corrupt (was a backup taken?)');
    const flips: string[] = [];
    for (let i = 0; i < bitFlips; i++) {
      const [file] = pickDistinct(packs, 1, random);
      if (!file) break;
      const { offset, bit } = await flipBit(join(this.repo, 'data', file), random);
      flips.push(`${file}@${offset}:${bit}`);
    }
    return { description: `flipped ${flips.length} bit(s) in kopia pack blobs (${packs.length} packs)`, details: { packs: packs.length, flips: flips.join(' ') } };
  }

  async cleanup(): Promise<void> {
    if (this.repo) await removeTree(this.repo);
  }
}

/** Points a copied kopia config file at the copy's storage (the cache folder is relative to the file already). */
export async function pointConfigAt(configFile: string, dataDir: string): Promise<void> {
  const config = JSON.parse(await readFile(configFile, 'utf8')) as { storage?: { type?: string; config?: { path?: string } }; caching?: { cacheDirectory?: string }; description?: string };
  if (config.storage?.type !== 'filesystem' || !config.storage.config) throw new Error(`${configFile}: not a kopia filesystem repository config`);
  config.storage.config.path = dataDir;
  if (config.caching?.cacheDirectory && config.caching.cacheDirectory.startsWith('/')) config.caching.cacheDirectory = join(configFile, '..', 'cache');
  config.description = `Repository in Filesystem: ${dataDir}`;
  await writeFile(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
}

/**
 * One derivation of kopia's format key as every command that opens the repository makes it (repo/format: the
 * password, the repository's 32-byte unique id as salt, 32 bytes out), timed with node's crypto: pbkdf2-sha256 with
 * 600,000 iterations (pvbench's choice), or scrypt N=65536, r=8, p=1 (kopia's default), timed by the same
 * measureKeyDerivation as restic's (scrypt's cost is set by N, r and p, not by the salt or key length).
 */
async function timeKopiaDerivation(kind: 'pbkdf2' | 'scrypt'): Promise<KeyDerivationInfo> {
  const round1 = (ms: number) => Math.round(ms * 10) / 10;
  if (kind === 'scrypt') {
    const params = { N: 65536, r: 8, p: 1 };
    return { mode: 'tool-default', kdf: 'scrypt', ...params, ms: round1(await measureKeyDerivation(params)) };
  }
  const salt = randomBytes(32);
  const t0 = performance.now();
  await new Promise<Buffer>((resolve, reject) => pbkdf2('pvbench', salt, KOPIA_PBKDF2_ITERATIONS, 32, 'sha256', (err, key) => (err ? reject(err) : resolve(key))));
  return { mode: 'fixed', kdf: 'pbkdf2-sha256', iterations: KOPIA_PBKDF2_ITERATIONS, ms: round1(performance.now() - t0) };
}

/** kopia's pbkdf2-sha256-600000 (internal/crypto/pb_key_deriver_pbkdf2.go). */
const KOPIA_PBKDF2_ITERATIONS = 600_000;
