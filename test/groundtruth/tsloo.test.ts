import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../../lib/runtime/backend.ts';
import { tf } from '../../lib/runtime/tf.ts';
import { mlp, MLP_PRESETS } from '../../lib/models/mlp.ts';
import { cnn, CNN_PRESETS } from '../../lib/models/cnn.ts';
import { disposeParams, unflattenParams } from '../../lib/models/params.ts';
import { train } from '../../lib/train/trainer.ts';
import type { TrainConfig } from '../../lib/train/setting.ts';
import type { Removal, Trajectory } from '../../lib/train/trajectory.ts';
import { tsloo, type TslooOptions } from '../../lib/groundtruth/tsloo.ts';
import { queryLosses } from '../../lib/groundtruth/common.ts';
import { MlpReplicas } from '../../lib/groundtruth/replicas.ts';
import { adamwSetting, teacherData } from '../train/fixtures/synth.ts';
import { onWarning } from '../../lib/runtime/log.ts';

await initBackend({ backend: 'wasm' });

const model = mlp(MLP_PRESETS.tiny);
const data = teacherData(40, 12, 4, 1); // B = 8 → 5 steps per epoch; 2 epochs → every id occurs twice
const queries = teacherData(16, 12, 4, 2);
const sgdSetting = (over: Partial<TrainConfig> = {}): TrainConfig =>
  adamwSetting({ optimizer: { kind: 'sgd', momentum: 0.9, weightDecay: 1e-3, dampening: 0.1 }, schedule: { kind: 'linear', lr: 0.1, warmupSteps: 2 }, ...over });
const adamw = adamwSetting({ epochs: 2 });
const base = await train({ model, data, setting: adamw, record: 'full' });
const ids = [3, 0, 17, 39, 8, 21, 11, 30, 25, 5, 14, 33];

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, x) => Math.max(m, Math.abs(x)), 0);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
const opts = (over: Partial<TslooOptions> = {}): TslooOptions => ({ model, data, trajectory: base, queries, ids, ...over });
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-tsloo-'));

/** TSLOO of one id by a full rerun from step 0 (no branching), the most literal definition. */
async function literal(traj: Trajectory, setting: TrainConfig, id: number, occurrence: Removal['occurrence'], divisor: Removal['divisor']): Promise<Float64Array> {
  const cf = await train({ model, data, setting, removal: { ids: [id], occurrence, divisor }, record: 'none' });
  const pc = unflattenParams(cf.states.final().theta, model.spec);
  const pb = unflattenParams(traj.states.final().theta, model.spec);
  const a = queryLosses(model, pc, queries);
  const b = queryLosses(model, pb, queries);
  disposeParams(pc);
  disposeParams(pb);
  return Float64Array.from(a, (x, q) => x - b[q]);
}

test('vectorised replicas equal one-at-a-time train() reruns to float32 rounding (AdamW and SGD, 2 epochs)', async () => {
  const deep = mlp({ sizes: [12, 8, 8, 4], activation: 'relu' }); // exercises a batched middle layer and relu
  for (const [name, m, traj] of [
    ['adamw tanh 12-6-4', model, base],
    ['sgd tanh 12-6-4', model, await train({ model, data, setting: sgdSetting({ epochs: 2 }), record: 'full' })],
    ['adamw relu 12-8-8-4', deep, await train({ model: deep, data, setting: adamw, record: 'full' })],
  ] as const) {
    const seq = await tsloo(opts({ model: m, trajectory: traj, method: 'sequential' }));
    const vec = await tsloo(opts({ model: m, trajectory: traj, method: 'vectorised', replicas: 5, crossCheck: 2 }));
    assert.equal(vec.crossCheck!.ids.length, 2);
    assert.ok(vec.crossCheck!.maxAbsDiff.every((d, k) => d <= maxDiff(seq.scores.values, vec.scores.values) && vec.crossCheck!.maxAbsScore[k] > 0));
    assert.equal(seq.method, 'sequential');
    assert.equal(vec.method, 'vectorised');
    assert.deepEqual(seq.baseLosses, vec.baseLosses);
    const d = maxDiff(seq.scores.values, vec.scores.values);
    const big = maxAbs(seq.scores.values);
    console.log(`# ${name}: max|TSLOO| = ${big.toExponential(3)}, max|vec − seq| = ${d.toExponential(3)}, noise |control − base| max ${vec.noise!.maxAbs.toExponential(2)} mean ${vec.noise!.meanAbs.toExponential(2)} (${vec.noise!.groups} groups)`);
    assert.ok(big > 1e-4, 'the removals have a measurable effect');
    assert.ok(d <= 1e-3 * big + 1e-6, `max diff ${d} vs max |TSLOO| ${big}`);
    assert.ok(vec.noise!.maxAbs < 1e-4, `noise floor ${vec.noise!.maxAbs}`);
    assert.equal(seq.noise, null);
    assert.ok(seq.complete && vec.complete);
    assert.deepEqual(vec.branchSteps, seq.branchSteps);
  }
});

