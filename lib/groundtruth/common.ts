/**
 * Helpers shared by the ground-truth modules: per-query losses on the host, dataset hashes for cache
 * keys, float64 differences of float32 losses, and id validation.
 *
 * @module
 */
import { tf } from '../runtime/tf.ts';
import { checkDataset, type Dataset } from '../data/dataset.ts';
import { makeBatch } from '../data/batch.ts';
import type { Model, Params } from '../models/types.ts';

/** Default number of queries per forward pass (classification). */
export const QUERY_CHUNK = 256;

/** Default queries per forward pass: 256 for classifiers, 8 for sequences (LM logits are `[chunk, T, vocab]`). */
export function defaultChunk(queries: Dataset): number {
  return queries.yShape.length > 0 ? 8 : QUERY_CHUNK;
}

/**
 * Per-query losses ℓ_q(θ) downloaded as float32 values, in chunks of `chunk` queries.
 * @param params θ as a record (not disposed)
 * @returns Float32Array `[queries.n]`
 */
export function queryLosses(model: Model, params: Params, queries: Dataset, chunk = QUERY_CHUNK): Float32Array {
  const out = new Float32Array(queries.n);
  for (let s = 0; s < queries.n; s += chunk) {
    const ids = Array.from({ length: Math.min(chunk, queries.n - s) }, (_, k) => s + k);
    const l = tf.tidy(() => model.perExampleLoss(params, makeBatch(queries, ids)));
    try {
      out.set(l.dataSync() as Float32Array, s);
    } finally {
      l.dispose();
    }
  }
  return out;
}

/**
 * `a − b` computed in float64 on the host (each float32 value is exact as a JS number, so only the
 * difference itself is rounded — never a float32 subtraction of two nearly equal losses).
 * @returns Float64Array `[a.length]`
 */
export function diff64(a: ArrayLike<number>, b: ArrayLike<number>, aOffset = 0): Float64Array {
  const out = new Float64Array(b.length);
  for (let q = 0; q < b.length; q++) out[q] = Number(a[aOffset + q]) - Number(b[q]);
  return out;
}

export { datasetHash } from '../data/dataset.ts';

/**
 * Validates training ids: an array of distinct integers in [0, n).
 * @throws naming `where`, the offending value and the valid range
 */
export function checkIds(where: string, ids: unknown, n: number): number[] {
  if (!Array.isArray(ids)) throw new Error(`${where}: ids must be an array of training ids, got ${JSON.stringify(ids)}`);
  const seen = new Set<number>();
  ids.forEach((id, k) => {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= n) {
      throw new Error(`${where}: ids[${k}] = ${JSON.stringify(id)} is out of range [0, ${n}) of the training set`);
    }
    if (seen.has(id)) throw new Error(`${where}: id ${id} appears twice in ids`);
    seen.add(id);
  });
  return [...ids] as number[];
}

/** Validates a query dataset (non-empty, internally consistent). */
export function checkQueries(where: string, queries: Dataset): void {
  if (!queries || typeof queries.n !== 'number') throw new Error(`${where}: queries must be a Dataset (see lib/data/dataset.ts)`);
  checkDataset(queries);
  if (queries.n === 0) throw new Error(`${where}: queries is empty (n = 0)`);
}

/** Yields to the event loop (progress output, timers); no effect on numbers. */
export function tick(): Promise<void> {
  return new Promise((r) => setTimeout(r, 0));
}
