import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/runtime/backend.ts';
import { tf } from '../../lib/runtime/tf.ts';
import { Rng } from '../../lib/runtime/rng.ts';
import type { Params } from '../../lib/models/types.ts';
import { adamwInit, adamwStep, adamwStepF64, type AdamWHyper, type AdamWState, type AdamWStateF64 } from '../../lib/optim/adamw.ts';
import { sgdInit, sgdStep, sgdStepF64, type SgdHyper, type SgdState, type SgdStateF64 } from '../../lib/optim/sgd.ts';

await initBackend({ backend: 'wasm' });

const SHAPES: Record<string, number[]> = { a: [3, 4], b: [5] };
const P = 17;

function rec(flat: Float64Array | Float32Array): Params {
  return { a: tf.tensor(Float32Array.from(flat.subarray(0, 12)), [3, 4]), b: tf.tensor(Float32Array.from(flat.subarray(12)), [5]) };
}
function flat(p: Params): Float64Array {
  return Float64Array.from([...p.a.dataSync(), ...p.b.dataSync()]);
}
function relErr(a: Float64Array, b: Float64Array): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}
const f32 = (a: Float64Array) => Float64Array.from(Float32Array.from(a));

test('adamw: tfjs step matches the float64 reference over several steps', () => {
  const r = new Rng(11);
  const h: AdamWHyper = { lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };
  let th64: Float64Array = f32(Float64Array.from(r.normalArray(P)));
  let s64: AdamWStateF64 = { m: new Float64Array(P), v: new Float64Array(P), step: 0 };
  let params = rec(th64);
  let state: AdamWState = adamwInit(params);
  for (let k = 0; k < 6; k++) {
    const g = f32(Float64Array.from(r.normalArray(P)));
    const gT = rec(g);
    const out = adamwStep(params, gT, state, h);
    tf.dispose([...Object.values(params), ...Object.values(gT), ...Object.values(state.m), ...Object.values(state.v)]);
    params = out.params;
    state = out.state;
    const ref = adamwStepF64(th64, g, s64, h);
    th64 = ref.theta;
    s64 = ref.state;
    assert.equal(state.step, k + 1);
    assert.ok(relErr(flat(params), th64) < 2e-6, `theta rel err ${relErr(flat(params), th64)} at step ${k + 1}`);
    assert.ok(relErr(flat(state.m), s64.m) < 2e-6);
    assert.ok(relErr(flat(state.v), s64.v) < 2e-6);
  }
  tf.dispose([...Object.values(params), ...Object.values(state.m), ...Object.values(state.v)]);
});

test('adamw: first step moves θ by −lr·g/(|g|+ε) (ε outside the sqrt); counter increments; constant g keeps m̂=g', () => {
  const h: AdamWHyper = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };
  const g = Float64Array.from([0.5, -2, 1e-3, 1e-8, -3e-8, 4, 0.25, -0.125, 1, -1, 7, 1e-6, 2, 3, -4, 5, -6]);
  const th0 = f32(Float64Array.from({ length: P }, (_, i) => i / 10 - 0.8));
  let s: AdamWStateF64 = { m: new Float64Array(P), v: new Float64Array(P), step: 0 };
  const before = tf.memory().numTensors;
  tf.tidy(() => {
  const params = rec(th0), gT = rec(f32(g));
  const st0 = adamwInit(params);
  const one = adamwStep(params, gT, st0, h);
  const d1 = flat(one.params);
  for (let i = 0; i < P; i++) {
    const want = -h.lr * g[i] / (Math.abs(g[i]) + h.eps);
    assert.ok(Math.abs(d1[i] - th0[i] - want) <= 1e-6 * Math.max(Math.abs(th0[i]), 1e-2), `coord ${i}: ${d1[i] - th0[i]} vs ${want}`);
  }
  // g = 1e-8 = ε gives half a step: would be ~1e-4 of a step with ε inside the sqrt.
  assert.ok(Math.abs((d1[3] - th0[3]) / -h.lr - 0.5) < 1e-3);
  assert.equal(one.state.step, 1);
  const two = adamwStep(one.params, gT, one.state, h);
  assert.equal(two.state.step, 2);
  const d2 = flat(two.params);
  for (let i = 0; i < P; i++) {
    const want = -h.lr * g[i] / (Math.abs(g[i]) + h.eps);
    assert.ok(Math.abs(d2[i] - d1[i] - want) <= 2e-6 * Math.max(Math.abs(d1[i]), 1e-2), `step 2 coord ${i}`);
  }
  });
  assert.equal(tf.memory().numTensors, before);
  const r1 = adamwStepF64(th0, g, s, h);
  s = r1.state;
  assert.equal(s.step, 1);
  assert.equal(adamwStepF64(r1.theta, g, s, h).state.step, 2);
});

