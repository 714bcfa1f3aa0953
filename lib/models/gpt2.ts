/**
 * GPT-2 as pure functions of a parameter record (pre-LN transformer, learned positions, tied head).
 *
 * Parameters (ours → Hugging Face `GPT2LMHeadModel`, see hf.ts; HF's Conv1D stores weights as
 * `[in, out]`, exactly our layout, so no transposes are needed):
 *
 * | ours                      | shape      | Hugging Face                                 |
 * |---------------------------|------------|----------------------------------------------|
 * | `wte`                     | `[V, d]`   | `transformer.wte.weight`                     |
 * | `wpe`                     | `[Tmax, d]`| `transformer.wpe.weight`                     |
 * | `h.{i}.ln_1.w` / `.b`     | `[d]`      | `transformer.h.{i}.ln_1.weight` / `.bias`    |
 * | `h.{i}.attn.c_attn.w`/`.b`| `[d, 3d]`/`[3d]` | `transformer.h.{i}.attn.c_attn.weight` / `.bias` |
 * | `h.{i}.attn.c_proj.w`/`.b`| `[d, d]`/`[d]`   | `transformer.h.{i}.attn.c_proj.weight` / `.bias` |
 * | `h.{i}.ln_2.w` / `.b`     | `[d]`      | `transformer.h.{i}.ln_2.weight` / `.bias`    |
 * | `h.{i}.mlp.c_fc.w`/`.b`   | `[d, 4d]`/`[4d]` | `transformer.h.{i}.mlp.c_fc.weight` / `.bias` |
 * | `h.{i}.mlp.c_proj.w`/`.b` | `[4d, d]`/`[d]`  | `transformer.h.{i}.mlp.c_proj.weight` / `.bias` |
 * | `ln_f.w` / `.b`           | `[d]`      | `transformer.ln_f.weight` / `.bias`          |
 *
 * `c_attn` packs q, k, v along its output axis in that order, heads contiguous inside each (as HF).
 * LayerNorm eps is 1e-5 (HF `layer_norm_epsilon`). Init follows GPT-2: N(0, 0.02) for embeddings and
 * weights, the two residual projections (`attn.c_proj.w`, `mlp.c_proj.w`) N(0, 0.02/√(2L)), biases 0,
 * LN gains 1.
 *
 * @module
 */
import { tf } from '../runtime/tf.ts';
import type { Rng } from '../runtime/rng.ts';
import {
  causalAttention,
  checkTokenInput,
  geluTanh,
  init,
  layerNorm,
  mergeHeads,
  mm,
  sequenceLoss,
  splitHeads,
} from './nn.ts';
import type { Batch, Model, ParamSpec, Params } from './types.ts';

/** GPT-2 configuration. */
export interface Gpt2Config {
  /** Vocabulary size V (GPT-2 BPE: 50257). */
  vocab: number;
  /** Maximum sequence length Tmax (rows of `wpe`). */
  ctx: number;
  /** Model width d. */
  d: number;
  /** Attention heads H (must divide d). */
  heads: number;
  /** Number of blocks L. */
  layers: number;
}

/**
 * Presets.
 * - `tiny`: for finite-difference / HVP tests (4,592 parameters).
 * - `small`: CPU scale with the full GPT-2 BPE vocabulary: 3,320,640 parameters, of which
 *   3,216,448 (97 %) are the tied embedding `wte`; ids are GPT-2's unchanged.
 * - `paper`: GPT-2 124M (124,439,808 parameters).
 */
export const GPT2_PRESETS: Record<string, Gpt2Config> = {
  tiny: { vocab: 64, ctx: 16, d: 16, heads: 2, layers: 1 },
  small: { vocab: 50257, ctx: 64, d: 64, heads: 4, layers: 2 },
  paper: { vocab: 50257, ctx: 1024, d: 768, heads: 12, layers: 12 },
};

/** Throws naming the first invalid field of a GPT-2 config. */
export function validateGpt2Config(c: Gpt2Config): void {
  for (const k of ['vocab', 'ctx', 'd', 'heads', 'layers'] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) {
      throw new Error(`gpt2 config: '${k}' must be a positive integer, got ${JSON.stringify(c[k])}`);
    }
  }
  if (c.d % c.heads) throw new Error(`gpt2 config: heads (${c.heads}) must divide d (${c.d})`);
}

