/**
 * Hugging Face checkpoint names ↔ our parameter names, and loading / saving HF-layout safetensors.
 *
 * GPT-2 (`GPT2LMHeadModel`): ours `X.w` ↔ `transformer.X.weight`, `X.b` ↔ `transformer.X.bias`,
 * `wte`/`wpe` ↔ `transformer.wte.weight`/`transformer.wpe.weight`. HF GPT-2 uses Conv1D, whose weights
 * are already `[in, out]`: no transposes. Files saved from `GPT2Model` (e.g. the hub's `gpt2`) lack
 * the `transformer.` prefix; both are accepted. Buffers `h.N.attn.bias` / `h.N.attn.masked_bias` and
 * the tied `lm_head.weight` are ignored.
 *
 * Llama (`LlamaForCausalLM`): see the table in llama.ts. HF `nn.Linear` weights are `[out, in]` and are
 * transposed to our `[in, out]`. HF q/k weights are in rotate-half RoPE layout: a model whose config
 * says `ropeStyle: 'interleaved'` gets its `wq`/`wk` columns permuted on load (and back on save), so
 * either style computes the checkpoint's function. `rotary_emb.inv_freq` buffers are ignored, as is
 * `lm_head.weight` when the config is tied.
 *
 * @module
 */
import { tf } from '../runtime/tf.ts';
import type { Gpt2Config } from './gpt2.ts';
import { ropeColumnPermutation, type LlamaConfig, type RopeStyle } from './llama.ts';
import {
  readSafetensors,
  tensorData,
  writeSafetensors,
  type HostTensor,
  type SafetensorsFile,
} from './safetensors.ts';
import type { Model, Params } from './types.ts';

/** Where one of our parameters lives in an HF checkpoint. */
export interface HfTensorRef {
  /** Canonical HF name (what we write). */
  name: string;
  /** Other names accepted when reading (e.g. without the `transformer.` prefix). */
  aliases: string[];
  /** HF stores the transpose of our `[in, out]` matrix. */
  transpose: boolean;
  /** Columns (of our `[in, out]` layout) to permute for RoPE style, as `[heads]`; absent otherwise. */
  ropeHeads?: number;
}

const LLAMA_LAYER: Record<string, [string, boolean]> = {
  attn_norm: ['input_layernorm.weight', false],
  'attn.wq': ['self_attn.q_proj.weight', true],
  'attn.wk': ['self_attn.k_proj.weight', true],
  'attn.wv': ['self_attn.v_proj.weight', true],
  'attn.wo': ['self_attn.o_proj.weight', true],
  ffn_norm: ['post_attention_layernorm.weight', false],
  'mlp.w_gate': ['mlp.gate_proj.weight', true],
  'mlp.w_up': ['mlp.up_proj.weight', true],
  'mlp.w_down': ['mlp.down_proj.weight', true],
};

/**
 * HF location of one of our parameters.
 * @throws for a name that is not a parameter of the family
 */
export function hfTensorRef(model: Model, ours: string): HfTensorRef {
  if (model.family === 'gpt2') {
    let base: string;
    if (ours === 'wte' || ours === 'wpe') base = `${ours}.weight`;
    else if (ours.endsWith('.w')) base = `${ours.slice(0, -2)}.weight`;
    else if (ours.endsWith('.b')) base = `${ours.slice(0, -2)}.bias`;
    else throw new Error(`hf: '${ours}' is not a gpt2 parameter name`);
    return { name: `transformer.${base}`, aliases: [base], transpose: false };
  }
  if (model.family === 'llama') {
    const c = model.config as LlamaConfig;
    if (ours === 'embed') return { name: 'model.embed_tokens.weight', aliases: [], transpose: false };
    if (ours === 'norm') return { name: 'model.norm.weight', aliases: [], transpose: false };
    if (ours === 'head') return { name: 'lm_head.weight', aliases: [], transpose: true };
    const m = /^layers\.(\d+)\.(.+)$/.exec(ours);
    const entry = m && LLAMA_LAYER[m[2]];
    if (!m || !entry) throw new Error(`hf: '${ours}' is not a llama parameter name`);
    const ref: HfTensorRef = { name: `model.layers.${m[1]}.${entry[0]}`, aliases: [], transpose: entry[1] };
    if (m[2] === 'attn.wq') ref.ropeHeads = c.heads;
    if (m[2] === 'attn.wk') ref.ropeHeads = c.kvHeads;
    return ref;
  }
  throw new Error(`hf: no Hugging Face name mapping for model family '${model.family}' (gpt2, llama)`);
}

/** HF tensors that are not parameters (buffers, tied duplicates) and are skipped when loading. */
function ignorable(model: Model, name: string): boolean {
  if (model.family === 'gpt2') return /(^|\.)attn\.(masked_)?bias$/.test(name) || name === 'lm_head.weight';
  if (model.family === 'llama') {
    return /rotary_emb\.inv_freq$/.test(name) || (name === 'lm_head.weight' && (model.config as LlamaConfig).tiedEmbeddings);
  }
  return false;
}

