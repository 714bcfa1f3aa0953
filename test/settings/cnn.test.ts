/**
 * The CNN setting (lib/settings/cnn.ts) through the settings registry: shapes of the quick and full
 * presets, a few training steps, and AdamW-influence returning finite scores on a tiny run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/runtime/backend.ts';
import { loadSetting, settingNames, settingPresets } from '../../lib/settings/index.ts';
import { subset } from '../../lib/data/dataset.ts';
import { train } from '../../lib/train/trainer.ts';
import { getEstimator } from '../../lib/estimators/registry.ts';
import { DATA, missingData } from '../helpers/data.ts';

await initBackend({ backend: 'wasm' });
const skip0 = await missingData(...DATA.fashion);
const skip1 = await missingData(...DATA.cifar);

test('registry: cnn, gpt2 and llama are registered with quick / full / paper', () => {
  for (const s of ['mlp', 'cnn', 'gpt2', 'llama']) assert.ok(settingNames().includes(s), s);
  for (const s of ['cnn', 'gpt2', 'llama']) assert.deepEqual([...settingPresets(s)], ['quick', 'full', 'paper']);
});

test('cnn quick: Fashion-MNIST subsets, small CNN, AdamW; a few steps train', { skip: skip0 }, async () => {
  const s = await loadSetting('cnn', 'quick', { seed: 1, lr: 1e-3 });
  assert.equal(s.train.n, 320);
  assert.equal(s.test.n, 100);
  assert.deepEqual(s.train.xShape, [28, 28, 1]);
  assert.equal(s.model.family, 'cnn');
  assert.equal(s.describe.model.nParams, 4266);
  assert.equal(s.describe.steps, 10);
  assert.deepEqual(s.trainConfig.optimizer, { kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
  const other = await loadSetting('cnn', 'quick', { seed: 2 });
  assert.notDeepEqual(other.train.meta?.parentIds, s.train.meta?.parentIds, 'the seed draws the subset');

  const t0 = performance.now();
  const traj = await train({ model: s.model, data: s.train, setting: { ...s.trainConfig, maxSteps: 3 } });
  const msPerStep = (performance.now() - t0) / 3;
  assert.equal(traj.losses.length, 3);
  assert.ok(traj.losses.every((l) => Number.isFinite(l) && l > 0 && l < 5), `losses ${traj.losses}`);
  console.log(`cnn quick: ${msPerStep.toFixed(0)} ms/step`);

  const ids = traj.batches[0].slice(0, 2);
  const scores = await getEstimator('adamw-influence').score(
    { model: s.model, data: s.train, trajectory: traj, queries: subset(s.test, [0, 1]), trainIds: ids },
    { curvature: 'exact' },
  );
  assert.equal(scores.values.length, 4);
  assert.ok(Array.from(scores.values).every(Number.isFinite), `scores ${scores.values}`);
  assert.ok(Array.from(scores.values).some((v) => v !== 0), 'scores of samples in the first batch are not all zero');
});

test('cnn full: the CIFAR-10 subset 4000 / 1000 with channels [8, 16]', { skip: skip1 }, async () => {
  const s = await loadSetting('cnn', 'full', { seed: 0 });
  assert.equal(s.train.n, 4000);
  assert.equal(s.test.n, 1000);
  assert.deepEqual(s.train.xShape, [32, 32, 3]);
  assert.equal(s.describe.model.nParams, 11642);
  assert.equal(s.describe.steps, 63);
  assert.equal(s.trainConfig.batchSize, 64);
});

test('cnn: unknown preset and bad LR are errors naming the value', async () => {
  await assert.rejects(loadSetting('cnn', 'huge'), /unknown preset 'huge' for the cnn setting; known: quick, full, paper/);
  await assert.rejects(loadSetting('cnn', 'quick', { lr: -1 }), /lr must be a positive number, got -1/);
});
