/** The weighted batch loss L = (1/D) Σ w_i ℓ_i, its gradient (vs FD of the loss), leaks and errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/runtime/backend.ts';
import { tf } from '../../lib/runtime/tf.ts';
import { Rng } from '../../lib/runtime/rng.ts';
import { flattenParams, unflattenParams, disposeParams } from '../../lib/models/params.ts';
import { lossAndGrad, weightedBatchLoss } from '../../lib/autodiff/loss.ts';
import { dot, makeCase, tensorDelta, unitVec } from './helpers.ts';

await initBackend({ backend: 'wasm' });

test('weightedBatchLoss = (1/D) Σ w_i ℓ_i; defaults to the mean; gradient matches FD directional derivative', () => {
  const c = makeCase('cnn', { B: 5 });
  try {
    const ell = Float64Array.from(tf.tidy(() => new Float32Array(c.model.perExampleLoss(c.params, c.batch).dataSync())));
    const w = Float64Array.from([1, 0, -2, 0.5, 3]);
    const L = weightedBatchLoss(c.model, c.params, c.batch, w, 4);
    const want = ell.reduce((s, l, i) => s + (w[i] * l) / 4, 0);
    assert.ok(Math.abs(L.dataSync()[0] - want) < 1e-5 * Math.max(1, Math.abs(want)), `${L.dataSync()[0]} vs ${want}`);
    L.dispose();
    const mean = lossAndGrad(c.model, c.params, c.batch).loss;
    assert.ok(Math.abs(mean - ell.reduce((a, b) => a + b, 0) / 5) < 1e-5);
    // ∇L · v vs (L(θ+εv) − L(θ−εv)) / 2ε.
    const v = unitVec(new Rng(3), c.p);
    const { grad } = lossAndGrad(c.model, c.params, c.batch, { weights: w, divisor: 4 });
    const theta = flattenParams(c.params, c.model.spec);
    const eps = 1e-2;
    const at = (s: number) => {
      const ps = unflattenParams(Float64Array.from(theta, (t, k) => t + s * eps * v[k]), c.model.spec);
      const l = lossAndGrad(c.model, ps, c.batch, { weights: w, divisor: 4 }).loss;
      disposeParams(ps);
      return l;
    };
    const fd = (at(1) - at(-1)) / (2 * eps);
    const e = Math.abs(dot(grad, v) - fd) / Math.abs(fd);
    console.log(`lossAndGrad cnn-tiny: directional derivative vs FD rel.err ${e.toExponential(2)}`);
    assert.ok(e < 1e-2, `gradient vs FD: ${e}`);
  } finally {
    c.dispose();
  }
});

test('loss: no tensor leak; bad weights/divisor give named errors', () => {
  const c = makeCase('mlp');
  try {
    lossAndGrad(c.model, c.params, c.batch);
    assert.equal(tensorDelta(() => lossAndGrad(c.model, c.params, c.batch, { weights: new Float32Array(c.B).fill(1) })), 0);
    assert.equal(tensorDelta(() => weightedBatchLoss(c.model, c.params, c.batch).dispose()), 0);
    assert.throws(() => weightedBatchLoss(c.model, c.params, c.batch, new Float32Array(c.B - 1)), /'weights' has length 3, expected the batch size B = 4/);
    assert.throws(() => lossAndGrad(c.model, c.params, c.batch, { divisor: NaN }), /'divisor' must be a finite number > 0/);
    assert.throws(() => lossAndGrad(c.model, c.params, c.batch, { weights: Float32Array.from([1, NaN, 1, 1]) }), /'weights\[1\]' is NaN/);
    const { [c.model.spec[0].name]: _drop, ...partial } = c.params;
    assert.throws(() => lossAndGrad(c.model, partial, c.batch), /missing parameter 'l0.w'/);
  } finally {
    c.dispose();
  }
});
