/**
 * The Taylor-error proxy: a closed-form estimate of the algorithm-level (first-order Taylor) error of
 * trajectory influence, from the recorded trajectory only (gradients and HVPs at the recorded θ_t, θ_{t+1} and
 * AdamW moments; no counterfactual run). Per scored sample z it runs three forward recursions of the state
 * perturbation δx_t side by side:
 *
 * - δx⁽¹⁾: the first-order perturbation the estimator models (its Q δθ⁽¹⁾_T are AdamW-/SGD-influence's scores);
 * - δx̃^A: the exact elementwise optimizer map with the linear gradient change H_t δθ − g_{t,z}/D_t;
 * - δx̃^B: the same with the gradient's curvature change (b) and kinks (c), calibrated on the recorded step.
 *
 * e_T = δθ̃^B_T − δθ⁽¹⁾_T is the predicted error, split as e^opt = δθ̃^A − δθ⁽¹⁾ (AdamW's normalisation) plus
 * e^grad = δθ̃^B − δθ̃^A (gradient nonlinearity); π(z) = ‖e_T‖/‖δθ̃_T‖, and with queries π_Q = ‖Q e_T‖/‖Q δθ̃_T‖.
 * The derivation, the model of each term, its scaling in η and what is omitted: docs/taylor-error-proxy.md.
 *
 * Cost: ≈ 4 HVPs per sample and step after its first occurrence (those at one point batched through one taped
 * gradient, hvpEach: the bits of one hvp() each), one gradient and two HVPs per step; the step
 * loop checkpoints (`checkpoint`) and a killed call resumes bit-identically.
 *
 * @module
 */
import { makeBatch, disposeBatch } from '../data/batch.ts';
import type { Dataset } from '../data/dataset.ts';
import { disposeParams, unflattenParams } from '../models/params.ts';
import { numParams, type Model, type Params } from '../models/types.ts';
import { hvp, hvpEach } from '../autodiff/hvp.ts';
import { lossAndGrad } from '../autodiff/loss.ts';
import { perSampleGrads } from '../autodiff/persample.ts';
import { occurrenceRows } from '../estimators/occurrence.ts';
import { checkBaseRun, finalQueryGrads } from '../estimators/sweep.ts';
import type { Progress } from '../estimators/types.ts';
import type { Occurrence, Trajectory } from '../train/trajectory.ts';
import { rngFor } from '../runtime/rng.ts';
import { DivergenceError, UsageError } from '../runtime/errors.ts';
import { scoreMatrix, type ScoreMatrix } from '../analysis/score-matrix.ts';
import { loadResume, removeResume, saveResume } from '../cache/resume.ts';
import { cacheKey } from '../cache/key.ts';
import { exactStep, linearStep, stepBase, vec3, type Vec3 } from './optimizer-step.ts';

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
   * Resume file of the step loop (lib/cache/resume.ts): written every `everySeconds` (default 300; 0 = after
   * every step) after a step, read back by the next call with the same file and request, deleted when the loop
   * finishes. The key is derived here from the run, the ids and the options.
   */
  checkpoint?: { file: string; everySeconds?: number };
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

/** Per-sample perturbations: first order (1), recursion (3) without (A) and with (B) the gradient nonlinearity. */
interface SampleState {
  row: number;
  started: boolean;
  d1: Vec3;
  dA: Vec3;
  dB: Vec3;
}

/** The resume header of the step loop (its arrays: the packed steps, then d1, dA, dB × (θ, m, v) per sample). */
interface ProxyResumeHeader {
  t: number;
  p: number;
  started: boolean[];
  draws: number[];
}

const STEP_FIELDS = ['t', 'lr', 'active', 'stepNorm', 'kappa', 'kinkRatio', 'relError'] as const;

/** Per-step diagnostics as float64 (NaN survives, which JSON would turn into null). */
function packSteps(steps: StepProxy[]): Float64Array {
  return Float64Array.from(steps.flatMap((st) => STEP_FIELDS.map((k) => st[k])));
}

