/**
 * Faithfulness metrics between an estimated and a ground-truth score vector (float64, pure JS).
 *
 * Protocols (papers.md): paper 1 — Spearman across training samples per query column, averaged over queries
 * (`meanOverQueries(spearman, est, truth)`), then mean ± std over seeds (`meanStd` in stats.ts); papers 2/4 —
 * Kendall τ and the Jaccard index of the union of top-(p/2)% and bottom-(p/2)% sets (`jaccardTopBottom` with
 * `k = topBottomK(n, p)`); paper 3 — cosine and Spearman per test instance, ± SEM (`meanOverQueries(...).sem`).
 *
 * Conventions:
 * - Every metric takes two vectors of equal length n ≥ 2 (else it throws); argument order is
 *   `(estimate, truth)`, which only matters for `relativeError`.
 * - Undefined values are NaN: a correlation/cosine with a constant (or zero) vector, a relative error against a zero
 *   truth, and any metric whose input contains NaN. Aggregators (`meanOverQueries`) skip NaN columns and report
 *   how many they skipped, so a degenerate column is visible rather than silently counted as 0.
 * - Ranks average ties (scipy.stats.rankdata 'average'); note [DL-fid] used ordinal ranks (`rank(x, 'ordinal')`),
 *   which only differ when there are exact ties.
 *
 * @module
 */
import { checkSameShape, column, type ScoreMatrix } from './score-matrix.ts';
import type { Vec } from './stats.ts';

export type { Vec };

/** A metric of (estimate, truth) vectors of equal length. */
export type Metric = (est: Float64Array, truth: Float64Array) => number;

function checkPair(where: string, x: Vec, y: Vec): number {
  if (x.length !== y.length) throw new Error(`${where}: length mismatch, x has ${x.length}, y has ${y.length}`);
  if (x.length < 2) throw new Error(`${where}: need at least 2 elements, got ${x.length}`);
  return x.length;
}

function hasNaN(x: Vec): boolean {
  for (let i = 0; i < x.length; i++) if (Number.isNaN(x[i])) return true;
  return false;
}

function isConstant(x: Vec): boolean {
  for (let i = 1; i < x.length; i++) if (x[i] !== x[0]) return false;
  return true;
}

/** Three-way compare that, unlike `a - b`, is consistent for ±Infinity (∞ − ∞ is NaN). Inputs are never NaN. */
function cmp(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Indices 0..n-1 sorted by `x` ascending, ties by index (stable). */
function argsortAsc(x: Vec): Uint32Array {
  const idx = new Uint32Array(x.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  // TypedArray.prototype.sort is stable (ES2019+), so equal values keep index order.
  return idx.sort((a, b) => cmp(x[a], x[b]));
}

/**
 * 1-based ranks of `x` (ascending).
 * @param method `'average'` (default): tied values get the mean of their positions, like
 *   scipy.stats.rankdata(method='average'); `'ordinal'`: ties broken by index (earlier index gets the lower rank).
 * @returns Float64Array `[n]`
 * @throws if `x` contains NaN (no order is defined)
 */
export function rank(x: Vec, method: 'average' | 'ordinal' = 'average'): Float64Array {
  if (hasNaN(x)) throw new Error('rank: input contains NaN');
  const n = x.length;
  const idx = argsortAsc(x);
  const r = new Float64Array(n);
  if (method === 'ordinal') {
    for (let k = 0; k < n; k++) r[idx[k]] = k + 1;
    return r;
  }
  let k = 0;
  while (k < n) {
    let e = k + 1;
    while (e < n && x[idx[e]] === x[idx[k]]) e++;
    // positions k..e-1 (0-based) → ranks k+1..e, average (k+1+e)/2
    const avg = (k + 1 + e) / 2;
    for (let j = k; j < e; j++) r[idx[j]] = avg;
    k = e;
  }
  return r;
}

/**
 * Pearson correlation. NaN if either vector is constant or contains NaN.
 * @param x `[n]`, @param y `[n]`, n ≥ 2
 */
export function pearson(x: Vec, y: Vec): number {
  const n = checkPair('pearson', x, y);
  // Explicit constant check: a mean of identical values can round off them, faking tiny nonzero variance.
  if (hasNaN(x) || hasNaN(y) || isConstant(x) || isConstant(y)) return NaN;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) { mx += x[i]; my += y[i]; }
  mx /= n; my /= n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx, dy = y[i] - my;
    sxy += dx * dy; sxx += dx * dx; syy += dy * dy;
  }
  const d = Math.sqrt(sxx) * Math.sqrt(syy);
  if (!(d > 0) || !Number.isFinite(d)) return NaN;
  return Math.max(-1, Math.min(1, sxy / d));
}

