/**
 * Suite: the trainer's host AdamW update (adamw.ts `adamwStepF32`, used by lib/train/engine.ts) has the bits of the
 * tensor update it replaced, on wasm and on cpu, across gradient scales down to underflow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/runtime/backend.ts';
import { tf } from '../../lib/runtime/tf.ts';
import { adamwStep, adamwStepF32 } from '../../lib/optim/adamw.ts';
import { sgdStep, sgdStepF32 } from '../../lib/optim/sgd.ts';
import { Rng } from '../../lib/runtime/rng.ts';

/** Registers the check on `backend` (one backend per process: adamw-host.test.ts and adamw-host.cpu.test.ts). */
export function adamwHostSuite(backend: 'wasm' | 'cpu'): void {
  test(`adamwStepF32 = adamwStep bit for bit [${backend}]`, async () => {
    await initBackend({ backend });
    const r = new Rng(3);
    const p = 4000;
    for (const scale of [1, 1e-6, 1e3, 1e-30]) {
      const th = Float32Array.from(r.normalArray(p, 1));
      const g = Float32Array.from(r.normalArray(p, scale));
      const m = Float32Array.from(r.normalArray(p, scale * 0.1));
      const v = Float32Array.from(r.normalArray(p, scale * scale).map(Math.abs));
      for (const h of [{ lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01 }, { lr: 0.3, beta1: 0.5, beta2: 0.999, eps: 1e-6, weightDecay: 0 }]) {
        for (const k of [1, 7, 1000]) {
          const want = tf.tidy(() => {
            const res = adamwStep({ w: tf.tensor1d(th) }, { w: tf.tensor1d(g) }, { m: { w: tf.tensor1d(m) }, v: { w: tf.tensor1d(v) }, step: k - 1 }, h);
            return [res.params.w, res.state.m.w, res.state.v.w].map((t) => Array.from(t.dataSync()));
          });
          const got = adamwStepF32(th, g, m, v, h, k);
          assert.deepEqual([Array.from(got.theta), Array.from(got.m), Array.from(got.v)], want, `scale ${scale}, k ${k}, lr ${h.lr}`);
        }
      }
    }
  });
}

/** The same check for SGD (momentum, dampening, Nesterov, weight decay; the first update seeds the buffer). */
export function sgdHostSuite(backend: 'wasm' | 'cpu'): void {
  test(`sgdStepF32 = sgdStep bit for bit [${backend}]`, async () => {
    await initBackend({ backend });
    const r = new Rng(5);
    const p = 3000;
    for (const h of [{ lr: 0.1, momentum: 0, weightDecay: 0 }, { lr: 0.05, momentum: 0.9, weightDecay: 1e-3 }, { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0 }, { lr: 0.01, momentum: 0.8, weightDecay: 5e-4, nesterov: true }]) {
      const th = Float32Array.from(r.normalArray(p, 1));
      const g = Float32Array.from(r.normalArray(p, 0.3));
      for (const buf of [null, Float32Array.from(r.normalArray(p, 0.1))]) {
        const want = tf.tidy(() => {
          const res = sgdStep({ w: tf.tensor1d(th) }, { w: tf.tensor1d(g) }, { buf: buf ? { w: tf.tensor1d(buf) } : null, step: buf ? 3 : 0 }, h);
          return [res.params.w, ...(res.state.buf ? [res.state.buf.w] : [])].map((t) => Array.from(t.dataSync()));
        });
        const got = sgdStepF32(th, g, buf, h);
        assert.deepEqual([Array.from(got.theta), ...(got.buf ? [Array.from(got.buf)] : [])], want, JSON.stringify(h));
      }
    }
  });
}
