/**
 * Exact Hessian-vector products of the weighted batch loss L(θ) = (1/D) Σ_i w_i ℓ_i(θ) by double
 * backprop: H v = ∇_θ ⟨∇_θ L(θ), v⟩. Requires the `tape-order` gradient fix (checked): without it
 * stock tfjs silently returns wrong HVPs. Cost ≈ 2–3 gradients (README.md).
 *
 * @module
 */
import { tf } from '../runtime/tf.ts';
import { paramList } from '../models/params.ts';
import { checkParams } from '../models/nn.ts';
import { numParams, type Batch, type Model, type Params } from '../models/types.ts';
import type { LossOptions } from './batch.ts';
import { lossClosure } from './loss.ts';
import { gradsOf, requireSecondOrder } from './tape.ts';
import { checkVector, dotLists, downloadFlat, splitFlat, tidyFlat, type FlatVec } from './vec.ts';
import { vjpMany } from './vjp-many.ts';
import { isFastMlp } from './mlp-fast.ts';
import { mlpHvpMany } from './mlp-hvp.ts';
import { mlpHvpNative } from './mlp-native.ts';
import { resolveWeights } from './batch.ts';
import { flattenParams } from '../models/params.ts';
import { runtimeInfo } from '../runtime/backend.ts';
import { blas, type Blas } from '../runtime/blas.ts';
import type { MlpConfig } from '../models/mlp.ts';

/** Options of {@link hvp}: the loss weights w `[B]` and divisor D. */
export type HvpOptions = LossOptions;

/** H v for one vector inside the caller's tidy scope; returns tensors in spec order. */
function hvpTensors(model: Model, params: Params, batch: Batch, v: FlatVec, opts: HvpOptions, where: string): tf.Tensor[] {
  const f = lossClosure(model, batch, opts, where);
  const list = paramList(params, model.spec);
  const vs = splitFlat(v, model.spec);
  // Outer gradient of ⟨∇L, v⟩; the inner gradient is taped because it runs inside the outer one.
  const gv = () => dotLists(gradsOf(() => f(list), list).grads, vs);
  return gradsOf(gv, list).grads;
}

/**
 * Exact Hessian-vector product H v, H = ∇²_θ L(θ), L = (1/D) Σ_i w_i ℓ_i.
 * @param v Float32Array/Float64Array `[p]` (spec order; float64 is rounded to float32)
 * @param opts `weights` `[B]` (default 1), `divisor` D (default B)
 * @returns Float32Array `[p]`
 */
export function hvp(model: Model, params: Params, batch: Batch, v: FlatVec, opts: HvpOptions = {}): Float32Array {
  requireSecondOrder('hvp');
  checkParams(model.spec, params, 'hvp');
  checkVector('hvp', 'v', v, numParams(model.spec));
  // Plain MLPs with a native GEMM: the host R-operator, the same arithmetic as hvpMany's (so estimators that
  // take products one at a time and those that batch them agree exactly).
  const native = nativeMlp(model);
  if (native) return mlpHvpHost(native, model, params, batch, v, 1, opts);
  return tidyFlat(() => hvpTensors(model, params, batch, v, opts, 'hvp'));
}

/** Directions per batched MLP pass (bounds the replicated activations: K·B·width floats). */
const MLP_CHUNK = 64;

/**
 * H v_j for k stacked vectors: for plain MLPs batched in one pass per chunk (host R-op with a native GEMM,
 * mlp-native.ts, else double backprop, mlp-hvp.ts); for other models one taped inner gradient walked back once
 * per direction (bit-identical to a loop of {@link hvp}s).
 * @param V `[k·p]`, row j = v_j
 * @returns Float32Array `[k·p]`, row j = H v_j
 */
