// Boundaries of format.ts that the mutation run (npm run mutate -- report) showed untested: each unit's switch
// point, infinities and missing values, the escapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  escapeCell,
  escapeHtml,
  escapeInline,
  formatBytes,
  formatCI,
  formatCores,
  formatDelta,
  formatMs,
  formatP,
  formatRatio,
  formatThroughput,
  formatValue,
  oneLine,
  plainText,
  plural,
  sig3,
  formatCount,
} from '../../src/report/format.ts';

test('sig3 switches precision at exactly 10 and 100', () => {
  assert.equal(sig3(9.994), '9.99');
  assert.equal(sig3(10), '10.0');
  assert.equal(sig3(99.94), '99.9');
  assert.equal(sig3(100), '100');
  assert.equal(sig3(-100.4), '-100');
  assert.equal(sig3(-12.34), '-12.3');
});

test('sig3 rounds before it picks the precision: never four significant digits', () => {
  assert.equal(sig3(9.996), '10.0');
  assert.equal(sig3(-9.996), '-10.0');
  assert.equal(sig3(9.995), '9.99'); // 9.995 is 9.99499… in binary
  assert.equal(sig3(99.96), '100');
  assert.equal(sig3(-99.96), '-100');
  assert.equal(sig3(99.949), '99.9');
  assert.equal(formatMs(9996), '10.0 s');
  assert.equal(formatBytes(99.96 * 1024), '100 KiB');
});

test('formatMs at each switch point, for long runs and for infinity', () => {
  assert.equal(formatMs(9.99), '10.0 ms');
  assert.equal(formatMs(10), '10 ms');
  assert.equal(formatMs(999.4), '999 ms');
  assert.equal(formatMs(1000), '1.00 s');
  assert.equal(formatMs(59_999), '60.0 s');
  assert.equal(formatMs(60_000), '1.00 min');
  assert.equal(formatMs(3_599_999), '60.0 min');
  assert.equal(formatMs(3_600_000), '1.00 h');
  assert.equal(formatMs(9_000_000), '2.50 h');
  assert.equal(formatMs(Number.POSITIVE_INFINITY), '∞');
  assert.equal(formatMs(-1500), '-1.50 s');
});

test('formatBytes at each switch point, up to PiB, and missing or infinite values', () => {
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1024), '1.00 KiB');
  assert.equal(formatBytes(1024 * 1024 - 1), '1024 KiB');
  assert.equal(formatBytes(1024 * 1024), '1.00 MiB');
  assert.equal(formatBytes(2 * 1024 ** 4), '2.00 TiB');
  assert.equal(formatBytes(3 * 1024 ** 5), '3.00 PiB');
  assert.equal(formatBytes(4096 * 1024 ** 5), '4096 PiB');
  assert.equal(formatBytes(undefined), '–');
  assert.equal(formatBytes(Number.NaN), '–');
  assert.equal(formatBytes(Number.POSITIVE_INFINITY), '∞');
});

test('throughput, values by unit, cores', () => {
  assert.equal(formatThroughput(1536), '1.50 KiB/s');
  assert.equal(formatThroughput(undefined), '–');
  assert.equal(formatThroughput(Number.NaN), '–');
  assert.equal(formatValue(1500, 'ms'), '1.50 s');
  assert.equal(formatValue(1536, 'bytes'), '1.50 KiB');
  assert.equal(formatCores(0.854), '0.85');
  assert.equal(formatCores(undefined), '–');
  assert.equal(formatCores(Number.NaN), '–');
});

test('deltas, ratios, intervals and p-values at their edges', () => {
  assert.equal(formatDelta(undefined), '–');
  assert.equal(formatDelta(Number.NaN), '–');
  assert.equal(formatDelta(Number.POSITIVE_INFINITY), '+∞%');
  assert.equal(formatDelta(1.09), '+9.0%');
  assert.equal(formatDelta(1.0004), '±0%');
  assert.equal(formatDelta(0.9996), '±0%');
});

test('formatDelta: ±10% reads the same both ways, and rounding up to 10 drops the decimal', () => {
  // (0.9 - 1) * 100 is -9.999999999999998 in doubles, (1.1 - 1) * 100 is 10.000000000000009.
  assert.equal(formatDelta(1.1), '+10%');
  assert.equal(formatDelta(0.9), '-10%');
  assert.equal(formatDelta(1.0996), '+10%');
  assert.equal(formatDelta(0.9004), '-10%');
  assert.equal(formatDelta(1.0994), '+9.9%');
  assert.equal(formatDelta(0.9006), '-9.9%');
  assert.equal(formatDelta(1.106), '+11%');
  assert.equal(formatDelta(0.894), '-11%');
});

test('formatRatio rounds before it picks the precision', () => {
  assert.equal(formatRatio(99.996), '×100');
  assert.equal(formatRatio(99.99), '×99.99');
  assert.equal(formatRatio(undefined), '–');
  assert.equal(formatRatio(Number.NaN), '–');
  assert.equal(formatRatio(Number.POSITIVE_INFINITY), '×∞');
  assert.equal(formatRatio(99.994), '×99.99');
  assert.equal(formatRatio(100), '×100');
  assert.equal(formatRatio(123.6), '×124');
  assert.equal(formatCI(undefined), '–');
  assert.equal(formatCI([0.5, Number.POSITIVE_INFINITY]), '×0.50–×∞');
  assert.equal(formatP(undefined), '–');
  assert.equal(formatP(Number.NaN), '–');
  assert.equal(formatP(0.001), 'p=0.001');
  assert.equal(formatP(0.000999), 'p<0.001');
});

test('escapes: HTML, inline Markdown, table cells, one line', () => {
  assert.equal(escapeHtml(`a & b < c > d "e" 'f'`), 'a &amp; b &lt; c &gt; d &quot;e&quot; &#39;f&#39;');
  assert.equal(escapeHtml('plain'), 'plain');
  assert.equal(escapeInline('  R&D <b> \r\n x  '), 'R&amp;D &lt;b&gt;   x');
  assert.equal(escapeCell('  R&D\r\nx  '), 'R&amp;D<br>x');
  assert.equal(oneLine('  a \n b  '), 'a b');
});

test('plural: one, many, and a given plural', () => {
  assert.equal(plural(1, 'trial'), '1 trial');
  assert.equal(plural(0, 'trial'), '0 trials');
  assert.equal(plural(2, 'trial'), '2 trials');
  assert.equal(plural(3, 'entry', 'entries'), '3 entries');
  assert.equal(plural(1, 'entry', 'entries'), '1 entry');
});

test('plainText: a lone CR, an unterminated OSC, single-character escapes and 8-bit CSI with intermediates', () => {
  assert.equal(plainText('a\rb\r\nc'), 'a\nb\nc');
  assert.equal(plainText('a\x1b]0;title'), 'a');
  assert.equal(plainText('a\x1b]0;t\x1b\\b'), 'ab');
  assert.equal(plainText('a\x1bMb\x1b_c'), 'abc');
  assert.equal(plainText('a\x9b1 qb'), 'ab');
  assert.equal(plainText('a\x1b[1 qb'), 'ab');
});

test('formatCount: integers, halves, infinity and missing values', () => {
  assert.equal(formatCount(42), '42');
  assert.equal(formatCount(42.5), '42.5');
  assert.equal(formatCount(Number.POSITIVE_INFINITY), '∞');
  assert.equal(formatCount(undefined), '–');
  assert.equal(formatCount(Number.NaN), '–');
});
