// The projection behind the power line's trial-count suggestion, without the slow simulation (power-sim.test.ts):
// projectedRatio on small samples with a given seed and few resamples, checked against the steps its comment
// documents and against samples whose figure is known by hand; powerSummary's search for the fewest trials with a
// projection given by the test, so that every call and the bisection's path are exact (issue 8: power.ts's mutants
// that only the simulation reached).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metricPower, pValueText, powerSummary, projectedRatio } from '../../src/baseline/power.ts';
import type { PowerSample } from '../../src/baseline/power.ts';
import { detectableRatio, median, mulberry32 } from '../../src/baseline/stats.ts';
import type { DecideOptions } from '../../src/baseline/stats.ts';

const OPTS: DecideOptions = { threshold: 0.1, confidence: 0.95, seed: 3, resamples: 100 };

/** Type 7 quantile, written out: h = (n − 1)·q, linear between the order statistics around h. */
function type7(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (h - lo);
}

/**
 * projectedRatio's documented steps, one by one: the values of both samples over their own medians; a stream per
 * pair of sizes, seeded with seed XOR (trials · 7919 + baselineTrials); per simulated pair `trials` current values,
 * then `baselineTrials` baseline values, each the type-7 quantile of the pool at the next level, times the baseline's
 * median; detectableRatio of each pair with at most 1000 resamples; the median of the figures there are.
 */
function documented(current: number[], baseline: number[], opts: DecideOptions, trials: number, baselineTrials: number, draws: number) {
  const mc = median(current);
  const mb = median(baseline);
  const pool = [...current.map((v) => v / mc), ...baseline.map((v) => v / mb)];
  const rand = mulberry32((opts.seed === undefined ? 0x5eed : opts.seed) ^ (trials * 7919 + baselineTrials));
  const resamples = opts.resamples === undefined || opts.resamples > 1000 ? 1000 : opts.resamples;
  const figures: (number | undefined)[] = [];
  for (let i = 0; i < draws; i++) {
    const cur: number[] = [];
    for (let k = 0; k < trials; k++) cur.push(type7(pool, rand()) * mb);
    const base: number[] = [];
    for (let k = 0; k < baselineTrials; k++) base.push(type7(pool, rand()) * mb);
    figures.push(detectableRatio(cur, base, { ...opts, resamples }));
  }
  const found = figures.filter((f): f is number => f !== undefined);
  return { figures, value: found.length ? median(found) : undefined };
}

test('metricPower: the smallest p always, the detectable figure only when there is one', () => {
  assert.deepStrictEqual(metricPower([1000], [1000, 1010], OPTS), { smallestP: 2 / 3 });
  assert.deepStrictEqual(metricPower([1000, 1000], [1000, 1000], OPTS), { smallestP: 2 / 6, detectable: 1.1 });
});

test('projectedRatio: no figure when a median is not positive', () => {
  const base = [900, 1000, 1100];
  // Current median 0 (drawn relative to it, the values would be infinite) or below 0.
  assert.equal(projectedRatio({ current: [0, 0, 1000], baseline: base, opts: OPTS }, 5, 5), undefined);
  assert.equal(projectedRatio({ current: [-3, -2, -1], baseline: base, opts: OPTS }, 3, 3), undefined);
  // A baseline median below 0: the draws put back at it would be mostly negative, a few large and positive.
  assert.equal(projectedRatio({ current: [900, 1000, 1100], baseline: [-1, -1, 1000], opts: OPTS }, 2, 2), undefined);
});

test('projectedRatio: samples without spread project exactly the threshold, or the noise floor at the baseline median', () => {
  assert.equal(projectedRatio({ current: [1000, 1000, 1000], baseline: [1000, 1000], opts: OPTS }, 6, 4), 1.1);
  // Current at 500 and baseline at 2000: the draws are at 2000, where a floor of 300 is +15%.
  assert.equal(projectedRatio({ current: [500, 500], baseline: [2000, 2000, 2000], opts: { ...OPTS, minDelta: 300 } }, 3, 3), 1.15);
  // One simulated pair, or two: still that figure (the median of the figures found and nothing else).
  assert.equal(projectedRatio({ current: [1000, 1000], baseline: [1000, 1000], opts: { ...OPTS, minDelta: 200 } }, 2, 2, 1), 1.2);
  assert.equal(projectedRatio({ current: [1000, 1000], baseline: [1000, 1000], opts: { ...OPTS, minDelta: 200 } }, 2, 2, 2), 1.2);
});

