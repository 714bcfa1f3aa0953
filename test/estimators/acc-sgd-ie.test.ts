import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/runtime/backend.ts';
import { tf } from '../../lib/runtime/tf.ts';
import { mlp } from '../../lib/models/mlp.ts';
import { numParams } from '../../lib/models/types.ts';
import { disposeParams, unflattenParams } from '../../lib/models/params.ts';
import { type Dataset } from '../../lib/data/dataset.ts';
import { disposeBatch, makeBatch } from '../../lib/data/batch.ts';
import { hvp } from '../../lib/autodiff/hvp.ts';
import { perSampleGrads } from '../../lib/autodiff/persample.ts';
import { train } from '../../lib/train/trainer.ts';
import type { Occurrence, Trajectory } from '../../lib/train/trajectory.ts';
import { kendallTau } from '../../lib/analysis/metrics.ts';
import { accSgdIeScores } from '../../lib/estimators/acc-sgd-ie.ts';
import { sgdInfluence } from '../../lib/estimators/sgd-influence.ts';
import { finalQueryGrads } from '../../lib/estimators/sweep.ts';
import { occurrenceRows } from '../../lib/estimators/occurrence.ts';
import { coordinateMask } from '../../lib/estimators/masks.ts';
import { getEstimator } from '../../lib/estimators/registry.ts';
import type { AttributionTask } from '../../lib/estimators/types.ts';
import { adamwSetting, teacherData } from '../train/fixtures/synth.ts';

await initBackend({ backend: 'wasm' });

const model = mlp({ sizes: [12, 6, 4], activation: 'tanh' }); // p = 106
const p = numParams(model.spec);
const data = teacherData(24, 12, 4, 1); // B = 6 → 4 steps per epoch
const queries = teacherData(3, 12, 4, 2);
const trainIds = [0, 3, 5, 8, 11, 14, 17, 20];
const sgd = (epochs: number) =>
  adamwSetting({ batchSize: 6, epochs, optimizer: { kind: 'sgd', momentum: 0, weightDecay: 1e-3 }, schedule: { kind: 'constant', lr: 0.3 } });

