// Shared bits of the GitHub tests: capture what @actions/core prints, a summary file, results fixtures.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RESULTS_SCHEMA_VERSION } from '../../src/suite/results.ts';
import type { ResultsFile } from '../../src/suite/results.ts';
import { parseWorkflowCommands } from './runner.ts';

/** Runs fn while collecting what is written to stdout (workflow commands), without echoing it. */
export async function captureStdout<T>(fn: () => Promise<T> | T): Promise<{ value: T; stdout: string; commands: ReturnType<typeof parseWorkflowCommands> }> {
  const original = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    cb?.();
    return true;
  }) as typeof process.stdout.write;
  try {
    const value = await fn();
    return { value, stdout: out, commands: parseWorkflowCommands(out) };
  } finally {
    process.stdout.write = original;
  }
}

/**
 * One GITHUB_STEP_SUMMARY file per test process (@actions/core caches the path on first use); `take` returns
 * what was written since the last call and empties it.
 */
export async function summaryFile(): Promise<{ path: string; take: () => Promise<string>; dispose: () => Promise<void> }> {
  let created: string | undefined;
  if (!process.env.GITHUB_STEP_SUMMARY) {
    const dir = await mkdtemp(join(tmpdir(), 'pvbench-summary-'));
    created = dir;
    process.env.GITHUB_STEP_SUMMARY = join(dir, 'step_summary');
    await writeFile(process.env.GITHUB_STEP_SUMMARY, '');
  }
  const path = process.env.GITHUB_STEP_SUMMARY;
  return {
    path,
    take: async () => {
      const text = await readFile(path, 'utf8');
      await writeFile(path, '');
      return text;
    },
    dispose: async () => {
      if (created) await rm(created, { recursive: true, force: true });
    },
  };
}

export function resultsFixture(suiteName = 'default', over: Partial<ResultsFile> = {}): ResultsFile {
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    pvbenchVersion: '0.1.0',
    suite: { name: suiteName, file: '(embedded default)', seed: 42, trials: 1, platform: 'local' },
    run: {
      id: 'abc123',
      startedAt: '2025-01-01T00:00:00.000Z',
      finishedAt: '2025-01-01T00:01:00.000Z',
      complete: true,
      host: { cpus: 2, memoryBytes: 1 << 30, os: 'linux', node: 'v24.0.0' },
    },
    tools: [{ name: 'copy', type: 'copy', status: 'ok', version: 'coreutils 9' }],
    scenarios: [{ name: 'no-fault', fault: 'none' }],
    trials: [
      {
        tool: 'copy',
        scenario: 'no-fault',
        trial: 1,
        status: 'passed',
        startedAt: '2025-01-01T00:00:01.000Z',
        durationMs: 100,
        fault: { kind: 'none', injected: false, description: 'no fault', details: {} },
      },
    ],
    ...over,
  };
}
