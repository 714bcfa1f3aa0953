/**
 * A closed-form proxy of the algorithm-level (first-order Taylor) error of trajectory influence,
 * evaluated along the recorded trajectory only: no counterfactual run, only gradients and Hessian-vector
 * products at the recorded states θ_t, θ_{t+1} and the recorded AdamW moments.
 *
 * ## Derivation
 *
 * **Setting.** The optimizer state is x_t = (θ_t, m_t, v_t) (SGD: θ_t only) and one step is
 * x_{t+1} = Φ_t(x_t; w), driven by the batch gradient g_t(θ; w) = (1/D_t) Σ_{i∈B_t} w_i ∇ℓ_i(θ). AdamW
 * (PyTorch semantics, k = t+1, c1 = 1−β1^k, c2 = 1−β2^k):
 *
 *     m' = β1 m + (1−β1) g,   v' = β2 v + (1−β2) g²,   θ' = (1−ηλ) θ − η u(m', v'),
 *     u(m', v') = (m'/c1) / (√(v'/c2) + ε)                                     (elementwise)
 *
 * Removing sample z sets w_z: 1 → 0 at its occurrences O_z. The perturbation δx_t = x_t^{−z} − x_t is 0
 * up to the first occurrence b_z and obeys exactly
 *
 *     δx_{t+1} = Φ_t(x_t + δx_t; w − 1[t∈O_z] e_z) − Φ_t(x_t; w).                                 (1)
 *
 * **What the estimator keeps.** AdamW-influence (and SGD-influence on SGD runs) is the first-order
 * solution of (1): δx⁽¹⁾_{t+1} = J_t δx⁽¹⁾_t + P_t(z), with J_t the Jacobian of Φ_t and P_t(z) the linear
 * push of the removed share −g_{t,z}/D_t; its score is Δ̂(z, q) = ∇ℓ_q(θ_T)ᵀ δθ⁽¹⁾_T. (Here δx⁽¹⁾ is
 * propagated forward, one HVP per step; the estimator computes the same numbers backwards, and the
 * experiment checks ∇ℓ_qᵀ δθ⁽¹⁾_T against its scores.)
 *
 * **The error.** With e_t = δx_t − δx⁽¹⁾_t, the measured Taylor error is
 *
 *     TSLOO(z, q) − Δ̂(z, q) = ∇ℓ_q(θ_T)ᵀ e_T^θ + ½ δθ_Tᵀ H_q δθ_T + O(‖δθ_T‖³),
 *
 * and subtracting the linear recursion from (1) gives e_{t+1} = J_t e_t + N_t(δx_t), where N_t is the
 * one-step remainder of Φ_t (everything (1) has beyond J_t δx + P_t). To leading order N_t(δx_t) ≈
 * r_t := N_t(δx⁽¹⁾_t), so
 *
 *     e_T ≈ Σ_t W_{T←t+1} r_t,    e_{t+1} = J_t e_t + r_t,  e_{b_z} = 0:                        (2)
 *
 * the per-step remainders, evaluated at the first-order perturbation the estimator already models, are
 * carried to the end by the *same* linear propagator J_t (the error "compounds as the perturbation
 * propagates": more steps, more remainders, each amplified by the same dynamics as δx⁽¹⁾).
 *
 * **The remainder r_t.** Write the perturbed batch gradient as δg = δg⁽¹⁾ + δg⁽²⁾ with
 *
 *     δg⁽¹⁾ = H_t δθ − 1[t∈O_z] g_{t,z}/D_t                          (what the estimator uses)
 *     δg⁽²⁾ = everything else: curvature change, kinks, and the drift −1[t∈O_z] H_{t,z} δθ/D_t of the
 *             removed sample's own gradient (0 at a first occurrence, so 0 in one-epoch runs)
 *
 * (a) *AdamW's normalisation.* The moments are written with δv' = β2 δv + 2(1−β2) g δg + (1−β2) δg²:
 *     the first-order push drops the quadratic write-in (1−β2) δg². And u is nonlinear in (m', v'):
 *     ∂²u/∂v'² = (m̂/c2²)[¼ v̂^{−3/2}(√v̂+ε)^{−2} + ½ v̂^{−1}(√v̂+ε)^{−3}], ∂²u/∂m'∂v' = −1/(2 c1 c2 √v̂ (√v̂+ε)²):
 *     relative to the linear term the remainder is of order δv'/v', which is *not* small for
 *     near-cancelling coordinates, |g_i| ≲ |g_{z,i}|/D_t, where u is close to a sign function (at k = 1,
 *     u = g/(|g|+ε) has derivative ε/(|g|+ε)² ≈ 0, while removing z can flip the sign: a change of 2η).
 * (b) *Curvature change* (smooth part of δg⁽²⁾, ½ ∇³L_t[δθ, δθ]). A third derivative, or a gradient off
 *     the trajectory, is not used. The recorded step Δθ_t = θ_{t+1} − θ_t probes it: with the *same*
 *     batch B_t,
 *
 *         δg⁽²ᵇ⁾ ≈ ½ (‖δθ_t‖ / ‖Δθ_t‖) (H_{B_t}(θ_{t+1}) − H_{B_t}(θ_t)) δθ_t = ½ ∇³L_t[‖δθ‖ Δθ̂_t, δθ] + O(‖Δθ_t‖),
 *
 *     one δθ of the quadratic form replaced by a vector of the same length along the recorded step. Its
 *     norm is ½ κ_t ‖δθ_t‖² with κ_t = ‖(H_{t+1} − H_t) δθ̂_t‖ / ‖Δθ_t‖, a curvature-change rate; carried
 *     to θ by the step (factor η_t) it is the η_t κ_t ‖δθ_t‖² form.
 * (c) *Kinks.* With ReLU the batch gradient is discontinuous: ∂ℓ_i/∂W₁ carries 1[a_ik > 0], so whenever
 *     δθ moves a pre-activation a_ik of a batch example across 0, δg jumps by that example's share through
 *     unit k — O(1/D_t) of a per-sample gradient, the size of the removal itself, and independent of
 *     ‖δθ‖. No Taylor expansion at θ_t sees it (the HVP is the Hessian inside one linear region).
 *     Model: crossings along a path of length L form a Poisson process with rate ρ and independent jumps
 *     J, so the jump sum K has E‖K‖² = ρ L E‖J‖² (‖K‖ ∝ √L). The recorded step calibrates ρ E‖J‖² with its
 *     secant defect, the part of the gradient change that the trapezoid of the two recorded Hessians
 *     misses (smooth terms cancel to third order):
 *
 *         R_t = g_{B_t}(θ_{t+1}) − g_{B_t}(θ_t) − ½ (H_{B_t}(θ_t) + H_{B_t}(θ_{t+1})) Δθ_t,
 *         δg⁽²ᶜ⁾ = ξ_{z,t} R_t (‖δθ_t‖ / ‖Δθ_t‖)^{1/2},   ξ_{z,t} = ±1 seeded per sample and step,
 *
 *     assuming the crossing density along δθ is that along Δθ (isotropy; no free parameter). This term
 *     models the *size* of the kink error, not its sign: the predicted error matrix is not meant to
 *     match TSLOO − Δ̂ entry by entry on ReLU nets (it does on smooth ones, where (c) is ~0).
 *     Measured on the MNIST MLP (lr 1e-3, a removal at step 5, steps 6–24): the true gradient change at
 *     the true perturbation deviates from H δθ by 8–28 × ‖H δθ‖, and the recorded step's secant defect,
 *     rescaled to ‖δθ‖, by 2.5–13 ×; with (a) + (b) only, the proxy predicted a query-projected error of
 *     0.08–0.56 where 0.27–1.0 was measured, while on the same net with tanh it predicted 0.330 for a
 *     measured 0.331 (and the error matrix to 5 %).
 *
 * **Closing the recursion.** The one-defect approximation r_t = N_t(δx⁽¹⁾_t) breaks down for AdamW exactly
 * where (a) matters: δx⁽¹⁾ leaves the physical domain (v + δv⁽¹⁾ < 0 where a removal cancels most of a
 * coordinate's gradient: the linear write-in 2(1−β2) g δg overshoots the exact (1−β2)((g+δg)² − g²)),
 * and ∂ⁿu/∂v'ⁿ ~ v̂^{½−n} makes every truncated Taylor series of u diverge there (tried: the proxy came
 * out at 10⁵). So N_t is evaluated at the *corrected* perturbation δx_t = δx⁽¹⁾_t + e_t, which turns (2)
 * into a forward recursion for the perturbation itself, with the exact elementwise optimizer map Φ_t^elem
 * (closed form, no gradient):
 *
 *     δx̃_{t+1} = Φ_t^elem(x_t + δx̃_t, g_t + δg̃_t) − x_{t+1},
 *     δg̃_t = H_t δθ̃_t − 1[t∈O_z] g_{t,z}/D_t + δg⁽²ᵇ⁾(δθ̃_t) + δg⁽²ᶜ⁾(δθ̃_t) − 1[t∈O_z] H_{t,z} δθ̃_t/D_t,
 *     e_T = δθ̃_T − δθ⁽¹⁾_T.                                                                  (3)
 *
 * The only model is the batch gradient off the trajectory: its expansion at the recorded θ_t, with (b)
 * and (c) calibrated on the recorded step. Everything is evaluated at recorded states (gradients and
 * HVPs of batch B_t at θ_t and θ_{t+1}, the recorded m_t, v_t); the counterfactual gradient is never
 * computed and nothing is trained. δx̃ keeps v ≥ 0 and AdamW's bounded per-step update, which δx⁽¹⁾ does
 * not. For SGD, Φ^elem is linear and e comes from (b) and (c).
 *
 * **Components.** (3) is run twice per sample: A with δg⁽²⁾ = 0 (optimizer exact, gradient linear) and B
 * with it. e^opt = δθ̃^A − δθ⁽¹⁾ is the normalisation / quadratic-write-in error of (a), all orders;
 * e^grad = δθ̃^B − δθ̃^A is the gradient-nonlinearity error of (b) + (c); e = e^opt + e^grad.
 *
 * **The proxy** (query-free; dimensionless; the analogue of ‖TSLOO − Δ̂‖/‖TSLOO‖, whose denominator is
 * the nonlinear effect, here δθ̃^B_T):
 *
 *     π(z) = ‖e_T(z)‖ / ‖δθ̃_T(z)‖,       Π = ( Σ_z ‖e_T(z)‖² / Σ_z ‖δθ̃_T(z)‖² )^{1/2}  (per cell)
 *
 * and the absolute ‖e_T(z)‖ (parameter units). With queries, π_Q(z) = ‖Q e_T‖ / ‖Q δθ̃_T‖ (rows of Q =
 * ∇ℓ_q(θ_T)ᵀ) is the first-order prediction of the measured per-sample relative error, and
 * Π_Q = ‖Q E‖_F / ‖Q Δ̃‖_F that of the cell's ‖TSLOO − Δ̂‖_F / ‖TSLOO‖_F: like for like.
 *
 * **Scaling.** For SGD on a smooth loss, δθ⁽¹⁾ = O(η) and the remainder O(η κ ‖δθ‖²) = O(η³), so π = O(η)
 * → 0 as η → 0, growing with the horizon T − b_z. For AdamW the absolute ‖e_T‖ = O(η) → 0 as well, but π
 * tends to an η-independent floor: the push of a *finite* removal (δg = g_z/D_t, not infinitesimal)
 * through the normalisation — the estimator linearises in the removal weight, not only along the
 * trajectory. With kinks, π need not vanish at small η either: the jump term is O(1) relative.
 *
 * **Omitted.** The query-side ½ δθ_Tᵀ H_q δθ_T term (needs per-query curvature); anisotropy of the kink
 * density; float32 noise of the HVP and gradient differences.
 *
 * **Cost.** Per step (shared): one gradient and two HVPs for R_t. Per sample and step after its first
 * occurrence: HVPs H_t δθ⁽¹⁾, H_t δθ̃^A, H_t δθ̃^B, H_{t+1} δθ̃^B — ≈ 4 Σ_z (T − b_z) HVPs per cell (3 with
 * `components: false`), and no training. A CNN cell of 16 samples × 63 steps runs about 40 min on 2 CPU
 * cores: with `checkpointFile` the loop state is saved every `checkpointSeconds` and a killed call resumes
 * bit-identically (proxy-checkpoint.ts).
 *
 * @module
 */
