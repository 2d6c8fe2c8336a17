// The machine's memory before the measured operations, as the trials recorded it (PhaseMetrics.machine): one phrase
// for the run line, so that a reader can tell a restore that had to reclaim the page cache from one that did not.
import type { TrialResult } from '../suite/results.ts';
import { formatBytes } from './format.ts';

/** The range of a figure: "7.9 GiB", or "7.9 to 8.4 GiB" when the trials differ. */
function range(values: number[]): string {
  const lo = formatBytes(Math.min(...values));
  const hi = formatBytes(Math.max(...values));
  return lo === hi ? lo : `${lo} to ${hi}`;
}

/**
 * "memory before the measured operations: 12.1 GiB to 13.4 GiB free, 7.90 GiB to 8.40 GiB page cache, at most 1.00 MiB dirty", over
 * every measured phase that recorded it; undefined when none did (on Kubernetes, or results of an older pvbench).
 */
export function machineLine(trials: readonly TrialResult[]): string | undefined {
  const states = trials.flatMap((t) => [t.backup, t.incremental, t.restore]).flatMap((p) => (p?.machine ? [p.machine] : []));
  if (states.length === 0) return undefined;
  const dirty = Math.max(...states.map((s) => s.dirtyBytes + s.writebackBytes));
  return `memory before the measured operations: ${range(states.map((s) => s.memFreeBytes))} free, ${range(states.map((s) => s.cachedBytes))} page cache, ${dirty === 0 ? 'nothing' : `at most ${formatBytes(dirty)}`} dirty`;
}
