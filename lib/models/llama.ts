/**
 * Llama (2 / 3.x) as pure functions of a parameter record: RMSNorm pre-norm blocks, RoPE, grouped-query
 * attention with bias-free projections, SwiGLU MLP, final RMSNorm, tied or untied head.
 *
 * Parameters (all dense weights `[in, out]`, used as `x @ W`; see hf.ts / gguf.ts for the mappings):
 *
 * | ours                     | shape            | Hugging Face (transposed)             | GGUF                   |
 * |--------------------------|------------------|---------------------------------------|------------------------|
 * | `embed`                  | `[V, dim]`       | `model.embed_tokens.weight` (as is)   | `token_embd.weight`    |
 * | `layers.{i}.attn_norm`   | `[dim]`          | `model.layers.{i}.input_layernorm.weight` | `blk.{i}.attn_norm.weight` |
 * | `layers.{i}.attn.wq`     | `[dim, H·hd]`    | `….self_attn.q_proj.weight`           | `blk.{i}.attn_q.weight`|
 * | `layers.{i}.attn.wk`     | `[dim, Hkv·hd]`  | `….self_attn.k_proj.weight`           | `blk.{i}.attn_k.weight`|
 * | `layers.{i}.attn.wv`     | `[dim, Hkv·hd]`  | `….self_attn.v_proj.weight`           | `blk.{i}.attn_v.weight`|
 * | `layers.{i}.attn.wo`     | `[H·hd, dim]`    | `….self_attn.o_proj.weight`           | `blk.{i}.attn_output.weight` |
 * | `layers.{i}.ffn_norm`    | `[dim]`          | `….post_attention_layernorm.weight`   | `blk.{i}.ffn_norm.weight` |
 * | `layers.{i}.mlp.w_gate`  | `[dim, hidden]`  | `….mlp.gate_proj.weight`              | `blk.{i}.ffn_gate.weight` |
 * | `layers.{i}.mlp.w_up`    | `[dim, hidden]`  | `….mlp.up_proj.weight`                | `blk.{i}.ffn_up.weight`|
 * | `layers.{i}.mlp.w_down`  | `[hidden, dim]`  | `….mlp.down_proj.weight`              | `blk.{i}.ffn_down.weight` |
 * | `norm`                   | `[dim]`          | `model.norm.weight`                   | `output_norm.weight`   |
 * | `head` (untied only)     | `[dim, V]`       | `lm_head.weight`                      | `output.weight`        |
 *
 * RoPE layout: within each head, `'interleaved'` rotates adjacent pairs (2j, 2j+1) by angle pos·θ_j
 * (llama.cpp / GGUF / llama2.c / Meta's original code); `'half'` rotates (j, j + hd/2) (Hugging Face's
 * rotate-half, whose converter permutes the q/k output columns). The two are the same model up to
 * the column permutation {@link ropeColumnPermutation} of `wq`/`wk`.
 *
 * Init follows Hugging Face `LlamaPreTrainedModel`: N(0, 0.02) for embeddings and every projection,
 * RMSNorm gains 1.
 *
 * @module
 */
import { tf } from '../runtime/tf.ts';
import type { Rng } from '../runtime/rng.ts';
import {
  causalAttention,
  checkTokenInput,
  init,
  mergeHeads,
  mm,
  rmsNorm,
  sequenceLoss,
  silu,
  splitHeads,
} from './nn.ts';
import type { Batch, Model, ParamSpec, Params } from './types.ts';

/** Which pairs of head dimensions RoPE rotates together. */
export type RopeStyle = 'interleaved' | 'half';