import * as fs from 'node:fs';
import { makeBatch, disposeBatch } from '../data/batch.ts';
import type { Dataset } from '../data/dataset.ts';
import { disposeParams, unflattenParams } from '../models/params.ts';
import { numParams, type Model, type Params } from '../models/types.ts';
import { hvp } from '../autodiff/hvp.ts';
import { lossAndGrad, queryGrads } from '../autodiff/loss.ts';
import { perSampleGrads } from '../autodiff/persample.ts';
import { occurrenceRows } from '../estimators/occurrence.ts';
import type { Progress } from '../estimators/types.ts';
import type { Occurrence, Trajectory } from '../train/trajectory.ts';
import { rngFor } from '../runtime/rng.ts';
import { scoreMatrix, type ScoreMatrix } from './score-matrix.ts';
import { loadProxyCheckpoint, removeProxyCheckpoint, saveProxyCheckpoint, type Vec3 } from './proxy-checkpoint.ts';
import { settingHash } from '../train/setting.ts';

/** Options of {@link taylorErrorProxy}. */
export interface ErrorProxyOptions {
  /** Which occurrences of a sample are removed (default 'all', as the estimators). */
  occurrence?: Occurrence;
  /** Include the curvature-change remainder (b) (default true). */
  curvatureChange?: boolean;
  /** Include the kink term (c) (default true). With (b) and (c) off, only the optimizer part (a) remains. */
  kinks?: boolean;
  /** Seeds the random signs ξ of the kink term (default 0). */
  seed?: number;
  /** Run recursion A too, splitting e into e^opt + e^grad (default true; false saves one HVP per sample-step). */
  components?: boolean;
  /** Also compute the query-projected proxy and Q δθ⁽¹⁾_T, Q e_T `[ids, nQuery]`. */
  queries?: Dataset;
  /** Queries per gradient chunk (default 64). */
  queryChunk?: number;
  onProgress?: Progress;
  /**
   * Resume file of the step loop (proxy-checkpoint.ts): written every `checkpointSeconds` after a step,
   * read back by the next call with the same file and request, deleted when the loop finishes.
   */
  checkpointFile?: string;
  /** Seconds between checkpoint writes (default 300; 0 = after every step). */
  checkpointSeconds?: number;
  /** Diagnostics hook: the θ-parts of δθ⁽¹⁾_{t+1}, δθ̃^A_{t+1}, δθ̃^B_{t+1} of sample `row` after step t (do not modify). */
  trace?: (t: number, row: number, d: { first: Float64Array; optimizer: Float64Array; full: Float64Array }) => void;
}

