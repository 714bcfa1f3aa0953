/**
 * Differentiable building blocks shared by the model families, written so that double backprop works
 * on every backend (see engine.md §10 "Model-code rules").
 *
 * @module
 */
import { tf } from '../runtime/tf.ts';
import { nativeTransposes } from '../runtime/blas-kernels.ts';
import type { Rng } from '../runtime/rng.ts';
import type { ParamSpec, Params } from './types.ts';

/**
 * `a @ b` with optional transposes done explicitly: wasm's transposed GEMM path is ~10× slower (with a native
 * GEMM installed the flags are passed through instead: there they are free).
 * Works for rank-2 and batched (rank ≥ 3) operands.
 */
export function mm(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
  if (nativeTransposes()) return tf.matMul(a, b, transposeA, transposeB); // free inside a native GEMM
  const t = (x: tf.Tensor) => {
    const perm = Array.from({ length: x.rank }, (_, i) => i);
    perm[x.rank - 2] = x.rank - 1;
    perm[x.rank - 1] = x.rank - 2;
    return tf.transpose(x, perm);
  };
  return tf.matMul(transposeA ? t(a) : a, transposeB ? t(b) : b);
}

/** Dense layer `x @ W + b`: `x` `[N, in]`, `W` `[in, out]`, `b` `[out]` → `[N, out]`. */
export function dense(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const y = tf.matMul(x, w);
  return b ? tf.add(y, b) : y;
}

/**
 * Per-row softmax cross-entropy `-log softmax(z)[y]` as `-sum(oneHot ⊙ logSoftmax)`.
 * (tf.losses.softmaxCrossEntropy breaks double backprop; this form does not.)
 * @param logits `[N, K]`
 * @param labels `[N]` int32
 * @returns `[N]`
 */
export function crossEntropyRows(logits: tf.Tensor, labels: tf.Tensor): tf.Tensor1D {
  const k = logits.shape[logits.rank - 1];
  const oh = tf.oneHot(tf.reshape(labels, [-1]).toInt(), k);
  const lsm = tf.logSoftmax(tf.reshape(logits, [-1, k]));
  return tf.neg(tf.sum(tf.mul(oh, lsm), -1)) as tf.Tensor1D;
}

/** GELU, tanh approximation (GPT-2's `gelu_new`). */
export function geluTanh(x: tf.Tensor): tf.Tensor {
  const c = Math.sqrt(2 / Math.PI);
  const inner = tf.mul(c, tf.add(x, tf.mul(0.044715, tf.mul(tf.mul(x, x), x))));
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
}

/** SiLU `x·σ(x)`. */
export function silu(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(x));
}

/** LayerNorm over the last axis with gain `g` and bias `b`. */
export function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps = 1e-5): tf.Tensor {
  const mean = tf.mean(x, -1, true);
  const xc = tf.sub(x, mean);
  const variance = tf.mean(tf.mul(xc, xc), -1, true);
  return tf.add(tf.mul(tf.div(xc, tf.sqrt(tf.add(variance, eps))), g), b);
}

/** RMSNorm over the last axis with gain `g`. */
export function rmsNorm(x: tf.Tensor, g: tf.Tensor, eps = 1e-5): tf.Tensor {
  const ms = tf.mean(tf.mul(x, x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), g);
}

/**
 * 2×2 max pooling by reshape + max (wasm's MaxPoolGrad drops windows whose max ≤ 0; this form is exact).
 * @param x `[B, H, W, C]` with even H, W → `[B, H/2, W/2, C]`
 */
export function maxPool2x2(x: tf.Tensor): tf.Tensor {
  const [b, h, w, c] = x.shape;
  if (h % 2 || w % 2) throw new Error(`maxPool2x2: spatial size must be even, got ${h}×${w}`);
  const r = tf.reshape(x, [b, h / 2, 2, w / 2, 2, c]);
  return tf.max(tf.max(r, 4), 2);
}

/** Initialisers for a spec entry (all draws from `rng`, float32). */
export const init = {
  /** N(0, std²). */
  normal(rng: Rng, shape: number[], std: number): tf.Tensor {
    return tf.tensor(rng.normalArray(size(shape), std), shape, 'float32');
  },
  /** U(−bound, bound) with bound = 1/√fanIn (PyTorch's default for Linear/Conv weights and biases). */
  kaimingUniform(rng: Rng, shape: number[], fanIn: number): tf.Tensor {
    const bound = 1 / Math.sqrt(fanIn);
    return tf.tensor(rng.uniformArray(size(shape), -bound, bound), shape, 'float32');
  },
  zeros(shape: number[]): tf.Tensor {
    return tf.zeros(shape, 'float32');
  },
  ones(shape: number[]): tf.Tensor {
    return tf.ones(shape, 'float32');
  },
};

/** Number of elements of a shape. */
export function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Checks that `params` has exactly the spec's names and shapes; throws naming the first mismatch. */
export function checkParams(spec: ParamSpec[], params: Params, where = 'params'): void {
  for (const s of spec) {
    const t = params[s.name];
    if (!t) throw new Error(`${where}: missing parameter '${s.name}'`);
    if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
      throw new Error(`${where}: parameter '${s.name}' has shape [${t.shape}], expected [${s.shape}]`);
    }
  }
  const extra = Object.keys(params).filter((k) => !spec.some((s) => s.name === k));
  if (extra.length) throw new Error(`${where}: unexpected parameters ${extra.join(', ')}`);
}

