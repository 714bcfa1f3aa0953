/**
 * AdamW with exact PyTorch `torch.optim.AdamW` semantics, as a pure state-in / state-out function,
 * plus a float64 host reference of the same step (the oracle for tests and the estimators).
 *
 * For step k = state.step + 1 (papers.md §1.7.2, §5.2 item 8):
 *   θ ← θ·(1 − lr·λ)                    (decoupled weight decay, applied first, as PyTorch does)
 *   m ← β1·m + (1−β1)·g
 *   v ← β2·v + (1−β2)·g²
 *   θ ← θ − (lr/(1−β1^k)) · m / (√v/√(1−β2^k) + ε)      (ε OUTSIDE the square root)
 * The last line is PyTorch's arrangement of θ − lr·m̂/(√v̂+ε); bias corrections are float64 JS scalars.
 *
 * @module
 */
import { tf } from '../runtime/tf.ts';
import type { Params } from '../models/types.ts';

/** AdamW hyper-parameters of one step (`lr` is η_t, already scheduled). */
export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** AdamW state: first/second moments with the parameters' names and shapes, and the update count. */
export interface AdamWState {
  m: Params;
  v: Params;
  /** Number of updates applied so far (PyTorch's `state['step']` before this call). */
  step: number;
}

/** Validates AdamW hyper-parameters; `where` prefixes the error message. */
export function checkAdamWHyper(h: AdamWHyper, where = 'adamw'): void {
  const bad = (k: string, v: unknown, want: string) => new Error(`${where}: ${k} must be ${want}, got ${v}`);
  if (!(Number.isFinite(h.lr) && h.lr >= 0)) throw bad('lr', h.lr, 'a finite number ≥ 0');
  if (!(h.beta1 >= 0 && h.beta1 < 1)) throw bad('beta1', h.beta1, 'in [0, 1)');
  if (!(h.beta2 >= 0 && h.beta2 < 1)) throw bad('beta2', h.beta2, 'in [0, 1)');
  if (!(Number.isFinite(h.eps) && h.eps >= 0)) throw bad('eps', h.eps, 'a finite number ≥ 0');
  if (!(Number.isFinite(h.weightDecay) && h.weightDecay >= 0)) throw bad('weightDecay', h.weightDecay, 'a finite number ≥ 0');
}

/** Zero moments (step 0) shaped like `params` (new tensors, caller owns them). */
export function adamwInit(params: Params): AdamWState {
  const m: Params = {};
  const v: Params = {};
  for (const [k, t] of Object.entries(params)) {
    m[k] = tf.zerosLike(t);
    v[k] = tf.zerosLike(t);
  }
  return { m, v, step: 0 };
}

/** The float64 scalars of step k: decay factor, step size lr/(1−β1^k), √(1−β2^k). */
export function adamwScalars(h: AdamWHyper, k: number): { decay: number; stepSize: number; bc2Sqrt: number } {
  return {
    decay: 1 - h.lr * h.weightDecay,
    stepSize: h.lr / (1 - Math.pow(h.beta1, k)),
    bc2Sqrt: Math.sqrt(1 - Math.pow(h.beta2, k)),
  };
}

/**
 * One AdamW update. Pure: inputs are not modified or disposed; returns new tensors (call inside
 * `tf.tidy` or dispose the old state yourself).
 * @param params θ, each tensor any shape
 * @param grads  g with the same names/shapes as `params`
 * @returns θ' and the new state (m', v', step+1), same names/shapes
 */
