import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  escapeCell,
  escapeInline,
  formatBytes,
  formatCI,
  formatDelta,
  formatMs,
  formatP,
  formatPercent,
  formatRatio,
  oneLine,
} from '../../src/report/format.ts';

test('durations', () => {
  assert.equal(formatMs(1210), '1.21 s');
  assert.equal(formatMs(2234), '2.23 s');
  assert.equal(formatMs(12345), '12.3 s');
  assert.equal(formatMs(850), '850 ms');
  assert.equal(formatMs(3.25), '3.3 ms');
  assert.equal(formatMs(150_000), '2.50 min');
  assert.equal(formatMs(undefined), '–');
  assert.equal(formatMs(Number.NaN), '–');
});

test('sizes in binary units', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(12.3 * 1024 * 1024), '12.3 MiB');
  assert.equal(formatBytes(1536), '1.50 KiB');
  assert.equal(formatBytes(5 * 1024 ** 3), '5.00 GiB');
});

test('changes, intervals and p-values', () => {
  assert.equal(formatDelta(1.84), '+84%');
  assert.equal(formatDelta(0.968), '-3.2%');
  assert.equal(formatDelta(1), '±0%');
  assert.equal(formatDelta(0.5), '-50%');
  assert.equal(formatRatio(1.605), '×1.60');
  assert.equal(formatCI([1.61, 2.1]), '×1.61–×2.10');
  assert.equal(formatP(0.004), 'p=0.004');
  assert.equal(formatP(0.1), 'p=0.1');
  assert.equal(formatP(2 / 84), 'p=0.024');
  assert.equal(formatP(0.0001), 'p<0.001');
  assert.equal(formatPercent(0.95), '95%');
  assert.equal(formatPercent(0.1), '10%');
});

test('escaping user text', () => {
  assert.equal(escapeCell('a|b'), 'a\\|b');
  assert.equal(escapeCell('line 1\nline 2'), 'line 1<br>line 2');
  assert.equal(escapeCell('<script>x</script>'), '&lt;script&gt;x&lt;/script&gt;');
  assert.equal(escapeCell('C:\\dir|x'), 'C:\\\\dir\\|x');
  assert.equal(escapeInline('a <b>\nc'), 'a &lt;b&gt; c');
  assert.equal(oneLine('a\n  b\r\nc'), 'a b c');
});
