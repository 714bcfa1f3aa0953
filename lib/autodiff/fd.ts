/**
 * Central finite-difference HVP (∇L(θ+εv) − ∇L(θ−εv)) / 2ε: a fallback for ops without second-order
 * gradients and the test oracle for {@link hvp}. Gradients are float32 (tfjs has no float64); the
 * perturbation and the difference are done in float64. Expect ~1e-4 relative error at the best ε
 * (ε ≈ 1e-2…1e-3 with ‖v‖ = 1); smaller ε is dominated by float32 round-off.
 *
 * @module
 */
import { flattenParams, unflattenParams, disposeParams } from '../models/params.ts';
import { checkParams } from '../models/nn.ts';
import { numParams, type Batch, type Model, type Params } from '../models/types.ts';
import type { LossOptions } from './batch.ts';
import { lossAndGrad } from './loss.ts';
import { checkVector, type FlatVec } from './vec.ts';

/** Options of {@link fdHvp}: step ε (default 1e-3) plus the loss weights/divisor. */
export interface FdOptions extends LossOptions {
  eps?: number;
}

/**
 * Central-difference H v of L = (1/D) Σ w_i ℓ_i (2 gradient evaluations).
 * @param v `[p]`
 * @returns Float64Array `[p]`
 */
export function fdHvp(model: Model, params: Params, batch: Batch, v: FlatVec, opts: FdOptions = {}): Float64Array {
  checkParams(model.spec, params, 'fdHvp');
  const p = numParams(model.spec);
  checkVector('fdHvp', 'v', v, p);
  const eps = opts.eps ?? 1e-3;
  if (!Number.isFinite(eps) || eps <= 0) throw new Error(`fdHvp: 'eps' must be a finite number > 0, got ${eps}`);
  const theta = flattenParams(params, model.spec);
  const grads: Float32Array[] = [];
  for (const sign of [1, -1]) {
    const shifted = new Float64Array(p);
    for (let k = 0; k < p; k++) shifted[k] = theta[k] + sign * eps * v[k];
    const ps = unflattenParams(shifted, model.spec);
    try {
      grads.push(lossAndGrad(model, ps, batch, opts).grad);
    } finally {
      disposeParams(ps);
    }
  }
  const out = new Float64Array(p);
  for (let k = 0; k < p; k++) out[k] = (grads[0][k] - grads[1][k]) / (2 * eps);
  return out;
}
