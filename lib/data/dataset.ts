/**
 * In-memory datasets (host side). Device batches are built by `batch.ts`, so this module (and the
 * readers) never touch tfjs.
 *
 * Examples live in flat typed arrays so that subsets, batches and counterfactual runs never copy more
 * than the ids they touch. Example i occupies `x[i*xSize, (i+1)*xSize)`.
 *
 * @module
 */

import { bytesHash, contentHash } from '../cache/key.ts';

/** A labelled dataset held in host memory. */
export interface Dataset {
  /** Human-readable name, e.g. `"mnist/train"`. */
  name: string;
  /** Number of examples. */
  n: number;
  /** Inputs: float32 features/pixels, or int32 token ids. */
  x: Float32Array | Int32Array;
  /** Shape of one example's input, e.g. `[784]`, `[28, 28, 1]`, `[T]`. */
  xShape: number[];
  /** Targets: class ids `[n]`, or next-token ids `[n, T]`. */
  y: Int32Array;
  /** Shape of one example's target: `[]` for a class, `[T]` for a token sequence. */
  yShape: number[];
  /** Optional per-position loss mask `[n, ...yShape]` (1 = counts). */
  mask?: Float32Array;
  /** Number of classes (classification) or vocabulary size (language modelling). */
  classes: number;
  /** Free-form provenance (source file, checksum, preprocessing). */
  meta?: Record<string, unknown>;
}

function prod(s: number[]): number {
  return s.reduce((a, b) => a * b, 1);
}

/**
 * Validates internal consistency of a dataset; throws naming the field that is wrong.
 */
export function checkDataset(ds: Dataset): void {
  const xs = prod(ds.xShape);
  const ys = prod(ds.yShape);
  if (!Number.isInteger(ds.n) || ds.n < 0) throw new Error(`dataset '${ds.name}': n must be a non-negative integer, got ${ds.n}`);
  if (ds.x.length !== ds.n * xs) throw new Error(`dataset '${ds.name}': x has ${ds.x.length} values, expected n·${xs} = ${ds.n * xs}`);
  if (ds.y.length !== ds.n * ys) throw new Error(`dataset '${ds.name}': y has ${ds.y.length} values, expected n·${ys} = ${ds.n * ys}`);
  if (ds.mask && ds.mask.length !== ds.y.length) throw new Error(`dataset '${ds.name}': mask length ${ds.mask.length} ≠ y length ${ds.y.length}`);
}

/** A new dataset holding the examples `ids` (in that order) of `ds`. */
export function subset(ds: Dataset, ids: readonly number[], name = `${ds.name}[${ids.length}]`): Dataset {
  const xs = prod(ds.xShape);
  const ys = prod(ds.yShape);
  const x = ds.x instanceof Int32Array ? new Int32Array(ids.length * xs) : new Float32Array(ids.length * xs);
  const y = new Int32Array(ids.length * ys);
  const mask = ds.mask ? new Float32Array(ids.length * ys) : undefined;
  ids.forEach((id, k) => {
    if (!(Number.isInteger(id) && id >= 0 && id < ds.n)) throw new Error(`subset of '${ds.name}': id ${id} out of range [0, ${ds.n})`);
    x.set(ds.x.subarray(id * xs, (id + 1) * xs), k * xs);
    y.set(ds.y.subarray(id * ys, (id + 1) * ys), k * ys);
    if (mask) mask.set(ds.mask!.subarray(id * ys, (id + 1) * ys), k * ys);
  });
  return { ...ds, name, n: ids.length, x, y, mask, meta: { ...(ds.meta ?? {}), parent: ds.name } };
}

/** A dataset's content fingerprint for cache keys: shapes, classes and the sha256 of each array's bytes (x, y, mask). */
export function datasetFingerprint(d: Dataset): { xShape: number[]; yShape: number[]; n: number; classes: number | undefined; parts: string[] } {
  return { xShape: d.xShape, yShape: d.yShape, n: d.n, classes: d.classes, parts: [d.x, d.y, ...(d.mask ? [d.mask] : [])].map((a) => bytesHash(a)) };
}

/** sha256 of {@link datasetFingerprint}: the data part of cache keys and run hashes. */
export function datasetHash(d: Dataset): string {
  return contentHash(datasetFingerprint(d));
}
