/**
 * Adam-preconditioned first-order score (LESS-style, no propagation): for each step t that used z, the
 * one-step AdamW push of removing z's share, read by the query gradient right after the step:
 *
 *     score(z, q) = Σ_{t: z∈B_t} ∇ℓ_q(θ_{t+1})ᵀ θ̇_push(z, t),   θ̇_push = −[−η(1−β1)/(1−β1^k) D + 2η(1−β2)/(1−β2^k) S⊙g] ⊙ g_{t,z}
 *
 * This is AdamW-influence truncated to a zero-step horizon (the K = 0 point of K-step look-ahead).
 *
 * @module
 */
import { numParams } from '../models/types.ts';
import { scoreMatrix, type ScoreMatrix } from '../analysis/score-matrix.ts';
import { disposeParams, unflattenParams } from '../models/params.ts';
import { disposeBatch, makeBatch } from '../data/batch.ts';
import { lossAndGrad } from '../autodiff/loss.ts';
import { adamwAdjoint, adamwCoupling, adamwDiagonals, dot } from '../optim/linearize.ts';
import { occurrenceRows } from './occurrence.ts';
import { checkBaseRun, queryGradsAt } from './sweep.ts';
import { trainGradsAt } from './tracin.ts';
import type { AttributionTask, Estimator, EstimatorOptions } from './types.ts';

export const adamFirstOrder: Estimator = {
  name: 'adam-first-order',
  summary: 'one-step AdamW push of removing z, read by the query gradient after the step (no propagation)',
  async score(task: AttributionTask, o: EstimatorOptions = {}): Promise<ScoreMatrix> {
    const T = checkBaseRun(task, 'adam-first-order');
    const traj = task.trajectory;
    const opt = traj.manifest.setting.optimizer;
    if (opt.kind !== 'adamw') throw new Error(`adam-first-order: needs an AdamW run, this run used '${opt.kind}'`);
    const hp = { beta1: opt.beta1, beta2: opt.beta2, eps: opt.eps, weightDecay: opt.weightDecay };
    const p = numParams(task.model.spec);
    const nq = task.queries.n;
    const rows = occurrenceRows(traj.batches, task.trainIds, o.occurrence ?? 'all');
    const out = scoreMatrix(task.trainIds.length, nq);
    for (let t = 0; t < T; t++) {
      const D = traj.divisors[t];
      if (!rows[t].length || D === 0) continue;
      const post = traj.states.at(t + 1);
      const diag = adamwDiagonals(post.m!, post.v!, post.optStep, hp);
      const params = unflattenParams(traj.states.at(t).theta, task.model.spec);
      const batch = makeBatch(task.data, traj.batches[t]);
      let g: Float32Array;
      try {
        g = lossAndGrad(task.model, params, batch, { divisor: D }).grad;
      } finally {
        disposeBatch(batch);
        disposeParams(params);
      }
      const G = trainGradsAt(task, t, rows[t].map((r) => r.id), o.mask);
      const Q = queryGradsAt(task, t + 1);
      for (let q = 0; q < nq; q++) {
        const a = adamwCoupling(adamwAdjoint(Q.subarray(q * p, (q + 1) * p)), g, diag, traj.lrs[t], hp);
        rows[t].forEach((r, k) => {
          out.values[r.row * nq + q] -= dot(a, G.subarray(k * p, (k + 1) * p)) / D;
        });
      }
      o.onProgress?.(t + 1, T, 'steps');
    }
    return out;
  },
};
