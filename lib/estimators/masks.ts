/**
 * Random coordinate masks ("the paper's random mask", papers.md §1.7.6) and scoring restricted to them.
 *
 * A mask is a sorted Int32Array of flat parameter indices (spec order), holding a random subset of
 * `perLayer` coordinates of every parameter tensor (every coordinate of a tensor smaller than that).
 * Restricting an estimator to a mask S means that every gradient-space vector is projected onto S
 * (zero elsewhere); dattri-llm's GPT-2 protocol scores 10 disjoint masks × 512 per layer and averages.
 *
 * Every estimator honours the shared `mask` option (types.ts):
 * - Inner products (grad-dot, grad-cos, tracin, tracin-cp, adam-first-order) use the masked gradients;
 *   influence functions also restrict the curvature to the masked block (H_SS + λI)^{-1}.
 * - Trajectory sweeps (sgd-influence, adamw-influence, acc-sgd-ie) start from the masked query gradient and
 *   project the adjoint onto S after every transition, u ← P_S[(1−ηλ) u − η H u], which drops the
 *   cross-coordinate curvature outside S.
 *
 * @module
 */
import { numParams, type ParamSpec } from '../models/types.ts';
import { specOffsets } from '../models/params.ts';
import { rngFor } from '../runtime/rng.ts';
import { scoreMatrix, type ScoreMatrix } from '../analysis/score-matrix.ts';
import type { AttributionTask, Estimator, EstimatorOptions } from './types.ts';

/** How {@link disjointMasks} treats a tensor with fewer than `count·perLayer` coordinates. */
export type SmallLayerPolicy = 'split' | 'error';

function checkPositiveInt(where: string, name: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new Error(`${where}: ${name} must be a positive integer, got ${String(v)}`);
}

/**
 * The first `k` entries of a seeded uniform shuffle of 0..n−1 (sparse Fisher–Yates: O(k) time and memory,
 * so a mask of a 38M-entry embedding does not allocate 38M numbers).
 */
function partialShuffle(n: number, k: number, seed: number, name: string): number[] {
  const rng = rngFor(seed, `mask/${name}`);
  const swapped = new Map<number, number>();
  const out: number[] = [];
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const vj = swapped.get(j) ?? j;
    swapped.set(j, swapped.get(i) ?? i);
    out.push(vj);
  }
  return out;
}

/**
 * `count` pairwise disjoint random masks with `perLayer` coordinates of each parameter tensor in each mask.
 * Mask c takes entries [c·perLayer, (c+1)·perLayer) of one seeded shuffle per tensor, so mask 0 equals
 * {@link coordinateMask} with the same seed. A tensor smaller than `count·perLayer` is split as evenly as
 * possible among the masks (`smallLayers: 'split'`, default: every coordinate is used once) or rejected
 * (`'error'`).
 * @param spec the model's parameter spec (flat order)
 * @returns `count` sorted Int32Arrays of flat indices in [0, numParams(spec))
 */
export function disjointMasks(
  spec: ParamSpec[],
  perLayer: number,
  count: number,
  seed: number,
  opts: { smallLayers?: SmallLayerPolicy } = {},
): Int32Array[] {
  checkPositiveInt('disjointMasks', 'perLayer', perLayer);
  checkPositiveInt('disjointMasks', 'count', count);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`disjointMasks: seed must be a non-negative integer, got ${seed}`);
  const policy = opts.smallLayers ?? 'split';
  if (policy !== 'split' && policy !== 'error') throw new Error(`disjointMasks: smallLayers must be 'split' | 'error', got '${String(policy)}'`);
  const off = specOffsets(spec);
  const parts: number[][] = Array.from({ length: count }, () => []);
  spec.forEach((s, li) => {
    const size = off[li + 1] - off[li];
    const want = count * perLayer;
    if (size >= want) {
      const sh = partialShuffle(size, want, seed, s.name);
      for (let c = 0; c < count; c++) for (let i = c * perLayer; i < (c + 1) * perLayer; i++) parts[c].push(off[li] + sh[i]);
    } else if (policy === 'error') {
      throw new Error(`disjointMasks: tensor '${s.name}' has ${size} coordinates, fewer than count·perLayer = ${count}·${perLayer}; use smallLayers 'split' or smaller masks`);
    } else {
      const sh = partialShuffle(size, size, seed, s.name);
      // Near-equal consecutive slices: mask c gets [⌊c·size/count⌋, ⌊(c+1)·size/count⌋).
      for (let c = 0; c < count; c++) {
        for (let i = Math.floor((c * size) / count); i < Math.floor(((c + 1) * size) / count); i++) parts[c].push(off[li] + sh[i]);
      }
    }
  });
  return parts.map((a) => Int32Array.from(a).sort());
}

