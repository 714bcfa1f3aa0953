import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/runtime/backend.ts';
import { tf } from '../../lib/runtime/tf.ts';
import { mlp, MLP_PRESETS } from '../../lib/models/mlp.ts';
import { subset } from '../../lib/data/dataset.ts';
import { disposeParams, unflattenParams } from '../../lib/models/params.ts';
import { train } from '../../lib/train/trainer.ts';
import { batchPlan } from '../../lib/train/setting.ts';
import { queryLosses } from '../../lib/groundtruth/common.ts';
import { deletePlan, furtherTraining, type FurtherTrainingOptions } from '../../lib/groundtruth/further-training.ts';
import { adamwSetting, teacherData } from '../train/fixtures/synth.ts';

await initBackend({ backend: 'wasm' });

const model = mlp(MLP_PRESETS.tiny);
const data = teacherData(40, 12, 4, 1);
const queries = teacherData(16, 12, 4, 2);
const base = await train({ model, data, setting: adamwSetting({ epochs: 2 }), record: 'none' });
const ids = [0, 5, 11, 17, 23, 29, 35, 39];
const opts = (over: Partial<FurtherTrainingOptions> = {}): FurtherTrainingOptions => ({ model, data, queries, ids, from: base, epochs: 2, ...over });

test("deletePlan: the full run's permutation with the sample deleted, later batches shifted", () => {
  const full = batchPlan(40, 8, 2, 3);
  const del = deletePlan(40, 8, 2, 3, 17);
  assert.equal(del.length, 10); // ceil(39/8) = 5 per epoch
  for (let e = 0; e < 2; e++) {
    const a = full.slice(5 * e, 5 * e + 5).flat().filter((x) => x !== 17);
    assert.deepEqual(del.slice(5 * e, 5 * e + 5).flat(), a);
  }
  assert.equal(del[4].length, 7);
  assert.equal(deletePlan(41, 8, 1, 0, 2).length, 5, 'n−1 = 40 → one step fewer per epoch');
});

test('0 epochs: Δ = 0; after training the epoch-0 matrix is exactly 0', async () => {
  const r0 = await furtherTraining(opts({ epochs: 0 }));
  assert.equal(r0.perEpoch.length, 1);
  assert.ok(r0.perEpoch[0].values.every((x) => x === 0));
  assert.equal(r0.timing.runs, 0);
  const r2 = await furtherTraining(opts({ epochs: 2 }));
  assert.equal(r2.perEpoch.length, 3);
  assert.ok(r2.perEpoch[0].values.every((x) => x === 0));
  assert.ok(r2.perEpoch[2].values.some((x) => x !== 0));
  assert.deepEqual(r0.fullLosses[0], r2.fullLosses[0]);
  assert.equal(r2.timing.runs, 1 + ids.length);
});

test('sign sanity: removing a training point raises its own loss (self-influence > 0 on average), every mode', async () => {
  const own = subset(data, ids);
  for (const mode of ['delete', 'zero-weight', 'every-batch'] as const) {
    const r = await furtherTraining(opts({ queries: own, epochs: 3, mode, seeds: [0, 1], schedule: { kind: 'constant', lr: 2e-2 } }));
    const m = r.perEpoch[3];
    let diag = 0;
    let off = 0;
    for (let i = 0; i < ids.length; i++) for (let q = 0; q < ids.length; q++) (i === q ? (diag += m.values[i * ids.length + q]) : (off += m.values[i * ids.length + q]));
    diag /= ids.length;
    off /= ids.length * (ids.length - 1);
    console.log(`# ${mode}: mean self-influence ${diag.toExponential(3)}, mean cross ${off.toExponential(3)}`);
    assert.ok(diag > 0, `${mode}: mean self-influence ${diag}`);
    assert.ok(diag > Math.abs(off), `${mode}: self ${diag} vs cross ${off}`);
  }
});

