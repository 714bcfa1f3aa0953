/** safetensors reader/writer, half-float conversions, and Hugging Face name mapping (hf.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../../lib/runtime/backend.ts';
import { tf } from '../../lib/runtime/tf.ts';
import { Rng } from '../../lib/runtime/rng.ts';
import { gpt2, GPT2_PRESETS } from '../../lib/models/gpt2.ts';
import { llama, LLAMA_PRESETS } from '../../lib/models/llama.ts';
import {
  bf16ToFloat32,
  encodeSafetensors,
  float32ToHalf,
  halfToFloat32,
  loadParams,
  readSafetensors,
  saveParams,
  tensorData,
} from '../../lib/models/safetensors.ts';
import { hfConfigJson, hfTensors, llamaConfigFromHf, loadHfParams, saveHfCheckpoint } from '../../lib/models/hf.ts';

await initBackend({ backend: 'wasm' });

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-st-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

function bytesOf(t: tf.Tensor): Uint8Array {
  const d = t.dataSync() as Float32Array;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** A safetensors file assembled by hand (independent of the writer). */
function handmade(header: object, data: Uint8Array, padTo8 = true): Uint8Array {
  let json = JSON.stringify(header);
  if (padTo8) while ((json.length + 8) % 8) json += ' ';
  const h = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

test('safetensors: tiny GPT-2 round trip is bit-exact; atomic write leaves no temp file', () => {
  const m = gpt2({ ...GPT2_PRESETS.tiny, layers: 2 });
  const p = m.init(new Rng(11));
  const file = path.join(dir, 'gpt2.safetensors');
  saveParams(file, m.spec, p, { step: '7', family: 'gpt2' });
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('.tmp-')), []);
  const raw = new Uint8Array(fs.readFileSync(file));
  const n = Number(new DataView(raw.buffer).getBigUint64(0, true));
  assert.equal((8 + n) % 8, 0, 'header padded to 8 bytes');
  const f = readSafetensors(file);
  assert.deepEqual(f.names, m.spec.map((s) => s.name), 'spec order kept');
  assert.deepEqual(f.metadata, { step: '7', family: 'gpt2' });
  const q = loadParams(f, m.spec);
  for (const s of m.spec) {
    assert.deepEqual(q[s.name].shape, s.shape);
    assert.deepEqual(bytesOf(q[s.name]), bytesOf(p[s.name]), `${s.name} bit-exact`);
  }
  assert.throws(() => loadParams(file, gpt2(GPT2_PRESETS.tiny).spec), /unexpected tensors h\.1\.ln_1\.w/);
  assert.throws(() => loadParams(file, gpt2({ ...GPT2_PRESETS.tiny, layers: 2, vocab: 65 }).spec), /tensor 'wte' has shape \[64,16\], expected \[65,16\]/);
  tf.dispose([...Object.values(p), ...Object.values(q)]);
});

