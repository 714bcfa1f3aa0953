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

/**
 * Partial AdamW accounting, to show which part of the optimizer matters (each is a *wrong* linearisation of
 * the recorded AdamW run on purpose):
 * - `no-bias-correction`: m̂ = m, v̂ = v (1−β^k treated as 1) in every diagonal and coefficient;
 * - `v-frozen`: v is treated as a constant: no push into v and no path through v (S = 0);
 * - `no-momentum`: m is bypassed: a gradient change moves θ only at its own step, by −η/(√v̂+ε) (β1 = 0 and no
 *   1−β1^k in the linearisation; the recorded m̂ still enters S).
 */
export type AdamWAblation = 'none' | 'no-bias-correction' | 'v-frozen' | 'no-momentum';

/** Options of AdamW-influence. */
export interface AdamWInfluenceOptions extends EstimatorOptions {
  /** H_t model: `exact` HVPs (default), `ggn`, `fisher` (empirical Fisher, as dattri-llm), `none`. */
  curvature?: CurvatureKind;
  /** Partial accounting of the optimizer (default `none` = the full joint linearisation). */
  ablation?: AdamWAblation;
}

export const adamwInfluence: Estimator<AdamWInfluenceOptions> = {
  name: 'adamw-influence',
  summary: 'first-order removal effect through AdamW\'s joint (θ, m, v) dynamics; exact for the recorded AdamW run',
  score(task: AttributionTask, o: AdamWInfluenceOptions = {}): Promise<ScoreMatrix> {
    return trajectorySweep(task, { ...o, dynamics: 'adamw', curvature: o.curvature ?? 'exact', ablation: o.ablation ?? 'none' });
  },
};
