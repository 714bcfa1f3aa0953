/**
 * Curvature-vector products C v of the weighted batch loss L(θ) = (1/D) Σ_i w_i ℓ_i(θ) behind one
 * interface, so estimators can swap the curvature model:
 *
 * | kind     | C                                             | cost                         |
 * |----------|-----------------------------------------------|------------------------------|
 * | `exact`  | H = ∇²L (double backprop, hvp.ts)              | ≈ 2–3 gradients              |
 * | `ggn`    | Σ_i (w_i/D) J_iᵀ H_out,i J_i (Gauss–Newton)    | ≈ 3 backward passes          |
 * | `fisher` | (1/D) Σ_i w_i g_i g_iᵀ, g_i = ∇ℓ_i (empirical) | B per-sample gradients       |
 * | `none`   | 0 (TracIn-style: no curvature)                | free                         |
 *
 * Fisher scale: with the mean loss (w = 1, D = B) F = (1/B) Σ_i g_i g_iᵀ, which is the authors'
 * group's `fisher_scale · Σ_z g_z g_zᵀ` with per-sample shares g_z/B and fisher_scale = B
 * (papers.md §1.7.5). GGN: ℓ_i is softmax cross-entropy of the logits, so H_out = diag(p) − ppᵀ per
 * row (classifiers) or per position (LMs, weighted by mask_t / max(Σ_t mask_t, 1) as in
 * `sequenceLoss`); for a model linear in θ (softmax regression) the GGN equals the Hessian.
 *
 * @module
 */
import { tf } from '../runtime/tf.ts';
import { paramList, paramRecord } from '../models/params.ts';
import { checkParams } from '../models/nn.ts';
import { numParams, type Batch, type Model, type Params } from '../models/types.ts';
import { batchSize, resolveWeights, type LossOptions } from './batch.ts';
import { mlpHvpHost, nativeMlpBlas, hvp } from './hvp.ts';
import { perSampleGrads, type PerSampleMethod } from './persample.ts';
import { gradsOf, requireSecondOrder } from './tape.ts';
import { checkVector, dotLists, splitFlat, tidyFlat, type FlatVec } from './vec.ts';

/** Which curvature matrix to multiply by. */
export type CurvatureKind = 'exact' | 'ggn' | 'fisher' | 'none';
export const CURVATURE_KINDS: readonly CurvatureKind[] = ['exact', 'ggn', 'fisher', 'none'];

/** Loss weights/divisor, plus the per-sample method used by `fisher`. */
export interface CurvatureOptions extends LossOptions {
  perSampleMethod?: PerSampleMethod;
}

/**
 * C v for the chosen curvature kind (see the module table).
 * @param v `[p]` spec order
 * @returns Float32Array `[p]`
 */
export function curvatureProduct(
  kind: CurvatureKind,
  model: Model,
  params: Params,
  batch: Batch,
  v: FlatVec,
  opts: CurvatureOptions = {},
): Float32Array {
  switch (kind) {
    case 'exact':
      return hvp(model, params, batch, v, opts);
    case 'ggn':
      return ggnProduct(model, params, batch, v, opts);
    case 'fisher':
      return fisherProduct(model, params, batch, v, opts);
    case 'none':
      checkParams(model.spec, params, 'curvatureProduct');
      checkVector('curvatureProduct', 'v', v, numParams(model.spec));
      batchSize(batch, 'curvatureProduct');
      return new Float32Array(v.length);
    default:
      throw new Error(`curvatureProduct: unknown kind '${kind as string}' (${CURVATURE_KINDS.join(' | ')})`);
  }
}

/**
 * Empirical Fisher product from precomputed per-sample gradients (lets a caller reuse G for many v):
 * F v = (1/D) Σ_i w_i g_i (g_iᵀ v), accumulated in float64.
 * @param G `[B·p]`, row i = g_i = ∇ℓ_i
 * @param v `[p]`
 * @returns Float32Array `[p]`
 */
export function fisherFromGrads(G: FlatVec, B: number, v: FlatVec, opts: LossOptions = {}): Float32Array {
  if (!Number.isInteger(B) || B <= 0) throw new Error(`fisherFromGrads: B must be a positive integer, got ${B}`);
  const p = v.length;
  checkVector('fisherFromGrads', 'G', G, B * p);
  const { w, D } = resolveWeights('fisherFromGrads', B, opts);
  const acc = new Float64Array(p);
  for (let i = 0; i < B; i++) {
    const o = i * p;
    let d = 0;
    for (let q = 0; q < p; q++) d += G[o + q] * v[q];
    const c = (w[i] / D) * d;
    if (c === 0) continue;
    for (let q = 0; q < p; q++) acc[q] += c * G[o + q];
  }
  return Float32Array.from(acc);
}

