/**
 * K-step look-ahead scores: the endpoints of the K axis equal the existing estimators on the validation
 * aggregate (K = 0 → adam-first-order, offline → AdamW-influence / SGD-influence), and an intermediate K
 * equals AdamW-influence on the run truncated at the read-out state θ_{t+1+K}.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/runtime/backend.ts';
import { createModel } from '../../lib/models/registry.ts';
import { train } from '../../lib/train/trainer.ts';
import type { TrainConfig } from '../../lib/train/setting.ts';
import { getEstimator } from '../../lib/estimators/registry.ts';
import { relativeError } from '../../lib/analysis/metrics.ts';
import type { ScoreMatrix } from '../../lib/analysis/score-matrix.ts';
import { lookaheadScores, readOut, sampleScores, scoreColumn } from '../../lib/selection/lookahead.ts';
import { teacherData } from '../train/fixtures/synth.ts';

await initBackend({ backend: 'wasm' });

const data = teacherData(24, 6, 3, 1);
const val = teacherData(7, 6, 3, 2);
const model = createModel({ family: 'mlp', config: { sizes: [6, 8, 3], activation: 'tanh' } });
const adamw = (over: Partial<TrainConfig> = {}): TrainConfig => ({
  seed: 3,
  batchSize: 6,
  epochs: 2,
  optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01 },
  schedule: { kind: 'linear', lr: 0.02, warmupSteps: 2 },
  ...over,
});
const ids = Array.from({ length: data.n }, (_, i) => i);

/** Mean over query columns: the score on V = mean validation loss. */
function meanOverQueries(m: ScoreMatrix): Float64Array {
  const out = new Float64Array(m.nTrain);
  for (let i = 0; i < m.nTrain; i++) {
    let s = 0;
    for (let q = 0; q < m.nQuery; q++) s += m.values[i * m.nQuery + q];
    out[i] = s / m.nQuery;
  }
  return out;
}

test('readOut: K = 0 reads at θ_{t+1}, K clamps at T, offline reads at θ_T', () => {
  assert.equal(readOut(3, 0, 10), 4);
  assert.equal(readOut(3, 4, 10), 8);
  assert.equal(readOut(3, 40, 10), 10);
  assert.equal(readOut(3, 'offline', 10), 10);
});

test('offline horizon = AdamW-influence on the validation aggregate (exact curvature; and every K ≥ T−1)', async () => {
  const traj = await train({ model, data, setting: adamw() });
  const T = traj.manifest.steps;
  const res = await lookaheadScores({ model, data, trajectory: traj, validation: val }, { horizons: ['offline', T - 1, 0] });
  const ref = await getEstimator('adamw-influence').score({ model, data, trajectory: traj, queries: val, trainIds: ids }, { curvature: 'exact' });
  const ours = scoreColumn(res, 'offline', ids, data.n).values;
  const err = relativeError(ours, meanOverQueries(ref));
  console.log(`  offline vs adamw-influence: rel err ${err.toExponential(2)}; cost ${JSON.stringify(res.cost)}`);
  assert.ok(err < 1e-6, `rel err ${err}`);
  assert.ok(relativeError(sampleScores(res, T - 1, data.n), ours) < 1e-12, 'K = T−1 must equal offline');
  assert.ok(ours.some((v) => v > 0) && ours.some((v) => v < 0), 'scores of both signs expected');
});

test('K = 0 = adam-first-order (one-step push read at θ_{t+1}) on the validation aggregate', async () => {
  const traj = await train({ model, data, setting: adamw() });
  const res = await lookaheadScores({ model, data, trajectory: traj, validation: val }, { horizons: [0] });
  const ref = await getEstimator('adam-first-order').score({ model, data, trajectory: traj, queries: val, trainIds: ids });
  const err = relativeError(scoreColumn(res, 0, ids, data.n).values, meanOverQueries(ref));
  console.log(`  K=0 vs adam-first-order: rel err ${err.toExponential(2)}`);
  assert.ok(err < 1e-6, `rel err ${err}`);
  // Per occurrence too: step t only.
  const t = 5;
  const one = await getEstimator('adam-first-order').score({ model, data, trajectory: traj, queries: val, trainIds: traj.batches[t] }, { occurrence: { step: t } });
  const e1 = relativeError(res.scores[0][t], meanOverQueries(one));
  assert.ok(e1 < 1e-6, `step ${t}: rel err ${e1}`);
});

test('intermediate K = AdamW-influence on the run truncated at the read-out θ_{t+1+K}', async () => {
  const setting = adamw({ schedule: { kind: 'constant', lr: 0.02 } });
  const traj = await train({ model, data, setting });
  const K = 2;
  const res = await lookaheadScores({ model, data, trajectory: traj, validation: val }, { horizons: [K, 'offline', 0] });
  for (const t of [0, 3, 6]) {
    const r = readOut(t, K, traj.manifest.steps);
    // A constant LR makes the maxSteps-truncated run a bit-identical prefix of the full run.
    const short = await train({ model, data, setting: { ...setting, maxSteps: r } });
    const ref = await getEstimator('adamw-influence').score(
      { model, data, trajectory: short, queries: val, trainIds: traj.batches[t] },
      { occurrence: { step: t } },
    );
    const err = relativeError(res.scores[0][t], meanOverQueries(ref));
    assert.ok(err < 1e-6, `t = ${t}, K = ${K}: rel err ${err}`);
  }
});

test('SGD dynamics: offline horizon = SGD-influence on the validation aggregate', async () => {
  const setting: TrainConfig = { ...adamw(), optimizer: { kind: 'sgd', momentum: 0, weightDecay: 0.01 }, schedule: { kind: 'constant', lr: 0.2 } };
  const traj = await train({ model, data, setting });
  const res = await lookaheadScores({ model, data, trajectory: traj, validation: val }, { horizons: ['offline'] });
  const ref = await getEstimator('sgd-influence').score({ model, data, trajectory: traj, queries: val, trainIds: ids }, { curvature: 'exact' });
  const err = relativeError(scoreColumn(res, 'offline', ids, data.n).values, meanOverQueries(ref));
  assert.ok(err < 1e-6, `rel err ${err}`);
});

test('bad horizons and momentum SGD are rejected with clear errors', async () => {
  const traj = await train({ model, data, setting: adamw() });
  const task = { model, data, trajectory: traj, validation: val };
  await assert.rejects(lookaheadScores(task, { horizons: [-1] }), /horizon must be an integer K ≥ 0 or 'offline'/);
  await assert.rejects(lookaheadScores(task, { horizons: [] }), /at least one horizon/);
  const mom = await train({ model, data, setting: { ...adamw(), optimizer: { kind: 'sgd', momentum: 0.9, weightDecay: 0 } } });
  await assert.rejects(lookaheadScores({ ...task, trajectory: mom }, { horizons: [0] }), /momentum/);
});
