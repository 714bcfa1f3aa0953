/**
 * The further-training gold standard of final-model-only attribution (arXiv 2412.03906; papers.md §3.2):
 * from θ_T, continue training for `epochs` on the full training set and on the set without sample i, with
 * the same seeded sample order, record every query's loss after each epoch, and report
 *
 *     Δ_{s,e}(i, q) = ℓ_q(θ_e^{−i,s}) − ℓ_q(θ_e^{full,s})        (float64 difference of float32 losses)
 *
 * averaged over seeds s (optionally minus the mean over left-out samples, the paper's eq. 13). Same sign as
 * every score in the suite: positive = i helped q.
 *
 * Modes (how "without i" is realised):
 * - `'delete'` (default; the paper's tabular `RandomSamplerLOO`): the same permutation with i deleted, cut into
 *   batches of B, so every later batch shifts by one position (and an epoch may have one step fewer).
 * - `'zero-weight'`: the trainer's removal (`removal: {ids: [i], occurrence: 'all', divisor}`): every batch
 *   keeps its composition and i gets weight 0.
 * - `'every-batch'` (the paper's SST-2 variant): the full batches, with ℓ_i/N_train subtracted from every
 *   batch loss.
 * The trainer has no custom batch plan, so every mode runs through the trainer's step function
 * (`Runner.step` of lib/train/engine.ts) on a step engine whose plan and coefficients are set here; the
 * full run uses the trainer's own engine. The optimizer state starts fresh (a new optimizer on θ_T).
 *
 * @module
 */
import type { Dataset } from '../data/dataset.ts';
import type { Model, Params } from '../models/types.ts';
import { disposeParams, flattenParams, unflattenParams } from '../models/params.ts';
import { numParams } from '../models/types.ts';
import { scoreMatrix, type ScoreMatrix } from '../analysis/score-matrix.ts';
import type { OptimizerSetting } from '../optim/optimizer.ts';
import { lrSequence, type Schedule } from '../optim/schedule.ts';
import { makeEngine, Runner, type StepEngine } from '../train/engine.ts';
import { batchPlan, type TrainConfig } from '../train/setting.ts';
import type { Removal, Trajectory } from '../train/trajectory.ts';
import { checkIds, checkQueries, diff64, queryLosses, tick, defaultChunk } from './common.ts';

/** How sample i is left out of further training (see the module doc). */
export type FurtherTrainingMode = 'delete' | 'zero-weight' | 'every-batch';

const MODES: FurtherTrainingMode[] = ['delete', 'zero-weight', 'every-batch'];

/** Options of {@link furtherTraining}. */
export interface FurtherTrainingOptions {
  model: Model;
  /** The training set. */
  data: Dataset;
  queries: Dataset;
  /** Left-out training ids (the rows of the result). */
  ids: readonly number[];
  /** θ_T: a trajectory (its final state), a flat vector `[P]`, or a parameter record (not disposed). */
  from: Trajectory | Float32Array | Params;
  /** Further-training epochs (0 allowed: Δ = 0). */
  epochs: number;
  /** Seeds of the sample order (batch plan of `rngFor(seed, 'order-<epoch>')`): a list, or a count n → 0..n−1. Default [0]. */
  seeds?: number | readonly number[];
  /** Default: the trajectory's batch size (required when `from` is not a trajectory). */
  batchSize?: number;
  /** Default: the trajectory's optimizer. */
  optimizer?: OptimizerSetting;
  /** Default: the trajectory's schedule kind and LR, spanning the further-training steps. */
  schedule?: Schedule;
  /** Default 'delete'. */
  mode?: FurtherTrainingMode;
  /** 'zero-weight' mode only: batch divisor of the left-out run (default 'original'). */
  divisor?: Removal['divisor'];
  /** Subtract, per query and epoch, the mean of Δ over the left-out samples (the paper's eq. 13). Default false. */
  subtractMean?: boolean;
  /** Called after each finished run: `done` of `total` runs (seeds × (1 + ids)). */
  onProgress?: (done: number, total: number) => void;
  /** Queries per forward pass (default 256 for classifiers, 8 for sequence data). */
  queryChunk?: number;
}

/** Result of {@link furtherTraining}. */
export interface FurtherTrainingResult {
  /** `perEpoch[e]`: Δ after e further epochs (e = 0..epochs; e = 0 is exactly 0), `[ids.length, nQuery]`, mean over seeds. */
  perEpoch: ScoreMatrix[];
  /** Query losses of the full runs, mean over seeds: `fullLosses[e]` `[nQuery]`. */
  fullLosses: Float64Array[];
  ids: number[];
  seeds: number[];
  mode: FurtherTrainingMode;
  subtractMean: boolean;
  /** The further-training setting of seed `seeds[0]` (the others differ only in `seed`). */
  setting: TrainConfig;
  timing: { seconds: number; runs: number };
}

