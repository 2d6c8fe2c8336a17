// The local platform: volumes are directories, tools are processes on this machine.
import { mkdir, mkdtemp, readdir, readFile, rm, truncate, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { ToolConfig, WorkloadConfig } from '../../config/schema.ts';
import { verifyManifest, listFiles, writeManifestFile } from '../../metrics/manifest.ts';
import type { Manifest, ManifestFile } from '../../metrics/types.ts';
import type { IntegrityResult } from '../../suite/results.ts';
import { churnWorkload, seedWorkload } from '../../workloads/mesh-proxy.ts';
import { CopyTool } from '../../tools/copy.ts';
import { KopiaTool } from '../../tools/kopia.ts';
import { ResticTool } from '../../tools/restic.ts';
import { UnsupportedTool } from '../../tools/unsupported.ts';
import type { LocalToolContext } from '../../tools/local-context.ts';
import { slowdownFromEnv } from '../../tools/local-context.ts';
import type { BackupTool } from '../../tools/types.ts';
import type { Platform, VolumeSet, Writer } from '../types.ts';
import { copyTree, flipBit, pickDistinct, removeTree, writeBack } from './fsutil.ts';
import { readMemInfo } from '../../metrics/meminfo.ts';
import type { MachineMemory } from '../../metrics/meminfo.ts';
import { startLocalWriter } from './writer.ts';
import type { Owner } from '../processes.ts';
import { ownerAlive, selfOwner } from '../processes.ts';
import { detachFaultfsMounts } from '../../faults/faultfs.ts';

/** In each run's work directory: who made it, so a later run can tell one left by a killed run. */
const OWNER_FILE = '.pvbench-owner';

/**
 * Removes the work directories (pvbench-* with an owner file) that runs killed before their cleanup left in
 * `parent`, and only those whose owner is gone: never one of a run still going, never one pvbench did not make.
 */
async function removeAbandoned(parent: string, log: (msg: string) => void): Promise<void> {
  let names: string[];
  try {
    names = (await readdir(parent, { withFileTypes: true })).filter((e) => e.isDirectory() && e.name.startsWith('pvbench-')).map((e) => e.name);
  } catch {
    return;
  }
  for (const name of names) {
    const dir = join(parent, name);
    let owner: Owner;
    try {
      owner = JSON.parse(await readFile(join(dir, OWNER_FILE), 'utf8')) as Owner;
    } catch {
      continue; // not a work directory of pvbench's own (or not readable): not ours to judge
    }
    if (typeof owner?.pid !== 'number' || ownerAlive(owner)) continue;
    // A run killed mid-fault leaves its faultfs mount behind, dead (its faultfs died with it): detach it first.
    for (const m of await detachFaultfsMounts(dir)) log(`detached ${m}: a faultfs mount left by a pvbench run that is gone (pid ${owner.pid})`);
    await removeTree(dir).then(
      () => log(`removed ${dir}: a work directory left by a pvbench run that is gone (pid ${owner.pid})`),
      (err: unknown) => log(`could not remove ${dir}, left by a pvbench run that is gone: ${err instanceof Error ? err.message : String(err)}`),
    );
  }
}

export interface LocalPlatformOptions {
  workdir?: string;
  keep: boolean;
  /** Upper bound of one tool operation. */
  timeoutMs?: number;
  /** warm (the default): dirty pages written back before each operation; cold: the page cache dropped too (root). */
  cache?: 'warm' | 'cold';
  /** How the page cache is dropped (tests substitute one); /proc/sys/vm/drop_caches by default. */
  dropCaches?: () => Promise<void>;
  /** Where the machine's memory is read after settling it (tests substitute a file); /proc/meminfo by default. */
  meminfo?: string;
}

/** Writes dirty pages back (sync(1): Node has no sync(2)); then, for a cold cache, drops clean pages and slab. */
async function syncAll(): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    execFile('sync', [], { timeout: 300_000 }, (err) => (err ? reject(new Error(`sync (writing dirty pages back before an operation) failed: ${err.message}`)) : resolve())),
  );
}

async function dropPageCache(): Promise<void> {
  try {
    await writeFile('/proc/sys/vm/drop_caches', '3');
  } catch (err) {
    throw new Error(`platform.cache: cold drops the page cache before each operation, which needs root (${(err as NodeJS.ErrnoException).code ?? String(err)}). Fix: run pvbench as root, or use cache: warm`);
  }
}

export class LocalPlatform implements Platform {
  readonly kind = 'local' as const;
  private readonly opts: LocalPlatformOptions;
  private workdir = '';
  private readonly golden = new Map<string, Promise<string>>();
  private writers = 0;
  private manifests = 0;
  /** Manifest files by the id of the volume set they describe. */
  private readonly manifestFiles = new Map<string, string[]>();

  constructor(opts: LocalPlatformOptions) {
    this.opts = opts;
  }

  describe(): string {
    const cache = this.opts.cache === 'cold' ? 'page cache dropped before each backup and restore' : 'warm page cache, dirty pages written back before each backup and restore';
    return `local (${this.workdir || 'work directory not created yet'}, ${cache})`;
  }

  async beforeOperation(): Promise<MachineMemory | undefined> {
    await syncAll();
    if (this.opts.cache === 'cold') await (this.opts.dropCaches ?? dropPageCache)();
    return readMemInfo(this.opts.meminfo);
  }

