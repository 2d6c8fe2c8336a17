// The run's power line (powerSummary) from given per-metric figures, without the projection's simulation: the sizes
// it speaks for, the median figure, α's clause, what limits the figure, the near-deterministic metrics' own clause,
// and changeText's rounding (issue 8: the mutants of power.ts the first run left).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { changeText, powerSummary } from '../../src/baseline/power.ts';
import type { PowerSample } from '../../src/baseline/power.ts';

const OPTS = { threshold: 0.1, confidence: 0.95, seed: 1 };
const sample = (n: number, m: number, detectable: number, over: Partial<PowerSample> = {}): PowerSample => ({
  current: Array.from({ length: n }, (_, i) => 1000 + i),
  baseline: Array.from({ length: m }, (_, i) => 1000 + i),
  opts: OPTS,
  detectable,
  ...over,
});

test('changeText: one decimal below 10%, whole percent from there, ∞ for no figure', () => {
  assert.equal(changeText(1.052), '5.2%');
  assert.equal(changeText(1.004), '0.4%');
  assert.equal(changeText(1.11), '11%');
  assert.equal(changeText(1.333), '33%');
  assert.equal(changeText(Number.POSITIVE_INFINITY), '∞');
});

test('powerSummary: no metric, no summary', () => {
  assert.equal(powerSummary([], 0.95), undefined);
});

test('powerSummary: one metric at what the threshold allows; p out of every reach named as <0.001', () => {
  const s = powerSummary([sample(10, 10, 1.11)], 0.95)!;
  assert.equal(
    s.line,
    'With 10 trials against 10, changes below ~11% cannot be detected (the median of 1 compared metric; the smallest possible p is <0.001); that is what the threshold and the noise floor allow, not the noise, so more trials would not lower it.',
  );
  assert.deepStrictEqual({ ...s, line: '' }, { current: 10, baseline: 10, smallestP: 2 / 184756, alpha: 0.05, metrics: 1, detectable: 1.11, limit: 1.1, line: '' });
});

test('powerSummary: the median of the time-like metrics, α out of reach for 3 vs 3, and the near-deterministic ones apart', () => {
  const s = powerSummary([sample(3, 3, 1.12), sample(3, 3, 1.05), sample(3, 3, 1.004, { deterministic: true, label: 'Repository size' })], 0.95)!;
  assert.equal(
    s.line,
    'With 3 trials against 3, changes below ~8.5% cannot be detected (the median of 2 compared metrics; the smallest possible p is 0.1, above α = 0.05, so a change also needs every trial worse than every baseline trial); that is what the threshold and the noise floor allow, not the noise, so more trials would not lower it.' +
      ' For the near-deterministic metrics (repository size) changes below ~0.4% cannot be detected (the median of 1).',
  );
  assert.deepStrictEqual(s.deterministic, { metrics: 1, detectable: 1.004, labels: ['repository size'] });
  assert.equal(s.metrics, 2);
  // Only near-deterministic metrics: they are the run's figure, without a clause of their own.
  const only = powerSummary([sample(3, 3, 1.004, { deterministic: true, label: 'Repository size' })], 0.95)!;
  assert.equal(only.deterministic, undefined);
  assert.equal(only.detectable, 1.004);
  // A label-less near-deterministic metric adds no empty name.
  const unnamed = powerSummary([sample(3, 3, 1.05), sample(3, 3, 1.004, { deterministic: true })], 0.95)!;
  assert.deepStrictEqual(unnamed.deterministic, { metrics: 1, detectable: 1.004, labels: [] });
});

test('powerSummary: the most common sizes are the ones named, the first seen on a tie; the reference is named in the clause', () => {
  assert.equal(powerSummary([sample(3, 3, 1.05), sample(5, 5, 1.05), sample(5, 5, 1.05)], 0.95)!.current, 5);
  const tie = powerSummary([sample(3, 4, 1.05), sample(5, 5, 1.05)], 0.95)!;
  assert.deepEqual([tie.current, tie.baseline], [3, 4]);
  assert.match(powerSummary([sample(3, 3, 1.05)], 0.95, 'restic-a')!.line, /so a change also needs every trial worse than every restic-a trial\)/);
});

test('powerSummary: nothing can be flagged; the limit follows the noise floor when that is larger than the threshold', () => {
  const none = powerSummary([sample(3, 3, Number.POSITIVE_INFINITY), sample(3, 3, Number.POSITIVE_INFINITY)], 0.95)!;
  assert.equal(
    none.line,
    'With 3 trials against 3, most metrics cannot flag a change of any size (the median of 2 compared metrics; the smallest possible p is 0.1, above α = 0.05, so a change also needs every trial worse than every baseline trial).',
  );
  assert.equal(none.suggestion, undefined);
  // Baseline median 1001 (values 1000..1002), floor 500.5 ms: the limit is +50%.
  const floored = powerSummary([sample(3, 3, 1.6, { opts: { ...OPTS, minDelta: 500.5 } })], 0.95)!;
  assert.equal(floored.limit, 1.5);
  assert.match(floored.line, /changes below ~60% cannot be detected .*; that is what the threshold and the noise floor allow/);
  // The median metric is the lower middle one of an even count: its threshold sets the limit.
  const even = powerSummary([sample(3, 3, 1.3, { opts: { ...OPTS, threshold: 0.5 } }), sample(3, 3, 1.2, { opts: { ...OPTS, threshold: 0.3 } })], 0.95)!;
  assert.equal(even.limit, 1.3);
});