/**
 * One random mask: `perLayer` random coordinates of every parameter tensor (all coordinates of smaller ones).
 * @returns sorted Int32Array of flat indices
 */
export function coordinateMask(spec: ParamSpec[], perLayer: number, seed: number): Int32Array {
  return disjointMasks(spec, perLayer, 1, seed, { smallLayers: 'split' })[0];
}

/**
 * Validates a mask for a p-dimensional parameter space: an Int32Array, non-empty, strictly increasing, in [0, p).
 * @returns the mask
 */
export function checkMask(where: string, mask: unknown, p: number): Int32Array {
  if (!(mask instanceof Int32Array)) throw new Error(`${where}: mask must be an Int32Array of flat parameter indices, got ${mask === null ? 'null' : typeof mask}`);
  if (mask.length === 0) throw new Error(`${where}: mask is empty`);
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] < 0 || mask[i] >= p) throw new Error(`${where}: mask[${i}] = ${mask[i]} is outside [0, p = ${p})`);
    if (i > 0 && mask[i] <= mask[i - 1]) throw new Error(`${where}: mask must be strictly increasing (mask[${i - 1}] = ${mask[i - 1]}, mask[${i}] = ${mask[i]})`);
  }
  return mask;
}

/** Zeroes every entry of `v` outside the mask, in place (`keep` from {@link maskIndicator}). */
export function projectInPlace(v: Float64Array | Float32Array, keep: Uint8Array): void {
  for (let i = 0; i < v.length; i++) if (!keep[i]) v[i] = 0;
}

/** 0/1 indicator `[p]` of a mask. */
export function maskIndicator(mask: Int32Array, p: number): Uint8Array {
  const keep = new Uint8Array(p);
  for (const i of mask) keep[i] = 1;
  return keep;
}

/** Σ_{i∈mask} a_i b_i in float64. */
export function maskedDot(a: ArrayLike<number>, b: ArrayLike<number>, mask: Int32Array): number {
  let s = 0;
  for (let k = 0; k < mask.length; k++) s += a[mask[k]] * b[mask[k]];
  return s;
}

/**
 * Projects a mask onto rows of stacked vectors in place (no-op without a mask).
 * @param rows `[k·p]` row-major
 */
export function projectRows(rows: Float32Array | Float64Array, p: number, mask: Int32Array | undefined): void {
  if (!mask) return;
  const keep = maskIndicator(checkMask('projectRows', mask, p), p);
  for (let r = 0; r < rows.length; r += p) projectInPlace(rows.subarray(r, r + p), keep);
}

/**
 * Scores restricted to each mask, averaged over the masks (the ensemble of dattri-llm's GPT-2 protocol).
 * Works for every estimator (each honours the `mask` option; see the module doc).
 * @param masks one or more masks (see {@link disjointMasks}); validated against the model's p
 * @returns `[trainIds.length, queries.n]`, the mean of the per-mask score matrices
 */
export async function maskedScore<O extends EstimatorOptions>(
  estimator: Estimator<O>,
  task: AttributionTask,
  masks: Int32Array[],
  opts: O = {} as O,
): Promise<ScoreMatrix> {
  const p = numParams(task.model.spec);
  if (!Array.isArray(masks) || masks.length === 0) throw new Error('maskedScore: masks must be a non-empty array of Int32Array masks');
  masks.forEach((m, i) => checkMask(`maskedScore: masks[${i}]`, m, p));
  const out = scoreMatrix(task.trainIds.length, task.queries.n);
  for (const mask of masks) {
    const s = await estimator.score(task, { ...opts, mask });
    for (let i = 0; i < out.values.length; i++) out.values[i] += s.values[i] / masks.length;
  }
  return out;
}
