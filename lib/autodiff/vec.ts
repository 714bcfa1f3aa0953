/**
 * Flat parameter-space vectors (length p = numParams(spec), spec order) ↔ lists of device tensors.
 *
 * @module
 */
import { tf } from '../runtime/tf.ts';
import { specOffsets } from '../models/params.ts';
import type { ParamSpec } from '../models/types.ts';

/** A host vector accepted wherever a flat parameter-space vector is expected. */
export type FlatVec = Float32Array | Float64Array;

/**
 * Throws unless `v` is a Float32Array/Float64Array of length `n` (a multiple of `n` with `multiple`).
 * @returns the number of stacked vectors (1 unless `multiple`)
 */
export function checkVector(where: string, name: string, v: unknown, n: number, multiple = false): number {
  if (!(v instanceof Float32Array || v instanceof Float64Array)) {
    throw new Error(`${where}: '${name}' must be a Float32Array or Float64Array, got ${v === null ? 'null' : typeof v}`);
  }
  if (multiple ? v.length === 0 || v.length % n !== 0 : v.length !== n) {
    throw new Error(
      `${where}: '${name}' has length ${v.length}, expected ${multiple ? `a positive multiple of p = ${n} (k·p)` : `p = ${n}`}`,
    );
  }
  return multiple ? v.length / n : 1;
}

/**
 * Device tensors, one per spec entry, holding the slices of `v` (float32; caller owns / tidies them).
 * @param v length `numParams(spec)`
 */
export function splitFlat(v: FlatVec, spec: ParamSpec[]): tf.Tensor[] {
  const off = specOffsets(spec);
  return spec.map((s, i) => {
    const part = v.subarray(off[i], off[i + 1]);
    return tf.tensor(part instanceof Float32Array ? part : Float32Array.from(part), s.shape, 'float32');
  });
}

/**
 * Downloads tensors (spec order) into one new host vector; the tensors are not disposed.
 * (Do not return the result from `tf.tidy` when it is large; see {@link tidyFlat}.)
 * @returns Float32Array of the summed sizes (length p for a full gradient list)
 */
export function downloadFlat(ts: tf.Tensor[]): Float32Array {
  const out = new Float32Array(ts.reduce((s, t) => s + t.size, 0));
  let o = 0;
  for (const t of ts) {
    // Copy: some backends hand out their internal storage.
    out.set(t.dataSync() as Float32Array, o);
    o += t.size;
  }
  return out;
}

/**
 * Runs `fn` in a tidy scope and downloads its tensors (concatenated, flattened, spec order) to a new host
 * vector. Use this instead of returning a typed array from `tf.tidy`: tidy walks every element of a
 * returned typed array looking for tensors (~0.5 µs per element: 400 ms for a 64×13k array).
 * @returns Float32Array of the summed sizes
 */
export function tidyFlat(fn: () => tf.Tensor | tf.Tensor[]): Float32Array {
  const t = tf.tidy(() => {
    const r = fn();
    const list = Array.isArray(r) ? r : [r];
    return list.length === 1 ? tf.reshape(list[0], [-1]) : tf.concat(list.map((x) => tf.reshape(x, [-1])));
  });
  try {
    return new Float32Array(t.dataSync() as Float32Array);
  } finally {
    t.dispose();
  }
}

/** Σ_i sum(a_i ⊙ b_i) as a scalar tensor (inner product of two tensor lists of equal shapes). */
export function dotLists(a: tf.Tensor[], b: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => tf.addN(a.map((x, i) => tf.sum(tf.mul(x, b[i])))) as tf.Scalar);
}