/**
 * Empirical Fisher product F v = (1/D) Σ_i w_i g_i (g_iᵀ v), g_i = ∇ℓ_i (unweighted per-sample grads).
 * @param v `[p]`
 * @returns Float32Array `[p]`
 */
export function fisherProduct(model: Model, params: Params, batch: Batch, v: FlatVec, opts: CurvatureOptions = {}): Float32Array {
  const p = numParams(model.spec);
  checkVector('fisherProduct', 'v', v, p);
  const B = batchSize(batch, 'fisherProduct');
  resolveWeights('fisherProduct', B, opts); // validate before the expensive part
  const G = perSampleGrads(model, params, batch, { method: opts.perSampleMethod });
  return fisherFromGrads(G, B, v, opts);
}

/**
 * Per-output weights c of the loss as a function of the logits: L = Σ c ⊙ CE(logits), i.e.
 * c_i = w_i/D for classifier logits `[B, K]`, and c_{i,t} = (w_i/D)·m_{i,t}/max(Σ_t m_{i,t}, 1) for
 * LM logits `[B, T, V]` (m = mask, all ones when absent) — the form of nn.ts `sequenceLoss`.
 * @returns tensor `[B, 1]` or `[B, T, 1]` (caller owns; create inside `tf.tidy`)
 */
export function logitLossWeights(batch: Batch, logitShape: number[], opts: LossOptions = {}): tf.Tensor {
  const B = batchSize(batch, 'logitLossWeights');
  const { w, D } = resolveWeights('logitLossWeights', B, opts);
  return tf.tidy(() => {
    const wd = tf.tensor1d(Float32Array.from(w, (x) => x / D), 'float32');
    if (logitShape.length === 2) return tf.reshape(wd, [B, 1]);
    if (logitShape.length !== 3) {
      throw new Error(`logitLossWeights: logits must be [B, K] or [B, T, V], got shape [${logitShape}]`);
    }
    const T = logitShape[1];
    const m = batch.mask ? tf.cast(batch.mask, 'float32') : tf.ones([B, T]);
    if (m.shape.length !== 2 || m.shape[1] !== T) throw new Error(`logitLossWeights: mask has shape [${m.shape}], expected [${B}, ${T}]`);
    const count = tf.maximum(tf.sum(m, 1, true), 1);
    return tf.expandDims(tf.mul(tf.div(m, count), tf.reshape(wd, [B, 1])), 2);
  });
}

/**
 * Generalised Gauss–Newton product G v = Jᵀ H_out J v for softmax cross-entropy heads, J = ∂logits/∂θ.
 * tfjs has no forward mode, so J v uses the double-vjp trick: Jᵀu = ∇_θ⟨logits, u⟩ is linear in u,
 * hence J v = ∇_u ⟨Jᵀu, v⟩ (evaluated at u = 0).
 * @param v `[p]`
 * @returns Float32Array `[p]`
 */
export function ggnProduct(model: Model, params: Params, batch: Batch, v: FlatVec, opts: LossOptions = {}): Float32Array {
  requireSecondOrder('ggnProduct');
  checkParams(model.spec, params, 'ggnProduct');
  checkVector('ggnProduct', 'v', v, numParams(model.spec));
  const native = nativeMlpBlas(model); // plain MLP with a native GEMM: the host pass (mlp-native.ts)
  if (native) return mlpHvpHost(native, model, params, batch, v, 1, opts, true);
  return ggnProductGraph(model, params, batch, v, opts);
}

/** {@link ggnProduct} through the tfjs graph on any model and engine (the reference for the host pass). */
export function ggnProductGraph(model: Model, params: Params, batch: Batch, v: FlatVec, opts: LossOptions = {}): Float32Array {
  return tidyFlat(() => {
    const spec = model.spec;
    const list = paramList(params, spec);
    const vs = splitFlat(v, spec);
    const logitsOf = () => model.logits(paramRecord(list, spec), batch.x);
    const z = logitsOf();
    const c = logitLossWeights(batch, z.shape, opts);
    const u = tf.zerosLike(z);
    const jtu = () => gradsOf(() => tf.sum(tf.mul(logitsOf(), u)), list).grads;
    const jv = gradsOf(() => dotLists(jtu(), vs), [u]).grads[0];
    // H_out (J v) row-wise: c ⊙ (p ⊙ a − p (pᵀa)).
    const pr = tf.softmax(z);
    const pa = tf.mul(pr, jv);
    const hjv = tf.mul(c, tf.sub(pa, tf.mul(pr, tf.sum(pa, -1, true))));
    return gradsOf(() => tf.sum(tf.mul(logitsOf(), hjv)), list).grads;
  });
}