export function hvpMany(model: Model, params: Params, batch: Batch, V: FlatVec, opts: HvpOptions = {}): Float32Array {
  requireSecondOrder('hvpMany');
  checkParams(model.spec, params, 'hvpMany');
  const p = numParams(model.spec);
  const k = checkVector('hvpMany', 'V', V, p, true);
  const native = nativeMlp(model);
  if (native) return mlpHvpHost(native, model, params, batch, V, k, opts);
  const out = new Float32Array(k * p);
  if (isFastMlp(model)) {
    for (let j = 0; j < k; j += MLP_CHUNK) {
      const n = Math.min(MLP_CHUNK, k - j);
      out.set(mlpHvpMany(model, params, batch, V.subarray(j * p, (j + n) * p), opts), j * p);
    }
    return out;
  }
  // Other models: the inner gradient is taped once and walked back once per direction (vjp-many.ts), the same
  // bits as a loop of hvp()s at about half their cost from the second direction on.
  tf.tidy(() => {
    const f = lossClosure(model, batch, opts, 'hvpMany'); // holds the weights tensor: inside this tidy
    const list = paramList(params, model.spec);
    const flatGrad = () => tf.concat(gradsOf(() => f(list), list).grads.map((g) => tf.reshape(g, [-1])));
    for (let j = 0; j < k; j += SHARED_CHUNK) {
      const n = Math.min(SHARED_CHUNK, k - j);
      const dys = Array.from({ length: n }, (_, i) => {
        const v = V.subarray((j + i) * p, (j + i + 1) * p);
        return tf.tensor1d(v instanceof Float32Array ? v : Float32Array.from(v), 'float32');
      });
      vjpMany(flatGrad, list, dys, (i, hv) => out.set(downloadFlat(hv), (j + i) * p));
      dys.forEach((d) => d.dispose());
    }
  });
  return out;
}

/**
 * H v_j for k stacked vectors, each bit-identical to `hvp(v_j)`: {@link hvpMany} where its arithmetic is hvp's
 * (models without the batched double-backprop MLP path, and MLPs on the host R-operator), a loop of hvp() otherwise.
 * For callers that promise the bits of a per-vector loop (the Taylor-error proxy).
 * @param V `[k·p]` @returns Float32Array `[k·p]`
 */
export function hvpEach(model: Model, params: Params, batch: Batch, V: FlatVec, opts: HvpOptions = {}): Float32Array {
  if (!isFastMlp(model) || nativeMlp(model)) return hvpMany(model, params, batch, V, opts);
  const p = numParams(model.spec);
  const k = checkVector('hvpEach', 'V', V, p, true);
  const out = new Float32Array(k * p);
  for (let j = 0; j < k; j++) out.set(hvp(model, params, batch, V.subarray(j * p, (j + 1) * p), opts), j * p);
  return out;
}

/** Directions per shared tape of {@link hvpMany} (bounds the cotangents held at once, not the tape). */
const SHARED_CHUNK = 64;

/**
 * The native GEMM when this MLP's HVPs run on the host (mlp-native.ts): a plain MLP and a wasm engine with a
 * native GEMM in use (so the engine record says which arithmetic produced the numbers).
 */
function nativeMlp(model: Model): Blas | undefined {
  if (!isFastMlp(model)) return undefined;
  let rt;
  try {
    rt = runtimeInfo();
  } catch {
    return undefined;
  }
  return rt.blas ? blas() : undefined;
}

/**
 * The native GEMM when this MLP's curvature products can run on the host (see {@link hvpMany}), else undefined.
 */
export function nativeMlpBlas(model: Model): Blas | undefined {
  return nativeMlp(model);
}

/** {@link hvpMany} of a plain MLP by the host R-operator (one forward and backward for all K directions). */
export function mlpHvpHost(b: Blas, model: Model, params: Params, batch: Batch, V: FlatVec, k: number, opts: HvpOptions, ggn = false): Float32Array {
  const B = batch.y.shape[0];
  const { w, D } = resolveWeights('hvpMany', B, opts);
  const coef = new Float64Array(B);
  for (let i = 0; i < B; i++) coef[i] = w[i] / D;
  const theta = flattenParams(params, model.spec);
  const x = batch.x.dataSync() as Float32Array;
  const y = batch.y.dataSync() as Int32Array;
  return mlpHvpNative(b, model.config as MlpConfig, theta, x, y, coef, V, k, { ggn });
}
