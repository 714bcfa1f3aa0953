/**
 * Summary statistics and seeded bootstrap confidence intervals (float64, pure JS).
 *
 * NaN policy: the plain moments (`mean`, `std`, `sem`, `meanStd`) propagate NaN like numpy, so a failed seed is
 * not hidden; `quantile` throws on NaN (no order). The bootstrap helpers summarise per-query metric values, so —
 * like `meanOverQueries` — they skip NaN entries (pairs, for the paired ones) and report `n` and `skipped`.
 *
 * @module
 */
import { Rng } from '../runtime/rng.ts';

/** A numeric vector: Float64Array, Float32Array or number[]. */
export type Vec = ArrayLike<number>;

/** Arithmetic mean; NaN for an empty input. */
export function mean(values: Vec): number {
  if (values.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s / values.length;
}

/** Sample standard deviation (divisor n − 1); NaN if n < 2. */
export function std(values: Vec): number {
  const n = values.length;
  if (n < 2) return NaN;
  const m = mean(values);
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - m) ** 2;
  return Math.sqrt(ss / (n - 1));
}

/** Standard error of the mean, std / √n; NaN if n < 2. */
export function sem(values: Vec): number {
  return std(values) / Math.sqrt(values.length);
}

/**
 * Quantile with linear interpolation between order statistics (Hyndman–Fan type 7; numpy's default):
 * h = (n − 1)·p, result = x₍⌊h⌋₎ + (h − ⌊h⌋)(x₍⌊h⌋+1₎ − x₍⌊h⌋₎) on the sorted values.
 * @param values `[n]`, n ≥ 1, no NaN; @param p in [0, 1]
 */
export function quantile(values: Vec, p: number): number {
  if (!(p >= 0 && p <= 1)) throw new Error(`quantile: p must be in [0, 1], got ${p}`);
  if (values.length === 0) throw new Error('quantile: empty input');
  const s = Float64Array.from(values);
  for (let i = 0; i < s.length; i++) if (Number.isNaN(s[i])) throw new Error(`quantile: values[${i}] is NaN`);
  s.sort(); // Float64Array sorts numerically
  return sortedQuantile(s, p);
}

/** Type-7 quantile of already ascending-sorted values. */
function sortedQuantile(s: Float64Array, p: number): number {
  const h = (s.length - 1) * p;
  const lo = Math.floor(h);
  if (lo >= s.length - 1) return s[s.length - 1];
  const f = h - lo;
  // f = 0 avoids ∞ − ∞ when the neighbours are infinite
  return f === 0 ? s[lo] : s[lo] + f * (s[lo + 1] - s[lo]);
}

/** Mean ± sample std of a small set of values, e.g. one metric over training seeds. */
export interface MeanStd {
  mean: number;
  /** Sample std (n − 1); NaN if n < 2. */
  std: number;
  n: number;
}

/** `{mean, std, n}` for "mean ± std over seeds" (NaN propagates: a NaN seed makes both NaN). */
export function meanStd(values: Vec): MeanStd {
  return { mean: mean(values), std: std(values), n: values.length };
}

/** Options of the bootstrap helpers. */
export interface BootstrapOptions {
  /** Number of bootstrap resamples (default 2000). */
  reps?: number;
  /** Two-sided confidence level in (0, 1) (default 0.95). */
  level?: number;
  /** PRNG seed (required, so every reported interval is reproducible). */
  seed: number;
}

/** A percentile-bootstrap confidence interval. */
export interface BootstrapCI {
  /** Point estimate on the full (non-NaN) sample. */
  mean: number;
  /** Lower / upper percentile bounds ((1 − level)/2 and (1 + level)/2 quantiles of the replicates). */
  lo: number;
  hi: number;
  level: number;
  reps: number;
  /** Entries (pairs) used. */
  n: number;
  /** Entries (pairs) skipped because a value was NaN. */
  skipped: number;
}