test('determinism per seed; averaging over seeds; subtractMean centres every column', async () => {
  const a = await furtherTraining(opts({ seeds: [1] }));
  const b = await furtherTraining(opts({ seeds: [1] }));
  const c = await furtherTraining(opts({ seeds: [2] }));
  assert.deepEqual(a.perEpoch[2].values, b.perEpoch[2].values);
  assert.notDeepEqual(a.perEpoch[2].values, c.perEpoch[2].values);
  const ac = await furtherTraining(opts({ seeds: [1, 2] }));
  const mean = a.perEpoch[2].values.map((x, k) => (x + c.perEpoch[2].values[k]) / 2);
  const d = ac.perEpoch[2].values.reduce((m, x, k) => Math.max(m, Math.abs(x - mean[k])), 0);
  assert.ok(d < 1e-15, `seed average off by ${d}`);
  const count = await furtherTraining(opts({ seeds: 2, epochs: 1 }));
  assert.deepEqual(count.seeds, [0, 1]);
  const sm = await furtherTraining(opts({ seeds: [1], subtractMean: true }));
  const m = sm.perEpoch[2];
  for (let q = 0; q < m.nQuery; q++) {
    let s = 0;
    for (let i = 0; i < m.nTrain; i++) s += m.values[i * m.nQuery + q];
    assert.ok(Math.abs(s) < 1e-12);
    assert.ok(Math.abs(m.values[q] - (a.perEpoch[2].values[q] - Array.from({ length: m.nTrain }, (_, i) => a.perEpoch[2].values[i * m.nQuery + q]).reduce((x, y) => x + y) / m.nTrain)) < 1e-15);
  }
  // 'zero-weight' with divisor 'remaining' differs from 'original'.
  const zo = await furtherTraining(opts({ mode: 'zero-weight' }));
  const zr = await furtherTraining(opts({ mode: 'zero-weight', divisor: 'remaining' }));
  assert.notDeepEqual(zo.perEpoch[2].values, zr.perEpoch[2].values);
  assert.notDeepEqual(zo.perEpoch[2].values, (await furtherTraining(opts({ mode: 'delete' }))).perEpoch[2].values);
});

test('from: a trajectory, a flat θ and a parameter record give the same result; no tensor leak', async () => {
  const theta = base.states.final().theta;
  const setting = base.manifest.setting;
  const o = { batchSize: setting.batchSize, optimizer: setting.optimizer, schedule: setting.schedule, epochs: 1 };
  await furtherTraining(opts({ epochs: 1 })); // warm kernels
  const before = tf.memory().numTensors;
  const a = await furtherTraining(opts(o));
  const b = await furtherTraining(opts({ ...o, from: theta }));
  const p = unflattenParams(theta, model.spec);
  const c = await furtherTraining(opts({ ...o, from: p }));
  disposeParams(p);
  await furtherTraining(opts({ epochs: 0 }));
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(a.perEpoch[1].values, b.perEpoch[1].values);
  assert.deepEqual(a.perEpoch[1].values, c.perEpoch[1].values);
});

test("'zero-weight' equals the trainer: train() from θ_T with and without the removal", async () => {
  const r = await furtherTraining(opts({ mode: 'zero-weight', seeds: [4], ids: [11, 23] }));
  const { epochs: _e, ...st } = r.setting;
  const setting = { ...st, epochs: 2 };
  const p = unflattenParams(base.states.final().theta, model.spec);
  const lossesAfter = async (removal?: { ids: number[]; occurrence: 'all'; divisor: 'original' }) => {
    const t = await train({ model, data, setting, initParams: p, removal, record: 'none' });
    const q = unflattenParams(t.states.final().theta, model.spec);
    const l = queryLosses(model, q, queries);
    disposeParams(q);
    return l;
  };
  const full = await lossesAfter();
  for (const [row, id] of [11, 23].entries()) {
    const loo = await lossesAfter({ ids: [id], occurrence: 'all', divisor: 'original' });
    assert.deepEqual(r.perEpoch[2].values.slice(row * queries.n, (row + 1) * queries.n), Float64Array.from(loo, (x, q) => x - full[q]));
  }
  disposeParams(p);
});

test('bad inputs: clear errors', async () => {
  await assert.rejects(furtherTraining(opts({ ids: [40] })), /ids\[0\] = 40 is out of range \[0, 40\)/);
  await assert.rejects(furtherTraining(opts({ ids: [3, 3] })), /id 3 appears twice/);
  await assert.rejects(furtherTraining(opts({ epochs: -1 })), /epochs must be a non-negative integer/);
  await assert.rejects(furtherTraining(opts({ epochs: 1.5 })), /epochs must be a non-negative integer/);
  await assert.rejects(furtherTraining(opts({ mode: 'drop' as never })), /mode must be one of delete \| zero-weight \| every-batch/);
  await assert.rejects(furtherTraining(opts({ divisor: 'remaining' })), /divisor applies to mode 'zero-weight' only/);
  await assert.rejects(furtherTraining(opts({ seeds: [0, 0] })), /repeat a seed/);
  await assert.rejects(furtherTraining(opts({ seeds: [-1] })), /seeds must be non-negative integers/);
  await assert.rejects(furtherTraining(opts({ seeds: 0 })), /seeds must be a positive count/);
  await assert.rejects(furtherTraining(opts({ from: new Float32Array(5) })), /θ has 5 entries, the model has \d+ parameters/);
  await assert.rejects(furtherTraining(opts({ from: base.states.final().theta })), /give batchSize/);
  await assert.rejects(furtherTraining(opts({ batchSize: 0 })), /batchSize must be a positive integer/);
  await assert.rejects(furtherTraining(opts({ model: mlp({ sizes: [12, 5, 4], activation: 'tanh' }) })), /model spec does not match/);
});
