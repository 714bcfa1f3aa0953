/** The batched MLP HVP equals one double-backprop HVP per direction, and is faster. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/runtime/backend.ts';
import { tf } from '../../lib/runtime/tf.ts';
import { Rng } from '../../lib/runtime/rng.ts';
import { mlp } from '../../lib/models/mlp.ts';
import { numParams } from '../../lib/models/types.ts';
import { hvp } from '../../lib/autodiff/hvp.ts';
import { mlpHvpMany } from '../../lib/autodiff/mlp-hvp.ts';

await initBackend({ backend: 'wasm' });

for (const activation of ['relu', 'tanh', 'gelu'] as const) {
  test(`mlpHvpMany = per-direction hvp (${activation}, weighted, divisor ≠ B)`, () => {
    const model = mlp({ sizes: [10, 7, 5, 3], activation });
    const rng = new Rng(4);
    const params = model.init(rng);
    const p = numParams(model.spec);
    const B = 6;
    const batch = { x: tf.tensor(rng.normalArray(B * 10), [B, 10]), y: tf.tensor([0, 1, 2, 1, 0, 2], [B], 'int32') };
    const opts = { weights: Float32Array.from([1, 0, 0.5, 2, 1, 1]), divisor: 5 };
    const K = 5;
    const V = rng.normalArray(K * p);
    const before = tf.memory().numTensors;
    const batched = mlpHvpMany(model, params, batch, V, opts);
    assert.equal(tf.memory().numTensors, before, 'no tensor leak');
    let worst = 0;
    for (let k = 0; k < K; k++) {
      const one = hvp(model, params, batch, V.subarray(k * p, (k + 1) * p), opts);
      let num = 0, den = 0;
      for (let i = 0; i < p; i++) {
        num += (batched[k * p + i] - one[i]) ** 2;
        den += one[i] ** 2;
      }
      worst = Math.max(worst, Math.sqrt(num / den));
    }
    assert.ok(worst < 1e-5, `relative difference ${worst}`);
  });
}