function transpose2d(a: Float32Array, r: number, c: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = a[i * c + j];
  return out;
}

function permuteCols(a: Float32Array, rows: number, perm: number[]): Float32Array {
  const cols = perm.length;
  const out = new Float32Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = a[i * cols + perm[j]];
  return out;
}

function isSafetensorsFile(x: unknown): x is SafetensorsFile {
  return typeof x === 'object' && x !== null && 'entries' in x && 'names' in x;
}

function headDim(model: Model): number {
  const c = model.config as LlamaConfig;
  return c.dim / c.heads;
}

/** Options of {@link loadHfParams} / {@link hfTensors}. */
export interface HfOptions {
  /** RoPE layout of the checkpoint's q/k weights (Llama only; default `'half'`, HF's convention). */
  checkpointRopeStyle?: RopeStyle;
}

/**
 * Loads an HF-layout safetensors checkpoint into our parameter record for `model` (gpt2 or llama),
 * transposing / permuting as documented above. Every name and shape is validated.
 * @throws `missing tensor X`, `shape mismatch`, or `unexpected tensors …` naming the file
 */
export function loadHfParams(
  model: Model,
  source: string | Uint8Array | SafetensorsFile,
  opt: HfOptions = {},
): Params {
  const f: SafetensorsFile = isSafetensorsFile(source) ? source : readSafetensors(source);
  const used = new Set<string>();
  const host: { name: string; shape: number[]; data: Float32Array }[] = [];
  for (const s of model.spec) {
    const ref = hfTensorRef(model, s.name);
    const found = [ref.name, ...ref.aliases].find((n) => f.entries.has(n));
    if (!found) throw new Error(`hf checkpoint '${f.source}': missing tensor '${ref.name}' (for parameter '${s.name}')`);
    used.add(found);
    const e = f.entries.get(found)!;
    const want = ref.transpose ? [...s.shape].reverse() : s.shape;
    if (e.shape.length !== want.length || e.shape.some((d, i) => d !== want[i])) {
      throw new Error(`hf checkpoint '${f.source}': shape mismatch for '${found}': [${e.shape}] in the file, expected [${want}] (parameter '${s.name}' [${s.shape}])`);
    }
    const raw = tensorData(f, found);
    let data = raw instanceof Float32Array ? raw : Float32Array.from(raw);
    if (ref.transpose) data = transpose2d(data, want[0], want[1]);
    const from = opt.checkpointRopeStyle ?? 'half';
    if (ref.ropeHeads !== undefined && model.family === 'llama') {
      const to = (model.config as LlamaConfig).ropeStyle;
      if (from !== to) data = permuteCols(data, s.shape[0], ropeColumnPermutation(ref.ropeHeads, headDim(model), from, to));
    }
    host.push({ name: s.name, shape: s.shape, data });
  }
  const extra = f.names.filter((n) => !used.has(n) && !ignorable(model, n));
  if (extra.length) {
    throw new Error(`hf checkpoint '${f.source}': unexpected tensors ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ` (+${extra.length - 5} more)` : ''} for ${model.family} config ${JSON.stringify(model.config)}`);
  }
  const params: Params = {};
  for (const h of host) params[h.name] = tf.tensor(h.data, h.shape, 'float32');
  return params;
}

/**
 * Our parameters as HF-named host tensors (inverse of {@link loadHfParams}), in spec order.
 * One `dataSync` per parameter.
 */
export function hfTensors(model: Model, params: Params, opt: HfOptions = {}): Array<[string, HostTensor]> {
  return model.spec.map((s) => {
    const t = params[s.name];
    if (!t) throw new Error(`hfTensors: missing parameter '${s.name}'`);
    const ref = hfTensorRef(model, s.name);
    let data = t.dataSync() as Float32Array;
    if (ref.ropeHeads !== undefined && model.family === 'llama') {
      const from = (model.config as LlamaConfig).ropeStyle;
      const to = opt.checkpointRopeStyle ?? 'half';
      if (from !== to) data = permuteCols(data, s.shape[0], ropeColumnPermutation(ref.ropeHeads, headDim(model), from, to));
    }
    if (ref.transpose) data = transpose2d(data, s.shape[0], s.shape[1]);
    return [ref.name, { shape: ref.transpose ? [...s.shape].reverse() : s.shape, data }];
  });
}

/** Writes `params` as an HF-layout safetensors file (atomic), `__metadata__.format = "pt"`. */
export function saveHfCheckpoint(path: string, model: Model, params: Params, opt: HfOptions = {}): void {
  writeSafetensors(path, hfTensors(model, params, opt), { format: 'pt' });
}

