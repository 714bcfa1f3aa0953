/**
 * The paper's MLP setting as data (design.md, "Settings at CPU scale", MLP row; Appendix D.1 of
 * Deng et al.): MNIST, 784-16-16-10 ReLU, AdamW β=(0.9, 0.95), ε=1e-8, no weight decay, constant LR
 * (default 1e-3; the paper's grid is {1e-3, 1e-4, 1e-5}), batch 64, one epoch.
 *
 * The training and test sets are seeded subsets of MNIST's 60000 / 10000 images, drawn with
 * `selectSubset` on the streams `mnist-train` / `mnist-test`, so a seed fixes the data *and* the run.
 *
 * Loading data touches no tensors; building the model does not either, so this can run before or after
 * `initBackend()` (training itself needs it).
 *
 * @module
 */
import type { Setting, SettingDescription } from './types.ts';
import { pickLr, pickPreset } from './args.ts';
import { loadDataset, type LoadOptions } from '../data/registry.ts';
import { selectSubset } from '../data/subsets.ts';
import { subset, type Dataset } from '../data/dataset.ts';
import { createModel } from '../models/registry.ts';
import { contentHash, totalSteps, validateTrainConfig, type TrainConfig } from '../train/setting.ts';

/** Sizes of one MLP preset. */
export interface MlpPresetSizes {
  /** Training examples drawn from the 60000 MNIST training images. */
  trainSize: number;
  /** Test (query) examples drawn from the 10000 MNIST test images. */
  testSize: number;
}

/**
 * Presets: `quick` keeps `npm run demo` and CI to seconds; `full` is the paper's size; `paper` equals
 * `full` (the MLP is paper-scale already, unlike the transformer settings).
 */
export const MLP_SETTING_PRESETS: Record<'quick' | 'full' | 'paper', MlpPresetSizes> = {
  quick: { trainSize: 3200, testSize: 200 },
  full: { trainSize: 6000, testSize: 500 },
  paper: { trainSize: 6000, testSize: 500 },
};

/** Name of an MLP preset. */
export type MlpPreset = keyof typeof MLP_SETTING_PRESETS;

/** Number of images in MNIST's official splits (the pools the subsets are drawn from). */
const MNIST_TRAIN_N = 60000;
const MNIST_TEST_N = 10000;

/** Default learning rate: the largest of the paper's grid, where the optimizer-mismatch effect is clearest. */
export const MLP_DEFAULT_LR = 1e-3;

/** Options of {@link loadMlpSetting}. */
export interface MlpSettingOptions {
  /** Seeds the subsets, the init and the batch order (default 0). */
  seed?: number;
  /** Constant learning rate (default {@link MLP_DEFAULT_LR}). */
  lr?: number;
  /** Where to find MNIST (cache dir, mirror, offline); default: environment / repo defaults. */
  resolve?: LoadOptions['resolve'];
}

/** The training part of the MLP setting (plain JSON). */
export function mlpTrainConfig(seed = 0, lr = MLP_DEFAULT_LR): TrainConfig {
  return {
    seed,
    batchSize: 64,
    epochs: 1,
    optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0 },
    schedule: { kind: 'constant', lr },
  };
}

/**
 * Loads the MLP setting for a preset: MNIST subsets (verified files), the 784-16-16-10 ReLU model and
 * the AdamW training setting.
 * @throws on an unknown preset, a bad seed or LR, or when MNIST cannot be found (the resolver's message)
 */
export async function loadMlpSetting(preset: string, opts: MlpSettingOptions = {}): Promise<Setting> {
  const sizes = pickPreset('mlp', MLP_SETTING_PRESETS, preset);
  const seed = opts.seed ?? 0;
  const lr = pickLr('mlp', opts.lr, MLP_DEFAULT_LR);
  const setting = mlpTrainConfig(seed, lr);
  validateTrainConfig(setting, sizes.trainSize); // also rejects a negative or fractional seed

  const load: LoadOptions = { shape: 'flat', resolve: opts.resolve };
  const [fullTrain, fullTest] = await Promise.all([loadDataset('mnist', 'train', load), loadDataset('mnist', 'test', load)]);
  if (fullTrain.n !== MNIST_TRAIN_N || fullTest.n !== MNIST_TEST_N) {
    throw new Error(`mnist: expected ${MNIST_TRAIN_N}/${MNIST_TEST_N} images, got ${fullTrain.n}/${fullTest.n}`);
  }
  const trainIds = selectSubset(MNIST_TRAIN_N, sizes.trainSize, seed, 'mnist-train');
  const testIds = selectSubset(MNIST_TEST_N, sizes.testSize, seed, 'mnist-test');
  const train = subset(fullTrain, trainIds, `mnist/train[${sizes.trainSize},seed=${seed}]`);
  const test = subset(fullTest, testIds, `mnist/test[${sizes.testSize},seed=${seed}]`);
  // Keep the ids (they map attribution rows back to MNIST) without copying the 60000-image parent's meta.
  train.meta = { ...(train.meta ?? {}), parentIds: trainIds };
  test.meta = { ...(test.meta ?? {}), parentIds: testIds };

  const modelPreset = 'paper';
  const model = createModel({ family: 'mlp', preset: modelPreset });
  const nParams = model.spec.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
  const describe: SettingDescription = {
    name: 'mlp',
    preset,
    data: {
      dataset: 'mnist',
      train: { from: 'mnist/train', poolSize: MNIST_TRAIN_N, size: sizes.trainSize, stream: 'mnist-train' },
      test: { from: 'mnist/test', poolSize: MNIST_TEST_N, size: sizes.testSize, stream: 'mnist-test' },
      files: { ...((fullTrain.meta?.files as object) ?? {}), ...((fullTest.meta?.files as object) ?? {}) },
    },
    model: { family: 'mlp', preset: modelPreset, config: model.config, nParams },
    training: setting,
    steps: totalSteps(setting, sizes.trainSize),
  };
  return { model, train, test, trainConfig: setting, describe };
}

/** sha256 of a setting description (canonical JSON): equal settings hash equally. */
export function describeHash(d: SettingDescription): string {
  return contentHash(d);
}
