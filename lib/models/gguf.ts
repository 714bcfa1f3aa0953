/**
 * GGUF (v2 / v3) reader and the mapping of GGUF `llama` checkpoints onto {@link llama} parameters.
 *
 * File layout (little-endian; https://github.com/ggml-org/ggml/blob/master/docs/gguf.md):
 * `"GGUF"` · u32 version · u64 tensor count · u64 metadata count · metadata KVs
 * (string key, u32 value type, value) · tensor infos (string name, u32 n_dims, u64 dims[n_dims],
 * u32 ggml type, u64 offset) · padding to `general.alignment` (default 32) · tensor data.
 * Strings are u64 length + UTF-8 bytes; arrays are u32 element type + u64 count + elements.
 *
 * Dims are in ggml order `[ne0, ne1, …]` with ne0 the fastest-varying: read row-major, a tensor
 * listed as `[ne0, ne1]` is an `(ne1 × ne0)` matrix. ggml's `mul_mat(W, x)` contracts over ne0, so a
 * weight listed `[in, out]` is stored as `(out × in)`; our dense layers want `[in, out]` → transpose.
 *
 * Tensor data: F32, F16 and BF16 are decoded to float32; any quantised type raises an error naming
 * the tensor and its type.
 *
 * @module
 */
import * as fs from 'node:fs';
import { tf } from '../runtime/tf.ts';
import { bf16ToFloat32, halfToFloat32 } from './safetensors.ts';
import { llamaSpec, validateLlamaConfig, type LlamaConfig } from './llama.ts';
import type { Params } from './types.ts';

/** A metadata value (u64/i64 become `bigint` only when they exceed 2^53). */
export type GgufValue = number | bigint | boolean | string | GgufValue[];

/** One tensor's header entry. */
export interface GgufTensorInfo {
  name: string;
  /** ggml order `[ne0, ne1, …]` (ne0 fastest). */
  dims: number[];
  /** ggml type id (0 = F32, 1 = F16, 30 = BF16, …). */
  type: number;
  /** Human-readable type name. */
  typeName: string;
  /** Byte offset relative to the start of the data section. */
  offset: number;
}

/** A parsed GGUF file (tensor data decoded on demand by {@link ggufTensor}). */
export interface GgufFile {
  source: string;
  version: number;
  metadata: Record<string, GgufValue>;
  tensors: GgufTensorInfo[];
  alignment: number;
  /** Absolute offset of the tensor data section. */
  dataOffset: number;
  bytes: Uint8Array;
}

/** ggml tensor type names by id (ggml.h `enum ggml_type`). */
export const GGML_TYPE_NAMES: Record<number, string> = {
  0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 6: 'Q5_0', 7: 'Q5_1', 8: 'Q8_0', 9: 'Q8_1', 10: 'Q2_K',
  11: 'Q3_K', 12: 'Q4_K', 13: 'Q5_K', 14: 'Q6_K', 15: 'Q8_K', 16: 'IQ2_XXS', 17: 'IQ2_XS', 18: 'IQ3_XXS',
  19: 'IQ1_S', 20: 'IQ4_NL', 21: 'IQ3_S', 22: 'IQ2_S', 23: 'IQ4_XS', 24: 'I8', 25: 'I16', 26: 'I32',
  27: 'I64', 28: 'F64', 29: 'IQ1_M', 30: 'BF16', 34: 'TQ1_0', 35: 'TQ2_0', 39: 'MXFP4',
};

const DECODABLE: Record<number, number> = { 0: 4, 1: 2, 30: 2 };

/** Smallest encoding of one metadata value of each type (bytes), to bound array counts by the file size. */
const VT_MIN_BYTES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 8: 8, 10: 8, 11: 8, 12: 8 };

/** GGUF metadata value type ids. */
const VT = {
  UINT8: 0, INT8: 1, UINT16: 2, INT16: 3, UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8,
  ARRAY: 9, UINT64: 10, INT64: 11, FLOAT64: 12,
} as const;

