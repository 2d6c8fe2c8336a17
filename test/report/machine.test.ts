// The run line's phrase on the machine's memory before the measured operations (src/report/machine.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { machineLine } from '../../src/report/machine.ts';
import type { PhaseMetrics, TrialResult } from '../../src/suite/results.ts';
import type { MachineMemory } from '../../src/metrics/meminfo.ts';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const mem = (free: number, cached: number, dirty = 0, writeback = 0): MachineMemory => ({ memFreeBytes: free, memAvailableBytes: free + cached, cachedBytes: cached, dirtyBytes: dirty, writebackBytes: writeback });
const phase = (machine?: MachineMemory) => ({ wallMs: 1, ...(machine ? { machine } : {}) }) as PhaseMetrics;
const trial = (b?: MachineMemory, r?: MachineMemory, i?: MachineMemory) =>
  ({ backup: phase(b), restore: phase(r), ...(i ? { incremental: phase(i) } : {}) }) as unknown as TrialResult;

test('one phrase over every phase that recorded the machine: the ranges of free memory and page cache, the most dirty', () => {
  assert.equal(
    machineLine([trial(mem(13 * GiB, 8 * GiB), mem(12.5 * GiB, 8.5 * GiB, 1 * MiB)), trial(mem(12 * GiB, 9 * GiB), mem(12 * GiB, 9 * GiB), mem(14 * GiB, 7 * GiB, 0, 3 * MiB))]),
    'memory before the measured operations: 12.0 GiB to 14.0 GiB free, 7.00 GiB to 9.00 GiB page cache, at most 3.00 MiB dirty',
  );
});

test('the same figure everywhere is said once; no dirty page at all is "nothing dirty"', () => {
  assert.equal(machineLine([trial(mem(2 * GiB, GiB), mem(2 * GiB, GiB))]), 'memory before the measured operations: 2.00 GiB free, 1.00 GiB page cache, nothing dirty');
});

test('dirty and writeback pages add up: both are I/O the operation competes with', () => {
  assert.equal(machineLine([trial(mem(GiB, GiB, 2 * MiB, 1 * MiB))]), 'memory before the measured operations: 1.00 GiB free, 1.00 GiB page cache, at most 3.00 MiB dirty');
});

test('no phase recorded it (Kubernetes, an older results file, trials without phases): no phrase', () => {
  assert.equal(machineLine([]), undefined);
  assert.equal(machineLine([trial(), trial()]), undefined);
  assert.equal(machineLine([{} as TrialResult]), undefined);
  // One phase that has it is enough.
  assert.equal(machineLine([trial(), trial(undefined, mem(GiB, 2 * GiB))]), 'memory before the measured operations: 1.00 GiB free, 2.00 GiB page cache, nothing dirty');
});