test('projectedRatio: exactly the documented steps, for several sizes, draws, seeds and resample counts', () => {
  const current = [1204, 1534, 962];
  const baseline = [1152, 1073, 1028, 1300];
  const cases: [DecideOptions, number, number, number][] = [
    [OPTS, 3, 3, 1],
    [OPTS, 4, 6, 2],
    [OPTS, 6, 3, 3],
    [{ ...OPTS, seed: 11, minDelta: 50 }, 5, 10, 9],
    [{ threshold: 0.05, confidence: 0.9, seed: 5, resamples: 40 }, 8, 4, 4],
    [{ threshold: 0.02, confidence: 0.95, seed: 9, resamples: 30 }, 10, 10, 3],
  ];
  for (const [opts, t, b, draws] of cases) {
    const want = documented(current, baseline, opts, t, b, draws);
    assert.equal(projectedRatio({ current, baseline, opts }, t, b, draws), want.value, `${t} vs ${b}, ${draws} draws, seed ${opts.seed}`);
  }
  // 2 vs 3 against 3 vs 2: each pair of sizes has its own stream.
  assert.notEqual(projectedRatio({ current, baseline, opts: OPTS }, 2, 3, 1), projectedRatio({ current, baseline, opts: OPTS }, 3, 2, 1));
});

test('projectedRatio: the default seed is 0x5eed; resamples are capped at 1000, the default', () => {
  const current = [1204, 1534, 962];
  const baseline = [1152, 1073, 1028];
  // 10 against 10 with a threshold of 2%: the bootstrap's bound decides, so the resamples count.
  const at = (opts: DecideOptions) => projectedRatio({ current, baseline, opts }, 10, 10, 3);
  const plain = { threshold: 0.02, confidence: 0.95 };
  assert.equal(at(plain), at({ ...plain, seed: 0x5eed }));
  assert.notEqual(at(plain), at({ ...plain, seed: 1 }));
  assert.equal(at({ ...plain, resamples: 5000 }), at({ ...plain, resamples: 1000 }));
  assert.equal(at({ ...plain, resamples: 5000 }), at(plain));
  assert.equal(at(plain), documented(current, baseline, plain, 10, 10, 3).value);
  assert.equal(at({ ...plain, resamples: 30 }), documented(current, baseline, { ...plain, resamples: 30 }, 10, 10, 3).value);
  assert.notEqual(at({ ...plain, resamples: 30 }), at(plain));
});

test('projectedRatio: simulated pairs without a figure (a drawn median of 0) are left out of the median', () => {
  // A third of the pool is 0: some drawn pairs have a median of 0 and no figure.
  const current = [0, 1000, 1000];
  const baseline = [0, 0, 1000, 1000, 1000];
  const want = documented(current, baseline, OPTS, 2, 2, 9);
  const missing = want.figures.filter((f) => f === undefined).length;
  assert.ok(missing > 0 && missing < 9, `pairs without a figure: ${missing}`);
  assert.equal(projectedRatio({ current, baseline, opts: OPTS }, 2, 2, 9), want.value);
  // Figures 1.1 (four times), 1.1044…, 2.09…, ∞ twice and one pair without a figure: the median of the 8 is
  // halfway between 1.1 and 1.1044…, where 9 values would have it at 1.1044… itself.
  const noisy = { current: [0, 900, 1000, 1100], baseline: [0, 0, 950, 1000, 1080], opts: { ...OPTS, seed: 4 } };
  const w = documented(noisy.current, noisy.baseline, noisy.opts, 3, 3, 9);
  assert.equal(w.figures.filter((f) => f === undefined).length, 1);
  assert.equal(w.figures.filter((f) => f === Number.POSITIVE_INFINITY).length, 2);
  assert.equal(w.value, (1.1 + w.figures[3]!) / 2);
  assert.equal(projectedRatio(noisy, 3, 3, 9), w.value);
  // Only 1 trial per run: no pair has a figure.
  assert.equal(projectedRatio({ current, baseline, opts: OPTS }, 1, 3), undefined);
});

test('pValueText: "<0.001" only below 0.001, else two significant digits', () => {
  assert.equal(pValueText(0.001), '0.001');
  assert.equal(pValueText(0.000999), '<0.001');
  assert.equal(pValueText(0.012345), '0.012');
  assert.equal(pValueText(0.1), '0.1');
});

// powerSummary's search with a projection given by the test: a figure per trial count, every call recorded.
const sample = (n: number, m: number, detectable: number, opts: DecideOptions = OPTS): PowerSample => ({
  current: Array.from({ length: n }, (_, i) => 1000 + i),
  baseline: Array.from({ length: m }, (_, i) => 1000 + i),
  opts,
  detectable,
});

function projection(figure: (trials: number) => number | undefined) {
  const calls: [number, number][] = [];
  const project = (_s: PowerSample, trials: number, baselineTrials: number) => {
    calls.push([trials, baselineTrials]);
    return figure(trials);
  };
  return { calls, project };
}

test('powerSummary: the fewest trials that come near the limit, by bisection over 5..30 for a run of 4 against 8', () => {
  // Limit +10%: near is within +12.5%. 1 + 1/t is near from 8 trials on (1.125).
  const p = projection((t) => 1 + 1 / t);
  const s = powerSummary([sample(4, 8, 1.5)], 0.95, 'baseline', p.project)!;
  assert.deepStrictEqual(s.suggestion, { trials: 8, detectable: 1.125, reached: true });
  // Candidates 5 6 8 10 12 15 20 25 30: the top, then the middles 12 (near), 8 (near), 6 (not); twice the baseline
  // trials each; 8 is asked once.
  assert.deepStrictEqual(p.calls, [[30, 60], [12, 24], [8, 16], [6, 12]]);
  assert.equal(
    s.line,
    'With 4 trials against 8, changes below ~50% cannot be detected (the median of 1 compared metric; the smallest possible p is 0.004); run 8 trials to see ~13%.',
  );
});

