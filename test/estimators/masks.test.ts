import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/runtime/backend.ts';
import { tf } from '../../lib/runtime/tf.ts';
import { mlp } from '../../lib/models/mlp.ts';
import { numParams } from '../../lib/models/types.ts';
import { specOffsets } from '../../lib/models/params.ts';
import { train } from '../../lib/train/trainer.ts';
import { checkMask, coordinateMask, disjointMasks, maskedDot, maskedScore } from '../../lib/estimators/masks.ts';
import { gradCos, gradDot } from '../../lib/estimators/grad-similarity.ts';
import { tracin, tracinCp } from '../../lib/estimators/tracin.ts';
import { sgdInfluence } from '../../lib/estimators/sgd-influence.ts';
import { ifCg, ifExplicit, inverseHvpQueries } from '../../lib/estimators/influence-function.ts';
import { accSgdIe } from '../../lib/estimators/acc-sgd-ie.ts';
import { finalQueryGrads, queryGradsAt } from '../../lib/estimators/sweep.ts';
import { trainGradsAt } from '../../lib/estimators/kit.ts';
import { occurrenceRows } from '../../lib/estimators/occurrence.ts';
import type { AttributionTask } from '../../lib/estimators/types.ts';
import { adamwSetting, teacherData } from '../train/fixtures/synth.ts';

await initBackend({ backend: 'wasm' });

