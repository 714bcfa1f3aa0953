/**
 * Curvature products: GGN = Hessian for softmax regression (linear in θ), GGN = explicit Jᵀ H_out J
 * (explicit Jacobian on a nonlinear MLP; FD Jacobian-vector products on the LMs), Fisher = explicit
 * (1/D) Σ w_i g_i g_iᵀ v, symmetry of every kind, leaks, errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/runtime/backend.ts';
import { tf } from '../../lib/runtime/tf.ts';
import { Rng } from '../../lib/runtime/rng.ts';
import { paramList, paramRecord, flattenParams, unflattenParams, disposeParams } from '../../lib/models/params.ts';
import { crossEntropyRows } from '../../lib/models/nn.ts';
import type { Batch, Model, Params } from '../../lib/models/types.ts';
import { hvp } from '../../lib/autodiff/hvp.ts';
import { weightedBatchLoss } from '../../lib/autodiff/loss.ts';
import { perSampleGrads } from '../../lib/autodiff/persample.ts';
import { gradsOf } from '../../lib/autodiff/tape.ts';
import { downloadFlat } from '../../lib/autodiff/vec.ts';
import {
  curvatureProduct,
  CURVATURE_KINDS,
  fisherFromGrads,
  ggnProduct,
  logitLossWeights,
} from '../../lib/autodiff/curvature.ts';
import { dot, FAMILIES, makeCase, norm, relErr, symmetryDefect, tensorDelta, unavailable, unitVec } from './helpers.ts';

await initBackend({ backend: 'wasm' });

const W = (B: number) => Float32Array.from({ length: B }, (_, i) => [1.5, 0.5, -1, 2, 0.25][i % 5]);

test('ggn: equals the exact Hessian for softmax regression (1-layer MLP), weighted and mean loss', () => {
  const c = makeCase('mlp', { config: { sizes: [12, 4] }, B: 6 });
  try {
    const rng = new Rng(11);
    for (const opts of [{}, { weights: W(c.B), divisor: 4 }]) {
      const v = unitVec(rng, c.p);
      const g = ggnProduct(c.model, c.params, c.batch, v, opts);
      const h = hvp(c.model, c.params, c.batch, v, opts);
      const e = relErr(g, h);
      console.log(`ggn vs exact Hessian (softmax regression, ${'weights' in opts ? 'weighted' : 'mean'}): rel.err ${e.toExponential(2)}`);
      assert.ok(e < 1e-5, `GGN ≠ Hessian on a model linear in θ: ${e}`);
    }
    // Control: on a nonlinear MLP the GGN is NOT the Hessian (so the test above can fail).
    const n = makeCase('mlp');
    try {
      const v = unitVec(rng, n.p);
      const e = relErr(ggnProduct(n.model, n.params, n.batch, v), hvp(n.model, n.params, n.batch, v));
      console.log(`ggn vs exact Hessian (tanh MLP, control): rel.diff ${e.toExponential(2)}`);
      assert.ok(e > 1e-2);
    } finally {
      n.dispose();
    }
  } finally {
    c.dispose();
  }
});

/** Softmax-CE output Hessian applied explicitly, float64: Σ_rows c (p⊙a − p pᵀa). */
function explicitHout(z: Float32Array, cw: Float32Array, K: number, a: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let r = 0; r < z.length / K; r++) {
    let mx = -Infinity;
    for (let k = 0; k < K; k++) mx = Math.max(mx, z[r * K + k]);
    const e = Array.from({ length: K }, (_, k) => Math.exp(z[r * K + k] - mx));
    const s = e.reduce((x, y) => x + y, 0);
    const pr = e.map((x) => x / s);
    let pa = 0;
    for (let k = 0; k < K; k++) pa += pr[k] * a[r * K + k];
    for (let k = 0; k < K; k++) out[r * K + k] = cw[r] * (pr[k] * a[r * K + k] - pr[k] * pa);
  }
  return out;
}

