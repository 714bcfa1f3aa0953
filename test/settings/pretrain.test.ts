/**
 * In-suite pretraining cache (lib/settings/pretrain.ts) on a tiny GPT-2 and a synthetic language:
 * first call trains, second call reads the cache (no training, same θ), a different data set gets a
 * different key, and `withInitialParams` makes `init()` return the pretrained θ.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../../lib/runtime/backend.ts';
import { tf } from '../../lib/runtime/tf.ts';
import { rngFor } from '../../lib/runtime/rng.ts';
import { createModel } from '../../lib/models/registry.ts';
import { flattenParams, disposeParams } from '../../lib/models/params.ts';
import type { Dataset } from '../../lib/data/dataset.ts';
import type { TrainConfig } from '../../lib/train/setting.ts';
import { pretrain, withInitialParams } from '../../lib/settings/pretrain.ts';

await initBackend({ backend: 'wasm' });

function lmData(n: number, T: number, V: number, seed: number): Dataset {
  const r = rngFor(seed, 'lm');
  const x = new Int32Array(n * T);
  const y = new Int32Array(n * T);
  for (let i = 0; i < n; i++) {
    let tok = r.int(V);
    for (let t = 0; t < T; t++) {
      x[i * T + t] = tok;
      tok = r.next() < 0.9 ? (tok + 1) % V : r.int(V); // mostly "next = current + 1"
      y[i * T + t] = tok;
    }
  }
  return { name: `synthetic-${seed}`, n, x, xShape: [T], y, yShape: [T], mask: new Float32Array(n * T).fill(1), classes: V };
}

const model = createModel({ family: 'gpt2', preset: 'tiny' }); // V 64, ctx 16
const setting: TrainConfig = {
  seed: 0,
  batchSize: 8,
  epochs: 2,
  optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0 },
  schedule: { kind: 'constant', lr: 1e-2 },
};

test('pretrain: trains once, then reads the cache; curve goes down; init() returns θ_T', async () => {
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-pretrain-'));
  try {
    const data = lmData(64, 16, 64, 1);
    const evalData = lmData(16, 16, 64, 2);
    const spec = { name: 'tiny', model, data, evalData, setting, describe: { corpus: 'synthetic' }, checkpointEvery: 4 };
    let steps = 0;
    const a = await pretrain(spec, { cacheDir, onStep: () => steps++ });
    assert.equal(a.cached, false);
    assert.equal(steps, 16);
    assert.equal(a.curve.losses.length, 16);
    assert.ok(a.curve.evals.length >= 2);
    const first = a.curve.evals[0].loss;
    const last = a.curve.evals.at(-1)!.loss;
    assert.ok(last < first - 0.3, `held-out loss should fall: ${first} → ${last}`);
    assert.ok(fs.existsSync(path.join(a.dir, 'params.safetensors')) && fs.existsSync(path.join(a.dir, 'pretrain.json')));

    steps = 0;
    const b = await pretrain(spec, { cacheDir, onStep: () => steps++ });
    assert.equal(b.cached, true);
    assert.equal(steps, 0, 'a cache hit trains nothing');
    assert.equal(b.key, a.key);
    assert.deepEqual(b.theta, a.theta);
    assert.deepEqual(b.curve, a.curve);

    const c = await pretrain({ ...spec, data: lmData(64, 16, 64, 3) }, { cacheDir });
    assert.notEqual(c.key, a.key, 'other data → other key');
    assert.equal(c.cached, false);

    const wrapped = withInitialParams(model, a.theta, 'tiny');
    const before = tf.memory().numTensors;
    const p = wrapped.init(rngFor(123, 'ignored'));
    assert.deepEqual(flattenParams(p, model.spec), a.theta);
    disposeParams(p);
    assert.equal(tf.memory().numTensors, before, 'no tensors leaked');
    assert.throws(() => withInitialParams(model, new Float32Array(3), 'bad'), /θ₀ has 3 values/);
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
});