test('safetensors: truncated or corrupt files give clear errors', () => {
  const good = encodeSafetensors({ a: { shape: [2, 3], data: new Float32Array(6).fill(1.5) }, b: { shape: [4], data: new Int32Array([1, 2, 3, 4]) } });
  assert.equal(readSafetensors(good).names.length, 2);
  assert.throws(() => readSafetensors(good.subarray(0, good.length - 3), 'cut.safetensors'), /safetensors 'cut\.safetensors': tensor '.': data_offsets \[\d+,\d+\] exceed the data section of \d+ bytes \(file truncated\?\)/);
  const cut = path.join(dir, 'cut.safetensors');
  fs.writeFileSync(cut, good.subarray(0, good.length - 1));
  assert.throws(() => readSafetensors(cut), /safetensors '.*cut\.safetensors': tensor '.': data_offsets .* exceed the data section .*truncated/);
  assert.throws(() => readSafetensors(good.subarray(0, 5)), /too short for the 8-byte header length/);
  assert.throws(() => readSafetensors(good.subarray(0, 40)), /header length \d+ exceeds the 32 bytes after it/);
  const bad = good.slice();
  bad[9] = 0x7b; // corrupt the JSON
  bad[10] = 0x7b;
  assert.throws(() => readSafetensors(bad), /header is not valid UTF-8 JSON/);
  const f32 = new Uint8Array(new Float32Array([1, 2]).buffer);
  assert.throws(() => readSafetensors(handmade({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f32)), /tensor 'x': data_offsets \[0,8\] span 8 bytes, but F32 \[3\] needs 12/);
  assert.throws(() => readSafetensors(handmade({ x: { dtype: 'Q4', shape: [2], data_offsets: [0, 8] } }, f32)), /tensor 'x': unknown dtype "Q4"/);
  assert.throws(() => readSafetensors(handmade({ x: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32)), /tensor 'x' starts at byte 4 of the data section, expected 0/);
  assert.throws(() => readSafetensors(handmade({ x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32)), /data section has 8 bytes but the tensors cover 4/);
  assert.throws(() => readSafetensors(path.join(dir, 'nope.safetensors')), /cannot read '.*nope\.safetensors'/);
  const u8 = readSafetensors(handmade({ x: { dtype: 'U8', shape: [8], data_offsets: [0, 8] } }, f32));
  assert.throws(() => tensorData(u8, 'x'), /tensor 'x' has dtype U8; only F32, F16, BF16 and I32 can be decoded/);
});

test('safetensors: F16/BF16/I32 decoding of a hand-made file; F16 writing', () => {
  // 1, -2, 65504, smallest subnormal, +inf, 0.333251953125 (0x3555)
  const half = new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x3555]);
  const bf = new Uint16Array([0x3f80, 0xc2f7]); // 1, -123.5
  const i32 = new Int32Array([-7, 2147483647]);
  const data = new Uint8Array(12 + 4 + 8);
  data.set(new Uint8Array(half.buffer), 0);
  data.set(new Uint8Array(bf.buffer), 12);
  data.set(new Uint8Array(i32.buffer), 16);
  const f = readSafetensors(handmade({
    __metadata__: { format: 'pt' },
    h: { dtype: 'F16', shape: [2, 3], data_offsets: [0, 12] },
    b: { dtype: 'BF16', shape: [2], data_offsets: [12, 16] },
    i: { dtype: 'I32', shape: [2], data_offsets: [16, 24] },
  }, data, false));
  assert.deepEqual([...tensorData(f, 'h')], [1, -2, 65504, 2 ** -24, Infinity, 0.333251953125]);
  assert.deepEqual([...tensorData(f, 'b')], [1, -123.5]);
  assert.deepEqual([...tensorData(f, 'i')], [-7, 2147483647]);
  assert.deepEqual([...float32ToHalf(new Float32Array([1, -2, 65504, 2 ** -24, 1e6, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 65520, -0]))],
    [0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x3c00, 0x3c02, 0x7c00, 0x8000]);
  assert.ok(Number.isNaN(halfToFloat32(float32ToHalf(new Float32Array([NaN])))[0]));
  assert.deepEqual([...bf16ToFloat32(new Uint16Array([0x8000]))], [-0]);
  // Every finite half value survives f16 → f32 → f16.
  const all = new Uint16Array(65536).map((_, i) => i);
  const back = float32ToHalf(halfToFloat32(all));
  for (let i = 0; i < 65536; i++) if ((i & 0x7c00) !== 0x7c00) assert.equal(back[i], i, `half 0x${i.toString(16)}`);
  const enc = readSafetensors(encodeSafetensors([['x', { shape: [3], data: new Float32Array([0.5, 1 / 3, 7]), dtype: 'F16' }]]));
  assert.equal(enc.entries.get('x')!.dtype, 'F16');
  assert.deepEqual([...tensorData(enc, 'x')], [0.5, 0.333251953125, 7]);
});

test('hf: GPT-2 save/load with Hugging Face names (prefixed or not, buffers ignored)', () => {
  const m = gpt2(GPT2_PRESETS.tiny);
  const p = m.init(new Rng(21));
  const file = path.join(dir, 'hf-gpt2.safetensors');
  saveHfCheckpoint(file, m, p);
  const f = readSafetensors(file);
  assert.ok(f.entries.has('transformer.h.0.attn.c_attn.weight'));
  assert.deepEqual(f.entries.get('transformer.h.0.attn.c_attn.weight')!.shape, [16, 48], 'Conv1D layout [in, out]');
  assert.ok(f.entries.has('transformer.ln_f.bias'));
  assert.ok(f.entries.has('transformer.wte.weight'));
  const q = loadHfParams(m, f);
  for (const s of m.spec) assert.deepEqual(bytesOf(q[s.name]), bytesOf(p[s.name]), s.name);
  // The hub's gpt2 files: no prefix, plus causal-mask buffers and lm_head.
  const plain = hfTensors(m, p).map(([n, t]) => [n.replace(/^transformer\./, ''), t] as [string, typeof t]);
  plain.push(['h.0.attn.bias', { shape: [1, 1, 16, 16], data: new Float32Array(256) }]);
  plain.push(['lm_head.weight', { shape: [64, 16], data: p.wte.dataSync() as Float32Array }]);
  const r = loadHfParams(m, encodeSafetensors(plain));
  assert.deepEqual(bytesOf(r['h.0.mlp.c_proj.w']), bytesOf(p['h.0.mlp.c_proj.w']));
  const missing = hfTensors(m, p).filter(([n]) => n !== 'transformer.h.0.ln_2.bias');
  assert.throws(() => loadHfParams(m, encodeSafetensors(missing)), /missing tensor 'transformer\.h\.0\.ln_2\.bias' \(for parameter 'h\.0\.ln_2\.b'\)/);
  const wrong = hfTensors(m, p).map(([n, t]) => (n === 'transformer.wpe.weight' ? [n, { shape: [8, 32], data: t.data }] : [n, t]) as [string, typeof t]);
  assert.throws(() => loadHfParams(m, encodeSafetensors(wrong)), /shape mismatch for 'transformer\.wpe\.weight': \[8,32\] in the file, expected \[16,16\]/);
  const extra = [...hfTensors(m, p), ['transformer.h.1.ln_1.weight', { shape: [16], data: new Float32Array(16) }] as [string, { shape: number[]; data: Float32Array }]];
  assert.throws(() => loadHfParams(m, encodeSafetensors(extra)), /unexpected tensors transformer\.h\.1\.ln_1\.weight/);
  assert.equal(hfConfigJson(m).n_embd, 16);
  tf.dispose([...Object.values(p), ...Object.values(q), ...Object.values(r)]);
});

test('hf: Llama weights are [out, in] in rotate-half layout; loading into an interleaved model keeps the function', () => {
  const half = llama(LLAMA_PRESETS.tiny);
  const inter = llama({ ...LLAMA_PRESETS.tiny, ropeStyle: 'interleaved' });
  const p = half.init(new Rng(31));
  const file = path.join(dir, 'hf-llama.safetensors');
  saveHfCheckpoint(file, half, p);
  const f = readSafetensors(file);
  assert.deepEqual(f.entries.get('model.layers.0.self_attn.k_proj.weight')!.shape, [8, 16], '[out, in]');
  assert.deepEqual(f.entries.get('lm_head.weight')!.shape, [32, 16]);
  assert.ok(f.entries.has('model.layers.0.post_attention_layernorm.weight'));
  // Transposed correctly: HF q_proj row o = our wq column o.
  const wq = tensorData(f, 'model.layers.0.self_attn.q_proj.weight');
  const ours = p['layers.0.attn.wq'].arraySync() as number[][];
  assert.equal(wq[3 * 16 + 5], ours[5][3]);
  const back = loadHfParams(half, f);
  for (const s of half.spec) assert.deepEqual(bytesOf(back[s.name]), bytesOf(p[s.name]), s.name);
  const pi = loadHfParams(inter, f);
  tf.tidy(() => {
    const x = tf.tensor2d([[3, 1, 4, 1, 5, 9, 2, 6, 5, 3]], [1, 10], 'int32');
    const d = tf.max(tf.abs(tf.sub(half.logits(p, x), inter.logits(pi, x)))).dataSync()[0];
    assert.ok(d < 1e-5, `interleaved load differs by ${d}`);
  });
  // And saving the interleaved model writes the same HF tensors.
  const again = hfTensors(inter, pi);
  const orig = hfTensors(half, p);
  again.forEach(([n, t], i) => {
    assert.equal(n, orig[i][0]);
    assert.deepEqual([...t.data], [...orig[i][1].data], n);
  });
  tf.dispose([...Object.values(p), ...Object.values(back), ...Object.values(pi)]);
});

test('hf: Llama 3.2-1B config.json maps to the paper preset', () => {
  const cfg = {
    architectures: ['LlamaForCausalLM'], attention_bias: false, attention_dropout: 0, bos_token_id: 128000, eos_token_id: 128001,
    head_dim: 64, hidden_act: 'silu', hidden_size: 2048, initializer_range: 0.02, intermediate_size: 8192,
    max_position_embeddings: 131072, mlp_bias: false, model_type: 'llama', num_attention_heads: 32, num_hidden_layers: 16,
    num_key_value_heads: 8, pretraining_tp: 1, rms_norm_eps: 1e-5,
    rope_scaling: { factor: 32, high_freq_factor: 4, low_freq_factor: 1, original_max_position_embeddings: 8192, rope_type: 'llama3' },
    rope_theta: 500000, tie_word_embeddings: true, torch_dtype: 'bfloat16', use_cache: true, vocab_size: 128256,
  };
  assert.deepEqual(llamaConfigFromHf(cfg), LLAMA_PRESETS.paper);
  assert.throws(() => llamaConfigFromHf({ ...cfg, rope_scaling: { rope_type: 'yarn', factor: 4 } }), /rope_scaling type 'yarn' is not supported/);
  assert.throws(() => llamaConfigFromHf({ ...cfg, hidden_size: undefined }), /missing field 'hidden_size'/);
});