/** The proxy of one training sample. */
export interface SampleProxy {
  id: number;
  /** First step where the sample is removed (−1: never in the plan; everything is 0). */
  branchStep: number;
  /** ‖δθ⁽¹⁾_T‖: the first-order parameter perturbation the estimator models. */
  firstOrderNorm: number;
  /** ‖δθ̃_T‖: the perturbation of the optimizer-exact recursion (3). */
  effectNorm: number;
  /** ‖e_T‖ = ‖δθ̃_T − δθ⁽¹⁾_T‖: the absolute proxy (parameter units). */
  errorNorm: number;
  /** π(z) = ‖e_T‖ / ‖δθ̃_T‖ (0 when the sample never occurs). */
  proxy: number;
  /** ‖e_T^opt‖ (normalisation, (a)) and ‖e_T^grad‖ (gradient nonlinearity, (b) + (c)); NaN without `components`. */
  optimizerNorm: number;
  gradientNorm: number;
  /** π_Q(z) = ‖Q e_T‖ / ‖Q δθ̃_T‖ when queries were given. */
  queryProxy?: number;
}

/** Per-step diagnostics over the samples active at that step. */
export interface StepProxy {
  t: number;
  lr: number;
  /** Active samples (first occurrence ≤ t). */
  active: number;
  /** ‖θ_{t+1} − θ_t‖. */
  stepNorm: number;
  /** Mean κ_t = ‖(H_{t+1} − H_t) δθ̂_t‖ / ‖Δθ_t‖ over active samples with δθ̃_t ≠ 0 (NaN if none). */
  kappa: number;
  /** Mean ‖δg⁽²ᶜ⁾‖ / ‖H_t δθ̃_t‖ over the same samples: the kink term relative to the smooth change (NaN if none). */
  kinkRatio: number;
  /** (Σ ‖e_{t+1}‖² / Σ ‖δθ̃_{t+1}‖²)^{1/2} over the active samples: the relative error so far. */
  relError: number;
}

