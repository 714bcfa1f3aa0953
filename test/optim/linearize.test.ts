/**
 * The AdamW / SGD linearisation algebra, checked in float64 against central finite differences of a
 * real (float64, plain-JS) training run with respect to one sample's loss weight. Logistic regression
 * gives an explicit Hessian, so this isolates the optimizer maths from tfjs and float32.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../lib/runtime/rng.ts';
import {
  adamwAdjoint,
  adamwCoupling,
  adamwDiagonals,
  adamwPush,
  adamwTransition,
  dot,
  sgdTransition,
  type AdamWHyper,
} from '../../lib/optim/linearize.ts';

const P = 5, N = 12, B = 4, EPOCHS = 3;
const rng = new Rng(9);
const A = Array.from({ length: N }, () => Array.from({ length: P }, () => rng.normal()));
const Y = Array.from({ length: N }, (_, i) => (i % 3 === 0 ? -1 : 1));
const Aq = Array.from({ length: 3 }, () => Array.from({ length: P }, () => rng.normal()));
const Yq = [1, -1, 1];
const batches: number[][] = [];
for (let e = 0; e < EPOCHS; e++) {
  const perm = new Rng(100 + e).permutation(N);
  for (let s = 0; s < N; s += B) batches.push(perm.slice(s, s + B));
}
const T = batches.length;
const lrAt = (t: number) => 0.05 * (1 - t / T); // linear decay: the schedule must be honoured
const hp: AdamWHyper = { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.01 };
const theta0 = Array.from({ length: P }, () => 0.1 * rng.normal());

const sig = (z: number) => 1 / (1 + Math.exp(-z));
/** ℓ_i(θ) = log(1 + exp(−y aᵀθ)). */
const loss = (a: number[], y: number, th: ArrayLike<number>) => Math.log1p(Math.exp(-y * dot(a, th)));
const grad = (a: number[], y: number, th: ArrayLike<number>) => {
  const c = -y * sig(-y * dot(a, th));
  return a.map((x) => c * x);
};
/** H of the batch loss Σ w ℓ / D applied to u. */
function hvp(ids: number[], th: ArrayLike<number>, u: ArrayLike<number>): Float64Array {
  const out = new Float64Array(P);
  for (const i of ids) {
    const s = sig(dot(A[i], th));
    const c = (s * (1 - s) * dot(A[i], u)) / ids.length;
    for (let k = 0; k < P; k++) out[k] += c * A[i][k];
  }
  return out;
}

interface Run { thetas: Float64Array[]; ms: Float64Array[]; vs: Float64Array[]; grads: Float64Array[] }

/** Float64 AdamW (or SGD) run, written from the PyTorch update rule; weight w for sample j. */
function run(opt: 'adamw' | 'sgd', j = -1, w = 1): Run {
  let th = Float64Array.from(theta0);
  let m = new Float64Array(P), v = new Float64Array(P);
  const out: Run = { thetas: [th.slice()], ms: [m.slice()], vs: [v.slice()], grads: [] };
  for (let t = 0; t < T; t++) {
    const g = new Float64Array(P);
    for (const i of batches[t]) {
      const gi = grad(A[i], Y[i], th);
      const wi = i === j ? w : 1;
      for (let k = 0; k < P; k++) g[k] += (wi * gi[k]) / B;
    }
    out.grads.push(g);
    const lr = lrAt(t);
    if (opt === 'sgd') {
      th = th.map((x, k) => x - lr * (g[k] + hp.weightDecay * x));
    } else {
      const kk = t + 1;
      m = m.map((x, k) => hp.beta1 * x + (1 - hp.beta1) * g[k]);
      v = v.map((x, k) => hp.beta2 * x + (1 - hp.beta2) * g[k] * g[k]);
      th = th.map((x, k) => {
        const mh = m[k] / (1 - hp.beta1 ** kk), vh = v[k] / (1 - hp.beta2 ** kk);
        return x * (1 - lr * hp.weightDecay) - (lr * mh) / (Math.sqrt(vh) + hp.eps);
      });
    }
    out.thetas.push(th.slice());
    out.ms.push(m.slice());
    out.vs.push(v.slice());
  }
  return out;
}

/** −dℓ_q/dw_j by central differences: the first-order removal effect (w: 1 → 0). */
function fdRemoval(opt: 'adamw' | 'sgd', j: number, q: number): number {
  const h = 1e-5;
  const lp = loss(Aq[q], Yq[q], run(opt, j, 1 + h).thetas[T]);
  const lm = loss(Aq[q], Yq[q], run(opt, j, 1 - h).thetas[T]);
  return -(lp - lm) / (2 * h);
}

