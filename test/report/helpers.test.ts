// The Handlebars helpers custom templates (PVBENCH_TEMPLATES, report.template) can call, each with its exact output
// for representative values and the values a template can pass by mistake; the partials; where templates are found;
// and templateError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createHandlebars, findTemplatesDir, templateError } from '../../src/report/render.ts';

const NO_PARTIALS = join(tmpdir(), 'pvbench-no-such-templates-dir');

/** Renders one template with the helpers (no partials) over `data`. */
function run(source: string, data: Record<string, unknown> = {}): string {
  return createHandlebars(NO_PARTIALS).compile(source, { noEscape: false, strict: false })(data);
}

/** `{{name v}}` for each value, joined by " | ". */
function each(name: string, values: unknown[]): string {
  return run(values.map((_, i) => `{{${name} v${i}}}`).join(' | '), Object.fromEntries(values.map((v, i) => [`v${i}`, v])));
}

test('ms: milliseconds for people; a dash for what is not a number', () => {
  assert.equal(each('ms', [850, 1210, 75_000, 0.5, Number.POSITIVE_INFINITY, '1000', undefined, null]), '850 ms | 1.21 s | 1.25 min | 0.5 ms | ∞ | – | – | –');
});

test('bytes: binary units; a dash for what is not a number', () => {
  assert.equal(each('bytes', [512, 1536, 12.3 * 1024 * 1024, 0, '2048', undefined, true]), '512 B | 1.50 KiB | 12.3 MiB | 0 B | – | – | –');
});

test('delta: a ratio as a signed change; a dash for what is not a number', () => {
  assert.equal(each('delta', [1.84, 0.968, 1, 0.9, Number.POSITIVE_INFINITY, '1.5', undefined]), '+84% | -3.2% | ±0% | -10% | +∞% | – | –');
});

test('ratio: a ratio as a factor; a dash for what is not a number', () => {
  assert.equal(each('ratio', [1.605, 250.4, Number.POSITIVE_INFINITY, '2', undefined]), '×1.60 | ×250 | ×∞ | – | –');
});

test('ci: an interval from a pair; numbers in strings are read; anything else is a dash', () => {
  assert.equal(each('ci', [[1.61, 2.1], ['0.5', '1.25'], [1, 2, 3], [1], 'x', { 0: 1, 1: 2, length: 2 }, undefined]), '×1.61–×2.10 | ×0.50–×1.25 | – | – | – | – | –');
  assert.equal(each('ci', [['a', 2]]), '––×2.00');
});

test('p: two significant digits, a floor of 0.001; a dash for what is not a number', () => {
  assert.equal(each('p', [0.004, 0.0456, 0.0001, 1, '0.5', undefined]), 'p=0.004 | p=0.046 | p<0.001 | p=1 | – | –');
});

test('pct: a fraction as a percentage; a dash for what is not a number', () => {
  assert.equal(each('pct', [0.1, 0.025, 1, 0, '0.1', undefined]), '10% | 2.5% | 100% | 0% | – | –');
});

test('md, cell and html: user text escaped for prose, a table cell and HTML; nothing for undefined and null', () => {
  const text = ' R&D <b>|x|</b> "q" \'s\'\nnext ';
  assert.equal(run('[{{md v}}]', { v: text }), `[R&amp;D &lt;b&gt;|x|&lt;/b&gt; "q" 's' next]`);
  assert.equal(run('[{{cell v}}]', { v: text }), `[R&amp;D &lt;b&gt;\\|x\\|&lt;/b&gt; "q" 's'<br>next]`);
  assert.equal(run('[{{html v}}]', { v: text }), `[ R&amp;D &lt;b&gt;|x|&lt;/b&gt; &quot;q&quot; &#39;s&#39;\nnext ]`);
  for (const name of ['md', 'cell', 'html']) {
    assert.equal(run(`[{{${name} u}}][{{${name} n}}][{{${name} z}}][{{${name} f}}]`, { u: undefined, n: null, z: 0, f: false }), '[][][0][false]', name);
  }
  // Numbers are text too.
  assert.equal(run('{{md 12}} {{cell 3.5}} {{html 7}}'), '12 3.5 7');
});

test('eq: strict equality, for #if', () => {
  assert.equal(run('{{#if (eq a 1)}}one{{else}}other{{/if}} {{#if (eq a "1")}}s{{else}}n{{/if}} {{#if (eq b c)}}same{{else}}differ{{/if}}', { a: 1, b: 'x', c: 'x' }), 'one n same');
  assert.equal(run('{{#if (eq a b)}}same{{else}}differ{{/if}}', { a: {}, b: {} }), 'differ');
});

