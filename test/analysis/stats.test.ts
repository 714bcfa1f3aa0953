import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bootstrapCI, clusterBootstrapCI, clusterPairedDiff, clusterRelativeGain, mean, meanStd, pairedBootstrapDiff, quantile, relativeGain, sem, std,
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

test('clusterBootstrapCI: one group = bootstrapCI; spread between groups widens the CI the pooled one hides', () => {
  const rng = new Rng(3);
  const noisy = (centre: number, n: number) => Array.from({ length: n }, () => centre + 0.05 * (rng.next() - 0.5));
  const one = noisy(0.3, 200);
  assert.deepEqual(clusterBootstrapCI([one], { seed: 1 }), bootstrapCI(one, { seed: 1 }));
  // three seeds whose means differ by 0.14, 500 queries each, tiny within-seed noise
  const groups = [noisy(0.285, 500), noisy(0.373, 500), noisy(0.421, 500)];
  const pooled = bootstrapCI(groups.flat(), { seed: 1 });
  const cluster = clusterBootstrapCI(groups, { seed: 1 });
  close(cluster.mean, pooled.mean, 1e-12);
  assert.equal(cluster.n, 1500);
  assert.ok(pooled.hi - pooled.lo < 0.01, `pooled width ${pooled.hi - pooled.lo}`);
  // seed resampling: the replicate means range over mixes of the three seed means
  assert.ok(cluster.hi - cluster.lo > 0.08, `cluster width ${cluster.hi - cluster.lo}`);
  assert.ok(cluster.lo >= 0.28 && cluster.hi <= 0.43 && cluster.lo < cluster.mean && cluster.mean < cluster.hi);
  assert.deepEqual(clusterBootstrapCI(groups, { seed: 1 }), cluster, 'deterministic for a seed');
  // NaNs are skipped within groups and counted
  const withNaN = clusterBootstrapCI([[NaN, 0.2, 0.3], [0.4, NaN]], { seed: 2 });
  assert.equal(withNaN.n, 3);
  assert.equal(withNaN.skipped, 2);
});

test('clusterRelativeGain: one group = relativeGain; pairs stay together; seed spread widens the interval', () => {
  const a = [0.4, 0.5, 0.45, 0.42];
  const b = [0.2, 0.25, 0.22, 0.2];
  assert.deepEqual(clusterRelativeGain([a], [b], { seed: 4 }), relativeGain(a, b, { seed: 4 }));
  const rng = new Rng(5);
  const n = 300;
  const base = [0.159, 0.162, 0.141];
  const gains = [1.35, 0.76, 1.99]; // per-seed relative gains of the MLP cells
  const bs = base.map((m) => Array.from({ length: n }, () => m + 0.02 * (rng.next() - 0.5)));
  const as = bs.map((g, s) => g.map((v) => v * (1 + gains[s])));
  const c = clusterRelativeGain(as, bs, { seed: 6 });
  const pooled = relativeGain(as.flat(), bs.flat(), { seed: 6 });
  close(c.gain, pooled.gain, 1e-12);
  assert.ok(pooled.hi - pooled.lo < 0.1, `pooled width ${pooled.hi - pooled.lo}`);
  assert.ok(c.lo < 1.0 && c.hi > 1.6, `cluster CI [${c.lo}, ${c.hi}] spans the seeds' gains`);
  assert.throws(() => clusterRelativeGain([a], [b, b], { seed: 1 }), /1 groups of a but 2 of b/);
});

test('clusterPairedDiff: one group = pairedBootstrapDiff; a seed-level sign flip is not hidden by pooling', () => {
  const a = [0.5, 0.6, 0.55, 0.52, 0.58];
  const b = [0.4, 0.5, 0.5, 0.5, 0.5];
  assert.deepEqual(clusterPairedDiff([a], [b], { seed: 7 }), pairedBootstrapDiff(a, b, { seed: 7 }));
  // two seeds favour A by 0.1, one favours B by 0.1: pooled says "A wins" with a tight CI, the cluster CI spans 0
  const rng = new Rng(8);
  const bs = [0, 1, 2].map(() => Array.from({ length: 400 }, () => rng.next()));
  const as = bs.map((g, s) => g.map((v) => v + (s === 2 ? -0.1 : 0.1) + 0.01 * (rng.next() - 0.5)));
  const pooled = pairedBootstrapDiff(as.flat(), bs.flat(), { seed: 9 });
  const c = clusterPairedDiff(as, bs, { seed: 9 });
  close(c.mean, pooled.mean, 1e-12);
  assert.ok(pooled.lo > 0, `pooled CI [${pooled.lo}, ${pooled.hi}] excludes 0`);
  assert.ok(c.lo < 0 && c.hi > 0, `cluster CI [${c.lo}, ${c.hi}] spans 0`);
  assert.ok(c.fracPositive > 0.5 && c.fracPositive < 1);
});
