/**
 * The estimator contract (dattri's Task + Attributor split): an {@link AttributionTask} bundles what was
 * trained and what is asked; an {@link Estimator} turns it into a {@link ScoreMatrix}.
 *
 * Sign convention (everywhere): score(z, q) ≈ ℓ_q(θ_T trained without z) − ℓ_q(θ_T), the predicted change
 * of query q's loss when training sample z is removed; positive = z helped q. Removal is of every
 * occurrence unless `occurrence` says otherwise; the counterfactual batch divisor is the original |B_t|.
 *
 * @module
 */
import type { Dataset } from '../data/dataset.ts';
import type { Model } from '../models/types.ts';
import type { ScoreMatrix } from '../analysis/score-matrix.ts';
import type { Occurrence, Trajectory } from '../train/trajectory.ts';
import type { ResumeSpec } from '../cache/resume.ts';

/** What was trained and what is asked. */
export interface AttributionTask {
  model: Model;
  /** The training set the trajectory's batch ids index. */
  data: Dataset;
  /** A base run (no removal, unit weights) with full states (θ, and m, v for AdamW) at every step. */
  trajectory: Trajectory;
  /** Query examples; the attributed quantity is each query's loss ℓ_q at θ_T. */
  queries: Dataset;
  /** Training ids to score (the rows of the result, in this order). */
  trainIds: number[];
}

/** Progress callback: `done` of `total` units of `what`. */
export type Progress = (done: number, total: number, what: string) => void;

/** Options every estimator understands. */
export interface EstimatorOptions {
  /** Which occurrences of a training sample are removed (default 'all'). */
  occurrence?: Occurrence;
  /**
   * Restrict attribution to these flat parameter coordinates (sorted, spec order; see masks.ts): every
   * gradient-space vector is projected onto the mask, and a trajectory adjoint after every transition.
   */
  mask?: Int32Array;
  onProgress?: Progress;
  /**
   * Checkpoint long loops here and resume from it (estimators whose loop is long honour it: the SGD- and
   * AdamW-influence sweeps). The key must name everything that determines the scores; a resumed run is
   * bit-identical to an uninterrupted one.
   */
  checkpoint?: ResumeSpec;
}

/** An attribution method. */
export interface Estimator<O extends EstimatorOptions = EstimatorOptions> {
  /** Registry name, e.g. `adamw-influence`. */
  readonly name: string;
  /** One line: what it computes and under which assumptions. */
  readonly summary: string;
  /** Scores `[trainIds.length, queries.n]`. */
  score(task: AttributionTask, options?: O): Promise<ScoreMatrix>;
}
