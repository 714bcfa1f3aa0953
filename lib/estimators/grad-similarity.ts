/**
 * Final-model gradient similarities (the final-model-only view, arXiv 2412.03906):
 * `grad-dot` ⟨∇ℓ_q(θ_T), ∇ℓ_z(θ_T)⟩ and `grad-cos` its cosine. Same sign as removal (positive = helpful).
 *
 * @module
 */
import { numParams } from '../models/types.ts';
import { scoreMatrix, type ScoreMatrix } from '../analysis/score-matrix.ts';
import { dot } from '../optim/linearize.ts';
import { finalQueryGrads } from './sweep.ts';
import { accumulateDots, trainGradsAt } from './kit.ts';
import type { AttributionTask, Estimator, EstimatorOptions } from './types.ts';
import { projectRows } from './masks.ts';

function norms(G: Float32Array, n: number, p: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const g = G.subarray(i * p, (i + 1) * p);
    out[i] = Math.sqrt(dot(g, g));
  }
  return out;
}

function finalModel(task: AttributionTask, cosine: boolean, mask?: Int32Array): ScoreMatrix {
  const T = task.trajectory.manifest.endStep;
  const p = numParams(task.model.spec);
  const Q = finalQueryGrads(task);
  projectRows(Q, p, mask); // masked cosine needs masked norms on both sides
  const G = trainGradsAt(task, T, task.trainIds, mask);
  const out = scoreMatrix(task.trainIds.length, task.queries.n);
  accumulateDots(out, task.trainIds.map((_, r) => r), G, Q, p, 1);
  if (cosine) {
    const gn = norms(G, task.trainIds.length, p);
    const qn = norms(Q, task.queries.n, p);
    for (let r = 0; r < out.nTrain; r++) {
      for (let q = 0; q < out.nQuery; q++) out.values[r * out.nQuery + q] /= Math.max(gn[r] * qn[q], 1e-30);
    }
  }
  return out;
}

export const gradDot: Estimator = {
  name: 'grad-dot',
  summary: 'final-model gradient inner product ⟨∇ℓ_q(θ_T), ∇ℓ_z(θ_T)⟩',
  score: (task: AttributionTask, o: EstimatorOptions = {}) => Promise.resolve(finalModel(task, false, o.mask)),
};

export const gradCos: Estimator = {
  name: 'grad-cos',
  summary: 'final-model gradient cosine similarity',
  score: (task: AttributionTask, o: EstimatorOptions = {}) => Promise.resolve(finalModel(task, true, o.mask)),
};