// ---------------------------------------------------------------------------------------------------
// Transformer blocks (shared by gpt2.ts and llama.ts)

/** Additive mask value for disallowed attention positions: large but finite, so softmax has no NaNs. */
export const MASK_NEG = -1e9;

const causalMaskCache = new Map<number, Float32Array>();

/**
 * Additive causal mask `[T, T]`: 0 where key ≤ query, {@link MASK_NEG} above the diagonal.
 * The host array is cached per T; a fresh tensor is returned (dispose it or create it inside a tidy).
 */
export function causalMask(T: number): tf.Tensor2D {
  let m = causalMaskCache.get(T);
  if (!m) {
    m = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = MASK_NEG;
    causalMaskCache.set(T, m);
  }
  return tf.tensor2d(m, [T, T], 'float32');
}

/**
 * Causal scaled-dot-product attention with grouped key/value heads (GQA; plain MHA when `Hkv = H`).
 * Query head `h` attends with key/value head `floor(h / (H / Hkv))` (Hugging Face `repeat_kv` and
 * llama.cpp's broadcast order). The grouping is a reshape of q, not a copy of k/v.
 * @param q `[B, H, T, hd]`
 * @param k `[B, Hkv, T, hd]`
 * @param v `[B, Hkv, T, hd]`
 * @returns `[B, H, T, hd]`
 */
export function causalAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor): tf.Tensor {
  const [B, H, T, hd] = q.shape as number[];
  const Hkv = k.shape[1] as number;
  if (H % Hkv) throw new Error(`causalAttention: ${H} query heads not divisible by ${Hkv} kv heads`);
  const rep = H / Hkv;
  // Consecutive query heads share a kv head, so [B,H,T,hd] → [B,Hkv,rep·T,hd] groups them.
  const qg = rep === 1 ? q : tf.reshape(q, [B, Hkv, rep * T, hd]);
  let s = tf.reshape(mm(qg, k, false, true), [B, H, T, T]);
  s = tf.add(tf.mul(s, 1 / Math.sqrt(hd)), causalMask(T));
  const p = tf.softmax(s);
  const pg = rep === 1 ? p : tf.reshape(p, [B, Hkv, rep * T, T]);
  return tf.reshape(tf.matMul(pg, v), [B, H, T, hd]);
}

/** `[B·T, n·hd]` → `[B, n, T, hd]` (split the feature axis into heads). */
export function splitHeads(x: tf.Tensor, B: number, T: number, n: number): tf.Tensor {
  const hd = x.shape[x.rank - 1] / n;
  return tf.transpose(tf.reshape(x, [B, T, n, hd]), [0, 2, 1, 3]);
}

/** `[B, n, T, hd]` → `[B·T, n·hd]` (inverse of {@link splitHeads}). */
export function mergeHeads(x: tf.Tensor): tf.Tensor {
  const [B, n, T, hd] = x.shape;
  return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [B * T, n * hd]);
}

/**
 * Per-sequence language-model loss: mean next-token cross-entropy over positions with `mask = 1`
 * (all positions when `mask` is absent). A row whose mask is all zero gets loss 0, not NaN.
 * @param logits `[B, T, V]`
 * @param y `[B, T]` int32 targets
 * @param mask `[B, T]` float32 (optional)
 * @returns `[B]`
 */
export function sequenceLoss(logits: tf.Tensor, y: tf.Tensor, mask?: tf.Tensor): tf.Tensor1D {
  const B = logits.shape[0] as number;
  const T = logits.shape[1] as number;
  if (y.shape[0] !== B || y.shape[1] !== T) {
    throw new Error(`sequenceLoss: targets y have shape [${y.shape}], expected [${B}, ${T}]`);
  }
  const ce = tf.reshape(crossEntropyRows(logits, y), [B, T]);
  if (!mask) return tf.mean(ce, 1) as tf.Tensor1D;
  if (mask.shape[0] !== B || mask.shape[1] !== T) {
    throw new Error(`sequenceLoss: mask has shape [${mask.shape}], expected [${B}, ${T}]`);
  }
  const m = mask.dtype === 'float32' ? mask : tf.cast(mask, 'float32');
  const count = tf.maximum(tf.sum(m, 1), 1);
  return tf.div(tf.sum(tf.mul(ce, m), 1), count) as tf.Tensor1D;
}

/**
 * Checks an LM input batch of token ids against a model's context length (no device sync).
 * @param x `[B, T]` int32
 */
export function checkTokenInput(x: tf.Tensor, ctx: number, where: string): void {
  if (x.rank !== 2) throw new Error(`${where}: token input must be [B, T], got shape [${x.shape}]`);
  if (x.dtype !== 'int32') throw new Error(`${where}: token input must be int32, got ${x.dtype}`);
  if ((x.shape[1] as number) > ctx) throw new Error(`${where}: sequence length ${x.shape[1]} exceeds context length ${ctx}`);
}

/**
 * `k` copies of `t` along `axis` (= tf.tile with k on that axis, same bits). wasm's Tile copies one element at a
 * time, so a concat of k views is 30–40× faster on the stacked first-layer weight (perf-2026-12.md §4).
 */
export function repeat<T extends tf.Tensor>(t: T, k: number, axis: number): T {
  return (k === 1 ? t : tf.concat(new Array<T>(k).fill(t), axis)) as T;
}