test('adamw: weight decay is decoupled — zero gradient shrinks θ by (1 − lr·λ), and WD bypasses the preconditioner', () => {
  const h: AdamWHyper = { lr: 0.1, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.5 };
  const th0 = f32(Float64Array.from({ length: P }, (_, i) => i - 8));
  const zero = new Float64Array(P);
  tf.tidy(() => {
    const out = adamwStep(rec(th0), rec(zero), adamwInit(rec(th0)), h);
    const got = flat(out.params);
    for (let i = 0; i < P; i++) assert.equal(got[i], Math.fround(th0[i] * Math.fround(1 - h.lr * h.weightDecay)));
    // With a gradient: θ(λ) − θ(0) = −lr·λ·θ0 (up to float32 rounding), whatever the preconditioner.
    const g = f32(Float64Array.from({ length: P }, (_, i) => (i % 3) - 1 + 0.3));
    const withWd = flat(adamwStep(rec(th0), rec(g), adamwInit(rec(th0)), h).params);
    const noWd = flat(adamwStep(rec(th0), rec(g), adamwInit(rec(th0)), { ...h, weightDecay: 0 }).params);
    for (let i = 0; i < P; i++) assert.ok(Math.abs(withWd[i] - noWd[i] + h.lr * h.weightDecay * th0[i]) < 1e-5);
  });
  const ref = adamwStepF64(th0, zero, { m: new Float64Array(P), v: new Float64Array(P), step: 0 }, h);
  for (let i = 0; i < P; i++) assert.equal(ref.theta[i], th0[i] * (1 - h.lr * h.weightDecay));
});

test('sgd: tfjs matches float64 reference (momentum, dampening, coupled WD, nesterov); first buffer = d', () => {
  const cases: SgdHyper[] = [
    { lr: 0.05, momentum: 0.9, dampening: 0.3, weightDecay: 0.01 },
    { lr: 0.05, momentum: 0.9, weightDecay: 0.01, nesterov: true },
    { lr: 0.05, momentum: 0, weightDecay: 0.1 },
  ];
  for (const h of cases) {
    const r = new Rng(5);
    let th64: Float64Array = f32(Float64Array.from(r.normalArray(P)));
    let s64: SgdStateF64 = { buf: null, step: 0 };
    let params = rec(th64);
    let state: SgdState = sgdInit();
    for (let k = 0; k < 5; k++) {
      const g = f32(Float64Array.from(r.normalArray(P)));
      const gT = rec(g);
      const out = sgdStep(params, gT, state, h);
      tf.dispose([...Object.values(params), ...Object.values(gT), ...Object.values(state.buf ?? {})]);
      params = out.params;
      state = out.state;
      const ref = sgdStepF64(th64, g, s64, h);
      if (k === 0 && h.momentum) {
        // PyTorch: an absent buffer becomes a copy of d = g + λθ (no (1 − dampening) factor).
        for (let i = 0; i < P; i++) assert.ok(Math.abs(ref.state.buf![i] - (g[i] + h.weightDecay * th64[i])) < 1e-12);
      }
      th64 = ref.theta;
      s64 = ref.state;
      assert.equal(state.step, k + 1);
      assert.equal(state.buf === null, h.momentum === 0);
      assert.ok(relErr(flat(params), th64) < 2e-6, `sgd ${JSON.stringify(h)} step ${k}: ${relErr(flat(params), th64)}`);
      if (state.buf) assert.ok(relErr(flat(state.buf), s64.buf!) < 2e-6);
    }
    tf.dispose([...Object.values(params), ...Object.values(state.buf ?? {})]);
  }
});

test('optimizers: bad hyper-parameters are rejected by name', () => {
  const th = new Float64Array(2), g = new Float64Array(2);
  assert.throws(() => sgdStepF64(th, g, { buf: null, step: 0 }, { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0, nesterov: true }), /nesterov/);
  assert.throws(() => sgdStepF64(th, g, { buf: null, step: 0 }, { lr: -1, momentum: 0, weightDecay: 0 }), /lr/);
  assert.throws(() => adamwStepF64(th, g, { m: new Float64Array(2), v: new Float64Array(2), step: 0 }, { lr: 0.1, beta1: 1, beta2: 0.9, eps: 1e-8, weightDecay: 0 }), /beta1/);
  assert.throws(() => adamwStepF64(th, new Float64Array(3), { m: new Float64Array(2), v: new Float64Array(2), step: 0 }, { lr: 0.1, beta1: 0.9, beta2: 0.9, eps: 1e-8, weightDecay: 0 }), /lengths/);
});
