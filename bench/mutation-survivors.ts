// The mutants a Stryker run left alive, one line each, from its JSON report (reports/mutation/<name>/mutation.json):
// file, line, what was changed into what, and the source line. For the closing note and for deciding, mutant by
// mutant, whether a test is missing or the mutant is equivalent. Also the score per file.
//   node bench/mutation-survivors.ts reports/mutation/baseline-core/mutation.json [--markdown]
import { readFileSync } from 'node:fs';

interface Mutant {
  mutatorName: string;
  replacement?: string;
  status: string;
  location: { start: { line: number; column: number }; end: { line: number; column: number } };
}
interface Report {
  files: Record<string, { source: string; mutants: Mutant[] }>;
}

const DETECTED = new Set(['Killed', 'Timeout']);
const ALIVE = new Set(['Survived', 'NoCoverage']);

/** The changed part of a line: what the mutant replaced, then what it put there. */
function change(source: string[], m: Mutant): string {
  const { start, end } = m.location;
  const original = start.line === end.line ? source[start.line - 1]!.slice(start.column - 1, end.column - 1) : `${source[start.line - 1]!.slice(start.column - 1)} …`;
  const short = (s: string) => (s.length > 60 ? `${s.slice(0, 57)}…` : s).replace(/\s+/g, ' ');
  return `${m.mutatorName}: \`${short(original)}\` → \`${short(m.replacement ?? '')}\``;
}

function main(argv: string[]): void {
  const path = argv.find((a) => !a.startsWith('--'));
  if (!path) {
    console.error('usage: node bench/mutation-survivors.ts <stryker mutation.json> [--markdown]');
    process.exit(2);
  }
  const report = JSON.parse(readFileSync(path, 'utf8')) as Report;
  const md = argv.includes('--markdown');
  const totals = { mutants: 0, detected: 0 };
  for (const [file, f] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
    const source = f.source.split('\n');
    const detected = f.mutants.filter((m) => DETECTED.has(m.status)).length;
    const counted = f.mutants.filter((m) => m.status !== 'Ignored' && m.status !== 'CompileError' && m.status !== 'RuntimeError');
    totals.mutants += counted.length;
    totals.detected += detected;
    const alive = f.mutants.filter((m) => ALIVE.has(m.status)).sort((a, b) => a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column);
    const score = counted.length ? ((100 * detected) / counted.length).toFixed(2) : '–';
    console.log(md ? `\n### ${file}: ${score}% (${detected} of ${counted.length}; ${alive.length} alive)\n` : `${file}: ${score}% (${detected} of ${counted.length}; ${alive.length} alive)`);
    for (const m of alive) {
      const line = m.location.start.line;
      const text = `${line}:${m.location.start.column} ${m.status === 'NoCoverage' ? '[no coverage] ' : ''}${change(source, m)}   | ${source[line - 1]!.trim().slice(0, 100)}`;
      console.log(md ? `- ${text.replace(/\|/g, '\\|')}` : `  ${text}`);
    }
  }
  const all = totals.mutants ? ((100 * totals.detected) / totals.mutants).toFixed(2) : '–';
  console.log(md ? `\n**All files: ${all}% (${totals.detected} of ${totals.mutants})**` : `all files: ${all}% (${totals.detected} of ${totals.mutants})`);
}

main(process.argv.slice(2));
