/** The op-based conv filter gradient equals the stock cpu kernel it replaces. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/runtime/backend.ts';
import { tf } from '../../lib/runtime/tf.ts';
import { Rng } from '../../lib/runtime/rng.ts';
import { conv2dFilterGradOps } from '../../lib/runtime/gradfixes.ts';
import { relErr } from './helpers.ts';

await initBackend({ backend: 'cpu' });

test('conv2dFilterGradOps equals tf.conv2DBackpropFilter for strides 1/2 and same/valid padding', () => {
  const rng = new Rng(21);
  for (const [stride, pad, size] of [[1, 'same', 7], [2, 'same', 7], [1, 'valid', 6], [2, 'valid', 7]] as const) {
    const x = tf.tensor(rng.normalArray(2 * size * size * 3), [2, size, size, 3]) as tf.Tensor4D;
    const k = [3, 3, 3, 4] as [number, number, number, number];
    const y = tf.conv2d(x, tf.zeros(k) as tf.Tensor4D, stride, pad);
    const dy = tf.tensor(rng.normalArray(y.size), y.shape) as tf.Tensor4D;
    const ours = conv2dFilterGradOps(x, dy, k, stride, pad).dataSync();
    const stock = (tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
      strides: [stride, stride], pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: k,
    } as never) as tf.Tensor).dataSync();
    const e = relErr(ours, stock);
    assert.ok(e < 1e-5, `stride ${stride} pad ${pad}: rel err ${e}`);
  }
});
