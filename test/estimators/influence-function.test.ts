import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/runtime/backend.ts';
import { tf } from '../../lib/runtime/tf.ts';
import { mlp } from '../../lib/models/mlp.ts';
import { numParams } from '../../lib/models/types.ts';
import { disposeParams, unflattenParams } from '../../lib/models/params.ts';
import { makeBatch } from '../../lib/data/batch.ts';
import { train } from '../../lib/train/trainer.ts';
import type { Trajectory } from '../../lib/train/trajectory.ts';
import { pearson } from '../../lib/analysis/metrics.ts';
import { ifCg, ifExplicit, ifLissa, inverseHvpQueries, type SolveInfo } from '../../lib/estimators/influence-function.ts';
import { getEstimator } from '../../lib/estimators/registry.ts';
import type { AttributionTask } from '../../lib/estimators/types.ts';
import { adamwSetting, teacherData } from '../train/fixtures/synth.ts';

await initBackend({ backend: 'wasm' });

const relErr = (a: Float64Array, b: Float64Array) => Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0) / b.reduce((s, x) => s + x * x, 0));

// Tiny tanh MLP (p = 106), briefly trained: H is indefinite, so the solver tests use damping 0.5 (λ_min(H) ≈ −0.3).
const model = mlp({ sizes: [12, 6, 4], activation: 'tanh' });
const p = numParams(model.spec);
const data = teacherData(40, 12, 4, 1);
const queries = teacherData(3, 12, 4, 2);
const traj = await train({
  model,
  data,
  setting: adamwSetting({ batchSize: 8, epochs: 2, optimizer: { kind: 'sgd', momentum: 0, weightDecay: 0 }, schedule: { kind: 'constant', lr: 0.3 } }),
  record: 'none',
});
const task: AttributionTask = { model, data, trajectory: traj, queries, trainIds: [0, 1, 2, 3, 4, 5] };

test('solvers agree: explicit vs CG (< 1e-4) vs LiSSA (< 5e-2), with residuals reported', async (t) => {
  const before = tf.memory().numTensors;
  const info: SolveInfo[] = [];
  const o = { damping: 0.5, onSolve: (i: SolveInfo) => info.push(i) };
  const ex = await ifExplicit.score(task, o);
  const cg = await ifCg.score(task, o);
  // Full-batch LiSSA (deterministic) and mini-batch LiSSA (stochastic: a loose sanity bound only).
  const li = await ifLissa.score(task, { ...o, depth: 150, lissaBatch: 40 });
  const liMini = await ifLissa.score(task, { ...o, depth: 200, lissaBatch: 20, seed: 1 });
  const liMini2 = await ifLissa.score(task, { ...o, depth: 200, lissaBatch: 20, seed: 1 });
  const errCg = relErr(cg.values, ex.values);
  const errLi = relErr(li.values, ex.values);
  const errMini = relErr(liMini.values, ex.values);
  t.diagnostic(`rel err vs explicit: CG ${errCg.toExponential(2)}, LiSSA(full batch) ${errLi.toExponential(2)}, LiSSA(batch 20/40, depth 200) ${errMini.toExponential(2)}`);
  t.diagnostic(info.map((i) => `${i.solver} q${i.query}: it ${i.iterations} res ${i.residual.toExponential(2)}${i.factorization ? ' ' + i.factorization : ''}${i.scale ? ' scale ' + i.scale.toFixed(3) : ''}`).join('; '));
  assert.ok(errCg < 1e-4, `CG rel err ${errCg}`);
  assert.ok(errLi < 5e-2, `LiSSA rel err ${errLi}`);
  assert.ok(errMini < 0.5, `mini-batch LiSSA rel err ${errMini}`);
  assert.deepEqual(Array.from(liMini.values), Array.from(liMini2.values), 'LiSSA is seeded');
  const ex1 = info.filter((i) => i.solver === 'explicit');
  assert.equal(ex1.length, 3);
  assert.ok(ex1.every((i) => i.factorization === 'cholesky' && i.residual < 1e-10));
  assert.ok(info.filter((i) => i.solver === 'cg').every((i) => i.converged && i.iterations > 0 && i.iterations <= p && i.residual < 1e-5));
  assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
});

