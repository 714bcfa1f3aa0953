/**
 * First-order exactness of the linearised estimators: each one, on the optimizer it models, equals the
 * central finite difference of the REAL training run w.r.t. a sample's loss weight (float32, tfjs-wasm).
 * Samples are used in several epochs; schedules decay; weight decay is on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/runtime/backend.ts';
import { createModel } from '../../lib/models/registry.ts';
import type { Model } from '../../lib/models/types.ts';
import type { Dataset } from '../../lib/data/dataset.ts';
import { train } from '../../lib/train/trainer.ts';
import type { TrainConfig } from '../../lib/train/setting.ts';
import type { Occurrence } from '../../lib/train/trajectory.ts';
import { getEstimator } from '../../lib/estimators/registry.ts';
import { fdRemovalEffect } from '../../lib/groundtruth/fd-oracle.ts';
import { relativeError } from '../../lib/analysis/metrics.ts';
import { rngFor } from '../../lib/runtime/rng.ts';
import { teacherData } from '../train/fixtures/synth.ts';

await initBackend({ backend: 'wasm' });

function imageData(n: number, seed: number): Dataset {
  const r = rngFor(seed, 'images');
  const x = r.normalArray(n * 64);
  const y = new Int32Array(n).map((_, i) => (x[i * 64 + 9] + x[i * 64 + 27] > 0 ? 1 : i % 3 === 0 ? 2 : 0));
  return { name: 'synthetic-8x8', n, x, xShape: [8, 8, 1], y, yShape: [], classes: 3 };
}

function tokenData(n: number, T: number, vocab: number, seed: number): Dataset {
  const r = rngFor(seed, 'tokens');
  const x = new Int32Array(n * T);
  const y = new Int32Array(n * T);
  for (let i = 0; i < n; i++) {
    // A noisy "next = current + 1 (mod V)" language: learnable, so gradients are informative.
    let tok = r.int(vocab);
    for (let t = 0; t < T; t++) {
      x[i * T + t] = tok;
      tok = r.next() < 0.7 ? (tok + 1) % vocab : r.int(vocab);
      y[i * T + t] = tok;
    }
  }
  return { name: 'synthetic-lm', n, x, xShape: [T], y, yShape: [T], classes: vocab };
}

const adamw = (lr: number, over: Partial<TrainConfig> = {}): TrainConfig => ({
  seed: 3,
  batchSize: 4,
  epochs: 2,
  optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01 },
  schedule: { kind: 'linear', lr, warmupSteps: 2 },
  ...over,
});
const sgd = (lr: number): TrainConfig => ({
  seed: 3,
  batchSize: 4,
  epochs: 2,
  optimizer: { kind: 'sgd', momentum: 0, weightDecay: 0.01 },
  schedule: { kind: 'linear', lr, warmupSteps: 0 },
});

interface Case {
  name: string;
  model: Model;
  data: Dataset;
  queries: Dataset;
  setting: TrainConfig;
  estimator: string;
  ids: number[];
  eps: number;
  occurrence?: Occurrence;
}

async function check(c: Case): Promise<number> {
  const base = await train({ model: c.model, data: c.data, setting: c.setting });
  const task = { model: c.model, data: c.data, trajectory: base, queries: c.queries, trainIds: c.ids };
  const est = await getEstimator(c.estimator).score(task, { curvature: 'exact', occurrence: c.occurrence });
  const fd = await fdRemovalEffect(c.model, c.data, base, c.queries, c.ids, { eps: c.eps, occurrence: c.occurrence });
  const err = relativeError(est.values, fd.values);
  let scale = 0;
  for (const v of fd.values) scale = Math.max(scale, Math.abs(v));
  console.log(`  ${c.name}: rel err ${err.toExponential(2)} over ${fd.values.length} (sample, query) pairs, max |effect| ${scale.toExponential(2)}`);
  return err;
}

const mlpData = teacherData(16, 6, 3, 1);
const mlpQueries = teacherData(5, 6, 3, 2);
const mlpTanh = createModel({ family: 'mlp', config: { sizes: [6, 8, 3], activation: 'tanh' } });

test('AdamW-influence (exact H) = FD of the real AdamW run: MLP, samples used twice', async () => {
  const e = await check({ name: 'mlp/adamw', model: mlpTanh, data: mlpData, queries: mlpQueries, setting: adamw(0.02), estimator: 'adamw-influence', ids: [0, 5, 11], eps: 1e-2 });
  assert.ok(e < 1e-2, `rel err ${e}`);
});

test('AdamW-influence = FD when only one occurrence is removed (first / last epoch)', async () => {
  for (const occurrence of ['first', 'last'] as const) {
    const e = await check({ name: `mlp/adamw/${occurrence}`, model: mlpTanh, data: mlpData, queries: mlpQueries, setting: adamw(0.02), estimator: 'adamw-influence', ids: [0, 5, 11], eps: 1e-2, occurrence });
    assert.ok(e < 1e-2, `${occurrence}: rel err ${e}`);
  }
});

test('last-step identity on the real run: AdamW-influence = the one-step push (adam-first-order) at t = T−1', async () => {
  const base = await train({ model: mlpTanh, data: mlpData, setting: adamw(0.02) });
  const T = base.manifest.steps;
  const ids = base.batches[T - 1];
  const task = { model: mlpTanh, data: mlpData, trajectory: base, queries: mlpQueries, trainIds: ids };
  const a = await getEstimator('adamw-influence').score(task, { occurrence: { step: T - 1 } });
  const b = await getEstimator('adam-first-order').score(task, { occurrence: { step: T - 1 } });
  assert.ok(relativeError(a.values, b.values) < 1e-12, `rel err ${relativeError(a.values, b.values)}`);
  assert.ok(a.values.some((v) => v !== 0));
});

test('SGD-influence (exact H) = FD of the real SGD run: MLP, samples used twice', async () => {
  const e = await check({ name: 'mlp/sgd', model: mlpTanh, data: mlpData, queries: mlpQueries, setting: sgd(0.2), estimator: 'sgd-influence', ids: [0, 5, 11], eps: 1e-2 });
  assert.ok(e < 1e-2, `rel err ${e}`);
});

test('AdamW-influence = FD on the CNN', async () => {
  const model = createModel({ family: 'cnn', preset: 'tiny' });
  const e = await check({ name: 'cnn/adamw', model, data: imageData(12, 1), queries: imageData(4, 2), setting: adamw(0.02), estimator: 'adamw-influence', ids: [1, 7], eps: 1e-2 });
  assert.ok(e < 1e-2, `rel err ${e}`);
});

// Transformers with AdamW at ε_adam = 1e-8 are not linear in a sample's weight beyond |δw| ≈ 1e-3 on
// this tiny scale (measured: the FD of the real run changes by >2× between δw = 1e-1, 1e-2 and 1e-3,
// where float32 can no longer resolve the loss difference). The cause is AdamW's normalisation of
// near-cancelling per-coordinate gradients, and, in GPT-2, the attention key bias, whose exact gradient is
// zero (softmax shift invariance) so AdamW amplifies pure float32 noise there. That nonlinearity is the
// algorithm-level (Taylor) error the experiments measure; to check the *implementation* we use
// ε_adam = 1e-3, where the run is linear over the FD step, on the bias-free Llama block.
test('AdamW-influence = FD on a Llama-architecture transformer (GQA, RoPE, SwiGLU)', async () => {
  const model = createModel({ family: 'llama', preset: 'tiny' });
  const V = (model.config as { vocab: number }).vocab;
  const setting = adamw(2e-3, { optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.95, eps: 1e-3, weightDecay: 0.01 } });
  const e = await check({ name: 'llama/adamw', model, data: tokenData(8, 8, V, 1), queries: tokenData(3, 8, V, 2), setting, estimator: 'adamw-influence', ids: [2, 5], eps: 1e-2 });
  assert.ok(e < 1e-2, `rel err ${e}`);
});

test('SGD-influence = FD on a GPT-2-architecture transformer', async () => {
  const model = createModel({ family: 'gpt2', preset: 'tiny' });
  const V = (model.config as { vocab: number }).vocab;
  const e = await check({ name: 'gpt2/sgd', model, data: tokenData(8, 8, V, 1), queries: tokenData(3, 8, V, 2), setting: sgd(0.5), estimator: 'sgd-influence', ids: [2, 5], eps: 1e-2 });
  assert.ok(e < 1e-2, `rel err ${e}`);
});

// GPT-2 with AdamW needs ε_adam = 1e-2: the key bias's float32-noise gradient is then damped (noise/ε ≪ 1)
// instead of normalised into full steps. Measured (lr 2e-3, FD step δw): at ε_adam = 1e-3 the error is
// 0.121 / 0.0103 / 0.0115 at δw = 3e-2 / 1e-2 / 3e-3 — quadratic in δw down to 1e-2 (curvature in w), then a
// float32 floor — and at ε_adam = 1e-2, δw = 1e-2 it is 5.7e-3.
test('AdamW-influence = FD on a GPT-2-architecture transformer (ε_adam = 1e-2)', async () => {
  const model = createModel({ family: 'gpt2', preset: 'tiny' });
  const V = (model.config as { vocab: number }).vocab;
  const setting = adamw(2e-3, { optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.95, eps: 1e-2, weightDecay: 0.01 } });
  const e = await check({ name: 'gpt2/adamw', model, data: tokenData(8, 8, V, 1), queries: tokenData(3, 8, V, 2), setting, estimator: 'adamw-influence', ids: [2, 5], eps: 1e-2 });
  assert.ok(e < 1e-2, `rel err ${e}`);
});

test('mismatched estimators do NOT match the FD (the check can fail)', async () => {
  const e = await check({ name: 'mlp/adamw run, sgd-influence', model: mlpTanh, data: mlpData, queries: mlpQueries, setting: adamw(0.02), estimator: 'sgd-influence', ids: [0, 5, 11], eps: 1e-2 });
  assert.ok(e > 0.2, `optimizer-mismatched estimate unexpectedly close (${e})`);
});
