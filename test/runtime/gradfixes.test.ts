/**
 * Each gradient fix, proven: stock behaviour (in a child process without the fix) is broken, and with
 * the fix the result matches finite differences; first-order gradients are unchanged where a fix does
 * not rewrite the formula.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/runtime/backend.ts';
import { tf } from '../../lib/runtime/tf.ts';
import { Rng } from '../../lib/runtime/rng.ts';
import { maxPool2x2 } from '../../lib/models/nn.ts';
import { relErr, ROOT, runTsJson } from './helpers.ts';

await initBackend({ backend: 'wasm' });
const PROBE = `${ROOT}/test/runtime/fixtures/probe.ts`;
const ALL = 'tape-order,zero-grad-compare,pool-grad-grads,op-conv-gather,matmul-transpose';
const NOT_REWRITING = 'tape-order,zero-grad-compare,pool-grad-grads';

interface Probe {
  mlpRelu: string;
  mlpTanh: string;
  cnn: string;
  hvp: { rel?: number; error?: string };
  hvpRms: { rel?: number; error?: string };
}

/** Best relative error of the double-backprop HVP of `f` at `w` along `v` against central FD. */
function hvpVsFd(f: (w: tf.Tensor) => tf.Scalar, w: tf.Tensor, v: tf.Tensor): number {
  return tf.tidy(() => {
    const g = (x: tf.Tensor) => tf.grad(f)(x);
    const hv = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(g(x), v)))(w).dataSync();
    let best = Infinity;
    for (const eps of [1e-2, 3e-3, 1e-3]) {
      const fd = tf.div(tf.sub(g(tf.add(w, tf.mul(v, eps))), g(tf.sub(w, tf.mul(v, eps)))), 2 * eps).dataSync();
      best = Math.min(best, relErr(hv, fd));
    }
    return best;
  });
}

for (const backend of ['cpu', 'wasm']) {
  test(`tape-order (${backend}): stock HVPs throw or are silently wrong; fixed ones match FD`, () => {
    const stock = runTsJson(PROBE, [backend, 'none']) as Probe;
    const fixed = runTsJson(PROBE, [backend, 'tape-order']) as Probe;
    console.log(`  ${backend} stock: ${JSON.stringify(stock.hvp)} rms ${JSON.stringify(stock.hvpRms)}; fixed: ${fixed.hvp.rel} rms ${fixed.hvpRms.rel}`);
    assert.match(stock.hvp.error ?? '', /Cannot compute gradient/);
    assert.ok((stock.hvpRms.rel ?? 0) > 0.05, 'stock RMSNorm HVP should be silently wrong');
    assert.ok(fixed.hvp.rel! < 1e-3, `fixed logSoftmax HVP rel err ${fixed.hvp.rel}`);
    assert.ok(fixed.hvpRms.rel! < 1e-3, `fixed RMSNorm HVP rel err ${fixed.hvpRms.rel}`);
  });

  test(`first-order gradients are bit-identical with and without the non-rewriting fixes (${backend})`, () => {
    const stock = runTsJson(PROBE, [backend, 'none']) as Probe;
    const fixed = runTsJson(PROBE, [backend, NOT_REWRITING]) as Probe;
    const all = runTsJson(PROBE, [backend, ALL]) as Probe;
    assert.equal(fixed.mlpRelu, stock.mlpRelu);
    assert.equal(fixed.mlpTanh, stock.mlpTanh);
    if (backend === 'cpu') assert.equal(fixed.cnn, stock.cnn);
    // The matMul rewrite uses explicit transposes: same formula, and here also the same bits.
    assert.equal(all.mlpRelu, stock.mlpRelu);
    assert.equal(all.mlpTanh, stock.mlpTanh);
  });
}

test('zero-grad-compare: HVP through reshape-max pooling (Max → Equal) matches FD', () => {
  const rng = new Rng(11);
  const x = tf.tensor(rng.normalArray(2 * 4 * 4 * 3), [2, 4, 4, 3]);
  const w = tf.tensor(rng.normalArray(3 * 3), [3, 3]);
  const v = tf.tensor(rng.normalArray(9), [3, 3]);
  const f = (ww: tf.Tensor) => tf.mean(tf.tanh(maxPool2x2(tf.tanh(tf.reshape(tf.matMul(tf.reshape(x, [-1, 3]), ww), [2, 4, 4, 3]))))) as tf.Scalar;
  const e = hvpVsFd(f, w, v);
  assert.ok(e < 1e-3, `rel err ${e}`);
});

