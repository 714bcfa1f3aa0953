/**
 * The system-level noise floor of TSLOO, measured by chaos: base runs retrained from θ_0 moved by a few float32
 * ulps (each coordinate ±`ulps`, seeded signs), nothing removed. Their query-loss deviations from the base run are
 * what float32 rounding alone does to a run's end point; a TSLOO entry no larger than them is not a measured
 * removal effect. A control replica (same θ_0) or a second computation order sees only rounding differences that
 * stay put; a perturbed start also sees the ones that grow (a ReLU input near 0 that flips sign, an AdamW
 * coordinate whose √v̂ is near ε), which is how a float32 TSLOO entry on the MLP at LR 1e-4 moved by ~40 % between
 * a float32 and a float64 computation while the control replica reported 2e-7.
 *
 * Rows: `deltas[k·nQ + q] = ℓ_q(θ_T⁽ᵏ⁾) − ℓ_q(θ_T)` (float64 of float32 losses, as TSLOO's rows); per query the RMS
 * over the K perturbations. Cached under `<cacheDir>/noise-floor/` by run, queries, K, ulps and seed.
 *
 * @module
 */
import path from 'node:path';
import type { Dataset } from '../data/dataset.ts';
import { datasetHash } from '../data/dataset.ts';
import type { Model } from '../models/types.ts';
import { disposeParams, unflattenParams } from '../models/params.ts';
import { train } from '../train/trainer.ts';
import type { Trajectory } from '../train/trajectory.ts';
import { rngFor } from '../runtime/rng.ts';
import { engineKey } from '../runtime/backend.ts';
import { UsageError } from '../runtime/errors.ts';
import { cacheKey } from '../cache/key.ts';
import { cachedJson } from '../cache/entry.ts';
import { defaultChunk, diff64, queryLosses } from './common.ts';

/** Options of {@link tslooNoiseFloor}. */
export interface NoiseFloorOptions {
  model: Model;
  data: Dataset;
  /** A complete base run with its θ_0 (state 0) and its plan. */
  trajectory: Trajectory;
  queries: Dataset;
  /** Perturbed reruns (default 4). */
  reruns?: number;
  /** Ulps each coordinate of θ_0 moves (default 1). */
  ulps?: number;
  /** Seeds the signs (default 0). */
  seed?: number;
  /** Cache root (none: compute in memory). */
  cacheDir?: string;
}

/** The measured floor. */
export interface NoiseFloor {
  format: 'faithful-tda/tsloo-noise-floor';
  reruns: number;
  ulps: number;
  seed: number;
  /** `[reruns·nQuery]`: ℓ_q(θ_T⁽ᵏ⁾) − ℓ_q(θ_T). */
  deltas: number[];
  /** `[nQuery]`: RMS over the reruns of the deltas of query q. */
  perQuery: number[];
  /** Mean and max of |delta| over reruns × queries. */
  meanAbs: number;
  maxAbs: number;
  seconds: number;
}

const F32 = new Float32Array(1);
const I32 = new Int32Array(F32.buffer);

/** `x` (a float32 value) moved by `k` ulps toward +∞ (k > 0) or −∞ (k < 0), through zero and subnormals. */
export function stepUlps(x: number, k: number): number {
  F32[0] = x;
  let b = I32[0];
  for (let i = 0; i < Math.abs(k); i++) {
    const up = k > 0;
    if (F32[0] === 0) b = up ? 1 : 0x80000001 | 0; // the smallest subnormal of the direction
    else if (F32[0] > 0 === up) b += 1; // away from zero
    else b -= 1; // toward zero
    I32[0] = b;
  }
  return F32[0];
}

/** θ_0 with every coordinate moved by ±`ulps` ulps, the signs seeded by (seed, rerun). */
export function perturbTheta(theta: Float32Array, ulps: number, seed: number, rerun: number): Float32Array {
  const rng = rngFor(seed, `noise-floor-${rerun}`);
  return Float32Array.from(theta, (x) => stepUlps(x, rng.next() < 0.5 ? -ulps : ulps));
}

