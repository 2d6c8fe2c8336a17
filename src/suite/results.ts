// The results file: what one `pvbench run` measured. Versioned; written atomically after every trial.
// Everything downstream (baseline statistics, report, GitHub outputs) reads only this shape.
import type { MachineMemory } from '../metrics/meminfo.ts';

export const RESULTS_SCHEMA_VERSION = 1 as const;

/** not-injected: the scenario's fault did not land, so the trial measured nothing about recovery from it. */
export type TrialStatus = 'passed' | 'failed' | 'error' | 'skipped' | 'not-injected';

/** One timed phase of a tool's work (a backup or a restore), measured on its process tree or pods. */
export interface PhaseMetrics {
  /** Wall time of the successful attempt, or of the whole phase including retries when `attempts` > 1. */
  wallMs: number;
  /** CPU user + system time of the tool's processes (or pods), in ms. */
  cpuUserMs: number;
  cpuSysMs: number;
  /** Average CPU utilisation over the phase, in cores (cpuMs / wallMs). */
  cpuCores: number;
  /** Peak resident memory of the tool's process tree (or the largest pod), bytes. */
  peakRssBytes: number;
  /** Bytes read and written by the tool's processes (from /proc io counters or the tool's own report). */
  bytesRead: number;
  bytesWritten: number;
  /** Bytes of volume data the tool processed (tool-reported where available, else the source size). */
  bytesProcessed: number;
  /** bytesProcessed / wall time. */
  throughputBytesPerSec: number;
  /** 1 for a clean run; more when a controller-style retry was needed. */
  attempts: number;
  /** How the metrics were obtained, for the report's footnotes. */
  source: 'proc' | 'tool' | 'kubernetes' | 'mixed';
  /** Where the time went by the tool's own account, where it gives one (Velero's status timestamps). */
  timeline?: PhaseTimeline;
  /** The machine's memory right before the operation, after the platform settled it (the local platform). */
  machine?: MachineMemory;
}

/**
 * A phase's time in consecutive parts by the tool's own clock (Velero: whole seconds): e.g. queued, before-volumes,
 * preparing, moving-data, finishing. dataMs is the part moving volume data, the rest is spent outside it; absent
 * when no per-volume operation moved data (Velero CSI snapshots without data movement).
 */
export interface PhaseTimeline {
  source: 'velero';
  parts: { name: string; ms: number }[];
  dataMs?: number;
  totalMs: number;
}

export interface IntegrityResult {
  /** Files in the expected manifest. */
  files: number;
  matched: number;
  mismatched: number;
  missing: number;
  /** Files present after restore that the manifest does not know. */
  extra: number;
  /** Bytes of data checked. */
  bytes: number;
  /** True when every expected file matched (and, for append-only files, was a consistent prefix). */
  ok: boolean;
  /** A few example paths, for the report. */
  examples: { mismatched: string[]; missing: string[]; extra: string[] };
}

/** What a fault injector did, said in its own words so the report can show it. */
export interface FaultRecord {
  kind: 'none' | 'crash' | 'outage' | 'corrupt-volume' | 'corrupt-repository' | 'io-error' | 'disk-full' | 'slow-disk';
  /** Whether the fault actually happened (e.g. a crash aimed at a backup that finished first did not). */
  injected: boolean;
  /** One line for the report, e.g. "SIGKILL restic (pid 4242) at 38% of bytes read". */
  description: string;
  /** Structured details (counts, offsets, pids, phases). */
  details: Record<string, string | number | boolean>;
  /** Did the tool or pvbench notice the fault (check failed, restore refused, manifest mismatch)? */
  detected?: boolean;
  /** Time from the fault to a successful retry or restore, ms. */
  recoveryMs?: number;
}

export interface RepositoryCheck {
  ran: boolean;
  ok: boolean;
  /** Short excerpt of the tool's output (secrets masked). */
  output: string;
}

export interface TrialResult {
  tool: string;
  scenario: string;
  /** 1-based trial number. */
  trial: number;
  status: TrialStatus;
  startedAt: string;
  durationMs: number;
  /**
   * The processes the trial started (local platform: every tool command, measured or not, and helpers such as the
   * outage's writer), and their summed wall time in ms; durationMs less that is pvbench's own work (seeding,
   * manifests, verifying, settling the machine), less any overlap.
   */
  processes?: { count: number; wallMs: number };
  /** Why the trial failed or errored, one line. */
  error?: string;
  /** Full backup. */
  backup?: PhaseMetrics;
  /** Incremental backup after the workload's churn step. */
  incremental?: PhaseMetrics;
  restore?: PhaseMetrics;
  integrity?: IntegrityResult;
  /** Recovery time objective achieved: outage (or corruption) to verified restore, ms. */
  rtoMs?: number;
  /** Recovery point: age of the newest acknowledged write present after restore, at the outage, ms. */
  rpoMs?: number;
  repository?: { sizeBytes: number };
  check?: RepositoryCheck;
  fault: FaultRecord;
}