function resolveOpts(where: string, opts: BootstrapOptions): { reps: number; level: number; seed: number } {
  const reps = opts.reps ?? 2000;
  const level = opts.level ?? 0.95;
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`${where}: reps must be a positive integer, got ${reps}`);
  if (!(level > 0 && level < 1)) throw new Error(`${where}: level must be in (0, 1), got ${level}`);
  if (!Number.isFinite(opts.seed)) throw new Error(`${where}: a finite seed is required, got ${opts.seed}`);
  return { reps, level, seed: opts.seed };
}

/** Keeps the indices where every array is non-NaN. */
function keptIndices(where: string, arrays: Vec[]): Uint32Array {
  const n = arrays[0].length;
  for (const a of arrays) {
    if (a.length !== n) throw new Error(`${where}: length mismatch, a has ${n}, b has ${a.length}`);
  }
  const keep: number[] = [];
  for (let i = 0; i < n; i++) if (arrays.every((a) => !Number.isNaN(a[i]))) keep.push(i);
  return Uint32Array.from(keep);
}

/**
 * Runs `reps` resamples of the index set `0..n-1` (with replacement, drawn by `new Rng(seed).int(n)`) and returns
 * the sorted replicate statistics.
 */
function replicates(n: number, reps: number, seed: number, stat: (draw: () => number) => number): Float64Array {
  const rng = new Rng(seed);
  const out = new Float64Array(reps);
  const draw = (): number => rng.int(n);
  for (let r = 0; r < reps; r++) out[r] = stat(draw);
  return out.sort();
}

function ci(point: number, reps: Float64Array, level: number, n: number, skipped: number): BootstrapCI {
  const alpha = (1 - level) / 2;
  return {
    mean: point,
    lo: sortedQuantile(reps, alpha),
    hi: sortedQuantile(reps, 1 - alpha),
    level,
    reps: reps.length,
    n,
    skipped,
  };
}

function emptyCI(level: number, reps: number, skipped: number): BootstrapCI {
  return { mean: NaN, lo: NaN, hi: NaN, level, reps, n: 0, skipped };
}

/**
 * Percentile-bootstrap CI of the mean of `values` (e.g. per-query correlations): resample the n non-NaN values
 * with replacement `reps` times, take the (1 ± level)/2 quantiles of the resample means. Deterministic for a seed.
 * All-NaN input gives NaN bounds with n = 0.
 * @param values `[n]`
 */
export function bootstrapCI(values: Vec, opts: BootstrapOptions): BootstrapCI {
  const { reps, level, seed } = resolveOpts('bootstrapCI', opts);
  const keep = keptIndices('bootstrapCI', [values]);
  const n = keep.length;
  const skipped = values.length - n;
  if (n === 0) return emptyCI(level, reps, skipped);
  const v = Float64Array.from(keep, (i) => values[i]);
  const rs = replicates(n, reps, seed, (draw) => {
    let s = 0;
    for (let k = 0; k < n; k++) s += v[draw()];
    return s / n;
  });
  return ci(mean(v), rs, level, n, skipped);
}

/** A paired-bootstrap CI of mean(a − b). */
export interface PairedDiffCI extends BootstrapCI {
  /** Fraction of replicates with mean(a − b) > 0 (a bootstrap "probability that A beats B"). */
  fracPositive: number;
}

/**
 * Paired percentile-bootstrap CI of mean(a − b), for claims like "estimator A beats B": a[i] and b[i] are the two
 * estimators' metric on the same query i, and resampling draws whole pairs. Pairs with a NaN in either are
 * skipped. An interval with lo > 0 supports "A > B" at the given level.
 * @param a `[n]`, @param b `[n]`
 */
export function pairedBootstrapDiff(a: Vec, b: Vec, opts: BootstrapOptions): PairedDiffCI {
  const { reps, level, seed } = resolveOpts('pairedBootstrapDiff', opts);
  const keep = keptIndices('pairedBootstrapDiff', [a, b]);
  const n = keep.length;
  const skipped = a.length - n;
  if (n === 0) return { ...emptyCI(level, reps, skipped), fracPositive: NaN };
  const d = Float64Array.from(keep, (i) => a[i] - b[i]);
  const rs = replicates(n, reps, seed, (draw) => {
    let s = 0;
    for (let k = 0; k < n; k++) s += d[draw()];
    return s / n;
  });
  let pos = 0;
  for (let r = 0; r < rs.length; r++) if (rs[r] > 0) pos++;
  return { ...ci(mean(d), rs, level, n, skipped), fracPositive: pos / reps };
}

