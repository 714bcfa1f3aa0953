/**
 * Influence functions at the final model θ_T (Koh & Liang 2017; the `icml` variant of Hara et al.'s code,
 * papers.md §4.1; the CG / LiSSA baselines of arXiv 2412.03906, §3.3):
 *
 *     score(z, q) = (1/n) ∇ℓ_q(θ_T)ᵀ (H + λI)^{-1} ∇ℓ_z(θ_T),   H = ∇² [ (1/N_h) Σ_{i∈S_h} ℓ_i + (wd/2)‖θ‖² ]
 *
 * Sign: θ_T minimises (1/n) Σ_i ℓ_i (+ the L2 term); removing z is the perturbation −(1/n) ℓ_z, which moves
 * the minimiser by +(1/n) H^{-1} ∇ℓ_z, so the query loss changes by +(1/n) ∇ℓ_qᵀ H^{-1} ∇ℓ_z (removal
 * convention: positive = z helped q; checked against retraining to convergence in the tests). n is the
 * training-set size; S_h is the whole training set or a seeded subsample of `hessianSamples` ids.
 *
 * Curvature: `exact` (double-backprop HVPs) or `ggn` (Gauss–Newton, as torch-influence's `gnh=True`), summed
 * over chunks of `hvpBatch` samples with divisor N_h. wd is the run's coupled (SGD) weight decay, so that H
 * is the Hessian of the objective SGD actually minimised; AdamW's decoupled decay is not an L2 term (wd = 0).
 *
 * Damping default (documented choice): λ = dampingScale · mean over S_h and coordinates of ∇ℓ_i(θ_T)², with
 * dampingScale = 100 — paper 3's "λ·{0.1, 1, 10, 100}, λ = mean squared training-gradient entry, ×100 used".
 *
 * Solvers (queries are solved, H is symmetric, so scores are (1/n)·x_qᵀ∇ℓ_z with x_q = (H+λI)^{-1}∇ℓ_q):
 * - `explicit`: H + λI built column by column from p HVPs (p ≤ maxExplicit = 2000), symmetrised, factored in
 *   float64 by Cholesky (LU with partial pivoting when H + λI is not positive definite).
 * - `cg`: conjugate gradients per query; stops at ‖r‖ ≤ tol·‖b‖ or maxIter; throws when a search direction has
 *   non-positive curvature (increase damping).
 * - `lissa`: x_{j+1} = v + (I − (H̃_j + λI)/scale) x_j, x_0 = v, with H̃_j a seeded mini-batch HVP of `lissaBatch`
 *   samples; the estimate is x_depth/scale, averaged over `repeats`. It converges when scale exceeds the largest
 *   eigenvalue of H + λI; `scale: 'auto'` (default) uses 1.5 × a 30-step power-iteration estimate of ‖H + λI‖.
 * Every solve reports {@link SolveInfo} (iterations, relative residual ‖(H+λI)x − v‖/‖v‖ with the full H) to
 * `onSolve`.
 *
 * Mask (optional): gradients are projected onto the mask and H is replaced by its masked block P H P, i.e. the
 * solve happens inside the masked subspace (masks.ts); the default damping then averages over masked entries.
 *
 * The `occurrence` option is ignored: a final-model estimator does not know when z was used.
 *
 * @module
 */
import { makeBatch, disposeBatch } from '../data/batch.ts';
import { numParams, type Batch } from '../models/types.ts';
import { disposeParams } from '../models/params.ts';
import { curvatureProduct } from '../autodiff/curvature.ts';
import { perSampleGrads } from '../autodiff/persample.ts';
import { rngFor } from '../runtime/rng.ts';
import { scoreMatrix, type ScoreMatrix } from '../analysis/score-matrix.ts';
import { checkBaseRun, finalQueryGrads } from './sweep.ts';
import { trainGradsAt } from './kit.ts';
import { checkMask, maskIndicator } from './masks.ts';
import type { AttributionTask, Estimator, EstimatorOptions } from './types.ts';

/** How (H + λI)^{-1} ∇ℓ_q is computed. */
export type IfSolver = 'explicit' | 'cg' | 'lissa';