  /** The run's work directory (created by prepare). */
  get dir(): string {
    return this.workdir;
  }

  async prepare(log: (msg: string) => void = () => undefined): Promise<void> {
    if (this.workdir) return;
    // Always a directory of this run's own (inside platform.workdir when given), so cleanup removes only what
    // this run made.
    const parent = this.opts.workdir ?? tmpdir();
    await mkdir(parent, { recursive: true });
    await removeAbandoned(parent, log);
    this.workdir = await mkdtemp(join(parent, 'pvbench-'));
    await writeFile(join(this.workdir, OWNER_FILE), JSON.stringify(selfOwner()) + '\n');
  }

  private path(...parts: string[]): string {
    if (!this.workdir) throw new Error('LocalPlatform.prepare() must run first');
    return join(this.workdir, ...parts);
  }

  async seedVolumes(id: string, workload: WorkloadConfig, seed: number): Promise<VolumeSet> {
    // Generate once per (workload, seed), then copy: every trial starts from byte-identical volumes.
    const key = JSON.stringify([workload, seed]);
    let golden = this.golden.get(key);
    if (!golden) {
      golden = (async () => {
        const dir = this.path('golden', String(this.golden.size));
        await removeTree(dir);
        await seedWorkload(dir, workload, seed);
        return dir;
      })();
      this.golden.set(key, golden);
    }
    const location = this.path('volumes', id);
    await removeTree(location);
    await copyTree(await golden, location);
    // On disk before the trial measures anything: the tool must not pay for writing back pvbench's own writes.
    await writeBack(location);
    return { id, location, volumes: Array.from({ length: workload.proxies }, (_, i) => `proxy-${i}`) };
  }

  async emptyVolumes(id: string, like: VolumeSet): Promise<VolumeSet> {
    const location = this.path('volumes', id);
    await removeTree(location);
    await mkdir(location, { recursive: true });
    return { id, location, volumes: [...like.volumes] };
  }

  async churn(volumes: VolumeSet, workload: WorkloadConfig, seed: number): Promise<void> {
    await churnWorkload(volumes.location, volumes.volumes, workload, seed);
  }

  /**
   * A manifest file in the work directory (written as the walk goes, read back as a stream: memory stays flat
   * whatever the number of files), kept until the volumes it describes are dropped.
   */
  async manifest(volumes: VolumeSet): Promise<ManifestFile> {
    const m = await writeManifestFile(volumes.location, this.path('manifests', `${++this.manifests}.manifest`));
    this.manifestFiles.set(volumes.id, [...(this.manifestFiles.get(volumes.id) ?? []), m.file]);
    return m;
  }

  verify(volumes: VolumeSet, expected: Manifest, opts?: { appendOnly?: (path: string) => boolean; prefixSource?: VolumeSet }): Promise<IntegrityResult> {
    return verifyManifest(volumes.location, expected, { appendOnly: opts?.appendOnly, prefixRoot: opts?.prefixSource?.location });
  }

  async corruptVolume(volumes: VolumeSet, plan: { bitFlips: number; truncate: number; delete: number }, random: () => number) {
    const files = await listFiles(volumes.location);
    const chosen = pickDistinct(files, plan.bitFlips + plan.truncate + plan.delete, random);
    const flipped = chosen.slice(0, plan.bitFlips);
    const truncated = chosen.slice(plan.bitFlips, plan.bitFlips + plan.truncate);
    const deleted = chosen.slice(plan.bitFlips + plan.truncate);
    for (const f of flipped) await flipBit(join(volumes.location, f), random);
    for (const f of truncated) {
      const p = join(volumes.location, f);
      await truncate(p, Math.floor((await stat(p)).size / 2));
    }
    for (const f of deleted) await rm(join(volumes.location, f));
    return {
      description: `flipped a bit in ${flipped.length}, truncated ${truncated.length} to half, deleted ${deleted.length} of ${files.length} files`,
      details: { bitFlips: flipped.join(' '), truncated: truncated.join(' '), deleted: deleted.join(' '), files: files.length },
    };
  }

  startWriter(volumes: VolumeSet, writesPerSecond: number, seed: number): Promise<Writer> {
    return startLocalWriter(volumes, writesPerSecond, seed, this.path('writers', String(++this.writers)));
  }

  createTool(config: ToolConfig): BackupTool {
    const ctx: LocalToolContext = { workdir: this.workdir, timeoutMs: this.opts.timeoutMs ?? 600_000, slowdown: slowdownFromEnv() };
    switch (config.type) {
      case 'restic':
        return new ResticTool(config, ctx);
      case 'copy':
        return new CopyTool(config, ctx);
      case 'kopia':
        return new KopiaTool(config, ctx);
      default:
        return new UnsupportedTool(config, `${config.type} needs the kubernetes platform (set platform.kind: kubernetes); this suite runs on local`);
    }
  }

  created(): { kind: 'dir'; value: string }[] {
    return this.workdir ? [{ kind: 'dir', value: this.workdir }] : [];
  }

  async dropVolumes(volumes: VolumeSet): Promise<void> {
    await removeTree(volumes.location);
    for (const file of this.manifestFiles.get(volumes.id) ?? []) await rm(file, { force: true });
    this.manifestFiles.delete(volumes.id);
  }

  async cleanup(): Promise<void> {
    if (!this.workdir) return;
    if (this.opts.keep) return;
    await removeTree(this.workdir);
  }
}
