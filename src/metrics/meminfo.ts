// The machine's memory from /proc/meminfo, as it stands right before a measured operation (issue 11: the machine
// state before each operation is recorded). How much is free decides whether the operation's new pages come for free
// or from reclaiming the page cache (a restore writes all of its data), and dirty or writeback pages are I/O that
// other work left for the operation to compete with.
import { readFile } from 'node:fs/promises';

export interface MachineMemory {
  memFreeBytes: number;
  memAvailableBytes: number;
  /** The page cache. */
  cachedBytes: number;
  dirtyBytes: number;
  writebackBytes: number;
}

const FIELDS: Record<string, keyof MachineMemory> = {
  MemFree: 'memFreeBytes',
  MemAvailable: 'memAvailableBytes',
  Cached: 'cachedBytes',
  Dirty: 'dirtyBytes',
  Writeback: 'writebackBytes',
};

/** The five figures of a /proc/meminfo text, in bytes (its "kB" are KiB); undefined unless all five are there. */
export function parseMemInfo(text: string): MachineMemory | undefined {
  const out: Partial<MachineMemory> = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s+(\d+) kB$/.exec(line);
    const key = m && FIELDS[m[1]!];
    if (key) out[key] = Number(m[2]) * 1024;
  }
  return Object.values(FIELDS).every((k) => out[k] !== undefined) ? (out as MachineMemory) : undefined;
}

/** The machine's memory now; undefined where there is no such file (not Linux) or it lacks a figure. */
export async function readMemInfo(path = '/proc/meminfo'): Promise<MachineMemory | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseMemInfo(text);
}