/** Llama-3 RoPE frequency scaling (HF `rope_scaling` with `rope_type: "llama3"`). */
export interface Llama3RopeScaling {
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

/** Llama configuration. */
export interface LlamaConfig {
  /** Vocabulary size V. */
  vocab: number;
  /** Maximum sequence length accepted by `logits` (RoPE itself has no table limit). */
  ctx: number;
  /** Model width. */
  dim: number;
  /** Number of blocks. */
  layers: number;
  /** Query heads H (must divide dim; head dim hd = dim/H must be even). */
  heads: number;
  /** Key/value heads Hkv (must divide H). */
  kvHeads: number;
  /** SwiGLU hidden width. */
  hidden: number;
  /** RMSNorm epsilon. */
  normEps: number;
  /** RoPE base θ. */
  ropeTheta: number;
  /** RoPE pairing, see the module doc. */
  ropeStyle: RopeStyle;
  /** Llama-3 frequency scaling, or null/undefined for plain RoPE. */
  ropeScaling?: Llama3RopeScaling | null;
  /** Head shares the embedding matrix (logits = h · embedᵀ); otherwise a separate `head` `[dim, V]`. */
  tiedEmbeddings: boolean;
}

/**
 * Presets.
 * - `tiny`: for finite-difference / HVP tests (GQA 4 query / 2 kv heads, untied head).
 * - `stories260K`: Karpathy's llama2.c TinyStories model as shipped in GGUF (see gguf.ts; its
 *   `output.weight` equals `token_embd.weight`, i.e. it was trained tied). ctx is the training length 512.
 * - `paper`: Llama 3.2-1B (from its config.json; HF checkpoints use rotate-half, hence `'half'`).
 */
export const LLAMA_PRESETS: Record<string, LlamaConfig> = {
  tiny: {
    vocab: 32, ctx: 16, dim: 16, layers: 1, heads: 4, kvHeads: 2, hidden: 24,
    normEps: 1e-5, ropeTheta: 10000, ropeStyle: 'half', ropeScaling: null, tiedEmbeddings: false,
  },
  stories260K: {
    vocab: 512, ctx: 512, dim: 64, layers: 5, heads: 8, kvHeads: 4, hidden: 172,
    normEps: 1e-5, ropeTheta: 10000, ropeStyle: 'interleaved', ropeScaling: null, tiedEmbeddings: true,
  },
  paper: {
    vocab: 128256, ctx: 131072, dim: 2048, layers: 16, heads: 32, kvHeads: 8, hidden: 8192,
    normEps: 1e-5, ropeTheta: 500000, ropeStyle: 'half',
    ropeScaling: { factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 },
    tiedEmbeddings: true,
  },
};

/** Throws naming the first invalid field of a Llama config. */
export function validateLlamaConfig(c: LlamaConfig): void {
  for (const k of ['vocab', 'ctx', 'dim', 'layers', 'heads', 'kvHeads', 'hidden'] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) {
      throw new Error(`llama config: '${k}' must be a positive integer, got ${JSON.stringify(c[k])}`);
    }
  }
  // Upper bounds far above any Llama (3.1-405B: 126 layers, dim 16,384, vocab 128,256), so that a hostile
  // header fails here rather than by allocating.
  const MAX = { vocab: 1 << 22, ctx: 1 << 24, dim: 1 << 16, layers: 1024, heads: 1024, kvHeads: 1024, hidden: 1 << 20 } as const;
  for (const k of Object.keys(MAX) as (keyof typeof MAX)[]) {
    if (c[k] > MAX[k]) throw new Error(`llama config: '${k}' ${c[k]} exceeds the supported maximum ${MAX[k]} (corrupt config?)`);
  }
  if (c.dim % c.heads) throw new Error(`llama config: heads (${c.heads}) must divide dim (${c.dim})`);
  if ((c.dim / c.heads) % 2) throw new Error(`llama config: head dim ${c.dim / c.heads} must be even for RoPE`);
  if (c.heads % c.kvHeads) throw new Error(`llama config: kvHeads (${c.kvHeads}) must divide heads (${c.heads})`);
  if (!(c.normEps > 0)) throw new Error(`llama config: 'normEps' must be > 0, got ${c.normEps}`);
  if (!(c.ropeTheta > 0)) throw new Error(`llama config: 'ropeTheta' must be > 0, got ${c.ropeTheta}`);
  if (c.ropeStyle !== 'interleaved' && c.ropeStyle !== 'half') {
    throw new Error(`llama config: 'ropeStyle' must be 'interleaved' or 'half', got ${JSON.stringify(c.ropeStyle)}`);
  }
  if (typeof c.tiedEmbeddings !== 'boolean') {
    throw new Error(`llama config: 'tiedEmbeddings' must be a boolean, got ${JSON.stringify(c.tiedEmbeddings)}`);
  }
  const s = c.ropeScaling;
  if (s) {
    for (const k of ['factor', 'lowFreqFactor', 'highFreqFactor', 'originalMaxPositionEmbeddings'] as const) {
      if (!(typeof s[k] === 'number' && s[k] > 0)) {
        throw new Error(`llama config: 'ropeScaling.${k}' must be a positive number, got ${JSON.stringify(s[k])}`);
      }
    }
    if (s.highFreqFactor <= s.lowFreqFactor) {
      throw new Error(`llama config: ropeScaling.highFreqFactor (${s.highFreqFactor}) must exceed lowFreqFactor (${s.lowFreqFactor})`);
    }
  }
}