class Reader {
  pos = 0;
  private dv: DataView;
  private dec = new TextDecoder('utf-8');
  constructor(private bytes: Uint8Array, private where: string) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number, what: string): void {
    if (this.pos + n > this.bytes.length) {
      throw new Error(`gguf '${this.where}': unexpected end of file reading ${what} at byte ${this.pos} (file is ${this.bytes.length} bytes; truncated?)`);
    }
  }
  u8(w: string) { this.need(1, w); return this.dv.getUint8(this.pos++); }
  i8(w: string) { this.need(1, w); return this.dv.getInt8(this.pos++); }
  u16(w: string) { this.need(2, w); const v = this.dv.getUint16(this.pos, true); this.pos += 2; return v; }
  i16(w: string) { this.need(2, w); const v = this.dv.getInt16(this.pos, true); this.pos += 2; return v; }
  u32(w: string) { this.need(4, w); const v = this.dv.getUint32(this.pos, true); this.pos += 4; return v; }
  i32(w: string) { this.need(4, w); const v = this.dv.getInt32(this.pos, true); this.pos += 4; return v; }
  f32(w: string) { this.need(4, w); const v = this.dv.getFloat32(this.pos, true); this.pos += 4; return v; }
  f64(w: string) { this.need(8, w); const v = this.dv.getFloat64(this.pos, true); this.pos += 8; return v; }
  u64(w: string): number | bigint {
    this.need(8, w);
    const v = this.dv.getBigUint64(this.pos, true);
    this.pos += 8;
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  i64(w: string): number | bigint {
    this.need(8, w);
    const v = this.dv.getBigInt64(this.pos, true);
    this.pos += 8;
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
  }
  /** A u64 that must be a usable size/count. */
  size(w: string): number {
    const v = this.u64(w);
    if (typeof v === 'bigint' || v > this.bytes.length * 8 + 1e6) {
      throw new Error(`gguf '${this.where}': implausible ${w} ${v} at byte ${this.pos - 8} (corrupt file?)`);
    }
    return v;
  }
  /**
   * A u64 count of items that take at least `minBytes` each in the rest of the file: a header cannot claim more
   * items than the file can hold (checked before anything is allocated).
   */
  count(w: string, minBytes: number): number {
    const at = this.pos;
    const v = this.u64(w);
    const room = Math.floor((this.bytes.length - this.pos) / minBytes);
    if (typeof v === 'bigint' || v > room) {
      throw new Error(`gguf '${this.where}': ${w} ${v} at byte ${at} cannot fit in the ${this.bytes.length - this.pos} bytes that follow (at least ${minBytes} bytes each; corrupt file?)`);
    }
    return v;
  }
  str(w: string): string {
    const n = this.size(`${w} length`);
    this.need(n, w);
    const s = this.dec.decode(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
  value(type: number, w: string): GgufValue {
    switch (type) {
      case VT.UINT8: return this.u8(w);
      case VT.INT8: return this.i8(w);
      case VT.UINT16: return this.u16(w);
      case VT.INT16: return this.i16(w);
      case VT.UINT32: return this.u32(w);
      case VT.INT32: return this.i32(w);
      case VT.FLOAT32: return this.f32(w);
      case VT.BOOL: {
        const b = this.u8(w);
        if (b > 1) throw new Error(`gguf '${this.where}': ${w}: bool byte must be 0 or 1, got ${b}`);
        return b === 1;
      }
      case VT.STRING: return this.str(w);
      case VT.UINT64: return this.u64(w);
      case VT.INT64: return this.i64(w);
      case VT.FLOAT64: return this.f64(w);
      case VT.ARRAY: {
        const et = this.u32(`${w} element type`);
        if (et === VT.ARRAY) throw new Error(`gguf '${this.where}': ${w}: nested arrays are not supported`);
        const n = this.count(`${w} element count`, VT_MIN_BYTES[et] ?? 1);
        const out: GgufValue[] = new Array(n);
        for (let i = 0; i < n; i++) out[i] = this.value(et, w);
        return out;
      }
      default:
        throw new Error(`gguf '${this.where}': ${w}: unknown metadata value type ${type} at byte ${this.pos - 4}`);
    }
  }
}

/**
 * Parses a GGUF file's header, metadata and tensor infos, and validates tensor byte ranges.
 * @param source file path or the file's bytes
 * @param label name used in error messages when `source` is bytes
 */
export function readGguf(source: string | Uint8Array, label?: string): GgufFile {
  let bytes: Uint8Array;
  let where = label ?? '<bytes>';
  if (typeof source === 'string') {
    where = label ?? source;
    try {
      bytes = new Uint8Array(fs.readFileSync(source));
    } catch (e) {
      throw new Error(`gguf: cannot read '${source}': ${(e as Error).message}`);
    }
  } else {
    bytes = source;
  }
  const r = new Reader(bytes, where);
  r.need(4, 'magic');
  const magic = String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]);
  if (magic !== 'GGUF') {
    throw new Error(`gguf '${where}': bad magic ${JSON.stringify(magic)} (bytes ${[...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}), expected "GGUF"`);
  }
  r.pos = 4;
  const version = r.u32('version');
  if (version !== 2 && version !== 3) {
    throw new Error(`gguf '${where}': version ${version} is not supported (2 or 3)`);
  }
  // Each tensor info takes ≥ 24 bytes (name length, n_dims, type, offset); each metadata entry ≥ 13.
  const nTensors = r.count('tensor count', 24);
  const nKv = r.count('metadata count', 13);
  const metadata: Record<string, GgufValue> = {};
  for (let i = 0; i < nKv; i++) {
    const key = r.str(`metadata key #${i}`);
    const type = r.u32(`type of metadata '${key}'`);
    metadata[key] = r.value(type, `metadata '${key}'`);
  }
  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = r.str(`tensor #${i} name`);
    const nd = r.u32(`tensor '${name}' n_dims`);
    if (nd > 8) throw new Error(`gguf '${where}': tensor '${name}' has ${nd} dims (max 8; corrupt file?)`);
    const dims: number[] = [];
    for (let d = 0; d < nd; d++) dims.push(r.size(`tensor '${name}' dim ${d}`));
    const type = r.u32(`tensor '${name}' type`);
    const offset = r.size(`tensor '${name}' offset`);
    tensors.push({ name, dims, type, typeName: GGML_TYPE_NAMES[type] ?? `unknown(${type})`, offset });
  }
  const al = metadata['general.alignment'];
  const alignment = al === undefined ? 32 : Number(al);
  if (!Number.isInteger(alignment) || alignment <= 0 || alignment & (alignment - 1)) {
    throw new Error(`gguf '${where}': general.alignment must be a power of two, got ${String(al)}`);
  }
  const dataOffset = Math.ceil(r.pos / alignment) * alignment;
  for (const t of tensors) {
    if (t.offset % alignment) {
      throw new Error(`gguf '${where}': tensor '${t.name}' offset ${t.offset} is not a multiple of the alignment ${alignment}`);
    }
    const el = DECODABLE[t.type];
    if (el !== undefined) {
      const end = dataOffset + t.offset + numel(t.dims) * el;
      if (end > bytes.length) {
        throw new Error(`gguf '${where}': tensor '${t.name}' (${t.typeName} [${t.dims}]) ends at byte ${end}, past the end of the ${bytes.length}-byte file (truncated?)`);
      }
    }
  }
  return { source: where, version, metadata, tensors, alignment, dataOffset, bytes };
}

