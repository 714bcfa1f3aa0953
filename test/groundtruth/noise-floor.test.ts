/**
 * The TSLOO noise floor from ulp-perturbed starts (lib/groundtruth/noise-floor.ts): exact ulp steps, zero deltas
 * from an unperturbed start (the trainer is deterministic), small non-zero deltas from a perturbed one, cached.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../../lib/runtime/backend.ts';
import { createModel } from '../../lib/models/registry.ts';
import { train } from '../../lib/train/trainer.ts';
import { entriesWithinFloor, perturbTheta, stepUlps, tslooNoiseFloor } from '../../lib/groundtruth/noise-floor.ts';
import { adamwSetting, teacherData } from '../train/fixtures/synth.ts';

await initBackend({ backend: 'wasm' });

test('stepUlps: exact float32 neighbours, through zero and the sign', () => {
  assert.equal(stepUlps(1, 1), 1 + 2 ** -23);
  assert.equal(stepUlps(1, -1), 1 - 2 ** -24);
  assert.equal(stepUlps(-1, 1), -(1 - 2 ** -24));
  assert.equal(stepUlps(0, 1), 2 ** -149);
  assert.equal(stepUlps(0, -1), -(2 ** -149));
  assert.equal(stepUlps(2 ** -149, -1), 0);
  assert.equal(stepUlps(0.1, 0), Math.fround(0.1));
  assert.equal(stepUlps(stepUlps(Math.fround(0.3), 3), -3), Math.fround(0.3));
  const th = Float32Array.from([0.5, -2, 1e-3]);
  assert.deepEqual(perturbTheta(th, 1, 0, 0), perturbTheta(th, 1, 0, 0), 'seeded');
  assert.ok(perturbTheta(th, 1, 0, 0).every((x, i) => x !== th[i] && Math.abs(x - th[i]) <= Math.abs(th[i]) * 2 ** -22));
});

test('noise floor: 0 from the same start, small and non-zero from 1-ulp starts, cached', async () => {
  const model = createModel({ family: 'mlp', config: { sizes: [6, 8, 3], activation: 'relu' } });
  const data = teacherData(48, 6, 3, 1);
  const queries = teacherData(8, 6, 3, 2);
  const trajectory = await train({ model, data, setting: adamwSetting({ schedule: { kind: 'constant', lr: 1e-2 }, epochs: 2 }), record: 'full' });
  const zero = await tslooNoiseFloor({ model, data, trajectory, queries, reruns: 2, ulps: 0 });
  assert.ok(zero.value.deltas.every((d) => d === 0), 'retraining from the same θ_0 gives the same bits');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-floor-'));
  try {
    const one = await tslooNoiseFloor({ model, data, trajectory, queries, reruns: 3, ulps: 1, cacheDir: dir });
    assert.equal(one.cached, false);
    assert.equal(one.value.deltas.length, 3 * queries.n);
    assert.equal(one.value.perQuery.length, queries.n);
    assert.ok(one.value.maxAbs > 0, 'a 1-ulp start changes the end point');
    assert.ok(one.value.maxAbs < 1e-3, `but only by rounding-sized amounts here (${one.value.maxAbs})`);
    const again = await tslooNoiseFloor({ model, data, trajectory, queries, reruns: 3, ulps: 1, cacheDir: dir });
    assert.equal(again.cached, true);
    assert.deepEqual(again.value.deltas, one.value.deltas);
    const w = entriesWithinFloor([0, 1, -2e-9, NaN], [1e-8, 1e-8]);
    assert.deepEqual(w, { within: 2, total: 3 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  await assert.rejects(tslooNoiseFloor({ model, data, trajectory, queries, reruns: 0 }), /reruns must be/);
});
