/** GGUF reader on hand-built files: every metadata type, alignment, F32/F16, errors; ggufToLlama mapping. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/runtime/backend.ts';
import { tf } from '../../lib/runtime/tf.ts';
import { Rng } from '../../lib/runtime/rng.ts';
import { ggufTensor, ggufToLlama, readGguf } from '../../lib/models/gguf.ts';
import { llama, type LlamaConfig } from '../../lib/models/llama.ts';

await initBackend({ backend: 'wasm' });

import { buildGguf, f32b, type Builder, type T } from './fixtures/gguf-builder.ts';

test('gguf: all metadata value types, alignment, F32 and F16 tensors', () => {
  const bytes = buildGguf([
    (b) => b.str('general.alignment').u32(4).u32(64),
    (b) => b.str('k.u8').u32(0).u8(250),
    (b) => b.str('k.i8').u32(1).u8(-3),
    (b) => b.str('k.u16').u32(2).u16(65000),
    (b) => b.str('k.i16').u32(3).i16(-30000),
    (b) => b.str('k.i32').u32(5).i32(-123456),
    (b) => b.str('k.f32').u32(6).f32(0.5),
    (b) => b.str('k.bool').u32(7).u8(1),
    (b) => b.str('k.str').u32(8).str('héllo ▁'),
    (b) => b.str('k.arr.str').u32(9).u32(8).u64(3).str('a').str('').str('<0x0A>'),
    (b) => b.str('k.arr.i32').u32(9).u32(5).u64(2).i32(-1).i32(7),
    (b) => b.str('k.u64').u32(10).u64(2n ** 40n),
    (b) => b.str('k.u64big').u32(10).u64(2n ** 63n),
    (b) => b.str('k.i64').u32(11).i64(-5),
    (b) => b.str('k.f64').u32(12).f64(1e-300),
  ], [
    { name: 'a', dims: [3, 2], type: 0, data: f32b([1, 2, 3, 4, 5, 6]) },
    { name: 'h', dims: [4], type: 1, data: new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3800, 0x0000]).buffer) },
  ], 64);
  const g = readGguf(bytes, 'hand.gguf');
  assert.equal(g.version, 3);
  assert.equal(g.alignment, 64);
  assert.equal(g.dataOffset % 64, 0);
  assert.deepEqual(g.metadata, {
    'general.alignment': 64, 'k.u8': 250, 'k.i8': -3, 'k.u16': 65000, 'k.i16': -30000, 'k.i32': -123456, 'k.f32': 0.5,
    'k.bool': true, 'k.str': 'héllo ▁', 'k.arr.str': ['a', '', '<0x0A>'], 'k.arr.i32': [-1, 7], 'k.u64': 2 ** 40,
    'k.u64big': 2n ** 63n, 'k.i64': -5, 'k.f64': 1e-300,
  });
  assert.deepEqual(g.tensors.map((t) => [t.name, t.typeName, t.dims, t.offset]), [['a', 'F32', [3, 2], 0], ['h', 'F16', [4], 64]]);
  const a = ggufTensor(g, 'a');
  assert.deepEqual(a.shape, [2, 3], 'ggml [ne0, ne1] is a (ne1 × ne0) row-major matrix');
  assert.deepEqual([...a.data], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...ggufTensor(g, 'h').data], [1, -2, 0.5, 0]);
  assert.throws(() => ggufTensor(g, 'zzz'), /gguf 'hand\.gguf': missing tensor 'zzz'/);
  // Version 2 has the same layout.
  assert.equal(readGguf(buildGguf([], [{ name: 'a', dims: [1], type: 0, data: f32b([9]) }], 32, 2)).version, 2);
});

test('gguf: wrong magic, unsupported version / tensor type, truncation → clear errors', () => {
  const ok = buildGguf([(b) => b.str('x').u32(4).u32(1)], [{ name: 'blk.0.attn_q.weight', dims: [32, 2], type: 2, data: new Uint8Array(36) }]);
  const bad = ok.slice();
  bad[0] = 0x47; bad[1] = 0x47; bad[2] = 0x4d; bad[3] = 0x4c; // "GGML"
  assert.throws(() => readGguf(bad, 'm.gguf'), /gguf 'm\.gguf': bad magic "GGML" \(bytes 47 47 4d 4c\), expected "GGUF"/);
  assert.throws(() => readGguf(new Uint8Array([1, 2])), /unexpected end of file reading magic/);
  const v1 = ok.slice();
  v1[4] = 1;
  assert.throws(() => readGguf(v1), /version 1 is not supported \(2 or 3\)/);
  const g = readGguf(ok);
  assert.equal(g.tensors[0].typeName, 'Q4_0');
  assert.throws(() => ggufTensor(g, 'blk.0.attn_q.weight'), /tensor 'blk\.0\.attn_q\.weight' has type Q4_0 \(id 2\); only F32, F16 and BF16 are supported/);
  const f = buildGguf([(b) => b.str('general.name').u32(8).str('t')], [{ name: 'w', dims: [8, 8], type: 0, data: f32b(new Float32Array(64)) }]);
  assert.throws(() => readGguf(f.subarray(0, f.length - 10)), /tensor 'w' \(F32 \[8,8\]\) ends at byte \d+, past the end of the \d+-byte file \(truncated\?\)/);
  assert.throws(() => readGguf(f.subarray(0, 30)), /tensor count 1 at byte 8 cannot fit in the 14 bytes that follow/);
  assert.throws(() => readGguf(f.subarray(0, 50)), /unexpected end of file reading metadata key #0|metadata/);
  assert.throws(() => readGguf(buildGguf([(b) => b.str('k').u32(13).u32(0)], [])), /metadata 'k': unknown metadata value type 13/);
  assert.throws(() => ggufToLlama(readGguf(f)), /general\.architecture is undefined, expected "llama"/);
});

test('ggufToLlama: ggml [in, out] weights transposed into our [in, out] layout (untied head)', () => {
  const cfg: LlamaConfig = {
    vocab: 16, ctx: 32, dim: 8, layers: 1, heads: 2, kvHeads: 1, hidden: 12, normEps: 1e-5, ropeTheta: 10000,
    ropeStyle: 'interleaved', ropeScaling: null, tiedEmbeddings: false,
  };
  const m = llama(cfg);
  const p = m.init(new Rng(41));
  const host = (n: string) => p[n].dataSync() as Float32Array;
  /** our [in, out] → ggml dims [in, out] with (out × in) row-major data */
  const ggmlMatrix = (n: string): { dims: number[]; data: Uint8Array } => {
    const [r, c] = p[n].shape;
    const a = host(n);
    const t = new Float32Array(a.length);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = a[i * c + j];
    return { dims: [r, c], data: f32b(t) };
  };
  const tensors: T[] = [
    { name: 'token_embd.weight', dims: [8, 16], type: 0, data: f32b(host('embed')) },
    { name: 'output_norm.weight', dims: [8], type: 0, data: f32b(host('norm')) },
    { name: 'output.weight', type: 0, ...ggmlMatrix('head') },
    { name: 'blk.0.attn_norm.weight', dims: [8], type: 0, data: f32b(host('layers.0.attn_norm')) },
    { name: 'blk.0.ffn_norm.weight', dims: [8], type: 0, data: f32b(host('layers.0.ffn_norm')) },
  ];
  const pairs: [string, string][] = [['attn_q', 'attn.wq'], ['attn_k', 'attn.wk'], ['attn_v', 'attn.wv'], ['attn_output', 'attn.wo'],
    ['ffn_gate', 'mlp.w_gate'], ['ffn_up', 'mlp.w_up'], ['ffn_down', 'mlp.w_down']];
  for (const [gg, ours] of pairs) tensors.push({ name: `blk.0.${gg}.weight`, type: 0, ...ggmlMatrix(`layers.0.${ours}`) });
  const num = (k: string, v: number) => (b: Builder) => b.str(k).u32(4).u32(v);
  const kvs = [
    (b: Builder) => b.str('general.architecture').u32(8).str('llama'),
    num('llama.context_length', 32), num('llama.embedding_length', 8), num('llama.block_count', 1),
    num('llama.feed_forward_length', 12), num('llama.attention.head_count', 2), num('llama.attention.head_count_kv', 1),
    (b: Builder) => b.str('llama.attention.layer_norm_rms_epsilon').u32(6).f32(1e-5),
  ];
  const bytes = buildGguf(kvs, tensors);
  const { config, params } = ggufToLlama(readGguf(bytes));
  const withFreqs = buildGguf(kvs, [...tensors, { name: 'rope_freqs.weight', dims: [2], type: 0, data: f32b([1, 1]) }]);
  assert.throws(() => ggufToLlama(readGguf(withFreqs)), /tensors not supported by the llama mapping: rope_freqs\.weight/);
  assert.deepEqual({ ...config, normEps: 1e-5 }, cfg);
  for (const s of m.spec) assert.deepEqual(params[s.name].dataSync(), p[s.name].dataSync(), s.name);
  tf.dispose([...Object.values(p), ...Object.values(params)]);
});
