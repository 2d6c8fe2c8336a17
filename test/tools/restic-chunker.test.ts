// restic's chunker polynomial (issue 8/9: a run compared with an identical one showed "Repository size +11%"):
// pvbench gives every restic repository the same one, so the same workload is cut into the same chunks in every run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chunkerPolynomial, degree, FIXED_CHUNKER_POLYNOMIAL, irreducible, polGcd, polMulMod, readChunkerPolynomial } from '../../src/tools/restic-chunker.ts';
import { runProcess, runs } from '../helpers/process.ts';

const hasRestic = runs('restic', ['version']);
const CLI = resolve(import.meta.dirname, '../../src/cli/index.ts');

test('irreducibility over GF(2) on polynomials whose factors are known', () => {
  assert.equal(irreducible(0b10n), true); // x
  assert.equal(irreducible(0b11n), true); // x + 1
  assert.equal(irreducible(0b111n), true); // x² + x + 1
  assert.equal(irreducible(0b101n), false); // x² + 1 = (x + 1)²
  assert.equal(irreducible(0b10011n), true); // x⁴ + x + 1
  assert.equal(irreducible(0b10101n), false); // x⁴ + x² + 1 = (x² + x + 1)²
  assert.equal(irreducible(0b1011n), true); // x³ + x + 1
  assert.equal(irreducible(0b1n), false); // a constant
  // The product of two irreducible polynomials of degree 26 and 27 (a degree-53 candidate restic would refuse).
  const a = chunkerPolynomial(1) >> 27n; // some degree-26 polynomial, made odd below, not necessarily irreducible
  let f26 = a | 1n;
  while (!irreducible(f26)) f26 += 2n;
  let f27 = (1n << 27n) | 1n;
  while (!irreducible(f27)) f27 += 2n;
  let product = 0n;
  for (let i = 0n; f27 >> i; i++) if ((f27 >> i) & 1n) product ^= f26 << i;
  assert.equal(degree(product), 53);
  assert.equal(irreducible(product), false);
  assert.equal(polGcd(product, f26), f26);
  assert.equal(polMulMod(0b11n, 0b11n, 0b111n), 0b10n); // (x+1)² = x² + 1 ≡ x mod x² + x + 1
});

test("pvbench's chunker polynomial: degree 53, irreducible, the same on every call, another for another seed", () => {
  const p = BigInt(`0x${FIXED_CHUNKER_POLYNOMIAL}`);
  assert.equal(degree(p), 53);
  assert.equal(irreducible(p), true);
  assert.equal(chunkerPolynomial().toString(16), FIXED_CHUNKER_POLYNOMIAL);
  assert.equal(FIXED_CHUNKER_POLYNOMIAL, '39219265cd7c63');
  assert.notEqual(chunkerPolynomial(7).toString(16), FIXED_CHUNKER_POLYNOMIAL);
});

test('the polynomials restic itself draws pass the irreducibility test', { skip: !hasRestic && 'restic is not installed' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-chunker-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (let i = 0; i < 3; i++) {
    const repo = join(dir, `r${i}`);
    const r = await runProcess('restic', ['init', '--repo', repo], { env: { ...process.env, RESTIC_PASSWORD: 'pw' }, timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const p = BigInt(`0x${await readChunkerPolynomial(repo, 'pw')}`);
    assert.equal(degree(p), 53);
    assert.equal(irreducible(p), true, p.toString(16));
  }
});

const SUITE = (chunker: string) => `name: chunker
trials: 1
workload: { proxies: 3, accessLogLines: 6000, statsSnapshots: 3 }
tools: [{ type: restic, options: { chunker: ${chunker} } }]
scenarios: [{ name: no-fault }]
compare: { baseline: { source: none } }
`;

interface Out {
  tools: { chunker?: { mode: string; polynomial: string }; lockWait?: { ms: number; pairs: number } }[];
  trials: { status: string; repository?: { sizeBytes: number }; incremental?: { bytesWritten: number } }[];
}

async function twoRuns(dir: string, chunker: string): Promise<Out[]> {
  await writeFile(join(dir, `${chunker}.yaml`), SUITE(chunker));
  const out: Out[] = [];
  for (const n of [1, 2]) {
    const r = await runProcess(process.execPath, [CLI, 'run', join(dir, `${chunker}.yaml`), '--output', join(dir, `${chunker}-${n}`)], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    out.push(JSON.parse(await readFile(join(dir, `${chunker}-${n}`, 'results.json'), 'utf8')) as Out);
  }
  return out;
}

test('two runs of the same suite: the same chunks, so the same bytes added and the same repository size; with chunker: random, not', { skip: !hasRestic && 'restic is not installed', timeout: 300_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pvbench-chunker-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const [a, b] = await twoRuns(dir, 'fixed');
  for (const r of [a!, b!]) assert.deepEqual(r.tools[0]?.chunker, { mode: 'fixed', polynomial: FIXED_CHUNKER_POLYNOMIAL });
  // The run records restic's lock wait (its 200 ms sleep, measured on the template) beside the chunker.
  for (const r of [a!, b!]) assert.ok(r.tools[0]?.lockWait && r.tools[0].lockWait.ms >= 100 && r.tools[0].lockWait.ms < 450, JSON.stringify(r.tools[0]?.lockWait));
  const [ta, tb] = [a!.trials[0]!, b!.trials[0]!];
  assert.equal(ta.status, 'passed');
  assert.equal(tb.status, 'passed');
  // Snapshot files carry times and ids: a few bytes apart. The data added by the incremental backup: the same.
  assert.ok(Math.abs(ta.repository!.sizeBytes - tb.repository!.sizeBytes) <= 512, `repository ${ta.repository!.sizeBytes} vs ${tb.repository!.sizeBytes}`);
  assert.ok(Math.abs(ta.incremental!.bytesWritten - tb.incremental!.bytesWritten) <= 64, `incremental added ${ta.incremental!.bytesWritten} vs ${tb.incremental!.bytesWritten}`);

  const [c, d] = await twoRuns(dir, 'random');
  assert.equal(c!.tools[0]?.chunker?.mode, 'random');
  assert.notEqual(c!.tools[0]?.chunker?.polynomial, d!.tools[0]?.chunker?.polynomial);
  assert.notEqual(c!.tools[0]?.chunker?.polynomial, FIXED_CHUNKER_POLYNOMIAL);
});
