/**
 * The query-side backward sweep shared by SGD-influence and AdamW-influence.
 *
 * One pass from the last step to the first carries, for every query q, the adjoint U_q = ∇ℓ_q(θ_T)ᵀ W_t
 * (W_t = ∂θ_T/∂x_{t+1}; x = θ for SGD, (θ, m, v) for AdamW). At step t, every selected sample z in B_t
 * gets the contribution of removing its share g_{t,z} = ∇ℓ_z(θ_t)/D_t from the batch gradient; then U is
 * multiplied by the step's Jacobian (optim/linearize.ts). Cost: one curvature product per query per step.
 *
 * The first-order change of ℓ_q when the weight of z at step t goes from 1 to 0 is exactly what this
 * computes (tested against central finite differences of the real trainer).
 *
 * @module
 */
import { UsageError } from '../runtime/errors.ts';
import { tf } from '../runtime/tf.ts';
import { makeBatch, disposeBatch } from '../data/batch.ts';
import { numParams } from '../models/types.ts';
import { disposeParams, unflattenParams } from '../models/params.ts';
import { lossAndGrad, queryGrads } from '../autodiff/loss.ts';
import { perSampleGrads } from '../autodiff/persample.ts';
import { curvatureProduct, fisherFromGrads, type CurvatureKind } from '../autodiff/curvature.ts';
import { hvpMany, mlpHvpHost, nativeMlpBlas } from '../autodiff/hvp.ts';
import {
  adamwCouplingAll,
  adamwDiagonals,
  adamwTransitionAll,
  dot,
  sgdTransition,
  type AdamWAdjoint,
  type AdamWDiagonals,
  type AdamWHyper,
} from '../optim/linearize.ts';
import { scoreMatrix, type ScoreMatrix } from '../analysis/score-matrix.ts';
import { occurrenceRows } from './occurrence.ts';
import type { AttributionTask, EstimatorOptions } from './types.ts';
import { checkMask, maskIndicator, projectInPlace, projectRows } from './masks.ts';
import { loadResume, removeResume, saveResume } from '../cache/resume.ts';

/** Options of {@link trajectorySweep}. */
export interface SweepOptions extends EstimatorOptions {
  /** Which optimizer's step map is linearised. */
  dynamics: 'adamw' | 'sgd';
  /** Curvature of the batch loss used in the Hessian-mediated part (`none` = TracIn-style). */
  curvature: CurvatureKind;
  /** SGD only: coupled L2 weight decay λ in θ ← θ − η(g + λθ). Default: the run's, if it is an SGD run; else 0. */
  weightDecay?: number;
  /** Queries per chunk when computing query gradients (memory bound for language models). */
  queryChunk?: number;
  /** AdamW only: partial accounting of the optimizer (adamw-influence.ts `AdamWAblation`). */
  ablation?: 'none' | 'no-bias-correction' | 'v-frozen' | 'no-momentum';
}

/** Checks that a task is a complete, unperturbed base run and returns T. */
export function checkBaseRun(task: AttributionTask, where: string): number {
  const m = task.trajectory.manifest;
  if (m.removal) throw new UsageError(`${where}: the trajectory is a counterfactual run (removal of ${m.removal.ids.length} ids); attribute a base run`);
  if (m.weightsKey) throw new UsageError(`${where}: the trajectory was trained with custom weights ('${m.weightsKey}'); attribute a base run`);
  if (!m.complete || m.startStep !== 0 || m.endStep !== m.steps) {
    throw new UsageError(`${where}: the trajectory is incomplete (states ${m.startStep}..${m.endStep} of ${m.steps})`);
  }
  if (task.data.n !== m.nTrain) throw new UsageError(`${where}: data has ${task.data.n} examples, the trajectory was trained on ${m.nTrain}`);
  for (const id of task.trainIds) {
    if (!(Number.isInteger(id) && id >= 0 && id < task.data.n)) throw new UsageError(`${where}: train id ${id} out of range [0, ${task.data.n})`);
  }
  return m.steps;
}

/** Query gradients at θ_T: Float32Array `[nQuery·p]`, computed in chunks. */
export function finalQueryGrads(task: AttributionTask, chunk = 64): Float32Array {
  const T = task.trajectory.manifest.steps;
  return queryGradsAt(task, T, chunk);
}