/** Options of the influence-function estimators. */
export interface InfluenceOptions extends EstimatorOptions {
  /** `exact` Hessian (default) or `ggn` (Gauss–Newton). */
  curvature?: 'exact' | 'ggn';
  /** λ ≥ 0 added to the diagonal; default dampingScale × mean squared training-gradient entry (module doc). */
  damping?: number;
  /** Multiplier of the default damping (default 100). */
  dampingScale?: number;
  /** L2 coefficient of the training objective added to H (default: the run's coupled SGD weight decay, else 0). */
  weightDecay?: number;
  /** Number of training samples (seeded subsample) defining H and the default damping (default: all n). */
  hessianSamples?: number;
  /** Seed of the Hessian subsample and of LiSSA's mini-batches (default 0). */
  seed?: number;
  /** Samples per HVP chunk over the Hessian set (default 256). */
  hvpBatch?: number;
  /** explicit: largest p (or mask size) allowed (default 2000). */
  maxExplicit?: number;
  /** cg: relative residual tolerance (default 1e-6). */
  tol?: number;
  /** cg: iteration cap (default 1000). */
  maxIter?: number;
  /** lissa: recursion depth (default 1000). */
  depth?: number;
  /** lissa: independent repeats averaged (default 1). */
  repeats?: number;
  /** lissa: scale (> largest eigenvalue of H + λI), or 'auto' (default). */
  scale?: number | 'auto';
  /** lissa: samples per mini-batch HVP (default min(128, N_h)). */
  lissaBatch?: number;
  /** Receives one record per query solve. */
  onSolve?: (info: SolveInfo) => void;
  /** Queries per chunk when computing query gradients. */
  queryChunk?: number;
}

/** Outcome of one query's solve. */
export interface SolveInfo {
  solver: IfSolver;
  query: number;
  /** CG iterations / LiSSA depth·repeats / 0 for explicit. */
  iterations: number;
  /** ‖(H + λI)x − v‖ / ‖v‖ with the full Hessian-set H (explicit: in float64 with the built matrix). */
  residual: number;
  /** explicit: true; cg: the tolerance was reached; lissa: residual < 0.1 (a rough flag, LiSSA has no tolerance). */
  converged: boolean;
  damping: number;
  /** explicit: which factorisation was used. */
  factorization?: 'cholesky' | 'lu';
  /** lissa: the scale used. */
  scale?: number;
}

/** The inverse-HVPs of all queries and what it took. */
export interface InverseHvpResult {
  /** x_q = (H + λI)^{-1} ∇ℓ_q(θ_T), `[nQuery·p]` row-major (zero outside the mask). */
  X: Float64Array;
  /** The query gradients ∇ℓ_q(θ_T) `[nQuery·p]` (masked). */
  Q: Float64Array;
  damping: number;
  info: SolveInfo[];
}

function num(where: string, name: string, v: unknown, ok: (x: number) => boolean, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new Error(`${where}: ${name} must be ${what}, got ${String(v)}`);
  return v;
}
const posInt = (where: string, name: string, v: unknown) => num(where, name, v, (x) => Number.isInteger(x) && x > 0, 'a positive integer');

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

function dot64(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** The (damped, masked) curvature operator A = P(H + wd·I)P + λI over the Hessian set, at θ_T. */
interface Operator {
  p: number;
  /** A v (v must be zero outside the mask), float64 `[p]`. */
  apply(v: Float64Array): Float64Array;
  /** Mini-batch estimates of A v_j on the given training ids (one batch shared by all vectors). */
  applyMini(vs: Float64Array[], ids: number[]): Float64Array[];
  /** Hessian-set ids. */
  ids: number[];
  dispose(): void;
}

function makeOperator(task: AttributionTask, o: InfluenceOptions, ids: number[], damping: number, wd: number, keep?: Uint8Array): Operator {
  const p = numParams(task.model.spec);
  const kind = o.curvature ?? 'exact';
  const chunk = o.hvpBatch ?? 256;
  const T = task.trajectory.manifest.steps;
  const params = task.trajectory.states.params(T);
  const batches: Batch[] = [];
  try {
    for (let s = 0; s < ids.length; s += chunk) batches.push(makeBatch(task.data, ids.slice(s, s + chunk)));
  } catch (e) {
    batches.forEach(disposeBatch);
    disposeParams(params);
    throw e;
  }
  const finish = (acc: Float64Array, v: Float64Array) => {
    for (let i = 0; i < p; i++) {
      acc[i] = keep && !keep[i] ? 0 : acc[i] + (wd + damping) * v[i];
    }
    return acc;
  };
  return {
    p,
    ids,
    apply(v) {
      const acc = new Float64Array(p);
      for (const b of batches) {
        const hv = curvatureProduct(kind, task.model, params, b, v, { divisor: ids.length });
        for (let i = 0; i < p; i++) acc[i] += hv[i];
      }
      return finish(acc, v);
    },
    applyMini(vs, sub) {
      const b = makeBatch(task.data, sub);
      try {
        return vs.map((v) => finish(Float64Array.from(curvatureProduct(kind, task.model, params, b, v)), v));
      } finally {
        disposeBatch(b);
      }
    },
    dispose() {
      batches.forEach(disposeBatch);
      disposeParams(params);
    },
  };
}

/** Cholesky of a symmetric n×n float64 matrix (row-major); null when not positive definite. */
function cholesky(A: Float64Array, n: number): Float64Array | null {
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = A[j * n + j];
    for (let k = 0; k < j; k++) d -= L[j * n + k] * L[j * n + k];
    if (!(d > 0)) return null;
    const ljj = Math.sqrt(d);
    L[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = s / ljj;
    }
  }
  return L;
}

