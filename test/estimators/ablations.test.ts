/**
 * Ablations of partial AdamW accounting (adamw-influence `ablation`): each is a deliberately incomplete
 * linearisation, so on a real AdamW run it must miss the finite difference that the full linearisation hits,
 * and each must reduce to the full one in the regime where the part it drops is absent from the run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/runtime/backend.ts';
import { createModel } from '../../lib/models/registry.ts';
import { train } from '../../lib/train/trainer.ts';
import type { TrainConfig } from '../../lib/train/setting.ts';
import { getEstimator } from '../../lib/estimators/registry.ts';
import { fdRemovalEffect } from '../../lib/groundtruth/fd-oracle.ts';
import { relativeError } from '../../lib/analysis/metrics.ts';
import { teacherData } from '../train/fixtures/synth.ts';

await initBackend({ backend: 'wasm' });

const data = teacherData(16, 6, 3, 1);
const queries = teacherData(5, 6, 3, 2);
const model = createModel({ family: 'mlp', config: { sizes: [6, 8, 3], activation: 'tanh' } });
const ids = [0, 5, 11];
const adamw = (beta1: number): TrainConfig => ({
  seed: 3,
  batchSize: 4,
  epochs: 2,
  optimizer: { kind: 'adamw', beta1, beta2: 0.95, eps: 1e-8, weightDecay: 0.01 },
  schedule: { kind: 'linear', lr: 0.02, warmupSteps: 2 },
});

async function scores(setting: TrainConfig, ablation: string) {
  const base = await train({ model, data, setting });
  const task = { model, data, trajectory: base, queries, trainIds: ids };
  const est = await getEstimator('adamw-influence').score(task, { curvature: 'exact', ablation } as never);
  return { base, est };
}

test('each ablation misses the FD of the real AdamW run that the full linearisation matches', async () => {
  const setting = adamw(0.9);
  const { base, est: full } = await scores(setting, 'none');
  const fd = await fdRemovalEffect(model, data, base, queries, ids, { eps: 1e-2 });
  const eFull = relativeError(full.values, fd.values);
  assert.ok(eFull < 1e-2, `full linearisation: rel err ${eFull}`);
  for (const ablation of ['no-bias-correction', 'v-frozen', 'no-momentum']) {
    const { est } = await scores(setting, ablation);
    const e = relativeError(est.values, fd.values);
    console.log(`  ${ablation}: rel err vs FD ${e.toExponential(2)} (full ${eFull.toExponential(2)})`);
    assert.ok(e > 0.05, `${ablation} unexpectedly matches the FD (rel err ${e})`);
  }
});

test('no-momentum equals the full linearisation on a run trained with β1 = 0', async () => {
  const setting = adamw(0);
  const { est: full } = await scores(setting, 'none');
  const { est: noMom } = await scores(setting, 'no-momentum');
  const e = relativeError(noMom.values, full.values);
  assert.ok(e < 1e-9, `rel diff ${e}`);
});

test('an unknown ablation is rejected by name', async () => {
  const { base } = await scores(adamw(0.9), 'none');
  const task = { model, data, trajectory: base, queries, trainIds: ids };
  await assert.rejects(getEstimator('adamw-influence').score(task, { ablation: 'no-adam' } as never), /unknown ablation 'no-adam'/);
});
