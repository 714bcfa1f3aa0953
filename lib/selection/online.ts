/**
 * Online selection with look-ahead horizon K: a training loop that, before each step t, scores the
 * samples of the planned batch B_t at the live state, keeps the q_t best (budget.ts `batchQuotas`: every
 * epoch keeps exactly round(budget·n)) and applies the step with weight 0 for the dropped ones, through
 * the trainer's own step function (engine.ts `Runner.step`).
 *
 * Score of z ∈ B_t (lookahead.ts definition, removal convention, higher = more helpful to V):
 * −aᵀ∇ℓ_z(θ'_t)/|B_t|, the push of removing z's share from the *full-batch* step taken at the live state
 * x'_t = (θ', m', v')_t, read with the adjoint U of horizon K. Future states are not known online, so
 * U comes from one of two practical sources (`source`):
 *
 * - `'simulate'` (default): a cheap simulated continuation — the real optimizer run from x'_t for K+1
 *   full-batch steps on the planned batches B_t … B_{t+K} (clamped at T) — and U = ∇V(θ̃_{t+1+K})
 *   carried back through those simulated steps. K = 0 is exactly immediate per-step scoring: the
 *   Adam-preconditioned alignment with ∇V one step ahead. Cost per step: K+1 simulated steps, K
 *   curvature products, one validation gradient.
 * - `'reference'`: U is the horizon-K adjoint of step t along a recorded *reference* run of the same
 *   setting (lookahead.ts `onAdjoint`), as dattri-llm's `DataSelectionCallback` scores against a fixed
 *   target; only the push is evaluated at the live state (one tentative step for AdamW's diagonals).
 *
 * Divisor (`divisor`): `'kept'` (default) makes step t the mean loss over the q_t kept samples
 * (weight |B_t|/q_t, D_t = |B_t|), so dropping samples does not also shrink the effective LR;
 * `'original'` keeps D_t = |B_t| (the dropped share simply vanishes, as in the removal linearisation).
 *
 * @module
 */
import type { Dataset } from '../data/dataset.ts';
import { disposeBatch, makeBatch } from '../data/batch.ts';
import { disposeParams, flattenParams, unflattenParams } from '../models/params.ts';
import { numParams, type Model } from '../models/types.ts';
import { perSampleGrads } from '../autodiff/persample.ts';
import type { CurvatureKind } from '../autodiff/curvature.ts';
import { adamwAdjoint, dot, type AdamWAdjoint } from '../optim/linearize.ts';
import { makeEngine, Runner, type StepEngine } from '../train/engine.ts';
import type { TrainConfig } from '../train/setting.ts';
import type { FlatState } from '../train/trajectory.ts';
import { rngFor } from '../runtime/rng.ts';
import { validationGrad } from './objective.ts';
import { linearStep } from './step-map.ts';
import { batchQuotas, checkBudget, randomK, topK } from './budget.ts';

/** How the online loop scores a batch. */
export type OnlineScorer =
  | { kind: 'lookahead'; K: number; source?: 'simulate'; curvature?: CurvatureKind }
  | {
      kind: 'lookahead';
      K: number;
      source: 'reference';
      /** The reference run's horizon-K adjoint coupled at step t (not modified by the loop). */
      adjoint: (t: number) => AdamWAdjoint;
    }
  | { kind: 'random'; seed: number };

/** What one online step did (for logging and tests). */
export interface OnlineStepInfo {
  t: number;
  /** `[|B_t|]` batch ids. */
  ids: number[];
  /** `[|B_t|]` scores (absent for random selection). */
  scores?: Float64Array;
  /** Kept positions in the batch, ascending. */
  kept: number[];
  loss: number;
}

/** Options of {@link trainOnline}. */
export interface OnlineOptions {
  model: Model;
  data: Dataset;
  setting: TrainConfig;
  /** V = mean loss over this set. */
  validation: Dataset;
  /** Fraction of each epoch's samples kept, in (0, 1]. */
  budget: number;
  scorer: OnlineScorer;
  divisor?: 'kept' | 'original';
  valChunk?: number;
  onStep?: (info: OnlineStepInfo) => void;
}

/** Result of {@link trainOnline}. */
export interface OnlineResult {
  /** Final state. */
  final: FlatState;
  /** `[T][q_t]` ids kept at each step. */
  kept: number[][];
  /** Samples kept per epoch. */
  keptPerEpoch: number[];
  /** `[T]` training loss of each applied step (over the kept samples, as weighted). */
  losses: number[];
  cost: { curvatureProducts: number; simulatedSteps: number; validationGrads: number; seconds: number };
}

/**
 * Runs the online selection loop from θ_0 (same init and plan as the plain run of `setting`).
 * @throws on a bad budget or scorer, SGD with momentum, or divergence (naming the step)
 */