/** Parameter names and shapes of a GPT-2 in canonical order. */
export function gpt2Spec(c: Gpt2Config): ParamSpec[] {
  const { vocab: V, ctx, d } = c;
  const spec: ParamSpec[] = [
    { name: 'wte', shape: [V, d] },
    { name: 'wpe', shape: [ctx, d] },
  ];
  for (let i = 0; i < c.layers; i++) {
    const h = `h.${i}`;
    spec.push(
      { name: `${h}.ln_1.w`, shape: [d] },
      { name: `${h}.ln_1.b`, shape: [d] },
      { name: `${h}.attn.c_attn.w`, shape: [d, 3 * d] },
      { name: `${h}.attn.c_attn.b`, shape: [3 * d] },
      { name: `${h}.attn.c_proj.w`, shape: [d, d] },
      { name: `${h}.attn.c_proj.b`, shape: [d] },
      { name: `${h}.ln_2.w`, shape: [d] },
      { name: `${h}.ln_2.b`, shape: [d] },
      { name: `${h}.mlp.c_fc.w`, shape: [d, 4 * d] },
      { name: `${h}.mlp.c_fc.b`, shape: [4 * d] },
      { name: `${h}.mlp.c_proj.w`, shape: [4 * d, d] },
      { name: `${h}.mlp.c_proj.b`, shape: [d] },
    );
  }
  spec.push({ name: 'ln_f.w', shape: [d] }, { name: 'ln_f.b', shape: [d] });
  return spec;
}

/**
 * Builds a GPT-2. `logits(p, x)`: x `[B, T]` int32 ids (T ≤ ctx) → `[B, T, V]`.
 * Token ids are not range-checked on the device (that would need a sync): ids ≥ V give garbage rows.
 */
export function gpt2(config: Gpt2Config): Model<Gpt2Config> {
  validateGpt2Config(config);
  const { d, heads: H, layers: L, ctx } = config;
  const spec = gpt2Spec(config);
  const LN_EPS = 1e-5;

  const logits = (p: Params, x: tf.Tensor): tf.Tensor => {
    checkTokenInput(x, ctx, 'gpt2.logits');
    const [B, T] = x.shape;
    const pos = tf.slice(p.wpe, [0, 0], [T, d]);
    // Residual stream kept as [B·T, d] so every projection is one rank-2 matMul.
    let h = tf.reshape(tf.add(tf.gather(p.wte, x), pos), [B * T, d]);
    for (let i = 0; i < L; i++) {
      const n = `h.${i}`;
      const a = layerNorm(h, p[`${n}.ln_1.w`], p[`${n}.ln_1.b`], LN_EPS);
      const qkv = tf.add(tf.matMul(a, p[`${n}.attn.c_attn.w`]), p[`${n}.attn.c_attn.b`]);
      const [q, k, v] = tf.split(qkv, 3, 1).map((t) => splitHeads(t, B, T, H));
      const att = mergeHeads(causalAttention(q, k, v));
      h = tf.add(h, tf.add(tf.matMul(att, p[`${n}.attn.c_proj.w`]), p[`${n}.attn.c_proj.b`]));
      const m = layerNorm(h, p[`${n}.ln_2.w`], p[`${n}.ln_2.b`], LN_EPS);
      const f = geluTanh(tf.add(tf.matMul(m, p[`${n}.mlp.c_fc.w`]), p[`${n}.mlp.c_fc.b`]));
      h = tf.add(h, tf.add(tf.matMul(f, p[`${n}.mlp.c_proj.w`]), p[`${n}.mlp.c_proj.b`]));
    }
    h = layerNorm(h, p['ln_f.w'], p['ln_f.b'], LN_EPS);
    // Tied head: logits = h · wteᵀ.
    return tf.reshape(mm(h, p.wte, false, true), [B, T, config.vocab]);
  };

  return {
    family: 'gpt2',
    config,
    spec,
    init(rng: Rng): Params {
      const r = rng.child('gpt2-init');
      const residStd = 0.02 / Math.sqrt(2 * L);
      const out: Params = {};
      for (const s of spec) {
        // One named stream per tensor: adding a parameter never shifts the others' values.
        const rs = r.child(s.name);
        if (/\.ln_\d\.w$|^ln_f\.w$/.test(s.name)) out[s.name] = init.ones(s.shape);
        else if (s.name.endsWith('.b')) out[s.name] = init.zeros(s.shape);
        else if (/c_proj\.w$/.test(s.name)) out[s.name] = init.normal(rs, s.shape, residStd);
        else out[s.name] = init.normal(rs, s.shape, 0.02);
      }
      return out;
    },
    logits,
    perExampleLoss(p: Params, batch: Batch): tf.Tensor1D {
      return sequenceLoss(logits(p, batch.x), batch.y, batch.mask);
    },
  };
}
