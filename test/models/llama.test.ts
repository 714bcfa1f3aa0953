/**
 * Llama family: shapes, causality, GQA ≡ MHA with repeated kv weights, RoPE interleaved ≡ rotate-half
 * under the q/k column permutation, Llama-3 RoPE scaling, tied head, gradients on wasm, config errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/runtime/backend.ts';
import { tf } from '../../lib/runtime/tf.ts';
import { Rng } from '../../lib/runtime/rng.ts';
import {
  applyRope,
  convertRopeStyle,
  llama,
  LLAMA_PRESETS,
  ropeInvFreq,
  type LlamaConfig,
} from '../../lib/models/llama.ts';
import { createModel } from '../../lib/models/registry.ts';
import { numParams, type Params } from '../../lib/models/types.ts';

await initBackend({ backend: 'wasm' });

const TINY = LLAMA_PRESETS.tiny;

function ids(seed: number, B: number, T: number, V: number): tf.Tensor2D {
  const r = new Rng(seed);
  return tf.tensor2d(Array.from({ length: B }, () => Array.from({ length: T }, () => r.int(V))), [B, T], 'int32');
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** Column gather of a `[in, out]` weight with a host index list. */
function cols(w: tf.Tensor, idx: number[]): tf.Tensor {
  return tf.gather(w, tf.tensor1d(idx, 'int32'), 1);
}

test('llama: preset parameter counts', () => {
  // stories260K: "260K" parameters, the tied embedding counted once.
  assert.equal(numParams(llama(LLAMA_PRESETS.stories260K).spec), 260_032);
  // Llama 3.2-1B: 1,235,814,400 parameters (tied).
  assert.equal(numParams(llama(LLAMA_PRESETS.paper).spec), 1_235_814_400);
});

test('llama: output shape and causality', () => {
  const m = llama(TINY);
  const p = m.init(new Rng(1));
  tf.tidy(() => {
    const x = ids(2, 2, 12, TINY.vocab);
    const z = m.logits(p, x);
    assert.deepEqual(z.shape, [2, 12, TINY.vocab]);
    const x2 = tf.concat([tf.slice(x, [0, 0], [2, 7]), tf.add(tf.slice(x, [0, 7], [2, 5]), tf.scalar(1, 'int32'))], 1).mod(tf.scalar(TINY.vocab, 'int32'));
    const z2 = m.logits(p, x2 as tf.Tensor2D);
    assert.equal(maxAbsDiff(tf.slice(z, [0, 0, 0], [2, 7, -1]), tf.slice(z2, [0, 0, 0], [2, 7, -1])), 0);
    assert.ok(maxAbsDiff(tf.slice(z, [0, 7, 0], [2, 1, -1]), tf.slice(z2, [0, 7, 0], [2, 1, -1])) > 1e-4);
  });
  assert.throws(() => tf.tidy(() => m.logits(p, tf.zeros([1, 17], 'int32'))), /exceeds context length 16/);
  tf.dispose(Object.values(p));
});

test('llama: GQA equals MHA with each kv head repeated for its query group', () => {
  const gqa = llama(TINY); // 4 query heads, 2 kv heads
  const mha = llama({ ...TINY, kvHeads: TINY.heads });
  const p = gqa.init(new Rng(3));
  const hd = TINY.dim / TINY.heads;
  const rep = TINY.heads / TINY.kvHeads;
  // MHA head h uses GQA kv head floor(h / rep).
  const idx: number[] = [];
  for (let h = 0; h < TINY.heads; h++) for (let i = 0; i < hd; i++) idx.push(Math.floor(h / rep) * hd + i);
  tf.tidy(() => {
    const q: Params = { ...p };
    for (let l = 0; l < TINY.layers; l++) {
      q[`layers.${l}.attn.wk`] = cols(p[`layers.${l}.attn.wk`], idx);
      q[`layers.${l}.attn.wv`] = cols(p[`layers.${l}.attn.wv`], idx);
    }
    const x = ids(4, 2, 10, TINY.vocab);
    const d = maxAbsDiff(gqa.logits(p, x), mha.logits(q, x));
    assert.ok(d < 1e-5, `GQA vs repeated-kv MHA differ by ${d}`);
    // And a wrong grouping (kv heads interleaved h % Hkv) must differ: the test can fail.
    const wrong = Array.from({ length: TINY.heads * hd }, (_, c) => ((Math.floor(c / hd) % TINY.kvHeads) * hd) + (c % hd));
    const r: Params = { ...p };
    r['layers.0.attn.wk'] = cols(p['layers.0.attn.wk'], wrong);
    r['layers.0.attn.wv'] = cols(p['layers.0.attn.wv'], wrong);
    assert.ok(maxAbsDiff(gqa.logits(p, x), mha.logits(r, x)) > 1e-4);
  });
  tf.dispose(Object.values(p));
});

