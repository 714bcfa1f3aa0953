import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/runtime/backend.ts';
import { tf } from '../../lib/runtime/tf.ts';
import { mlp, MLP_PRESETS } from '../../lib/models/mlp.ts';
import { makeBatch } from '../../lib/data/batch.ts';
import { adamwStep } from '../../lib/optim/adamw.ts';
import { paramList, paramRecord } from '../../lib/models/params.ts';
import { train } from '../../lib/train/trainer.ts';
import { toParams, trajectoryHash, type FlatState, type Trajectory } from '../../lib/train/trajectory.ts';
import type { TrainConfig } from '../../lib/train/setting.ts';
import { adamwSetting, teacherData } from './fixtures/synth.ts';

await initBackend({ backend: 'wasm' });

const model = mlp(MLP_PRESETS.tiny);
const data = teacherData(40, 12, 4, 1); // B = 8 → 5 steps per epoch
const sgdSetting = (over: Partial<TrainConfig> = {}): TrainConfig =>
  adamwSetting({ optimizer: { kind: 'sgd', momentum: 0.9, weightDecay: 1e-3, dampening: 0.1 }, schedule: { kind: 'linear', lr: 0.1, warmupSteps: 2 }, ...over });

const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const sameState = (a: FlatState, b: FlatState) =>
  a.optStep === b.optStep && same(a.theta, b.theta) && (['m', 'v', 'buf'] as const).every((k) => (!a[k] && !b[k]) || (!!a[k] && !!b[k] && same(a[k]!, b[k]!)));
/** First state index at which θ differs (T+1 if never). */
function firstDiff(a: Trajectory, b: Trajectory): number {
  const T = a.manifest.steps;
  for (let t = 0; t <= T; t++) if (!same(a.states.at(t).theta, b.states.at(t).theta)) return t;
  return T + 1;
}
function occurrences(plan: number[][], id: number): number[] {
  return plan.flatMap((b, t) => (b.includes(id) ? [t] : []));
}

