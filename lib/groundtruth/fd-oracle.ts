/**
 * Finite-difference oracle for first-order estimators: the derivative of every query loss with respect
 * to one training sample's loss weight, taken on the REAL training run (the trainer, not a model of it).
 *
 *     fd(z, q) = −[ℓ_q(θ_T(w_z = 1+ε)) − ℓ_q(θ_T(w_z = 1−ε))] / 2ε
 *
 * is the first-order removal effect (w_z: 1 → 0) in the suite's sign convention, so an estimator that
 * linearises the run exactly must agree with it up to O(ε²) and float32 noise. Runs branch from the base
 * trajectory at the sample's first perturbed occurrence (the earlier steps are identical).
 *
 * @module
 */
import type { Dataset } from '../data/dataset.ts';
import type { Model } from '../models/types.ts';
import { disposeParams, unflattenParams } from '../models/params.ts';
import { train } from '../train/trainer.ts';
import type { Occurrence, Trajectory } from '../train/trajectory.ts';
import { scoreMatrix, type ScoreMatrix } from '../analysis/score-matrix.ts';
import { occurrenceRows } from '../estimators/occurrence.ts';
import { queryLosses } from './common.ts';

/** Options of {@link fdRemovalEffect}. */
export interface FdOracleOptions {
  /** Relative weight perturbation ε (default 1e-2; float32 runs need ε ≫ 1e-4). */
  eps?: number;
  /** Which occurrences are perturbed (default 'all'). */
  occurrence?: Occurrence;
}

/**
 * Central finite differences of the query losses w.r.t. the loss weight of each id.
 * @param base the base trajectory (complete, full states) of `model` on `data`
 * @returns `[ids.length, queries.n]` first-order removal effects
 */
export async function fdRemovalEffect(
  model: Model,
  data: Dataset,
  base: Trajectory,
  queries: Dataset,
  ids: number[],
  opts: FdOracleOptions = {},
): Promise<ScoreMatrix> {
  const eps = opts.eps ?? 1e-2;
  if (!(eps > 0 && eps < 1)) throw new Error(`fdRemovalEffect: eps must be in (0, 1), got ${eps}`);
  const rows = occurrenceRows(base.batches, ids, opts.occurrence ?? 'all');
  const steps = new Map<number, Set<number>>();
  rows.forEach((rs, t) => rs.forEach((r) => (steps.get(r.id) ?? steps.set(r.id, new Set()).get(r.id)!).add(t)));
  const out = scoreMatrix(ids.length, queries.n);
  for (const [row, id] of ids.entries()) {
    const at = steps.get(id);
    if (!at || at.size === 0) continue; // never used: no effect
    const first = Math.min(...at);
    const losses: Float32Array[] = [];
    for (const sign of [1, -1]) {
      const traj = await train({
        model,
        data,
        setting: base.manifest.setting,
        from: { step: first, state: base.states.at(first) },
        weights: (i, t) => (i === id && at.has(t) ? 1 + sign * eps : 1),
        record: 'none',
      });
      const params = unflattenParams(traj.states.final().theta, model.spec);
      try {
        losses.push(queryLosses(model, params, queries));
      } finally {
        disposeParams(params);
      }
    }
    // Differences in float64 on the host (float32 values widened), never tf.sub of float32 losses.
    for (let q = 0; q < queries.n; q++) out.values[row * queries.n + q] = -(losses[0][q] - losses[1][q]) / (2 * eps);
  }
  return out;
}