test('AdamW query-side sweep equals −dℓ_q/dw of the real run (float64, 3 epochs, decay + weight decay)', () => {
  const base = run('adamw');
  for (let q = 0; q < Aq.length; q++) {
    const scores = new Float64Array(N);
    const U = adamwAdjoint(grad(Aq[q], Yq[q], base.thetas[T]));
    for (let t = T - 1; t >= 0; t--) {
      const diag = adamwDiagonals(base.ms[t + 1], base.vs[t + 1], t + 1, hp);
      const a = adamwCoupling(U, base.grads[t], diag, lrAt(t), hp);
      for (const z of batches[t]) scores[z] += -dot(a, grad(A[z], Y[z], base.thetas[t]).map((x) => x / B));
      adamwTransition(U, hvp(batches[t], base.thetas[t], a), diag, lrAt(t), hp);
    }
    let maxErr = 0, scale = 0;
    for (let j = 0; j < N; j++) {
      const fd = fdRemoval('adamw', j, q);
      maxErr = Math.max(maxErr, Math.abs(fd - scores[j]));
      scale = Math.max(scale, Math.abs(fd));
    }
    assert.ok(scale > 1e-4, `effects too small to test (${scale})`);
    assert.ok(maxErr < 1e-7 * Math.max(1, scale) + 1e-9, `query ${q}: max abs err ${maxErr} (scale ${scale})`);
  }
});

test('push at the last step: score = ∇ℓ_qᵀ θ̇ (the last-step identity)', () => {
  const base = run('adamw');
  const t = T - 1;
  const diag = adamwDiagonals(base.ms[t + 1], base.vs[t + 1], t + 1, hp);
  const z = batches[t][0];
  const gz = grad(A[z], Y[z], base.thetas[t]).map((x) => x / B);
  const push = adamwPush(gz, base.grads[t], diag, lrAt(t), hp);
  const qg = grad(Aq[0], Yq[0], base.thetas[T]);
  const U = adamwAdjoint(qg);
  const a = adamwCoupling(U, base.grads[t], diag, lrAt(t), hp);
  assert.ok(Math.abs(dot(qg, push.theta) - -dot(a, gz)) < 1e-15);
});

test('dropping curvature or the v-path breaks the AdamW match (the test can fail)', () => {
  const base = run('adamw');
  const U = adamwAdjoint(grad(Aq[0], Yq[0], base.thetas[T]));
  const scores = new Float64Array(N);
  for (let t = T - 1; t >= 0; t--) {
    const diag = adamwDiagonals(base.ms[t + 1], base.vs[t + 1], t + 1, hp);
    const a = adamwCoupling(U, base.grads[t], diag, lrAt(t), hp);
    for (const z of batches[t]) scores[z] += -dot(a, grad(A[z], Y[z], base.thetas[t]).map((x) => x / B));
    adamwTransition(U, null, diag, lrAt(t), hp);
  }
  let maxErr = 0;
  for (let j = 0; j < N; j++) maxErr = Math.max(maxErr, Math.abs(fdRemoval('adamw', j, 0) - scores[j]));
  assert.ok(maxErr > 1e-6, `no-curvature sweep unexpectedly exact (${maxErr})`);
});

test('SGD sweep (coupled weight decay) equals −dℓ_q/dw of a real SGD run', () => {
  const base = run('sgd');
  const u = Float64Array.from(grad(Aq[1], Yq[1], base.thetas[T]));
  const scores = new Float64Array(N);
  for (let t = T - 1; t >= 0; t--) {
    for (const z of batches[t]) scores[z] += lrAt(t) * dot(u, grad(A[z], Y[z], base.thetas[t]).map((x) => x / B));
    sgdTransition(u, hvp(batches[t], base.thetas[t], u), lrAt(t), hp.weightDecay);
  }
  for (let j = 0; j < N; j++) {
    const fd = fdRemoval('sgd', j, 1);
    assert.ok(Math.abs(fd - scores[j]) < 1e-8, `sample ${j}: fd ${fd} vs sweep ${scores[j]}`);
  }
});

test('adamwDiagonals validates its inputs', () => {
  assert.throws(() => adamwDiagonals([1], [1], 0, hp), /k must be an integer ≥ 1/);
  assert.throws(() => adamwDiagonals([1, 2], [1], 1, hp), /m has 2 entries, v has 1/);
});
