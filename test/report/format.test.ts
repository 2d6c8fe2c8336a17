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

test('plainText: terminal escapes and control characters in tool output cannot reach a terminal or a log', async () => {
  const { plainText } = await import('../../src/report/format.ts');
  const hostile = 'restic: \x1b[2J\x1b[1;1Hfake PASS\x1b]0;title\x07 done\r\nnext\tline\x00\x9b31m';
  assert.equal(plainText(hostile), 'restic: fake PASS done\nnext\tline');
  assert.equal(plainText('plain text, ü and 😀'), 'plain text, ü and 😀');
});

test('workflow commands in tool-controlled text are shown, not run, in an Actions log', async () => {
  const { noWorkflowCommands } = await import('../../src/github/mask.ts');
  const text = 'restic exited 1:\n::error title=pwned::fake finding\n  ::add-mask::x\n##[set-output name=verdict;]pass\nok :: fine';
  const safe = noWorkflowCommands(text);
  for (const line of safe.split('\n')) assert.doesNotMatch(line, /^\s*(::|##\[)/, line);
  assert.equal(safe.replace(/\u200b/g, ''), text, 'only a zero-width space is added');
});

test('tool output kept in results (excerpt) is plain text: kopia colours its ERROR lines', async () => {
  const { excerpt } = await import('../../src/platform/secrets.ts');
  assert.equal(excerpt('Listed 10 blobs.\n\x1b[31mERROR\x1b[0m error reading object c40e\n'), 'Listed 10 blobs.\nERROR error reading object c40e');
});