test('ggn: equals Jᵀ H_out J v with an explicit Jacobian (nonlinear tanh MLP, weighted)', () => {
  const c = makeCase('mlp', { B: 3 });
  try {
    const opts = { weights: W(c.B), divisor: 2 };
    const v = unitVec(new Rng(4), c.p);
    const { z, cw, J } = tf.tidy(() => {
      const list = paramList(c.params, c.model.spec);
      const zt = c.model.logits(c.params, c.batch.x);
      const rows: Float32Array[] = [];
      for (let r = 0; r < zt.size; r++) {
        const sel = tf.oneHot(tf.tensor1d([r], 'int32'), zt.size).reshape(zt.shape);
        rows.push(downloadFlat(gradsOf(() => tf.sum(tf.mul(c.model.logits(paramRecord(list, c.model.spec), c.batch.x), sel)), list).grads));
      }
      return { z: new Float32Array(zt.dataSync()), cw: new Float32Array(logitLossWeights(c.batch, zt.shape, opts).dataSync()), J: rows };
    });
    const K = z.length / c.B;
    const jv = Float64Array.from(J, (row) => dot(row, v));
    const h = explicitHout(z, cw, K, jv);
    const ref = new Float64Array(c.p);
    J.forEach((row, r) => row.forEach((x, k) => (ref[k] += x * h[r])));
    const e = relErr(ggnProduct(c.model, c.params, c.batch, v, opts), ref);
    console.log(`ggn vs explicit-Jacobian Jᵀ H_out J v (tanh MLP): rel.err ${e.toExponential(2)}`);
    assert.ok(e < 1e-5, `GGN differs from explicit Jacobian product: ${e}`);
  } finally {
    c.dispose();
  }
});

/** (J u)ᵀ H_out (J v) with J·(direction) by central FD of the logits (float64 difference). */
function fdBilinear(c: { model: Model; params: Params; batch: Batch }, u: Float32Array, v: Float32Array, opts: object): number[] {
  const theta = flattenParams(c.params, c.model.spec);
  const jdir = (d: Float32Array, eps: number) => {
    const z = [1, -1].map((s) => {
      const ps = unflattenParams(Float64Array.from(theta, (t, k) => t + s * eps * d[k]), c.model.spec);
      const out = tf.tidy(() => new Float32Array(c.model.logits(ps, c.batch.x).dataSync()));
      disposeParams(ps);
      return out;
    });
    return Float64Array.from(z[0], (x, k) => (x - z[1][k]) / (2 * eps));
  };
  const { z, cw, K } = tf.tidy(() => {
    const zt = c.model.logits(c.params, c.batch.x);
    return { z: new Float32Array(zt.dataSync()), cw: new Float32Array(logitLossWeights(c.batch, zt.shape, opts).dataSync()), K: zt.shape.at(-1)! };
  });
  // Best over ε: ReLU kinks (CNN) spoil large steps, float32 round-off spoils small ones.
  return [1e-2, 3e-3, 1e-3].map((eps) => dot(jdir(u, eps), explicitHout(z, cw, K, jdir(v, eps))));
}

