/**
 * K-step look-ahead scores along a recorded trajectory (papers.md §1.10; the formalisation is [DERIVED]).
 *
 * For a sample z used at step t, the horizon-K score is the first-order change of the validation
 * objective V (objective.ts) when z's share is removed from the batch gradient of step t, propagated K
 * steps through the linearised optimizer map and read at θ_r:
 *
 *     score_K(z, t) = ∇V(θ_r)ᵀ E_θ J_{r−1} ⋯ J_{t+1} Z_push(z, t),   r = min(t + 1 + K, T)
 *
 * Indexing (state t is the state before step t, θ_T is final): K = 0 is the one-step push read right
 * after the step, at θ_{t+1} (= `adam-first-order` with the validation set as queries, averaged);
 * `'offline'` reads at θ_T (K = T−1−t, = AdamW-influence / SGD-influence on the validation aggregate).
 * A finite K that runs past the end is clamped to θ_T. Positive = removing z would raise V = z helps.
 *
 * Cost. With one adjoint per read-out point (V is a single vector), score_K for every (z, t) needs the
 * adjoint of each r = t+1+K carried K steps back: O(T·K) curvature products. Adjoints depend only on r,
 * not on K, so one backward pass serves a whole set of horizons at O(T·(K_max+1)) products, holding at
 * most K_max+2 adjoints (each 3p float64 for AdamW) at once; `'offline'` adds one adjoint (r = T).
 *
 * @module
 */
import type { Dataset } from '../data/dataset.ts';
import { disposeBatch, makeBatch } from '../data/batch.ts';
import { disposeParams, unflattenParams } from '../models/params.ts';
import { numParams, type Model } from '../models/types.ts';
import { perSampleGrads } from '../autodiff/persample.ts';
import type { CurvatureKind } from '../autodiff/curvature.ts';
import { adamwAdjoint, dot, type AdamWAdjoint } from '../optim/linearize.ts';
import { scoreMatrix, type ScoreMatrix } from '../analysis/score-matrix.ts';
import type { Trajectory } from '../train/trajectory.ts';
import { checkBaseRun } from '../estimators/sweep.ts';
import type { Progress } from '../estimators/types.ts';
import { validationGrad } from './objective.ts';
import { linearStep } from './step-map.ts';

/** A look-ahead horizon: K ≥ 0 steps, or `'offline'` (propagate to the end of training). */
export type Horizon = number | 'offline';

/** Throws unless `h` is a non-negative integer or 'offline'. */
export function checkHorizon(h: unknown, where = 'look-ahead'): asserts h is Horizon {
  if (h === 'offline') return;
  if (!(typeof h === 'number' && Number.isInteger(h) && h >= 0)) throw new Error(`${where}: a horizon must be an integer K ≥ 0 or 'offline', got ${JSON.stringify(h)}`);
}

/** The read-out state r of horizon `h` for a sample used at step t of a T-step run: min(t+1+K, T). */
export function readOut(t: number, h: Horizon, T: number): number {
  return h === 'offline' ? T : Math.min(t + 1 + h, T);
}

/** What is scored: a recorded base run and the validation set defining V. */
export interface LookaheadTask {
  model: Model;
  /** The training set the trajectory's batch ids index. */
  data: Dataset;
  /** A complete, unperturbed run with full states (θ, and m, v for AdamW) at every step (stored or replayable). */
  trajectory: Trajectory;
  /** The validation set: V = mean loss over it. */
  validation: Dataset;
}

/** Options of {@link lookaheadScores}. */
export interface LookaheadOptions {
  horizons: Horizon[];
  /** H_t model in the transitions: exact HVPs (default), `ggn`, `fisher`, or `none` (cheapest). */
  curvature?: CurvatureKind;
  /** Validation examples per gradient call (default 256). */
  valChunk?: number;
  /**
   * Called with the adjoint coupled at step t for horizon index h (U = ∇V(θ_r)ᵀ W, W = ∂θ_r/∂x_{t+1}),
   * before it moves on. The vectors are reused afterwards: copy what you keep.
   */
  onAdjoint?: (t: number, h: number, U: AdamWAdjoint) => void;
  onProgress?: Progress;
}

/** Look-ahead scores of every batch member at every step, for each horizon. */
export interface LookaheadScores {
  horizons: Horizon[];
  T: number;
  /** `batches[t]` = ids of step t (the trajectory's plan). */
  batches: number[][];
  /** `scores[h][t][k]` = score of the k-th member of batch t under horizon h (`[H][T][|B_t|]`). */
  scores: Float64Array[][];
  /** Curvature products and validation gradients spent. */
  cost: { curvatureProducts: number; validationGrads: number; seconds: number };
}

/**
 * Scores every (sample, step) occurrence of a recorded run for each horizon in one backward pass
 * (see the module doc for the definition and the cost).
 * @throws on an invalid horizon, a perturbed or incomplete run, or SGD with momentum
 */