export interface ToolInfo {
  name: string;
  type: string;
  status: 'ok' | 'skipped';
  version?: string;
  /** Why a tool was skipped, e.g. "kopia is not on PATH". */
  reason?: string;
  /** Configured as optional: its being skipped does not make the run incomplete. */
  optional?: boolean;
  /** How the tool's repository key is derived, for tools that derive one from the password on every command (restic). */
  keyDerivation?: KeyDerivationInfo;
  /**
   * restic's chunker polynomial, which sets where files are cut into chunks and so what a backup adds: pvbench's
   * fixed one (the same in every run), or the one `restic init` drew at random (options.chunker: random).
   */
  chunker?: { mode: 'fixed' | 'random'; polynomial: string };
  /** restic: how long each command that locks the repository waits on its lock, measured once per run. */
  lockWait?: LockWaitInfo;
}

/**
 * restic writes a lock file and then sleeps (200 ms in restic 0.14 to 0.18: waitBeforeLockCheck in
 * internal/restic/lock.go) before it looks for a competing lock. Every backup, restore, check and snapshots listing
 * does it once, so it is part of each phase's wall time without touching any data; recorded on its own, like the key
 * derivation, so the report can say how much.
 */
export interface LockWaitInfo {
  /** The fastest of `pairs` runs of `snapshots` less the fastest of as many of `snapshots --no-lock`, on the run's template repository, ms. */
  ms: number;
  pairs: number;
}

/**
 * A password-based key derivation that every command of the tool repeats before it touches any data (restic: scrypt,
 * each backup, restore, snapshots, check ...; kopia: its format key, pbkdf2 or scrypt, each time a command opens the
 * repository). Its time is part of every phase's wall and CPU time; it is recorded on its own so the report can say
 * how much.
 */
export type KeyDerivationInfo = ScryptDerivation | Pbkdf2Derivation;

interface DerivationBase {
  /**
   * fixed: pvbench set fixed parameters (restic: it rewrote the key; kopia: it chose pbkdf2 at creation);
   * calibrated: as restic calibrated them at init; tool-default: the tool's own fixed default (kopia's scrypt).
   */
  mode: 'fixed' | 'calibrated' | 'tool-default';
  /** One derivation with these parameters on this machine, measured once per run with node's crypto (OpenSSL), ms. */
  ms: number;
}

export interface ScryptDerivation extends DerivationBase {
  kdf: 'scrypt';
  N: number;
  r: number;
  p: number;
}

export interface Pbkdf2Derivation extends DerivationBase {
  kdf: 'pbkdf2-sha256';
  iterations: number;
}

/** "scrypt N=16384,r=8,p=1" or "pbkdf2-sha256 600000 iterations": the algorithm and its parameters. */
export function describeKeyDerivation(kd: KeyDerivationInfo): string {
  return kd.kdf === 'scrypt' ? `scrypt N=${kd.N},r=${kd.r},p=${kd.p}` : `pbkdf2-sha256 ${kd.iterations} iterations`;
}

export interface WorkloadInfo {
  kind: 'mesh-proxy';
  seed: number;
  proxies: number;
  files: number;
  bytes: number;
}

export interface ResultsFile {
  schemaVersion: typeof RESULTS_SCHEMA_VERSION;
  pvbenchVersion: string;
  suite: {
    name: string;
    /** The suite file, or "(embedded default)". */
    file: string;
    seed: number;
    trials: number;
    platform: string;
    /** The workload settings as configured (proxies, sizes, churn), so that a baseline of another workload is told apart. */
    workload?: Record<string, unknown>;
    /** The in-run A/B of the suite (its ab section), so that compare and report need no suite file. */
    ab?: { a: string; b: string; threshold: number; failOnRegression: boolean };
  };
  run: {
    id: string;
    startedAt: string;
    finishedAt?: string;
    /**
     * False while trials are still being written, when the run was interrupted, or when a configured tool (not
     * optional) could not run.
     */
    complete: boolean;
    /** What an interrupt stopped, e.g. "interrupted during restic / crash-backup #2; 5 of 12 planned trials not run". */
    interrupted?: string;
    git?: { sha?: string; ref?: string; runId?: string; runUrl?: string };
    host: { cpus: number; memoryBytes: number; os: string; node: string };
    /** The platform as it described itself once ready, e.g. a cluster's API server and the version it reported. */
    platform?: string;
  };
  tools: ToolInfo[];
  scenarios: { name: string; fault: FaultRecord['kind'] }[];
  workload?: WorkloadInfo;
  trials: TrialResult[];
}

