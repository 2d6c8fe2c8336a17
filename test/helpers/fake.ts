// A platform and a tool that do no I/O: every call is recorded in `events`, and what they return is plain data, so
// runner and pipeline tests run in-process in milliseconds.
import type { ToolConfig, WorkloadConfig } from '../../src/config/schema.ts';
import type { Manifest } from '../../src/metrics/types.ts';
import type { Platform, VolumeSet, Writer } from '../../src/platform/types.ts';
import type { IntegrityResult, PhaseMetrics, ToolInfo, KeyDerivationInfo } from '../../src/suite/results.ts';
import type { BackupOutcome, BackupTool, OpHooks, Probe, RestoreOutcome } from '../../src/tools/types.ts';

export function metrics(wallMs: number): PhaseMetrics {
  return { wallMs, cpuUserMs: 10, cpuSysMs: 5, cpuCores: 0.5, peakRssBytes: 1000, bytesRead: 2000, bytesWritten: 1000, bytesProcessed: 2000, throughputBytesPerSec: 4000, attempts: 1, source: 'proc' };
}

export const OK_INTEGRITY: IntegrityResult = { files: 3, matched: 3, mismatched: 0, missing: 0, extra: 0, bytes: 300, ok: true, examples: { mismatched: [], missing: [], extra: [] } };

export class FakeTool implements BackupTool {
  readonly name: string;
  readonly type: ToolConfig['type'];
  probeResult: Probe = { ok: true, version: 'fake 1.0' };
  /** Thrown by init() when set: a trial that cannot start. */
  initError: unknown;
  facts: { chunker?: ToolInfo['chunker']; keyDerivation?: KeyDerivationInfo; lockWait?: ToolInfo['lockWait'] } = {};
  readonly events: string[];
  constructor(cfg: Pick<ToolConfig, 'type' | 'name'>, events: string[] = []) {
    this.events = events;
    this.name = cfg.name ?? cfg.type;
    this.type = cfg.type;
  }
  async probe(): Promise<Probe> {
    return this.probeResult;
  }
  async init(trialId: string): Promise<void> {
    this.events.push(`${this.name} init ${trialId}`);
    if (this.initError !== undefined) throw this.initError;
  }
  async backup(source: VolumeSet, _hooks?: OpHooks): Promise<BackupOutcome> {
    this.events.push(`${this.name} backup ${source.id}`);
    return { snapshotId: `snap-${source.id}`, metrics: metrics(100) };
  }
  async restore(snapshotId: string, target: VolumeSet, _hooks?: OpHooks): Promise<RestoreOutcome> {
    this.events.push(`${this.name} restore ${snapshotId} ${target.id}`);
    return { metrics: metrics(50) };
  }
  async check() {
    return { ran: true, ok: true, output: 'no errors were found' };
  }
  async recover() {
    return { staleLocks: 0, actions: [] };
  }
  async snapshots(): Promise<string[]> {
    return [];
  }
  async repositorySize(): Promise<number> {
    return 4096;
  }
  async corruptRepository() {
    return { description: 'flipped 1 bit', details: {} };
  }
  async cleanup(): Promise<void> {
    this.events.push(`${this.name} cleanup`);
  }
  chunker() {
    return this.facts.chunker;
  }
  keyDerivation() {
    return this.facts.keyDerivation;
  }
  lockWait() {
    return this.facts.lockWait;
  }
}

export class FakePlatform implements Platform {
  readonly events: string[] = [];
  readonly tools: FakeTool[] = [];
  integrity: IntegrityResult = OK_INTEGRITY;
  /** Called for each tool the run creates, to set its probe, errors or facts. */
  setUp: (tool: FakeTool) => void = () => undefined;
  readonly kind: 'local' | 'kubernetes';
  constructor(kind: 'local' | 'kubernetes' = 'kubernetes') {
    this.kind = kind;
  }
  describe(): string {
    return 'fake platform';
  }
  async prepare(_log?: (msg: string) => void): Promise<void> {
    this.events.push('prepare');
  }
  async seedVolumes(id: string, _w: WorkloadConfig, seed: number): Promise<VolumeSet> {
    this.events.push(`seed ${id} ${seed}`);
    return { id, location: `/fake/${id}`, volumes: ['proxy-0'] };
  }
  async emptyVolumes(id: string, like: VolumeSet): Promise<VolumeSet> {
    this.events.push(`empty ${id}`);
    return { id, location: `/fake/${id}`, volumes: like.volumes };
  }
  async churn(): Promise<void> {
    this.events.push('churn');
  }
  async manifest(): Promise<Manifest> {
    return { files: [], bytes: 0 };
  }
  async verify(_volumes: VolumeSet, _expected: Manifest): Promise<IntegrityResult> {
    return this.integrity;
  }
  async corruptVolume() {
    return { description: 'flipped 1 bit', details: {} };
  }
  async startWriter(): Promise<Writer> {
    throw new Error('fake platform: no writer');
  }
  createTool(config: ToolConfig): BackupTool {
    const t = new FakeTool(config, this.events);
    this.setUp(t);
    this.tools.push(t);
    return t;
  }
  async dropVolumes(v: VolumeSet): Promise<void> {
    this.events.push(`drop ${v.id}`);
  }
  created(): { kind: 'dir' | 'kind-cluster'; value: string }[] {
    return [];
  }
  async cleanup(): Promise<void> {
    this.events.push('cleanup');
  }
}
