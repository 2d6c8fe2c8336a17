// One interface for every backup tool, on every platform. A tool instance owns one repository
// (a restic repository, a kopia repository, a copy directory, a Velero BackupStorageLocation prefix ...).
import type { FaultRecord, KeyDerivationInfo, PhaseMetrics, RepositoryCheck, ToolInfo } from '../suite/results.ts';
import type { VolumeSet } from '../platform/types.ts';
import type { ToolConfig } from '../config/schema.ts';

/** notes: what the run log should say once about the tool's setup (e.g. environment variables it ignores). */
export type Probe = { ok: true; version: string; notes?: string[] } | { ok: false; reason: string };

/** A tool operation in flight, handed to fault injectors so they can crash it. */
export interface RunningOp {
  /** e.g. "restic backup (pid 4242)" or "velero node-agent pod node-agent-x7k2p". */
  describe(): string;
  /** The tool's process id, where it is a local process (faultfs is told whom to kill). */
  pid?: number;
  /** 0..1: how far the operation is (bytes read / volume bytes locally, phase progress on Kubernetes). */
  progress(): Promise<number>;
  /** Crash it the way a container dies: SIGKILL locally, pod deletion / container kill on Kubernetes. */
  kill(): Promise<string>;
  /**
   * Hold the operation where it is (SIGSTOP locally) while a fault trigger reads its progress, so a fast
   * operation cannot run past the trigger point unseen. Resolves false when it cannot be held (it has exited).
   * Optional: on Kubernetes the trigger only polls.
   */
  pause?(): Promise<boolean>;
  /** Let a held operation run on (SIGCONT locally). */
  resume?(): Promise<void>;
}

export interface OpHooks {
  /** Called once the operation has started. */
  onStart?(op: RunningOp): void;
  /**
   * Start the operation held (locally: stopped before it exec's) where it can be; onStart's op then reports
   * itself held, and its resume() lets it run. Fault triggers use this so a fast operation cannot get ahead of
   * their first look.
   */
  holdAtStart?: boolean;
  signal?: AbortSignal;
}

export interface BackupOutcome {
  snapshotId: string;
  metrics: PhaseMetrics;
}

export interface RestoreOutcome {
  metrics: PhaseMetrics;
}

/** What the fault knows about what it did, for the recovery after it. */
export interface RecoverOptions {
  /**
   * Everything the tool runs was restarted at or after this instant (ms since epoch), as after a node outage:
   * recovery waits for its components to be ready again since then, and for its storage to be re-checked, rather
   * than trusting a status written before the outage.
   */
  since?: number;
}

/** What a controller-style recovery found and did after a crash (stale locks, partial snapshots ...). */
export interface RecoveryReport {
  staleLocks: number;
  actions: string[];
}

/** What the tool's own repair did to a damaged repository (restic repair …, kopia snapshot fix …). */
export interface RepairOutcome {
  /** False when the tool (in this version) has no repair path; `reason` says why. */
  ran: boolean;
  reason?: string;
  /** The commands run, each with what it said or did, in order. */
  actions: string[];
  /** The tool's own check after the repair passed. */
  checkOk?: boolean;
}

export class ToolError extends Error {
  readonly tool: string;
  readonly exitCode: number | null;
  readonly output: string;
  constructor(tool: string, message: string, exitCode: number | null = null, output = '') {
    super(message);
    this.name = 'ToolError';
    this.tool = tool;
    this.exitCode = exitCode;
    this.output = output;
  }
}

export interface BackupTool {
  readonly name: string;
  readonly type: ToolConfig['type'];
  probe(): Promise<Probe>;
  /** Create a fresh, empty repository for one trial. */
  init(trialId: string): Promise<void>;
  backup(source: VolumeSet, hooks?: OpHooks): Promise<BackupOutcome>;
  restore(snapshotId: string, target: VolumeSet, hooks?: OpHooks): Promise<RestoreOutcome>;
  /** The tool's own consistency check of the repository (restic check --read-data, kopia snapshot verify ...). */
  check(): Promise<RepositoryCheck>;
  /** After a crash: what a controller does before retrying (unlock, drop partial uploads). */
  recover(opts?: RecoverOptions): Promise<RecoveryReport>;
  /** The tool's own repair of a damaged repository, where it has one: afterwards snapshots() lists what it kept. */
  repair?(): Promise<RepairOutcome>;
  /** Completed snapshots, oldest first. */
  snapshots(): Promise<string[]>;
  repositorySize(): Promise<number>;
  /** Damage the stored backup data; says what it did. */
  corruptRepository(bitFlips: number, random: () => number): Promise<Pick<FaultRecord, 'description' | 'details'>>;
  /** Remove the repository and anything else this trial created. */
  cleanup(): Promise<void>;
  /** How the repository key is derived from the password, once a repository exists (restic); undefined for tools that do not. */
  keyDerivation?(): KeyDerivationInfo | undefined;
  /** restic: the repository's chunker polynomial and where it came from, once a repository exists. */
  chunker?(): ToolInfo['chunker'];
  /** restic: how long each locking command waits on its lock, once a repository exists. */
  lockWait?(): ToolInfo['lockWait'];
}
