// "Where the time went": per tool × scenario × phase, the medians of the parts of the tool's own timeline (Velero's
// status timestamps: queued, before the volumes, preparing them, the volume transfers, finishing) and the share spent
// outside the volume transfers. Only for trials whose tool gives a timeline. Pure; user text escaped.
import { median } from '../baseline/stats.ts';
import type { Comparison } from '../baseline/compare.ts';
import type { PhaseMetrics, ResultsFile } from '../suite/results.ts';
import { escapeCell } from './format.ts';
import { table, trialsByCell, trialsOf } from './tables.ts';

/** The parts in the order they happen, with their column headers. */
const PARTS: { name: string; header: string }[] = [
  { name: 'queued', header: 'Queued' },
  { name: 'before-volumes', header: 'Before volumes' },
  { name: 'preparing', header: 'Preparing volumes' },
  { name: 'moving-data', header: 'Volume transfers' },
  { name: 'finishing', header: 'Finishing' },
  { name: 'running', header: 'Running (no volume operations)' },
];

const PHASES = [
  { key: 'backup', label: 'backup' },
  { key: 'incremental', label: 'incremental' },
  { key: 'restore', label: 'restore' },
] as const;

const DASH = '–';

/** Whole seconds, the resolution of Velero's timestamps: "0 s", "18 s", "1.5 s" for a median between two. */
function seconds(ms: number): string {
  return `${String(Math.round(ms / 100) / 10)} s`;
}

/** The table, or '' when no passed trial has a timeline. */
export function timelineTable(results: ResultsFile, comparison: Comparison): string {
  const byCell = trialsByCell(results);
  const rows: { cells: Map<string, string>; head: string[]; outside: string }[] = [];
  const used = new Set<string>();
  for (const c of comparison.cells) {
    const trials = trialsOf(byCell, c).filter((t) => t.status === 'passed');
    for (const ph of PHASES) {
      const lines = trials.map((t) => (t[ph.key] as PhaseMetrics | undefined)?.timeline).filter((x) => x !== undefined);
      if (lines.length === 0) continue;
      const cells = new Map<string, string>();
      for (const p of PARTS) {
        const xs = lines.map((l) => l.parts.find((x) => x.name === p.name)?.ms).filter((v): v is number => v !== undefined);
        if (xs.length === 0) continue;
        used.add(p.name);
        cells.set(p.name, seconds(median(xs)));
      }
      const shares = lines.filter((l) => l.totalMs > 0 && l.dataMs !== undefined).map((l) => 1 - l.dataMs! / l.totalMs);
      const outside = shares.length ? `${Math.round(median(shares) * 100)}% of ${seconds(median(lines.map((l) => l.totalMs)))}` : DASH;
      rows.push({ cells, head: [escapeCell(c.tool), escapeCell(c.scenario), ph.label], outside });
    }
  }
  if (rows.length === 0) return '';
  const parts = PARTS.filter((p) => used.has(p.name));
  return table(
    ['Tool', 'Scenario', 'Phase', ...parts.map((p) => p.header), 'Outside volume transfers'],
    rows.map((r) => [...r.head, ...parts.map((p) => r.cells.get(p.name) ?? DASH), r.outside]),
    ['l', 'l', 'l', ...parts.map(() => 'r' as const), 'r'],
  );
}