/** HF `config.json` fields for a config (enough for `from_pretrained` with the weights from {@link saveHfCheckpoint}). */
export function hfConfigJson(model: Model): Record<string, unknown> {
  if (model.family === 'gpt2') {
    const c = model.config as Gpt2Config;
    return {
      architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', vocab_size: c.vocab, n_positions: c.ctx,
      n_embd: c.d, n_head: c.heads, n_layer: c.layers, activation_function: 'gelu_new', layer_norm_epsilon: 1e-5,
      tie_word_embeddings: true,
    };
  }
  if (model.family === 'llama') {
    const c = model.config as LlamaConfig;
    const s = c.ropeScaling;
    return {
      architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: c.vocab, max_position_embeddings: c.ctx,
      hidden_size: c.dim, intermediate_size: c.hidden, num_hidden_layers: c.layers, num_attention_heads: c.heads,
      num_key_value_heads: c.kvHeads, head_dim: c.dim / c.heads, rms_norm_eps: c.normEps, rope_theta: c.ropeTheta,
      rope_scaling: s
        ? { rope_type: 'llama3', factor: s.factor, low_freq_factor: s.lowFreqFactor, high_freq_factor: s.highFreqFactor, original_max_position_embeddings: s.originalMaxPositionEmbeddings }
        : null,
      tie_word_embeddings: c.tiedEmbeddings, hidden_act: 'silu', attention_bias: false, mlp_bias: false,
    };
  }
  throw new Error(`hfConfigJson: unsupported model family '${model.family}'`);
}

function field(json: Record<string, unknown>, key: string, where: string, fallback?: unknown): unknown {
  const v = json[key] ?? fallback;
  if (v === undefined) throw new Error(`${where}: missing field '${key}'`);
  return v;
}

/** GPT-2 config from an HF `config.json` object (inverse of {@link hfConfigJson}). */
export function gpt2ConfigFromHf(json: Record<string, unknown>, where = 'hf config.json'): Gpt2Config {
  const act = json.activation_function ?? 'gelu_new';
  if (act !== 'gelu_new') throw new Error(`${where}: activation_function '${String(act)}' is not supported (gelu_new)`);
  return {
    vocab: field(json, 'vocab_size', where) as number,
    ctx: field(json, 'n_positions', where) as number,
    d: field(json, 'n_embd', where) as number,
    heads: field(json, 'n_head', where) as number,
    layers: field(json, 'n_layer', where) as number,
  };
}

/**
 * Llama config from an HF `config.json` object. RoPE style is `'half'` (HF layout); `rope_scaling`
 * must be absent/null or of type `llama3`; `head_dim`, when given, must equal hidden/heads.
 */
export function llamaConfigFromHf(json: Record<string, unknown>, where = 'hf config.json'): LlamaConfig {
  const dim = field(json, 'hidden_size', where) as number;
  const heads = field(json, 'num_attention_heads', where) as number;
  if (json.head_dim !== undefined && json.head_dim !== dim / heads) {
    throw new Error(`${where}: head_dim ${String(json.head_dim)} ≠ hidden_size/num_attention_heads = ${dim / heads} (not supported)`);
  }
  const act = json.hidden_act ?? 'silu';
  if (act !== 'silu') throw new Error(`${where}: hidden_act '${String(act)}' is not supported (silu)`);
  if (json.attention_bias || json.mlp_bias) throw new Error(`${where}: attention_bias / mlp_bias are not supported`);
  const rs = json.rope_scaling as Record<string, unknown> | null | undefined;
  let ropeScaling: LlamaConfig['ropeScaling'] = null;
  if (rs) {
    const type = rs.rope_type ?? rs.type;
    if (type !== 'llama3') throw new Error(`${where}: rope_scaling type '${String(type)}' is not supported (llama3)`);
    ropeScaling = {
      factor: field(rs, 'factor', `${where} rope_scaling`) as number,
      lowFreqFactor: field(rs, 'low_freq_factor', `${where} rope_scaling`) as number,
      highFreqFactor: field(rs, 'high_freq_factor', `${where} rope_scaling`) as number,
      originalMaxPositionEmbeddings: field(rs, 'original_max_position_embeddings', `${where} rope_scaling`) as number,
    };
  }
  return {
    vocab: field(json, 'vocab_size', where) as number,
    ctx: field(json, 'max_position_embeddings', where) as number,
    dim,
    layers: field(json, 'num_hidden_layers', where) as number,
    heads,
    kvHeads: field(json, 'num_key_value_heads', where, heads) as number,
    hidden: field(json, 'intermediate_size', where) as number,
    normEps: field(json, 'rms_norm_eps', where, 1e-6) as number,
    ropeTheta: field(json, 'rope_theta', where, 10000) as number,
    ropeStyle: 'half',
    ropeScaling,
    tiedEmbeddings: field(json, 'tie_word_embeddings', where, false) as boolean,
  };
}
