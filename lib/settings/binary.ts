/**
 * The binary classification tasks of the ACC-SGD-IE paper (arXiv 2510.26185): a dataset (UCI Adult, 20 Newsgroups
 * binary, MNIST 1-vs-7) split into n training, n validation and nTest test examples by seed, a small ReLU MLP, and
 * the paper's plain-SGD training. The mean validation loss is the attributed quantity ({@link meanLossQuery},
 * {@link meanLossModel}). Shared by the acc-epochs, cleansing and final-model findings.
 *
 * @module
 */
import { tf } from '../runtime/tf.ts';
import { loadDataset } from '../data/registry.ts';
import { selectSubset } from '../data/subsets.ts';
import { subset, type Dataset } from '../data/dataset.ts';
import { makeBatch } from '../data/batch.ts';
import { createModel } from '../models/registry.ts';
import type { Model, Params } from '../models/types.ts';
import type { TrainConfig } from '../train/setting.ts';
import type { Trajectory } from '../train/trajectory.ts';

/** The binary datasets of paper 2. */
export const ACC_DATASETS = ['adult', '20news-binary', 'mnist-1v7'] as const;
export type AccDataset = (typeof ACC_DATASETS)[number];

/** A binary task of paper 2 at a given size, with the DNN and its SGD hyper-parameters. */
export interface BinaryTaskSpec {
  dataset: AccDataset;
  /** n_tr = n_val (the paper's `--datasize`). */
  n: number;
  /** Test examples (for reporting the model's test loss / accuracy only). */
  nTest: number;
  /** Hidden widths (paper: [8, 8]). */
  hidden: number[];
  batchSize: number;
  lr: number;
}

/** The data and model of one (setting, seed). */
export interface BinaryTask {
  train: Dataset;
  val: Dataset;
  test: Dataset;
  model: Model;
  /** Ids into the dataset's training split (train then val) and test split. */
  source: { trainIds: number[]; valIds: number[]; testIds: number[] };
  /** Training rows whose label was flipped (label noise; empty without). */
  flipped: number[];
}

const splitCache = new Map<string, Promise<{ train: Dataset; test: Dataset }>>();

function loadSplits(name: AccDataset): Promise<{ train: Dataset; test: Dataset }> {
  let p = splitCache.get(name);
  if (!p) {
    p = Promise.all([loadDataset(name, 'train'), loadDataset(name, 'test')]).then(([train, test]) => ({ train, test }));
    splitCache.set(name, p);
    p.catch(() => splitCache.delete(name));
  }
  return p;
}

/**
 * Seeded train / validation / test subsets of a binary dataset (fresh copies) and the d-hidden-2 ReLU MLP.
 * `labelNoise` ∈ [0, 1) flips the labels of a seeded ⌊labelNoise·n⌋ training rows (paper 2's `--noise`);
 * validation and test stay clean.
 */
export async function loadBinaryTask(spec: BinaryTaskSpec, seed: number, labelNoise = 0): Promise<BinaryTask> {
  if (!(labelNoise >= 0 && labelNoise < 1)) throw new Error(`binary task: labelNoise must be in [0, 1), got ${labelNoise}`);
  if (!ACC_DATASETS.includes(spec.dataset)) throw new Error(`binary task: unknown dataset '${spec.dataset}'; known: ${ACC_DATASETS.join(', ')}`);
  const { train: tr, test: te } = await loadSplits(spec.dataset);
  if (2 * spec.n > tr.n) throw new Error(`binary task: n_tr + n_val = ${2 * spec.n} > ${tr.n} training examples of '${spec.dataset}'`);
  if (spec.nTest > te.n) throw new Error(`binary task: nTest ${spec.nTest} > ${te.n} test examples of '${spec.dataset}'`);
  const ids = selectSubset(tr.n, 2 * spec.n, seed, 'acc-train-val');
  const trainIds = ids.slice(0, spec.n);
  const valIds = ids.slice(spec.n);
  const testIds = selectSubset(te.n, spec.nTest, seed, 'acc-test');
  const d = tr.xShape.reduce((a, b) => a * b, 1);
  const model = createModel({ family: 'mlp', config: { sizes: [d, ...spec.hidden, 2], activation: 'relu' } });
  const train = subset(tr, trainIds, `${spec.dataset}/train[${spec.n}]${labelNoise ? `+noise${labelNoise}` : ''}`);
  const flipped = labelNoise > 0 ? selectSubset(spec.n, Math.floor(labelNoise * spec.n), seed, 'label-noise').sort((a, b) => a - b) : [];
  for (const i of flipped) train.y[i] = 1 - train.y[i];
  return {
    train,
    val: subset(tr, valIds, `${spec.dataset}/val[${spec.n}]`),
    test: subset(te, testIds, `${spec.dataset}/test[${spec.nTest}]`),
    model,
    source: { trainIds, valIds, testIds },
    flipped,
  };
}

