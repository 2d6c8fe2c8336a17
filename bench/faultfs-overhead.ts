// What does arming a fault cost the operation it measures, when the fault never fires?
//   node bench/faultfs-overhead.ts [--runs 7] [--tools copy,restic,kopia] [--sizes tiny,medium]
// For each tool and workload size, one backup per mechanism in every round, in an order that rotates from round to
// round (drift on a busy machine hits every mechanism alike), each into a fresh repository:
//   bare          the backup alone
//   faultfs       through faultfs over the source, armed to kill past the last byte (counts every read, never fires)
//   slice-trigger held under SIGSTOP/SIGCONT by armTrigger, its point past 100% (looks at progress, never fires)
// Medians of the backup's wall time (and, for faultfs, of its mount + unmount, outside the backup). Prints a
// Markdown table and writes bench/results/faultfs-overhead.json. See bench/README.md.
import { writeFileSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { suiteSchema } from '../src/config/schema.ts';
import type { WorkloadConfig } from '../src/config/schema.ts';
import { LocalPlatform } from '../src/platform/local/platform.ts';
import { armTrigger } from '../src/faults/context.ts';
import { faultfsUnavailable, mountFaultfs } from '../src/faults/faultfs.ts';
import { treeSize } from '../src/platform/local/fsutil.ts';
import { median } from '../src/baseline/stats.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    tools: { type: 'string', default: 'copy,restic,kopia' },
    sizes: { type: 'string', default: 'tiny,medium' },
  },
});
const runs = Number(values.runs);
const SIZES: Record<string, WorkloadConfig> = {
  tiny: suiteSchema.parse({ workload: { proxies: 2, accessLogLines: 500, statsSnapshots: 2, clusters: 5 } }).workload,
  medium: suiteSchema.parse({ workload: { proxies: 4, accessLogLines: 20000, statsSnapshots: 6, clusters: 40 } }).workload,
};
const MECHANISMS = ['bare', 'faultfs', 'slice-trigger'] as const;
type Mechanism = (typeof MECHANISMS)[number];
const unavailable = faultfsUnavailable();
if (unavailable) throw new Error(`faultfs is needed for this bench: ${unavailable}`);


const platform = new LocalPlatform({ keep: false, timeoutMs: 600_000 });
await platform.prepare();
const rows: Record<string, unknown>[] = [];
let n = 0;
try {
  for (const size of values.sizes.split(',')) {
    const workload = SIZES[size];
    if (!workload) throw new Error(`unknown size ${size} (tiny, medium)`);
    for (const type of values.tools.split(',') as ('copy' | 'restic' | 'kopia')[]) {
      const tool = platform.createTool({ type, options: {} });
      const probe = await tool.probe();
      if (!probe.ok) {
        console.error(`${type}: skipped (${probe.reason})`);
        continue;
      }
      const volumes = await platform.seedVolumes(`b-${size}-${type}`, workload, 1);
      const bytes = await treeSize(volumes.location);
      const wall: Record<Mechanism, number[]> = { bare: [], faultfs: [], 'slice-trigger': [] };
      const mountMs: number[] = [];
      for (let r = 0; r < runs; r++) {
        for (let k = 0; k < MECHANISMS.length; k++) {
          const m = MECHANISMS[(r + k) % MECHANISMS.length]!;
          await tool.init(`r${++n}`);
          if (m === 'bare') {
            const t = performance.now();
            await tool.backup(volumes);
            wall.bare.push(performance.now() - t);
          } else if (m === 'faultfs') {
            const t0 = performance.now();
            const mount = await mountFaultfs({ dir: volumes.location, op: 'read', action: 'kill', atByte: bytes * 2 + 1 });
            const t1 = performance.now();
            await tool.backup(volumes, { onStart: (op) => op.pid !== undefined && mount.tellPid(op.pid) });
            const t2 = performance.now();
            const { strike, stats } = await mount.stop();
            if (strike) throw new Error('faultfs struck in an armed-but-not-firing run');
            if (!stats || stats.bytes !== bytes) throw new Error(`faultfs counted ${stats?.bytes} bytes, the volumes hold ${bytes}`);
            wall.faultfs.push(t2 - t1);
            mountMs.push(t1 - t0 + (performance.now() - t2));
          } else {
            const trig = armTrigger(2, undefined, async () => undefined);
            const t = performance.now();
            const op = tool.backup(volumes, trig.hooks);
            await trig.done(op);
            await op;
            wall['slice-trigger'].push(performance.now() - t);
            if (trig.fired()) throw new Error('the slice trigger fired in an armed-but-not-firing run');
          }
          await tool.cleanup();
        }
      }
      const bare = median(wall.bare);
      const row = {
        tool: type,
        version: probe.version,
        size,
        bytes,
        runs,
        bareMs: Math.round(bare),
        faultfsMs: Math.round(median(wall.faultfs)),
        sliceTriggerMs: Math.round(median(wall['slice-trigger'])),
        faultfsOverhead: Number((median(wall.faultfs) / bare - 1).toFixed(3)),
        sliceTriggerOverhead: Number((median(wall['slice-trigger']) / bare - 1).toFixed(3)),
        faultfsMountUnmountMs: Math.round(median(mountMs)),
        allMs: Object.fromEntries(MECHANISMS.map((m) => [m, wall[m].map((x) => Math.round(x))])),
      };
      rows.push(row);
      console.error(JSON.stringify(row));
      await platform.dropVolumes(volumes);
    }
  }
} finally {
  const dir = platform.dir;
  await platform.cleanup();
  await rm(dir, { recursive: true, force: true });
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)}%`;
console.log('| tool | workload | bytes | bare ms | faultfs ms | slice trigger ms | faultfs mount+unmount ms |');
console.log('|---|---|---:|---:|---:|---:|---:|');
for (const r of rows as { tool: string; size: string; bytes: number; bareMs: number; faultfsMs: number; sliceTriggerMs: number; faultfsOverhead: number; sliceTriggerOverhead: number; faultfsMountUnmountMs: number }[]) {
  console.log(`| ${r.tool} | ${r.size} | ${r.bytes} | ${r.bareMs} | ${r.faultfsMs} (${pct(r.faultfsOverhead)}) | ${r.sliceTriggerMs} (${pct(r.sliceTriggerOverhead)}) | ${r.faultfsMountUnmountMs} |`);
}
mkdirSync(join(HERE, 'results'), { recursive: true });
writeFileSync(
  join(HERE, 'results', 'faultfs-overhead.json'),
  JSON.stringify({ date: new Date().toISOString(), machine: { cpus: cpus().length, available: availableParallelism(), kernel: release(), loadavg: loadavg() }, rows }, null, 2) + '\n',
);