/** Result of {@link taylorErrorProxy}. */
export interface ErrorProxyResult {
  ids: number[];
  perSample: SampleProxy[];
  /** Cell aggregates (see the module doc). */
  cell: {
    /** Π = (Σ‖e‖² / Σ‖δθ̃‖²)^{1/2} over the samples that occur. */
    proxy: number;
    /** Root-mean-square of ‖e_T(z)‖ (absolute, parameter units). */
    absolute: number;
    /** Median of π(z). */
    median: number;
    /** Σ‖e^opt‖² / (Σ‖e^opt‖² + Σ‖e^grad‖²): which source dominates (NaN if both are 0 or without `components`). */
    optimizerShare: number;
    /** Π_Q when queries were given. */
    queryProxy?: number;
  };
  steps: StepProxy[];
  /** Q δθ⁽¹⁾_T `[ids, nQuery]` (the estimator's scores up to float32 rounding) when queries were given. */
  firstOrderScores?: ScoreMatrix;
  /** Q e_T `[ids, nQuery]`: the predicted TSLOO − Δ̂ (without the ½δθᵀH_qδθ term), when queries were given. */
  predictedError?: ScoreMatrix;
  dynamics: 'adamw' | 'sgd';
  seconds: number;
}

/** A perturbation of the state (float64): θ, and m, v for AdamW. */
/** Per-sample perturbations: first order (1), recursion (3) without (A) and with (B) the gradient nonlinearity. */
interface SampleState {
  row: number;
  started: boolean;
  d1: Vec3;
  dA: Vec3;
  dB: Vec3;
}

