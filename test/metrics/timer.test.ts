// startTimer gives milliseconds (found by npm run mutate -- metrics: nothing checked the unit).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTimer } from '../../src/metrics/timer.ts';

test('startTimer measures elapsed milliseconds, as a fraction', async () => {
  const elapsed = startTimer();
  await sleep(50);
  const ms = elapsed();
  // Timers never fire early by more than a millisecond; a loaded machine may be seconds late, never minutes.
  assert.ok(ms >= 49 && ms < 60_000, `50 ms sleep measured as ${ms} ms`);
  assert.ok(elapsed() >= ms, 'monotonic');
});
