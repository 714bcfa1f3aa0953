/**
 * AdamW-influence (Deng et al. 2026): the removal effect propagated through the joint (θ, m, v) state
 * of AdamW — push (the sample's share of the gradient enters m and v), transition (momentum and adaptive
 * rescaling, Hessian-free), coupling (through H_t). Bias correction, ε, decoupled weight decay and the
 * applied LR schedule are all part of the linearised map (optim/linearize.ts).
 *
 * @module
 */
import type { CurvatureKind } from '../autodiff/curvature.ts';
import type { ScoreMatrix } from '../analysis/score-matrix.ts';
import { trajectorySweep } from './sweep.ts';
import type { AttributionTask, Estimator, EstimatorOptions } from './types.ts';

/** Options of AdamW-influence. */
export interface AdamWInfluenceOptions extends EstimatorOptions {
  /** H_t model: `exact` HVPs (default), `ggn`, `fisher` (empirical Fisher, as dattri-llm), `none`. */
  curvature?: CurvatureKind;
}

export const adamwInfluence: Estimator<AdamWInfluenceOptions> = {
  name: 'adamw-influence',
  summary: 'first-order removal effect through AdamW\'s joint (θ, m, v) dynamics; exact for the recorded AdamW run',
  score(task: AttributionTask, o: AdamWInfluenceOptions = {}): Promise<ScoreMatrix> {
    return trajectorySweep(task, { ...o, dynamics: 'adamw', curvature: o.curvature ?? 'exact' });
  },
};