/** A relative gain with its paired-bootstrap CI. */
export interface RelativeGainCI {
  /** (mean a − mean b) / |mean b| on the full sample (e.g. 0.1 = "10% better"). */
  gain: number;
  lo: number;
  hi: number;
  level: number;
  reps: number;
  n: number;
  skipped: number;
}

function gainOf(ma: number, mb: number): number {
  const num = ma - mb;
  // Equal means are "no gain" even when mb = 0; otherwise a zero baseline gives ±Infinity (sorts fine).
  if (num === 0) return 0;
  return num / Math.abs(mb);
}

/**
 * Relative gain of A over B, (mean a − mean b)/|mean b| (paper 1's "10% to over 300%" improvement of Spearman),
 * with a paired percentile-bootstrap CI (pairs (a[i], b[i]) resampled together; NaN pairs skipped). A resample
 * whose mean b is 0 gives ±Infinity, which only widens the interval.
 * @param a `[n]` metric values of the new estimator; @param b `[n]` of the baseline, same queries
 */
export function relativeGain(a: Vec, b: Vec, opts: BootstrapOptions): RelativeGainCI {
  const { reps, level, seed } = resolveOpts('relativeGain', opts);
  const keep = keptIndices('relativeGain', [a, b]);
  const n = keep.length;
  const skipped = a.length - n;
  if (n === 0) return { gain: NaN, lo: NaN, hi: NaN, level, reps, n: 0, skipped };
  const av = Float64Array.from(keep, (i) => a[i]);
  const bv = Float64Array.from(keep, (i) => b[i]);
  const rs = replicates(n, reps, seed, (draw) => {
    let sa = 0, sb = 0;
    for (let k = 0; k < n; k++) { const i = draw(); sa += av[i]; sb += bv[i]; }
    return gainOf(sa / n, sb / n);
  });
  const c = ci(gainOf(mean(av), mean(bv)), rs, level, n, skipped);
  return { gain: c.mean, lo: c.lo, hi: c.hi, level, reps, n, skipped };
}

/** Within-group value pairs kept for a cluster bootstrap (NaN pairs dropped, empty groups dropped). */
function keptGroups(where: string, a: Vec[], b: Vec[]): { a: Float64Array[]; b: Float64Array[]; n: number; skipped: number } {
  if (a.length !== b.length) throw new Error(`${where}: ${a.length} groups of a but ${b.length} of b`);
  const out = { a: [] as Float64Array[], b: [] as Float64Array[], n: 0, skipped: 0 };
  a.forEach((ga, g) => {
    const keep = keptIndices(`${where} (group ${g})`, [ga, b[g]]);
    out.skipped += ga.length - keep.length;
    if (!keep.length) return;
    out.a.push(Float64Array.from(keep, (i) => ga[i]));
    out.b.push(Float64Array.from(keep, (i) => b[g][i]));
    out.n += keep.length;
  });
  return out;
}

/**
 * Two-stage (cluster) replicates: each draws `G` groups with replacement, then as many values as the drawn group
 * holds, with replacement, within it; `stat` gets the replicate's pooled sums and count.
 */
function clusterReplicates(a: Float64Array[], b: Float64Array[], reps: number, seed: number, stat: (sa: number, sb: number, n: number) => number): Float64Array {
  const rng = new Rng(seed);
  const out = new Float64Array(reps);
  for (let r = 0; r < reps; r++) {
    let sa = 0, sb = 0, n = 0;
    for (let k = 0; k < a.length; k++) {
      const g = rng.int(a.length);
      const [ga, gb] = [a[g], b[g]];
      for (let j = 0; j < ga.length; j++) { const i = rng.int(ga.length); sa += ga[i]; sb += gb[i]; }
      n += ga.length;
    }
    out[r] = stat(sa, sb, n);
  }
  return out.sort();
}