const task = (trajectory: Trajectory, ids = trainIds): AttributionTask => ({ model, data, trajectory, queries, trainIds: ids });
const maxAbs = (a: Float64Array) => a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
const maxDiff = (a: Float64Array, b: Float64Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

/**
 * Reference ACC-SGD-IE without sharing: one adjoint per (row, query) from θ_T, leave-k-out Hessian
 * (weight 0 for k) at every step where k is removed, rows at those steps; optional projection onto a mask.
 */
function naiveAcc(traj: Trajectory, ids: number[], occurrence: Occurrence, mask?: Int32Array): Float64Array {
  const T = traj.manifest.steps;
  const wd = 1e-3;
  const nq = queries.n;
  const rows = occurrenceRows(traj.batches, ids, occurrence);
  const keep = new Uint8Array(p).fill(mask ? 0 : 1);
  mask?.forEach((i) => (keep[i] = 1));
  const Q = finalQueryGrads(task(traj, ids));
  const U = ids.map(() => Array.from({ length: nq }, (_, q) => Float64Array.from(Q.subarray(q * p, (q + 1) * p), (x, i) => (keep[i] ? x : 0))));
  const out = new Float64Array(ids.length * nq);
  for (let t = T - 1; t >= 0; t--) {
    const D = traj.divisors[t];
    const lr = traj.lrs[t];
    const params = unflattenParams(traj.states.at(t).theta, model.spec);
    const batch = makeBatch(data, traj.batches[t]);
    const G = perSampleGrads(model, params, batch);
    for (let r = 0; r < ids.length; r++) {
      const removed = rows[t].find((x) => x.row === r);
      const w = new Float64Array(traj.batches[t].length).fill(1);
      if (removed) w[removed.pos] = 0;
      for (let q = 0; q < nq; q++) {
        const u = U[r][q];
        if (removed) {
          let s = 0;
          for (let i = 0; i < p; i++) s += u[i] * G[removed.pos * p + i];
          out[r * nq + q] += (lr * s) / D;
        }
        const Hu = hvp(model, params, batch, u, { divisor: D, weights: w });
        for (let i = 0; i < p; i++) u[i] = keep[i] ? (1 - lr * wd) * u[i] - lr * Hu[i] : 0;
      }
    }
    disposeParams(params);
    disposeBatch(batch);
  }
  return out;
}

/** True leave-one-out (all occurrences, original divisor): ℓ_q(θ_T^{−z}) − ℓ_q(θ_T), `[ids·nq]`. */
async function looTruth(base: Trajectory, setting: ReturnType<typeof sgd>, ids: number[], qs: Dataset): Promise<Float64Array> {
  const losses = (theta: Float32Array) =>
    tf.tidy(() => {
      const prm = unflattenParams(theta, model.spec);
      const b = makeBatch(qs, Array.from({ length: qs.n }, (_, i) => i));
      return Array.from(model.perExampleLoss(prm, b).dataSync());
    });
  const l0 = losses(base.states.final().theta);
  const out = new Float64Array(ids.length * qs.n);
  for (const [r, z] of ids.entries()) {
    const cf = await train({ model, data, setting, removal: { ids: [z], occurrence: 'all', divisor: 'original' }, record: 'none' });
    losses(cf.states.final().theta).forEach((l, q) => (out[r * qs.n + q] = l - l0[q]));
  }
  return out;
}

test('single epoch (each sample used once): ACC-SGD-IE equals SGD-influence exactly', async () => {
  const before = tf.memory().numTensors;
  const traj = await train({ model, data, setting: sgd(1) });
  const acc = await accSgdIeScores(task(traj));
  const sgdie = await sgdInfluence.score(task(traj));
  assert.ok(maxAbs(sgdie.values) > 1e-3, 'non-trivial scores');
  assert.ok(maxDiff(acc.values, sgdie.values) <= 1e-12 * maxAbs(sgdie.values), `max diff ${maxDiff(acc.values, sgdie.values)}`);
  for (const curvature of ['fisher', 'none'] as const) {
    const a = await accSgdIeScores(task(traj), { curvature });
    const b = await sgdInfluence.score(task(traj), { curvature });
    assert.ok(maxDiff(a.values, b.values) <= 1e-12 * maxAbs(b.values), `${curvature}: max diff ${maxDiff(a.values, b.values)}`);
  }
  assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
});

test('3 epochs: ACC-SGD-IE differs from SGD-influence, matches the unshared reference, and is compared with true LOO', async (t) => {
  const setting = sgd(3);
  const traj = await train({ model, data, setting });
  const acc = await accSgdIeScores(task(traj));
  const sgdie = await sgdInfluence.score(task(traj));
  const scale = maxAbs(sgdie.values);
  assert.ok(maxDiff(acc.values, sgdie.values) > 1e-2 * scale, `ACC should differ on multi-epoch runs (max diff ${maxDiff(acc.values, sgdie.values)})`);

  // The sharing/fork bookkeeping equals the plain per-sample recursion (float32 HVPs: 1e-5 relative).
  for (const occ of ['all', 'last'] as const) {
    const ref = naiveAcc(traj, trainIds, occ);
    const got = await accSgdIeScores(task(traj), { occurrence: occ });
    assert.ok(maxDiff(got.values, ref) <= 1e-5 * maxAbs(ref), `occurrence ${occ}: max diff ${maxDiff(got.values, ref)} vs scale ${maxAbs(ref)}`);
  }

  const truth = await looTruth(traj, setting, trainIds, queries);
  const nq = queries.n;
  const col = (m: Float64Array, q: number) => Float64Array.from(trainIds, (_, r) => m[r * nq + q]);
  const tauAcc: number[] = [];
  const tauSgd: number[] = [];
  for (let q = 0; q < nq; q++) {
    tauAcc.push(kendallTau(col(acc.values, q), col(truth, q)));
    tauSgd.push(kendallTau(col(sgdie.values, q), col(truth, q)));
  }
  const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
  const relErr = (m: Float64Array) => Math.sqrt(m.reduce((s, x, i) => s + (x - truth[i]) ** 2, 0) / truth.reduce((s, x) => s + x * x, 0));
  t.diagnostic(`Kendall tau vs LOO per query: ACC [${tauAcc.map((x) => x.toFixed(3))}] mean ${mean(tauAcc).toFixed(3)}; SGD-IE [${tauSgd.map((x) => x.toFixed(3))}] mean ${mean(tauSgd).toFixed(3)}`);
  t.diagnostic(`relative L2 error vs LOO: ACC ${relErr(acc.values).toFixed(4)}, SGD-IE ${relErr(sgdie.values).toFixed(4)}`);
  // Robust: both first-order estimators rank the LOO effects well on this small-LR run.
  assert.ok(mean(tauAcc) > 0.5 && mean(tauSgd) > 0.5, `mean tau ACC ${mean(tauAcc)}, SGD-IE ${mean(tauSgd)}`);
});

test('mask: full mask changes nothing; a partial mask equals the reference with the adjoint projected after every transition', async () => {
  const traj = await train({ model, data, setting: sgd(2) });
  const ids = trainIds.slice(0, 4);
  const plain = await accSgdIeScores(task(traj, ids));
  const full = await accSgdIeScores(task(traj, ids), { mask: Int32Array.from({ length: p }, (_, i) => i) });
  assert.deepEqual(Array.from(full.values), Array.from(plain.values));
  const mask = coordinateMask(model.spec, 5, 3);
  const got = await accSgdIeScores(task(traj, ids), { mask });
  const ref = naiveAcc(traj, ids, 'all', mask);
  assert.ok(maxDiff(got.values, ref) <= 1e-5 * maxAbs(ref), `max diff ${maxDiff(got.values, ref)}`);
  assert.ok(maxDiff(got.values, plain.values) > 1e-3 * maxAbs(plain.values), 'the mask matters');
});

test('registry, guards and bad options', async () => {
  assert.equal(getEstimator('acc-sgd-ie').name, 'acc-sgd-ie');
  const traj = await train({ model, data, setting: sgd(3) });
  // 8 ids, all used in 3 epochs → 8 live forks at the peak: (8+1)·3·106 = 2862 floats.
  await assert.rejects(accSgdIeScores(task(traj), { maxFloats: 2000 }), /needs 8 per-sample adjoints \(\+1 shared\) × 3 queries × p = 106 = 2\.862e\+3 float64 values > maxFloats = 2\.000e\+3; use fewer queries or trainIds/);
  await assert.rejects(accSgdIeScores(task(traj), { curvature: 'bogus' as never }), /curvature must be one of exact \| ggn \| fisher \| none, got 'bogus'/);
  await assert.rejects(accSgdIeScores(task(traj), { weightDecay: -1 }), /weightDecay must be a finite number ≥ 0, got -1/);
  await assert.rejects(accSgdIeScores(task(traj), { mask: Int32Array.of(3, 2) }), /mask must be strictly increasing/);
  await assert.rejects(accSgdIeScores(task(traj), { mask: Int32Array.of(0, 106) }), /mask\[1\] = 106 is outside \[0, p = 106\)/);
  await assert.rejects(accSgdIeScores(task(traj, [0, 99])), /train id 99 out of range/);
  const adam = await train({ model, data, setting: adamwSetting({ batchSize: 6, epochs: 1 }) });
  await assert.rejects(accSgdIeScores(task(adam)), /models plain SGD steps, but this run used 'adamw'; pass allowMismatch: true/);
  const mom = await train({ model, data, setting: adamwSetting({ batchSize: 6, epochs: 1, optimizer: { kind: 'sgd', momentum: 0.9, weightDecay: 0 }, schedule: { kind: 'constant', lr: 0.1 } }) });
  await assert.rejects(accSgdIeScores(task(mom)), /SGD with momentum 0\.9/);
  const mis = await accSgdIeScores(task(adam, [0, 1]), { allowMismatch: true });
  assert.equal(mis.nTrain, 2);
});
