/**
 * One optimizer step as a linear map on a query-side adjoint, for the look-ahead sweeps: the coupling
 * a = R_tᵀU (the sensitivity of the read-out to the batch gradient of step t) and the transition
 * U ← U J_t (optim/linearize.ts), with the batch curvature supplied by a {@link CurvatureKind}.
 *
 * Both optimizers share one form so the callers need not branch: the removal score of a sample with
 * raw gradient g_z = ∇ℓ_z(θ_t) in a batch with divisor D_t is −a·g_z / D_t, and the transition is
 * U_θ ← (1−η_tλ)U_θ + H_t a (+ the diagonal m, v parts for AdamW). For plain SGD a = −η_t U_θ, which
 * gives the SGD-influence score η_t U_θ·g_z / D_t and the transition U_θ ← (1−ηλ)U_θ − ηH_tU_θ.
 *
 * @module
 */
import type { Batch, Model, Params } from '../models/types.ts';
import { lossAndGrad } from '../autodiff/loss.ts';
import { curvatureProduct, fisherFromGrads, type CurvatureKind } from '../autodiff/curvature.ts';
import {
  adamwCoupling,
  adamwDiagonals,
  adamwTransition,
  type AdamWAdjoint,
  type AdamWDiagonals,
  type AdamWHyper,
} from '../optim/linearize.ts';
import type { OptimizerSetting } from '../optim/optimizer.ts';
import type { FlatState } from '../train/trajectory.ts';

/** The linearised step t. */
export interface LinearStep {
  /** a = R_tᵀU, `[p]`; the removal score of sample z is −a·∇ℓ_z(θ_t)/D_t. */
  couple(U: AdamWAdjoint): Float64Array;
  /** U ← U J_t in place, given `a = couple(U)` (one curvature product). */
  transition(U: AdamWAdjoint, a: Float64Array): void;
  /** Curvature products done so far (the dominant cost). */
  products: number;
}

/** What {@link linearStep} needs about step t. */
export interface StepContext {
  model: Model;
  optimizer: OptimizerSetting;
  /** θ_t as tensors (owned by the caller). */
  params: Params;
  /** Batch B_t (owned by the caller). */
  batch: Batch;
  /** Per-example loss weights of step t, `[|B_t|]` (default 1). */
  weights?: Float32Array;
  /** D_t of the batch loss L_t = Σ w ℓ / D_t. */
  divisor: number;
  /** η_t. */
  lr: number;
  /** AdamW: the state after the step (m_{t+1}, v_{t+1}, optStep = k). Unused for SGD. */
  post?: FlatState;
  /** The batch gradient ∇L_t(θ_t) `[p]` (computed when absent; AdamW only). */
  grad?: Float32Array;
  /** Per-sample gradients of the batch `[|B_t|·p]`; required for `fisher`, which then reuses them. */
  perSample?: Float32Array;
  curvature: CurvatureKind;
}

/** Builds the linearisation of one step. @throws for SGD with momentum (not linearised) or missing moments */
export function linearStep(c: StepContext): LinearStep {
  const opts = { divisor: c.divisor, weights: c.weights };
  const B = c.batch.x.shape[0];
  const curv = (v: Float64Array): Float32Array | null => {
    if (c.curvature === 'none') return null;
    if (c.curvature === 'fisher') {
      if (!c.perSample) throw new Error("linearStep: curvature 'fisher' needs the batch's per-sample gradients");
      return fisherFromGrads(c.perSample, B, v, opts);
    }
    return curvatureProduct(c.curvature, c.model, c.params, c.batch, v, opts);
  };
  const o = c.optimizer;
  if (o.kind === 'sgd') {
    if (o.momentum !== 0) throw new Error(`look-ahead: SGD with momentum ${o.momentum} is not linearised (linearize.ts models plain SGD)`);
    const decay = 1 - c.lr * o.weightDecay;
    const step: LinearStep = {
      products: 0,
      couple(U) {
        const a = new Float64Array(U.theta.length);
        for (let i = 0; i < a.length; i++) a[i] = -c.lr * U.theta[i];
        return a;
      },
      transition(U, a) {
        const Ha = curv(a);
        if (Ha) step.products++;
        for (let i = 0; i < a.length; i++) U.theta[i] = decay * U.theta[i] + (Ha ? Ha[i] : 0);
      },
    };
    return step;
  }
  const post = c.post;
  if (!post?.m || !post.v) throw new Error('look-ahead: AdamW needs the moments after the step (record full states)');
  const hp: AdamWHyper = { beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay };
  const diag: AdamWDiagonals = adamwDiagonals(post.m, post.v, post.optStep, hp);
  const g = c.grad ?? lossAndGrad(c.model, c.params, c.batch, opts).grad;
  const step: LinearStep = {
    products: 0,
    couple: (U) => adamwCoupling(U, g, diag, c.lr, hp),
    transition(U, a) {
      const Ha = curv(a);
      if (Ha) step.products++;
      adamwTransition(U, Ha, diag, c.lr, hp);
    },
  };
  return step;
}
