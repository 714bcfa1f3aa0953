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
import type { ScoreMatrix } from '../analysis/score-matrix.ts';
import { disposeParams, unflattenParams } from '../models/params.ts';
import { disposeBatch, makeBatch } from '../data/batch.ts';
import { lossAndGrad } from '../autodiff/loss.ts';
import { adamwAdjoint, adamwCoupling, adamwDiagonals, dot } from '../optim/linearize.ts';
import { adamwHyperOf, eachStepUsingSample, queryGradsAt, trainGradsAt } from './kit.ts';
import type { AttributionTask, Estimator, EstimatorOptions } from './types.ts';

export const adamFirstOrder: Estimator = {
  name: 'adam-first-order',
  summary: 'one-step AdamW push of removing z, read by the query gradient after the step (no propagation)',
  async score(task: AttributionTask, o: EstimatorOptions = {}): Promise<ScoreMatrix> {
    const hp = adamwHyperOf(task, 'adam-first-order');
    const traj = task.trajectory;
    const nq = task.queries.n;
    return eachStepUsingSample(task, o, 'adam-first-order', ({ t, rows, ids, lr, divisor: D, p, out }) => {
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
      const G = trainGradsAt(task, t, ids, o.mask);
      const Q = queryGradsAt(task, t + 1);
      for (let q = 0; q < nq; q++) {
        const a = adamwCoupling(adamwAdjoint(Q.subarray(q * p, (q + 1) * p)), g, diag, lr, hp);
        rows.forEach((row, k) => {
          out.values[row * nq + q] -= dot(a, G.subarray(k * p, (k + 1) * p)) / D;
        });
      }
    });
  },
};