/**
 * The metrics that baselines compare, as dotted paths into a TrialResult. Lower is better for all of them.
 * `zeroIsUnmeasured`: a 0 means the sampler never saw the process (it ended within one sampling interval).
 * `deterministic`: hardly varies for a seeded workload; held to compare.deterministicThreshold and the
 * noiseFloor.deterministicBytes floor instead of the threshold for times.
 */
export const METRICS = {
  'backup.wallMs': { label: 'Backup time', unit: 'ms' },
  'incremental.wallMs': { label: 'Incremental backup time', unit: 'ms' },
  'restore.wallMs': { label: 'Restore time', unit: 'ms' },
  'backup.cpuMs': { label: 'Backup CPU', unit: 'ms', zeroIsUnmeasured: true },
  'restore.cpuMs': { label: 'Restore CPU', unit: 'ms', zeroIsUnmeasured: true },
  'backup.peakRssBytes': { label: 'Backup peak RSS', unit: 'bytes', zeroIsUnmeasured: true },
  'restore.peakRssBytes': { label: 'Restore peak RSS', unit: 'bytes', zeroIsUnmeasured: true },
  'backup.bytesWritten': { label: 'Backup bytes written', unit: 'bytes', zeroIsPossible: true, deterministic: true },
  'repository.sizeBytes': { label: 'Repository size', unit: 'bytes', deterministic: true },
  rtoMs: { label: 'RTO', unit: 'ms' },
  rpoMs: { label: 'RPO', unit: 'ms', zeroIsPossible: true },
  writesLost: { label: 'Writes lost', unit: 'count', zeroIsPossible: true },
} as const;

export type MetricName = keyof typeof METRICS;
export const METRIC_NAMES = Object.keys(METRICS) as MetricName[];

/** Reads one metric off a trial; cpuMs is user + sys. Undefined where the trial did not measure it. */
export function metricValue(trial: TrialResult, metric: MetricName): number | undefined {
  switch (metric) {
    case 'backup.wallMs':
      return trial.backup?.wallMs;
    case 'incremental.wallMs':
      return trial.incremental?.wallMs;
    case 'restore.wallMs':
      return trial.restore?.wallMs;
    case 'backup.cpuMs':
      return trial.backup ? trial.backup.cpuUserMs + trial.backup.cpuSysMs : undefined;
    case 'restore.cpuMs':
      return trial.restore ? trial.restore.cpuUserMs + trial.restore.cpuSysMs : undefined;
    case 'backup.peakRssBytes':
      return trial.backup?.peakRssBytes;
    case 'restore.peakRssBytes':
      return trial.restore?.peakRssBytes;
    case 'backup.bytesWritten':
      return trial.backup?.bytesWritten;
    case 'repository.sizeBytes':
      return trial.repository?.sizeBytes;
    case 'rtoMs':
      return trial.rtoMs;
    case 'rpoMs':
      return trial.rpoMs;
    case 'writesLost': {
      // Acknowledged writes of the outage's writer missing after the restore (faults/outage.ts).
      const v = trial.fault?.details?.writesLost;
      return typeof v === 'number' ? v : undefined;
    }
  }
}

/** Where the time of the trials that counted their processes went, ms (see TrialResult.processes). */
export interface TimeSplit {
  /** Trials that counted their processes (of those given). */
  trials: number;
  durationMs: number;
  processes: number;
  processMs: number;
  /** The measured backups, incremental backups and restores, among the processes. */
  measuredMs: number;
}

/** The split over the trials that counted their processes; undefined when none did (Kubernetes). */
export function timeSplit(trials: readonly TrialResult[]): TimeSplit | undefined {
  const counted = trials.filter((t) => t.processes);
  if (counted.length === 0) return undefined;
  const split: TimeSplit = { trials: counted.length, durationMs: 0, processes: 0, processMs: 0, measuredMs: 0 };
  for (const t of counted) {
    split.durationMs += t.durationMs;
    split.processMs += t.processes!.wallMs;
    split.processes += t.processes!.count;
    for (const ph of [t.backup, t.incremental, t.restore]) split.measuredMs += ph?.wallMs ?? 0;
  }
  return split;
}

/**
 * Where the trials' time went, one line: the processes they started (tool commands, measured or not, and helpers),
 * the measured backups and restores among them, and the rest, pvbench's own work. '' when no trial counted its
 * processes (Kubernetes: the tools run in the cluster, not as processes here).
 */
export function timeSpent(trials: readonly TrialResult[]): string {
  const split = timeSplit(trials);
  if (!split) return '';
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const of = split.trials === 1 ? '1 trial' : `${split.trials} trials`;
  return `time: ${of} took ${s(split.durationMs)}; ${split.processes} processes ran for ${s(split.processMs)} of it (the measured backups and restores ${s(split.measuredMs)}); pvbench's own work (seeding, manifests, verifying, settling the machine) about ${s(Math.max(0, split.durationMs - split.processMs))}`;
}