test('llama: rotate-half ≡ interleaved RoPE under the q/k column permutation', () => {
  const cfg: LlamaConfig = { ...TINY, dim: 24, heads: 2, kvHeads: 1, layers: 2, ropeStyle: 'interleaved' };
  const inter = llama(cfg);
  const half = llama({ ...cfg, ropeStyle: 'half' });
  const p = inter.init(new Rng(5));
  const hd = cfg.dim / cfg.heads;
  // Permutation written out independently of the library: half column e·hd/2 + j ← interleaved 2j + e.
  const perm = (nh: number) => {
    const out: number[] = [];
    for (let h = 0; h < nh; h++) for (let e = 0; e < 2; e++) for (let j = 0; j < hd / 2; j++) out.push(h * hd + 2 * j + e);
    return out;
  };
  tf.tidy(() => {
    const q: Params = { ...p };
    for (let l = 0; l < cfg.layers; l++) {
      q[`layers.${l}.attn.wq`] = cols(p[`layers.${l}.attn.wq`], perm(cfg.heads));
      q[`layers.${l}.attn.wk`] = cols(p[`layers.${l}.attn.wk`], perm(cfg.kvHeads));
    }
    const x = ids(6, 2, 16, cfg.vocab);
    const zi = inter.logits(p, x);
    assert.ok(maxAbsDiff(zi, half.logits(q, x)) < 1e-5, 'permuted weights give the same function');
    assert.ok(maxAbsDiff(zi, half.logits(p, x)) > 1e-4, 'unpermuted weights do not (the test can fail)');
    const viaLib = convertRopeStyle(p, cfg, 'interleaved', 'half');
    assert.ok(maxAbsDiff(zi, half.logits(viaLib, x)) < 1e-5, 'convertRopeStyle matches');
    const back = convertRopeStyle(viaLib, cfg, 'half', 'interleaved');
    assert.equal(maxAbsDiff(back['layers.1.attn.wq'], p['layers.1.attn.wq']), 0);
  });
  tf.dispose(Object.values(p));
});

test('llama: RoPE rotates (2j, 2j+1) pairs / (j, j+hd/2) pairs by pos·θ_j', () => {
  const hd = 4;
  const inv = ropeInvFreq(hd, 100);
  assert.deepEqual([...inv], [1, 0.1]);
  const T = 3;
  const cos = new Float32Array(T * 2);
  const sin = new Float32Array(T * 2);
  for (let t = 0; t < T; t++) for (let j = 0; j < 2; j++) [cos[t * 2 + j], sin[t * 2 + j]] = [Math.cos(t * inv[j]), Math.sin(t * inv[j])];
  const v = [1, 2, 3, 4];
  tf.tidy(() => {
    const x = tf.tensor4d([...v, ...v, ...v], [1, 1, T, hd]);
    const yi = applyRope(x, cos, sin, 'interleaved').arraySync() as number[][][][];
    const yh = applyRope(x, cos, sin, 'half').arraySync() as number[][][][];
    const t = 2;
    const [c0, s0, c1, s1] = [Math.cos(2), Math.sin(2), Math.cos(0.2), Math.sin(0.2)];
    const wantI = [1 * c0 - 2 * s0, 1 * s0 + 2 * c0, 3 * c1 - 4 * s1, 3 * s1 + 4 * c1];
    const wantH = [1 * c0 - 3 * s0, 2 * c1 - 4 * s1, 3 * c0 + 1 * s0, 4 * c1 + 2 * s1];
    yi[0][0][t].forEach((y, i) => assert.ok(Math.abs(y - wantI[i]) < 1e-6, `interleaved[${i}]`));
    yh[0][0][t].forEach((y, i) => assert.ok(Math.abs(y - wantH[i]) < 1e-6, `half[${i}]`));
    assert.deepEqual(yi[0][0][0], v, 'position 0 is not rotated');
  });
});

