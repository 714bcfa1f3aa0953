/**
 * Conversions between parameter records and flat vectors in canonical (`spec`) order.
 *
 * Flat float32 vectors are the currency between the trainer, the trajectory store and the estimators:
 * entry k of a flat vector is always the same scalar parameter for a given model spec.
 *
 * @module
 */
import { tf } from '../runtime/tf.ts';
import type { ParamSpec, Params } from './types.ts';
import { size } from './nn.ts';

/** Offsets of each parameter in the flat vector: `offsets[i]` is where `spec[i]` starts; last = total. */
export function specOffsets(spec: ParamSpec[]): number[] {
  const off = [0];
  for (const s of spec) off.push(off[off.length - 1] + size(s.shape));
  return off;
}

/** The parameter tensors as an array in spec order (what `tf.grads` expects). */
export function paramList(params: Params, spec: ParamSpec[]): tf.Tensor[] {
  return spec.map((s) => {
    const t = params[s.name];
    if (!t) throw new Error(`paramList: missing parameter '${s.name}'`);
    return t;
  });
}

/** A record from tensors given in spec order. */
export function paramRecord(list: tf.Tensor[], spec: ParamSpec[]): Params {
  if (list.length !== spec.length) throw new Error(`paramRecord: got ${list.length} tensors for ${spec.length} spec entries`);
  const p: Params = {};
  spec.forEach((s, i) => (p[s.name] = list[i]));
  return p;
}

/**
 * Copies parameters to one host vector (synchronous download).
 * @returns Float32Array of length `numParams(spec)`
 */
export function flattenParams(params: Params, spec: ParamSpec[]): Float32Array {
  const off = specOffsets(spec);
  const out = new Float32Array(off[off.length - 1]);
  spec.forEach((s, i) => {
    const t = params[s.name];
    if (!t) throw new Error(`flattenParams: missing parameter '${s.name}'`);
    out.set(t.dataSync() as Float32Array, off[i]);
  });
  return out;
}

/**
 * New device tensors (caller owns them) from a flat vector.
 * @param flat length `numParams(spec)`; float64 input is rounded to float32
 */
export function unflattenParams(flat: Float32Array | Float64Array, spec: ParamSpec[]): Params {
  const off = specOffsets(spec);
  if (flat.length !== off[off.length - 1]) {
    throw new Error(`unflattenParams: vector has ${flat.length} entries, spec needs ${off[off.length - 1]}`);
  }
  const p: Params = {};
  spec.forEach((s, i) => {
    const part = flat.subarray(off[i], off[i + 1]);
    p[s.name] = tf.tensor(part instanceof Float32Array ? part : Float32Array.from(part), s.shape, 'float32');
  });
  return p;
}

/** Disposes every tensor of a parameter record. */
export function disposeParams(p: Params): void {
  tf.dispose(Object.values(p));
}
