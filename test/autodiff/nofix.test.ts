/**
 * Without the `tape-order` gradient fix, second-order functions must refuse to run (stock tfjs 4.22
 * returns silently wrong HVPs). The backend is per process, so this file initialises it with no fixes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/runtime/backend.ts';
import { Rng } from '../../lib/runtime/rng.ts';
import { hvp, hvpMany } from '../../lib/autodiff/hvp.ts';
import { curvatureProduct, ggnProduct } from '../../lib/autodiff/curvature.ts';
import { lossAndGrad } from '../../lib/autodiff/loss.ts';
import { makeCase, unitVec } from './helpers.ts';

const info = await initBackend({ backend: 'wasm', fixes: [] });

test('second-order functions throw a clear error when the tape-order fix is not active', () => {
  assert.deepEqual(info.gradFixes, []);
  const c = makeCase('mlp');
  try {
    const v = unitVec(new Rng(1), c.p);
    const re = /'tape-order' gradient fix is not active.*silently returns wrong/s;
    assert.throws(() => hvp(c.model, c.params, c.batch, v), re);
    assert.throws(() => hvpMany(c.model, c.params, c.batch, v), re);
    assert.throws(() => ggnProduct(c.model, c.params, c.batch, v), re);
    assert.throws(() => curvatureProduct('exact', c.model, c.params, c.batch, v), re);
    // First-order quantities do not need the fix.
    assert.equal(lossAndGrad(c.model, c.params, c.batch).grad.length, c.p);
    assert.equal(curvatureProduct('fisher', c.model, c.params, c.batch, v).length, c.p);
  } finally {
    c.dispose();
  }
});