test('plural: one or many, a given plural form, escaped', () => {
  assert.equal(run('{{plural 1 "trial"}} · {{plural 2 "trial"}} · {{plural 0 "trial"}}'), '1 trial · 2 trials · 0 trials');
  assert.equal(run('{{plural 1 "entry" "entries"}} · {{plural 3 "entry" "entries"}}'), '1 entry · 3 entries');
  // A count from the data, given as a string or a number.
  assert.equal(run('{{plural n "run"}} · {{plural s "run"}} · {{plural s1 "run"}}', { n: 4, s: '2', s1: '1' }), '4 runs · 2 runs · 1 run');
  // A plural that is not a string (a number from the data) falls back to the default; words are escaped.
  assert.equal(run('{{plural 2 "fault" m}} · {{plural 2 w}}', { m: 5, w: '<b>' }), '2 faults · 2 &lt;b&gt;s');
  assert.equal(run('{{plural 1 w}}', { w: 'R&D\nteam' }), '1 R&amp;D team');
});

test('partials: every .hbs file of partials/, by its name; other files and a missing folder are fine', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-helpers-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'partials'));
  await writeFile(join(dir, 'partials', 'a.hbs'), 'A={{x}}');
  await writeFile(join(dir, 'partials', 'b.hbs'), 'B{{> a}}');
  await writeFile(join(dir, 'partials', 'notes.txt'), 'not a partial');
  const hb = createHandlebars(dir);
  assert.equal(hb.compile('{{> b}}|{{> a}}')({ x: 1 }), 'BA=1|A=1');
  assert.deepEqual(Object.keys(hb.partials).sort(), ['a', 'b']);
  assert.deepEqual(Object.keys(createHandlebars(NO_PARTIALS).partials), []);
  // Each instance is isolated: the global Handlebars has none of pvbench's helpers.
  const other = createHandlebars(NO_PARTIALS);
  assert.notEqual(other, hb);
  assert.deepEqual(Object.keys(other.partials), []);
});

test('findTemplatesDir: the shipped templates next to the sources, or PVBENCH_TEMPLATES resolved', () => {
  const saved = process.env.PVBENCH_TEMPLATES;
  try {
    delete process.env.PVBENCH_TEMPLATES;
    assert.equal(findTemplatesDir(), resolve(import.meta.dirname, '../../templates'));
    process.env.PVBENCH_TEMPLATES = '';
    assert.equal(findTemplatesDir(), resolve(import.meta.dirname, '../../templates'));
    process.env.PVBENCH_TEMPLATES = 'some/relative/dir';
    assert.equal(findTemplatesDir(), resolve('some/relative/dir'));
  } finally {
    if (saved === undefined) delete process.env.PVBENCH_TEMPLATES;
    else process.env.PVBENCH_TEMPLATES = saved;
  }
});

test('findTemplatesDir: from a module with no templates/ above it, an error that says where it looked and what to set', async (t) => {
  // The module bundled into a directory outside the checkout, loaded in this process.
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-lost-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { build } = await import('esbuild');
  const outfile = join(dir, 'render.mjs');
  await build({ entryPoints: [resolve(import.meta.dirname, '../../src/report/render.ts')], bundle: true, platform: 'node', format: 'esm', outfile, logLevel: 'silent' });
  const lost = (await import(pathToFileURL(outfile).href)) as typeof import('../../src/report/render.ts');
  const saved = process.env.PVBENCH_TEMPLATES;
  try {
    delete process.env.PVBENCH_TEMPLATES;
    assert.throws(() => lost.findTemplatesDir(), { message: `cannot find templates/report.md.hbs above ${dir}; set PVBENCH_TEMPLATES to the templates directory` });
    process.env.PVBENCH_TEMPLATES = dir;
    assert.equal(lost.findTemplatesDir(), dir);
  } finally {
    if (saved === undefined) delete process.env.PVBENCH_TEMPLATES;
    else process.env.PVBENCH_TEMPLATES = saved;
  }
});

test('templateError: undefined for a template that compiles, the parser message for one that does not', () => {
  assert.equal(templateError('{{#if x}}ok{{/if}} {{md y}}'), undefined);
  assert.equal(templateError(''), undefined);
  const err = templateError('{{#if x}}unclosed');
  assert.equal(typeof err, 'string');
  assert.match(err!, /^Parse error on line 1:\n\{\{#if x\}\}unclosed\n-+\^\nExpecting 'OPEN_INVERSE_CHAIN', 'INVERSE', 'OPEN_ENDBLOCK', got 'EOF'$/);
  assert.equal(templateError('{{#if x}}{{/each}}'), 'if doesn\'t match each - 1:3');
});