test('auto picks vectorised for the MLP; the replica runner reproduces a single train() step sequence closely', async () => {
  const r = await tsloo(opts({ ids: [3], replicas: 2 }));
  assert.equal(r.method, 'vectorised');
  // Two identical replicas started at state 0 stay within float32 rounding of the trainer's final θ.
  const rep = new MlpReplicas(model, adamw, base.states.at(0), 2);
  try {
    for (let t = 0; t < base.batches.length; t++) {
      const B = base.batches[t].length;
      rep.step(data, base.batches[t], new Float32Array(2 * B).fill(1 / B), base.lrs[t], t);
    }
    const a = rep.replicaState(0);
    const b = rep.replicaState(1);
    const want = base.states.final();
    assert.ok(maxDiff(a.theta, want.theta) < 1e-5, `replica θ vs trainer θ: ${maxDiff(a.theta, want.theta)}`);
    assert.ok(maxDiff(a.m!, want.m!) < 1e-5 && maxDiff(a.v!, want.v!) < 1e-6);
    assert.equal(a.optStep, want.optStep);
    assert.deepEqual(a.theta, b.theta, 'replicas do not interact');
  } finally {
    rep.dispose();
  }
});

test('branching equals a full rerun from step 0 (bit-identical TSLOO values)', async () => {
  const few = [3, 21, 39];
  for (const [occurrence, divisor] of [['all', 'original'], ['last', 'remaining']] as const) {
    const r = await tsloo(opts({ ids: few, method: 'sequential', occurrence, divisor }));
    for (const [k, id] of few.entries()) {
      assert.ok(r.branchSteps[k] > 0 || occurrence === 'all', 'the branch starts after step 0');
      const want = await literal(base, adamw, id, occurrence, divisor);
      assert.deepEqual(r.scores.values.slice(k * queries.n, (k + 1) * queries.n), want, `id ${id} ${occurrence}/${divisor}`);
    }
  }
});

test("occurrence 'first' vs 'all' differ on a 2-epoch run; 'remaining' vs 'original' differ; 'last' and {step} work", async () => {
  const all = await tsloo(opts({ occurrence: 'all' }));
  const first = await tsloo(opts({ occurrence: 'first' }));
  const last = await tsloo(opts({ occurrence: 'last' }));
  const rem = await tsloo(opts({ divisor: 'remaining' }));
  const big = maxAbs(all.scores.values);
  assert.ok(maxDiff(all.scores.values, first.scores.values) > 0.05 * big, 'first ≠ all');
  assert.ok(maxDiff(all.scores.values, last.scores.values) > 0.05 * big, 'last ≠ all');
  assert.ok(maxDiff(all.scores.values, rem.scores.values) > 1e-3 * big, 'remaining ≠ original');
  assert.deepEqual(first.branchSteps, all.branchSteps);
  assert.ok(last.branchSteps.every((b, k) => b >= 5 && b > all.branchSteps[k]), 'last occurrence lies in epoch 2');
  // {step}: every id of batch 6 removed there; a vectorised and a sequential run agree.
  const batch6 = base.batches[6].slice(0, 4);
  const s1 = await tsloo(opts({ ids: batch6, occurrence: { step: 6 } }));
  const s2 = await tsloo(opts({ ids: batch6, occurrence: { step: 6 }, method: 'sequential' }));
  assert.deepEqual(s1.branchSteps, [6, 6, 6, 6]);
  assert.ok(maxDiff(s1.scores.values, s2.scores.values) <= 1e-3 * maxAbs(s2.scores.values) + 1e-6);
  await assert.rejects(tsloo(opts({ ids: [base.batches[7][0]], occurrence: { step: 6 } })), /does not occur in batch 6/);
});