function choleskySolve(L: Float64Array, n: number, b: Float64Array): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * n + k] * y[k];
    y[i] = s / L[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * y[k];
    y[i] = s / L[i * n + i];
  }
  return y;
}

/** In-place LU with partial pivoting; throws when singular. */
function luFactor(A: Float64Array, n: number, where: string): Int32Array {
  const piv = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    let m = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(A[i * n + k]) > Math.abs(A[m * n + k])) m = i;
    if (A[m * n + k] === 0) throw new Error(`${where}: H + λI is singular (zero pivot in column ${k}); increase damping`);
    piv[k] = m;
    if (m !== k) for (let j = 0; j < n; j++) [A[k * n + j], A[m * n + j]] = [A[m * n + j], A[k * n + j]];
    for (let i = k + 1; i < n; i++) {
      const f = (A[i * n + k] /= A[k * n + k]);
      for (let j = k + 1; j < n; j++) A[i * n + j] -= f * A[k * n + j];
    }
  }
  return piv;
}

function luSolve(LU: Float64Array, piv: Int32Array, n: number, b: Float64Array): Float64Array {
  const x = Float64Array.from(b);
  for (let k = 0; k < n; k++) if (piv[k] !== k) [x[k], x[piv[k]]] = [x[piv[k]], x[k]];
  for (let i = 0; i < n; i++) for (let k = 0; k < i; k++) x[i] -= LU[i * n + k] * x[k];
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) x[i] -= LU[i * n + k] * x[k];
    x[i] /= LU[i * n + i];
  }
  return x;
}

/** explicit: A restricted to the coordinates `coords`, built from |coords| operator applications. */
function solveExplicit(op: Operator, coords: Int32Array, Q: Float64Array, nq: number, damping: number, where: string, report: (i: SolveInfo) => void, progress?: EstimatorOptions['onProgress']): Float64Array {
  const { p } = op;
  const n = coords.length;
  const A = new Float64Array(n * n);
  const e = new Float64Array(p);
  for (let j = 0; j < n; j++) {
    e[coords[j]] = 1;
    const col = op.apply(e);
    e[coords[j]] = 0;
    for (let i = 0; i < n; i++) A[i * n + j] = col[coords[i]];
    progress?.(j + 1, n, 'HVP columns');
  }
  // Float32 HVPs are symmetric only to rounding.
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) A[i * n + j] = A[j * n + i] = (A[i * n + j] + A[j * n + i]) / 2;
  const L = cholesky(A, n);
  let solve: (b: Float64Array) => Float64Array;
  const factorization = L ? 'cholesky' : 'lu';
  if (L) solve = (b) => choleskySolve(L, n, b);
  else {
    const LU = Float64Array.from(A);
    const piv = luFactor(LU, n, where);
    solve = (b) => luSolve(LU, piv, n, b);
  }
  const X = new Float64Array(nq * p);
  for (let q = 0; q < nq; q++) {
    const b = new Float64Array(n);
    for (let i = 0; i < n; i++) b[i] = Q[q * p + coords[i]];
    const x = solve(b);
    for (let i = 0; i < n; i++) X[q * p + coords[i]] = x[i];
    let r2 = 0;
    for (let i = 0; i < n; i++) {
      let s = -b[i];
      for (let j = 0; j < n; j++) s += A[i * n + j] * x[j];
      r2 += s * s;
    }
    report({ solver: 'explicit', query: q, iterations: 0, residual: Math.sqrt(r2) / Math.max(norm(b), 1e-300), converged: true, damping, factorization });
  }
  return X;
}

