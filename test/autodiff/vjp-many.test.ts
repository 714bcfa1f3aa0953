/**
 * hvpMany on models without a batched MLP path tapes the inner gradient once and walks it back once per
 * direction (lib/autodiff/vjp-many.ts): the same bits as a loop of hvp()s, no tensor left behind, and a clear
 * error when called inside another gradient.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/runtime/backend.ts';
import { tf } from '../../lib/runtime/tf.ts';
import { Rng } from '../../lib/runtime/rng.ts';
import { hvp, hvpEach, hvpMany } from '../../lib/autodiff/hvp.ts';
import { vjpMany } from '../../lib/autodiff/vjp-many.ts';
import { makeCase, tensorDelta, unavailable, unitVec } from './helpers.ts';

await initBackend({ backend: 'wasm' });

for (const family of ['cnn', 'gpt2', 'llama'] as const) {
  test(`hvpMany[${family}]: one taped gradient, K directions = K hvp() calls bit for bit, no leak`, { skip: unavailable(family) }, () => {
    const c = makeCase(family);
    try {
      const rng = new Rng(7).child(family);
      const K = 3;
      const V = new Float32Array(K * c.p);
      for (let j = 0; j < K; j++) V.set(unitVec(rng, c.p), j * c.p);
      const opts = { weights: Float32Array.from({ length: c.B }, (_, i) => 0.5 + i), divisor: 3 };
      hvpMany(c.model, c.params, c.batch, V.subarray(0, c.p), opts); // warm-up (backend caches)
      let many: Float32Array = new Float32Array();
      assert.equal(tensorDelta(() => (many = hvpMany(c.model, c.params, c.batch, V, opts))), 0, 'no tensor leak');
      for (let j = 0; j < K; j++) {
        const one = hvp(c.model, c.params, c.batch, V.subarray(j * c.p, (j + 1) * c.p), opts);
        assert.deepEqual(Array.from(many.subarray(j * c.p, (j + 1) * c.p)), Array.from(one), `direction ${j}`);
      }
      assert.ok(many.some((x) => x !== 0));
    } finally {
      c.dispose();
    }
  });
}

for (const family of ['mlp', 'cnn'] as const) {
  test(`hvpEach[${family}]: K directions bit for bit as K hvp() calls (on every engine path)`, () => {
    const c = makeCase(family);
    try {
      const rng = new Rng(11).child(family);
      const V = new Float64Array(4 * c.p);
      for (let j = 0; j < 4; j++) V.set(unitVec(rng, c.p), j * c.p);
      const each = hvpEach(c.model, c.params, c.batch, V, { divisor: 2 });
      for (let j = 0; j < 4; j++) assert.deepEqual(Array.from(each.subarray(j * c.p, (j + 1) * c.p)), Array.from(hvp(c.model, c.params, c.batch, V.subarray(j * c.p, (j + 1) * c.p), { divisor: 2 })), `direction ${j}`);
    } finally {
      c.dispose();
    }
  });
}

test('vjpMany: a linear map’s VJPs are its transpose; inside another gradient it refuses', () => {
  const A = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
  const x = tf.tensor1d([0.5, -1, 2]);
  const got: number[][] = [];
  const dys = [tf.tensor1d([1, 0]), tf.tensor1d([0, 1]), tf.tensor1d([2, -1])];
  vjpMany(() => tf.matMul(A, tf.reshape(x, [3, 1])).reshape([2]), [x], dys, (_, [g]) => got.push(Array.from(g.dataSync())));
  assert.deepEqual(got, [[1, 2, 3], [4, 5, 6], [-2, -1, 0]]);
  assert.throws(() => tf.grad((z: tf.Tensor) => {
    vjpMany(() => z.square().sum(), [z], [tf.scalar(1)], () => {});
    return z.sum();
  })(x), /must not run inside another gradient/);
  dys.forEach((d) => d.dispose());
  A.dispose();
  x.dispose();
});