test('llama: Llama-3 RoPE frequency scaling (paper preset)', () => {
  const s = LLAMA_PRESETS.paper.ropeScaling!;
  const plain = ropeInvFreq(64, 500000);
  const scaled = ropeInvFreq(64, 500000, s);
  // High frequencies (wavelength < 8192/4) unchanged, low ones (> 8192) divided by 32, blend between.
  assert.equal(scaled[0], 1);
  assert.equal(scaled[10], plain[10]);
  assert.ok(Math.abs(scaled[31] - plain[31] / 32) < 1e-20);
  const pinned: [number, number][] = [[15, 0.001290547928209264], [16, 0.00042955679655936815], [17, 9.70828780262767e-05]];
  for (const [j, v] of pinned) assert.ok(Math.abs(scaled[j] - v) / v < 1e-12, `θ_${j} = ${scaled[j]}, expected ${v}`);
});

test('llama: tied head equals an untied head holding embedᵀ', () => {
  const tied = llama({ ...TINY, tiedEmbeddings: true });
  const untied = llama(TINY);
  assert.ok(!tied.spec.some((s) => s.name === 'head'));
  const p = tied.init(new Rng(7));
  tf.tidy(() => {
    const x = ids(8, 1, 9, TINY.vocab);
    const d = maxAbsDiff(tied.logits(p, x), untied.logits({ ...p, head: tf.transpose(p.embed) }, x));
    assert.ok(d < 1e-5, `tied vs untied ${d}`);
  });
  tf.dispose(Object.values(p));
});

test('llama: tf.grads of the loss on wasm matches a finite difference', () => {
  const m = llama({ ...TINY, layers: 2 });
  const p = m.init(new Rng(9));
  const x = ids(10, 2, 12, TINY.vocab);
  const y = ids(11, 2, 12, TINY.vocab);
  const mask = tf.tensor2d(Array.from({ length: 2 }, (_, i) => Array.from({ length: 12 }, (_, t) => (t >= 4 + i ? 1 : 0))));
  const names = m.spec.map((s) => s.name);
  const lossOf = (...vals: tf.Tensor[]) => {
    const q: Params = {};
    names.forEach((n, i) => (q[n] = vals[i]));
    return tf.sum(m.perExampleLoss(q, { x, y, mask })) as tf.Scalar;
  };
  const total = numParams(m.spec);
  const dirs = m.spec.map((s) => tf.tensor(new Rng(12).child(s.name).normalArray(s.shape.reduce((a, b) => a * b, 1), 1 / Math.sqrt(total)), s.shape));
  const before = tf.memory().numTensors;
  const [gv, fd] = tf.tidy(() => {
    const grads = tf.grads(lossOf)(names.map((n) => p[n]));
    grads.forEach((g, i) => assert.deepEqual(g.shape, m.spec[i].shape));
    const gdotv = grads.reduce((s, g, i) => s + tf.sum(tf.mul(g, dirs[i])).dataSync()[0], 0);
    const eps = 1e-2;
    const at = (sgn: number) => lossOf(...names.map((n, i) => tf.add(p[n], tf.mul(dirs[i], sgn * eps)))).dataSync()[0];
    return [gdotv, (at(1) - at(-1)) / (2 * eps)];
  });
  assert.ok(Math.abs(gv - fd) / Math.abs(fd) < 1e-2, `directional derivative ${gv} vs FD ${fd}`);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([...Object.values(p), ...dirs, x, y, mask]);
});

test('llama: registry, unknown preset and bad configs give clear errors', () => {
  assert.equal(createModel({ family: 'llama', preset: 'stories260K' }).family, 'llama');
  assert.throws(() => createModel({ family: 'llama', preset: 'llama7b' }), /unknown preset 'llama7b' for model family 'llama'; known: tiny, stories260K, paper/);
  assert.throws(() => llama({ ...TINY, heads: 3 }), /heads \(3\) must divide dim \(16\)/);
  assert.throws(() => llama({ ...TINY, kvHeads: 3 }), /kvHeads \(3\) must divide heads \(4\)/);
  assert.throws(() => llama({ ...TINY, heads: 16, kvHeads: 16 }), /head dim 1 must be even/);
  assert.throws(() => llama({ ...TINY, ropeStyle: 'neox' as never }), /'ropeStyle' must be 'interleaved' or 'half', got "neox"/);
  assert.throws(() => llama({ ...TINY, ropeScaling: { factor: 8, lowFreqFactor: 4, highFreqFactor: 1, originalMaxPositionEmbeddings: 8192 } }), /highFreqFactor \(1\) must exceed lowFreqFactor \(4\)/);
});