test('determinism: same seed → bit-identical trajectory; another seed differs', async () => {
  for (const s of [adamwSetting({ epochs: 2 }), sgdSetting({ epochs: 2 })]) {
    const a = await train({ model, data, setting: s });
    const b = await train({ model, data, setting: s });
    const c = await train({ model, data, setting: { ...s, seed: 1 } });
    assert.equal(trajectoryHash(a), trajectoryHash(b));
    assert.notEqual(trajectoryHash(a), trajectoryHash(c));
    assert.equal(a.manifest.steps, 10);
    assert.deepEqual(a.states.recorded, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(a.states.at(10).optStep, 10);
    assert.deepEqual(a.divisors, Array(10).fill(8));
    assert.ok(a.losses[9] < a.losses[0], 'training reduces the loss');
    assert.equal(a.manifest.runtime.backend, 'wasm');
  }
});

test('removal (divisor original) is bit-identical to weight 0; differs from the base run', async () => {
  const s = adamwSetting({ epochs: 2 });
  const base = await train({ model, data, setting: s });
  const j = 7;
  const rem = await train({ model, data, setting: s, removal: { ids: [j], occurrence: 'all', divisor: 'original' } });
  const w0 = await train({ model, data, setting: s, weights: (id) => (id === j ? 0 : 1) });
  assert.equal(trajectoryHash(rem), trajectoryHash(w0));
  assert.notEqual(trajectoryHash(rem), trajectoryHash(base));
  assert.deepEqual(rem.divisors, base.divisors);
  assert.equal(firstDiff(base, rem), occurrences(base.batches, j)[0] + 1);
});

test("removal (divisor 'remaining') divides by |B|−1: one step equals a hand-built mean over the rest", async () => {
  const s = adamwSetting({ epochs: 1 });
  const base = await train({ model, data, setting: s });
  const j = 11;
  const [t1] = occurrences(base.batches, j);
  const cf = await train({ model, data, setting: s, removal: { ids: [j], occurrence: 'all', divisor: 'remaining' } });
  assert.equal(cf.divisors[t1], 7);
  assert.equal(cf.divisors.filter((d) => d === 8).length, 4);
  const st = base.states.at(t1);
  const want = tf.tidy(() => {
    const rest = base.batches[t1].filter((i) => i !== j);
    const batch = makeBatch(data, rest);
    const p = toParams(st.theta, model.spec);
    const f = (...ts: tf.Tensor[]) => tf.mean(model.perExampleLoss(paramRecord(ts, model.spec), batch)) as tf.Scalar;
    const g = tf.grads(f)(paramList(p, model.spec));
    const o = s.optimizer as { beta1: number; beta2: number; eps: number; weightDecay: number };
    const r = adamwStep(p, paramRecord(g, model.spec), { m: toParams(st.m!, model.spec), v: toParams(st.v!, model.spec), step: st.optStep }, { lr: base.lrs[t1], ...o });
    return Float32Array.from(model.spec.flatMap((x) => [...r.params[x.name].dataSync()]));
  });
  const got = cf.states.at(t1 + 1).theta;
  const ref = base.states.at(t1 + 1).theta;
  let err = 0, moved = 0;
  for (let i = 0; i < got.length; i++) {
    err = Math.max(err, Math.abs(got[i] - want[i]));
    moved = Math.max(moved, Math.abs(ref[i] - want[i]));
  }
  assert.ok(err < 1e-6, `max |θ − hand-built| = ${err}`);
  assert.ok(moved > 100 * err + 1e-6, 'removal changed the step');
});

test("empty batch under 'remaining': update skipped (θ, m, v, counter unchanged), schedule index advances", async () => {
  const s = adamwSetting({ epochs: 1, schedule: { kind: 'linear', lr: 1e-2, warmupSteps: 0 } });
  const base = await train({ model, data, setting: s, record: 'none' });
  const cf = await train({ model, data, setting: s, removal: { ids: base.batches[2], occurrence: 'all', divisor: 'remaining' } });
  assert.equal(cf.divisors[2], 0);
  assert.equal(cf.losses[2], 0);
  assert.ok(sameState(cf.states.at(2), cf.states.at(3)));
  assert.equal(cf.states.at(5).optStep, 4);
  assert.deepEqual(cf.lrs, base.lrs);
});

test('occurrence first / last / {step} on a 2-epoch run changes exactly the intended step', async () => {
  for (const s of [adamwSetting({ epochs: 2 }), sgdSetting({ epochs: 2 })]) {
    const base = await train({ model, data, setting: s, record: 'params' });
    const j = 3;
    const [t1, t2] = occurrences(base.batches, j);
    assert.ok(t1 < 5 && t2 >= 5, 'one occurrence per epoch');
    const run = (occurrence: 'all' | 'first' | 'last' | { step: number }) =>
      train({ model, data, setting: s, record: 'params', removal: { ids: [j], occurrence, divisor: 'original' } });
    assert.equal(firstDiff(base, await run('first')), t1 + 1);
    assert.equal(firstDiff(base, await run('last')), t2 + 1);
    assert.equal(firstDiff(base, await run({ step: t2 })), t2 + 1);
    assert.equal(firstDiff(base, await run('all')), t1 + 1);
    const onlyLast = await run('last');
    const first = await run('first');
    assert.ok(!same(onlyLast.states.final().theta, first.states.final().theta));
  }
});

test('branching with `from` at the first occurrence gives a final state bit-identical to the full rerun', async () => {
  for (const s of [adamwSetting({ epochs: 2 }), sgdSetting({ epochs: 2 })]) {
    const base = await train({ model, data, setting: s, record: 'full' });
    const j = 21;
    const [t1, t2] = occurrences(base.batches, j);
    for (const [occurrence, at] of [['all', t1], ['last', t2]] as const) {
      const removal = { ids: [j], occurrence, divisor: 'original' } as const;
      const full = await train({ model, data, setting: s, removal, record: 'none' });
      const branch = await train({ model, data, setting: s, removal, record: 'none', from: { step: at, state: base.states.at(at) } });
      assert.ok(sameState(full.states.final(), branch.states.final()), `${s.optimizer.kind} ${occurrence}`);
      assert.equal(branch.manifest.startStep, at);
      assert.deepEqual(branch.losses.slice(at), full.losses.slice(at));
    }
    await assert.rejects(
      train({ model, data, setting: s, removal: { ids: [j], occurrence: 'all', divisor: 'original' }, from: { step: t1 + 1, state: base.states.at(t1 + 1) } }),
      /before from\.step/,
    );
  }
});

test('weights and evalFn: ε-upweighting changes the run; evalFn sees θ_t', async () => {
  const s = adamwSetting();
  const seen: number[] = [];
  const a = await train({ model, data, setting: s, evalEvery: 2, evalFn: (p, t) => (seen.push(t), tf.sum(p['l0.b']).dataSync()[0]) });
  assert.deepEqual(a.evals.map((e) => e.t), [0, 2, 4, 5]);
  const b0 = a.states.at(4).theta;
  const off = model.spec[0].shape[0] * model.spec[0].shape[1];
  const want = b0.subarray(off, off + 6).reduce((x, y) => x + y, 0);
  assert.ok(Math.abs((a.evals[2].value as number) - want) < 1e-5);
  const b = await train({ model, data, setting: s, weights: (id) => (id === 0 ? 1 + 1e-3 : 1) });
  assert.notEqual(trajectoryHash(a), trajectoryHash(b));
});

test("rowOrder 'reversed': the same run up to float32 rounding, but not the same bits; hashed and recorded", async () => {
  for (const s of [adamwSetting({ epochs: 2 }), sgdSetting({ epochs: 2 })]) {
    const a = await train({ model, data, setting: s });
    const r = await train({ model, data, setting: s, rowOrder: 'reversed' });
    const again = await train({ model, data, setting: s, rowOrder: 'reversed' });
    assert.equal(trajectoryHash(r), trajectoryHash(again), 'reversed is itself deterministic');
    assert.deepEqual(r.batches, a.batches.map((b) => [...b].reverse()));
    assert.equal(r.manifest.rowOrder, 'reversed');
    assert.ok(!('rowOrder' in a.manifest), 'plan order leaves the manifest (and earlier run hashes) unchanged');
    assert.notEqual(r.manifest.runHash, a.manifest.runHash);
    const ta = a.states.final().theta;
    const tr = r.states.final().theta;
    let d = 0;
    let m = 0;
    for (let i = 0; i < ta.length; i++) {
      d = Math.max(d, Math.abs(ta[i] - tr[i]));
      m = Math.max(m, Math.abs(ta[i] - a.states.at(0).theta[i]));
    }
    assert.ok(d > 0, 'another summation order rounds differently (otherwise it measures no noise)');
    assert.ok(d < 1e-4 * m, `reversed rows change θ_T by ${d}, the run moved θ by ${m}`);
  }
  await assert.rejects(train({ model, data, setting: adamwSetting(), rowOrder: 'shuffled' as never }), /rowOrder must be 'plan' or 'reversed', got 'shuffled'/);
});

test('no tensor leak over 1,000 steps (record none)', async () => {
  const s = adamwSetting({ epochs: 200 }); // 40/8 · 200 = 1,000 steps
  await train({ model, data, setting: { ...s, maxSteps: 3 }, record: 'none' }); // warm kernels
  const before = tf.memory().numTensors;
  const t = await train({ model, data, setting: s, record: 'none' });
  assert.equal(t.manifest.steps, 1000);
  assert.equal(tf.memory().numTensors, before);
  // Replay of a non-stored state leaks nothing either.
  t.states.at(500);
  assert.equal(tf.memory().numTensors, before);
});

test('bad inputs: clear errors', async () => {
  for (const batchSize of [0, -1, 2.5]) {
    await assert.rejects(train({ model, data, setting: adamwSetting({ batchSize }) }), /batchSize must be a positive integer/);
  }
  await assert.rejects(train({ model, data, setting: { ...adamwSetting(), optimizer: { kind: 'lion' } as never } }), /optimizer\.kind/);
  await assert.rejects(train({ model, data, setting: adamwSetting(), removal: { ids: [40], occurrence: 'all', divisor: 'original' } }), /removal id 40 out of range \[0, 40\)/);
  await assert.rejects(train({ model, data, setting: adamwSetting(), removal: { ids: [1, 1], occurrence: 'all', divisor: 'original' } }), /listed twice/);
  await assert.rejects(train({ model, data, setting: adamwSetting(), removal: { ids: [1], occurrence: { step: 99 }, divisor: 'original' } }), /occurrence\.step/);
  await assert.rejects(train({ model, data, setting: adamwSetting(), removal: { ids: [1], occurrence: 'all', divisor: 'mean' as never } }), /removal\.divisor/);
  await assert.rejects(train({ model, data, setting: adamwSetting(), record: 'some' as never }), /record must be/);
  await assert.rejects(train({ model, data, setting: adamwSetting(), until: 6 }), /until must be an integer in \[0, 5\]/);
  await assert.rejects(train({ model, data, setting: adamwSetting(), weights: () => NaN }), /weights\(\d+, 0\) returned NaN/);
  // Divergence: a huge LR overflows float32 within a few steps; the error names step, epoch and batch.
  const relu = mlp({ sizes: [12, 6, 4], activation: 'relu' });
  const sgd = adamwSetting({ epochs: 3, optimizer: { kind: 'sgd', momentum: 0, weightDecay: 0 }, schedule: { kind: 'constant', lr: 1e30 } });
  await assert.rejects(train({ model: relu, data, setting: sgd }), /training diverged at step \d+ \(epoch \d+, lr 1e\+30, batch ids \[\d+/);
});
