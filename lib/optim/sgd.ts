/**
 * SGD with exact PyTorch `torch.optim.SGD` semantics (coupled L2 weight decay, momentum with
 * dampening, optional Nesterov), as a pure state-in / state-out function, plus a float64 reference.
 *
 *   d ← g + λ·θ                                   (weight decay added to the gradient)
 *   b ← d on the first update (PyTorch clones the gradient into an absent buffer),
 *       else b ← μ·b + (1 − dampening)·d
 *   d ← d + μ·b if nesterov, else b                (only when μ ≠ 0)
 *   θ ← θ − lr·d
 *
 * @module
 */
import { tf } from '../runtime/tf.ts';
import type { Params } from '../models/types.ts';

/** SGD hyper-parameters of one step (`lr` is η_t, already scheduled). */
export interface SgdHyper {
  lr: number;
  momentum: number;
  dampening?: number;
  weightDecay: number;
  nesterov?: boolean;
}

/** SGD state: the momentum buffer (`null` until the first update, or always when μ = 0) and update count. */
export interface SgdState {
  buf: Params | null;
  step: number;
}

/** Validates SGD hyper-parameters (PyTorch's rules: Nesterov needs μ > 0 and dampening 0). */
export function checkSgdHyper(h: SgdHyper, where = 'sgd'): void {
  const bad = (k: string, v: unknown, want: string) => new Error(`${where}: ${k} must be ${want}, got ${v}`);
  if (!(Number.isFinite(h.lr) && h.lr >= 0)) throw bad('lr', h.lr, 'a finite number ≥ 0');
  if (!(Number.isFinite(h.momentum) && h.momentum >= 0)) throw bad('momentum', h.momentum, 'a finite number ≥ 0');
  const d = h.dampening ?? 0;
  if (!(d >= 0 && d <= 1)) throw bad('dampening', d, 'in [0, 1]');
  if (!(Number.isFinite(h.weightDecay) && h.weightDecay >= 0)) throw bad('weightDecay', h.weightDecay, 'a finite number ≥ 0');
  if (h.nesterov && (h.momentum <= 0 || d !== 0)) {
    throw new Error(`${where}: nesterov requires momentum > 0 and dampening 0, got momentum ${h.momentum}, dampening ${d}`);
  }
}

/** Initial state (no buffer, step 0). */
export function sgdInit(): SgdState {
  return { buf: null, step: 0 };
}

/**
 * One SGD update. Pure: inputs are not modified or disposed; returns new tensors.
 * @param params θ, each tensor any shape
 * @param grads  g with the same names/shapes
 * @returns θ' and the new state (buffer with the same names/shapes when μ ≠ 0)
 */
export function sgdStep(
  params: Params,
  grads: Params,
  state: SgdState,
  h: SgdHyper,
): { params: Params; state: SgdState } {
  checkSgdHyper(h);
  const mu = h.momentum;
  const damp = h.dampening ?? 0;
  const out: Params = {};
  const buf: Params | null = mu !== 0 ? {} : null;
  for (const name of Object.keys(params)) {
    const g = grads[name];
    if (!g) throw new Error(`sgdStep: missing gradient for parameter '${name}'`);
    const th = params[name];
    let d = h.weightDecay !== 0 ? tf.add(g, tf.mul(th, h.weightDecay)) : g;
    if (buf) {
      const b = state.buf === null ? tf.clone(d) : tf.add(tf.mul(state.buf[name], mu), tf.mul(d, 1 - damp));
      buf[name] = b;
      d = h.nesterov ? tf.add(d, tf.mul(b, mu)) : b;
    }
    out[name] = tf.sub(th, tf.mul(d, h.lr));
  }
  return { params: out, state: { buf, step: state.step + 1 } };
}

/**
 * {@link sgdStep} on flat float32 host vectors with the same bits (the same operations in the same order, each
 * rounded to float32 as the tensor kernels round it; see adamw.ts `adamwStepF32`).
 * @param theta θ `[p]` @param grad g `[p]` @param buf the momentum buffer `[p]`, null before the first update
 * @returns θ' `[p]` and the new buffer (null without momentum)
 */
export function sgdStepF32(theta: Float32Array, grad: Float32Array, buf: Float32Array | null, h: SgdHyper): { theta: Float32Array; buf: Float32Array | null } {
  const f = Math.fround;
  const [mu, c, wd, lr] = [h.momentum, 1 - (h.dampening ?? 0), h.weightDecay, h.lr].map(f);
  const p = theta.length;
  const th = new Float32Array(p);
  const nb = h.momentum !== 0 ? new Float32Array(p) : null;
  for (let i = 0; i < p; i++) {
    let d = h.weightDecay !== 0 ? f(grad[i] + f(theta[i] * wd)) : grad[i];
    if (nb) {
      const b = buf === null ? d : f(f(buf[i] * mu) + f(d * c));
      nb[i] = b;
      d = h.nesterov ? f(d + f(b * mu)) : b;
    }
    th[i] = f(theta[i] - f(d * lr));
  }
  return { theta: th, buf: nb };
}

/** SGD state on the host in float64. */
export interface SgdStateF64 {
  buf: Float64Array | null;
  step: number;
}

/**
 * Float64 reference of {@link sgdStep} on flat vectors.
 * @param theta θ `[p]`
 * @param grad  g `[p]`
 * @returns new arrays θ' `[p]` and buffer `[p]` (null when μ = 0)
 */
export function sgdStepF64(
  theta: Float64Array,
  grad: Float64Array,
  state: SgdStateF64,
  h: SgdHyper,
): { theta: Float64Array; state: SgdStateF64 } {
  checkSgdHyper(h, 'sgdStepF64');
  const p = theta.length;
  if (grad.length !== p || (state.buf && state.buf.length !== p)) {
    throw new Error(`sgdStepF64: lengths differ (theta ${p}, grad ${grad.length}, buf ${state.buf?.length})`);
  }
  const mu = h.momentum;
  const damp = h.dampening ?? 0;
  const th = new Float64Array(p);
  const buf = mu !== 0 ? new Float64Array(p) : null;
  for (let i = 0; i < p; i++) {
    let d = h.weightDecay !== 0 ? grad[i] + h.weightDecay * theta[i] : grad[i];
    if (buf) {
      buf[i] = state.buf === null ? d : mu * state.buf[i] + (1 - damp) * d;
      d = h.nesterov ? d + mu * buf[i] : buf[i];
    }
    th[i] = theta[i] - h.lr * d;
  }
  return { theta: th, state: { buf, step: state.step + 1 } };
}
