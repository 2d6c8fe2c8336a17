// The reference data mover: a plain `cp -a` of the volumes into <repo>/snapshots/<id>, with a sha256 manifest file
// kept beside each snapshot so `check` can detect a corrupted repository. No dedup, no compression, no encryption.
import { mkdir, readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ToolConfig } from '../config/schema.ts';
import type { VolumeSet } from '../platform/types.ts';
import type { RepositoryCheck } from '../suite/results.ts';
import { listFiles, openManifestFile, verifyManifest, writeManifestFile } from '../metrics/manifest.ts';
import { flipBit, pickDistinct, removeTree, treeSize } from '../platform/local/fsutil.ts';
import type { LocalToolContext } from './local-context.ts';
import { runLocalOp, whichVersion } from './local-process.ts';
import { ToolError } from './types.ts';
import type { BackupOutcome, BackupTool, OpHooks, Probe, RecoveryReport, RepairOutcome, RestoreOutcome } from './types.ts';

const PARTIAL = '.partial';

export class CopyTool implements BackupTool {
  readonly name: string;
  readonly type = 'copy' as const;
  private readonly ctx: LocalToolContext;
  private repo = '';
  private counter = 0;

  constructor(config: ToolConfig, ctx: LocalToolContext) {
    this.name = config.name ?? config.type;
    this.ctx = ctx;
  }

  async probe(): Promise<Probe> {
    const v = await whichVersion(this.name, 'cp', ['--version']);
    if (!v) return { ok: false, reason: 'GNU cp is not on PATH' };
    return { ok: true, version: v.replace(/^cp \(GNU coreutils\)\s*/, 'coreutils ') };
  }

  async init(trialId: string): Promise<void> {
    this.repo = join(this.ctx.workdir, 'repos', this.name, trialId);
    await removeTree(this.repo);
    await mkdir(join(this.repo, 'snapshots'), { recursive: true });
    await mkdir(join(this.repo, 'manifests'), { recursive: true });
    this.counter = 0;
  }

  async backup(source: VolumeSet, hooks?: OpHooks): Promise<BackupOutcome> {
    const id = `snap-${String(++this.counter).padStart(4, '0')}`;
    const partial = join(this.repo, 'snapshots', id + PARTIAL);
    const sourceBytes = await treeSize(source.location);
    const res = await runLocalOp({
      tool: this.name,
      cmd: 'cp',
      args: ['-a', '--reflink=never', source.location, partial],
      timeoutMs: this.ctx.timeoutMs,
      sourceBytes,
      hooks,
      slowdown: this.ctx.slowdown,
      // Bytes the cp process has written (wchar of /proc/<pid>/io): the kernel counts copy_file_range there too, and
      // a copy interrupted by the hold's SIGSTOP returns what it had copied. No walk of the growing tree per look.
      progressBy: 'written',
    });
    const manifest = await writeManifestFile(partial, this.manifestPath(id), { durable: true });
    await rename(partial, join(this.repo, 'snapshots', id));
    return { snapshotId: id, metrics: { ...res.metrics, bytesWritten: Math.max(res.metrics.bytesWritten, manifest.bytes) } };
  }

  async restore(snapshotId: string, target: VolumeSet, hooks?: OpHooks): Promise<RestoreOutcome> {
    const dir = join(this.repo, 'snapshots', snapshotId);
    if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) throw new ToolError(this.name, `no snapshot ${snapshotId} in ${this.repo}`);
    const sourceBytes = await treeSize(dir);
    await mkdir(target.location, { recursive: true });
    const res = await runLocalOp({ tool: this.name, cmd: 'cp', args: ['-a', '--reflink=never', `${dir}/.`, target.location], timeoutMs: this.ctx.timeoutMs, sourceBytes, hooks, progressBy: 'written' });
    return { metrics: res.metrics };
  }

  async check(): Promise<RepositoryCheck> {
    const problems: string[] = [];
    const snaps = await this.snapshots();
    for (const id of snaps) {
      const r = await verifyManifest(join(this.repo, 'snapshots', id), await openManifestFile(this.manifestPath(id)));
      if (!r.ok) problems.push(`${id}: ${r.mismatched} mismatched, ${r.missing} missing (${[...r.examples.mismatched, ...r.examples.missing].slice(0, 3).join(', ')})`);
    }
    return { ran: true, ok: problems.length === 0, output: problems.length ? problems.join('; ') : `${snaps.length} snapshot(s) match their manifests` };
  }

  async repair(): Promise<RepairOutcome> {
    return { ran: false, reason: 'cp keeps plain copies, there is nothing to repair', actions: [] };
  }

  /** The manifest kept beside a snapshot: a manifest file (metrics/manifest.ts), written and read as a stream. */
  private manifestPath(id: string): string {
    return join(this.repo, 'manifests', `${id}.manifest`);
  }

  async recover(): Promise<RecoveryReport> {
    const partials = (await readdir(join(this.repo, 'snapshots'))).filter((n) => n.endsWith(PARTIAL));
    for (const p of partials) await removeTree(join(this.repo, 'snapshots', p));
    return { staleLocks: partials.length, actions: partials.map((p) => `removed partial snapshot ${p}`) };
  }

  async snapshots(): Promise<string[]> {
    return (await readdir(join(this.repo, 'snapshots'))).filter((n) => !n.endsWith(PARTIAL)).sort();
  }

  async repositorySize(): Promise<number> {
    return treeSize(this.repo);
  }

  async corruptRepository(bitFlips: number, random: () => number) {
    const files = (await listFiles(join(this.repo, 'snapshots'))).filter((f) => !f.split('/')[0]?.endsWith(PARTIAL));
    if (files.length === 0) throw new ToolError(this.name, 'the repository has no snapshot files to corrupt (was a backup taken?)');
    const flips: string[] = [];
    for (const file of pickDistinct(files, bitFlips, random)) {
      const { offset, bit } = await flipBit(join(this.repo, 'snapshots', file), random);
      flips.push(`${file}@${offset}:${bit}`);
    }
    return { description: `flipped one bit in each of ${flips.length} snapshot file(s)`, details: { files: files.length, flips: flips.join(' ') } };
  }

  async cleanup(): Promise<void> {
    if (this.repo) await removeTree(this.repo);
  }
}
