import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchPlan, canonicalJson, planFor, contentHash, totalSteps, validateTrainConfig } from '../../lib/train/setting.ts';
import { adamwSetting } from './fixtures/synth.ts';

test('batchPlan: every id once per epoch, partial last batch, T = epochs·ceil(n/B)', () => {
  const plan = batchPlan(21, 8, 3, 7);
  assert.equal(plan.length, 3 * 3);
  assert.deepEqual(plan.map((b) => b.length), [8, 8, 5, 8, 8, 5, 8, 8, 5]);
  for (let e = 0; e < 3; e++) {
    const ids = plan.slice(3 * e, 3 * e + 3).flat().sort((a, b) => a - b);
    assert.deepEqual(ids, Array.from({ length: 21 }, (_, i) => i));
  }
  assert.notDeepEqual(plan[0], plan[3], 'epochs use different orders');
});

test('batchPlan: deterministic per seed, different across seeds', () => {
  assert.deepEqual(batchPlan(50, 7, 2, 1), batchPlan(50, 7, 2, 1));
  assert.notDeepEqual(batchPlan(50, 7, 2, 1), batchPlan(50, 7, 2, 2));
});

test('planFor honours maxSteps; totalSteps', () => {
  const s = adamwSetting({ batchSize: 8, epochs: 2, maxSteps: 3 });
  assert.equal(totalSteps(s, 21), 3);
  assert.deepEqual(planFor(s, 21), batchPlan(21, 8, 2, 0).slice(0, 3));
});

test('contentHash: canonical (key order irrelevant), sensitive to values', () => {
  const a = adamwSetting();
  const b = JSON.parse(JSON.stringify({ schedule: a.schedule, optimizer: a.optimizer, epochs: a.epochs, batchSize: a.batchSize, seed: a.seed }));
  assert.equal(contentHash(a), contentHash(b));
  assert.notEqual(contentHash(a), contentHash({ ...a, seed: 1 }));
  assert.match(contentHash(a), /^[0-9a-f]{64}$/);
  assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: undefined }] }), '{"a":[{"d":2}],"b":1}');
  assert.throws(() => canonicalJson({ x: NaN }), /non-finite number at \.x/);
});

test('validateTrainConfig: clear errors', () => {
  for (const bs of [0, -1, 2.5]) {
    assert.throws(() => validateTrainConfig(adamwSetting({ batchSize: bs })), new RegExp(`batchSize must be a positive integer, got ${bs}`));
  }
  assert.throws(() => validateTrainConfig(adamwSetting({ epochs: 0 })), /epochs must be a positive integer/);
  assert.throws(() => validateTrainConfig({ ...adamwSetting(), optimizer: { kind: 'rmsprop' } } as never), /optimizer\.kind must be 'adamw' or 'sgd', got 'rmsprop'/);
  assert.throws(() => validateTrainConfig({ ...adamwSetting(), batchsize: 3 } as never), /unknown field\(s\) batchsize/);
  assert.throws(() => validateTrainConfig(adamwSetting({ seed: -1 })), /seed/);
  assert.throws(() => validateTrainConfig(adamwSetting({ schedule: { kind: 'linear', lr: 1, warmupSteps: 10 } }), 16), /warm-up \(10 steps\) exceeds totalSteps \(2\)/);
  assert.throws(() => validateTrainConfig({ ...adamwSetting(), optimizer: { kind: 'sgd', momentum: 0, weightDecay: -1 } }), /weightDecay/);
});
