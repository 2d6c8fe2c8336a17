// The detectable ratio as a promise about decide, by simulation: shifts well above the figure a run reports are
// flagged in most runs, shifts well below it almost never. Slow (thousands of decisions), and left out of mutation runs
// of other subjects (stryker.config.mjs); the exact tests of the figure are in power.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, detectableRatio, median, mulberry32 } from '../../src/baseline/stats.ts';
import type { DecideOptions } from '../../src/baseline/stats.ts';

const OPTS: DecideOptions = { threshold: 0.1, confidence: 0.95, seed: 7 };

function noise(rand: () => number, n: number, sigma: number): number[] {
  return Array.from({ length: n }, () => {
    const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    return 1000 * Math.exp(sigma * z);
  });
}

test('simulation: shifts well above the figure a run reports are flagged in most runs, shifts well below it almost never', () => {
  for (const [n, m, sigma] of [[3, 3, 0.1], [5, 10, 0.1], [3, 3, 0.03]] as const) {
    const rand = mulberry32(1000 * n + m);
    // The figure a report shows for an unchanged run, over 41 simulated runs: its median is the typical figure.
    const figures = Array.from({ length: 41 }, () => detectableRatio(noise(rand, n, sigma), noise(rand, m, sigma), OPTS)!);
    const figure = median(figures);
    const flagged = (shift: number) => {
      let hits = 0;
      for (let i = 0; i < 200; i++) {
        const base = noise(rand, m, sigma);
        const cur = noise(rand, n, sigma).map((v) => v * shift);
        if (decide(cur, base, { ...OPTS, seed: i }).status === 'regression') hits++;
      }
      return hits / 200;
    };
    const what = `${n} vs ${m}, σ ${sigma}, figure +${((figure - 1) * 100).toFixed(1)}%`;
    // Half again the figure's change: flagged in most runs; a quarter of it: hardly ever; none: at most α.
    const above = flagged(1 + 1.5 * (figure - 1));
    const below = flagged(1 + 0.25 * (figure - 1));
    const none = flagged(1);
    assert.ok(above >= 0.6, `${what}: +${(150 * (figure - 1)).toFixed(1)}% flagged in ${above * 100}% of runs`);
    assert.ok(below <= 0.1, `${what}: +${(25 * (figure - 1)).toFixed(1)}% flagged in ${below * 100}% of runs`);
    assert.ok(none <= 0.05, `${what}: no change flagged in ${none * 100}% of runs`);
  }
});
