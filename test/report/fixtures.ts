// Builders of ResultsFile objects for the baseline and report tests. Plain data, deterministic.
import type { CellComparison, Comparison } from '../../src/baseline/compare.ts';
import type { CompareConfig } from '../../src/config/schema.ts';
import type { FaultRecord, IntegrityResult, PhaseMetrics, ResultsFile, ToolInfo, TrialResult } from '../../src/suite/results.ts';

export function phase(wallMs: number, over: Partial<PhaseMetrics> = {}): PhaseMetrics {
  const bytes = 50 * 1024 * 1024;
  return {
    wallMs,
    cpuUserMs: wallMs * 0.6,
    cpuSysMs: wallMs * 0.1,
    cpuCores: 0.7,
    peakRssBytes: 80 * 1024 * 1024,
    bytesRead: bytes,
    bytesWritten: bytes / 2,
    bytesProcessed: bytes,
    throughputBytesPerSec: bytes / (wallMs / 1000),
    attempts: 1,
    source: 'proc',
    ...over,
  };
}

export function okIntegrity(files = 120): IntegrityResult {
  return { files, matched: files, mismatched: 0, missing: 0, extra: 0, bytes: 50 * 1024 * 1024, ok: true, examples: { mismatched: [], missing: [], extra: [] } };
}

export function lostIntegrity(files = 120, missing = 3, mismatched = 0): IntegrityResult {
  return {
    files,
    matched: files - missing - mismatched,
    mismatched,
    missing,
    extra: 0,
    bytes: 50 * 1024 * 1024,
    ok: false,
    examples: {
      mismatched: Array.from({ length: Math.min(mismatched, 3) }, (_, i) => `proxy-0/stats/${i}.prom`),
      missing: Array.from({ length: Math.min(missing, 3) }, (_, i) => `proxy-1/access-${i}.log`),
      extra: [],
    },
  };
}

export const NO_FAULT: FaultRecord = { kind: 'none', injected: false, description: 'no fault', details: {} };

export interface TrialSpec {
  tool?: string;
  scenario?: string;
  trial?: number;
  status?: TrialResult['status'];
  backupMs?: number;
  restoreMs?: number;
  incrementalMs?: number;
  rtoMs?: number;
  rpoMs?: number;
  repoBytes?: number;
  error?: string;
  integrity?: IntegrityResult;
  fault?: FaultRecord;
}

/** One trial; a passed trial with backup, restore, verified integrity and a repository by default. */
export function trial(s: TrialSpec = {}): TrialResult {
  const status = s.status ?? 'passed';
  const t: TrialResult = {
    tool: s.tool ?? 'restic',
    scenario: s.scenario ?? 'no-fault',
    trial: s.trial ?? 1,
    status,
    startedAt: '2025-01-01T00:00:00.000Z',
    durationMs: (s.backupMs ?? 1000) + (s.restoreMs ?? 500) + 100,
    fault: s.fault ?? NO_FAULT,
  };
  if (status === 'error') {
    t.error = s.error ?? 'restic exited with status 1';
    return t;
  }
  t.backup = phase(s.backupMs ?? 1000);
  if (s.incrementalMs !== undefined) t.incremental = phase(s.incrementalMs);
  t.restore = phase(s.restoreMs ?? 500);
  t.integrity = s.integrity ?? (status === 'failed' ? lostIntegrity() : okIntegrity());
  t.repository = { sizeBytes: s.repoBytes ?? 30 * 1024 * 1024 };
  if (s.rtoMs !== undefined) t.rtoMs = s.rtoMs;
  if (s.rpoMs !== undefined) t.rpoMs = s.rpoMs;
  if (s.error !== undefined) t.error = s.error;
  return t;
}

/** Passed trials of one tool × scenario with the given backup times (restore = half of backup). */
export function timed(tool: string, scenario: string, backupMs: number[], extra: Partial<TrialSpec> = {}): TrialResult[] {
  return backupMs.map((b, i) => trial({ tool, scenario, trial: i + 1, backupMs: b, restoreMs: b / 2, ...extra }));
}

export interface ResultsSpec {
  suite?: string;
  id?: string;
  startedAt?: string;
  complete?: boolean;
  tools?: ToolInfo[];
  scenarios?: ResultsFile['scenarios'];
  trials: TrialResult[];
}

/** Each results file gets its own run id unless the test names one: a run is never compared with itself. */
let runSeq = 0;

export function results(s: ResultsSpec): ResultsFile {
  const toolNames = [...new Set(s.trials.map((t) => t.tool))];
  const scenarioNames = [...new Set(s.trials.map((t) => t.scenario))];
  return {
    schemaVersion: 1,
    pvbenchVersion: '0.1.0',
    suite: { name: s.suite ?? 'default', file: '(embedded default)', seed: 42, trials: 3, platform: 'local' },
    run: {
      id: s.id ?? `run${String(++runSeq).padStart(9, '0')}`,
      startedAt: s.startedAt ?? '2025-01-01T00:00:00.000Z',
      finishedAt: s.startedAt ?? '2025-01-01T00:10:00.000Z',
      complete: s.complete ?? true,
      git: { sha: '0123456789abcdef0123456789abcdef01234567', ref: 'refs/pull/7/merge', runId: '99', runUrl: 'https://github.com/o/r/actions/runs/99' },
      host: { cpus: 4, memoryBytes: 16 * 1024 ** 3, os: 'linux 6.8', node: 'v24.0.0' },
    },
    tools: s.tools ?? toolNames.map((name) => ({ name, type: name === 'copy' || name === 'kopia' ? name : 'restic', status: 'ok' as const, version: `${name} 1.0.0` })),
    scenarios: s.scenarios ?? scenarioNames.map((name) => ({ name, fault: name === 'no-fault' ? ('none' as const) : ('crash' as const) })),
    trials: s.trials,
  };
}

export function config(over: Partial<CompareConfig> = {}): CompareConfig {
  return {
    baseline: { source: 'history', maxRuns: 5 },
    threshold: 0.1,
    deterministicThreshold: 0.02,
    noiseFloor: { ms: 0, bytes: 0, deterministicBytes: 0, writes: 0 },
    thresholds: {},
    confidence: 0.95,
    metrics: ['backup.wallMs', 'incremental.wallMs', 'restore.wallMs', 'backup.cpuMs', 'backup.peakRssBytes', 'repository.sizeBytes', 'rtoMs', 'rpoMs'],
    failOnRegression: true,
    failOnNotInjected: false,
    // Thresholds as configured: tests of the noise-raised threshold set it themselves.
    noiseFactor: 0,
    ...over,
  };
}

/** A cell of a comparison: restic / no-fault, 3 trials passed, nothing compared. */
export function cellOf(over: Partial<CellComparison> = {}): CellComparison {
  return { tool: 'restic', scenario: 'no-fault', trials: 3, passed: 3, failed: 0, errored: 0, skipped: 0, notInjected: 0, integrityOk: true, faults: [], metrics: [], ...over };
}

/** A passing comparison without a baseline, cells or findings: tests set what they look at. */
export function comparisonOf(over: Partial<Comparison> = {}): Comparison {
  return {
    verdict: 'pass',
    reasons: [],
    regressions: 0,
    improvements: 0,
    integrityFailures: 0,
    erroredTrials: 0,
    notInjectedTrials: 0,
    baseline: { source: 'none', runs: 0, available: false },
    cells: [],
    ...over,
  };
}