for (const family of FAMILIES) {
  test(`curvature ${family}: logit weights reproduce L; GGN bilinear form = FD (Ju)ᵀH_out(Jv); all kinds symmetric`, { skip: unavailable(family) }, () => {
    const c = makeCase(family);
    try {
      const opts = { weights: W(c.B), divisor: 3 };
      // Σ c ⊙ CE(logits) must be the trainer's loss, or the GGN would weight positions wrongly.
      const [viaWeights, direct] = tf.tidy(() => {
        const z = c.model.logits(c.params, c.batch.x);
        const K = z.shape.at(-1)!;
        const ce = tf.reshape(crossEntropyRows(z, tf.reshape(c.batch.y, [-1])), [...z.shape.slice(0, -1), 1]);
        return [tf.sum(tf.mul(ce, logitLossWeights(c.batch, z.shape, opts))).dataSync()[0], weightedBatchLoss(c.model, c.params, c.batch, opts.weights, opts.divisor).dataSync()[0], K];
      });
      assert.ok(Math.abs(viaWeights - direct) <= 1e-5 * Math.max(1, Math.abs(direct)), `Σ c·CE = ${viaWeights} but L = ${direct}`);
      const rng = new Rng(21).child(family);
      const u = unitVec(rng, c.p);
      const v = unitVec(rng, c.p);
      const gv = ggnProduct(c.model, c.params, c.batch, v, opts);
      const ugv = dot(u, gv);
      const eB = Math.min(...fdBilinear(c, u, v, opts).map((ref) => Math.abs(ugv - ref) / Math.max(Math.abs(ref), 1e-3 * norm(gv))));
      const parts: string[] = [];
      for (const kind of CURVATURE_KINDS) {
        const cv = curvatureProduct(kind, c.model, c.params, c.batch, v, opts);
        const cu = curvatureProduct(kind, c.model, c.params, c.batch, u, opts);
        const s = symmetryDefect(u, cv, v, cu);
        parts.push(`${kind} ${s.toExponential(1)}`);
        assert.ok(s <= 1e-5, `${kind}: symmetry defect ${s}`);
        if (kind === 'ggn' || kind === 'fisher') assert.ok(dot(v, cv) >= -1e-6 * norm(cv), `${kind} not PSD along v`);
      }
      console.log(`curvature ${c.name}: uᵀGv vs FD-Jacobian form rel.err ${eB.toExponential(2)}; symmetry ${parts.join(', ')}`);
      assert.ok(eB < 1e-3, `GGN bilinear form differs from FD Jacobian form: ${eB}`);
    } finally {
      c.dispose();
    }
  });
}

test('fisher: equals explicit (1/D) Σ w_i g_i g_iᵀ v; mean-loss scale is (1/B) Σ g gᵀ', () => {
  for (const family of ['mlp', 'cnn']) {
    const c = makeCase(family, { B: 5 });
    try {
      const v = unitVec(new Rng(8), c.p);
      const G = perSampleGrads(c.model, c.params, c.batch, { method: 'loop' });
      for (const [opts, w, D] of [
        [{}, new Float64Array(c.B).fill(1), c.B],
        [{ weights: W(c.B), divisor: 7 }, Float64Array.from(W(c.B)), 7],
      ] as const) {
        const ref = new Float64Array(c.p);
        for (let i = 0; i < c.B; i++) {
          const gi = G.subarray(i * c.p, (i + 1) * c.p);
          const d = dot(gi, v);
          for (let k = 0; k < c.p; k++) ref[k] += (w[i] / D) * gi[k] * d;
        }
        const f = curvatureProduct('fisher', c.model, c.params, c.batch, v, opts);
        const e = relErr(f, ref);
        console.log(`fisher ${c.name} ${'weights' in opts ? 'weighted' : 'mean'}: rel.err vs explicit ${e.toExponential(2)}`);
        assert.ok(e < 1e-6, `Fisher product wrong: ${e}`);
        assert.ok(relErr(fisherFromGrads(G, c.B, v, opts), ref) < 1e-6);
      }
    } finally {
      c.dispose();
    }
  }
});

test('curvature: none is zero; no tensor leak for any kind; bad input errors', () => {
  const c = makeCase('mlp');
  try {
    const v = unitVec(new Rng(2), c.p);
    assert.deepEqual(curvatureProduct('none', c.model, c.params, c.batch, v), new Float32Array(c.p));
    for (const kind of CURVATURE_KINDS) {
      curvatureProduct(kind, c.model, c.params, c.batch, v); // warm-up
      assert.equal(tensorDelta(() => curvatureProduct(kind, c.model, c.params, c.batch, v, { weights: W(c.B) })), 0, kind);
    }
    assert.throws(() => curvatureProduct('bogus' as never, c.model, c.params, c.batch, v), /unknown kind 'bogus'/);
    for (const kind of CURVATURE_KINDS) {
      assert.throws(() => curvatureProduct(kind, c.model, c.params, c.batch, new Float32Array(3)), /'v' has length 3, expected p/);
    }
    assert.throws(() => curvatureProduct('fisher', c.model, c.params, c.batch, v, { weights: new Float32Array(2) }), /'weights' has length 2/);
    assert.throws(() => fisherFromGrads(new Float32Array(5), 2, v), /'G' has length 5/);
  } finally {
    c.dispose();
  }
});