/** cg: A x = b from x = 0. */
function solveCg(op: Operator, b: Float64Array, tol: number, maxIter: number, where: string): { x: Float64Array; iterations: number; residual: number; converged: boolean } {
  const p = b.length;
  const x = new Float64Array(p);
  const r = Float64Array.from(b);
  const d = Float64Array.from(b);
  const bn = norm(b);
  if (bn === 0) return { x, iterations: 0, residual: 0, converged: true };
  let rr = dot64(r, r);
  let it = 0;
  while (it < maxIter && Math.sqrt(rr) > tol * bn) {
    const Ad = op.apply(d);
    const dAd = dot64(d, Ad);
    if (!(dAd > 0)) {
      throw new Error(`${where}: H + λI has non-positive curvature along a CG direction (dᵀAd = ${dAd.toExponential(3)} at iteration ${it}); increase damping`);
    }
    const alpha = rr / dAd;
    for (let i = 0; i < p; i++) {
      x[i] += alpha * d[i];
      r[i] -= alpha * Ad[i];
    }
    const rr2 = dot64(r, r);
    const beta = rr2 / rr;
    for (let i = 0; i < p; i++) d[i] = r[i] + beta * d[i];
    rr = rr2;
    it++;
  }
  // The recursive residual drifts from the true one in float32 HVPs: report the true one.
  const Ax = op.apply(x);
  let t2 = 0;
  for (let i = 0; i < p; i++) t2 += (Ax[i] - b[i]) ** 2;
  return { x, iterations: it, residual: Math.sqrt(t2) / bn, converged: Math.sqrt(rr) <= tol * bn };
}

/** ‖A‖ estimate by power iteration (for LiSSA's automatic scale). */
function spectralNorm(op: Operator, start: Float64Array, iters = 30): number {
  let v: Float64Array = Float64Array.from(start);
  let nv = norm(v);
  if (nv === 0) return 0;
  let est = 0;
  for (let k = 0; k < iters; k++) {
    for (let i = 0; i < v.length; i++) v[i] /= nv;
    const Av = op.apply(v);
    est = norm(Av);
    v = Av;
    nv = est;
    if (nv === 0) return 0;
  }
  return est;
}

/** lissa for all queries at once (shared mini-batches). */
function solveLissa(op: Operator, Q: Float64Array, nq: number, o: InfluenceOptions, scale: number, where: string, keep: Uint8Array | undefined): { X: Float64Array; residuals: number[] } {
  const { p } = op;
  const depth = o.depth ?? 1000;
  const repeats = o.repeats ?? 1;
  const mb = o.lissaBatch ?? Math.min(128, op.ids.length);
  const X = new Float64Array(nq * p);
  const vnorm = Array.from({ length: nq }, (_, q) => norm(Q.subarray(q * p, (q + 1) * p)));
  for (let rep = 0; rep < repeats; rep++) {
    const rng = rngFor(o.seed ?? 0, `if-lissa/${rep}`);
    const xs = Array.from({ length: nq }, (_, q) => Float64Array.from(Q.subarray(q * p, (q + 1) * p)));
    for (let j = 0; j < depth; j++) {
      const sub = rng.sample(op.ids.length, mb).map((k) => op.ids[k]);
      const Axs = op.applyMini(xs, sub);
      for (let q = 0; q < nq; q++) {
        const x = xs[q];
        const Ax = Axs[q];
        const v = Q.subarray(q * p, (q + 1) * p);
        let n2 = 0;
        for (let i = 0; i < p; i++) {
          x[i] = keep && !keep[i] ? 0 : v[i] + x[i] - Ax[i] / scale;
          n2 += x[i] * x[i];
        }
        // x stays bounded by ‖v‖·scale/λ_min when the recursion contracts; blow-up means scale is too small.
        if (!Number.isFinite(n2) || Math.sqrt(n2) > 1e12 * Math.max(vnorm[q], 1e-30)) {
          throw new Error(`${where}: the recursion diverged at iteration ${j} (‖x‖ = ${Math.sqrt(n2).toExponential(3)}); scale = ${scale} must exceed the largest eigenvalue of H + λI (increase scale or damping)`);
        }
      }
    }
    for (let q = 0; q < nq; q++) for (let i = 0; i < p; i++) X[q * p + i] += xs[q][i] / scale / repeats;
    o.onProgress?.(rep + 1, repeats, 'LiSSA repeats');
  }
  const residuals = Array.from({ length: nq }, (_, q) => {
    const x = X.subarray(q * p, (q + 1) * p);
    const Ax = op.apply(Float64Array.from(x));
    let t2 = 0;
    for (let i = 0; i < p; i++) t2 += (Ax[i] - Q[q * p + i]) ** 2;
    return Math.sqrt(t2) / Math.max(vnorm[q], 1e-300);
  });
  return { X, residuals };
}