test('GGN, Hessian subsample, default damping, LU fallback', async () => {
  // GGN is PSD: CG converges without large damping.
  const g1 = await ifExplicit.score(task, { curvature: 'ggn', damping: 1e-2 });
  const g2 = await ifCg.score(task, { curvature: 'ggn', damping: 1e-2, tol: 1e-7 });
  assert.ok(relErr(g2.values, g1.values) < 1e-3, `GGN CG vs explicit ${relErr(g2.values, g1.values)}`);
  // Subsampled H is seeded and differs from the full one.
  const s1 = inverseHvpQueries(task, 'cg', { damping: 0.5, hessianSamples: 20, seed: 3 });
  const s2 = inverseHvpQueries(task, 'cg', { damping: 0.5, hessianSamples: 20, seed: 3 });
  const full = inverseHvpQueries(task, 'cg', { damping: 0.5 });
  assert.deepEqual(Array.from(s1.X), Array.from(s2.X));
  assert.ok(relErr(s1.X, full.X) > 1e-3);
  // Default damping: 100 × mean squared per-sample gradient entry.
  const d = inverseHvpQueries(task, 'explicit', { dampingScale: 1 }).damping;
  const params = traj.states.params(traj.manifest.steps);
  const G = tf.tidy(() => {
    const out: number[] = [];
    for (let i = 0; i < data.n; i++) {
      const b = makeBatch(data, [i]);
      const gs = tf.grads((...xs: tf.Tensor[]) => tf.sum(model.perExampleLoss(Object.fromEntries(model.spec.map((s, k) => [s.name, xs[k]])), b)))(model.spec.map((s) => params[s.name]));
      gs.forEach((g) => out.push(...(g.dataSync() as Float32Array)));
    }
    return out;
  });
  disposeParams(params);
  const want = G.reduce((s, x) => s + x * x, 0) / G.length;
  assert.ok(Math.abs(d - want) <= 1e-5 * want, `default damping ${d} vs ${want}`);
  assert.ok(Math.abs(inverseHvpQueries(task, 'explicit').damping - 100 * want) <= 1e-4 * want);
  // Indefinite H + λI: explicit falls back to LU; CG refuses with a clear message.
  const lu = inverseHvpQueries(task, 'explicit', { damping: 0.05 });
  assert.equal(lu.info[0].factorization, 'lu');
  assert.ok(lu.info[0].residual < 1e-8);
  await assert.rejects(ifCg.score(task, { damping: 0 }), /if-cg: H \+ λI has non-positive curvature along a CG direction .* increase damping/);
});