function isTrajectory(x: unknown): x is Trajectory {
  return !!x && typeof x === 'object' && 'manifest' in x && 'states' in x;
}

/**
 * The batch plan of a left-out run in `'delete'` mode: per epoch the permutation of {@link batchPlan} with
 * `id` deleted, cut into chunks of `batchSize` (the last chunk partial).
 * @returns `epochs·ceil((n−1)/B)` batches
 */
export function deletePlan(n: number, batchSize: number, epochs: number, seed: number, id: number): number[][] {
  const full = batchPlan(n, batchSize, epochs, seed);
  const per = Math.ceil(n / batchSize);
  const plan: number[][] = [];
  for (let e = 0; e < epochs; e++) {
    const perm = full.slice(e * per, (e + 1) * per).flat().filter((x) => x !== id);
    for (let i = 0; i < perm.length; i += batchSize) plan.push(perm.slice(i, i + batchSize));
  }
  return plan;
}

/** A step engine with a given plan and per-step coefficients (the rest from `base`). */
function engineWith(base: StepEngine, schedule: Schedule, plan: number[][], coef: (t: number) => { c: Float32Array; D: number }, perEpoch: number): StepEngine {
  return { ...base, plan, T: plan.length, lrs: lrSequence(schedule, plan.length), stepsPerEpoch: perEpoch, removedAt: new Map(), divisor: (t) => coef(t).D, coef };
}

/**
 * Further-training ground truth.
 * @returns Δ per epoch `[ids.length, queries.n]` (mean over seeds), with the full runs' query losses
 * @throws on an id out of range or repeated, a bad mode / epochs / seed, or a missing optimizer setting
 */