/** Base quantities of one step (float64): g_t, the pre- and post-step moments, the update and its derivatives. */
interface StepBase {
  lr: number;
  decay: number;
  g: Float64Array;
  /** AdamW only. */
  adam?: {
    b1: number;
    b2: number;
    eps: number;
    bc1: number;
    bc2: number;
    m: Float64Array;
    v: Float64Array;
    mPost: Float64Array;
    vPost: Float64Array;
    /** m̂/(√v̂+ε) of the base run. */
    u: Float64Array;
    /** 1/(√v̂+ε) and m̂/(2√v̂(√v̂+ε)²) (0 where v̂ = 0), as linearize.ts. */
    D: Float64Array;
    S: Float64Array;
  };
}

function vec3(p: number): Vec3 {
  return { th: new Float64Array(p), m: new Float64Array(p), v: new Float64Array(p) };
}

function norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

function diffNorm(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

function isZero(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) return false;
  return true;
}

function f64(a: ArrayLike<number>): Float64Array {
  return Float64Array.from(a);
}

/** First-order step of a perturbation: J_t dx plus the response to the gradient change dg. */
function linearStep(b: StepBase, dx: Vec3, dg: Float64Array): Vec3 {
  const p = dg.length;
  const out = vec3(p);
  if (!b.adam) {
    for (let i = 0; i < p; i++) out.th[i] = b.decay * dx.th[i] - b.lr * dg[i];
    return out;
  }
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
function exactStep(b: StepBase, dx: Vec3, dg: Float64Array): Vec3 {
  const p = dg.length;
  const out = vec3(p);
  if (!b.adam) {
    for (let i = 0; i < p; i++) out.th[i] = b.decay * dx.th[i] - b.lr * dg[i];
    return out;
  }
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

/** Base quantities of step t (post moments recomputed in float64 from the recorded pre-step ones). */
function stepBase(traj: Trajectory, t: number, g32: Float32Array): StepBase {
  const opt = traj.manifest.setting.optimizer;
  const lr = traj.lrs[t];
  const g = f64(g32);
  if (opt.kind === 'sgd') {
    if (opt.momentum !== 0) throw new Error(`taylorErrorProxy: SGD with momentum ${opt.momentum} is not supported (the SGD proxy models plain SGD)`);
    return { lr, decay: 1 - lr * opt.weightDecay, g };
  }
  const pre = traj.states.at(t);
  const post = traj.states.at(t + 1);
  if (!pre.m || !pre.v) throw new Error(`taylorErrorProxy: state ${t} lacks AdamW moments (record 'full' states)`);
  const p = g.length;
  const k = post.optStep;
  const bc1 = 1 - Math.pow(opt.beta1, k);
  const bc2 = 1 - Math.pow(opt.beta2, k);
  const m = f64(pre.m);
  const v = f64(pre.v);
  const mPost = new Float64Array(p);
  const vPost = new Float64Array(p);
  const u = new Float64Array(p);
  const D = new Float64Array(p);
  const S = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    mPost[i] = opt.beta1 * m[i] + (1 - opt.beta1) * g[i];
    vPost[i] = opt.beta2 * v[i] + (1 - opt.beta2) * g[i] * g[i];
    const vh = vPost[i] / bc2;
    const sv = Math.sqrt(vh);
    const den = sv + opt.eps;
    D[i] = 1 / den;
    u[i] = mPost[i] / bc1 / den;
    S[i] = vh > 0 ? mPost[i] / bc1 / (2 * sv * den * den) : 0;
  }
  return { lr, decay: 1 - lr * opt.weightDecay, g, adam: { b1: opt.beta1, b2: opt.beta2, eps: opt.eps, bc1, bc2, m, v, mPost, vPost, u, D, S } };
}

/**
 * The closed-form Taylor-error proxy of every sample in `trainIds` (see the module doc for the derivation).
 * @param trajectory a complete base run with full states (θ, and m, v for AdamW): the run the estimator models
 * @returns per-sample proxies `[trainIds.length]`, cell aggregates, per-step diagnostics `[≤ T]`
 * @throws on an incomplete or counterfactual trajectory, SGD with momentum, or out-of-range / duplicate ids
 */
export async function taylorErrorProxy(
  model: Model,
  data: Dataset,
  trajectory: Trajectory,
  trainIds: number[],
  opts: ErrorProxyOptions = {},
): Promise<ErrorProxyResult> {
  const t0 = performance.now();
  const man = trajectory.manifest;
  if (man.removal || man.weightsKey) throw new Error('taylorErrorProxy: the trajectory is a counterfactual or weighted run; pass the base run');
  if (!man.complete || man.startStep !== 0 || man.endStep !== man.steps) throw new Error(`taylorErrorProxy: the trajectory is incomplete (states ${man.startStep}..${man.endStep} of ${man.steps})`);
  if (data.n !== man.nTrain) throw new Error(`taylorErrorProxy: data has ${data.n} examples, the trajectory was trained on ${man.nTrain}`);
  for (const id of trainIds) if (!(Number.isInteger(id) && id >= 0 && id < data.n)) throw new Error(`taylorErrorProxy: train id ${id} out of range [0, ${data.n})`);
  const T = man.steps;
  const p = numParams(model.spec);
  const withCurv = opts.curvatureChange ?? true;
  const withKinks = opts.kinks ?? true;
  const nonlinearGrad = withCurv || withKinks;
  const split = (opts.components ?? true) && nonlinearGrad;
  const signs = trainIds.map((id) => rngFor(opts.seed ?? 0, `kink-signs-${id}`));
  const rows = occurrenceRows(trajectory.batches, trainIds, opts.occurrence ?? 'all'); // also rejects duplicates
  const branch = trainIds.map(() => -1);
  rows.forEach((rs, t) => rs.forEach((r) => (branch[r.row] = branch[r.row] < 0 ? t : branch[r.row])));

  const states: SampleState[] = trainIds.map((_, row) => ({ row, started: false, d1: vec3(p), dA: vec3(p), dB: vec3(p) }));
  const steps: StepProxy[] = [];
  const firstT = Math.min(...branch.filter((b) => b >= 0), T);
  const draws = trainIds.map(() => 0);
  const sign = (row: number) => (draws[row]++, signs[row].next() < 0.5 ? -1 : 1);

  // Resume: everything the loop carries, keyed by what determines it.
  const ckFile = opts.checkpointFile;
  const ckEvery = (opts.checkpointSeconds ?? 300) * 1000;
  if (!(ckEvery >= 0)) throw new Error(`taylorErrorProxy: checkpointSeconds must be ≥ 0, got ${opts.checkpointSeconds}`);
  const ckKey = settingHash({
    kind: 'faithful-tda/error-proxy-loop',
    runHash: man.runHash,
    final: Array.from(trajectory.states.final().theta.subarray(0, 64)),
    ids: trainIds,
    occurrence: opts.occurrence ?? 'all',
    withCurv,
    withKinks,
    split,
    seed: opts.seed ?? 0,
  });
  let tStart = firstT;
  const resumed = ckFile ? loadProxyCheckpoint<StepProxy>(ckFile, ckKey) : undefined;
  if (resumed) {
    if (resumed.p !== p || resumed.vectors.length !== states.length) throw new Error(`taylorErrorProxy: checkpoint ${ckFile} has ${resumed.vectors.length} samples × ${resumed.p} parameters, this request ${states.length} × ${p}`);
    tStart = resumed.t;
    steps.push(...resumed.steps);
    states.forEach((s, r) => {
      s.started = resumed.started[r];
      s.d1 = resumed.vectors[r].d1;
      s.dA = resumed.vectors[r].dA;
      s.dB = nonlinearGrad ? resumed.vectors[r].dB : s.dA; // recursion B is A when the gradient is linear
      for (let k = 0; k < resumed.draws[r]; k++) sign(r); // replay the seeded kink signs
    });
  }
  let lastSave = performance.now();
  const save = (next: number) => {
    saveProxyCheckpoint(ckFile!, { key: ckKey, t: next, p, steps, started: states.map((s) => s.started), draws, vectors: states.map((s) => ({ d1: s.d1, dA: s.dA, dB: s.dB })) });
    lastSave = performance.now();
  };

  for (let t = tStart; t < T; t++) {
    const D = trajectory.divisors[t];
    if (D === 0) continue; // skipped empty step: the state map is the identity
    const here = rows[t];
    const active = states.filter((s) => s.started || here.some((r) => r.row === s.row));
    if (!active.length) continue;
    const th0 = trajectory.states.at(t).theta;
    const th1 = trajectory.states.at(t + 1).theta;
    const stepNorm = diffNorm(th1, th0);
    const params0 = unflattenParams(th0, model.spec);
    const params1: Params | undefined = nonlinearGrad ? unflattenParams(th1, model.spec) : undefined;
    const batch = makeBatch(data, trajectory.batches[t]);
    const lossOpts = { divisor: D };
    const H = (v: Float64Array, at: Params = params0): Float64Array => (isZero(v) ? new Float64Array(p) : f64(hvp(model, at, batch, v, lossOpts)));
    try {
      const g0 = lossAndGrad(model, params0, batch, lossOpts).grad;
      const base = stepBase(trajectory, t, g0);
      // (c) The secant defect of the batch gradient over the recorded step: what its kinks add beyond the
      // trapezoid of the two recorded Hessians (smooth terms cancel to third order).
      let kinkR: Float64Array | undefined;
      if (withKinks && stepNorm > 0 && active.some((s) => s.started)) {
        const g1 = lossAndGrad(model, params1!, batch, lossOpts).grad;
        const dth = Float64Array.from(th1, (x, i) => x - th0[i]);
        const a = H(dth), b = H(dth, params1);
        kinkR = Float64Array.from(g1, (x, i) => x - g0[i] - 0.5 * (a[i] + b[i]));
      }
      // Removed shares g_{t,z} of the samples occurring now.
      const gzOf = new Map<number, Float32Array>();
      if (here.length) {
        const sub = makeBatch(data, here.map((r) => r.id));
        try {
          const G = perSampleGrads(model, params0, sub);
          here.forEach((r, k) => gzOf.set(r.row, G.subarray(k * p, (k + 1) * p)));
        } finally {
          disposeBatch(sub);
        }
      }
      const kap = { kappa: 0, kink: 0, n: 0 };
      /** δg̃ of (3) for one perturbation: H δθ − g_z/D, plus δg⁽²⁾(δθ) when `nonlinear`. */
      const gradChange = (s: SampleState, dth: Float64Array, nonlinear: boolean, acc?: typeof kap): Float64Array => {
        const Hd = H(dth);
        const dg = Float64Array.from(Hd);
        const gz = gzOf.get(s.row);
        if (gz) for (let i = 0; i < p; i++) dg[i] -= gz[i] / D;
        if (!nonlinear || isZero(dth)) return dg;
        const nd = norm(dth);
        if (kinkR) {
          // Poisson crossings: E‖K(δ)‖² = ‖R_t‖² ‖δ‖/‖Δθ_t‖, random sign per sample and step.
          const c = sign(s.row) * Math.sqrt(nd / stepNorm);
          for (let i = 0; i < p; i++) dg[i] += c * kinkR[i];
          if (acc) acc.kink += (Math.abs(c) * norm(kinkR)) / (norm(Hd) || 1);
        }
        if (acc) acc.n++;
        if (withCurv && stepNorm > 0) {
          const H1d = H(dth, params1);
          const c = (0.5 * nd) / stepNorm;
          let d2 = 0;
          for (let i = 0; i < p; i++) {
            const d = H1d[i] - Hd[i];
            dg[i] += c * d;
            d2 += d * d;
          }
          if (acc) acc.kappa += Math.sqrt(d2) / nd / stepNorm;
        }
        if (gz) {
          // The removed sample's own gradient moved with θ: −H_z δθ / D (0 at a first occurrence).
          const one = makeBatch(data, [trainIds[s.row]]);
          try {
            const Hz = hvp(model, params0, one, dth, { divisor: 1 });
            for (let i = 0; i < p; i++) dg[i] -= Hz[i] / D;
          } finally {
            disposeBatch(one);
          }
        }
        return dg;
      };
      let e2 = 0, b2 = 0;
      for (const s of active) {
        s.d1 = linearStep(base, s.d1, gradChange(s, s.d1.th, false));
        if (split || !nonlinearGrad) s.dA = exactStep(base, s.dA, gradChange(s, s.dA.th, false));
        s.dB = nonlinearGrad ? exactStep(base, s.dB, gradChange(s, s.dB.th, true, kap)) : s.dA;
        s.started = true;
        if (!Number.isFinite(norm(s.d1.th)) || !Number.isFinite(norm(s.dB.th))) {
          throw new Error(`taylorErrorProxy: the perturbation of id ${trainIds[s.row]} overflowed at step ${t} (lr ${base.lr}): the linearised dynamics are unstable at this learning rate`);
        }
        opts.trace?.(t, s.row, { first: s.d1.th, optimizer: s.dA.th, full: s.dB.th });
        e2 += diffNorm(s.dB.th, s.d1.th) ** 2;
        b2 += norm(s.dB.th) ** 2;
      }
      steps.push({ t, lr: base.lr, active: active.length, stepNorm, kappa: kap.n && withCurv ? kap.kappa / kap.n : NaN, kinkRatio: kap.n && withKinks ? kap.kink / kap.n : NaN, relError: b2 > 0 ? Math.sqrt(e2 / b2) : 0 });
    } finally {
      disposeParams(params0);
      if (params1) disposeParams(params1);
      disposeBatch(batch);
    }
    if (ckFile && t + 1 < T && performance.now() - lastSave >= ckEvery) save(t + 1);
    opts.onProgress?.(t + 1 - firstT, T - firstT, 'steps');
    if ((t + 1) % 4 === 0) await new Promise((r) => setTimeout(r, 0)); // let progress render
  }
  if (ckFile) removeProxyCheckpoint(ckFile); // the caller caches the finished result

  const Q = opts.queries ? finalQueryGrads(model, trajectory, opts.queries, opts.queryChunk ?? 64) : undefined;
  const nq = opts.queries?.n ?? 0;
  const first = Q ? scoreMatrix(trainIds.length, nq) : undefined;
  const pred = Q ? scoreMatrix(trainIds.length, nq) : undefined;
  let qe2 = 0, qb2 = 0;
  const perSample: SampleProxy[] = states.map((s) => {
    const e = new Float64Array(p);
    for (let i = 0; i < p; i++) e[i] = s.dB.th[i] - s.d1.th[i];
    const eff = norm(s.dB.th);
    const en = norm(e);
    const out: SampleProxy = {
      id: trainIds[s.row],
      branchStep: branch[s.row],
      firstOrderNorm: norm(s.d1.th),
      effectNorm: eff,
      errorNorm: en,
      proxy: eff > 0 ? en / eff : 0,
      optimizerNorm: split || !nonlinearGrad ? diffNorm(s.dA.th, s.d1.th) : NaN,
      gradientNorm: split ? diffNorm(s.dB.th, s.dA.th) : nonlinearGrad ? NaN : 0,
    };
    if (Q) {
      let a2 = 0, c2 = 0;
      for (let q = 0; q < nq; q++) {
        const gq = Q.subarray(q * p, (q + 1) * p);
        let a = 0, b = 0, c = 0;
        for (let i = 0; i < p; i++) {
          a += gq[i] * s.d1.th[i];
          b += gq[i] * e[i];
          c += gq[i] * s.dB.th[i];
        }
        first!.values[s.row * nq + q] = a;
        pred!.values[s.row * nq + q] = b;
        a2 += b * b;
        c2 += c * c;
      }
      out.queryProxy = c2 > 0 ? Math.sqrt(a2 / c2) : 0;
      qe2 += a2;
      qb2 += c2;
    }
    return out;
  });

  const used = perSample.filter((s) => s.branchStep >= 0);
  const sumSq = (f: (s: SampleProxy) => number) => used.reduce((a, s) => a + f(s) ** 2, 0);
  const ratios = used.map((s) => s.proxy).sort((a, b) => a - b);
  const median = ratios.length ? (ratios[(ratios.length - 1) >> 1] + ratios[ratios.length >> 1]) / 2 : NaN;
  const eo = sumSq((s) => s.optimizerNorm);
  const ec = sumSq((s) => s.gradientNorm);
  const eff2 = sumSq((s) => s.effectNorm);
  const cell: ErrorProxyResult['cell'] = {
    proxy: eff2 > 0 ? Math.sqrt(sumSq((s) => s.errorNorm) / eff2) : 0,
    absolute: used.length ? Math.sqrt(sumSq((s) => s.errorNorm) / used.length) : 0,
    median,
    optimizerShare: eo + ec > 0 ? eo / (eo + ec) : NaN,
  };
  if (Q) cell.queryProxy = qb2 > 0 ? Math.sqrt(qe2 / qb2) : 0;
  return {
    ids: [...trainIds],
    perSample,
    cell,
    steps,
    firstOrderScores: first,
    predictedError: pred,
    dynamics: man.setting.optimizer.kind === 'adamw' ? 'adamw' : 'sgd',
    seconds: (performance.now() - t0) / 1000,
  };
}

/** ∇ℓ_q(θ_T) of every query: Float32Array `[nQuery·p]`. */
function finalQueryGrads(model: Model, traj: Trajectory, queries: Dataset, chunk: number): Float32Array {
  const p = numParams(model.spec);
  const nq = queries.n;
  const Q = new Float32Array(nq * p);
  const params = traj.states.params(traj.manifest.steps);
  try {
    for (let s = 0; s < nq; s += chunk) {
      const b = makeBatch(queries, Array.from({ length: Math.min(chunk, nq - s) }, (_, i) => s + i));
      try {
        Q.set(queryGrads(model, params, b), s * p);
      } finally {
        disposeBatch(b);
      }
    }
  } finally {
    disposeParams(params);
  }
  return Q;
}
