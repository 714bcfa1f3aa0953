/**
 * Per-sample gradients and dot products: Σ_i g_i / B = batch gradient for every family, MLP fast
 * path = loop path (relu / tanh / gelu, ≤ 1e-6 relative), ghost dot products = explicit dots, leaks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/runtime/backend.ts';
import { Rng } from '../../lib/runtime/rng.ts';
import { lossAndGrad, queryGrads } from '../../lib/autodiff/loss.ts';
import { hasFastPerSample, perSampleDots, perSampleGrads } from '../../lib/autodiff/persample.ts';
import { dot, FAMILIES, makeCase, norm, relErr, tensorDelta, unavailable, unitVec } from './helpers.ts';

await initBackend({ backend: 'wasm' });

for (const family of FAMILIES) {
  test(`perSampleGrads ${family}: mean of per-sample grads = batch gradient; loop dots = explicit`, { skip: unavailable(family) }, () => {
    const c = makeCase(family, { B: 5 });
    try {
      const G = perSampleGrads(c.model, c.params, c.batch);
      assert.equal(G.length, c.B * c.p);
      const mean = new Float64Array(c.p);
      for (let i = 0; i < c.B; i++) for (let k = 0; k < c.p; k++) mean[k] += G[i * c.p + k] / c.B;
      const { grad } = lossAndGrad(c.model, c.params, c.batch);
      const e = relErr(mean, grad);
      console.log(`perSampleGrads ${c.name} (${hasFastPerSample(c.model) ? 'fast' : 'loop'}): mean vs batch gradient rel.err ${e.toExponential(2)}`);
      assert.ok(e < 1e-5, `Σ g_i / B differs from ∇L: ${e}`);
      // Control: a per-sample set from another batch does not average to this gradient.
      const G2 = perSampleGrads(c.model, c.params, c.batch2);
      const m2 = new Float64Array(c.p);
      for (let i = 0; i < c.B; i++) for (let k = 0; k < c.p; k++) m2[k] += G2[i * c.p + k] / c.B;
      assert.ok(relErr(m2, grad) > 1e-2);
      // Dots (k = 2) against explicit float64 dots of the loop-path gradients.
      const rng = new Rng(6);
      const U = new Float32Array(2 * c.p);
      U.set(unitVec(rng, c.p), 0);
      U.set(unitVec(rng, c.p), c.p);
      const D = perSampleDots(c.model, c.params, c.batch, U, { method: 'loop' });
      for (let i = 0; i < c.B; i++) {
        for (let j = 0; j < 2; j++) {
          const ref = dot(G.subarray(i * c.p, (i + 1) * c.p), U.subarray(j * c.p, (j + 1) * c.p));
          assert.ok(Math.abs(D[i * 2 + j] - ref) <= 1e-5 * Math.max(1e-6, norm(G.subarray(i * c.p, (i + 1) * c.p))), `dot (${i},${j})`);
        }
      }
    } finally {
      c.dispose();
    }
  });
}

for (const activation of ['tanh', 'relu', 'gelu'] as const) {
  test(`perSampleGrads mlp-${activation}: fast (outer-product) path = loop path; ghost dots = loop dots`, () => {
    const c = makeCase('mlp', { config: { sizes: [12, 7, 5, 4], activation }, B: 6 });
    try {
      assert.ok(hasFastPerSample(c.model));
      const fast = perSampleGrads(c.model, c.params, c.batch, { method: 'fast' });
      const loop = perSampleGrads(c.model, c.params, c.batch, { method: 'loop' });
      const e = relErr(fast, loop);
      let worstRow = 0;
      for (let i = 0; i < c.B; i++) {
        worstRow = Math.max(worstRow, relErr(fast.subarray(i * c.p, (i + 1) * c.p), loop.subarray(i * c.p, (i + 1) * c.p)));
      }
      const rng = new Rng(12);
      const k = 3;
      const U = new Float32Array(k * c.p);
      for (let j = 0; j < k; j++) U.set(unitVec(rng, c.p), j * c.p);
      const dFast = perSampleDots(c.model, c.params, c.batch, U, { method: 'fast' });
      const dLoop = perSampleDots(c.model, c.params, c.batch, U, { method: 'loop' });
      let worstDot = 0;
      for (let i = 0; i < c.B; i++) {
        const gn = norm(loop.subarray(i * c.p, (i + 1) * c.p));
        for (let j = 0; j < k; j++) worstDot = Math.max(worstDot, Math.abs(dFast[i * k + j] - dLoop[i * k + j]) / gn);
      }
      console.log(`mlp-${activation} fast vs loop: grads rel.err ${e.toExponential(2)} (worst row ${worstRow.toExponential(2)}), ghost dots ${worstDot.toExponential(2)} (rel. to ‖g_i‖‖u‖)`);
      assert.ok(worstRow <= 1e-6, `fast path differs from loop path: ${worstRow}`);
      assert.ok(worstDot <= 1e-6, `ghost dots differ: ${worstDot}`);
      assert.deepEqual(queryGrads(c.model, c.params, c.batch), fast);
    } finally {
      c.dispose();
    }
  });
}

test('persample: no tensor leak (both paths); bad input errors', () => {
  for (const family of ['mlp', 'cnn']) {
    const c = makeCase(family);
    try {
      const U = unitVec(new Rng(1), c.p);
      for (const method of family === 'mlp' ? (['fast', 'loop'] as const) : (['loop'] as const)) {
        perSampleGrads(c.model, c.params, c.batch, { method }); // warm-up
        assert.equal(tensorDelta(() => perSampleGrads(c.model, c.params, c.batch, { method })), 0, `${family} ${method} grads`);
        assert.equal(tensorDelta(() => perSampleDots(c.model, c.params, c.batch, U, { method })), 0, `${family} ${method} dots`);
      }
      assert.equal(tensorDelta(() => queryGrads(c.model, c.params, c.batch)), 0);
      assert.throws(() => perSampleDots(c.model, c.params, c.batch, new Float32Array(c.p + 2)), /'U' has length \d+, expected a positive multiple of p/);
      assert.throws(() => perSampleGrads(c.model, c.params, c.batch, { method: 'nope' as never }), /unknown method 'nope'/);
      if (family === 'cnn') {
        assert.throws(() => perSampleGrads(c.model, c.params, c.batch, { method: 'fast' }), /'fast' has no implementation for model family 'cnn'/);
      }
    } finally {
      c.dispose();
    }
  }
});
