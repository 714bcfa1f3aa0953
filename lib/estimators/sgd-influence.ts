/**
 * SGD-influence (Hara et al. 2019): u ← u − η_t H_t u backwards from the query gradient, each step scoring
 * η_t⟨u, g_{t,z}⟩. Exact for plain SGD runs (coupled weight decay included); on an AdamW run it is the
 * paper's optimizer-mismatched baseline (same applied η_t, SGD step map).
 *
 * @module
 */
import type { CurvatureKind } from '../autodiff/curvature.ts';
import type { ScoreMatrix } from '../analysis/score-matrix.ts';
import { trajectorySweep } from './sweep.ts';
import type { AttributionTask, Estimator, EstimatorOptions } from './types.ts';

/** Options of SGD-influence. */
export interface SgdInfluenceOptions extends EstimatorOptions {
  /** H_t model (default `exact`); `none` gives TracIn with the final-model query gradient. */
  curvature?: CurvatureKind;
  /** Coupled L2 weight decay in the modelled step; default the run's when it is an SGD run, else 0. */
  weightDecay?: number;
}

export const sgdInfluence: Estimator<SgdInfluenceOptions> = {
  name: 'sgd-influence',
  summary: 'unrolled SGD influence (Hara et al. 2019) with exact HVPs; exact for plain-SGD runs',
  score(task: AttributionTask, o: SgdInfluenceOptions = {}): Promise<ScoreMatrix> {
    return trajectorySweep(task, { ...o, dynamics: 'sgd', curvature: o.curvature ?? 'exact' });
  },
};