/**
 * Two-stage (cluster) percentile-bootstrap CI of the pooled mean of values that come in independent groups
 * (seeds, each holding one value per query): a replicate resamples the groups, then the values within each drawn
 * group. Resampling the pooled values alone treats every (seed, query) value as independent and ignores the
 * spread between seeds; on the MNIST MLP (three seeds at Spearman 0.285, 0.373 and 0.421) that gives ±0.006
 * where the seeds differ by 0.14. With one group this is {@link bootstrapCI} exactly (same draws). NaNs are
 * skipped within groups.
 * @param groups `[nGroups][n_g]`
 */
export function clusterBootstrapCI(groups: Vec[], opts: BootstrapOptions): BootstrapCI {
  const { reps, level, seed } = resolveOpts('clusterBootstrapCI', opts);
  const k = keptGroups('clusterBootstrapCI', groups, groups);
  if (k.n === 0) return emptyCI(level, reps, k.skipped);
  if (k.a.length === 1) return { ...bootstrapCI(k.a[0], opts), skipped: k.skipped };
  const rs = clusterReplicates(k.a, k.a, reps, seed, (sa, _sb, n) => sa / n);
  let total = 0;
  for (const g of k.a) for (const v of g) total += v;
  return ci(total / k.n, rs, level, k.n, k.skipped);
}

/**
 * {@link relativeGain} with the two-stage resampling of {@link clusterBootstrapCI}: pairs (a, b) stay together
 * within a group (the same query scored by both estimators on one seed), groups are resampled first. One group:
 * {@link relativeGain} exactly.
 * @param a `[nGroups][n_g]` metric values of the new estimator; @param b the baseline's, same shape
 */
export function clusterRelativeGain(a: Vec[], b: Vec[], opts: BootstrapOptions): RelativeGainCI {
  const { reps, level, seed } = resolveOpts('clusterRelativeGain', opts);
  const k = keptGroups('clusterRelativeGain', a, b);
  if (k.n === 0) return { gain: NaN, lo: NaN, hi: NaN, level, reps, n: 0, skipped: k.skipped };
  if (k.a.length === 1) {
    const r = relativeGain(k.a[0], k.b[0], opts);
    return { ...r, skipped: k.skipped };
  }
  const rs = clusterReplicates(k.a, k.b, reps, seed, (sa, sb, n) => gainOf(sa / n, sb / n));
  let ta = 0, tb = 0;
  k.a.forEach((ga, g) => ga.forEach((v, i) => { ta += v; tb += k.b[g][i]; }));
  const c = ci(gainOf(ta / k.n, tb / k.n), rs, level, k.n, k.skipped);
  return { gain: c.mean, lo: c.lo, hi: c.hi, level, reps, n: k.n, skipped: k.skipped };
}

/**
 * {@link pairedBootstrapDiff} with the two-stage resampling of {@link clusterBootstrapCI} (groups, e.g. seeds,
 * first; pairs within a drawn group next). One group: {@link pairedBootstrapDiff} exactly.
 * @param a `[nGroups][n_g]`, @param b the same shape
 */
export function clusterPairedDiff(a: Vec[], b: Vec[], opts: BootstrapOptions): PairedDiffCI {
  const { reps, level, seed } = resolveOpts('clusterPairedDiff', opts);
  const k = keptGroups('clusterPairedDiff', a, b);
  if (k.n === 0) return { ...emptyCI(level, reps, k.skipped), fracPositive: NaN };
  if (k.a.length === 1) return { ...pairedBootstrapDiff(k.a[0], k.b[0], opts), skipped: k.skipped };
  const rs = clusterReplicates(k.a, k.b, reps, seed, (sa, sb, n) => (sa - sb) / n);
  let d = 0;
  k.a.forEach((ga, g) => ga.forEach((v, i) => { d += v - k.b[g][i]; }));
  let pos = 0;
  for (let r = 0; r < rs.length; r++) if (rs[r] > 0) pos++;
  return { ...ci(d / k.n, rs, level, k.n, k.skipped), fracPositive: pos / reps };
}
