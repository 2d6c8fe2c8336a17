// The outage scenario's writer on the local platform: a separate Node process that appends pre-generated access
// log lines to the proxies' logs at a fixed rate, fsyncs each write and only then journals it as acknowledged
// (journal kept outside the volumes, like a client's record of acknowledged writes). SIGKILL is the outage.
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { accessLogChunk, ACCESS_LOG } from '../../workloads/mesh-proxy.ts';
import { deriveSeed, seededRandom } from '../../workloads/random.ts';
import type { VolumeSet, Writer } from '../types.ts';
import { diesWithParent, settlesWithin } from '../processes.ts';

// Self-contained so it runs the same from source and from the bundled dist (no file path to resolve).
const WRITER_CODE = `
const fs = require('node:fs');
const [journalPath, rateArg, ...pairs] = process.argv.slice(1);
const rate = Number(rateArg);
const targets = [];
for (let i = 0; i < pairs.length; i += 2) {
  const lines = fs.readFileSync(pairs[i + 1], 'utf8').split('\\n').filter(Boolean).map((l) => l + '\\n');
  const fd = fs.openSync(pairs[i], 'a');
  targets.push({ fd, lines, next: 0, end: fs.fstatSync(fd).size });
}
const journal = fs.openSync(journalPath, 'a');
const interval = 1000 / rate;
const started = performance.now();
let n = 0;
process.stdout.write('ready\\n');
function tick() {
  const due = Math.floor((performance.now() - started) / interval) + 1;
  while (n < due) {
    const t = targets[n % targets.length];
    const line = t.lines[t.next++ % t.lines.length];
    t.end += fs.writeSync(t.fd, line);
    fs.fsyncSync(t.fd);
    fs.writeSync(journal, Date.now() + ' ' + (n % targets.length) + ' ' + t.end + '\\n');
    n++;
  }
  setTimeout(tick, Math.max(1, interval / 2));
}
tick();
`;

export async function startLocalWriter(volumes: VolumeSet, writesPerSecond: number, seed: number, scratch: string): Promise<Writer> {
  await mkdir(scratch, { recursive: true });
  const journalPath = join(scratch, 'journal.log');
  await writeFile(journalPath, '');
  const args: string[] = ['-e', WRITER_CODE, journalPath, String(writesPerSecond)];
  const rel: string[] = [];
  for (const [i, name] of volumes.volumes.entries()) {
    const feed = join(scratch, `feed-${i}.log`);
    const r = seededRandom(deriveSeed(seed, 'writer', i));
    await mkdir(dirname(feed), { recursive: true });
    await writeFile(feed, accessLogChunk(r, 4000, Date.UTC(2026, 5, 1) + i * 1000));
    args.push(join(volumes.location, name, ACCESS_LOG), feed);
    rel.push(`${name}/${ACCESS_LOG}`);
  }
  const run = diesWithParent(process.execPath, args);
  const child = spawn(run.cmd, run.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the workload writer did not start within 10 s'));
    }, 10_000);
    child.stdout.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the workload writer exited with code ${code}: ${stderr.slice(0, 300)}`));
    });
  });
  return {
    describe: () => `workload writer (pid ${child.pid}, ${writesPerSecond} fsync'd writes/s)`,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (!(await settlesWithin(exited, 5000))) throw new Error(`the workload writer (pid ${child.pid}) did not exit within 5 s of SIGKILL`);
    },
    journal: async () => {
      const text = await readFile(journalPath, 'utf8');
      const out: { t: number; path: string; end: number }[] = [];
      for (const line of text.split('\n')) {
        const [t, idx, end] = line.split(' ').map(Number);
        if (t === undefined || idx === undefined || end === undefined || !Number.isFinite(end)) continue; // a torn last line
        const path = rel[idx];
        if (path) out.push({ t, path, end });
      }
      return out;
    },
  };
}
