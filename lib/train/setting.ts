/**
 * The training part of a Setting: plain JSON (seed, batch size, epochs, optimizer, LR schedule),
 * its validation, a canonical hash for caches, and the deterministic batch plan.
 *
 * @module
 */
import { rngFor } from '../runtime/rng.ts';
import { validateOptimizer, type OptimizerSetting } from '../optim/optimizer.ts';
import { validateSchedule, type Schedule } from '../optim/schedule.ts';

/** How to train (plain JSON, hashable). */
export interface TrainConfig {
  /** Seeds the init (`rngFor(seed, 'init')`) and the batch order (`rngFor(seed, 'order-<epoch>')`). */
  seed: number;
  batchSize: number;
  epochs: number;
  optimizer: OptimizerSetting;
  schedule: Schedule;
  /** Truncate the plan to its first `maxSteps` steps (the schedule then spans those steps). */
  maxSteps?: number;
}

const KEYS = ['seed', 'batchSize', 'epochs', 'optimizer', 'schedule', 'maxSteps'];

function posInt(name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new Error(`${name} must be a positive integer, got ${v}`);
  }
}

/**
 * Validates a setting (and, with `nTrain`, the schedule's warm-up against the plan length).
 * Unknown top-level keys are rejected so that typos do not silently fall back to defaults.
 */
export function validateTrainConfig(s: TrainConfig, nTrain?: number): void {
  if (!s || typeof s !== 'object') throw new Error(`setting must be an object, got ${JSON.stringify(s)}`);
  const extra = Object.keys(s).filter((k) => !KEYS.includes(k));
  if (extra.length) throw new Error(`setting: unknown field(s) ${extra.join(', ')}; known: ${KEYS.join(', ')}`);
  if (typeof s.seed !== 'number' || !Number.isInteger(s.seed) || s.seed < 0) {
    throw new Error(`seed must be a non-negative integer, got ${s.seed}`);
  }
  posInt('batchSize', s.batchSize);
  posInt('epochs', s.epochs);
  if (s.maxSteps !== undefined) posInt('maxSteps', s.maxSteps);
  validateOptimizer(s.optimizer);
  if (nTrain !== undefined) {
    posInt('nTrain', nTrain);
    validateSchedule(s.schedule, totalSteps(s, nTrain));
  } else {
    validateSchedule(s.schedule);
  }
}

// canonicalJson and contentHash live with the cache key (lib/cache/key.ts); re-exported for the run hash.
export { canonicalJson, contentHash } from '../cache/key.ts';

/**
 * The batch plan: per epoch e a permutation of 0..nTrain−1 from `rngFor(seed, 'order-' + e)`, cut into
 * consecutive chunks of `batchSize`; the last chunk of an epoch is partial (never dropped).
 * @returns `epochs·ceil(nTrain/batchSize)` batches of training-set indices
 */
export function batchPlan(nTrain: number, batchSize: number, epochs: number, seed: number): number[][] {
  posInt('nTrain', nTrain);
  posInt('batchSize', batchSize);
  posInt('epochs', epochs);
  const plan: number[][] = [];
  for (let e = 0; e < epochs; e++) {
    const perm = rngFor(seed, `order-${e}`).permutation(nTrain);
    for (let i = 0; i < nTrain; i += batchSize) plan.push(perm.slice(i, i + batchSize));
  }
  return plan;
}

/** Number of steps of a setting: min(epochs·ceil(n/B), maxSteps). */
export function totalSteps(s: TrainConfig, nTrain: number): number {
  const full = s.epochs * Math.ceil(nTrain / s.batchSize);
  return s.maxSteps !== undefined ? Math.min(full, s.maxSteps) : full;
}

/** Steps per epoch, ceil(n/B) (step t belongs to epoch floor(t / stepsPerEpoch)). */
export function stepsPerEpoch(s: TrainConfig, nTrain: number): number {
  return Math.ceil(nTrain / s.batchSize);
}

/** The batch plan of a setting, truncated to {@link totalSteps}. */
export function planFor(s: TrainConfig, nTrain: number): number[][] {
  return batchPlan(nTrain, s.batchSize, s.epochs, s.seed).slice(0, totalSteps(s, nTrain));
}