export async function furtherTraining(opts: FurtherTrainingOptions): Promise<FurtherTrainingResult> {
  const t0 = performance.now();
  const { model, data, queries } = opts;
  const W = 'furtherTraining';
  if (!model || !Array.isArray(model.spec)) throw new Error(`${W}: model must be a Model (lib/models/types.ts)`);
  if (!data || typeof data.n !== 'number') throw new Error(`${W}: data must be a Dataset (lib/data/dataset.ts)`);
  checkQueries(W, queries);
  const ids = checkIds(W, opts.ids, data.n);
  const epochs = opts.epochs;
  if (!(Number.isInteger(epochs) && epochs >= 0)) throw new Error(`${W}: epochs must be a non-negative integer, got ${epochs}`);
  const mode = opts.mode ?? 'delete';
  if (!MODES.includes(mode)) throw new Error(`${W}: mode must be one of ${MODES.join(' | ')}, got '${mode}'`);
  const divisor = opts.divisor ?? 'original';
  if (divisor !== 'original' && divisor !== 'remaining') throw new Error(`${W}: divisor must be 'original' or 'remaining', got '${divisor}'`);
  if (opts.divisor !== undefined && mode !== 'zero-weight') throw new Error(`${W}: divisor applies to mode 'zero-weight' only (mode is '${mode}')`);
  const seedsIn = opts.seeds ?? [0];
  const seeds = typeof seedsIn === 'number' ? Array.from({ length: seedsIn }, (_, s) => s) : [...seedsIn];
  if (typeof seedsIn === 'number' && !(Number.isInteger(seedsIn) && seedsIn >= 1)) throw new Error(`${W}: seeds must be a positive count or a list of seeds, got ${seedsIn}`);
  if (seeds.length === 0 || seeds.some((s) => !(Number.isInteger(s) && s >= 0))) throw new Error(`${W}: seeds must be non-negative integers, got [${seeds}]`);
  if (new Set(seeds).size !== seeds.length) throw new Error(`${W}: seeds [${seeds}] repeat a seed`);
  const chunk = opts.queryChunk ?? defaultChunk(queries);
  if (!(Number.isInteger(chunk) && chunk >= 1)) throw new Error(`${W}: queryChunk must be a positive integer, got ${opts.queryChunk}`);

  // θ_T and the further-training setting.
  let theta: Float32Array;
  let baseSetting: TrainConfig | undefined;
  const P = numParams(model.spec);
  if (isTrajectory(opts.from)) {
    if (JSON.stringify(opts.from.manifest.spec) !== JSON.stringify(model.spec)) throw new Error(`${W}: model spec does not match the trajectory's spec`);
    theta = opts.from.states.final().theta;
    baseSetting = opts.from.manifest.setting;
  } else if (opts.from instanceof Float32Array) {
    theta = opts.from;
  } else if (opts.from && typeof opts.from === 'object') {
    theta = flattenParams(opts.from as Params, model.spec);
  } else {
    throw new Error(`${W}: from must be a Trajectory, a Float32Array θ or a parameter record`);
  }
  if (theta.length !== P) throw new Error(`${W}: θ has ${theta.length} entries, the model has ${P} parameters`);
  const need = <T>(name: string, v: T | undefined, dflt: T | undefined): T => {
    const r = v ?? dflt;
    if (r === undefined) throw new Error(`${W}: give ${name} (no trajectory to take it from)`);
    return r;
  };
  const settingFor = (seed: number): TrainConfig => ({
    seed,
    batchSize: need('batchSize', opts.batchSize, baseSetting?.batchSize),
    epochs: Math.max(1, epochs),
    optimizer: need('optimizer', opts.optimizer, baseSetting?.optimizer),
    schedule: need('schedule', opts.schedule, baseSetting?.schedule),
  });
  const setting0 = settingFor(seeds[0]);
  makeEngine({ model, data, setting: setting0 }); // validates the setting before any training

  const nQ = queries.n;
  const nI = ids.length;
  const sums = Array.from({ length: epochs + 1 }, () => new Float64Array(nI * nQ));
  const fullSums = Array.from({ length: epochs + 1 }, () => new Float64Array(nQ));
  const total = epochs === 0 ? 0 : seeds.length * (1 + nI);
  let runs = 0;

  /** Query losses after every epoch of a run: `[epochs+1][nQuery]` (index 0 = θ_T). */
  const run = async (engine: StepEngine, epochEnds: number[]): Promise<Float32Array[]> => {
    const runner = new Runner(engine, { theta, optStep: 0 }, 0);
    const out: Float32Array[] = [];
    try {
      out.push(queryLosses(model, runner.paramsRecord(), queries, chunk));
      for (const end of epochEnds) {
        while (runner.t < end) {
          runner.step();
          if (runner.t % 64 === 0) await tick();
        }
        out.push(queryLosses(model, runner.paramsRecord(), queries, chunk));
      }
    } finally {
      runner.dispose();
    }
    runs++;
    opts.onProgress?.(runs, total);
    return out;
  };

  if (epochs > 0) {
    for (const seed of seeds) {
      const setting = settingFor(seed);
      const fullEngine = makeEngine({ model, data, setting });
      const per = fullEngine.stepsPerEpoch;
      const full = await run(fullEngine, Array.from({ length: epochs }, (_, e) => (e + 1) * per));
      full.forEach((l, e) => l.forEach((x, q) => (fullSums[e][q] += x)));
      for (const [row, id] of ids.entries()) {
        let engine: StepEngine;
        let ends: number[];
        if (mode === 'zero-weight') {
          engine = makeEngine({ model, data, setting, removal: { ids: [id], occurrence: 'all', divisor } });
          ends = Array.from({ length: epochs }, (_, e) => (e + 1) * per);
        } else if (mode === 'delete') {
          const perL = Math.ceil((data.n - 1) / setting.batchSize);
          if (perL === 0) throw new Error(`${W}: mode 'delete' needs at least 2 training samples`);
          const plan = deletePlan(data.n, setting.batchSize, epochs, seed, id);
          // Same w/D as the trainer (rounded once to float32): a plain mean over the (shifted) batch.
          engine = engineWith(fullEngine, setting.schedule, plan, (t) => ({ c: new Float32Array(plan[t].length).fill(1 / plan[t].length), D: plan[t].length }), perL);
          ends = Array.from({ length: epochs }, (_, e) => (e + 1) * perL);
        } else {
          const plan = fullEngine.plan.map((b) => [...b, id]);
          const minus = -1 / data.n;
          engine = engineWith(fullEngine, setting.schedule, plan, (t) => {
            const B = plan[t].length - 1;
            const c = new Float32Array(B + 1).fill(1 / B);
            c[B] = minus;
            return { c, D: B };
          }, per);
          ends = Array.from({ length: epochs }, (_, e) => (e + 1) * per);
        }
        const loo = await run(engine, ends);
        loo.forEach((l, e) => {
          const d = diff64(l, full[e]);
          for (let q = 0; q < nQ; q++) sums[e][row * nQ + q] += d[q];
        });
      }
    }
  }

  const S = seeds.length;
  const perEpoch = sums.map((v) => {
    const m = v.map((x) => x / S);
    if (opts.subtractMean && nI > 0) {
      for (let q = 0; q < nQ; q++) {
        let mean = 0;
        for (let i = 0; i < nI; i++) mean += m[i * nQ + q];
        mean /= nI;
        for (let i = 0; i < nI; i++) m[i * nQ + q] -= mean;
      }
    }
    return scoreMatrix(nI, nQ, m);
  });
  let fullLosses = fullSums.map((v) => v.map((x) => x / S));
  if (epochs === 0) {
    const p = unflattenParams(theta, model.spec);
    try {
      fullLosses = [Float64Array.from(queryLosses(model, p, queries, chunk))];
    } finally {
      disposeParams(p);
    }
  }
  return {
    perEpoch,
    fullLosses,
    ids,
    seeds,
    mode,
    subtractMean: !!opts.subtractMean,
    setting: { ...setting0, epochs },
    timing: { seconds: (performance.now() - t0) / 1000, runs },
  };
}
