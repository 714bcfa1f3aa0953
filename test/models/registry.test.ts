import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel, modelFamilies } from '../../lib/models/registry.ts';

test('every shipped family is registered', () => {
  assert.deepEqual([...modelFamilies()].sort(), ['cnn', 'gpt2', 'llama', 'mlp']);
});

test('unknown model family / preset / missing config give clear errors', () => {
  assert.throws(() => createModel({ family: 'resnet', preset: 'small' }), /unknown model family 'resnet'; known: .*mlp.*cnn/);
  assert.throws(() => createModel({ family: 'mlp', preset: 'huge' }), /unknown preset 'huge' for model family 'mlp'; known: tiny, small, paper/);
  assert.throws(() => createModel({ family: 'mlp' }), /give a preset or a config/);
  assert.throws(() => createModel({ family: 'mlp', config: { sizes: [4, 0], activation: 'relu' } }), /sizes must be ≥2 positive integers/);
});

test('presets build models whose spec matches the config', () => {
  const m = createModel({ family: 'mlp', preset: 'small' });
  assert.deepEqual(m.spec.map((s) => s.shape), [[784, 16], [16], [16, 16], [16], [16, 10], [10]]);
  const c = createModel({ family: 'cnn', preset: 'tiny', config: { classes: 5 } });
  assert.deepEqual(c.spec[c.spec.length - 1].shape, [5]);
});