/** Parameter names and shapes of a Llama in canonical order. */
export function llamaSpec(c: LlamaConfig): ParamSpec[] {
  const hd = c.dim / c.heads;
  const spec: ParamSpec[] = [{ name: 'embed', shape: [c.vocab, c.dim] }];
  for (let i = 0; i < c.layers; i++) {
    const l = `layers.${i}`;
    spec.push(
      { name: `${l}.attn_norm`, shape: [c.dim] },
      { name: `${l}.attn.wq`, shape: [c.dim, c.heads * hd] },
      { name: `${l}.attn.wk`, shape: [c.dim, c.kvHeads * hd] },
      { name: `${l}.attn.wv`, shape: [c.dim, c.kvHeads * hd] },
      { name: `${l}.attn.wo`, shape: [c.heads * hd, c.dim] },
      { name: `${l}.ffn_norm`, shape: [c.dim] },
      { name: `${l}.mlp.w_gate`, shape: [c.dim, c.hidden] },
      { name: `${l}.mlp.w_up`, shape: [c.dim, c.hidden] },
      { name: `${l}.mlp.w_down`, shape: [c.hidden, c.dim] },
    );
  }
  spec.push({ name: 'norm', shape: [c.dim] });
  if (!c.tiedEmbeddings) spec.push({ name: 'head', shape: [c.dim, c.vocab] });
  return spec;
}

/**
 * RoPE inverse frequencies θ_j = theta^(−2j/hd), j = 0..hd/2−1, with Llama-3 scaling applied when
 * configured (Hugging Face `_compute_llama3_parameters`: long wavelengths divided by `factor`, short
 * ones kept, a smooth blend in between). Computed in float64.
 * @returns `[hd/2]`
 */
export function ropeInvFreq(hd: number, theta: number, scaling?: Llama3RopeScaling | null): Float64Array {
  const half = hd / 2;
  const f = new Float64Array(half);
  for (let j = 0; j < half; j++) f[j] = 1 / Math.pow(theta, (2 * j) / hd);
  if (!scaling) return f;
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: old } = scaling;
  const lowWavelen = old / lowFreqFactor;
  const highWavelen = old / highFreqFactor;
  for (let j = 0; j < half; j++) {
    const wavelen = (2 * Math.PI) / f[j];
    if (wavelen < highWavelen) continue;
    if (wavelen > lowWavelen) {
      f[j] = f[j] / factor;
    } else {
      const smooth = (old / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
      f[j] = (1 - smooth) * (f[j] / factor) + smooth * f[j];
    }
  }
  return f;
}

/**
 * Column permutation of a `[in, heads·hd]` q/k weight converting between RoPE styles:
 * `W_to[:, c] = W_from[:, perm[c]]`. Within a head, interleaved position 2j+e (e ∈ {0,1}) is half
 * position e·hd/2 + j.
 */
