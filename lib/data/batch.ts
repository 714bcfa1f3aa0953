/**
 * Mini-batch construction: device tensors for a list of example ids of a host {@link Dataset}.
 *
 * @module
 */
import { tf } from '../runtime/tf.ts';
import type { Batch } from '../models/types.ts';
import type { Dataset } from './dataset.ts';

function prod(s: number[]): number {
  return s.reduce((a, b) => a * b, 1);
}

/**
 * Device tensors for the examples `ids` of `ds` (caller disposes, or builds it inside `tf.tidy`).
 * @returns `x` `[B, ...xShape]`, `y` `[B, ...yShape]` int32, `mask` `[B, ...yShape]` when the dataset has one
 */
export function makeBatch(ds: Dataset, ids: readonly number[]): Batch {
  const xs = prod(ds.xShape);
  const ys = prod(ds.yShape);
  const B = ids.length;
  const xb = ds.x instanceof Int32Array ? new Int32Array(B * xs) : new Float32Array(B * xs);
  const yb = new Int32Array(B * ys);
  const mb = ds.mask ? new Float32Array(B * ys) : undefined;
  for (let k = 0; k < B; k++) {
    const id = ids[k];
    if (!(id >= 0 && id < ds.n)) throw new Error(`batch of '${ds.name}': id ${id} out of range [0, ${ds.n})`);
    xb.set(ds.x.subarray(id * xs, (id + 1) * xs), k * xs);
    yb.set(ds.y.subarray(id * ys, (id + 1) * ys), k * ys);
    if (mb) mb.set(ds.mask!.subarray(id * ys, (id + 1) * ys), k * ys);
  }
  const batch: Batch = {
    x: tf.tensor(xb, [B, ...ds.xShape], ds.x instanceof Int32Array ? 'int32' : 'float32'),
    y: tf.tensor(yb, [B, ...ds.yShape], 'int32'),
  };
  if (mb) batch.mask = tf.tensor(mb, [B, ...ds.yShape], 'float32');
  return batch;
}

/** Disposes a batch's tensors. */
export function disposeBatch(b: Batch): void {
  tf.dispose([b.x, b.y, ...(b.mask ? [b.mask] : [])]);
}