/**
 * Spearman rank correlation = Pearson of average ranks (scipy.stats.spearmanr). NaN if either vector is constant
 * or contains NaN.
 * @param x `[n]`, @param y `[n]`, n ≥ 2
 */
export function spearman(x: Vec, y: Vec): number {
  checkPair('spearman', x, y);
  if (hasNaN(x) || hasNaN(y)) return NaN;
  return pearson(rank(x), rank(y));
}

/** Σ t(t−1)/2 over runs of equal values in an already sorted (by value) sequence `v[order[k]]`. */
function tiedPairs(v: Vec, order: ArrayLike<number>): number {
  let s = 0, k = 0;
  const n = order.length;
  while (k < n) {
    let e = k + 1;
    while (e < n && v[order[e]] === v[order[k]]) e++;
    const t = e - k;
    s += (t * (t - 1)) / 2;
    k = e;
  }
  return s;
}

/**
 * Kendall's τ-b (handles ties; equals scipy.stats.kendalltau's default), O(n log n) by Knight's algorithm:
 * sort by (x, y), count x-ties and joint ties, merge-sort by y counting swaps (= discordant pairs), count y-ties;
 * τ_b = (n0 − n1 − n2 + n3 − 2·swaps) / √((n0 − n1)(n0 − n2)). NaN if either vector is constant or contains NaN.
 * @param x `[n]`, @param y `[n]`, n ≥ 2
 */
export function kendallTau(x: Vec, y: Vec): number {
  const n = checkPair('kendallTau', x, y);
  if (hasNaN(x) || hasNaN(y)) return NaN;
  // Sort by x, then y: pairs tied in x are then in y-order, so they contribute no swaps below.
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((a, b) => cmp(x[a], x[b]) || cmp(y[a], y[b]));

  const n0 = (n * (n - 1)) / 2;
  const n1 = tiedPairs(x, idx);
  // joint ties: runs equal in both x and y
  let n3 = 0;
  {
    let k = 0;
    while (k < n) {
      let e = k + 1;
      while (e < n && x[idx[e]] === x[idx[k]] && y[idx[e]] === y[idx[k]]) e++;
      const t = e - k;
      n3 += (t * (t - 1)) / 2;
      k = e;
    }
  }

  // Bottom-up merge sort of y (in x-order) counting inversions = pairs with x_i < x_j but y_i > y_j.
  let a = new Float64Array(n);
  for (let k = 0; k < n; k++) a[k] = y[idx[k]];
  let b = new Float64Array(n);
  let swaps = 0;
  for (let w = 1; w < n; w *= 2) {
    for (let lo = 0; lo < n; lo += 2 * w) {
      const mid = Math.min(lo + w, n), hi = Math.min(lo + 2 * w, n);
      let i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        // `<=` keeps equal y's un-swapped: y-ties are neither concordant nor discordant.
        if (a[i] <= a[j]) b[k++] = a[i++];
        else { b[k++] = a[j++]; swaps += mid - i; }
      }
      while (i < mid) b[k++] = a[i++];
      while (j < hi) b[k++] = a[j++];
    }
    const t = a; a = b; b = t;
  }
  // `a` is now y sorted ascending: count y-ties on it directly.
  let n2 = 0;
  {
    let k = 0;
    while (k < n) {
      let e = k + 1;
      while (e < n && a[e] === a[k]) e++;
      const t = e - k;
      n2 += (t * (t - 1)) / 2;
      k = e;
    }
  }
  const denom = Math.sqrt(n0 - n1) * Math.sqrt(n0 - n2);
  if (!(denom > 0)) return NaN;
  return Math.max(-1, Math.min(1, (n0 - n1 - n2 + n3 - 2 * swaps) / denom));
}