test('op-conv-gather: the Max gradient is bit-identical to the stock mask x == y, ties included', () => {
  const rng = new Rng(15);
  // ReLU outputs: many exact zeros, so whole windows tie, as in a CNN's pooling.
  const x = tf.relu(tf.tensor(rng.normalArray(2 * 4 * 6 * 3), [2, 4, 6, 3]));
  const r = tf.reshape(x, [2, 2, 2, 3, 2, 3]);
  for (const axes of [[4], [2, 4], [1, 2, 3, 4, 5]]) {
    for (const keepDims of [true, false]) {
      const y = tf.max(r, axes, true);
      const c = tf.tensor(rng.normalArray(y.size), y.shape);
      const cIn = keepDims ? c : tf.reshape(c, tf.max(r, axes).shape);
      const got = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(cIn, tf.max(t, axes, keepDims))))(r).dataSync();
      const stock = tf.mul(c, tf.cast(tf.equal(r, y), 'float32')).dataSync();
      assert.deepEqual(Array.from(got), Array.from(stock), `axes ${axes} keepDims ${keepDims}`);
    }
  }
  assert.ok(tf.sum(tf.cast(tf.equal(x, 0), 'float32')).dataSync()[0] > 10, 'the input should contain ties');
});

test('pool-grad-grads: HVP through avgPool (AvgPoolGrad has a gradient) matches FD', () => {
  const rng = new Rng(12);
  const x = tf.tensor(rng.normalArray(2 * 4 * 4 * 2), [2, 4, 4, 2]);
  const k = tf.tensor(rng.normalArray(3 * 3 * 2 * 2), [3, 3, 2, 2]);
  const v = tf.tensor(rng.normalArray(36), [3, 3, 2, 2]);
  const f = (kk: tf.Tensor) =>
    tf.mean(tf.tanh(tf.avgPool(tf.tanh(tf.conv2d(x as tf.Tensor4D, kk as tf.Tensor4D, 1, 'same')), 2, 2, 'valid'))) as tf.Scalar;
  const e = hvpVsFd(f, k, v);
  assert.ok(e < 1e-3, `rel err ${e}`);
});

test('op-conv-gather (wasm): conv2d and gather embeddings train and their HVPs match FD', () => {
  const rng = new Rng(13);
  const x = tf.tensor(rng.normalArray(2 * 6 * 6 * 2), [2, 6, 6, 2]);
  const k = tf.tensor(rng.normalArray(3 * 3 * 2 * 3), [3, 3, 2, 3]);
  const vk = tf.tensor(rng.normalArray(54), [3, 3, 2, 3]);
  for (const stride of [1, 2]) {
    const f = (kk: tf.Tensor) => tf.mean(tf.tanh(tf.conv2d(x as tf.Tensor4D, kk as tf.Tensor4D, stride, 'same'))) as tf.Scalar;
    const e = hvpVsFd(f, k, vk);
    assert.ok(e < 1e-3, `conv stride ${stride}: rel err ${e}`);
  }
  const table = tf.tensor(rng.normalArray(10 * 4), [10, 4]);
  const vt = tf.tensor(rng.normalArray(40), [10, 4]);
  const ids = tf.tensor([1, 3, 3, 7, 0], [5], 'int32');
  const c = tf.tensor(rng.normalArray(20), [5, 4]);
  const g = (tt: tf.Tensor) => tf.mean(tf.mul(c, tf.tanh(tf.gather(tt, ids)))) as tf.Scalar;
  const e = hvpVsFd(g, table, vt);
  assert.ok(e < 1e-3, `gather: rel err ${e}`);
  // First order: the gather gradient puts the (summed) upstream rows at the looked-up ids.
  const grad = tf.grad((tt: tf.Tensor) => tf.sum(tf.gather(tt, ids)))(table).arraySync() as number[][];
  assert.deepEqual(grad.map((r) => r[0]), [1, 1, 0, 2, 0, 0, 0, 1, 0, 0]);
});

test('matmul-transpose: gradients of every transpose combination and of broadcast batch matMul match FD', () => {
  const rng = new Rng(14);
  const a = tf.tensor(rng.normalArray(12), [3, 4]);
  const b = tf.tensor(rng.normalArray(8), [4, 2]);
  const c = tf.tensor(rng.normalArray(6), [3, 2]);
  const va = tf.tensor(rng.normalArray(12), [3, 4]);
  for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]]) {
    const A = tA ? tf.transpose(a) : a;
    const Bm = tB ? tf.transpose(b) : b;
    const f = (x: tf.Tensor) => {
      const xx = tA ? tf.transpose(x) : x;
      return tf.mean(tf.mul(c, tf.tanh(tf.matMul(xx, Bm, tA, tB)))) as tf.Scalar;
    };
    const e = hvpVsFd(f, a, va);
    assert.ok(e < 1e-3, `tA=${tA} tB=${tB}: rel err ${e}`);
    void A;
  }
  // Broadcast batch: x [2,3,4] @ w [4,2] — the w gradient must be summed over the batch.
  const x = tf.tensor(rng.normalArray(24), [2, 3, 4]);
  const gw = tf.grad((w: tf.Tensor) => tf.sum(tf.matMul(x, w)))(b);
  assert.deepEqual(gw.shape, [4, 2]);
  const expect = tf.tile(tf.reshape(tf.sum(x, [0, 1]), [4, 1]), [1, 2]);
  assert.ok(relErr(gw.dataSync(), expect.dataSync()) < 1e-6);
});