/** The plain-SGD training setting of paper 2 (no momentum, α = 0, constant LR). */
export function binaryTrainConfig(spec: BinaryTaskSpec, seed: number, epochs: number): TrainConfig {
  return {
    seed,
    batchSize: spec.batchSize,
    epochs,
    optimizer: { kind: 'sgd', momentum: 0, weightDecay: 0 },
    schedule: { kind: 'constant', lr: spec.lr },
  };
}

/**
 * The validation set as ONE query example: x `[1, n_val, ...xShape]`, y `[1, n_val]`. Use with
 * {@link meanLossModel}, whose per-example loss of this example is the mean validation loss.
 */
export function meanLossQuery(val: Dataset): Dataset {
  if (val.yShape.length !== 0) throw new Error(`meanLossQuery: '${val.name}' is not a classification dataset`);
  return { name: `mean-loss(${val.name})`, n: 1, x: val.x, xShape: [val.n, ...val.xShape], y: val.y, yShape: [val.n], classes: val.classes };
}

/**
 * `inner` with one change: an example whose target has a trailing axis (y `[B, m]`, from
 * {@link meanLossQuery}) gets the mean of the inner per-example losses of its m rows. Training batches
 * (y `[B]`) are passed through unchanged. The config omits `sizes`, so the MLP per-sample fast path (which
 * would not see this loss) is never used for it; gradients go through the generic autodiff loop.
 */
export function meanLossModel(inner: Model): Model {
  return {
    family: inner.family,
    config: { wraps: inner.config, query: 'mean-loss' },
    spec: inner.spec,
    init: (rng) => inner.init(rng),
    logits: (p: Params, x: tf.Tensor) => inner.logits(p, x),
    perExampleLoss(p, b) {
      if (b.y.rank === 1) return inner.perExampleLoss(p, b);
      return tf.tidy(() => {
        const [B, m] = b.y.shape;
        const x = tf.reshape(b.x, [B * m, ...b.x.shape.slice(2)]);
        const l = inner.perExampleLoss(p, { x, y: tf.reshape(b.y, [B * m]) });
        return tf.mean(tf.reshape(l, [B, m]), 1) as tf.Tensor1D;
      });
    },
  };
}

/** Mean loss and accuracy of θ on a dataset. */
export function evaluateParams(model: Model, params: Params, ds: Dataset): { loss: number; accuracy: number } {
  const [loss, acc] = tf.tidy(() => {
    const b = makeBatch(ds, Array.from({ length: ds.n }, (_, i) => i));
    const l = tf.mean(model.perExampleLoss(params, b));
    const a = tf.mean(tf.cast(tf.equal(tf.argMax(model.logits(params, b.x), -1), b.y), 'float32'));
    return tf.stack([l, a]).dataSync();
  });
  return { loss, accuracy: acc };
}

/** Final-state evaluation of a trajectory. */
export function evaluateFinal(model: Model, traj: Trajectory, ds: Dataset): { loss: number; accuracy: number } {
  const p = traj.states.params(traj.manifest.steps);
  try {
    return evaluateParams(model, p, ds);
  } finally {
    tf.dispose(Object.values(p));
  }
}