function unpackSteps(a: Float64Array): StepProxy[] {
  const n = STEP_FIELDS.length;
  return Array.from({ length: a.length / n }, (_, i) => Object.fromEntries(STEP_FIELDS.map((k, j) => [k, a[i * n + j]])) as unknown as StepProxy);
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
  const task = { model, data, trajectory, queries: opts.queries ?? data, trainIds };
  const T = checkBaseRun(task, 'taylorErrorProxy');
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
  const ck = opts.checkpoint;
  const ckEvery = (ck?.everySeconds ?? 300) * 1000;
  if (!(ckEvery >= 0)) throw new UsageError(`taylorErrorProxy: checkpoint.everySeconds must be ≥ 0, got ${ck?.everySeconds}`);
  const ckKey = cacheKey({
    kind: 'faithful-tda/error-proxy-loop',
    runHash: man.runHash,
    final: Array.from(trajectory.states.final().theta.subarray(0, 64)),
    ids: trainIds,
    occurrence: opts.occurrence ?? 'all',
    withCurv,
    withKinks,
    split,
    seed: opts.seed ?? 0,
  }, 64);
  let tStart = firstT;
  const resumed = ck ? loadResume<ProxyResumeHeader>(ck.file, ckKey) : undefined;
  if (resumed) {
    const h = resumed.header;
    if (h.p !== p || h.started.length !== states.length) throw new UsageError(`taylorErrorProxy: resume file ${ck!.file} has ${h.started.length} samples × ${h.p} parameters, this request ${states.length} × ${p}; delete it`);
    tStart = h.t;
    steps.push(...unpackSteps(resumed.arrays[0]));
    states.forEach((s, r) => {
      const [d1, dA, dB] = [0, 1, 2].map((k) => {
        const at = 1 + 9 * r + 3 * k;
        return { th: resumed.arrays[at], m: resumed.arrays[at + 1], v: resumed.arrays[at + 2] };
      });
      s.started = h.started[r];
      s.d1 = d1;
      s.dA = dA;
      s.dB = nonlinearGrad ? dB : s.dA; // recursion B is A when the gradient is linear
      for (let k = 0; k < h.draws[r]; k++) sign(r); // replay the seeded kink signs
    });
  }
  let lastSave = performance.now();
  const save = (next: number) => {
    const vectors = states.flatMap((s) => [s.d1, s.dA, s.dB].flatMap((d) => [d.th, d.m, d.v]));
    saveResume(ck!.file, { key: ckKey, t: next, p, started: states.map((s) => s.started), draws }, [packSteps(steps), ...vectors]);
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
      // Every H δθ of this step at once (one taped gradient per point, vjp-many.ts; the bits of one hvp() each):
      // of δθ⁽¹⁾, δθ̃^A and δθ̃^B at θ_t, and of δθ̃^B at θ_{t+1} for the curvature change.
      const H0 = new Map<Float64Array, Float64Array>();
      const H1 = new Map<Float64Array, Float64Array>();
      const batchH = (vs: Float64Array[], at: Params, into: Map<Float64Array, Float64Array>) => {
        const todo = [...new Set(vs)].filter((v) => !isZero(v));
        if (!todo.length) return;
        const V = new Float64Array(todo.length * p);
        todo.forEach((v, k) => V.set(v, k * p));
        const R = hvpEach(model, at, batch, V, lossOpts);
        todo.forEach((v, k) => into.set(v, f64(R.subarray(k * p, (k + 1) * p))));
      };
      batchH(active.flatMap((s) => [s.d1.th, ...(split || !nonlinearGrad ? [s.dA.th] : []), ...(nonlinearGrad ? [s.dB.th] : [])]), params0, H0);
      if (nonlinearGrad && withCurv && stepNorm > 0) batchH(active.map((s) => s.dB.th), params1!, H1);
      const Hat = (v: Float64Array, m: Map<Float64Array, Float64Array>) => m.get(v) ?? new Float64Array(p);
      const kap = { kappa: 0, kink: 0, n: 0 };
      /** δg̃ of (3) for one perturbation: H δθ − g_z/D, plus δg⁽²⁾(δθ) when `nonlinear`. */
      const gradChange = (s: SampleState, dth: Float64Array, nonlinear: boolean, acc?: typeof kap): Float64Array => {
        const Hd = Hat(dth, H0);
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
          const H1d = Hat(dth, H1);
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
          throw new DivergenceError(`taylorErrorProxy: the perturbation of id ${trainIds[s.row]} overflowed at step ${t} (lr ${base.lr}): the linearised dynamics are unstable at this learning rate`, t);
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
    if (ck && t + 1 < T && performance.now() - lastSave >= ckEvery) save(t + 1);
    opts.onProgress?.(t + 1 - firstT, T - firstT, 'steps');
    if ((t + 1) % 4 === 0) await new Promise((r) => setTimeout(r, 0)); // let progress render
  }
  if (ck) removeResume(ck.file); // the caller caches the finished result

  const Q = opts.queries ? finalQueryGrads(task, opts.queryChunk ?? 64) : undefined;
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
