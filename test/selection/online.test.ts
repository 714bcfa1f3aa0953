/**
 * Online selection loop: exact budgets, agreement with the offline sweep where the two coincide (t = 0),
 * budget 1 = the plain run, determinism per seed; and the budget / offline helpers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/runtime/backend.ts';
import { createModel } from '../../lib/models/registry.ts';
import { train } from '../../lib/train/trainer.ts';
import type { TrainConfig } from '../../lib/train/setting.ts';
import type { AdamWAdjoint } from '../../lib/optim/linearize.ts';
import { relativeError } from '../../lib/analysis/metrics.ts';
import { lookaheadScores } from '../../lib/selection/lookahead.ts';
import { trainOnline, type OnlineStepInfo } from '../../lib/selection/online.ts';
import { batchQuotas, keptCount, topK } from '../../lib/selection/budget.ts';
import { retrainOn, selectRandom, selectTop } from '../../lib/selection/offline.ts';
import { teacherData } from '../train/fixtures/synth.ts';

await initBackend({ backend: 'wasm' });

const data = teacherData(30, 6, 3, 1);
const val = teacherData(7, 6, 3, 2);
const model = createModel({ family: 'mlp', config: { sizes: [6, 8, 3], activation: 'tanh' } });
const setting: TrainConfig = {
  seed: 4,
  batchSize: 8, // 30 = 3·8 + 6: a partial last batch per epoch
  epochs: 2,
  optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01 },
  schedule: { kind: 'linear', lr: 0.02, warmupSteps: 2 },
};

test('batchQuotas: every epoch keeps exactly round(b·n), each batch 0 ≤ q ≤ |B|', () => {
  const sizes = [8, 8, 8, 6, 8, 8, 8, 6];
  for (const b of [0.5, 0.8, 0.3, 1]) {
    const q = batchQuotas(sizes, b, 4);
    for (const e of [0, 1]) assert.equal(q.slice(4 * e, 4 * e + 4).reduce((s, x) => s + x, 0), keptCount(30, b), `budget ${b}`);
    q.forEach((x, t) => assert.ok(x >= 0 && x <= sizes[t]));
  }
  assert.throws(() => batchQuotas(sizes, 0, 4), /budget/);
  assert.deepEqual(topK([1, 3, 3, -2, 0], 2), [1, 2]);
  assert.deepEqual(topK([5, 5, 5], 2), [0, 1], 'ties go to the lower position');
  assert.deepEqual(selectTop(Float64Array.from([0.1, -1, 2, 0.5]), 0.5), [2, 3]);
  const r = selectRandom(30, 0.5, 1);
  assert.equal(r.length, 15);
  assert.deepEqual(r, selectRandom(30, 0.5, 1));
});

test('online loop keeps exactly the budget per epoch and per batch (look-ahead and random)', async () => {
  for (const scorer of [{ kind: 'lookahead', K: 2 } as const, { kind: 'random', seed: 1 } as const]) {
    for (const budget of [0.5, 0.8]) {
      const steps: OnlineStepInfo[] = [];
      const res = await trainOnline({ model, data, setting, validation: val, budget, scorer, onStep: (s) => steps.push(s) });
      assert.deepEqual(res.keptPerEpoch, [keptCount(30, budget), keptCount(30, budget)], `${scorer.kind} ${budget}`);
      const q = batchQuotas([8, 8, 8, 6, 8, 8, 8, 6], budget, 4);
      assert.deepEqual(res.kept.map((k) => k.length), q);
      for (const s of steps) {
        if (s.scores) {
          // The kept ones are the best-scored of their batch.
          const worstKept = Math.min(...s.kept.map((k) => s.scores![k]));
          const dropped = s.ids.map((_, k) => k).filter((k) => !s.kept.includes(k));
          for (const k of dropped) assert.ok(s.scores[k] <= worstKept);
        }
      }
      assert.ok(res.final.theta.every(Number.isFinite));
    }
  }
});

test('at t = 0 the online scores equal the sweep along the reference run (simulate and reference sources)', async () => {
  const ref = await train({ model, data, setting });
  const horizons = [0, 1, 3];
  const adj = new Map<string, AdamWAdjoint>();
  const sweep = await lookaheadScores(
    { model, data, trajectory: ref, validation: val },
    { horizons, onAdjoint: (t, h, U) => adj.set(`${t}/${h}`, { theta: Float64Array.from(U.theta), m: Float64Array.from(U.m), v: Float64Array.from(U.v) }) },
  );
  for (const [hi, K] of horizons.entries()) {
    for (const source of ['simulate', 'reference'] as const) {
      let first: Float64Array | undefined;
      const scorer = source === 'simulate' ? { kind: 'lookahead' as const, K } : { kind: 'lookahead' as const, K, source, adjoint: (t: number) => adj.get(`${t}/${hi}`)! };
      await trainOnline({
        model, data, setting, validation: val, budget: 1, scorer,
        onStep: (s) => {
          if (s.t === 0) first = s.scores;
        },
      });
      const err = relativeError(first!, sweep.scores[hi][0]);
      assert.ok(err < 1e-9, `K = ${K} ${source}: rel err ${err}`);
    }
  }
});

test('budget 1 reproduces the plain training run bit for bit; runs are deterministic per seed', async () => {
  const plain = await train({ model, data, setting, record: 'none' });
  const all = await trainOnline({ model, data, setting, validation: val, budget: 1, scorer: { kind: 'lookahead', K: 1 } });
  assert.deepEqual(all.final.theta, plain.states.final().theta);
  const a = await trainOnline({ model, data, setting, validation: val, budget: 0.5, scorer: { kind: 'lookahead', K: 2 } });
  const b = await trainOnline({ model, data, setting, validation: val, budget: 0.5, scorer: { kind: 'lookahead', K: 2 } });
  assert.deepEqual(a.kept, b.kept);
  assert.deepEqual(a.final.theta, b.final.theta);
  const c = await trainOnline({ model, data, setting: { ...setting, seed: 5 }, validation: val, budget: 0.5, scorer: { kind: 'lookahead', K: 2 } });
  assert.notDeepEqual(a.kept, c.kept, 'another seed, another plan');
  const r1 = await trainOnline({ model, data, setting, validation: val, budget: 0.5, scorer: { kind: 'random', seed: 1 } });
  const r2 = await trainOnline({ model, data, setting, validation: val, budget: 0.5, scorer: { kind: 'random', seed: 1 } });
  assert.deepEqual(r1.kept, r2.kept);
});

test('divisor: kept averages over the kept samples, original keeps |B| (different runs)', async () => {
  const k = await trainOnline({ model, data, setting, validation: val, budget: 0.5, scorer: { kind: 'random', seed: 2 }, divisor: 'kept' });
  const o = await trainOnline({ model, data, setting, validation: val, budget: 0.5, scorer: { kind: 'random', seed: 2 }, divisor: 'original' });
  assert.deepEqual(k.kept, o.kept);
  // Same kept samples: the 'original' loss is the 'kept' loss scaled by q/|B|.
  const q = batchQuotas([8, 8, 8, 6, 8, 8, 8, 6], 0.5, 4);
  assert.ok(Math.abs(o.losses[0] - (k.losses[0] * q[0]) / 8) < 1e-5, `${o.losses[0]} vs ${k.losses[0]}`);
  await assert.rejects(trainOnline({ model, data, setting, validation: val, budget: 1.5, scorer: { kind: 'random', seed: 2 } }), /budget/);
});

test('retrainOn: same init, plan re-drawn over the kept set; keeping everything = the plain run', async () => {
  const plain = await train({ model, data, setting, record: 'none' });
  const everything = await retrainOn({ model, data, setting, keep: Array.from({ length: 30 }, (_, i) => i) });
  assert.deepEqual(everything.final.theta, plain.states.final().theta);
  const half = await retrainOn({ model, data, setting, keep: selectRandom(30, 0.5, 0) });
  assert.equal(half.steps, 2 * Math.ceil(15 / 8));
});
