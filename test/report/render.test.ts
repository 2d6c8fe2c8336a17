import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compare } from '../../src/baseline/compare.ts';
import type { BaselineInput } from '../../src/baseline/compare.ts';
import { findTemplatesDir, renderReport } from '../../src/report/render.ts';
import { deltaText } from '../../src/report/tables.ts';
import type { RenderInput } from '../../src/report/render.ts';
import type { ResultsFile, TrialResult } from '../../src/suite/results.ts';
import { config, lostIntegrity, results, timed, trial } from './fixtures.ts';

const MARKER = '<!-- pvbench:suite=default -->';

function scenario(): { cur: ResultsFile; base: BaselineInput } {
  const base = results({
    trials: [
      ...timed('restic', 'no-fault', [1200, 1210, 1190]),
      ...timed('copy', 'no-fault', [300, 310, 305]),
      ...timed('copy', 'corrupt-volume', [300, 310, 305], { rtoMs: 900 }),
    ],
  });
  const cur = results({
    trials: [
      ...timed('restic', 'no-fault', [2400, 2420, 2380]),
      ...timed('copy', 'no-fault', [301, 309, 306]),
      trial({
        tool: 'copy',
        scenario: 'corrupt-volume',
        trial: 1,
        rtoMs: 950,
        fault: { kind: 'corrupt-volume', injected: true, description: 'flipped 3 bits, truncated 1, deleted 1', details: {}, detected: true, recoveryMs: 950 },
      }),
      trial({
        tool: 'copy',
        scenario: 'corrupt-volume',
        trial: 2,
        status: 'failed',
        integrity: lostIntegrity(120, 3),
        fault: { kind: 'corrupt-volume', injected: true, description: 'flipped 3 bits, truncated 1, deleted 1', details: {}, detected: false },
      }),
    ],
    scenarios: [
      { name: 'no-fault', fault: 'none' },
      { name: 'corrupt-volume', fault: 'corrupt-volume' },
    ],
  });
  return { cur, base: { runs: [base], source: 'history (.pvbench/history/default)' } };
}

function render(cur: ResultsFile, base: BaselineInput, over: Partial<RenderInput> = {}): string {
  return renderReport({ results: cur, comparison: compare(cur, base, config()), title: 'pvbench: default', marker: MARKER, maxChars: 65000, ...over });
}

/** Pipes that separate cells: not escaped by an odd run of backslashes. */
function cellSeparators(line: string): number {
  let n = 0;
  for (let i = 0; i < line.length; i++) {
    if (line[i] !== '|') continue;
    let bs = 0;
    for (let j = i - 1; j >= 0 && line[j] === '\\'; j--) bs++;
    if (bs % 2 === 0) n++;
  }
  return n;
}

/** Every Markdown table in the text: its lines. */
function tables(text: string): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('|')) cur.push(line);
    else if (cur.length) {
      out.push(cur);
      cur = [];
    }
  }
  if (cur.length) out.push(cur);
  return out;
}

