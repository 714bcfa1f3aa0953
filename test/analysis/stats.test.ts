import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bootstrapCI, mean, meanStd, pairedBootstrapDiff, quantile, relativeGain, sem, std,
} from '../../lib/analysis/stats.ts';
import { Rng } from '../../lib/runtime/rng.ts';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `expected ${b}, got ${a}`);

test('mean, std (n−1), sem, meanStd', () => {
  close(mean([1, 2, 3, 4]), 2.5);
  // deviations ±1.5, ±0.5 → ss = 5, var = 5/3
  close(std([1, 2, 3, 4]), Math.sqrt(5 / 3));
  close(sem([1, 2, 3, 4]), Math.sqrt(5 / 3) / 2);
  assert.ok(Number.isNaN(std([1])));
  assert.ok(Number.isNaN(mean([])));
  const ms = meanStd([0.5, 0.7, 0.6]);
  close(ms.mean, 0.6);
  close(ms.std, 0.1);
  assert.equal(ms.n, 3);
  assert.ok(Number.isNaN(meanStd([0.5, NaN]).mean)); // a failed seed is not hidden
});

test('quantile: type 7 (numpy default)', () => {
  const v = [10, 1, 4, 3, 2]; // sorted 1,2,3,4,10
  close(quantile(v, 0.1), 1.4); // h = 0.4
  close(quantile(v, 0.25), 2);
  close(quantile(v, 0.9), 7.6); // h = 3.6 → 4 + 0.6·6
  close(quantile(v, 0), 1);
  close(quantile(v, 1), 10);
  close(quantile([7], 0.3), 7);
  assert.throws(() => quantile(v, 1.5), /p must be in/);
  assert.throws(() => quantile([1, NaN], 0.5), /NaN/);
});

test('bootstrapCI: deterministic for a seed, contains the mean, narrows with n, skips NaN', () => {
  const rng = new Rng(3);
  const small = Float64Array.from({ length: 25 }, () => 0.5 + 0.2 * rng.normal());
  const big = Float64Array.from({ length: 400 }, () => 0.5 + 0.2 * rng.normal());
  const a = bootstrapCI(small, { seed: 1 });
  const b = bootstrapCI(small, { seed: 1 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(bootstrapCI(small, { seed: 2 }), a);
  assert.equal(a.reps, 2000);
  assert.equal(a.level, 0.95);
  close(a.mean, mean(small));
  assert.ok(a.lo < a.mean && a.mean < a.hi);
  // percentile CI ≈ mean ± 1.96·SEM
  close(a.hi - a.lo, 2 * 1.96 * sem(small), 0.25 * 2 * 1.96 * sem(small));
  const c = bootstrapCI(big, { seed: 1 });
  assert.ok(c.hi - c.lo < (a.hi - a.lo) / 2, 'CI narrows roughly like 1/√n');
  const narrow = bootstrapCI(small, { seed: 1, level: 0.5, reps: 500 });
  assert.ok(narrow.hi - narrow.lo < a.hi - a.lo);
  const withNaN = bootstrapCI([...small, NaN, NaN], { seed: 1 });
  assert.equal(withNaN.n, 25);
  assert.equal(withNaN.skipped, 2);
  assert.deepEqual({ ...withNaN, skipped: 0 }, a);
  const empty = bootstrapCI([NaN], { seed: 1 });
  assert.equal(empty.n, 0);
  assert.ok(Number.isNaN(empty.lo));
  assert.throws(() => bootstrapCI(small, { seed: 1, level: 1 }), /level/);
  assert.throws(() => bootstrapCI(small, { seed: NaN }), /seed/);
});

test('pairedBootstrapDiff: detects a consistent paired gain that an unpaired view would miss', () => {
  const rng = new Rng(5);
  const base = Float64Array.from({ length: 60 }, () => rng.normal()); // large between-query spread
  const a = Float64Array.from(base, (v) => v + 0.1 + 0.02 * rng.normal());
  const d = pairedBootstrapDiff(a, base, { seed: 9 });
  close(d.mean, mean(a) - mean(base));
  assert.ok(d.lo > 0, `paired CI should exclude 0: [${d.lo}, ${d.hi}]`);
  assert.equal(d.fracPositive, 1);
  assert.deepEqual(pairedBootstrapDiff(a, base, { seed: 9 }), d);
  const rev = pairedBootstrapDiff(base, a, { seed: 9 });
  close(rev.lo, -d.hi, 1e-12);
  assert.throws(() => pairedBootstrapDiff([1, 2], [1], { seed: 0 }), /length mismatch/);
  const skip = pairedBootstrapDiff([1, NaN, 3], [0, 1, NaN], { seed: 0 });
  assert.equal(skip.n, 1);
  assert.equal(skip.skipped, 2);
});

test('relativeGain: point value and CI', () => {
  // mean a = 0.6, mean b = 0.4 → (0.6 − 0.4)/0.4 = 0.5
  const a = [0.5, 0.6, 0.7, 0.6];
  const b = [0.3, 0.4, 0.5, 0.4];
  const g = relativeGain(a, b, { seed: 4, reps: 1000 });
  close(g.gain, 0.5);
  assert.ok(g.lo <= g.gain && g.gain <= g.hi);
  assert.ok(g.lo > 0.3 && g.hi < 0.8, `[${g.lo}, ${g.hi}]`);
  assert.deepEqual(relativeGain(a, b, { seed: 4, reps: 1000 }), g);
  // negative baseline: |mean b| in the denominator keeps "a above b" positive
  close(relativeGain([0, 0], [-0.5, -0.5], { seed: 0, reps: 10 }).gain, 1);
});
