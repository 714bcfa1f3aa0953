/**
 * Offline selection: score every training sample once (e.g. by its look-ahead effect propagated to the
 * end of a recorded full run), keep the top fraction, retrain from scratch on what is kept.
 *
 * Retraining uses the same setting and seed, hence the same θ_0 (`rngFor(seed, 'init')`); the batch plan
 * is re-drawn over the kept set (`batchPlan(n_kept, B, epochs, seed)`): fewer steps, each a full batch,
 * as if the discarded samples had never been collected. (The alternative — the original plan with the
 * dropped samples at weight 0 — is what the online selection does.)
 *
 * @module
 */
import type { Dataset } from '../data/dataset.ts';
import { subset } from '../data/dataset.ts';
import type { Model } from '../models/types.ts';
import type { TrainConfig } from '../train/setting.ts';
import { train } from '../train/trainer.ts';
import type { FlatState } from '../train/trajectory.ts';
import { keptCount, randomK, topK } from './budget.ts';

/**
 * The ids kept by an offline selection: the round(budget·n) highest-scoring samples (removal-effect
 * scores: higher = more helpful to V; the most harmful are dropped first).
 * @param scores `[n]` per-sample score @returns kept ids, ascending
 */
export function selectTop(scores: ArrayLike<number>, budget: number): number[] {
  return topK(scores, keptCount(scores.length, budget));
}

/** A seeded uniformly random subset of round(budget·n) ids (the random baseline), ascending. */
export function selectRandom(n: number, budget: number, seed: number): number[] {
  return randomK(n, keptCount(n, budget), seed, `random-offline-${budget}`);
}

/** Result of {@link retrainOn}. */
export interface Retrained {
  /** Final state θ_T' of the run on the kept set. */
  final: FlatState;
  /** Steps of the retrained run. */
  steps: number;
  seconds: number;
}

/**
 * Trains `setting` from scratch (same seed → same init) on the examples `keep` of `data`.
 * @throws when `keep` is empty or has ids out of range
 */
export async function retrainOn(o: { model: Model; data: Dataset; setting: TrainConfig; keep: number[] }): Promise<Retrained> {
  if (!o.keep.length) throw new Error('retrainOn: nothing kept');
  const t0 = performance.now();
  const kept = subset(o.data, o.keep, `${o.data.name}[kept ${o.keep.length}]`);
  const traj = await train({ model: o.model, data: kept, setting: o.setting, record: 'none' });
  return { final: traj.states.final(), steps: traj.manifest.steps, seconds: (performance.now() - t0) / 1000 };
}
