// Where volumes and tools live. `local`: directories and processes. `kubernetes`: PVCs, pods and custom resources.
import type { FaultRecord, IntegrityResult } from '../suite/results.ts';
import type { ToolConfig, WorkloadConfig } from '../config/schema.ts';
import type { Manifest } from '../metrics/types.ts';
import type { MachineMemory } from '../metrics/meminfo.ts';
import type { BackupTool } from '../tools/types.ts';

/** One copy of the workload's volumes: directories under `location` locally; PVCs in a namespace on Kubernetes. */
export interface VolumeSet {
  id: string;
  /** Local: absolute directory holding one sub-directory per volume. Kubernetes: "namespace/label-selector". */
  location: string;
  /** Volume names, e.g. "proxy-0" ... */
  volumes: string[];
}

/** The outage scenario's writer: a separate process (or pod) appending acknowledged writes and journaling them. */
export interface Writer {
  describe(): string;
  /** Crash the writer (SIGKILL / pod delete). Resolves once it is dead. */
  kill(): Promise<void>;
  /** The acknowledged writes so far: time (ms since epoch) and the file and end offset each made durable. */
  journal(): Promise<{ t: number; path: string; end: number }[]>;
}

/** A whole node going down (scope: node outages): kill it, then bring it back. */
export interface NodeOutage {
  describe(): string;
  /** Kill the node(s) hosting the volumes; says what was done. */
  strike(): Promise<string>;
  /** Start them again and wait until they are Ready; says what was done and how long it took. */
  recover(): Promise<string>;
}

export interface Platform {
  readonly kind: 'local' | 'kubernetes';
  describe(): string;
  /** Set up what the whole run needs (cluster, namespace, work directory). */
  /**
   * Called right before every measured backup and restore, outside its timed region: bring the machine to the state
   * the suite asks for (locally: dirty pages written back; with a cold cache, the page cache dropped). Resolves the
   * machine's memory as it then stands, where the platform can read it (the trial records it with the operation).
   */
  beforeOperation?(): Promise<MachineMemory | undefined | void>;
  /** Makes the run's work space; `log` hears of leftovers of earlier runs it removed. */
  prepare(log?: (msg: string) => void): Promise<void>;
  /** A fresh volume set seeded deterministically with the workload. */
  seedVolumes(id: string, workload: WorkloadConfig, seed: number): Promise<VolumeSet>;
  /** An empty volume set of the same shape, as a restore target. */
  emptyVolumes(id: string, like: VolumeSet): Promise<VolumeSet>;
  /** The churn step between a full and an incremental backup. */
  churn(volumes: VolumeSet, workload: WorkloadConfig, seed: number): Promise<void>;
  manifest(volumes: VolumeSet): Promise<Manifest>;
  /**
   * Compare a volume set with an expected manifest. Files for which `appendOnly(path)` is true pass when they
   * are a byte prefix of the same file in `prefixSource` (the data at the time of an outage).
   */
  verify(
    volumes: VolumeSet,
    expected: Manifest,
    opts?: { appendOnly?: (path: string) => boolean; prefixSource?: VolumeSet },
  ): Promise<IntegrityResult>;
  corruptVolume(
    volumes: VolumeSet,
    plan: { bitFlips: number; truncate: number; delete: number },
    random: () => number,
  ): Promise<Pick<FaultRecord, 'description' | 'details'>>;
  startWriter(volumes: VolumeSet, writesPerSecond: number, seed: number): Promise<Writer>;
  /** Where a whole node can be taken down (kind); absent where it cannot (local, existing clusters). */
  nodeOutage?(volumes: VolumeSet): Promise<NodeOutage>;
  createTool(config: ToolConfig): BackupTool;
  /** Remove a volume set. */
  dropVolumes(volumes: VolumeSet): Promise<void>;
  /** What prepare() created outside the output directory, so a post step can remove it after a cancelled job. */
  created(): { kind: 'dir' | 'kind-cluster'; value: string }[];
  /** Remove everything the run created (unless asked to keep it). Safe to call twice. */
  cleanup(): Promise<void>;
}
