/**
 * Batched exact HVPs for the MLP family: H v_1, …, H v_K in ONE double-backprop pass.
 *
 * The parameters are replicated K times along a new leading axis (Θ_k = θ for every k) and the batch
 * goes through all replicas with batched matMuls. Because the replicas are independent, the gradient of
 * Σ_k L(Θ_k) with respect to the stack is the stack of ∇L(θ), and differentiating Σ_k ⟨∇L(Θ_k), v_k⟩
 * once more gives the stack of H v_k. Same arithmetic as K separate HVPs, but K× fewer kernel launches:
 * the per-HVP cost of a small MLP is launch-bound (engine.md §2.3), so this is several times faster.
 *
 * @module
 */
import { tf } from '../runtime/tf.ts';
import { crossEntropyRows, geluTanh, repeat } from '../models/nn.ts';
import type { MlpConfig } from '../models/mlp.ts';
import { numParams, type Batch, type Model, type Params } from '../models/types.ts';
import { batchSize, resolveWeights, type LossOptions } from './batch.ts';
import { gradsOf, requireSecondOrder } from './tape.ts';
import { checkVector, type FlatVec } from './vec.ts';
import { isFastMlp } from './mlp-fast.ts';

function act(kind: MlpConfig['activation'], x: tf.Tensor): tf.Tensor {
  if (kind === 'relu') return tf.relu(x);
  if (kind === 'tanh') return tf.tanh(x);
  return geluTanh(x);
}

/**
 * H v_k for K stacked directions of an MLP (requires {@link isFastMlp}).
 * @param V `[K·p]`, row k = v_k in spec order
 * @param opts weights `[B]` and divisor D of L = (1/D) Σ_i w_i ℓ_i
 * @returns Float32Array `[K·p]`, row k = H v_k
 */
export function mlpHvpMany(model: Model, params: Params, batch: Batch, V: FlatVec, opts: LossOptions = {}): Float32Array {
  requireSecondOrder('mlpHvpMany');
  if (!isFastMlp(model)) throw new Error(`mlpHvpMany: model family '${model.family}' is not a plain MLP`);
  const p = numParams(model.spec);
  const K = checkVector('mlpHvpMany', 'V', V, p, true);
  const c = model.config as MlpConfig;
  const L = c.sizes.length - 1;
  const B = batchSize(batch, 'mlpHvpMany');
  const { w, D } = resolveWeights('mlpHvpMany', B, opts);
  const out = tf.tidy(() => {
    const x0 = batch.x.rank === 2 ? batch.x : tf.reshape(batch.x, [B, -1]);
    const labels = repeat(tf.reshape(batch.y, [1, B]), K, 0); // [K, B]
    const wt = tf.reshape(tf.tensor1d(Float32Array.from(w)), [1, B]);
    const stack = model.spec.map((s) => repeat(tf.expandDims(params[s.name], 0), K, 0));
    let off = 0;
    const dirs = model.spec.map((s) => {
      const size = s.shape.reduce((a, b) => a * b, 1);
      const part = new Float32Array(K * size);
      for (let k = 0; k < K; k++) {
        const src = V.subarray(k * p + off, k * p + off + size);
        part.set(src instanceof Float32Array ? src : Float32Array.from(src), k * size);
      }
      off += size;
      return tf.tensor(part, [K, ...s.shape], 'float32');
    });
    // Σ_k L(Θ_k): replica k uses only Θ_k, so ∇_Θ is the stack of per-replica gradients.
    const total = () => {
      let h: tf.Tensor = x0;
      for (let i = 0; i < L; i++) {
        const [din, dout] = [c.sizes[i], c.sizes[i + 1]];
        // Layer 0 shares its input across replicas: one wide GEMM x·[W_1 … W_K] (wasm's batched GEMM is
        // slow on these shapes); later layers use batched matMuls over the replica axis.
        const zw = i === 0
          ? tf.transpose(tf.reshape(tf.matMul(x0, tf.reshape(tf.transpose(stack[0], [1, 0, 2]), [din, K * dout])), [B, K, dout]), [1, 0, 2])
          : tf.matMul(h, stack[2 * i]);
        const z = tf.add(zw, tf.expandDims(stack[2 * i + 1], 1)); // [K, B, out]
        h = i < L - 1 ? act(c.activation, z) : z;
      }
      const ce = tf.reshape(crossEntropyRows(tf.reshape(h, [K * B, c.sizes[L]]), tf.reshape(labels, [K * B])), [K, B]);
      return tf.div(tf.sum(tf.mul(ce, wt)), D);
    };
    const gv = () => tf.addN(gradsOf(total, stack).grads.map((g, j) => tf.sum(tf.mul(g, dirs[j]))));
    const hv = gradsOf(gv, stack).grads;
    return tf.concat(hv.map((t) => tf.reshape(t, [K, -1])), 1); // [K, p], spec order per row
  });
  try {
    return new Float32Array(out.dataSync() as Float32Array);
  } finally {
    out.dispose();
  }
}