/**
 * Retrains the base run from `reruns` perturbed starts and measures the query-loss deviations (see the module doc).
 * @throws UsageError for an incomplete, counterfactual or weighted run, or a bad count
 */
export async function tslooNoiseFloor(o: NoiseFloorOptions): Promise<{ value: NoiseFloor; cached: boolean }> {
  const K = o.reruns ?? 4;
  const ulps = o.ulps ?? 1;
  const seed = o.seed ?? 0;
  const man = o.trajectory.manifest;
  if (!(Number.isInteger(K) && K >= 1 && K <= 64)) throw new UsageError(`tslooNoiseFloor: reruns must be an integer in [1, 64], got ${K}`);
  if (!(Number.isInteger(ulps) && ulps >= 0 && ulps <= 1024)) throw new UsageError(`tslooNoiseFloor: ulps must be an integer in [0, 1024], got ${ulps}`);
  if (man.removal || man.weightsKey || !man.complete || man.startStep !== 0) throw new UsageError('tslooNoiseFloor: needs a complete base run (no removal, unit weights, from state 0)');
  const compute = async (): Promise<NoiseFloor> => {
    const t0 = performance.now();
    const chunk = defaultChunk(o.queries);
    const finalParams = unflattenParams(o.trajectory.states.final().theta, o.model.spec);
    let base: Float32Array;
    try {
      base = queryLosses(o.model, finalParams, o.queries, chunk);
    } finally {
      disposeParams(finalParams);
    }
    const start = o.trajectory.states.at(0);
    const nQ = o.queries.n;
    const deltas = new Float64Array(K * nQ);
    for (let k = 0; k < K; k++) {
      const run = await train({ model: o.model, data: o.data, setting: man.setting, from: { step: 0, state: { ...start, theta: perturbTheta(start.theta, ulps, seed, k) } }, record: 'none' });
      const p = unflattenParams(run.states.final().theta, o.model.spec);
      try {
        deltas.set(diff64(queryLosses(o.model, p, o.queries, chunk), base), k * nQ);
      } finally {
        disposeParams(p);
      }
    }
    const perQuery = Array.from({ length: nQ }, (_, q) => Math.sqrt(Array.from({ length: K }, (_, k) => deltas[k * nQ + q] ** 2).reduce((a, b) => a + b, 0) / K));
    const abs = Array.from(deltas, Math.abs);
    return { format: 'faithful-tda/tsloo-noise-floor', reruns: K, ulps, seed, deltas: Array.from(deltas), perQuery, meanAbs: abs.reduce((a, b) => a + b, 0) / abs.length, maxAbs: Math.max(...abs), seconds: (performance.now() - t0) / 1000 };
  };
  if (!o.cacheDir) return { value: await compute(), cached: false };
  const args = { run: man.runHash, queries: datasetHash(o.queries), K, ulps, seed, engine: engineKey() };
  const file = path.join(o.cacheDir, 'noise-floor', `floor-${cacheKey(args)}.json`);
  return cachedJson(file, 'TSLOO noise floor', compute, { args });
}

/**
 * How many TSLOO entries lie within the floor: |TSLOO(z, q)| ≤ `factor` × RMS floor of query q.
 * @param tsloo `[nTrain·nQuery]` row-major @param perQuery `[nQuery]`
 */
export function entriesWithinFloor(tsloo: ArrayLike<number>, perQuery: ArrayLike<number>, factor = 1): { within: number; total: number } {
  const nQ = perQuery.length;
  let within = 0;
  let total = 0;
  for (let i = 0; i < tsloo.length; i++) {
    const v = tsloo[i];
    if (!Number.isFinite(v)) continue;
    total++;
    if (Math.abs(v) <= factor * perQuery[i % nQ]) within++;
  }
  return { within, total };
}
