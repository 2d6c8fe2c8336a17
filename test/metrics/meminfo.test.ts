// The machine's memory right before a measured operation (issue 11: the state before each operation is recorded):
// /proc/meminfo's free, available, cached, dirty and writeback figures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMemInfo, readMemInfo } from '../../src/metrics/meminfo.ts';

const SAMPLE = [
  'MemTotal:       24567892 kB',
  'MemFree:        13999104 kB',
  'MemAvailable:   21877412 kB',
  'Buffers:          120344 kB',
  'Cached:          7912340 kB',
  'SwapCached:            0 kB',
  'Active:          3301244 kB',
  'Dirty:              1032 kB',
  'Writeback:             4 kB',
  'HugePages_Total:       0',
  '',
].join('\n');

test('parseMemInfo: the five figures, in bytes (the file says kB: KiB)', () => {
  assert.deepEqual(parseMemInfo(SAMPLE), {
    memFreeBytes: 13999104 * 1024,
    memAvailableBytes: 21877412 * 1024,
    cachedBytes: 7912340 * 1024,
    dirtyBytes: 1032 * 1024,
    writebackBytes: 4 * 1024,
  });
});

test('parseMemInfo: a kernel without one of the five gives nothing rather than a made-up figure', () => {
  for (const drop of ['MemFree', 'MemAvailable', 'Cached', 'Dirty', 'Writeback']) {
    const text = SAMPLE.split('\n').filter((l) => !l.startsWith(`${drop}:`)).join('\n');
    assert.equal(parseMemInfo(text), undefined, drop);
  }
  // A field named like one of them (SwapCached) is not it.
  assert.equal(parseMemInfo(SAMPLE.replace('Cached:          7912340 kB', 'XCached: 1 kB')), undefined);
  // Only whole lines of the file's form: a longer name or a line that goes on after its unit is not the figure.
  assert.equal(parseMemInfo(SAMPLE.replace('Dirty:  ', 'x-Dirty:')), undefined);
  assert.equal(parseMemInfo(SAMPLE.replace('Dirty:              1032 kB', 'Dirty: 1032 kB (x)')), undefined);
  assert.equal(parseMemInfo(SAMPLE.replace('Dirty:              1032 kB', ' Dirty: 1032 kB')), undefined);
  assert.equal(parseMemInfo('MemFree: lots kB\nMemAvailable: 1 kB\nCached: 1 kB\nDirty: 1 kB\nWriteback: 1 kB'), undefined);
});

test('readMemInfo: the file given, parsed; none (another OS) is undefined', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pvbench-meminfo-'));
  try {
    writeFileSync(join(dir, 'meminfo'), SAMPLE);
    assert.deepEqual(await readMemInfo(join(dir, 'meminfo')), parseMemInfo(SAMPLE));
    assert.equal(await readMemInfo(join(dir, 'absent')), undefined);
    // By default this machine's: on Linux, all five figures.
    if (process.platform === 'linux') assert.deepEqual(Object.keys((await readMemInfo()) ?? {}).sort(), ['cachedBytes', 'dirtyBytes', 'memAvailableBytes', 'memFreeBytes', 'writebackBytes']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
