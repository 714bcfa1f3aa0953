// The estimator kit: the per-step template visits exactly the steps that used a scored occurrence, hands over
// aligned rows and ids, and the estimators written on it give the bits of the loop it replaced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/runtime/backend.ts';
import { mlp } from '../../lib/models/mlp.ts';
import { numParams } from '../../lib/models/types.ts';
import { train } from '../../lib/train/trainer.ts';
import { accumulateDots, adamwHyperOf, eachStepUsingSample, queryGradsAt, scoreMatrix, trainGradsAt, type StepUsingSample } from '../../lib/estimators/kit.ts';
import { occurrenceRows } from '../../lib/estimators/occurrence.ts';
import { tracin } from '../../lib/estimators/tracin.ts';
import { adamFirstOrder } from '../../lib/estimators/adam-first-order.ts';
import { dot } from '../../lib/optim/linearize.ts';
import { UsageError } from '../../lib/runtime/errors.ts';
import type { AttributionTask } from '../../lib/estimators/types.ts';
import { adamwSetting, teacherData } from '../train/fixtures/synth.ts';

await initBackend({ backend: 'wasm' });

const model = mlp({ sizes: [8, 5, 3], activation: 'tanh' });
const p = numParams(model.spec);
const data = teacherData(20, 8, 3, 1);
const queries = teacherData(3, 8, 3, 2);
const sgdRun = await train({
  model,
  data,
  setting: adamwSetting({ batchSize: 4, epochs: 2, optimizer: { kind: 'sgd', momentum: 0, weightDecay: 0 }, schedule: { kind: 'constant', lr: 0.2 } }),
});
const task: AttributionTask = { model, data, trajectory: sgdRun, queries, trainIds: [2, 9, 15] };

test('eachStepUsingSample: visits every step holding a scored occurrence, in order, with aligned rows and ids', async () => {
  for (const occurrence of ['all', 'first', 'last'] as const) {
    const want = occurrenceRows(sgdRun.batches, task.trainIds, occurrence);
    const seen: StepUsingSample[] = [];
    const progress: number[] = [];
    const out = await eachStepUsingSample(task, { occurrence, onProgress: (d) => progress.push(d) }, 'probe', (s) => {
      seen.push(s);
    });
    const steps = want.flatMap((rows, t) => (rows.length ? [t] : []));
    assert.deepEqual(seen.map((s) => s.t), steps, occurrence);
    assert.deepEqual(progress, steps.map((t) => t + 1), 'progress after each visited step');
    for (const s of seen) {
      assert.deepEqual(s.rows, want[s.t].map((r) => r.row));
      assert.deepEqual(s.ids, s.rows.map((r) => task.trainIds[r]), 'ids aligned with rows');
      assert.ok(s.ids.every((id) => sgdRun.batches[s.t].includes(id)), 'every id is in batch t');
      assert.equal(s.lr, sgdRun.lrs[s.t]);
      assert.equal(s.divisor, sgdRun.divisors[s.t]);
      assert.equal(s.p, p);
      assert.equal(s.out, out, 'the matrix it returns');
    }
    if (occurrence !== 'all') assert.equal(seen.reduce((n, s) => n + s.rows.length, 0), task.trainIds.length, `${occurrence}: one occurrence per sample`);
  }
});

test('TracIn on the template = the hand-written loop it replaced, bit for bit', async () => {
  const got = await tracin.score(task);
  const rows = occurrenceRows(sgdRun.batches, task.trainIds);
  const want = scoreMatrix(task.trainIds.length, queries.n);
  for (let t = 0; t < sgdRun.manifest.steps; t++) {
    if (!rows[t].length || sgdRun.divisors[t] === 0) continue;
    const Q = queryGradsAt(task, t);
    const G = trainGradsAt(task, t, rows[t].map((r) => r.id));
    const s = sgdRun.lrs[t] / sgdRun.divisors[t];
    rows[t].forEach((r, k) => {
      for (let q = 0; q < queries.n; q++) want.values[r.row * queries.n + q] += s * dot(G.subarray(k * p, (k + 1) * p), Q.subarray(q * p, (q + 1) * p));
    });
  }
  assert.deepEqual(Array.from(got.values), Array.from(want.values));
  assert.ok(got.values.some((x) => x !== 0), 'not all zero');
});

test('the @example of kit.ts is TracIn; an AdamW-only estimator refuses an SGD run with a usage error', async () => {
  const mine = await eachStepUsingSample(task, {}, 'my-tracin', (s) => {
    accumulateDots(s.out, s.rows, trainGradsAt(task, s.t, s.ids), queryGradsAt(task, s.t), s.p, s.lr / s.divisor);
  });
  assert.deepEqual(Array.from(mine.values), Array.from((await tracin.score(task)).values));
  assert.throws(() => adamwHyperOf(task, 'mine'), (e: unknown) => e instanceof UsageError && /mine: needs an AdamW run, this run used 'sgd'/.test(e.message));
  await assert.rejects(adamFirstOrder.score(task), UsageError);
});
