// Pure formatting and escaping for the report and the verdict lines. Deterministic; no locale-dependent output.

const DASH = '–';

/**
 * A number with about three significant digits, never in exponent notation: 1.23, 12.3, 123, 1234. The precision is
 * picked by the rounded value, so 9.996 is "10.0", not "10.00", and 99.96 is "100".
 */
export function sig3(n: number): string {
  const a = Math.abs(n);
  if (Number(a.toFixed(1)) >= 100) return String(Math.round(n));
  if (Number(a.toFixed(2)) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

function bad(n: number | undefined): n is undefined {
  return n === undefined || Number.isNaN(n);
}

/** Milliseconds for people: "850 ms", "1.23 s", "12.3 s", "2.50 min". */
export function formatMs(ms: number | undefined): string {
  if (bad(ms)) return DASH;
  if (!Number.isFinite(ms)) return '∞';
  const a = Math.abs(ms);
  if (a < 10) return `${ms.toFixed(1)} ms`;
  if (a < 1000) return `${Math.round(ms)} ms`;
  if (a < 60_000) return `${sig3(ms / 1000)} s`;
  if (a < 3_600_000) return `${sig3(ms / 60_000)} min`;
  return `${sig3(ms / 3_600_000)} h`;
}

const BYTE_UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Bytes in binary units: "512 B", "12.3 MiB". */
export function formatBytes(bytes: number | undefined): string {
  if (bad(bytes)) return DASH;
  if (!Number.isFinite(bytes)) return '∞';
  let v = bytes;
  if (Math.abs(v) < 1024) return `${Math.round(v)} B`;
  let unit = '';
  for (const u of BYTE_UNITS) {
    v /= 1024;
    unit = u;
    if (Math.abs(v) < 1024) break;
  }
  return `${sig3(v)} ${unit}`;
}

/** Throughput: "45.6 MiB/s". */
export function formatThroughput(bytesPerSec: number | undefined): string {
  if (bad(bytesPerSec)) return DASH;
  return `${formatBytes(bytesPerSec)}/s`;
}

/** A value in its metric's unit. */
export function formatValue(v: number | undefined, unit: 'ms' | 'bytes' | 'count'): string {
  return unit === 'ms' ? formatMs(v) : unit === 'bytes' ? formatBytes(v) : formatCount(v);
}

/** A count: "42", "42.5" (a median of two), "∞". */
export function formatCount(n: number | undefined): string {
  if (bad(n)) return DASH;
  if (!Number.isFinite(n)) return '∞';
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/** CPU cores: "0.85". */
export function formatCores(c: number | undefined): string {
  if (bad(c)) return DASH;
  return c.toFixed(2);
}

/**
 * The change a ratio means, as a signed percentage: 1.84 → "+84%", 0.968 → "-3.2%", 1 → "±0%". One decimal below
 * 10% after rounding, so 0.9 (-9.999999999999998% in doubles) is "-10%" like 1.1 is "+10%".
 */
export function formatDelta(ratio: number | undefined): string {
  if (bad(ratio)) return DASH;
  if (ratio === Number.POSITIVE_INFINITY) return '+∞%';
  const pct = (ratio - 1) * 100;
  const a = Math.abs(pct);
  const text = Number(a.toFixed(1)) < 10 ? a.toFixed(1) : String(Math.round(a));
  if (Number(text) === 0) return '±0%';
  return `${pct > 0 ? '+' : '-'}${text}%`;
}

/** A ratio as a factor: "×1.61". */
export function formatRatio(ratio: number | undefined): string {
  if (bad(ratio)) return DASH;
  if (!Number.isFinite(ratio)) return '×∞';
  return Number(ratio.toFixed(2)) >= 100 ? `×${Math.round(ratio)}` : `×${ratio.toFixed(2)}`;
}

/** A confidence interval of a ratio: "×1.61–×2.10". */
export function formatCI(ci: readonly [number, number] | undefined): string {
  if (!ci) return DASH;
  return `${formatRatio(ci[0])}–${formatRatio(ci[1])}`;
}

/** A p-value with two significant digits: "p=0.004", "p=0.1", "p<0.001". */
export function formatP(p: number | undefined): string {
  if (bad(p)) return DASH;
  if (p < 0.001) return 'p<0.001';
  return `p=${String(Number(p.toPrecision(2)))}`;
}

/** A fraction as a percentage: 0.1 → "10%", 0.95 → "95%". */
export function formatPercent(fraction: number): string {
  return `${String(Number((fraction * 100).toPrecision(3)))}%`;
}

/** Text safe inside HTML (and in Markdown where HTML is allowed). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** User text on one line (line breaks become spaces), not escaped: for plain-text lines such as verdict reasons. */
/**
 * Text from a tool or a user as plain characters: ANSI escape sequences (CSI, OSC, single-character escapes) and
 * other control characters removed, \r\n and \r made \n; tabs and line breaks stay. So tool output in a log or
 * terminal cannot clear the screen, move the cursor, retitle the window or draw fake lines.
 */
export function plainText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, '')
    .replace(/\x1b\][^\x07\x1b]*(\x07|\x1b\\)?/g, '')
    .replace(/\x1b[@-_]/g, '')
    .replace(/\x9b[0-?]*[ -/]*[@-~]/g, '')
    .replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, '');
}

export function oneLine(text: string): string {
  return text.replace(/\s*(\r\n|\r|\n)\s*/g, ' ').trim();
}

/** One line of user text safe in Markdown prose or a list item: no line breaks, no HTML. */
export function escapeInline(text: string): string {
  return text
    .replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c] ?? c)
    .replace(/\r\n|\r|\n/g, ' ')
    .trim();
}

/** User text safe in a Markdown table cell: HTML escaped, pipes escaped, line breaks as <br>. */
export function escapeCell(text: string): string {
  return text
    .replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c] ?? c)
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/\r\n|\r|\n/g, '<br>')
    .trim();
}

/** "1 trial", "3 trials". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
