/**
 * ACC-SGD-IE (Shi et al. 2025, arXiv 2510.26185; papers.md §2.2): SGD-influence with one adjoint per
 * (training sample, query). The counterfactual run without k never sees k's curvature, so at every step
 * where k is removed its adjoint is propagated with the leave-k-out batch Hessian
 *
 *     u_k ← (1 − ηλ) u_k − η_t H_t^{(−k)} u_k,   H_t^{(−k)} = ∇² (1/D_t) Σ_{i∈B_t, i≠k} ℓ_i   (the run's divisor kept)
 *
 * and with the full batch Hessian at other steps; the row of k at a step where k is removed is
 * (η_t/D_t)⟨u_k, ∇ℓ_k(θ_t)⟩, with u_k as carried back to that step. λ is coupled L2 weight decay.
 *
 * Sharing: going backwards, u_k equals the shared SGD-IE adjoint until the first step that removes k
 * (k's last occurrence); it is forked there and dropped after k's first occurrence, so samples used once
 * never fork and the estimator equals sgd-influence exactly on a single-epoch run. "Removed" follows the
 * `occurrence` option: with 'last', only the last occurrence is removed and H^{(−k)} applies there only.
 *
 * Cost per step: one curvature product per query for the shared adjoint plus one per live forked
 * adjoint and query. Memory: (peak number of live forked adjoints + 1) × n_q × p float64 values, at most
 * (n_sel + 1) × n_q × p; guarded by `maxFloats`.
 *
 * Mask (optional): query gradient and adjoints are projected onto the mask after every transition
 * (masks.ts), which drops the curvature coupling with coordinates outside it.
 *
 * @module
 */
import { makeBatch, disposeBatch } from '../data/batch.ts';
import { numParams } from '../models/types.ts';
import { disposeParams, unflattenParams } from '../models/params.ts';
import { perSampleGrads } from '../autodiff/persample.ts';
import { curvatureProduct, CURVATURE_KINDS, fisherFromGrads, type CurvatureKind } from '../autodiff/curvature.ts';
import { dot, sgdTransition } from '../optim/linearize.ts';
import { scoreMatrix, type ScoreMatrix } from '../analysis/score-matrix.ts';
import { occurrenceRows, type RowAtStep } from './occurrence.ts';
import { checkBaseRun, finalQueryGrads } from './sweep.ts';
import { checkMask, maskIndicator, projectInPlace } from './masks.ts';
import type { AttributionTask, Estimator, EstimatorOptions } from './types.ts';

/** Options of ACC-SGD-IE. */
export interface AccSgdIeOptions extends EstimatorOptions {
  /** H_t model (default `exact`); leave-k-out is applied by giving k weight 0 in the batch loss. */
  curvature?: CurvatureKind;
  /** Coupled L2 weight decay in the modelled step; default the run's (SGD runs). */
  weightDecay?: number;
  /** Refuse runs needing more than this many float64 adjoint entries (default 2e8 ≈ 1.6 GB). */
  maxFloats?: number;
  /** Allow an AdamW run or SGD with momentum (the SGD step map is then a mismatched model, as for sgd-influence). */
  allowMismatch?: boolean;
  /** Queries per chunk when computing query gradients. */
  queryChunk?: number;
}

/** Peak number of forked adjoints alive at once (a row is alive at steps t with first < t ≤ last). */
function peakForks(rows: RowAtStep[][], nRows: number): number {
  const first = new Array<number>(nRows).fill(-1);
  const last = new Array<number>(nRows).fill(-1);
  rows.forEach((rs, t) => rs.forEach((r) => {
    if (first[r.row] < 0) first[r.row] = t;
    last[r.row] = t;
  }));
  const delta = new Array<number>(rows.length + 1).fill(0);
  for (let r = 0; r < nRows; r++) {
    if (first[r] >= 0 && last[r] > first[r]) {
      delta[first[r] + 1]++;
      delta[last[r] + 1]--;
    }
  }
  let live = 0;
  let peak = 0;
  for (const d of delta) peak = Math.max(peak, (live += d));
  return peak;
}

/**
 * ACC-SGD-IE scores (see module doc).
 * @returns `[trainIds.length, queries.n]` (removal convention)
 */