/**
 * (H + λI)^{-1} ∇ℓ_q(θ_T) for every query with the chosen solver (module doc).
 * @returns `X` and `Q` `[nQuery·p]`, the damping used, one {@link SolveInfo} per query
 */
export function inverseHvpQueries(task: AttributionTask, solver: IfSolver, o: InfluenceOptions = {}): InverseHvpResult {
  const where = `if-${solver}`;
  checkBaseRun(task, where);
  if (!['explicit', 'cg', 'lissa'].includes(solver)) throw new Error(`influence function: solver must be 'explicit' | 'cg' | 'lissa', got '${String(solver)}'`);
  const kind = o.curvature ?? 'exact';
  if (kind !== 'exact' && kind !== 'ggn') throw new Error(`${where}: curvature must be 'exact' | 'ggn', got '${String(kind)}'`);
  const p = numParams(task.model.spec);
  const n = task.data.n;
  const opt = task.trajectory.manifest.setting.optimizer;
  const wd = o.weightDecay === undefined ? (opt.kind === 'sgd' ? opt.weightDecay : 0) : num(where, 'weightDecay', o.weightDecay, (x) => x >= 0, 'a finite number ≥ 0');
  const nh = o.hessianSamples === undefined ? n : posInt(where, 'hessianSamples', o.hessianSamples);
  if (nh > n) throw new Error(`${where}: hessianSamples = ${nh} exceeds the ${n} training samples`);
  const seed = o.seed === undefined ? 0 : num(where, 'seed', o.seed, (x) => Number.isInteger(x) && x >= 0, 'a non-negative integer');
  if (o.hvpBatch !== undefined) posInt(where, 'hvpBatch', o.hvpBatch);
  if (o.lissaBatch !== undefined) posInt(where, 'lissaBatch', o.lissaBatch);
  if ((o.lissaBatch ?? 0) > nh) throw new Error(`${where}: lissaBatch = ${o.lissaBatch} exceeds the ${nh} Hessian samples`);
  const ids = nh === n ? Array.from({ length: n }, (_, i) => i) : rngFor(seed, 'if-hessian').sample(n, nh).sort((a, b) => a - b);
  const mask = o.mask ? checkMask(where, o.mask, p) : undefined;
  const keep = mask ? maskIndicator(mask, p) : undefined;
  const coords = mask ?? Int32Array.from({ length: p }, (_, i) => i);

  // Solver-specific checks before any gradient work.
  const maxExplicit = o.maxExplicit === undefined ? 2000 : posInt(where, 'maxExplicit', o.maxExplicit);
  if (solver === 'explicit' && coords.length > maxExplicit) {
    throw new Error(`${where}: the explicit solver builds a ${coords.length}×${coords.length} matrix from ${coords.length} HVPs; only allowed for p ≤ maxExplicit = ${maxExplicit} (use solver cg or lissa, or a mask)`);
  }
  const tol = o.tol === undefined ? 1e-6 : num(where, 'tol', o.tol, (x) => x > 0, 'a number > 0');
  const maxIter = o.maxIter === undefined ? 1000 : posInt(where, 'maxIter', o.maxIter);
  if (o.depth !== undefined) posInt(where, 'depth', o.depth);
  if (o.repeats !== undefined) posInt(where, 'repeats', o.repeats);
  if (o.scale !== undefined && o.scale !== 'auto') num(where, 'scale', o.scale, (x) => x > 0, "a number > 0 or 'auto'");

  let damping: number;
  if (o.damping !== undefined) damping = num(where, 'damping', o.damping, (x) => x >= 0, 'a finite number ≥ 0');
  else {
    const scaleD = o.dampingScale === undefined ? 100 : num(where, 'dampingScale', o.dampingScale, (x) => x > 0, 'a number > 0');
    // Mean squared per-sample gradient entry over the Hessian set (masked coordinates only).
    const T = task.trajectory.manifest.steps;
    let s = 0;
    const chunk = o.hvpBatch ?? 256;
    for (let a = 0; a < ids.length; a += chunk) {
      const G = trainGradsAt(task, T, ids.slice(a, a + chunk));
      for (let k = 0; k < G.length / p; k++) for (const i of coords) s += G[k * p + i] ** 2;
    }
    damping = (scaleD * s) / (ids.length * coords.length);
  }

  const Qf = finalQueryGrads(task, o.queryChunk);
  const nq = task.queries.n;
  const Q = new Float64Array(nq * p);
  for (let q = 0; q < nq; q++) for (const i of coords) Q[q * p + i] = Qf[q * p + i];

  const info: SolveInfo[] = [];
  const report = (i: SolveInfo) => {
    info.push(i);
    o.onSolve?.(i);
  };
  const op = makeOperator(task, o, ids, damping, wd, keep);
  try {
    let X: Float64Array;
    if (solver === 'explicit') X = solveExplicit(op, coords, Q, nq, damping, where, report, o.onProgress);
    else if (solver === 'cg') {
      X = new Float64Array(nq * p);
      for (let q = 0; q < nq; q++) {
        const r = solveCg(op, Q.slice(q * p, (q + 1) * p), tol, maxIter, where);
        X.set(r.x, q * p);
        report({ solver, query: q, iterations: r.iterations, residual: r.residual, converged: r.converged, damping });
        o.onProgress?.(q + 1, nq, 'queries');
      }
    } else {
      let scale: number;
      if (o.scale === undefined || o.scale === 'auto') {
        const start = new Float64Array(p);
        const rng = rngFor(seed, 'if-lissa/power');
        for (const i of coords) start[i] = rng.normal();
        scale = 1.5 * spectralNorm(op, start);
        if (!(scale > 0)) throw new Error(`${where}: H + λI is zero on the selected coordinates; set damping > 0`);
      } else scale = o.scale;
      const r = solveLissa(op, Q, nq, o, scale, where, keep);
      X = r.X;
      const its = (o.depth ?? 1000) * (o.repeats ?? 1);
      r.residuals.forEach((res, q) => report({ solver, query: q, iterations: its, residual: res, converged: res < 0.1, damping, scale }));
    }
    return { X, Q, damping, info };
  } finally {
    op.dispose();
  }
}