test('powerSummary: near already at the fewest candidate trials; the baseline trials follow the ratio, at least 2', () => {
  const p = projection(() => 1.05);
  const s = powerSummary([sample(3, 2, 1.5)], 0.95, 'baseline', p.project)!;
  assert.deepStrictEqual(s.suggestion, { trials: 4, detectable: 1.05, reached: true });
  // Candidates 4 5 6 8 10 12 15 20 25 30, each near: 30, 10, 6, 5, 4 asked; 2/3 of the trials, rounded (10 → 6.67 → 7,
  // 5 → 3.33 → 3, 4 → 2.67 → 3).
  assert.deepStrictEqual(p.calls, [[30, 20], [10, 7], [6, 4], [5, 3], [4, 3]]);
  const few = projection(() => 1.05);
  powerSummary([sample(20, 1, 1.5)], 0.95, 'baseline', few.project);
  // 1/20 of 30 is 1.5 → 2, of 25 is 1.25 → 1: never below 2.
  assert.deepStrictEqual(few.calls, [[30, 2], [25, 2]]);
});

test('powerSummary: a projection exactly at a quarter above the limit is near', () => {
  // Threshold 0.5: limit 1.5, near up to 1.625 (both exact in binary).
  const p = projection((t) => (t >= 20 ? 1.625 : 1.7));
  const s = powerSummary([sample(4, 4, 2, { ...OPTS, threshold: 0.5 })], 0.95, 'baseline', p.project)!;
  assert.deepStrictEqual(s.suggestion, { trials: 20, detectable: 1.625, reached: true });
  // A detectable figure of exactly 1.625 is near the limit itself: no search.
  const q = projection(() => 1.1);
  const at = powerSummary([sample(4, 4, 1.625, { ...OPTS, threshold: 0.5 })], 0.95, 'baseline', q.project)!;
  assert.equal(at.suggestion, undefined);
  assert.deepStrictEqual(q.calls, []);
  assert.match(at.line, /; that is what the threshold and the noise floor allow, not the noise/);
});

test('powerSummary: a candidate without a figure counts as not near', () => {
  const p = projection((t) => (t === 12 ? undefined : t >= 8 ? 1.1 : 1.5));
  const s = powerSummary([sample(4, 4, 1.5)], 0.95, 'baseline', p.project)!;
  // 30 near; 12 no figure → above it; 20 near; 15 near: 15.
  assert.deepStrictEqual(p.calls, [[30, 30], [12, 12], [20, 20], [15, 15]]);
  assert.deepStrictEqual(s.suggestion, { trials: 15, detectable: 1.1, reached: true });
});

test('powerSummary: even the most trials are not near; no figure for them; no candidate above the run', () => {
  const far = projection(() => 3);
  const s = powerSummary([sample(4, 4, 4)], 0.95, 'baseline', far.project)!;
  assert.deepStrictEqual(s.suggestion, { trials: 30, detectable: 3, reached: false });
  assert.deepStrictEqual(far.calls, [[30, 30]]);
  assert.equal(
    s.line,
    'With 4 trials against 4, changes below ~300% cannot be detected (the median of 1 compared metric; the smallest possible p is 0.029); even 30 trials would only see ~200%.',
  );
  const none = projection(() => undefined);
  const n = powerSummary([sample(4, 4, 4)], 0.95, 'baseline', none.project)!;
  assert.equal(n.suggestion, undefined);
  assert.deepStrictEqual(none.calls, [[30, 30]]);
  assert.equal(n.line, 'With 4 trials against 4, changes below ~300% cannot be detected (the median of 1 compared metric; the smallest possible p is 0.029).');
  const most = projection(() => 1.01);
  const m = powerSummary([sample(30, 30, 4)], 0.95, 'baseline', most.project)!;
  assert.equal(m.suggestion, undefined);
  assert.deepStrictEqual(most.calls, []);
});

test('powerSummary: the smallest p equal to α has no clause of its own; two near-deterministic labels are listed', () => {
  // 3 vs 3: smallest p 0.1; confidence 0.9: α = 0.1.
  const s = powerSummary([sample(3, 3, 1.1)], 0.9)!;
  assert.equal(
    s.line,
    'With 3 trials against 3, changes below ~10% cannot be detected (the median of 1 compared metric; the smallest possible p is 0.1); that is what the threshold and the noise floor allow, not the noise, so more trials would not lower it.',
  );
  const two = powerSummary(
    [sample(3, 3, 1.1), { ...sample(3, 3, 1.002), deterministic: true, label: 'Repository size' }, { ...sample(3, 3, 1.004), deterministic: true, label: 'Files' }],
    0.9,
  )!;
  assert.match(two.line, / For the near-deterministic metrics \(repository size, files\) changes below ~0\.3% cannot be detected \(the median of 2\)\.$/);
});