/**
 * Cosine similarity ⟨x, y⟩ / (‖x‖‖y‖). NaN if either vector is all zeros or contains NaN.
 * @param x `[n]`, @param y `[n]`, n ≥ 2
 */
export function cosine(x: Vec, y: Vec): number {
  const n = checkPair('cosine', x, y);
  if (hasNaN(x) || hasNaN(y)) return NaN;
  let xy = 0, xx = 0, yy = 0;
  for (let i = 0; i < n; i++) { xy += x[i] * y[i]; xx += x[i] * x[i]; yy += y[i] * y[i]; }
  const d = Math.sqrt(xx) * Math.sqrt(yy);
  if (!(d > 0) || !Number.isFinite(d)) return NaN;
  return Math.max(-1, Math.min(1, xy / d));
}

function checkK(where: string, k: number, n: number): void {
  if (!Number.isInteger(k) || k < 1 || k > n) throw new Error(`${where}: k must be an integer in [1, ${n}], got ${k}`);
}

/** Indices of the k largest values; ties broken by index (the earlier index counts as larger). */
function topSet(x: Vec, k: number): Set<number> {
  const idx = new Uint32Array(x.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  idx.sort((a, b) => cmp(x[b], x[a])); // stable → equal values keep index order
  return new Set(idx.subarray(0, k));
}

/** Indices of the k smallest values; ties broken by index (the earlier index counts as smaller). */
function bottomSet(x: Vec, k: number): Set<number> {
  return new Set(argsortAsc(x).subarray(0, k));
}

function jaccardSets(a: Set<number>, b: Set<number>): number {
  let inter = 0;
  for (const v of a) if (b.has(v)) inter++;
  return inter / (a.size + b.size - inter);
}

/**
 * Jaccard index |A ∩ B| / |A ∪ B| where A = indices of the k largest ∪ the k smallest entries of `x`, and B the same
 * for `y` (papers 2/4's "top-(p/2)% and bottom-(p/2)%" set; see `topBottomK`). Ties are broken by index: among
 * equal values the earlier index is taken first, both for the top and for the bottom set (paper 2's np.argsort
 * breaks ties arbitrarily). If 2k > n the two halves overlap and the set is their union.
 * NaN if either input contains NaN.
 * @param x `[n]`, @param y `[n]`, n ≥ 2; @param k integer in [1, n]
 */
export function jaccardTopBottom(x: Vec, y: Vec, k: number): number {
  const n = checkPair('jaccardTopBottom', x, y);
  checkK('jaccardTopBottom', k, n);
  if (hasNaN(x) || hasNaN(y)) return NaN;
  const a = topSet(x, k), b = topSet(y, k);
  for (const v of bottomSet(x, k)) a.add(v);
  for (const v of bottomSet(y, k)) b.add(v);
  return jaccardSets(a, b);
}

/**
 * Jaccard index of the k largest entries of `x` and of `y` (ties broken by index, earlier first).
 * NaN if either input contains NaN.
 * @param x `[n]`, @param y `[n]`, n ≥ 2; @param k integer in [1, n]
 */
export function jaccardTop(x: Vec, y: Vec, k: number): number {
  const n = checkPair('jaccardTop', x, y);
  checkK('jaccardTop', k, n);
  if (hasNaN(x) || hasNaN(y)) return NaN;
  return jaccardSets(topSet(x, k), topSet(y, k));
}

/**
 * k for `jaccardTopBottom` so that the set holds p% of n samples: k = max(1, floor(floor(n·p/100)/2)), as in
 * paper 2's plot.py (`int(n·frac)` then `//2` per side).
 * @param n number of training samples; @param percent p in (0, 100]
 */
export function topBottomK(n: number, percent: number): number {
  if (!(percent > 0 && percent <= 100)) throw new Error(`topBottomK: percent must be in (0, 100], got ${percent}`);
  // small epsilon: 400·70/100 must give 280, not 279.99999999999997
  return Math.max(1, Math.floor(Math.floor((n * percent) / 100 + 1e-9) / 2));
}

/**
 * Fraction of entries whose signs agree (Math.sign equal; 0 only agrees with 0). NaN if an input contains NaN.
 * @param x `[n]`, @param y `[n]`, n ≥ 2
 */
export function signAgreement(x: Vec, y: Vec): number {
  const n = checkPair('signAgreement', x, y);
  if (hasNaN(x) || hasNaN(y)) return NaN;
  let agree = 0;
  for (let i = 0; i < n; i++) if (Math.sign(x[i]) === Math.sign(y[i])) agree++;
  return agree / n;
}

/**
 * Relative error ‖x − y‖₂ / ‖y‖₂ of the estimate `x` against the truth `y`. NaN if ‖y‖ = 0 or an input has NaN.
 * @param x estimate `[n]`, @param y truth `[n]`, n ≥ 2
 */
export function relativeError(x: Vec, y: Vec): number {
  const n = checkPair('relativeError', x, y);
  if (hasNaN(x) || hasNaN(y)) return NaN;
  let num = 0, den = 0;
  for (let i = 0; i < n; i++) { const d = x[i] - y[i]; num += d * d; den += y[i] * y[i]; }
  if (!(den > 0)) return NaN;
  return Math.sqrt(num) / Math.sqrt(den);
}

/**
 * A metric evaluated per query column across training samples: out[q] = metric(est[:, q], truth[:, q]).
 * Parameterised metrics are passed as closures, e.g. `(x, y) => jaccardTopBottom(x, y, k)`.
 * @param est estimated scores `[nTrain, nQuery]`; @param truth ground truth `[nTrain, nQuery]` (same shape)
 * @returns Float64Array `[nQuery]` (NaN where the metric is undefined, e.g. a constant column)
 */
export function perQuery(metric: Metric, est: ScoreMatrix, truth: ScoreMatrix): Float64Array {
  checkSameShape(est, truth, 'perQuery(est, truth)');
  const out = new Float64Array(est.nQuery);
  for (let q = 0; q < est.nQuery; q++) out[q] = metric(column(est, q), column(truth, q));
  return out;
}

/** Mean of per-query values with NaN entries skipped, plus their spread. */
export interface QuerySummary {
  /** Mean over the non-NaN entries (NaN if there are none). */
  mean: number;
  /** Sample std (n − 1) over the non-NaN entries (NaN if n < 2). */
  std: number;
  /** Standard error std/√n (paper 3's "± SEM"; NaN if n < 2). */
  sem: number;
  /** Number of entries used. */
  n: number;
  /** Number of NaN entries skipped (undefined metric, e.g. a constant column). */
  skipped: number;
}

/**
 * Summarises per-query values (e.g. the output of `perQuery`), skipping NaN entries and counting them.
 * @param values `[nQuery]`
 */
export function summarizeQueries(values: Vec): QuerySummary {
  let n = 0, s = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) { n++; s += values[i]; }
  const mean = n > 0 ? s / n : NaN;
  let ss = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) ss += (values[i] - mean) ** 2;
  const std = n > 1 ? Math.sqrt(ss / (n - 1)) : NaN;
  return { mean, std, sem: n > 1 ? std / Math.sqrt(n) : NaN, n, skipped: values.length - n };
}

/**
 * Paper-1 style aggregate: the metric per query column, then the mean over queries (NaN columns skipped and
 * counted in `skipped`). Mean ± std over seeds is then `meanStd` (stats.ts) of the per-seed `mean`s.
 * @param est `[nTrain, nQuery]`; @param truth `[nTrain, nQuery]`
 */
export function meanOverQueries(metric: Metric, est: ScoreMatrix, truth: ScoreMatrix): QuerySummary {
  return summarizeQueries(perQuery(metric, est, truth));
}
