/**
 * TracIn (Pruthi et al. 2020).
 *
 * - `tracin`: the first-order TracIn along the recorded steps,
 *   score(z, q) = Σ_{t: z∈B_t} η_t ⟨∇ℓ_q(θ_t), ∇ℓ_z(θ_t)⟩ / D_t — the loss change of q caused by the steps that
 *   used z, to first order (query gradient at the step, not at θ_T).
 * - `tracin-cp`: the checkpoint version, Σ_i η_{t_i} ⟨∇ℓ_q(θ_{t_i}), ∇ℓ_z(θ_{t_i})⟩ over checkpoints every k
 *   steps, independent of when z was used (Captum's TracInCP).
 * Positive = proponent = removing z raises q's loss: the suite's removal sign.
 *
 * @module
 */
import { numParams } from '../models/types.ts';
import { scoreMatrix, type ScoreMatrix } from '../analysis/score-matrix.ts';
import { UsageError } from '../runtime/errors.ts';
import { accumulateDots, checkBaseRun, eachStepUsingSample, queryGradsAt, trainGradsAt } from './kit.ts';
import type { AttributionTask, Estimator, EstimatorOptions } from './types.ts';

export const tracin: Estimator = {
  name: 'tracin',
  summary: 'TracIn along the recorded steps: Σ_t η_t⟨∇ℓ_q(θ_t), ∇ℓ_z(θ_t)⟩/D_t over the steps that used z',
  score: (task: AttributionTask, o: EstimatorOptions = {}): Promise<ScoreMatrix> =>
    eachStepUsingSample(task, o, 'tracin', (s) => {
      accumulateDots(s.out, s.rows, trainGradsAt(task, s.t, s.ids, o.mask), queryGradsAt(task, s.t), s.p, s.lr / s.divisor);
    }),
};

/** Options of TracInCP. */
export interface TracInCpOptions extends EstimatorOptions {
  /** Use θ_t for t = k, 2k, …, T (default: T/10 rounded, at least 1). */
  checkpointEvery?: number;
}

export const tracinCp: Estimator<TracInCpOptions> = {
  name: 'tracin-cp',
  summary: 'TracInCP: Σ over checkpoints η_i⟨∇ℓ_q(θ_i), ∇ℓ_z(θ_i)⟩ (Captum), regardless of when z was used',
  async score(task: AttributionTask, o: TracInCpOptions = {}): Promise<ScoreMatrix> {
    const T = checkBaseRun(task, 'tracin-cp');
    const k = o.checkpointEvery ?? Math.max(1, Math.round(T / 10));
    if (!(Number.isInteger(k) && k >= 1)) throw new UsageError(`tracin-cp: checkpointEvery must be a positive integer, got ${k}`);
    const p = numParams(task.model.spec);
    const out = scoreMatrix(task.trainIds.length, task.queries.n);
    const rows = task.trainIds.map((_, r) => r);
    const cps: number[] = [];
    for (let t = k; t <= T; t += k) cps.push(t);
    if (cps[cps.length - 1] !== T) cps.push(T);
    for (const [i, t] of cps.entries()) {
      const Q = queryGradsAt(task, t);
      const G = trainGradsAt(task, t, task.trainIds, o.mask);
      // The LR of the step that produced checkpoint t (Captum stores the LR with each checkpoint).
      accumulateDots(out, rows, G, Q, p, task.trajectory.lrs[t - 1]);
      o.onProgress?.(i + 1, cps.length, 'checkpoints');
    }
    return out;
  },
};
