/**
 * Batch-level conventions of the loss L(θ) = (1/D) Σ_i w_i ℓ_i(θ): batch size, weight/divisor
 * validation, and single-example slices.
 *
 * @module
 */
import { tf } from '../runtime/tf.ts';
import type { Batch } from '../models/types.ts';

/** Options shared by every batch-loss quantity: per-example weights w `[B]` and divisor D. */
export interface LossOptions {
  /** Per-example weights w_i, length B (default all 1). */
  weights?: Float32Array | Float64Array;
  /** Divisor D > 0 (default B, i.e. the mean loss when w = 1). */
  divisor?: number;
}

/** Number of examples B of a batch (leading axis of `x`); throws if `y`/`mask` disagree. */
export function batchSize(batch: Batch, where = 'batch'): number {
  if (!batch || !batch.x || !batch.y) throw new Error(`${where}: batch must have tensors 'x' and 'y'`);
  const B = batch.x.shape[0];
  if (batch.y.shape[0] !== B) throw new Error(`${where}: y has ${batch.y.shape[0]} rows, x has ${B}`);
  if (batch.mask && batch.mask.shape[0] !== B) throw new Error(`${where}: mask has ${batch.mask.shape[0]} rows, x has ${B}`);
  return B;
}

/**
 * Validated weights (float64 copy, default ones) and divisor (default B).
 * @returns `w` length B, `D` > 0
 */
export function resolveWeights(where: string, B: number, opts: LossOptions = {}): { w: Float64Array; D: number; unit: boolean } {
  const D = opts.divisor ?? B;
  if (typeof D !== 'number' || !Number.isFinite(D) || D <= 0) {
    throw new Error(`${where}: 'divisor' must be a finite number > 0, got ${D}`);
  }
  if (opts.weights === undefined) return { w: new Float64Array(B).fill(1), D, unit: true };
  const w = opts.weights;
  if (!(w instanceof Float32Array || w instanceof Float64Array)) {
    throw new Error(`${where}: 'weights' must be a Float32Array or Float64Array of length B = ${B}`);
  }
  if (w.length !== B) throw new Error(`${where}: 'weights' has length ${w.length}, expected the batch size B = ${B}`);
  for (let i = 0; i < B; i++) {
    if (!Number.isFinite(w[i])) throw new Error(`${where}: 'weights[${i}]' is ${w[i]}, expected a finite number`);
  }
  return { w: Float64Array.from(w), D, unit: false };
}

/** Example `i` of a batch as a batch of one (new tensors; create inside `tf.tidy`). */
export function sliceExample(batch: Batch, i: number): Batch {
  const one: Batch = { x: tf.slice(batch.x, [i], [1]), y: tf.slice(batch.y, [i], [1]) };
  if (batch.mask) one.mask = tf.slice(batch.mask, [i], [1]);
  return one;
}