export async function lookaheadScores(task: LookaheadTask, o: LookaheadOptions): Promise<LookaheadScores> {
  const t0 = performance.now();
  if (!Array.isArray(o.horizons) || o.horizons.length === 0) throw new Error('look-ahead: give at least one horizon');
  o.horizons.forEach((h) => checkHorizon(h));
  const traj = task.trajectory;
  const T = checkBaseRun({ model: task.model, data: task.data, trajectory: traj, queries: task.validation, trainIds: [] }, 'look-ahead');
  const setting = traj.manifest.setting;
  const curvature = o.curvature ?? 'exact';
  const p = numParams(task.model.spec);
  const H = o.horizons.length;

  // Lowest step at which each read-out adjoint is still coupled: it is carried down to there.
  const until = new Map<number, number>();
  for (let s = 0; s < T; s++) {
    for (const h of o.horizons) {
      const r = readOut(s, h, T);
      if (!until.has(r) || until.get(r)! > s) until.set(r, s);
    }
  }

  const scores: Float64Array[][] = o.horizons.map(() => traj.batches.map((b) => new Float64Array(b.length)));
  const active = new Map<number, AdamWAdjoint>();
  let products = 0;
  let valGrads = 0;
  for (let s = T - 1; s >= 0; s--) {
    // Birth: the adjoint read at θ_{s+1} enters here.
    if (until.has(s + 1)) {
      const params = traj.states.params(s + 1);
      try {
        active.set(s + 1, adamwAdjoint(validationGrad(task.model, params, task.validation, o.valChunk)));
        valGrads++;
      } finally {
        disposeParams(params);
      }
    }
    const D = traj.divisors[s];
    if (D > 0) {
      const params = unflattenParams(traj.states.at(s).theta, task.model.spec);
      const batch = makeBatch(task.data, traj.batches[s]);
      try {
        const G = perSampleGrads(task.model, params, batch);
        const lin = linearStep({
          model: task.model,
          optimizer: setting.optimizer,
          params,
          batch,
          divisor: D,
          lr: traj.lrs[s],
          post: setting.optimizer.kind === 'adamw' ? traj.states.at(s + 1) : undefined,
          perSample: G,
          curvature,
        });
        const a = new Map<number, Float64Array>();
        for (const [r, U] of active) a.set(r, lin.couple(U));
        const B = traj.batches[s].length;
        o.horizons.forEach((h, hi) => {
          const r = readOut(s, h, T);
          const ar = a.get(r)!;
          const out = scores[hi][s];
          for (let k = 0; k < B; k++) out[k] = -dot(ar, G.subarray(k * p, (k + 1) * p)) / D;
          o.onAdjoint?.(s, hi, active.get(r)!);
        });
        for (const [r, U] of active) if (until.get(r)! < s) lin.transition(U, a.get(r)!);
        products += lin.products;
      } finally {
        disposeParams(params);
        disposeBatch(batch);
      }
    }
    // An empty (skipped) step is the identity map: adjoints pass through unchanged.
    for (const r of [...active.keys()]) if (until.get(r)! >= s) active.delete(r);
    o.onProgress?.(T - s, T, 'steps');
    if ((T - s) % 8 === 0) await new Promise((res) => setTimeout(res, 0));
  }
  return {
    horizons: [...o.horizons],
    T,
    batches: traj.batches,
    scores,
    cost: { curvatureProducts: products, validationGrads: valGrads, seconds: (performance.now() - t0) / 1000 },
  };
}

/** Index of horizon `h` in a result. @throws when absent */
export function horizonIndex(res: { horizons: Horizon[] }, h: Horizon): number {
  const i = res.horizons.indexOf(h);
  if (i < 0) throw new Error(`look-ahead: horizon ${JSON.stringify(h)} was not computed (have ${JSON.stringify(res.horizons)})`);
  return i;
}

/**
 * Per-sample scores: the sum over every occurrence of each training id (samples never used score 0).
 * @param n training-set size
 * @returns `[n]`
 */
export function sampleScores(res: LookaheadScores, h: Horizon, n: number): Float64Array {
  const hi = horizonIndex(res, h);
  const out = new Float64Array(n);
  res.batches.forEach((b, t) => b.forEach((id, k) => (out[id] += res.scores[hi][t][k])));
  return out;
}

/** Per-sample scores of `trainIds` as a one-column {@link ScoreMatrix} (`[trainIds.length, 1]`), for comparisons with estimators. */
export function scoreColumn(res: LookaheadScores, h: Horizon, trainIds: number[], n: number): ScoreMatrix {
  const all = sampleScores(res, h, n);
  return scoreMatrix(trainIds.length, 1, trainIds.map((id) => all[id]));
}
