// A directory laid out like /proc (watchProcess's procRoot option): the tests of src/metrics/process.ts build trees of
// processes in it, with exact figures, and change them between samples.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { after } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeProcess {
  pid: number;
  ppid: number;
  /** Clock ticks. */
  utime?: number;
  stime?: number;
  starttime?: string;
  rssKb?: number;
  hwmKb?: number;
  rchar?: number;
  wchar?: number;
  argv?: string[];
}

/** A directory laid out like /proc for the processes put in it, with children files that follow their ppids. */
export class FakeProc {
  readonly root = mkdtempSync(join(tmpdir(), 'pvbench-fakeproc-'));
  private readonly procs = new Map<number, FakeProcess>();

  constructor() {
    // Like /proc, entries besides the processes' own: a scan of the parent pids must pass them by.
    writeFileSync(join(this.root, 'uptime'), '12345.67 23456.78\n');
    mkdirSync(join(this.root, 'sys'));
    // A process that went between the listing of the directory and the read of its stat.
    mkdirSync(join(this.root, '999'));
  }

  put(...procs: FakeProcess[]): void {
    for (const p of procs) {
      this.procs.set(p.pid, p);
      const dir = join(this.root, String(p.pid));
      mkdirSync(join(dir, 'task', String(p.pid)), { recursive: true });
      // Fields after the command name: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
      // stime cutime cstime priority nice threads itrealvalue starttime vsize rss.
      const after = ['S', p.ppid, p.pid, p.pid, 0, -1, 4194560, 100, 0, 0, 0, p.utime ?? 0, p.stime ?? 0, 0, 0, 20, 0, 1, 0, p.starttime ?? String(10_000 + p.pid), 123456, 789];
      writeFileSync(join(dir, 'stat'), `${p.pid} (tool ${p.pid}) ${after.join(' ')}\n`);
      writeFileSync(join(dir, 'status'), `Name:\ttool\nState:\tS (sleeping)\nVmHWM:\t${String(p.hwmKb ?? 0).padStart(8)} kB\nVmRSS:\t${String(p.rssKb ?? 0).padStart(8)} kB\nThreads:\t1\n`);
      writeFileSync(join(dir, 'io'), `rchar: ${p.rchar ?? 0}\nwchar: ${p.wchar ?? 0}\nsyscr: 1\nsyscw: 1\nread_bytes: 0\nwrite_bytes: 0\n`);
      writeFileSync(join(dir, 'cmdline'), (p.argv ?? [`tool${p.pid}`]).map((a) => `${a}\0`).join(''));
    }
    this.writeChildrenFiles();
  }

  /** The process is gone (reaped): its directory goes. */
  remove(...pids: number[]): void {
    for (const pid of pids) {
      this.procs.delete(pid);
      rmSync(join(this.root, String(pid)), { recursive: true, force: true });
    }
    this.writeChildrenFiles();
  }

  /** The kernel's format: each child's pid followed by a space. */
  private writeChildrenFiles(): void {
    for (const p of this.procs.values()) {
      const kids = [...this.procs.values()].filter((k) => k.ppid === p.pid).map((k) => `${k.pid} `);
      writeFileSync(join(this.root, String(p.pid), 'task', String(p.pid), 'children'), kids.join(''));
    }
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** A maker of fake /proc trees for one test file: each holds the processes given; all are removed after the file. */
export function fakeProcsOfFile(): (...procs: FakeProcess[]) => FakeProc {
  const fakes: FakeProc[] = [];
  after(() => {
    for (const f of fakes) f.dispose();
  });
  return (...procs) => {
    const fake = new FakeProc();
    fakes.push(fake);
    fake.put(...procs);
    return fake;
  };
}