export function adamwStep(
  params: Params,
  grads: Params,
  state: AdamWState,
  h: AdamWHyper,
): { params: Params; state: AdamWState } {
  checkAdamWHyper(h);
  const k = state.step + 1;
  const { decay, stepSize, bc2Sqrt } = adamwScalars(h, k);
  const out: Params = {};
  const m: Params = {};
  const v: Params = {};
  for (const name of Object.keys(params)) {
    const g = grads[name];
    if (!g) throw new Error(`adamwStep: missing gradient for parameter '${name}'`);
    const th = params[name];
    const mp = tf.add(tf.mul(state.m[name], h.beta1), tf.mul(g, 1 - h.beta1));
    const vp = tf.add(tf.mul(state.v[name], h.beta2), tf.mul(tf.mul(g, g), 1 - h.beta2));
    const denom = tf.add(tf.div(tf.sqrt(vp), bc2Sqrt), h.eps);
    out[name] = tf.sub(tf.mul(th, decay), tf.mul(tf.div(mp, denom), stepSize));
    m[name] = mp;
    v[name] = vp;
  }
  return { params: out, state: { m, v, step: k } };
}

/**
 * {@link adamwStep} on flat float32 host vectors with the same bits: the same operations in the same order, each
 * rounded to float32 as the backend's elementwise kernels round it (IEEE +, −, ×, ÷ and √ computed in float64 and
 * rounded once give the correctly rounded float32 result: 53 ≥ 2·24 + 2), and the scalars as float32 tensors hold
 * them. Writes θ', m', v' into `out` (which may alias the inputs).
 * @param theta θ `[p]` @param grad g `[p]` @param m m `[p]` @param v v `[p]` @param k the step counter of this update
 */
export function adamwStepF32(
  theta: Float32Array,
  grad: Float32Array,
  m: Float32Array,
  v: Float32Array,
  h: AdamWHyper,
  k: number,
  out: { theta: Float32Array; m: Float32Array; v: Float32Array } = { theta: new Float32Array(theta.length), m: new Float32Array(theta.length), v: new Float32Array(theta.length) },
): { theta: Float32Array; m: Float32Array; v: Float32Array } {
  const f = Math.fround;
  const { decay, stepSize, bc2Sqrt } = adamwScalars(h, k);
  const [b1, c1, b2, c2, eps, dc, ss, bs] = [h.beta1, 1 - h.beta1, h.beta2, 1 - h.beta2, h.eps, decay, stepSize, bc2Sqrt].map(f);
  for (let i = 0; i < theta.length; i++) {
    const g = grad[i];
    const mp = f(f(m[i] * b1) + f(g * c1));
    const vp = f(f(v[i] * b2) + f(f(g * g) * c2));
    const den = f(f(f(Math.sqrt(vp)) / bs) + eps);
    out.theta[i] = f(f(theta[i] * dc) - f(f(mp / den) * ss));
    out.m[i] = mp;
    out.v[i] = vp;
  }
  return out;
}

/** AdamW state on the host in float64. */
export interface AdamWStateF64 {
  m: Float64Array;
  v: Float64Array;
  step: number;
}

/**
 * Float64 reference of {@link adamwStep} on flat vectors (same formula, same operation order).
 * @param theta θ `[p]`
 * @param grad  g `[p]`
 * @returns new arrays θ' `[p]`, m' `[p]`, v' `[p]`, step+1
 */
export function adamwStepF64(
  theta: Float64Array,
  grad: Float64Array,
  state: AdamWStateF64,
  h: AdamWHyper,
): { theta: Float64Array; state: AdamWStateF64 } {
  checkAdamWHyper(h, 'adamwStepF64');
  const p = theta.length;
  if (grad.length !== p || state.m.length !== p || state.v.length !== p) {
    throw new Error(`adamwStepF64: lengths differ (theta ${p}, grad ${grad.length}, m ${state.m.length}, v ${state.v.length})`);
  }
  const k = state.step + 1;
  const { decay, stepSize, bc2Sqrt } = adamwScalars(h, k);
  const th = new Float64Array(p);
  const m = new Float64Array(p);
  const v = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    const g = grad[i];
    m[i] = h.beta1 * state.m[i] + (1 - h.beta1) * g;
    v[i] = h.beta2 * state.v[i] + (1 - h.beta2) * g * g;
    th[i] = theta[i] * decay - stepSize * (m[i] / (Math.sqrt(v[i]) / bc2Sqrt + h.eps));
  }
  return { theta: th, state: { m, v, step: k } };
}
