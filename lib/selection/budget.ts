/**
 * Selection budgets: how many samples to keep (offline: of the training set; online: of each batch, so
 * that every epoch keeps exactly round(budget·n)), and the top-k rule both selections share.
 *
 * @module
 */
import { rngFor } from '../runtime/rng.ts';

/** Throws unless `budget` (fraction of samples kept) is in (0, 1]. */
export function checkBudget(budget: unknown, where = 'selection'): asserts budget is number {
  if (!(typeof budget === 'number' && budget > 0 && budget <= 1)) throw new Error(`${where}: budget (fraction kept) must be in (0, 1], got ${JSON.stringify(budget)}`);
}

/** round(budget·n): the number of samples an offline selection keeps. */
export function keptCount(n: number, budget: number): number {
  checkBudget(budget);
  return Math.round(budget * n);
}

/**
 * Per-batch quotas for online selection: within each epoch, batch t keeps
 * round(b·C_t) − round(b·C_{t−1}) samples, C_t = samples of the epoch up to and including batch t.
 * Rounding the cumulative count (not each batch) makes every epoch keep exactly round(b·n_epoch).
 * @param batchSizes `[T]` |B_t| @param stepsPerEpoch steps of one epoch
 * @returns `[T]` kept counts, 0 ≤ q_t ≤ |B_t|
 */
export function batchQuotas(batchSizes: number[], budget: number, stepsPerEpoch: number): number[] {
  checkBudget(budget);
  if (!(Number.isInteger(stepsPerEpoch) && stepsPerEpoch > 0)) throw new Error(`batchQuotas: stepsPerEpoch must be a positive integer, got ${stepsPerEpoch}`);
  const out: number[] = [];
  let cum = 0;
  let kept = 0;
  batchSizes.forEach((b, t) => {
    if (t % stepsPerEpoch === 0) cum = kept = 0;
    cum += b;
    const q = Math.round(budget * cum) - kept;
    kept += q;
    out.push(q);
  });
  return out;
}

/**
 * Positions of the `k` highest scores (descending score; ties → lower position first, so the
 * choice is deterministic). NaN scores are an error.
 * @param scores `[m]` @returns `[k]` positions, ascending
 */
export function topK(scores: ArrayLike<number>, k: number): number[] {
  if (!(Number.isInteger(k) && k >= 0 && k <= scores.length)) throw new Error(`topK: k must be an integer in [0, ${scores.length}], got ${k}`);
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  for (const i of idx) if (Number.isNaN(scores[i])) throw new Error(`topK: score ${i} is NaN`);
  idx.sort((a, b) => scores[b] - scores[a] || a - b);
  return idx.slice(0, k).sort((a, b) => a - b);
}

/** `k` of `m` positions drawn uniformly without replacement from `rngFor(seed, stream)`, ascending. */
export function randomK(m: number, k: number, seed: number, stream: string): number[] {
  if (!(Number.isInteger(k) && k >= 0 && k <= m)) throw new Error(`randomK: k must be an integer in [0, ${m}], got ${k}`);
  return rngFor(seed, stream).sample(m, k).sort((a, b) => a - b);
}