/**
 * Influence-function scores: (1/n) x_qᵀ ∇ℓ_z(θ_T), x_q from {@link inverseHvpQueries}.
 * @returns `[trainIds.length, queries.n]` (removal convention)
 */
export async function influenceScores(task: AttributionTask, solver: IfSolver, o: InfluenceOptions = {}): Promise<ScoreMatrix> {
  const { X } = inverseHvpQueries(task, solver, o);
  const p = numParams(task.model.spec);
  const nq = task.queries.n;
  const n = task.data.n;
  const T = task.trajectory.manifest.steps;
  const out = scoreMatrix(task.trainIds.length, nq);
  const chunk = o.hvpBatch ?? 256;
  for (let a = 0; a < task.trainIds.length; a += chunk) {
    const G = trainGradsAt(task, T, task.trainIds.slice(a, a + chunk));
    for (let k = 0; k < G.length / p; k++) {
      const g = G.subarray(k * p, (k + 1) * p);
      // X is zero outside the mask, so this is the masked inner product.
      for (let q = 0; q < nq; q++) out.values[(a + k) * nq + q] = dot64(X.subarray(q * p, (q + 1) * p), g) / n;
    }
  }
  return out;
}

function ifEstimator(solver: IfSolver, summary: string): Estimator<InfluenceOptions> {
  return { name: `if-${solver}`, summary, score: (task, o) => influenceScores(task, solver, o) };
}

export const ifExplicit = ifEstimator('explicit', 'influence function at θ_T, (1/n)∇ℓ_qᵀ(H+λI)^{-1}∇ℓ_z, H built explicitly (p ≤ 2000) and factored in float64');
export const ifCg = ifEstimator('cg', 'influence function at θ_T, (1/n)∇ℓ_qᵀ(H+λI)^{-1}∇ℓ_z, conjugate gradients per query');
export const ifLissa = ifEstimator('lissa', 'influence function at θ_T, (1/n)∇ℓ_qᵀ(H+λI)^{-1}∇ℓ_z, LiSSA with seeded mini-batch HVPs');