export async function accSgdIeScores(task: AttributionTask, o: AccSgdIeOptions = {}): Promise<ScoreMatrix> {
  const where = 'acc-sgd-ie';
  const T = checkBaseRun(task, where);
  const traj = task.trajectory;
  const opt = traj.manifest.setting.optimizer;
  if (!o.allowMismatch && (opt.kind !== 'sgd' || opt.momentum !== 0)) {
    const what = opt.kind === 'sgd' ? `SGD with momentum ${opt.momentum}` : `'${opt.kind}'`;
    throw new Error(`${where}: models plain SGD steps, but this run used ${what}; pass allowMismatch: true to use the SGD step map anyway`);
  }
  const kind = o.curvature ?? 'exact';
  if (!CURVATURE_KINDS.includes(kind)) throw new Error(`${where}: curvature must be one of ${CURVATURE_KINDS.join(' | ')}, got '${String(kind)}'`);
  const wd = o.weightDecay ?? (opt.kind === 'sgd' ? opt.weightDecay : 0);
  if (!(Number.isFinite(wd) && wd >= 0)) throw new Error(`${where}: weightDecay must be a finite number ≥ 0, got ${wd}`);
  const maxFloats = o.maxFloats ?? 2e8;
  if (!(maxFloats > 0)) throw new Error(`${where}: maxFloats must be > 0, got ${maxFloats}`);

  const p = numParams(task.model.spec);
  const nq = task.queries.n;
  const nRows = task.trainIds.length;
  const rows = occurrenceRows(traj.batches, task.trainIds, o.occurrence ?? 'all');
  const peak = peakForks(rows, nRows);
  const need = (peak + 1) * nq * p;
  if (need > maxFloats) {
    throw new Error(
      `${where}: needs ${peak} per-sample adjoints (+1 shared) × ${nq} queries × p = ${p} = ${need.toExponential(3)} float64 values ` +
        `> maxFloats = ${maxFloats.toExponential(3)}; use fewer queries or trainIds (or a mask), or raise maxFloats`,
    );
  }
  const keep = o.mask ? maskIndicator(checkMask(where, o.mask, p), p) : undefined;

  // Steps at which each row is removed, for the fork/drop decisions.
  const firstStep = new Array<number>(nRows).fill(-1);
  const lastStep = new Array<number>(nRows).fill(-1);
  rows.forEach((rs, t) => rs.forEach((r) => {
    if (firstStep[r.row] < 0) firstStep[r.row] = t;
    lastStep[r.row] = t;
  }));

  const out = scoreMatrix(nRows, nq);
  const Q = finalQueryGrads(task, o.queryChunk);
  const shared: Float64Array[] = [];
  for (let q = 0; q < nq; q++) {
    const u = Float64Array.from(Q.subarray(q * p, (q + 1) * p));
    if (keep) projectInPlace(u, keep);
    shared.push(u);
  }
  /** Forked adjoints: row → one vector per query. */
  const forks = new Map<number, Float64Array[]>();

  for (let t = T - 1; t >= 0; t--) {
    const D = traj.divisors[t];
    if (D === 0) continue; // skipped step: identity map
    const lr = traj.lrs[t];
    const ids = traj.batches[t];
    const here = rows[t];
    const params = unflattenParams(traj.states.at(t).theta, task.model.spec);
    const batch = makeBatch(task.data, ids);
    try {
      const lossOpts = { divisor: D };
      // The empirical Fisher reuses one set of per-sample gradients for every adjoint of the step.
      const Gbatch = kind === 'fisher' ? perSampleGrads(task.model, params, batch) : undefined;
      const curv = (v: Float64Array, weights?: Float64Array): Float32Array | null => {
        if (kind === 'none') return null;
        const lo = weights ? { ...lossOpts, weights } : lossOpts;
        return Gbatch ? fisherFromGrads(Gbatch, ids.length, v, lo) : curvatureProduct(kind, task.model, params, batch, v, lo);
      };
      const step = (u: Float64Array, Hu: ArrayLike<number> | null) => {
        sgdTransition(u, Hu, lr, wd);
        if (keep) projectInPlace(u, keep);
      };

      // 1. Rows of the samples removed at t, with their own adjoint (the shared one before their fork).
      if (here.length) {
        const sub = makeBatch(task.data, here.map((r) => r.id));
        let Gz: Float32Array;
        try {
          Gz = perSampleGrads(task.model, params, sub);
        } finally {
          disposeBatch(sub);
        }
        here.forEach((r, k) => {
          const us = forks.get(r.row) ?? shared;
          const g = Gz.subarray(k * p, (k + 1) * p);
          for (let q = 0; q < nq; q++) out.values[r.row * nq + q] += (lr * dot(us[q], g)) / D;
        });
      }

      // 2. Live forks: leave-k-out Hessian if k is removed at t, else the full one; drop after k's first occurrence.
      const removedHere = new Map(here.map((r) => [r.row, r] as const));
      for (const [row, us] of forks) {
        if (firstStep[row] === t) {
          forks.delete(row);
          continue;
        }
        const r = removedHere.get(row);
        let w: Float64Array | undefined;
        if (r) {
          w = new Float64Array(ids.length).fill(1);
          w[r.pos] = 0;
        }
        for (const u of us) step(u, curv(u, w));
      }

      // 3. New forks at k's last removed occurrence (only if k is removed again earlier), from the shared adjoint.
      for (const r of here) {
        if (lastStep[r.row] !== t || firstStep[r.row] === t) continue;
        const w = new Float64Array(ids.length).fill(1);
        w[r.pos] = 0;
        forks.set(r.row, shared.map((u0) => {
          const u = Float64Array.from(u0);
          step(u, curv(u, w));
          return u;
        }));
      }

      // 4. The shared SGD-IE adjoint (full batch Hessian).
      for (const u of shared) step(u, curv(u));
    } finally {
      disposeParams(params);
      disposeBatch(batch);
    }
    o.onProgress?.(T - t, T, 'steps');
    if ((T - t) % 8 === 0) await new Promise((res) => setTimeout(res, 0)); // let progress render
  }
  return out;
}

export const accSgdIe: Estimator<AccSgdIeOptions> = {
  name: 'acc-sgd-ie',
  summary: 'ACC-SGD-IE (Shi et al. 2025): per-sample SGD adjoints with leave-k-out batch Hessians; equals sgd-influence on single-epoch runs',
  score: accSgdIeScores,
};
