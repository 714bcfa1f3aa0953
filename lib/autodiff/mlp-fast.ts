/**
 * Per-sample gradients of the MLP family without a per-example loop (engine.md §3).
 *
 * The MLP forward of lib/models/mlp.ts is re-implemented with zero "probe" tensors added to every
 * pre-activation z_l = h_l W_l + b_l. One backward pass of Σ_i ℓ_i to the probes gives
 * δ_{i,l} = ∂ℓ_i/∂z_{i,l} (row i of z only affects ℓ_i), and then
 *   ∇_{W_l} ℓ_i = h_{i,l} ⊗ δ_{i,l},   ∇_{b_l} ℓ_i = δ_{i,l}.
 * Dot products ⟨∇ℓ_i, u⟩ never materialise the outer products ("ghost" products):
 *   ⟨∇ℓ_i, u⟩ = Σ_l ( h_{i,l}ᵀ U_{W_l} δ_{i,l} + δ_{i,l}ᵀ u_{b_l} ).
 *
 * @module
 */
import { tf } from '../runtime/tf.ts';
import { checkParams, crossEntropyRows, geluTanh } from '../models/nn.ts';
import type { MlpConfig } from '../models/mlp.ts';
import { numParams, type Batch, type Model, type Params } from '../models/types.ts';
import { specOffsets } from '../models/params.ts';
import { gradsOf } from './tape.ts';
import { batchSize } from './batch.ts';
import { tidyFlat } from './vec.ts';

/** True when `model` is an MLP whose structure this module knows (names `l{i}.w`/`l{i}.b`, known activation). */
export function isFastMlp(model: Model): boolean {
  if (model.family !== 'mlp') return false;
  const c = model.config as Partial<MlpConfig> | undefined;
  if (!c || !Array.isArray(c.sizes) || !['relu', 'tanh', 'gelu'].includes(c.activation as string)) return false;
  const L = c.sizes.length - 1;
  if (model.spec.length !== 2 * L) return false;
  return model.spec.every((s, j) => {
    const i = j >> 1;
    const want = j % 2 === 0 ? [c.sizes![i], c.sizes![i + 1]] : [c.sizes![i + 1]];
    return s.name === `l${i}.${j % 2 === 0 ? 'w' : 'b'}` && s.shape.length === want.length && s.shape.every((d, k) => d === want[k]);
  });
}

function act(kind: MlpConfig['activation'], x: tf.Tensor): tf.Tensor {
  if (kind === 'relu') return tf.relu(x);
  if (kind === 'tanh') return tf.tanh(x);
  return geluTanh(x);
}

/**
 * Layer inputs h_l `[B, in_l]` and pre-activation gradients δ_l `[B, out_l]` of ℓ_i (call inside tidy).
 */
function layerInputsAndDeltas(model: Model, params: Params, batch: Batch): { hs: tf.Tensor[]; deltas: tf.Tensor[] } {
  const c = model.config as MlpConfig;
  const L = c.sizes.length - 1;
  const B = batchSize(batch, 'mlp-fast');
  const x0 = batch.x.rank === 2 ? batch.x : tf.reshape(batch.x, [B, -1]);
  // Plain forward for the layer inputs: tensors made inside a gradient's forward pass are not kept.
  const hs: tf.Tensor[] = [];
  let h = x0;
  for (let i = 0; i < L; i++) {
    hs.push(h);
    const z = tf.add(tf.matMul(h, params[`l${i}.w`]), params[`l${i}.b`]);
    if (i < L - 1) h = act(c.activation, z);
  }
  const probes = Array.from({ length: L }, (_, i) => tf.zeros([B, c.sizes[i + 1]]));
  const total = () => {
    let a = x0;
    let z: tf.Tensor = a;
    for (let i = 0; i < L; i++) {
      z = tf.add(tf.add(tf.matMul(a, params[`l${i}.w`]), params[`l${i}.b`]), probes[i]);
      if (i < L - 1) a = act(c.activation, z);
    }
    // Sum (not mean) so that row i of the probe gradient is ∂ℓ_i/∂z_i.
    return tf.sum(crossEntropyRows(z, batch.y));
  };
  return { hs, deltas: gradsOf(total, probes).grads };
}

/**
 * Per-sample gradients ∇ℓ_i of an MLP by the outer-product trick (requires {@link isFastMlp}).
 * @returns Float32Array `[B·p]`, row i = ∇ℓ_i in spec order
 */
export function mlpPerSampleGrads(model: Model, params: Params, batch: Batch): Float32Array {
  if (!isFastMlp(model)) throw new Error(`mlpPerSampleGrads: model (family '${model.family}') is not a plain MLP`);
  checkParams(model.spec, params, 'mlpPerSampleGrads');
  return tidyFlat(() => {
    const { hs, deltas } = layerInputsAndDeltas(model, params, batch);
    const B = hs[0].shape[0];
    const parts: tf.Tensor[] = [];
    hs.forEach((h, l) => {
      const d = deltas[l];
      // [B, in, 1] · [B, 1, out] → [B, in, out], row-major = spec layout of W.
      parts.push(tf.reshape(tf.mul(tf.expandDims(h, 2), tf.expandDims(d, 1)), [B, -1]), d);
    });
    return tf.concat(parts, 1);
  });
}

/**
 * Per-sample dot products ⟨∇ℓ_i, u_j⟩ of an MLP without materialising per-sample gradients.
 * @param U `[k·p]`, row j = u_j
 * @returns Float64Array `[B·k]`, entry (i, j) at i·k + j (computed in float32 on the device)
 */
export function mlpPerSampleDots(model: Model, params: Params, batch: Batch, U: Float32Array | Float64Array, k: number): Float64Array {
  if (!isFastMlp(model)) throw new Error(`mlpPerSampleDots: model (family '${model.family}') is not a plain MLP`);
  checkParams(model.spec, params, 'mlpPerSampleDots');
  if (!Number.isInteger(k) || k <= 0 || U.length !== k * numParams(model.spec)) {
    throw new Error(`mlpPerSampleDots: 'U' has length ${U.length}, expected k·p = ${k}·${numParams(model.spec)}`);
  }
  const p = numParams(model.spec);
  const off = specOffsets(model.spec);
  const Uf = U instanceof Float32Array ? U : Float32Array.from(U);
  const f32 = tidyFlat(() => {
    const { hs, deltas } = layerInputsAndDeltas(model, params, batch);
    const B = hs[0].shape[0];
    const Ut = tf.tensor2d(Uf, [k, p]);
    let acc: tf.Tensor | null = null;
    hs.forEach((h, l) => {
      const [nin, nout] = model.spec[2 * l].shape;
      // U_W for all j as [in, k·out] so one matMul serves every u_j.
      const uw = tf.reshape(tf.transpose(tf.reshape(tf.slice(Ut, [0, off[2 * l]], [k, nin * nout]), [k, nin, nout]), [1, 0, 2]), [nin, k * nout]);
      const ub = tf.reshape(tf.slice(Ut, [0, off[2 * l + 1]], [k, nout]), [1, k, nout]);
      const hu = tf.add(tf.reshape(tf.matMul(h, uw), [B, k, nout]), ub);
      const term = tf.sum(tf.mul(hu, tf.expandDims(deltas[l], 1)), 2);
      acc = acc ? tf.add(acc, term) : term;
    });
    return acc as unknown as tf.Tensor;
  });
  return Float64Array.from(f32);
}