test('sign and scale: IF ≈ leave-one-out retraining on L2-regularised softmax regression', async (t) => {
  const d = 5, k = 3, n = 30, wd = 0.05;
  const lin = mlp({ sizes: [d, k], activation: 'tanh' }); // one layer: softmax regression
  const tr = teacherData(n, d, k, 3);
  const qs = teacherData(4, d, k, 4);
  // Full-batch GD on mean CE + (wd/2)‖θ‖² (coupled SGD weight decay) to near convergence.
  const setting = adamwSetting({ batchSize: n, epochs: 300, optimizer: { kind: 'sgd', momentum: 0, weightDecay: wd }, schedule: { kind: 'constant', lr: 0.5 } });
  const warm = await train({ model: lin, data: tr, setting, record: 'none' });
  const init = unflattenParams(warm.states.final().theta, lin.spec);
  const base: Trajectory = await train({ model: lin, data: tr, setting, initParams: init, record: 'none' });
  const ids = [0, 2, 4, 6, 8, 10, 12, 14];
  // damping 0: the L2 term (the run's weight decay, the default) is the regulariser.
  const est = await ifExplicit.score({ model: lin, data: tr, trajectory: base, queries: qs, trainIds: ids }, { damping: 0 });
  const losses = (theta: Float32Array) =>
    tf.tidy(() => Array.from(lin.perExampleLoss(unflattenParams(theta, lin.spec), makeBatch(qs, [0, 1, 2, 3])).dataSync()));
  const l0 = losses(base.states.final().theta);
  const truth = new Float64Array(ids.length * qs.n);
  for (const [r, z] of ids.entries()) {
    const cf = await train({ model: lin, data: tr, setting, initParams: init, removal: { ids: [z], occurrence: 'all', divisor: 'original' }, record: 'none' });
    losses(cf.states.final().theta).forEach((l, q) => (truth[r * qs.n + q] = l - l0[q]));
  }
  disposeParams(init);
  const r = pearson(est.values, truth);
  let sameSign = 0;
  est.values.forEach((x, i) => (sameSign += Math.sign(x) === Math.sign(truth[i]) ? 1 : 0));
  const ratio = est.values.reduce((s, x, i) => s + x * truth[i], 0) / truth.reduce((s, x) => s + x * x, 0);
  t.diagnostic(`IF vs LOO: Pearson ${r.toFixed(4)}, same sign ${sameSign}/${truth.length}, least-squares slope IF/LOO ${ratio.toFixed(3)}`);
  assert.ok(r > 0.9, `Pearson ${r}`);
  assert.equal(sameSign, truth.length, 'same sign everywhere');
  assert.ok(ratio > 0.5 && ratio < 1.5, `scale ${ratio}`);
});

test('registry and guards: clear errors for bad options', async () => {
  for (const nm of ['if-explicit', 'if-cg', 'if-lissa']) assert.equal(getEstimator(nm).name, nm);
  await assert.rejects(ifExplicit.score(task, { maxExplicit: 100 }), /if-explicit: the explicit solver builds a 106×106 matrix .* only allowed for p ≤ maxExplicit = 100 \(use solver cg or lissa, or a mask\)/);
  await assert.rejects(ifCg.score(task, { damping: -1 }), /if-cg: damping must be a finite number ≥ 0, got -1/);
  await assert.rejects(ifCg.score(task, { curvature: 'fisher' as never }), /curvature must be 'exact' \| 'ggn', got 'fisher'/);
  await assert.rejects(ifCg.score(task, { hessianSamples: 41 }), /hessianSamples = 41 exceeds the 40 training samples/);
  await assert.rejects(ifCg.score(task, { tol: 0 }), /tol must be a number > 0, got 0/);
  await assert.rejects(ifCg.score(task, { maxIter: 1.5 }), /maxIter must be a positive integer, got 1.5/);
  await assert.rejects(ifLissa.score(task, { depth: 0 }), /depth must be a positive integer, got 0/);
  await assert.rejects(ifLissa.score(task, { scale: -2 }), /scale must be a number > 0 or 'auto', got -2/);
  await assert.rejects(ifLissa.score(task, { lissaBatch: 50, damping: 0.5 }), /lissaBatch = 50 exceeds the 40 Hessian samples/);
  await assert.rejects(ifLissa.score(task, { damping: 0.5, scale: 0.2, depth: 400, lissaBatch: 40 }), /if-lissa: the recursion diverged at iteration \d+ .* scale = 0.2 must exceed the largest eigenvalue of H \+ λI/);
  await assert.rejects(ifCg.score(task, { mask: Int32Array.of(5, 5) }), /mask must be strictly increasing/);
  // CG that cannot reach the tolerance reports it instead of pretending.
  const info: SolveInfo[] = [];
  await ifCg.score(task, { damping: 0.5, maxIter: 2, onSolve: (i) => info.push(i) });
  assert.ok(info.every((i) => !i.converged && i.iterations === 2 && i.residual > 1e-6));
});