const model = mlp({ sizes: [12, 6, 4], activation: 'tanh' }); // tensors 72, 6, 24, 4 → p = 106
const p = numParams(model.spec);
const off = specOffsets(model.spec);
const data = teacherData(24, 12, 4, 1);
const queries = teacherData(3, 12, 4, 2);
const traj = await train({
  model,
  data,
  setting: adamwSetting({ batchSize: 6, epochs: 2, optimizer: { kind: 'sgd', momentum: 0, weightDecay: 0 }, schedule: { kind: 'constant', lr: 0.3 } }),
});
const task: AttributionTask = { model, data, trajectory: traj, queries, trainIds: [1, 4, 7, 10, 13] };
const layerOf = (i: number) => off.findIndex((o, l) => i >= o && i < off[l + 1]);
const maxAbs = (a: Float64Array) => a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
const maxDiff = (a: Float64Array, b: Float64Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

test('coordinateMask: seeded, sorted, perLayer coordinates per tensor (all of a smaller tensor)', () => {
  const a = coordinateMask(model.spec, 5, 7);
  assert.deepEqual(Array.from(a), Array.from(coordinateMask(model.spec, 5, 7)), 'deterministic for a seed');
  assert.notDeepEqual(Array.from(a), Array.from(coordinateMask(model.spec, 5, 8)), 'seed matters');
  assert.equal(checkMask('t', a, p), a, 'sorted, unique, in range');
  const per = model.spec.map((_, l) => a.filter((i) => layerOf(i) === l).length);
  assert.deepEqual(per, [5, 5, 5, 4], 'l1.b has only 4 coordinates: all of them');
});

test('disjointMasks: pairwise disjoint, union covers count·perLayer per tensor, mask 0 = coordinateMask', () => {
  const ms = disjointMasks(model.spec, 1, 3, 11, { smallLayers: 'error' }); // 3·1 ≤ 4 (the smallest tensor)
  assert.equal(ms.length, 3);
  const seen = new Set<number>();
  for (const m of ms) {
    checkMask('t', m, p);
    for (const i of m) {
      assert.ok(!seen.has(i), `coordinate ${i} in two masks`);
      seen.add(i);
    }
    assert.deepEqual(model.spec.map((_, l) => m.filter((i) => layerOf(i) === l).length), [1, 1, 1, 1]);
  }
  assert.deepEqual(model.spec.map((_, l) => [...seen].filter((i) => layerOf(i) === l).length), [3, 3, 3, 3]);
  assert.deepEqual(Array.from(ms[0]), Array.from(coordinateMask(model.spec, 1, 11)));
  const big = disjointMasks(model.spec, 2, 3, 11);
  const bigUnion = new Set(big.flatMap((m) => Array.from(m)));
  assert.equal(bigUnion.size, big.reduce((s, m) => s + m.length, 0), 'disjoint');
  assert.deepEqual(model.spec.map((_, l) => [...bigUnion].filter((i) => layerOf(i) === l).length), [6, 6, 6, 4], 'union: count·perLayer per tensor, all 4 of the small one');
  assert.deepEqual(disjointMasks(model.spec, 1, 3, 11).map((m) => Array.from(m)), ms.map((m) => Array.from(m)), 'deterministic');
  // Small tensors: split evenly (default) or rejected.
  const split = disjointMasks(model.spec, 3, 2, 0);
  const union = new Set([...split[0], ...split[1]]);
  assert.equal(split[0].filter((i) => split[1].includes(i)).length, 0);
  assert.equal([...union].filter((i) => layerOf(i) === 3).length, 4, 'the 4-entry bias is split 2 + 2');
  assert.throws(() => disjointMasks(model.spec, 3, 2, 0, { smallLayers: 'error' }), /tensor 'l1\.b' has 4 coordinates, fewer than count·perLayer = 2·3/);
  assert.throws(() => disjointMasks(model.spec, 0, 2, 0), /perLayer must be a positive integer, got 0/);
  assert.throws(() => disjointMasks(model.spec, 2, 1.5, 0), /count must be a positive integer, got 1.5/);
  assert.throws(() => coordinateMask(model.spec, 2, -1), /seed must be a non-negative integer, got -1/);
});

test('masked grad-dot equals the dot of masked gradients; one full mask = the plain estimator', async () => {
  const before = tf.memory().numTensors;
  const ms = disjointMasks(model.spec, 3, 2, 5);
  const got = await maskedScore(gradDot, task, ms);
  const T = traj.manifest.steps;
  const G = trainGradsAt(task, T, task.trainIds);
  const Q = finalQueryGrads(task);
  const nq = queries.n;
  for (let r = 0; r < task.trainIds.length; r++) {
    for (let q = 0; q < nq; q++) {
      // Project both gradients (zero outside the mask) and take the full dot, per mask; then average.
      let want = 0;
      for (const m of ms) {
        const keep = new Set(m);
        let s = 0;
        for (let i = 0; i < p; i++) s += (keep.has(i) ? G[r * p + i] : 0) * (keep.has(i) ? Q[q * p + i] : 0);
        want += s / ms.length;
      }
      assert.ok(Math.abs(got.values[r * nq + q] - want) <= 1e-12 * Math.max(1, Math.abs(want)));
    }
  }
  const all = [Int32Array.from({ length: p }, (_, i) => i)];
  for (const e of [gradDot, gradCos, tracin, tracinCp]) {
    const plain = await e.score(task);
    const masked = await maskedScore(e, task, all);
    assert.ok(maxDiff(masked.values, plain.values) <= 1e-12 * maxAbs(plain.values), `${e.name}: full mask = plain`);
  }
  assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
});

test('masked tracin = Σ_t η_t/D_t ⟨P g_z, P g_q⟩; mask-aware estimators get the mask', async () => {
  const m = coordinateMask(model.spec, 4, 2);
  const got = await maskedScore(tracin, task, [m]);
  const rows = occurrenceRows(traj.batches, task.trainIds);
  const nq = queries.n;
  const want = new Float64Array(task.trainIds.length * nq);
  for (let t = 0; t < traj.manifest.steps; t++) {
    if (!rows[t].length) continue;
    const G = trainGradsAt(task, t, rows[t].map((r) => r.id));
    const Q = queryGradsAt(task, t);
    rows[t].forEach((r, k) => {
      for (let q = 0; q < nq; q++) want[r.row * nq + q] += (traj.lrs[t] / traj.divisors[t]) * maskedDot(G.subarray(k * p), Q.subarray(q * p), m);
    });
  }
  assert.ok(maxDiff(got.values, want) <= 1e-12 * maxAbs(want));

  // IF restricted to a mask: solve inside the masked subspace; explicit and CG agree; X vanishes off the mask.
  const r = inverseHvpQueries(task, 'cg', { damping: 0.5, mask: m });
  const keep = new Set(m);
  assert.ok(r.X.every((x, i) => keep.has(i % p) || x === 0));
  const ex = await maskedScore(ifExplicit, task, [m], { damping: 0.5 });
  const cg = await maskedScore(ifCg, task, [m], { damping: 0.5 });
  assert.ok(maxDiff(cg.values, ex.values) <= 1e-4 * maxAbs(ex.values));
  const unmasked = await ifExplicit.score(task, { damping: 0.5 });
  assert.ok(maxDiff(unmasked.values, ex.values) > 1e-3 * maxAbs(unmasked.values));
  // Averaging over two masks is the mean of the two single-mask scores.
  const ms = disjointMasks(model.spec, 2, 2, 9);
  const avg = await maskedScore(accSgdIe, task, ms);
  const a0 = await accSgdIe.score(task, { mask: ms[0] });
  const a1 = await accSgdIe.score(task, { mask: ms[1] });
  assert.ok(maxDiff(avg.values, a0.values.map((x, i) => (x + a1.values[i]) / 2)) <= 1e-15 * maxAbs(a0.values) + 1e-18);
});

test('masked sgd-influence projects its adjoint like acc-sgd-ie (equal on a single-epoch run) and differs from unmasked', async () => {
  const once = await train({ model, data, setting: adamwSetting({ batchSize: 6, epochs: 1, optimizer: { kind: 'sgd', momentum: 0, weightDecay: 0 }, schedule: { kind: 'constant', lr: 0.3 } }) });
  const t1: AttributionTask = { ...task, trajectory: once };
  const m = coordinateMask(model.spec, 3, 5);
  const a = await sgdInfluence.score(t1, { mask: m });
  const b = await accSgdIe.score(t1, { mask: m });
  assert.ok(maxDiff(a.values, b.values) <= 1e-12 * maxAbs(a.values), `masked sgd-influence vs acc-sgd-ie: ${maxDiff(a.values, b.values)}`);
  const full = await sgdInfluence.score(t1);
  assert.ok(maxDiff(full.values, a.values) > 1e-3 * maxAbs(full.values));
});

test('maskedScore guards', async () => {
  await assert.rejects(maskedScore(gradDot, task, []), /masks must be a non-empty array/);
  await assert.rejects(maskedScore(gradDot, task, [Int32Array.of(0, 200)]), /masks\[0\]: mask\[1\] = 200 is outside \[0, p = 106\)/);
  await assert.rejects(maskedScore(gradDot, task, [new Float64Array([1, 2]) as unknown as Int32Array]), /mask must be an Int32Array/);
  await assert.rejects(maskedScore(gradDot, task, [new Int32Array(0)]), /mask is empty/);
});
