/**
 * Small convolutional classifier: [conv3×3 → ReLU → 2×2 max-pool] × n → dense.
 *
 * Parameters: `c{i}.w` `[3, 3, cin, cout]`, `c{i}.b` `[cout]`, `fc.w` `[flat, classes]`, `fc.b`.
 * Convs use 'same' padding, stride 1; pooling is reshape+max (exact on wasm, see nn.ts).
 *
 * @module
 */
import { tf } from '../runtime/tf.ts';
import type { Rng } from '../runtime/rng.ts';
import { crossEntropyRows, dense, init, maxPool2x2 } from './nn.ts';
import type { Batch, Model, ParamSpec, Params } from './types.ts';

/** CNN configuration. */
export interface CnnConfig {
  /** Input `[H, W, C]`, e.g. `[28, 28, 1]` (Fashion-MNIST) or `[32, 32, 3]` (CIFAR-10). */
  input: [number, number, number];
  /** Output channels of each conv block. */
  channels: number[];
  classes: number;
}

/** Presets: `small` is the CPU-scale image setting; `tiny` is for finite-difference tests. */
export const CNN_PRESETS: Record<string, CnnConfig> = {
  tiny: { input: [8, 8, 1], channels: [3, 4], classes: 3 },
  small: { input: [28, 28, 1], channels: [8, 16], classes: 10 },
  cifar: { input: [32, 32, 3], channels: [16, 32], classes: 10 },
  paper: { input: [32, 32, 3], channels: [32, 64], classes: 10 },
};

/** Builds a CNN. Input `x` is `[B, H, W, C]` float32 (or `[B, H·W·C]`, reshaped). */
export function cnn(config: CnnConfig): Model<CnnConfig> {
  const [H, W, C] = config.input;
  const n = config.channels.length;
  if (H % 2 ** n || W % 2 ** n) {
    throw new Error(`cnn: input ${H}×${W} must be divisible by 2^${n} for ${n} pooling stages`);
  }
  const spec: ParamSpec[] = [];
  let cin = C;
  config.channels.forEach((cout, i) => {
    spec.push({ name: `c${i}.w`, shape: [3, 3, cin, cout] });
    spec.push({ name: `c${i}.b`, shape: [cout] });
    cin = cout;
  });
  const flat = (H / 2 ** n) * (W / 2 ** n) * cin;
  spec.push({ name: 'fc.w', shape: [flat, config.classes] });
  spec.push({ name: 'fc.b', shape: [config.classes] });

  const logits = (p: Params, x: tf.Tensor): tf.Tensor => {
    let h = x.rank === 4 ? x : tf.reshape(x, [x.shape[0], H, W, C]);
    for (let i = 0; i < n; i++) {
      h = tf.conv2d(h as tf.Tensor4D, p[`c${i}.w`] as tf.Tensor4D, 1, 'same');
      h = maxPool2x2(tf.relu(tf.add(h, p[`c${i}.b`])));
    }
    return dense(tf.reshape(h, [h.shape[0], flat]), p['fc.w'], p['fc.b']);
  };
  return {
    family: 'cnn',
    config,
    spec,
    init(rng: Rng): Params {
      const r = rng.child('cnn-init');
      const p: Params = {};
      for (const s of spec) {
        const fanIn = s.name === 'fc.w' || s.name === 'fc.b' ? flat : 9 * (s.shape.length === 4 ? s.shape[2] : spec[spec.indexOf(s) - 1].shape[2]);
        p[s.name] = init.kaimingUniform(r, s.shape, fanIn);
      }
      return p;
    },
    logits,
    perExampleLoss(p: Params, batch: Batch): tf.Tensor1D {
      return crossEntropyRows(logits(p, batch.x), batch.y);
    },
  };
}
