// Where a Velero backup or restore spent its time, by Velero's own status timestamps (whole seconds): queued, before
// the first volume operation, preparing the volume operations (the data-mover pod, the snapshot to expose), moving
// volume data, and finishing after the last one (the backup's metadata and tarball). What the tool spends outside
// moving data (issue 11) is everything but the data part. Pure.
import type { KubeObject } from '../platform/kubernetes/client.ts';
import type { PhaseMetrics, PhaseTimeline } from '../suite/results.ts';

const at = (v: unknown): number | undefined => {
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isNaN(t) ? undefined : t;
};

const span = (from: number | undefined, to: number | undefined): number | undefined => (from !== undefined && to !== undefined ? Math.max(0, to - from) : undefined);

/**
 * The timeline of a finished Backup or Restore and its volume operations (PodVolumeBackups/Restores or
 * DataUploads/Downloads); undefined when Velero's timestamps do not say (no start or completion time).
 */
export function veleroTimeline(main: KubeObject, volumeOps: readonly KubeObject[]): PhaseTimeline | undefined {
  const created = at(main.metadata.creationTimestamp);
  const start = at(main.status?.startTimestamp);
  const end = at(main.status?.completionTimestamp);
  if (start === undefined || end === undefined) return undefined;
  const parts: PhaseTimeline['parts'] = [];
  const queued = span(created, start);
  if (queued !== undefined) parts.push({ name: 'queued', ms: queued });
  const ops = volumeOps.filter((o) => at(o.status?.startTimestamp) !== undefined && at(o.status?.completionTimestamp) !== undefined);
  if (ops.length === 0) {
    parts.push({ name: 'running', ms: Math.max(0, end - start) });
    return { source: 'velero', parts, totalMs: parts.reduce((s, p) => s + p.ms, 0) };
  }
  const min = (xs: (number | undefined)[]) => Math.min(...xs.filter((x): x is number => x !== undefined));
  const max = (xs: (number | undefined)[]) => Math.max(...xs.filter((x): x is number => x !== undefined));
  const firstCreated = Math.max(start, min(ops.map((o) => at(o.metadata.creationTimestamp) ?? at(o.status?.startTimestamp))));
  const firstStart = Math.max(firstCreated, min(ops.map((o) => at(o.status?.startTimestamp))));
  const lastDone = Math.min(end, Math.max(firstStart, max(ops.map((o) => at(o.status?.completionTimestamp)))));
  parts.push({ name: 'before-volumes', ms: firstCreated - start });
  parts.push({ name: 'preparing', ms: firstStart - firstCreated });
  parts.push({ name: 'moving-data', ms: lastDone - firstStart });
  parts.push({ name: 'finishing', ms: end - lastDone });
  return { source: 'velero', parts, dataMs: lastDone - firstStart, totalMs: parts.reduce((s, p) => s + p.ms, 0) };
}

/** The metrics with the timeline of their operation, when Velero's timestamps give one. */
export function withTimeline(metrics: PhaseMetrics, main: KubeObject, volumeOps: readonly KubeObject[]): PhaseMetrics {
  const timeline = veleroTimeline(main, volumeOps);
  return timeline ? { ...metrics, timeline } : metrics;
}
