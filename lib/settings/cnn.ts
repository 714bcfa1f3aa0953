/**
 * The CNN setting (design.md, "Settings at CPU scale", CNN row). The paper's CNN setting (dataset,
 * architecture, optimizer, sizes) is unknown (papers.md §1.11: NOT FOUND), so these are our choices:
 *
 * | preset  | data                                             | model (models/cnn.ts)                  | training                              |
 * |---------|--------------------------------------------------|----------------------------------------|---------------------------------------|
 * | `quick` | Fashion-MNIST 28×28×1: 320 train / 100 test      | channels [4, 8], dense 392→10 (4,266 p) | AdamW, batch 32, 1 epoch (10 steps)   |
 * | `full`  | CIFAR-10 subset 32×32×3: all 4000 / 1000         | channels [8, 16], dense 1024→10 (11,642 p) | AdamW, batch 64, 1 epoch (63 steps) |
 * | `paper` | = `full` (the CNN is CPU-scale already)          |                                        |                                       |
 *
 * Model: [conv 3×3 'same' → ReLU → 2×2 max-pool] × 2 → dense (pooling after ReLU, so the wasm
 * MaxPoolGrad bug of engine.md §1.1 cannot bite). AdamW β = (0.9, 0.999) (PyTorch's defaults; the paper's
 * MLP uses 0.95 but nothing is known for its CNN), ε = 1e-8, no weight decay, constant LR (default 1e-3;
 * grid {1e-3, 1e-4}).
 *
 * Why this size: the CNN backward is tfjs-wasm's weak spot (engine.md §1.1: the filter gradient is an
 * im2col matMul, ~20× the forward). TSLOO here is one branched rerun per scored sample (sequential), so
 * its cost is Σ_z (T − b_z) ≈ 100 · T/2 steps for 100 samples in one epoch. Measured (Node, wasm, 2-core
 * machine under a load average of 3–6 from other jobs): `full` ≈ 630 ms/step ([16, 32] channels: 850 ms),
 * `quick` ≈ 100 ms/step. So `full` TSLOO over 100 samples ≈ 100 · 32 · 0.63 s ≈ 35 min; two epochs would
 * be ≈ 100 min, hence one epoch.
 *
 * Subsets: `quick` draws seeded subsets (`selectSubset` streams `fashion-train` / `fashion-test`);
 * `full` uses the whole 4000 / 1000 CIFAR-10 subset (data_batch_1 / test_batch heads, lib/data), whose
 * order is fixed, so the seed fixes the init and the batch order only.
 *
 * @module
 */
import { pickLr, pickPreset } from './args.ts';
import { loadDataset, type LoadOptions } from '../data/registry.ts';
import { selectSubset } from '../data/subsets.ts';
import { subset, type Dataset } from '../data/dataset.ts';
import { createModel } from '../models/registry.ts';
import { numParams } from '../models/types.ts';
import type { CnnConfig } from '../models/cnn.ts';
import { totalSteps, validateTrainConfig, type TrainConfig } from '../train/setting.ts';
import type { Setting, SettingDescription } from './types.ts';

/** One CNN preset. */
export interface CnnPresetSpec {
  dataset: 'fashion-mnist' | 'cifar10';
  /** Pool sizes of the dataset's splits (checked on load). */
  poolTrain: number;
  poolTest: number;
  trainSize: number;
  testSize: number;
  model: CnnConfig;
  batchSize: number;
  epochs: number;
}

/** The presets (see the module doc for the reasons). */
export const CNN_SETTING_PRESETS: Record<'quick' | 'full' | 'paper', CnnPresetSpec> = {
  quick: {
    dataset: 'fashion-mnist', poolTrain: 60000, poolTest: 10000, trainSize: 320, testSize: 100,
    model: { input: [28, 28, 1], channels: [4, 8], classes: 10 }, batchSize: 32, epochs: 1,
  },
  full: {
    dataset: 'cifar10', poolTrain: 4000, poolTest: 1000, trainSize: 4000, testSize: 1000,
    model: { input: [32, 32, 3], channels: [8, 16], classes: 10 }, batchSize: 64, epochs: 1,
  },
  paper: {
    dataset: 'cifar10', poolTrain: 4000, poolTest: 1000, trainSize: 4000, testSize: 1000,
    model: { input: [32, 32, 3], channels: [8, 16], classes: 10 }, batchSize: 64, epochs: 1,
  },
};

/** Default LR (largest of the grid {1e-3, 1e-4}). */
export const CNN_DEFAULT_LR = 1e-3;

/** Options of {@link loadCnnSetting}. */
export interface CnnSettingOptions {
  seed?: number;
  lr?: number;
  resolve?: LoadOptions['resolve'];
}

/** The training part of a CNN preset (plain JSON). */
export function cnnTrainConfig(p: CnnPresetSpec, seed = 0, lr = CNN_DEFAULT_LR): TrainConfig {
  return {
    seed,
    batchSize: p.batchSize,
    epochs: p.epochs,
    optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
    schedule: { kind: 'constant', lr },
  };
}

/**
 * Loads the CNN setting for a preset.
 * @throws on an unknown preset, a bad seed or LR, or missing data files (the resolver's message)
 */
export async function loadCnnSetting(preset: string, opts: CnnSettingOptions = {}): Promise<Setting> {
  const p = pickPreset('cnn', CNN_SETTING_PRESETS, preset);
  const seed = opts.seed ?? 0;
  const lr = pickLr('cnn', opts.lr, CNN_DEFAULT_LR);
  const setting = cnnTrainConfig(p, seed, lr);
  validateTrainConfig(setting, p.trainSize);

  const load: LoadOptions = { shape: 'image', resolve: opts.resolve };
  const [fullTrain, fullTest] = await Promise.all([loadDataset(p.dataset, 'train', load), loadDataset(p.dataset, 'test', load)]);
  if (fullTrain.n !== p.poolTrain || fullTest.n !== p.poolTest) {
    throw new Error(`${p.dataset}: expected ${p.poolTrain}/${p.poolTest} examples, got ${fullTrain.n}/${fullTest.n}`);
  }
  const stream = p.dataset === 'cifar10' ? 'cifar' : 'fashion';
  const pick = (ds: Dataset, pool: number, k: number, s: string) => {
    if (k === pool) return { data: ds, ids: null as number[] | null };
    const ids = selectSubset(pool, k, seed, s);
    const out = subset(ds, ids, `${ds.name}[${k},seed=${seed}]`);
    out.meta = { ...(out.meta ?? {}), parentIds: ids };
    return { data: out, ids };
  };
  const tr = pick(fullTrain, p.poolTrain, p.trainSize, `${stream}-train`);
  const te = pick(fullTest, p.poolTest, p.testSize, `${stream}-test`);

  const model = createModel({ family: 'cnn', config: { ...p.model } });
  const describe: SettingDescription = {
    name: 'cnn',
    preset,
    data: {
      dataset: p.dataset,
      train: { from: `${p.dataset}/train`, poolSize: p.poolTrain, size: p.trainSize, stream: tr.ids ? `${stream}-train` : 'all, in file order' },
      test: { from: `${p.dataset}/test`, poolSize: p.poolTest, size: p.testSize, stream: te.ids ? `${stream}-test` : 'all, in file order' },
      files: { ...((fullTrain.meta?.files as object) ?? {}), ...((fullTest.meta?.files as object) ?? {}) },
    },
    model: { family: 'cnn', preset: 'custom', config: model.config, nParams: numParams(model.spec) },
    training: setting,
    steps: totalSteps(setting, p.trainSize),
  };
  return { model, train: tr.data, test: te.data, trainConfig: setting, describe };
}