test("'remaining' with a batch of one: the emptied step is skipped (trainer fallback inside the vectorised method)", async () => {
  const d41 = teacherData(41, 12, 4, 1); // last batch of each epoch has one sample
  const s = adamwSetting({ epochs: 2 });
  const traj = await train({ model, data: d41, setting: s, record: 'full' });
  const lone = traj.batches[5][0];
  assert.equal(traj.batches[5].length, 1);
  const pick = [lone, 0, 1, 2];
  const o = { model, data: d41, trajectory: traj, queries, ids: pick, divisor: 'remaining' as const };
  const vec = await tsloo({ ...o, replicas: 3 });
  const seq = await tsloo({ ...o, method: 'sequential' });
  assert.ok(maxDiff(vec.scores.values, seq.scores.values) <= 1e-3 * maxAbs(seq.scores.values) + 1e-6);
  // The lone sample's row came from the trainer (bit-identical to the sequential run).
  assert.deepEqual(vec.scores.values.slice(0, queries.n), seq.scores.values.slice(0, queries.n));
});

test('cache + resume: an interrupted computation resumes to the identical matrix; a finished one is served from the cache', async () => {
  const ref = await tsloo(opts({ replicas: 4 })); // 12 ids → 3 groups, in memory
  const dir = tmp();
  try {
    const seen: [number, number][] = [];
    const part = await tsloo(opts({ replicas: 4, cacheDir: dir, stopAfter: 1, onProgress: (d, t) => seen.push([d, t]) }));
    assert.equal(part.complete, false);
    assert.equal(part.timing.runsTrainedNow, 4);
    assert.equal(part.scores.values.filter((x) => Number.isNaN(x)).length, 8 * queries.n);
    assert.deepEqual(seen, [[0, 12], [4, 12]]);
    const sub = fs.readdirSync(dir);
    assert.equal(sub.length, 1);
    assert.deepEqual(fs.readdirSync(path.join(dir, sub[0], 'groups')), ['000000.json', '000000.json.sha256']);
    assert.ok(!fs.existsSync(path.join(dir, sub[0], 'result.json')));

    const resumed = await tsloo(opts({ replicas: 4, cacheDir: dir }));
    assert.ok(resumed.complete);
    assert.equal(resumed.timing.runsTrainedNow, 8);
    assert.deepEqual(resumed.scores.values, ref.scores.values);
    assert.deepEqual(resumed.noise, ref.noise);

    const t0 = performance.now();
    const hit = await tsloo(opts({ replicas: 4, cacheDir: dir }));
    const ms = performance.now() - t0;
    assert.equal(hit.timing.runsTrainedNow, 0);
    assert.deepEqual(hit.scores.values, ref.scores.values);
    assert.deepEqual(hit.baseLosses, ref.baseLosses);
    assert.ok(ms < 1000, `cache hit took ${ms} ms`);
    // A cross-check asked of a finished entry is computed once, then served from the cache too.
    const cc = await tsloo(opts({ replicas: 4, cacheDir: dir, crossCheck: 2 }));
    assert.equal(cc.crossCheck!.ids.length, 2);
    assert.equal(cc.timing.runsTrainedNow, 0);
    const cc2 = await tsloo(opts({ replicas: 4, cacheDir: dir, crossCheck: 1 }));
    assert.deepEqual(cc2.crossCheck, cc.crossCheck);

    // A deleted group file (a kill before its rename) is recomputed, and only that group.
    fs.rmSync(path.join(dir, sub[0], 'result.json'));
    fs.rmSync(path.join(dir, sub[0], 'groups', '000002.json'));
    const again = await tsloo(opts({ replicas: 4, cacheDir: dir }));
    assert.equal(again.timing.runsTrainedNow, 4);
    assert.deepEqual(again.scores.values, ref.scores.values);

    // Another request (other occurrence) gets its own entry.
    await tsloo(opts({ ids: [3], occurrence: 'first', cacheDir: dir }));
    assert.equal(fs.readdirSync(dir).length, 2);

    // Sequential requests cache per sample.
    const seqA = await tsloo(opts({ ids: [3, 21], method: 'sequential', cacheDir: dir, stopAfter: 1 }));
    assert.equal(seqA.timing.runsTrainedNow, 1);
    const seqB = await tsloo(opts({ ids: [3, 21], method: 'sequential', cacheDir: dir }));
    assert.equal(seqB.timing.runsTrainedNow, 1);
    const seqRef = await tsloo(opts({ ids: [3, 21], method: 'sequential' }));
    assert.deepEqual(seqB.scores.values, seqRef.scores.values);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('other families run one-at-a-time through the trainer (CNN): auto → sequential, equals a literal rerun', async () => {
  const net = cnn(CNN_PRESETS.tiny);
  const img = teacherData(24, 64, 3, 5);
  const imgs = { ...img, xShape: [8, 8, 1] };
  const qs = { ...teacherData(6, 64, 3, 6), xShape: [8, 8, 1] };
  const s = adamwSetting({ epochs: 2 });
  const traj = await train({ model: net, data: imgs, setting: s, record: 'full' });
  const r = await tsloo({ model: net, data: imgs, trajectory: traj, queries: qs, ids: [4, 19] });
  assert.equal(r.method, 'sequential');
  assert.equal(r.noise, null);
  await assert.rejects(tsloo({ model: net, data: imgs, trajectory: traj, queries: qs, ids: [4], method: 'vectorised' }), /supports plain MLPs only \(model family 'cnn'\)/);
  const cf = await train({ model: net, data: imgs, setting: s, removal: { ids: [19], occurrence: 'all', divisor: 'original' }, record: 'none' });
  const pc = unflattenParams(cf.states.final().theta, net.spec);
  const pb = unflattenParams(traj.states.final().theta, net.spec);
  const a = queryLosses(net, pc, qs);
  const b = queryLosses(net, pb, qs);
  disposeParams(pc);
  disposeParams(pb);
  assert.deepEqual(r.scores.values.slice(6, 12), Float64Array.from(a, (x, q) => x - b[q]));
  assert.ok(maxAbs(r.scores.values) > 0);
});

test("rowOrder 'reversed' (sequential): the same TSLOO up to float32 rounding, a separate cache entry, clear errors", async () => {
  const net = cnn(CNN_PRESETS.tiny);
  const imgs = { ...teacherData(24, 64, 3, 5), xShape: [8, 8, 1] };
  const qs = { ...teacherData(6, 64, 3, 6), xShape: [8, 8, 1] };
  const traj = await train({ model: net, data: imgs, setting: adamwSetting({ epochs: 2 }), record: 'full' });
  const dir = tmp();
  try {
    const o = { model: net, data: imgs, trajectory: traj, queries: qs, ids: [4, 19, 7], cacheDir: dir };
    const plain = await tsloo(o);
    const rev = await tsloo({ ...o, rowOrder: 'reversed' });
    assert.equal(plain.rowOrder, 'plan');
    assert.equal(rev.rowOrder, 'reversed');
    assert.notEqual(rev.key, plain.key);
    assert.deepEqual(rev.baseLosses, plain.baseLosses);
    const d = maxDiff(plain.scores.values, rev.scores.values);
    assert.ok(d > 0, 'the second order must round differently, or it measures nothing');
    assert.ok(d < 1e-3 * maxAbs(plain.scores.values), `orders differ by ${d}, scores reach ${maxAbs(plain.scores.values)}`);
    const cached = await tsloo({ ...o, rowOrder: 'reversed' });
    assert.equal(cached.rowOrder, 'reversed');
    assert.deepEqual(cached.scores.values, rev.scores.values);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  await assert.rejects(tsloo(opts({ rowOrder: 'reversed' })), /rowOrder 'reversed' needs method 'sequential' \(this request resolved to 'vectorised'\)/);
  await assert.rejects(tsloo(opts({ method: 'sequential', rowOrder: 'random' as never })), /rowOrder must be 'plan' or 'reversed', got 'random'/);
  const rbase = await train({ model, data, setting: adamw, rowOrder: 'reversed' });
  await assert.rejects(tsloo(opts({ trajectory: rbase, method: 'sequential' })), /'reversed' row order; pass the plan-order base run/);
});

test('no tensor leak (vectorised and sequential)', async () => {
  await tsloo(opts({ ids: [3, 5], replicas: 2 }));
  const before = tf.memory().numTensors;
  await tsloo(opts({ ids: [3, 5, 8], replicas: 2 }));
  await tsloo(opts({ ids: [3, 5], method: 'sequential' }));
  assert.equal(tf.memory().numTensors, before);
});

test('bad inputs: clear errors', async () => {
  await assert.rejects(tsloo(opts({ ids: [40] })), /ids\[0\] = 40 is out of range \[0, 40\)/);
  await assert.rejects(tsloo(opts({ ids: [1, -1] })), /ids\[1\] = -1 is out of range/);
  await assert.rejects(tsloo(opts({ ids: [2, 2] })), /id 2 appears twice/);
  await assert.rejects(tsloo(opts({ ids: 'all' as never })), /ids must be an array/);
  const thin = await train({ model, data, setting: adamw, record: 'params' });
  await assert.rejects(tsloo(opts({ trajectory: thin })), /record 'params'.*full states/);
  const cf = await train({ model, data, setting: adamw, removal: { ids: [4], occurrence: 'all', divisor: 'original' } });
  await assert.rejects(tsloo(opts({ trajectory: cf })), /itself counterfactual/);
  const w = await train({ model, data, setting: adamw, weights: () => 1, weightsKey: 'ones' });
  await assert.rejects(tsloo(opts({ trajectory: w })), /sample weights 'ones'/);
  const br = await train({ model, data, setting: adamw, from: { step: 2, state: base.states.at(2) } });
  await assert.rejects(tsloo(opts({ trajectory: br })), /branch starting at step 2/);
  await assert.rejects(tsloo(opts({ data: teacherData(48, 12, 4, 1) })), /trained on 40 samples, data has 48/);
  await assert.rejects(tsloo(opts({ model: mlp({ sizes: [12, 5, 4], activation: 'tanh' }) })), /model spec does not match/);
  await assert.rejects(tsloo(opts({ occurrence: 'middle' as never })), /occurrence must be/);
  await assert.rejects(tsloo(opts({ divisor: 'mean' as never })), /divisor must be 'original' or 'remaining'/);
  await assert.rejects(tsloo(opts({ method: 'fast' as never })), /method must be/);
  await assert.rejects(tsloo(opts({ replicas: 0 })), /replicas must be a positive integer/);
  await assert.rejects(tsloo(opts({ queries: { ...queries, n: 0, x: new Float32Array(0), y: new Int32Array(0) } })), /queries is empty/);
});

test('issue #17 (2): an edited result, a truncated group and a record-less file are never used: set aside, recomputed, named', async () => {
  const ref = await tsloo(opts({ replicas: 4 }));
  const dir = tmp();
  try {
    await tsloo(opts({ replicas: 4, cacheDir: dir }));
    const entry = path.join(dir, fs.readdirSync(dir)[0]);
    const result = path.join(entry, 'result.json');
    // Edited: one score changed by hand (the file still parses).
    const j = JSON.parse(fs.readFileSync(result, 'utf8'));
    j.values[0] += 1;
    fs.writeFileSync(result, JSON.stringify(j));
    // Truncated: a group file cut in half (it no longer parses).
    const group = path.join(entry, 'groups', '000001.json');
    fs.writeFileSync(group, fs.readFileSync(group, 'utf8').slice(0, 500));
    const seen: string[] = [];
    const stop = onWarning((m) => seen.push(m));
    let again;
    try {
      again = await tsloo(opts({ replicas: 4, cacheDir: dir }));
    } finally {
      stop();
    }
    assert.deepEqual(again.scores.values, ref.scores.values, 'the edited value is not used');
    assert.equal(again.timing.runsTrainedNow, 4, 'only the damaged group is recomputed');
    assert.ok(seen.some((m) => m.includes(result) && /does not match/.test(m)), seen.join(' | '));
    assert.ok(seen.some((m) => m.includes(group)), seen.join(' | '));
    assert.ok(fs.readdirSync(entry).some((f) => f.startsWith('result.json.corrupt-')), 'the edited file is kept aside');
    // A file without its integrity record (torn write, or written by an older version) is not trusted either.
    fs.rmSync(result + '.sha256');
    const third = await tsloo(opts({ replicas: 4, cacheDir: dir }));
    assert.deepEqual(third.scores.values, ref.scores.values);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