export function ropeColumnPermutation(heads: number, hd: number, from: RopeStyle, to: RopeStyle): number[] {
  const perm = Array.from({ length: heads * hd }, (_, i) => i);
  if (from === to) return perm;
  const half = hd / 2;
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < half; j++) {
      for (let e = 0; e < 2; e++) {
        const inter = h * hd + 2 * j + e;
        const hlf = h * hd + e * half + j;
        if (to === 'interleaved') perm[inter] = hlf;
        else perm[hlf] = inter;
      }
    }
  }
  return perm;
}

/**
 * Returns a copy of `params` (new tensors for wq/wk, the rest shared) with q/k weights permuted from
 * `from` to `config.ropeStyle`'s counterpart `to`; the model with `ropeStyle: to` then computes the same
 * function. Call inside a tidy or dispose the new wq/wk yourself.
 */
export function convertRopeStyle(params: Params, c: LlamaConfig, from: RopeStyle, to: RopeStyle): Params {
  if (from === to) return { ...params };
  const hd = c.dim / c.heads;
  const pq = tf.tensor1d(ropeColumnPermutation(c.heads, hd, from, to), 'int32');
  const pk = tf.tensor1d(ropeColumnPermutation(c.kvHeads, hd, from, to), 'int32');
  const out: Params = { ...params };
  for (let i = 0; i < c.layers; i++) {
    out[`layers.${i}.attn.wq`] = tf.gather(params[`layers.${i}.attn.wq`], pq, 1);
    out[`layers.${i}.attn.wk`] = tf.gather(params[`layers.${i}.attn.wk`], pk, 1);
  }
  pq.dispose();
  pk.dispose();
  return out;
}

/**
 * Applies RoPE to `x` `[B, n, T, hd]` at positions 0..T−1 given host `cos`/`sin` tables `[T, hd/2]`.
 * Built from slice/concat/mul only (twice differentiable on every backend).
 */
export function applyRope(x: tf.Tensor, cos: Float32Array, sin: Float32Array, style: RopeStyle): tf.Tensor {
  const [B, n, T, hd] = x.shape;
  const half = hd / 2;
  if (style === 'half') {
    const c = tf.tensor2d(cos, [T, half]);
    const s = tf.tensor2d(sin, [T, half]);
    const x1 = tf.slice(x, [0, 0, 0, 0], [B, n, T, half]);
    const x2 = tf.slice(x, [0, 0, 0, half], [B, n, T, half]);
    return tf.concat([tf.sub(tf.mul(x1, c), tf.mul(x2, s)), tf.add(tf.mul(x2, c), tf.mul(x1, s))], 3);
  }
  // Interleaved pairs (x₀, x₁) → (x₀c − x₁s, x₀s + x₁c), written as x⊙C + (x·P)⊙S with P the fixed pair swap
  // (x·P)[2j] = −x[2j+1], (x·P)[2j+1] = x[2j]. Products with P's ±1/0 entries and the two-term sums are exact, so the
  // values are the slice form's bit for bit; but wasm copies width-1 slices one float at a time, which made the
  // slice form ~60 % of a Llama HVP (perf-2026-12.md §4), and this form's double backward is ~13× cheaper.
  const { C, S, P } = interleavedRopeTables(cos, sin, T, hd);
  const rows = tf.reshape(x, [B * n * T, hd]);
  const swapped = tf.reshape(tf.matMul(rows, P), [B, n, T, hd]);
  return tf.add(tf.mul(x, C), tf.mul(swapped, S));
}

/** C, S `[T, hd]` (each pair's cos / sin twice) and the pair-swap matrix P `[hd, hd]` of interleaved RoPE. */
function interleavedRopeTables(cos: Float32Array, sin: Float32Array, T: number, hd: number): { C: tf.Tensor2D; S: tf.Tensor2D; P: tf.Tensor2D } {
  const half = hd / 2;
  const C = new Float32Array(T * hd);
  const S = new Float32Array(T * hd);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < half; j++) {
      C[t * hd + 2 * j] = C[t * hd + 2 * j + 1] = cos[t * half + j];
      S[t * hd + 2 * j] = S[t * hd + 2 * j + 1] = sin[t * half + j];
    }
  }
  const P = new Float32Array(hd * hd);
  for (let j = 0; j < half; j++) {
    P[(2 * j + 1) * hd + 2 * j] = -1; // (x·P)[2j] = −x[2j+1]
    P[2 * j * hd + 2 * j + 1] = 1; // (x·P)[2j+1] = x[2j]
  }
  return { C: tf.tensor2d(C, [T, hd]), S: tf.tensor2d(S, [T, hd]), P: tf.tensor2d(P, [hd, hd]) };
}