function assertWellFormedTables(text: string): void {
  const all = tables(text);
  for (const t of all) {
    assert.ok(t.length >= 3, `a table has a header, a delimiter row and rows: ${t[0]}`);
    assert.match(t[1]!, /^\|( :?-+:? \|)+$/, `delimiter row of ${t[0]}`);
    const want = cellSeparators(t[0]!);
    for (const line of t) assert.equal(cellSeparators(line), want, `same number of cells in every row of ${t[0]}:\n${line}`);
  }
  const opens = text.split('<details>').length - 1;
  assert.equal(text.split('</details>').length - 1, opens, 'every <details> is closed');
  assert.equal((text.match(/^```/gm) ?? []).length % 2, 0, 'code fences are balanced');
}

test('the marker is the first line and the verdict comes before any table', () => {
  const { cur, base } = scenario();
  const r = render(cur, base);
  assert.equal(r.split('\n')[0], MARKER);
  assert.equal(r.split('\n')[1], '# pvbench: default');
  const verdict = r.indexOf('## ❌ fail');
  assert.ok(verdict > 0, 'a fail verdict');
  const firstTable = r.indexOf('\n|');
  assert.ok(firstTable > verdict, 'the verdict precedes the first table');
  assert.ok(r.indexOf('copy / corrupt-volume trial 2: 3 files missing after restore') < firstTable, 'reasons precede the tables');
  assert.ok(r.indexOf('restic / no-fault: Backup time +100%') < firstTable);
  // Section order of the brief.
  const order = ['## Summary', '```mermaid', '## Faults', '## Integrity', '## Resources', '## Recovery (RTO / RPO)', '## Tools', 'Per-trial results', 'How to read this report'];
  const at = order.map((s) => r.indexOf(s));
  assert.ok(at.every((i) => i > 0), `all sections present: ${order.filter((_, i) => at[i]! < 0)}`);
  assert.deepEqual([...at].sort((a, b) => a - b), at, 'sections in order');
  assertWellFormedTables(r);
  assert.ok(r.endsWith('\n') && !r.endsWith('\n\n'));
});

test('a passing run shows ✅ pass and the baseline notice', () => {
  const { base } = scenario();
  const cur = results({ trials: timed('restic', 'no-fault', [1200, 1205, 1195]) });
  const r = render(cur, { ...base, notice: 'skipped 1 unreadable history file in x: y.json (EACCES)' });
  assert.match(r, /^## ✅ pass$/m);
  assert.ok(!r.includes('❌ fail'));
  assert.match(r, /Compared with 1 earlier run from history/);
  assert.match(r, /> Baseline: skipped 1 unreadable history file in x: y\.json \(EACCES\)/);
  assert.ok(r.indexOf('## ✅ pass') < r.indexOf('Baseline: skipped'));
});

test('without a baseline the report says so and metrics are new', () => {
  const cur = results({ trials: timed('restic', 'no-fault', [1200, 1205, 1195]) });
  const r = render(cur, { runs: [], source: 'none', notice: 'no baseline configured (compare.baseline.source: none)' });
  assert.match(r, /No baseline to compare with/);
  assert.match(r, /\| restic \| no-fault \| ✅ ok \| 3\/3 \| 1.20 s \| new \| 600 ms \| new \|/);
  assert.match(r, /no baseline configured/);
});

test('the summary row shows medians, the change with its interval and p', () => {
  const { cur, base } = scenario();
  const r = render(cur, base);
  const row = r.split('\n').find((l) => l.startsWith('| restic | no-fault |'));
  assert.ok(row);
  assert.match(row, /^\| restic \| no-fault \| 🔺 regression \| 3\/3 \| 2\.40 s \| 🔺 \+100% \(×\d\.\d\d–×\d\.\d\d, p=0\.1\) \| 1\.20 s \|/);
  const failed = r.split('\n').find((l) => l.startsWith('| copy | corrupt-volume |'));
  assert.match(failed ?? '', /❌ data loss/);
});

test('the Mermaid chart is present and well-formed', () => {
  const { cur, base } = scenario();
  const r = render(cur, base);
  const m = r.match(/```mermaid\n([\s\S]*?)\n```/);
  assert.ok(m, 'a mermaid block');
  const lines = m[1]!.split('\n');
  assert.equal(lines[0], 'xychart-beta');
  assert.match(lines[1]!, /^ {4}title "Median backup and restore time \(no-fault\)"$/);
  const x = lines[2]!.match(/^ {4}x-axis \[(.*)\]$/);
  assert.ok(x);
  const labels = [...x[1]!.matchAll(/"([^"]*)"/g)].map((g) => g[1]);
  assert.deepEqual(labels, ['restic backup', 'restic restore', 'copy backup', 'copy restore']);
  const y = lines[3]!.match(/^ {4}y-axis "seconds" 0 --> ([\d.]+)$/);
  assert.ok(y);
  const bar = lines[4]!.match(/^ {4}bar \[(.*)\]$/);
  assert.ok(bar);
  const values = bar[1]!.split(', ').map(Number);
  assert.deepEqual(values, [2.4, 1.2, 0.31, 0.15]);
  assert.ok(values.every((v) => v <= Number(y[1])), 'the y range covers the bars');
  assert.equal(lines.length, 5);
});

test('pipes, line breaks and HTML in user strings do not break tables or the page', () => {
  const evil = 're|stic';
  const trials: TrialResult[] = [
    ...timed(evil, 'no-fault', [1000, 1001, 1002]),
    trial({ tool: evil, scenario: 'no-fault', trial: 4, status: 'error', error: 'failed: a|b\nsecond line </details> <script>alert(1)</script>' }),
  ];
  const cur = results({ trials, tools: [{ name: evil, type: 'restic', status: 'ok', version: 'restic 0.17 | linux' }] });
  const r = render(cur, { runs: [], source: 'none' });
  assertWellFormedTables(r);
  assert.ok(r.includes('| re\\|stic | no-fault |'), 'the pipe is escaped in the cell');
  assert.ok(!r.includes('<script>'), 'HTML is escaped');
  assert.equal(r.split('</details>').length, r.split('<details>').length);
  const summary = tables(r)[0]!;
  assert.equal(cellSeparators(summary[2]!), 11, 'ten cells in the summary row');
  // The chart label is sanitised too.
  assert.match(r, /x-axis \["re_stic backup", "re_stic restore"\]/);
});

test('the report stays under maxChars with 400 trials, cutting per-trial details first', () => {
  const tools = ['restic', 'kopia', 'copy', 'velero-fs'];
  const scenarios = ['no-fault', 'crash-backup', 'outage', 'corrupt-volume', 'corrupt-repository'];
  const trials: TrialResult[] = [];
  for (const tool of tools) {
    for (const sc of scenarios) {
      for (let i = 1; i <= 20; i++) {
        const failed = sc === 'corrupt-volume' && tool === 'copy' && i % 5 === 0;
        trials.push(
          trial({
            tool,
            scenario: sc,
            trial: i,
            status: failed ? 'failed' : 'passed',
            backupMs: 1000 + ((i * 37) % 50),
            restoreMs: 500 + ((i * 13) % 40),
            rtoMs: sc === 'no-fault' ? undefined : 2000 + i,
            rpoMs: sc === 'outage' ? 300 + i : undefined,
            fault:
              sc === 'no-fault'
                ? undefined
                : { kind: 'crash', injected: true, description: `SIGKILL ${tool} (pid ${4000 + i}) at ${30 + (i % 7)}% of bytes read during the backup phase`, details: {}, detected: true, recoveryMs: 800 + i },
          }),
        );
      }
    }
  }
  assert.equal(trials.length, 400);
  const cur = results({ trials, scenarios: scenarios.map((name) => ({ name, fault: name === 'no-fault' ? 'none' : 'crash' })) });
  const base = { runs: [results({ trials })], source: 'history' };

  const big = render(cur, base, { maxChars: 65000 });
  assert.ok(big.length <= 65000, `${big.length} characters`);
  assert.match(big, /per-trial rows of passed trials/);
  assert.match(big, /The full data is in the results JSON/);
  assert.match(big, /## Summary/);
  assert.match(big, /## Resources/, 'whole tables survive when dropping passed trial rows is enough');
  assertWellFormedTables(big);

  for (const maxChars of [20000, 8000, 3000, 1000]) {
    const r = render(cur, base, { maxChars });
    assert.ok(r.length <= maxChars, `${r.length} > ${maxChars}`);
    assert.equal(r.split('\n')[0], MARKER);
    assert.match(r, /## ❌ fail/);
    assert.match(r, /results JSON/);
    assertWellFormedTables(r);
  }
  const small = render(cur, base, { maxChars: 8000 });
  assert.ok(!small.includes('Per-trial results'), 'per-trial details are gone before other tables');
  assert.match(small, /per-trial details/);
  // Unlimited: nothing is cut.
  const full = render(cur, base, { maxChars: 1_000_000 });
  assert.ok(full.length > 65000);
  assert.ok(!full.includes('results JSON'));
  assert.match(full, /Per-trial results \(400 of 400 trials\)/);
});

test('a template override replaces the main template and keeps helpers and partials', () => {
  const { cur, base } = scenario();
  const template = 'CUSTOM {{verdict.word}} for {{md title}} ({{ms 1210}}, {{pct stats.threshold}})\n\n{{{summaryTable}}}\n\n{{> footnote}}\n';
  const r = render(cur, base, { template });
  assert.equal(r.split('\n')[0], MARKER, 'the marker is still first');
  assert.equal(r.split('\n')[1], 'CUSTOM fail for pvbench: default (1.21 s, 10%)');
  assert.match(r, /\| restic \| no-fault \|/);
  assert.match(r, /Mann–Whitney U/);
  assert.ok(!r.includes('## Faults'));
});

test('templates are found from the module, or from PVBENCH_TEMPLATES', async (t) => {
  assert.match(findTemplatesDir(), /templates$/);
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-tpl-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'partials'));
  await writeFile(join(dir, 'report.md.hbs'), 'FROM DIR {{> extra}}\n');
  await writeFile(join(dir, 'partials', 'extra.hbs'), 'partial {{verdict.word}}');
  const { cur, base } = scenario();
  assert.equal(render(cur, base, { templatesDir: dir, marker: undefined }), 'FROM DIR partial fail\n');
  const saved = process.env.PVBENCH_TEMPLATES;
  process.env.PVBENCH_TEMPLATES = dir;
  try {
    assert.equal(findTemplatesDir(), dir);
    assert.equal(render(cur, base, { marker: undefined }), 'FROM DIR partial fail\n');
  } finally {
    if (saved === undefined) delete process.env.PVBENCH_TEMPLATES;
    else process.env.PVBENCH_TEMPLATES = saved;
  }
});

test('the same input renders the same report', () => {
  const { cur, base } = scenario();
  assert.equal(render(cur, base), render(cur, base));
  assert.equal(render(cur, base, { maxChars: 3000 }), render(cur, base, { maxChars: 3000 }));
});

test('an interrupted run and skipped tools are shown', () => {
  const cur = results({
    complete: false,
    trials: timed('restic', 'no-fault', [1000, 1001]),
    tools: [
      { name: 'restic', type: 'restic', status: 'ok', version: 'restic 0.17.3' },
      { name: 'kopia', type: 'kopia', status: 'skipped', reason: 'kopia is not on PATH' },
    ],
  });
  const r = render(cur, { runs: [], source: 'none' });
  assert.match(r, /This run was interrupted/);
  assert.match(r, /\| kopia \| kopia \| ➖ skipped \| kopia is not on PATH \|/);
  assert.match(r, /\| restic \| restic \| ✅ ran \| restic 0\.17\.3 \|/);
});

test('a fault that was not injected reads "not injected" in the summary, the fault table and the trials, never ✅ ok', () => {
  const cur = results({
    trials: [
      trial({ tool: 'copy', scenario: 'crash-backup', trial: 1, fault: { kind: 'crash', injected: true, description: 'SIGKILL at 31%', details: {} } }),
      trial({
        tool: 'copy',
        scenario: 'crash-backup',
        trial: 2,
        status: 'not-injected',
        error: 'the crash fault was not injected (no crash injected): this trial measured nothing about recovery from it',
        fault: { kind: 'crash', injected: false, description: 'no crash injected', details: {} },
      }),
    ],
  });
  const r = render(cur, { runs: [], source: 'none' });
  assert.match(r, /1 fault not injected/);
  assert.match(r, /\| copy \| crash-backup \|[^\n]*⚠️ not injected/);
  assert.doesNotMatch(r, /\| copy \| crash-backup \|[^\n]*✅ ok/);
  assert.match(r, /\| copy \| crash-backup \| crash \| 1\/2 \|[^\n]*\| 1 recovered, 1 not injected \|/);
  assert.match(r, /\| copy \| crash-backup \| 2 \| ⚠️ not-injected \|/);
});

test("the tools table says how restic's key is derived and what one derivation costs", () => {
  const cur = results({
    trials: timed('restic', 'no-fault', [1000, 1001]),
    tools: [
      { name: 'restic', type: 'restic', status: 'ok', version: '0.14.0', keyDerivation: { mode: 'fixed', kdf: 'scrypt', N: 16384, r: 8, p: 1, ms: 37.4 } },
      { name: 'restic-cal', type: 'restic', status: 'ok', version: '0.14.0', keyDerivation: { mode: 'calibrated', kdf: 'scrypt', N: 32768, r: 8, p: 5, ms: 381.6 } },
    ],
  });
  const r = render(cur, { runs: [], source: 'none' });
  assert.match(r, /\| restic \| restic \| ✅ ran \| 0\.14\.0 · key derivation scrypt N=16384,r=8,p=1 \(fixed\): 37 ms per derivation \|/);
  assert.match(r, /\| restic-cal \| restic \| ✅ ran \| 0\.14\.0 · key derivation scrypt N=32768,r=8,p=5 \(calibrated\): 382 ms per derivation \|/);
});

test('detection power: the run-level line under the baseline, and per metric the smallest p and the smallest detectable regression', () => {
  const base = results({ trials: timed('restic', 'no-fault', [800, 1000, 1200]) });
  const cur = results({ trials: timed('restic', 'no-fault', [900, 1000, 1100]) });
  const b: BaselineInput = { runs: [base], source: 'history' };
  const c = compare(cur, b, config());
  const r = render(cur, b);
  const line = r.split('\n').find((l) => l.startsWith('**Detection power:**'));
  assert.equal(line, `**Detection power:** ${c.power!.line}`);
  assert.ok(r.indexOf('Compared with 1 earlier run') < r.indexOf('**Detection power:**'));
  assert.match(r, /<summary>Detection power per metric \(5 metrics\)<\/summary>/);
  assert.match(r, /\| Tool \| Scenario \| Metric \| Trials \(this run vs baseline\) \| Baseline noise \(CV\) \| Smallest possible p \| Threshold \| Smallest detectable regression \|/);
  assert.match(r, /\| restic \| no-fault \| Backup time \| 3 vs 3 \| 20% \| 0\.1 \| \+10% \| \+33% \|/);
  assert.match(r, /\| restic \| no-fault \| Backup peak RSS \| 3 vs 3 \| 0% \| 0\.1 \| \+10% \| \+10% \|/);
  assertWellFormedTables(r);
  // The explanation says what the figure is.
  assert.match(r, /\*\*Smallest detectable regression\*\* \(in \*Detection power per metric\*\) is the smallest change of the median this comparison would have flagged, given the spread of this run's trials and the baseline's/);
  // No baseline: no line, no table.
  const none = render(cur, { runs: [], source: 'none' });
  assert.ok(!none.includes('**Detection power:**'));
  assert.ok(!none.includes('Detection power per metric ('));
});

test('the gates: the verdict names each threshold; a change with no spread on either side says so', () => {
  const MiB = 1024 * 1024;
  const base = results({ trials: timed('restic', 'no-fault', [1000, 1010, 990], { repoBytes: 30 * MiB }) });
  const cur = results({ trials: timed('restic', 'no-fault', [1000, 1010, 990], { repoBytes: 31 * MiB }) });
  const r = render(cur, { runs: [base], source: 'history' });
  assert.match(r, /^## ❌ fail$/m);
  assert.match(r, /^- restic \/ no-fault: Repository size \+3\.3% \(median 30\.0 MiB → 31\.0 MiB, threshold \+2%, no spread: every trial 31\.0 MiB, every baseline trial 30\.0 MiB, so the threshold alone decides\)$/m);
  const gates = r.split('\n').find((l) => l.startsWith('_Gates:'));
  assert.equal(
    gates,
    '_Gates: a median worse by more than +10% is a regression for Backup time, Incremental backup time, Restore time, Backup CPU, Backup peak RSS, RTO and RPO, by more than +2% for Repository size; with no spread on either side the threshold alone decides, without a p-value._',
  );
  assert.ok(r.indexOf('## ❌ fail') < r.indexOf('_Gates:') && r.indexOf('_Gates:') < r.indexOf('## Summary'));
  assert.match(r, /\| restic \| no-fault \| Repository size \| 3 vs 3 \| 0% \| 0\.1 \| \+2% \| \+2% \|/);
  assert.match(r, /\*\*Near-deterministic metrics\*\* \(Backup bytes written, Repository size\) are held to compare\.deterministicThreshold/);
});

test('deltaText: a zero-spread change shows "no spread" instead of an interval and p', () => {
  const m = {
    metric: 'backup.wallMs' as const,
    label: 'Backup time',
    unit: 'ms' as const,
    current: { n: 2, median: 1300, values: [1300, 1300] },
    baseline: { n: 2, median: 1000 },
    ratio: 1.3,
    ci: [1.3, 1.3] as [number, number],
    status: 'regression' as const,
    rule: 'zero-spread' as const,
  };
  assert.equal(deltaText(m), '🔺 +30% (no spread)');
});

test('recovery: the RTO / RPO table shows writes lost and its change; the gates name the recovery thresholds', () => {
  const out = (rows: [number, number, number][]) =>
    rows.map(([rto, rpo, lost], i) =>
      trial({ tool: 'restic', scenario: 'outage', trial: i + 1, rtoMs: rto, rpoMs: rpo, fault: { kind: 'outage', injected: true, description: 'killed', details: { writesLost: lost }, detected: true } }),
    );
  const base = results({ trials: out([[2000, 300, 40], [2010, 310, 44], [1990, 305, 42]]), scenarios: [{ name: 'outage', fault: 'outage' }] });
  const cur = results({ trials: out([[2005, 300, 90], [2015, 310, 94], [1995, 305, 92]]), scenarios: [{ name: 'outage', fault: 'outage' }] });
  const cfg = config({ metrics: ['restore.wallMs', 'rtoMs', 'rpoMs', 'writesLost'], thresholds: { rtoMs: 0.3, rpoMs: 0.5, writesLost: 0.5 } });
  const b: BaselineInput = { runs: [base], source: 'history' };
  const r = renderReport({ results: cur, comparison: compare(cur, b, cfg), title: 't', maxChars: 65000 });
  assert.match(r, /\| Tool \| Scenario \| RTO \(median\) \| RTO \(max\) \| Δ RTO \| RPO \(median\) \| RPO \(max\) \| Δ RPO \| Writes lost \(median\) \| Writes lost \(max\) \| Δ writes lost \|/);
  assert.match(r, /\| restic \| outage \| 2\.00 s \| 2\.02 s \| \+0\.2% \(×[\d.]+–×[\d.]+, p=[\d.]+\) \| 305 ms \| 310 ms \| ±0% [^|]*\| 92 \| 94 \| 🔺 \+119% \(×[\d.]+–×[\d.]+, p=0\.1\) \|/);
  assert.match(r, /^_Gates: a median worse by more than \+10% is a regression for Restore time, by more than \+30% for RTO, by more than \+50% for RPO and Writes lost; /m);
  assertWellFormedTables(r);
});

test('noise measured: the detection power table shows the baseline\'s coefficient of variation, of its trials and between its runs', () => {
  const b1 = results({ id: 'b1', startedAt: '2025-01-01T00:00:00.000Z', trials: timed('restic', 'no-fault', [1000, 1100, 900]) });
  const b2 = results({ id: 'b2', startedAt: '2025-01-02T00:00:00.000Z', trials: timed('restic', 'no-fault', [1150, 1250, 1050]) });
  const cur = results({ trials: timed('restic', 'no-fault', [1000, 1010, 990]) });
  const r = render(cur, { runs: [b1, b2], source: 'history' });
  assert.match(r, /\| Tool \| Scenario \| Metric \| Trials \(this run vs baseline\) \| Baseline noise \(CV\) \| Smallest possible p \| Threshold \| Smallest detectable regression \|/);
  assert.match(r, /\| restic \| no-fault \| Backup time \| 3 vs 6 \| 11% \(between runs 9\.9%\) \| 0\.024 \| \+10% \| \+[\d.]+% \|/);
  // Repository size is the same in every trial: no noise.
  assert.match(r, /\| restic \| no-fault \| Repository size \| 3 vs 6 \| 0% \(between runs 0%\) \|/);
  assert.match(r, /\*\*Baseline noise \(CV\)\*\* is the coefficient of variation/);
  assertWellFormedTables(r);
});

test('trends: level shifts in the history are a section of their own, naming the run where each started', () => {
  const levels = [1000, 1010, 990, 1005, 995, 1000, 1008, 1300, 1310, 1290, 1305, 1295];
  const runs = levels.map((level, i) =>
    results({ id: `r${String(i + 1).padStart(2, '0')}`, startedAt: `2025-01-${String(i + 1).padStart(2, '0')}T00:00:00.000Z`, trials: timed('restic', 'no-fault', [level * 0.99, level, level * 1.01]) }),
  );
  const cur = results({ id: 'now', startedAt: '2025-02-01T00:00:00.000Z', trials: timed('restic', 'no-fault', [1300, 1310, 1290]) });
  const b: BaselineInput = { runs, source: 'history' };
  const r = renderReport({ results: cur, comparison: compare(cur, b, config({ baseline: { source: 'history', maxRuns: 20 } })), title: 't', maxChars: 65000 });
  assert.match(r, /^## Trends$/m);
  assert.match(r, /^Level shifts in the history of up to 13 runs \(3 of 5 series\), found by E-divisive means with a permutation test; they do not change the verdict\.$/m);
  assert.match(r, /\| Tool \| Scenario \| Metric \| Level shift \| Since \| Median before → after \| p \|/);
  assert.match(r, /\| restic \| no-fault \| Backup time \| 🔺 \+30% \| run r08 \(2025-01-08, 0123456\) \| 1\.00 s → 1\.30 s \| p=0\.005 \|/);
  assert.ok(r.indexOf('## Recovery') < 0 || r.indexOf('## Recovery') < r.indexOf('## Trends'));
  assert.ok(r.indexOf('## Trends') < r.indexOf('## Tools'));
  assertWellFormedTables(r);
  // A flat history says it was searched.
  const flat = runs.map((x, i) => results({ id: x.run.id, startedAt: x.run.startedAt, trials: timed('restic', 'no-fault', [1000 + (i % 3), 1001, 999]) }));
  const r2 = renderReport({ results: cur, comparison: compare(cur, { runs: flat, source: 'history' }, config({ baseline: { source: 'history', maxRuns: 20 } })), title: 't', maxChars: 65000 });
  assert.match(r2, /^No level shift in the history of up to 13 runs \(5 series\), searched by E-divisive means with a permutation test\.$/m);
  // Too short a history: no section.
  assert.ok(!render(cur, { runs: runs.slice(-3), source: 'history' }).includes('## Trends'));
});
