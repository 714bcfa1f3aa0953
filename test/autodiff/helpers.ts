/** Shared fixtures for the autodiff tests: tiny models at generic (perturbed) parameters, random batches. */
import { tf } from '../../lib/runtime/tf.ts';
import { Rng } from '../../lib/runtime/rng.ts';
import { createModel } from '../../lib/models/registry.ts';
import { disposeParams, flattenParams, unflattenParams } from '../../lib/models/params.ts';
import { numParams, type Batch, type Model, type Params } from '../../lib/models/types.ts';

export { relErr } from '../runtime/helpers.ts';

/** A model with parameters away from init, and two independent random batches of size B. */
export interface Case {
  name: string;
  model: Model;
  params: Params;
  batch: Batch;
  batch2: Batch;
  p: number;
  B: number;
  dispose(): void;
}

/** The four families' FD-test presets. */
export const FAMILIES = ['mlp', 'cnn', 'gpt2', 'llama'] as const;

/** Why a family cannot be built here (not registered yet), or null when it can. */
export function unavailable(family: string): string | false {
  try {
    createModel({ family, preset: 'tiny' });
    return false;
  } catch (e) {
    return `model family '${family}' not available: ${(e as Error).message}`;
  }
}

/** Random batch for a model: features N(0,1) / token ids, labels uniform, LM mask with some zeros. */
export function randomBatch(model: Model, B: number, rng: Rng): Batch {
  const c = model.config as Record<string, unknown>;
  if (model.family === 'mlp' || model.family === 'cnn') {
    const inShape = model.family === 'mlp' ? [(c.sizes as number[])[0]] : (c.input as number[]);
    const K = model.family === 'mlp' ? (c.sizes as number[]).at(-1)! : (c.classes as number);
    const n = inShape.reduce((a, b) => a * b, 1);
    return {
      x: tf.tensor(rng.normalArray(B * n), [B, ...inShape], 'float32'),
      y: tf.tensor1d(Int32Array.from({ length: B }, () => rng.int(K)), 'int32'),
    };
  }
  const V = c.vocab as number;
  const T = Math.min(8, c.ctx as number);
  const ids = () => Int32Array.from({ length: B * T }, () => rng.int(V));
  // First positions act as a "prompt" (mask 0) in odd rows, so the mask weighting is exercised.
  const mask = Float32Array.from({ length: B * T }, (_, k) => (Math.floor(k / T) % 2 === 1 && k % T < 3 ? 0 : 1));
  return { x: tf.tensor2d(ids(), [B, T], 'int32'), y: tf.tensor2d(ids(), [B, T], 'int32'), mask: tf.tensor2d(mask, [B, T], 'float32') };
}

/** Builds a case: init, then a random perturbation (relative scale 0.3 of each tensor's RMS) so θ is generic. */
export function makeCase(family: string, opts: { preset?: string; config?: Record<string, unknown>; B?: number; seed?: number } = {}): Case {
  const model = createModel({ family, preset: opts.preset ?? 'tiny', config: opts.config });
  const rng = new Rng(opts.seed ?? 1234).child(family);
  const init = model.init(rng.child('init'));
  const flat = flattenParams(init, model.spec);
  disposeParams(init);
  let ss = 0;
  for (const x of flat) ss += x * x;
  const rms = Math.sqrt(ss / flat.length) || 0.02;
  const noise = rng.child('perturb').normalArray(flat.length, 0.3 * rms);
  for (let k = 0; k < flat.length; k++) flat[k] += noise[k];
  const params = unflattenParams(flat, model.spec);
  const B = opts.B ?? 4;
  const batch = randomBatch(model, B, rng.child('batch'));
  const batch2 = randomBatch(model, B, rng.child('batch2'));
  return {
    name: `${family}-${opts.preset ?? 'tiny'}`,
    model,
    params,
    batch,
    batch2,
    p: numParams(model.spec),
    B,
    dispose() {
      disposeParams(params);
      for (const b of [batch, batch2]) tf.dispose([b.x, b.y, ...(b.mask ? [b.mask] : [])]);
    },
  };
}

/** Unit vector of length p with random normal direction. */
export function unitVec(rng: Rng, p: number): Float32Array {
  const v = rng.normalArray(p);
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => x / n);
}

/** Float64 inner product. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Euclidean norm (float64). */
export function norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

/** |uᵀ(Cv) − vᵀ(Cu)| / max(1, ‖u‖‖Cv‖): the symmetry defect the acceptance criterion bounds by 1e-5. */
export function symmetryDefect(u: ArrayLike<number>, Cv: ArrayLike<number>, v: ArrayLike<number>, Cu: ArrayLike<number>): number {
  return Math.abs(dot(u, Cv) - dot(v, Cu)) / Math.max(1, norm(u) * norm(Cv));
}

/** Asserts that `fn` leaves the number of live tensors unchanged. */
export function tensorDelta(fn: () => unknown): number {
  const before = tf.memory().numTensors;
  fn();
  return tf.memory().numTensors - before;
}