/**
 * Builds a Llama. `logits(p, x)`: x `[B, T]` int32 ids (T ≤ ctx) → `[B, T, V]`.
 * Token ids are not range-checked on the device (that would need a sync).
 */
export function llama(config: LlamaConfig): Model<LlamaConfig> {
  validateLlamaConfig(config);
  const { dim, heads: H, kvHeads: Hkv, layers: L, ctx, normEps: eps } = config;
  const hd = dim / H;
  const spec = llamaSpec(config);
  const invFreq = ropeInvFreq(hd, config.ropeTheta, config.ropeScaling);
  const tables = new Map<number, { cos: Float32Array; sin: Float32Array }>();
  const ropeTables = (T: number) => {
    let t = tables.get(T);
    if (!t) {
      const cos = new Float32Array(T * (hd / 2));
      const sin = new Float32Array(T * (hd / 2));
      for (let p = 0; p < T; p++) {
        for (let j = 0; j < hd / 2; j++) {
          const a = p * invFreq[j];
          cos[p * (hd / 2) + j] = Math.cos(a);
          sin[p * (hd / 2) + j] = Math.sin(a);
        }
      }
      t = { cos, sin };
      tables.set(T, t);
    }
    return t;
  };

  const logits = (p: Params, x: tf.Tensor): tf.Tensor => {
    checkTokenInput(x, ctx, 'llama.logits');
    const [B, T] = x.shape;
    const { cos, sin } = ropeTables(T);
    let h = tf.reshape(tf.gather(p.embed, x), [B * T, dim]);
    for (let i = 0; i < L; i++) {
      const l = `layers.${i}`;
      const a = rmsNorm(h, p[`${l}.attn_norm`], eps);
      const q = applyRope(splitHeads(tf.matMul(a, p[`${l}.attn.wq`]), B, T, H), cos, sin, config.ropeStyle);
      const k = applyRope(splitHeads(tf.matMul(a, p[`${l}.attn.wk`]), B, T, Hkv), cos, sin, config.ropeStyle);
      const v = splitHeads(tf.matMul(a, p[`${l}.attn.wv`]), B, T, Hkv);
      h = tf.add(h, tf.matMul(mergeHeads(causalAttention(q, k, v)), p[`${l}.attn.wo`]));
      const m = rmsNorm(h, p[`${l}.ffn_norm`], eps);
      const g = tf.mul(silu(tf.matMul(m, p[`${l}.mlp.w_gate`])), tf.matMul(m, p[`${l}.mlp.w_up`]));
      h = tf.add(h, tf.matMul(g, p[`${l}.mlp.w_down`]));
    }
    h = rmsNorm(h, p.norm, eps);
    const z = config.tiedEmbeddings ? mm(h, p.embed, false, true) : tf.matMul(h, p.head);
    return tf.reshape(z, [B, T, config.vocab]);
  };

  return {
    family: 'llama',
    config,
    spec,
    init(rng: Rng): Params {
      const r = rng.child('llama-init');
      const out: Params = {};
      for (const s of spec) {
        if (s.shape.length === 1) out[s.name] = init.ones(s.shape);
        else out[s.name] = init.normal(r.child(s.name), s.shape, 0.02);
      }
      return out;
    },
    logits,
    perExampleLoss(p: Params, batch: Batch): tf.Tensor1D {
      return sequenceLoss(logits(p, batch.x), batch.y, batch.mask);
    },
  };
}
