/** GPT-2 family: shapes, causality, loss masking, gradients on wasm, init, presets and config errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/runtime/backend.ts';
import { tf } from '../../lib/runtime/tf.ts';
import { Rng } from '../../lib/runtime/rng.ts';
import { gpt2, GPT2_PRESETS } from '../../lib/models/gpt2.ts';
import { createModel } from '../../lib/models/registry.ts';
import { numParams, type Params } from '../../lib/models/types.ts';
import { checkParams } from '../../lib/models/nn.ts';

await initBackend({ backend: 'wasm' });

function randomIds(rng: Rng, B: number, T: number, V: number): number[][] {
  return Array.from({ length: B }, () => Array.from({ length: T }, () => rng.int(V)));
}

test('gpt2: parameter counts of the presets', () => {
  assert.equal(numParams(gpt2(GPT2_PRESETS.tiny).spec), 4592);
  assert.equal(numParams(gpt2(GPT2_PRESETS.small).spec), 3_320_640);
  assert.equal(numParams(gpt2(GPT2_PRESETS.paper).spec), 124_439_808); // HF gpt2 (tied head)
});

test('gpt2: init statistics and spec/param agreement', () => {
  const m = gpt2({ vocab: 64, ctx: 16, d: 32, heads: 4, layers: 2 });
  const p = m.init(new Rng(1));
  checkParams(m.spec, p, 'gpt2 init');
  const std = (t: tf.Tensor) => tf.tidy(() => Math.sqrt(tf.mean(tf.square(t)).dataSync()[0]));
  assert.ok(Math.abs(std(p.wte) - 0.02) < 0.002);
  assert.ok(Math.abs(std(p['h.0.attn.c_proj.w']) - 0.01) < 0.0015, 'residual projection scaled by 1/√(2L)');
  assert.deepEqual([...p['h.1.ln_2.w'].dataSync()], new Array(32).fill(1));
  assert.deepEqual([...p['h.1.mlp.c_fc.b'].dataSync()], new Array(128).fill(0));
  // Deterministic and per-tensor streams.
  const q = m.init(new Rng(1));
  assert.deepEqual(p['h.1.attn.c_attn.w'].dataSync(), q['h.1.attn.c_attn.w'].dataSync());
  tf.dispose([...Object.values(p), ...Object.values(q)]);
});

test('gpt2: output shape and causality', () => {
  const m = gpt2(GPT2_PRESETS.tiny);
  const p = m.init(new Rng(2));
  const rng = new Rng(3);
  const ids = randomIds(rng, 2, 16, 64);
  const changed = ids.map((r) => r.slice());
  for (const r of changed) for (let t = 9; t < 16; t++) r[t] = (r[t] + 1 + rng.int(63)) % 64;
  const [a, b] = tf.tidy(() => {
    const za = m.logits(p, tf.tensor2d(ids, [2, 16], 'int32'));
    const zb = m.logits(p, tf.tensor2d(changed, [2, 16], 'int32'));
    assert.deepEqual(za.shape, [2, 16, 64]);
    return [za.arraySync() as number[][][], zb.arraySync() as number[][][]];
  });
  for (let i = 0; i < 2; i++) {
    for (let t = 0; t < 9; t++) assert.deepEqual(a[i][t], b[i][t], `position ${t} must not see the future`);
    assert.notDeepEqual(a[i][9], b[i][9]);
  }
  // Shorter sequences are fine; longer than ctx is an error.
  tf.tidy(() => assert.deepEqual(m.logits(p, tf.zeros([3, 5], 'int32')).shape, [3, 5, 64]));
  assert.throws(() => tf.tidy(() => m.logits(p, tf.zeros([1, 17], 'int32'))), /sequence length 17 exceeds context length 16/);
  assert.throws(() => tf.tidy(() => m.logits(p, tf.zeros([1, 4], 'float32'))), /must be int32/);
  tf.dispose(Object.values(p));
});

test('gpt2: per-example loss = masked mean next-token CE', () => {
  const m = gpt2(GPT2_PRESETS.tiny);
  const p = m.init(new Rng(4));
  const rng = new Rng(5);
  const x = randomIds(rng, 3, 8, 64);
  const y = randomIds(rng, 3, 8, 64);
  const mask = [
    [1, 1, 1, 1, 1, 1, 1, 1],
    [0, 0, 0, 1, 1, 0, 1, 0],
    [0, 0, 0, 0, 0, 0, 0, 0],
  ];
  tf.tidy(() => {
    const xt = tf.tensor2d(x, [3, 8], 'int32');
    const yt = tf.tensor2d(y, [3, 8], 'int32');
    const lsm = tf.logSoftmax(m.logits(p, xt)).arraySync() as number[][][];
    const ce = y.map((row, i) => row.map((tok, t) => -lsm[i][t][tok]));
    const loss = m.perExampleLoss(p, { x: xt, y: yt, mask: tf.tensor2d(mask) }).dataSync();
    const full = m.perExampleLoss(p, { x: xt, y: yt }).dataSync();
    const want = ce.map((r, i) => {
      const n = mask[i].reduce((s, v) => s + v, 0);
      return n ? r.reduce((s, v, t) => s + v * mask[i][t], 0) / n : 0;
    });
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(loss[i] - want[i]) < 1e-5, `row ${i}: ${loss[i]} vs ${want[i]}`);
    assert.equal(loss[2], 0, 'all-masked row gives 0, not NaN');
    assert.ok(Math.abs(full[0] - loss[0]) < 1e-6);
    assert.ok(Math.abs(full[0] - Math.log(64)) < 0.1, 'near-uniform predictions at init');
  });
  tf.dispose(Object.values(p));
});

test('gpt2: tf.grads of the loss on wasm matches a finite difference', () => {
  const m = gpt2(GPT2_PRESETS.tiny);
  const p = m.init(new Rng(6));
  const rng = new Rng(7);
  const x = tf.tensor2d(randomIds(rng, 2, 12, 64), [2, 12], 'int32');
  const y = tf.tensor2d(randomIds(rng, 2, 12, 64), [2, 12], 'int32');
  const names = m.spec.map((s) => s.name);
  const lossOf = (...vals: tf.Tensor[]) => {
    const q: Params = {};
    names.forEach((n, i) => (q[n] = vals[i]));
    return tf.sum(m.perExampleLoss(q, { x, y })) as tf.Scalar;
  };
  const before = tf.memory().numTensors;
  // Unit-norm random direction, so the FD step is small in parameter space.
  const total = numParams(m.spec);
  const dirs = m.spec.map((s) => tf.tensor(new Rng(8).child(s.name).normalArray(s.shape.reduce((a, b) => a * b, 1), 1 / Math.sqrt(total)), s.shape));
  const [gv, fd] = tf.tidy(() => {
    const grads = tf.grads(lossOf)(names.map((n) => p[n]));
    grads.forEach((g, i) => {
      assert.deepEqual(g.shape, m.spec[i].shape);
      assert.ok(tf.all(tf.isFinite(g)).dataSync()[0] === 1, `finite grad for ${names[i]}`);
    });
    assert.ok(tf.max(tf.abs(grads[names.indexOf('wpe')])).dataSync()[0] > 0);
    const gdotv = grads.reduce((s, g, i) => s + tf.sum(tf.mul(g, dirs[i])).dataSync()[0], 0);
    const eps = 1e-2;
    const at = (sgn: number) => lossOf(...names.map((n, i) => tf.add(p[n], tf.mul(dirs[i], sgn * eps)))).dataSync()[0];
    return [gdotv, (at(1) - at(-1)) / (2 * eps)];
  });
  assert.ok(Math.abs(gv - fd) / Math.abs(fd) < 1e-2, `directional derivative ${gv} vs FD ${fd}`);
  tf.dispose(dirs);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([...Object.values(p), x, y]);
});

test('gpt2: registry, unknown preset and bad configs give clear errors', () => {
  assert.equal(createModel({ family: 'gpt2', preset: 'tiny' }).family, 'gpt2');
  assert.deepEqual(createModel({ family: 'gpt2', preset: 'tiny', config: { layers: 2 } }).config, { ...GPT2_PRESETS.tiny, layers: 2 });
  assert.throws(() => createModel({ family: 'gpt2', preset: 'huge' }), /unknown preset 'huge' for model family 'gpt2'; known: tiny, small, paper/);
  assert.throws(() => gpt2({ vocab: 64, ctx: 16, d: 18, heads: 4, layers: 1 }), /heads \(4\) must divide d \(18\)/);
  assert.throws(() => gpt2({ vocab: 64, ctx: 0, d: 16, heads: 2, layers: 1 }), /'ctx' must be a positive integer, got 0/);
  assert.throws(() => createModel({ family: 'gpt2', config: { vocab: 10 } }), /'ctx' must be a positive integer, got undefined/);
});
