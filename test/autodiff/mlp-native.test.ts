/**
 * The host R-operator HVP of the MLP family (mlp-native.ts) against the double-backprop HVP it replaces and
 * against central finite differences of the gradient (issue #14: every speed rewrite checked against the code it
 * replaces; every HVP against FD of gradients). Runs where a native GEMM is loaded; skips saying why elsewhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, runtimeInfo } from '../../lib/runtime/backend.ts';
import { tf } from '../../lib/runtime/tf.ts';
import { Rng } from '../../lib/runtime/rng.ts';
import { blas } from '../../lib/runtime/blas.ts';
import { mlp, type MlpConfig } from '../../lib/models/mlp.ts';
import { numParams } from '../../lib/models/types.ts';
import { flattenParams, unflattenParams } from '../../lib/models/params.ts';
import { mlpHvpMany } from '../../lib/autodiff/mlp-hvp.ts';
import { mlpHvpNative } from '../../lib/autodiff/mlp-native.ts';
import { hvpMany } from '../../lib/autodiff/hvp.ts';
import { lossAndGrad } from '../../lib/autodiff/loss.ts';
import { ggnProduct, ggnProductGraph } from '../../lib/autodiff/curvature.ts';

await initBackend({ backend: 'wasm' });
const skip = runtimeInfo().blas ? false : `no native GEMM in this engine (${runtimeInfo().blasStatus})`;

const rel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
};

for (const activation of ['relu', 'tanh', 'gelu'] as const) {
  test(`native MLP HVP = double-backprop HVP (${activation}, 3 layers, weighted, divisor ≠ B, K = 7)`, { skip }, () => {
    const config: MlpConfig = { sizes: [10, 7, 5, 3], activation };
    const model = mlp(config);
    const rng = new Rng(4);
    const params = model.init(rng);
    const p = numParams(model.spec);
    const B = 6;
    const xs = rng.normalArray(B * 10);
    const ys = [0, 1, 2, 1, 0, 2];
    const batch = { x: tf.tensor(xs, [B, 10]), y: tf.tensor(ys, [B], 'int32') };
    const weights = Float32Array.from([1, 0, 0.5, 2, 1, 1]);
    const opts = { weights, divisor: 5 };
    const K = 7;
    const V = rng.normalArray(K * p);
    const ref = mlpHvpMany(model, params, batch, V, opts);
    const coef = Float64Array.from(weights, (w) => w / 5);
    const got = mlpHvpNative(blas()!, config, flattenParams(params, model.spec), xs, ys, coef, V, K);
    for (let k = 0; k < K; k++) {
      const r = rel(got.subarray(k * p, (k + 1) * p), ref.subarray(k * p, (k + 1) * p));
      assert.ok(r < 2e-5, `direction ${k}: relative difference ${r}`);
    }
    // hvpMany dispatches to it when the engine has a native GEMM (same numbers).
    assert.deepEqual(Array.from(hvpMany(model, params, batch, V, opts)), Array.from(got));
    tf.dispose([...Object.values(params), batch.x, batch.y]);
  });
}

test('native MLP HVP matches central differences of the gradient (tanh, the paper-shaped 784-16-16-10 too)', { skip }, () => {
  for (const config of [{ sizes: [12, 9, 4], activation: 'tanh' }, { sizes: [784, 16, 16, 10], activation: 'tanh' }] as MlpConfig[]) {
    const model = mlp(config);
    const rng = new Rng(7);
    const params = model.init(rng);
    const theta = flattenParams(params, model.spec);
    const p = theta.length;
    const B = 16;
    const xs = rng.normalArray(B * config.sizes[0]).map((x) => 0.1 * x); // MNIST-scale inputs: tanh not saturated
    const ys = Array.from({ length: B }, (_, i) => i % config.sizes.at(-1)!);
    const batch = { x: tf.tensor(xs, [B, config.sizes[0]]), y: tf.tensor(ys, [B], 'int32') };
    const v = rng.normalArray(p);
    const hv = mlpHvpNative(blas()!, config, theta, xs, ys, new Float64Array(B).fill(1 / B), v, 1);
    const eps = 3e-3; // O(ε²) truncation below float32 noise of the gradient difference
    const at = (sgn: number) => {
      const t = Float32Array.from(theta, (x, i) => x + sgn * eps * v[i]);
      const ps = unflattenParams(t, model.spec);
      const g = lossAndGrad(model, ps, batch).grad;
      tf.dispose(Object.values(ps));
      return g;
    };
    const gp = at(1);
    const gm = at(-1);
    const fd = Float64Array.from(gp, (x, i) => (x - gm[i]) / (2 * eps));
    const r = rel(hv, fd);
    assert.ok(r < 1e-3, `${config.sizes.join('-')}: HVP vs central FD relative error ${r}`);
    tf.dispose([...Object.values(params), batch.x, batch.y]);
  }
});

for (const activation of ['relu', 'tanh', 'gelu'] as const) {
  test(`native MLP Gauss–Newton product = ggnProduct (${activation}, weighted)`, { skip }, () => {
    const config: MlpConfig = { sizes: [10, 7, 5, 3], activation };
    const model = mlp(config);
    const rng = new Rng(9);
    const params = model.init(rng);
    const p = numParams(model.spec);
    const B = 6;
    const xs = rng.normalArray(B * 10);
    const ys = [0, 1, 2, 1, 0, 2];
    const batch = { x: tf.tensor(xs, [B, 10]), y: tf.tensor(ys, [B], 'int32') };
    const weights = Float32Array.from([1, 0.3, 0.5, 2, 1, 1]);
    const K = 3;
    const V = rng.normalArray(K * p);
    const got = mlpHvpNative(blas()!, config, flattenParams(params, model.spec), xs, ys, Float64Array.from(weights, (w) => w / 4), V, K, { ggn: true });
    for (let k = 0; k < K; k++) {
      const vk = V.subarray(k * p, (k + 1) * p);
      const ref = ggnProductGraph(model, params, batch, vk, { weights, divisor: 4 });
      const r = rel(got.subarray(k * p, (k + 1) * p), ref);
      assert.ok(r < 2e-5, `direction ${k}: relative difference ${r}`);
      // ggnProduct dispatches to the host pass on this engine.
      assert.deepEqual(Array.from(ggnProduct(model, params, batch, vk, { weights, divisor: 4 })), Array.from(got.subarray(k * p, (k + 1) * p)));
    }
    tf.dispose([...Object.values(params), batch.x, batch.y]);
  });
}