function numel(d: number[]): number {
  return d.reduce((a, b) => a * b, 1);
}

/**
 * Decodes one tensor to float32.
 * @returns `data` row-major and `shape` = the ggml dims reversed (`[ne1, ne0]` for a matrix)
 * @throws for a missing tensor or a type other than F32 / F16 / BF16
 */
export function ggufTensor(file: GgufFile, name: string): { data: Float32Array; shape: number[] } {
  const t = file.tensors.find((x) => x.name === name);
  if (!t) throw new Error(`gguf '${file.source}': missing tensor '${name}'`);
  const el = DECODABLE[t.type];
  if (el === undefined) {
    throw new Error(`gguf '${file.source}': tensor '${name}' has type ${t.typeName} (id ${t.type}); only F32, F16 and BF16 are supported (dequantise the model, e.g. llama.cpp's convert with --outtype f32)`);
  }
  const n = numel(t.dims);
  const start = file.dataOffset + t.offset;
  const raw = file.bytes.slice(start, start + n * el); // copy: aligned, independent of the file
  let data: Float32Array;
  if (t.type === 0) data = new Float32Array(raw.buffer, 0, n);
  else if (t.type === 1) data = halfToFloat32(new Uint16Array(raw.buffer, 0, n));
  else data = bf16ToFloat32(new Uint16Array(raw.buffer, 0, n));
  return { data, shape: [...t.dims].reverse() };
}