/** Query gradients ∇ℓ_q(θ_t) for all queries: `[nQuery·p]`. */
export function queryGradsAt(task: AttributionTask, t: number, chunk = 64): Float32Array {
  const p = numParams(task.model.spec);
  const nq = task.queries.n;
  const out = new Float32Array(nq * p);
  const params = task.trajectory.states.params(t);
  try {
    for (let s = 0; s < nq; s += chunk) {
      const ids = Array.from({ length: Math.min(chunk, nq - s) }, (_, i) => s + i);
      const b = makeBatch(task.queries, ids);
      try {
        out.set(queryGrads(task.model, params, b), s * p);
      } finally {
        disposeBatch(b);
      }
    }
  } finally {
    disposeParams(params);
  }
  return out;
}

/**
 * Backward sweep over the recorded trajectory (see module doc).
 * @returns scores `[trainIds.length, queries.n]` (removal convention)
 */
export async function trajectorySweep(task: AttributionTask, opts: SweepOptions): Promise<ScoreMatrix> {
  const where = `${opts.dynamics}-sweep`;
  const T = checkBaseRun(task, where);
  const traj = task.trajectory;
  const setting = traj.manifest.setting;
  const opt = setting.optimizer;
  if (opts.dynamics === 'adamw' && opt.kind !== 'adamw') {
    throw new Error(`${where}: AdamW dynamics need an AdamW run, this run used '${opt.kind}'`);
  }
  const hp: AdamWHyper | undefined = opt.kind === 'adamw'
    ? { beta1: opt.beta1, beta2: opt.beta2, eps: opt.eps, weightDecay: opt.weightDecay }
    : undefined;
  const ablation = opts.ablation ?? 'none';
  if (ablation !== 'none' && opts.dynamics !== 'adamw') throw new Error(`${where}: ablation '${ablation}' applies to AdamW dynamics only`);
  if (!['none', 'no-bias-correction', 'v-frozen', 'no-momentum'].includes(ablation)) {
    throw new Error(`${where}: unknown ablation '${ablation}'; choose none, no-bias-correction, v-frozen or no-momentum`);
  }
  // The linearisation's hyper-parameters: `no-momentum` linearises with β1 = 0 (m bypassed).
  const hpLin: AdamWHyper | undefined = hp && ablation === 'no-momentum' ? { ...hp, beta1: 0 } : hp;
  const sgdWd = opts.weightDecay ?? (opt.kind === 'sgd' ? opt.weightDecay : 0);
  const p = numParams(task.model.spec);
  const nq = task.queries.n;
  const rows = occurrenceRows(traj.batches, task.trainIds, opts.occurrence ?? 'all');
  const out = scoreMatrix(task.trainIds.length, nq);

  const Q = finalQueryGrads(task, opts.queryChunk);
  projectRows(Q, p, opts.mask);
  const keep = opts.mask ? maskIndicator(checkMask(where, opts.mask, p), p) : undefined;
  // Adjoints of all queries in three flat [nq·p] float64 arrays (row q = query q), so each step is a few fused
  // passes with no allocation; U[q] are views of row q for the per-query helpers.
  const flat = { theta: Float64Array.from(Q), m: new Float64Array(nq * p), v: new Float64Array(nq * p) };
  const U: AdamWAdjoint[] = [];
  for (let q = 0; q < nq; q++) U.push({ theta: flat.theta.subarray(q * p, (q + 1) * p), m: flat.m.subarray(q * p, (q + 1) * p), v: flat.v.subarray(q * p, (q + 1) * p) });
  const A = new Float32Array(nq * p); // the directions handed to the curvature product

  // Resume: the adjoints and partial scores after step `next + 1` (float64, so the rest is bit-identical).
  const ck = opts.checkpoint;
  let tStart = T - 1;
  const slots = opts.dynamics === 'adamw' ? (['theta', 'm', 'v'] as const) : (['theta'] as const);
  if (ck) {
    const r = loadResume<{ next: number; p: number; nq: number; nRows: number }>(ck.file, ck.key);
    if (r && r.header.p === p && r.header.nq === nq && r.header.nRows === out.nTrain && r.arrays.length === 1 + slots.length) {
      tStart = r.header.next;
      out.values.set(r.arrays[0]);
      slots.forEach((k, j) => flat[k].set(r.arrays[1 + j]));
      opts.onProgress?.(T - 1 - tStart, T, 'steps');
    }
  }
  let lastSave = performance.now();
  const save = (next: number) => {
    saveResume(ck!.file, { key: ck!.key, next, p, nq, nRows: out.nTrain }, [Float64Array.from(out.values), ...slots.map((k) => flat[k])]);
    lastSave = performance.now();
  };

  for (let t = tStart; t >= 0; t--) {
    const D = traj.divisors[t];
    if (D === 0) continue; // skipped (empty) step: the state map is the identity
    const lr = traj.lrs[t];
    const params = unflattenParams(traj.states.at(t).theta, task.model.spec);
    const batch = makeBatch(task.data, traj.batches[t]);
    try {
      const lossOpts = { divisor: D };
      // Per-sample shares of the selected samples in this batch.
      const here = rows[t];
      let Gz: Float32Array | undefined;
      if (here.length) {
        const sub = makeBatch(task.data, here.map((r) => r.id));
        try {
          Gz = perSampleGrads(task.model, params, sub);
        } finally {
          disposeBatch(sub);
        }
      }
      const Gbatch = opts.curvature === 'fisher' ? perSampleGrads(task.model, params, batch) : undefined;
      /** C v_q for all queries at once (exact HVPs are batched for MLPs in hvpMany). */
      const curvAll = (Vs: Float32Array | Float64Array): ArrayLike<number> | null => {
        if (opts.curvature === 'none') return null;
        if (opts.curvature === 'exact') return hvpMany(task.model, params, batch, Vs, lossOpts);
        // Plain MLPs with a native GEMM: all queries' Gauss–Newton products in one host pass (mlp-native.ts).
        const nb = opts.curvature === 'ggn' ? nativeMlpBlas(task.model) : undefined;
        if (nb) return mlpHvpHost(nb, task.model, params, batch, Vs, nq, lossOpts, true);
        const out = new Float32Array(nq * p);
        for (let q = 0; q < nq; q++) {
          const v = Vs.subarray(q * p, (q + 1) * p);
          out.set(
            Gbatch
              ? fisherFromGrads(Gbatch, traj.batches[t].length, v, lossOpts)
              : curvatureProduct(opts.curvature, task.model, params, batch, v, lossOpts),
            q * p,
          );
        }
        return out;
      };
      const row = (q: number, C: ArrayLike<number> | null) => (C ? (C as Float32Array).subarray(q * p, (q + 1) * p) : null);

      if (opts.dynamics === 'adamw') {
        const post = traj.states.at(t + 1);
        if (!post.m || !post.v) throw new Error(`${where}: state ${t + 1} lacks AdamW moments (record 'full' states)`);
        const diag = ablatedDiagonals(adamwDiagonals(post.m, post.v, post.optStep, hp!, { biasCorrection: ablation !== 'no-bias-correction' }), ablation);
        const g = lossAndGrad(task.model, params, batch, lossOpts).grad;
        const scores = adamwCouplingAll(flat, nq, g, diag, lr, hpLin!, A, here.length ? Gz! : null, here.length);
        for (let q = 0; q < nq; q++) {
          here.forEach((r, k) => {
            out.values[r.row * nq + q] -= scores[q * here.length + k] / D;
          });
        }
        const HA = curvAll(A);
        adamwTransitionAll(flat, nq, HA, diag, lr, hpLin!);
        // m and v updates are diagonal in θ, so projecting θ keeps all three on the mask.
        if (keep) for (let q = 0; q < nq; q++) projectInPlace(U[q].theta, keep);
      } else {
        for (let q = 0; q < nq; q++) {
          const u = U[q].theta;
          here.forEach((r, k) => {
            out.values[r.row * nq + q] += (lr * dot(u, Gz!.subarray(k * p, (k + 1) * p))) / D;
          });
        }
        // The curvature product may keep views of its input: hand it a copy of the adjoints.
        const HU = curvAll(Float64Array.from(flat.theta));
        for (let q = 0; q < nq; q++) {
          sgdTransition(U[q].theta, row(q, HU), lr, sgdWd);
          if (keep) projectInPlace(U[q].theta, keep);
        }
      }
    } finally {
      disposeParams(params);
      disposeBatch(batch);
    }
    if (ck && t > 0 && performance.now() - lastSave >= 1000 * (ck.everySeconds ?? 300)) save(t - 1);
    opts.onProgress?.(T - t, T, 'steps');
    if ((T - t) % 8 === 0) await new Promise((r) => setTimeout(r, 0)); // let progress render
  }
  if (ck) removeResume(ck.file); // the caller caches the finished scores
  void tf;
  return out;
}

/** The step's diagonals under a partial-accounting ablation (see adamw-influence.ts). */
function ablatedDiagonals(d: AdamWDiagonals, ablation: NonNullable<SweepOptions['ablation']>): AdamWDiagonals {
  if (ablation === 'v-frozen') return { ...d, S: new Float64Array(d.S.length) };
  if (ablation === 'no-momentum') return { ...d, bc1: 1 };
  return d;
}