export async function trainOnline(o: OnlineOptions): Promise<OnlineResult> {
  const t0 = performance.now();
  checkBudget(o.budget, 'online selection');
  const divisor = o.divisor ?? 'kept';
  if (divisor !== 'kept' && divisor !== 'original') throw new Error(`online selection: divisor must be 'kept' or 'original', got '${divisor}'`);
  const sc = o.scorer;
  if (sc.kind === 'lookahead' && !(Number.isInteger(sc.K) && sc.K >= 0)) throw new Error(`online selection: K must be an integer ≥ 0, got ${sc.K}`);
  if (sc.kind !== 'lookahead' && sc.kind !== 'random') throw new Error(`online selection: unknown scorer kind '${(sc as { kind: string }).kind}'`);

  // Decisions for the step about to run, read by the engine's weight function inside Runner.step.
  let current: { t: number; w: Map<number, number> } = { t: -1, w: new Map() };
  const engine = makeEngine({
    model: o.model,
    data: o.data,
    setting: o.setting,
    weights: (id, t) => {
      if (t !== current.t) throw new Error(`online selection: weights asked for step ${t}, decided for step ${current.t}`);
      return current.w.get(id) ?? 0;
    },
  });
  const full = makeEngine({ model: o.model, data: o.data, setting: o.setting });
  const T = engine.T;
  const quotas = batchQuotas(engine.plan.map((b) => b.length), o.budget, engine.stepsPerEpoch);
  const cost = { curvatureProducts: 0, simulatedSteps: 0, validationGrads: 0, seconds: 0 };

  // θ_0 and empty moments, exactly as train() starts.
  const init = o.model.init(rngFor(o.setting.seed, 'init'));
  const start: FlatState = { theta: flattenParams(init, o.model.spec), optStep: 0 };
  disposeParams(init);
  if (o.setting.optimizer.kind === 'adamw') {
    start.m = new Float32Array(engine.nParams);
    start.v = new Float32Array(engine.nParams);
  }
  const runner = new Runner(engine, start, 0);
  const kept: number[][] = [];
  const keptPerEpoch: number[] = [];
  const losses: number[] = [];
  try {
    for (let t = 0; t < T; t++) {
      const ids = engine.plan[t];
      const q = quotas[t];
      let scores: Float64Array | undefined;
      let pos: number[];
      if (sc.kind === 'random') pos = randomK(ids.length, q, sc.seed, `random-online-${o.budget}-${t}`);
      else {
        scores = scoreBatch(o, full, runner.flat(), t, sc, cost);
        pos = topK(scores, q);
      }
      const w = divisor === 'kept' ? ids.length / Math.max(q, 1) : 1;
      current = { t, w: new Map(pos.map((k) => [ids[k], w])) };
      const info = runner.step();
      kept.push(pos.map((k) => ids[k]));
      const e = Math.floor(t / engine.stepsPerEpoch);
      keptPerEpoch[e] = (keptPerEpoch[e] ?? 0) + pos.length;
      losses.push(info.loss);
      o.onStep?.({ t, ids, scores, kept: pos, loss: info.loss });
      if (t % 4 === 3) await new Promise((r) => setTimeout(r, 0));
    }
    cost.seconds = (performance.now() - t0) / 1000;
    return { final: runner.flat(), kept, keptPerEpoch, losses, cost };
  } finally {
    runner.dispose();
  }
}

/**
 * Look-ahead scores of the members of B_t at the live state `live` (module doc).
 * @returns `[|B_t|]`
 */
export function scoreBatch(
  o: Pick<OnlineOptions, 'model' | 'data' | 'validation' | 'valChunk'>,
  full: StepEngine,
  live: FlatState,
  t: number,
  sc: Extract<OnlineScorer, { kind: 'lookahead' }>,
  cost: OnlineResult['cost'],
): Float64Array {
  const T = full.T;
  const opt = full.setting.optimizer;
  const simulate = sc.source !== 'reference';
  const r = simulate ? Math.min(t + 1 + sc.K, T) : t + 1;
  // x̃_{t+1} … x̃_r: the real optimizer continued from the live state on full planned batches.
  const states: FlatState[] = [];
  const sim = new Runner(full, live, t);
  try {
    for (let s = t; s < r; s++) {
      sim.step();
      states.push(sim.flat());
      cost.simulatedSteps++;
    }
  } finally {
    sim.dispose();
  }
  const curvature = simulate ? (sc as { curvature?: CurvatureKind }).curvature ?? 'exact' : 'none';
  let U: AdamWAdjoint;
  if (simulate) {
    const pr = unflattenParams(states[r - t - 1].theta, o.model.spec);
    try {
      U = adamwAdjoint(validationGrad(o.model, pr, o.validation, o.valChunk));
      cost.validationGrads++;
    } finally {
      disposeParams(pr);
    }
  } else {
    const ref = (sc as { adjoint: (t: number) => AdamWAdjoint }).adjoint(t);
    U = { theta: Float64Array.from(ref.theta), m: Float64Array.from(ref.m), v: Float64Array.from(ref.v) };
  }
  // Carry U back through the simulated steps r−1 … t+1 (identity for K = 0 or 'reference').
  for (let s = r - 1; s > t; s--) {
    const params = unflattenParams(states[s - t - 1].theta, o.model.spec);
    const batch = makeBatch(o.data, full.plan[s]);
    try {
      const lin = linearStep({ model: o.model, optimizer: opt, params, batch, divisor: full.divisor(s), lr: full.lrs[s], post: states[s - t], curvature, perSample: curvature === 'fisher' ? perSampleGrads(o.model, params, batch) : undefined });
      lin.transition(U, lin.couple(U));
      cost.curvatureProducts += lin.products;
    } finally {
      disposeParams(params);
      disposeBatch(batch);
    }
  }
  // The push of each member of B_t at the live state.
  const p = numParams(o.model.spec);
  const params = unflattenParams(live.theta, o.model.spec);
  const batch = makeBatch(o.data, full.plan[t]);
  try {
    const G = perSampleGrads(o.model, params, batch);
    const D = full.divisor(t);
    const lin = linearStep({ model: o.model, optimizer: opt, params, batch, divisor: D, lr: full.lrs[t], post: states[0], curvature: 'none' });
    const a = lin.couple(U);
    const out = new Float64Array(full.plan[t].length);
    for (let k = 0; k < out.length; k++) out[k] = -dot(a, G.subarray(k * p, (k + 1) * p)) / D;
    return out;
  } finally {
    disposeParams(params);
    disposeBatch(batch);
  }
}