/** Row-major transpose of an `(r × c)` matrix. */
function transpose2d(a: Float32Array, r: number, c: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = a[i * c + j];
  return out;
}

function metaNum(g: GgufFile, key: string, fallback?: number): number {
  const v = g.metadata[key];
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    throw new Error(`gguf '${g.source}': missing metadata '${key}'`);
  }
  if (typeof v !== 'number') throw new Error(`gguf '${g.source}': metadata '${key}' must be a number, got ${JSON.stringify(String(v))}`);
  return v;
}

/**
 * Builds a {@link LlamaConfig} and parameter record from a GGUF `llama` checkpoint.
 *
 * Mapping (ggml dims → our shapes): `token_embd.weight` `[dim, V]` → `embed` `[V, dim]` as is;
 * `blk.N.attn_{q,k,v,output}.weight`, `blk.N.ffn_{gate,up,down}.weight` `[in, out]` → transposed to
 * `[in, out]` row-major; `output.weight` → `head` `[dim, V]` (transposed); norms as is. RoPE is
 * `'interleaved'` (llama.cpp's normal mode). When `output.weight` is absent or bit-equal to
 * `token_embd.weight` the config is tied (no `head`). `ctx` is `llama.context_length`.
 * Tensors are created with `tf.tensor`: dispose them (or the record) when done.
 */
