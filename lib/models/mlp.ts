/**
 * Multi-layer perceptron classifier (the paper's MLP setting is 784-16-16-10 ReLU).
 *
 * Parameters: `l{i}.w` `[in, out]`, `l{i}.b` `[out]` for i = 0..L-1. Init: PyTorch's `nn.Linear` default
 * (uniform ±1/√fanIn for weights and biases).
 *
 * @module
 */
import { tf } from '../runtime/tf.ts';
import type { Rng } from '../runtime/rng.ts';
import { crossEntropyRows, dense, geluTanh, init } from './nn.ts';
import type { Batch, Model, ParamSpec, Params } from './types.ts';

/** MLP configuration. */
export interface MlpConfig {
  /** Layer widths including input and output, e.g. `[784, 16, 16, 10]`. */
  sizes: number[];
  /** Hidden activation. */
  activation: 'relu' | 'tanh' | 'gelu';
}

/** Presets: `small` is the paper's MNIST MLP; `tiny` is for finite-difference tests. */
export const MLP_PRESETS: Record<string, MlpConfig> = {
  tiny: { sizes: [12, 6, 4], activation: 'tanh' },
  small: { sizes: [784, 16, 16, 10], activation: 'relu' },
  paper: { sizes: [784, 16, 16, 10], activation: 'relu' },
};

function act(kind: MlpConfig['activation'], x: tf.Tensor): tf.Tensor {
  if (kind === 'relu') return tf.relu(x);
  if (kind === 'tanh') return tf.tanh(x);
  return geluTanh(x);
}

/** Builds an MLP model. Input `x` is `[B, sizes[0]]` float32 (or any `[B, ...]` that flattens to it). */
export function mlp(config: MlpConfig): Model<MlpConfig> {
  const { sizes } = config;
  if (sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s <= 0)) {
    throw new Error(`mlp: sizes must be ≥2 positive integers, got [${sizes}]`);
  }
  if (!['relu', 'tanh', 'gelu'].includes(config.activation)) {
    throw new Error(`mlp: unknown activation '${config.activation}' (relu | tanh | gelu)`);
  }
  const spec: ParamSpec[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    spec.push({ name: `l${i}.w`, shape: [sizes[i], sizes[i + 1]] });
    spec.push({ name: `l${i}.b`, shape: [sizes[i + 1]] });
  }
  const L = sizes.length - 1;
  const logits = (p: Params, x: tf.Tensor): tf.Tensor => {
    let h = x.rank === 2 ? x : tf.reshape(x, [x.shape[0], -1]);
    for (let i = 0; i < L; i++) {
      h = dense(h, p[`l${i}.w`], p[`l${i}.b`]);
      if (i < L - 1) h = act(config.activation, h);
    }
    return h;
  };
  return {
    family: 'mlp',
    config,
    spec,
    init(rng: Rng): Params {
      const r = rng.child('mlp-init');
      const p: Params = {};
      for (let i = 0; i < L; i++) {
        p[`l${i}.w`] = init.kaimingUniform(r, [sizes[i], sizes[i + 1]], sizes[i]);
        p[`l${i}.b`] = init.kaimingUniform(r, [sizes[i + 1]], sizes[i]);
      }
      return p;
    },
    logits,
    perExampleLoss(p: Params, batch: Batch): tf.Tensor1D {
      return crossEntropyRows(logits(p, batch.x), batch.y);
    },
  };
}
