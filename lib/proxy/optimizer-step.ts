/**
 * One optimizer step applied to a perturbation of the state, in float64: the exact elementwise map
 * Φ^elem(x_t + δx, g_t + δg) − x_{t+1} and its linearisation J_t δx + (∂Φ/∂g) δg (the step AdamW-influence and
 * SGD-influence take). The Taylor-error proxy (taylor-error.ts) runs both side by side; their difference is the
 * optimizer part of the first-order error. Derivation: docs/taylor-error-proxy.md.
 *
 * @module
 */
import { adamwDiagonals } from '../optim/linearize.ts';
import type { Trajectory } from '../train/trajectory.ts';
import { UsageError } from '../runtime/errors.ts';

/** A perturbation of the optimizer state (θ, m, v), float64, `[p]` each (m, v unused for SGD). */
export interface Vec3 {
  th: Float64Array;
  m: Float64Array;
  v: Float64Array;
}

/** A zero perturbation `[p]`. */
export function vec3(p: number): Vec3 {
  return { th: new Float64Array(p), m: new Float64Array(p), v: new Float64Array(p) };
}

/** Base quantities of one step (float64): g_t, the pre- and post-step moments, the update and its derivatives. */
export interface StepBase {
  lr: number;
  /** 1 − η_t λ. */
  decay: number;
  /** The batch gradient g_t `[p]`. */
  g: Float64Array;
  /** AdamW only. */
  adam?: {
    b1: number;
    b2: number;
    eps: number;
    bc1: number;
    bc2: number;
    /** Recorded pre-step moments, and the post-step ones recomputed from them in float64, `[p]`. */
    m: Float64Array;
    v: Float64Array;
    mPost: Float64Array;
    vPost: Float64Array;
    /** m̂/(√v̂+ε) of the base run. */
    u: Float64Array;
    /** linearize.ts's diagonals: 1/(√v̂+ε) and m̂/(2√v̂(√v̂+ε)²) (0 where v̂ = 0). */
    D: Float64Array;
    S: Float64Array;
  };
}

/**
 * Base quantities of step t of `traj` (post moments recomputed in float64 from the recorded pre-step ones).
 * @param g32 the batch gradient g_t at θ_t `[p]`
 * @throws UsageError for SGD with momentum (the SGD map here is plain SGD), or a state without moments
 */
export function stepBase(traj: Trajectory, t: number, g32: Float32Array): StepBase {
  const opt = traj.manifest.setting.optimizer;
  const lr = traj.lrs[t];
  const g = Float64Array.from(g32);
  if (opt.kind === 'sgd') {
    if (opt.momentum !== 0) throw new UsageError(`taylorErrorProxy: SGD with momentum ${opt.momentum} is not supported (the SGD proxy models plain SGD)`);
    return { lr, decay: 1 - lr * opt.weightDecay, g };
  }
  const pre = traj.states.at(t);
  const post = traj.states.at(t + 1);
  if (!pre.m || !pre.v) throw new UsageError(`taylorErrorProxy: state ${t} lacks AdamW moments (record 'full' states)`);
  const p = g.length;
  const m = Float64Array.from(pre.m);
  const v = Float64Array.from(pre.v);
  const mPost = new Float64Array(p);
  const vPost = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    mPost[i] = opt.beta1 * m[i] + (1 - opt.beta1) * g[i];
    vPost[i] = opt.beta2 * v[i] + (1 - opt.beta2) * g[i] * g[i];
  }
  const { D, S, bc1, bc2 } = adamwDiagonals(mPost, vPost, post.optStep, opt);
  const u = new Float64Array(p);
  for (let i = 0; i < p; i++) u[i] = mPost[i] / bc1 / (Math.sqrt(vPost[i] / bc2) + opt.eps);
  return { lr, decay: 1 - lr * opt.weightDecay, g, adam: { b1: opt.beta1, b2: opt.beta2, eps: opt.eps, bc1, bc2, m, v, mPost, vPost, u, D, S } };
}

/** Plain SGD is linear in (θ, g): its exact and first-order steps are the same map, (1 − ηλ) dθ − η dg. */
function sgdStep(b: StepBase, dx: Vec3, dg: Float64Array): Vec3 {
  const out = vec3(dg.length);
  for (let i = 0; i < dg.length; i++) out.th[i] = b.decay * dx.th[i] - b.lr * dg[i];
  return out;
}

/** First-order step of a perturbation: J_t dx plus the response to the gradient change dg `[p]`. */
export function linearStep(b: StepBase, dx: Vec3, dg: Float64Array): Vec3 {
  if (!b.adam) return sgdStep(b, dx, dg);
  const p = dg.length;
  const out = vec3(p);
  const a = b.adam;
  for (let i = 0; i < p; i++) {
    const dm = a.b1 * dx.m[i] + (1 - a.b1) * dg[i];
    const dv = a.b2 * dx.v[i] + 2 * (1 - a.b2) * b.g[i] * dg[i];
    out.m[i] = dm;
    out.v[i] = dv;
    out.th[i] = b.decay * dx.th[i] - b.lr * ((a.D[i] * dm) / a.bc1 - (a.S[i] * dv) / a.bc2);
  }
  return out;
}

/** The exact elementwise optimizer step of a perturbation, Φ^elem(x + dx, g + dg) − x_{t+1} (all orders). */
export function exactStep(b: StepBase, dx: Vec3, dg: Float64Array): Vec3 {
  if (!b.adam) return sgdStep(b, dx, dg);
  const p = dg.length;
  const out = vec3(p);
  const a = b.adam;
  for (let i = 0; i < p; i++) {
    const gi = b.g[i] + dg[i];
    const M = a.b1 * (a.m[i] + dx.m[i]) + (1 - a.b1) * gi;
    // v ≥ 0 holds inductively; the clip only absorbs float64 rounding.
    const V = Math.max(0, a.b2 * (a.v[i] + dx.v[i]) + (1 - a.b2) * gi * gi);
    const U = M / a.bc1 / (Math.sqrt(V / a.bc2) + a.eps);
    out.m[i] = M - a.mPost[i];
    out.v[i] = V - a.vPost[i];
    out.th[i] = b.decay * dx.th[i] - b.lr * (U - a.u[i]);
  }
  return out;
}
