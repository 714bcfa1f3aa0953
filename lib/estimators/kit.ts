/**
 * The estimator kit: the building blocks the built-in estimators are made of, and the per-step template that
 * every "sum over the steps that used z" estimator (TracIn, Adam first-order, the notebook's TracIn-Adam) fills
 * in. Write a new estimator from these and register it with `registerEstimator` (registry.ts).
 *
 * Conventions (types.ts): rows `[trainIds.length]` × columns `[queries.n]`, removal sign (positive = removing z
 * raises q's loss), every occurrence removed unless `occurrence` says otherwise, the counterfactual batch
 * divisor is the original |B_t|.
 *
 * @example A first-order estimator in six lines (TracIn):
 * ```ts
 * import { accumulateDots, eachStepUsingSample, queryGradsAt, trainGradsAt } from './kit.ts';
 * const myTracin: Estimator = {
 *   name: 'my-tracin', summary: 'Σ_t η_t/D_t ⟨∇ℓ_q(θ_t), ∇ℓ_z(θ_t)⟩',
 *   score: (task, o = {}) => eachStepUsingSample(task, o, 'my-tracin', (s) => {
 *     accumulateDots(s.out, s.rows, trainGradsAt(task, s.t, s.ids, o.mask), queryGradsAt(task, s.t), s.p, s.lr / s.divisor);
 *   }),
 * };
 * ```
 *
 * @module
 */
import { makeBatch, disposeBatch } from '../data/batch.ts';
import { numParams } from '../models/types.ts';
import { disposeParams } from '../models/params.ts';
import { perSampleGrads } from '../autodiff/persample.ts';
import { scoreMatrix, type ScoreMatrix } from '../analysis/score-matrix.ts';
import { dot } from '../optim/linearize.ts';
import { UsageError } from '../runtime/errors.ts';
import type { AdamWHyper } from '../optim/linearize.ts';
import { occurrenceRows } from './occurrence.ts';
import { checkBaseRun, queryGradsAt } from './sweep.ts';
import { projectRows } from './masks.ts';
import type { AttributionTask, EstimatorOptions } from './types.ts';

export { checkBaseRun, numParams, occurrenceRows, queryGradsAt, scoreMatrix };

/** Per-sample gradients of training ids at state t, projected onto `mask` if given: `[ids.length·p]`. */
export function trainGradsAt(task: AttributionTask, t: number, ids: number[], mask?: Int32Array): Float32Array {
  const params = task.trajectory.states.params(t);
  const b = makeBatch(task.data, ids);
  try {
    const G = perSampleGrads(task.model, params, b);
    projectRows(G, numParams(task.model.spec), mask);
    return G;
  } finally {
    disposeBatch(b);
    disposeParams(params);
  }
}

/** Adds s·⟨G_k, Q_q⟩ to `out[rows[k], q]` for every k and query q; G is `[rows.length·p]`, Q `[nQuery·p]`. */
export function accumulateDots(out: ScoreMatrix, rows: number[], G: Float32Array, Q: Float32Array, p: number, s: number): void {
  const nq = out.nQuery;
  rows.forEach((row, k) => {
    const g = G.subarray(k * p, (k + 1) * p);
    for (let q = 0; q < nq; q++) out.values[row * nq + q] += s * dot(g, Q.subarray(q * p, (q + 1) * p));
  });
}

/** One step t of the base run that used at least one scored sample, as {@link eachStepUsingSample} hands it. */
export interface StepUsingSample {
  /** Step index: the update θ_t → θ_{t+1}. */
  t: number;
  /** Result rows (indices into `trainIds`) of the scored occurrences in batch t, one per occurrence. */
  rows: number[];
  /** Their training ids, aligned with `rows`. */
  ids: number[];
  /** η_t. */
  lr: number;
  /** D_t, the batch divisor of step t (the counterfactual run keeps it). */
  divisor: number;
  /** Flat parameter count. */
  p: number;
  /** The result `[trainIds.length, queries.n]`, zeros at the start; add this step's share to it. */
  out: ScoreMatrix;
}

/**
 * The per-step template: checks the task is a complete base run, then calls `step` once for every step t
 * (in order) whose batch holds a scored occurrence (per `o.occurrence`) and whose divisor is non-zero, and
 * reports progress per step. Returns the accumulated score matrix.
 */
export async function eachStepUsingSample(
  task: AttributionTask,
  o: EstimatorOptions,
  name: string,
  step: (s: StepUsingSample) => void | Promise<void>,
): Promise<ScoreMatrix> {
  const T = checkBaseRun(task, name);
  const traj = task.trajectory;
  const p = numParams(task.model.spec);
  const byStep = occurrenceRows(traj.batches, task.trainIds, o.occurrence ?? 'all');
  const out = scoreMatrix(task.trainIds.length, task.queries.n);
  for (let t = 0; t < T; t++) {
    if (!byStep[t].length || traj.divisors[t] === 0) continue;
    await step({ t, rows: byStep[t].map((r) => r.row), ids: byStep[t].map((r) => r.id), lr: traj.lrs[t], divisor: traj.divisors[t], p, out });
    o.onProgress?.(t + 1, T, 'steps');
  }
  return out;
}

/** The AdamW hyper-parameters of the task's run; a {@link UsageError} naming `name` if it was not AdamW. */
export function adamwHyperOf(task: AttributionTask, name: string): AdamWHyper {
  const opt = task.trajectory.manifest.setting.optimizer;
  if (opt.kind !== 'adamw') throw new UsageError(`${name}: needs an AdamW run, this run used '${opt.kind}'`);
  return { beta1: opt.beta1, beta2: opt.beta2, eps: opt.eps, weightDecay: opt.weightDecay };
}