export function ggufToLlama(g: GgufFile): { config: LlamaConfig; params: Params } {
  const arch = g.metadata['general.architecture'];
  if (arch !== 'llama') throw new Error(`gguf '${g.source}': general.architecture is ${JSON.stringify(arch)}, expected "llama"`);
  const dim = metaNum(g, 'llama.embedding_length');
  const heads = metaNum(g, 'llama.attention.head_count');
  const emb = ggufTensor(g, 'token_embd.weight');
  const vocab = emb.shape[0];
  const hd = dim / heads;
  const ropeDims = metaNum(g, 'llama.rope.dimension_count', hd);
  if (ropeDims !== hd) {
    throw new Error(`gguf '${g.source}': llama.rope.dimension_count ${ropeDims} ≠ head dim ${hd} (partial rotary embeddings are not supported)`);
  }
  const scaling = g.metadata['llama.rope.scaling.type'];
  if (scaling !== undefined && scaling !== 'none') {
    throw new Error(`gguf '${g.source}': llama.rope.scaling.type ${JSON.stringify(scaling)} is not supported`);
  }
  const out = g.tensors.find((t) => t.name === 'output.weight') ? ggufTensor(g, 'output.weight') : undefined;
  const tied = !out || bitEqual(out.data, emb.data);
  const config: LlamaConfig = {
    vocab,
    ctx: metaNum(g, 'llama.context_length'),
    dim,
    layers: metaNum(g, 'llama.block_count'),
    heads,
    kvHeads: metaNum(g, 'llama.attention.head_count_kv', heads),
    hidden: metaNum(g, 'llama.feed_forward_length'),
    normEps: metaNum(g, 'llama.attention.layer_norm_rms_epsilon'),
    ropeTheta: metaNum(g, 'llama.rope.freq_base', 10000),
    ropeStyle: 'interleaved',
    ropeScaling: null,
    tiedEmbeddings: tied,
  };
  validateLlamaConfig(config);
  // A header can claim any block count: check that the file holds every block's tensors before building anything.
  const names = new Set(g.tensors.map((t) => t.name));
  const perBlock = ['attn_norm', 'attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_norm', 'ffn_gate', 'ffn_up', 'ffn_down'];
  if (config.layers * perBlock.length > g.tensors.length) {
    throw new Error(`gguf '${g.source}': llama.block_count ${config.layers} needs ${config.layers * perBlock.length} block tensors, the file lists ${g.tensors.length} tensors in all`);
  }
  for (let i = 0; i < config.layers; i++) {
    const miss = perBlock.find((n) => !names.has(`blk.${i}.${n}.weight`));
    if (miss) throw new Error(`gguf '${g.source}': missing tensor 'blk.${i}.${miss}.weight' (llama.block_count is ${config.layers})`);
  }
  const spec = llamaSpec(config);
  const host: Record<string, Float32Array> = {};
  const take = (ggName: string, ours: string, transpose: boolean) => {
    const t = ggufTensor(g, ggName);
    const want = spec.find((s) => s.name === ours)!.shape;
    // Row-major shape of the ggml tensor is the reverse of ours when a transpose is needed.
    const expect = transpose ? [...want].reverse() : want;
    if (t.shape.length !== expect.length || t.shape.some((d, i) => d !== expect[i])) {
      throw new Error(`gguf '${g.source}': tensor '${ggName}' has ggml dims [${[...t.shape].reverse()}], expected [${[...expect].reverse()}] for '${ours}'`);
    }
    host[ours] = transpose ? transpose2d(t.data, t.shape[0], t.shape[1]) : t.data;
  };
  host.embed = emb.data;
  for (let i = 0; i < config.layers; i++) {
    const b = `blk.${i}`;
    const l = `layers.${i}`;
    take(`${b}.attn_norm.weight`, `${l}.attn_norm`, false);
    take(`${b}.attn_q.weight`, `${l}.attn.wq`, true);
    take(`${b}.attn_k.weight`, `${l}.attn.wk`, true);
    take(`${b}.attn_v.weight`, `${l}.attn.wv`, true);
    take(`${b}.attn_output.weight`, `${l}.attn.wo`, true);
    take(`${b}.ffn_norm.weight`, `${l}.ffn_norm`, false);
    take(`${b}.ffn_gate.weight`, `${l}.mlp.w_gate`, true);
    take(`${b}.ffn_up.weight`, `${l}.mlp.w_up`, true);
    take(`${b}.ffn_down.weight`, `${l}.mlp.w_down`, true);
  }
  take('output_norm.weight', 'norm', false);
  if (!tied) take('output.weight', 'head', true);
  // Anything left over (e.g. Llama-3 `rope_freqs.weight`, biases) would be silently dropped: refuse.
  const known = new Set(['token_embd.weight', 'output.weight', 'output_norm.weight']);
  for (let i = 0; i < config.layers; i++) {
    for (const n of ['attn_norm', 'attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_norm', 'ffn_gate', 'ffn_up', 'ffn_down']) {
      known.add(`blk.${i}.${n}.weight`);
    }
  }
  const extra = g.tensors.map((t) => t.name).filter((n) => !known.has(n));
  if (extra.length) {
    throw new Error(`gguf '${g.source}': tensors not supported by the llama mapping: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''}`);
  }
  const params: Params = {};
  for (const s of spec) params[s.name] = tf.tensor(host[s.name], s.shape, 'float32');
  return { config, params };
}

function bitEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
