/**
 * The HVP acceptance checks, run once per backend (hvp.test.ts on wasm, hvp.cpu.test.ts on cpu):
 * exact HVP vs central FD (best over ε), symmetry, a negative control, weighted-loss assembly, leaks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../lib/runtime/tf.ts';
import { Rng } from '../../lib/runtime/rng.ts';
import { hvp, hvpMany } from '../../lib/autodiff/hvp.ts';
import { fdHvp } from '../../lib/autodiff/fd.ts';
import { sliceExample } from '../../lib/autodiff/batch.ts';
import type { Batch } from '../../lib/models/types.ts';
import { FAMILIES, makeCase, relErr, symmetryDefect, tensorDelta, unavailable, unitVec } from './helpers.ts';

export const EPS_GRID = [1e-2, 3e-3, 1e-3, 3e-4];
export const FD_TOL = 1e-3;
export const SYM_TOL = 1e-5;

/** Smallest relative error of `hv` against FD over the ε grid. */
export function bestFdError(fds: Float64Array[], hv: ArrayLike<number>): { err: number; eps: number } {
  let best = { err: Infinity, eps: NaN };
  fds.forEach((fd, i) => {
    const e = relErr(hv, fd);
    if (e < best.err) best = { err: e, eps: EPS_GRID[i] };
  });
  return best;
}

/** Registers the HVP tests for every family on the current backend. */
export function hvpSuite(backend: string, opts: { weighted?: boolean } = {}): void {
  for (const family of FAMILIES) {
    test(`hvp[${backend}] ${family}: matches central FD, symmetric, negative control fails`, { skip: unavailable(family) }, () => {
      const c = makeCase(family);
      try {
        const rng = new Rng(99).child(family);
        const v = unitVec(rng, c.p);
        const u = unitVec(rng, c.p);
        const w = Float32Array.from({ length: c.B }, (_, i) => 0.5 + i);
        const lossOpts = { weights: w, divisor: 3 };
        const hv = hvp(c.model, c.params, c.batch, v, lossOpts);
        const hu = hvp(c.model, c.params, c.batch, u, lossOpts);
        const fds = EPS_GRID.map((eps) => fdHvp(c.model, c.params, c.batch, v, { ...lossOpts, eps }));
        const { err, eps } = bestFdError(fds, hv);
        const sym = symmetryDefect(u, hv, v, hu);
        // Negative controls: a 10 % scaled HVP, and the exact HVP of a different batch.
        const scaled = bestFdError(fds, hv.map((x) => 0.9 * x)).err;
        const other = bestFdError(fds, hvp(c.model, c.params, c.batch2, v, lossOpts)).err;
        console.log(
          `hvp[${backend}] ${c.name} p=${c.p} B=${c.B}: rel.err vs FD ${err.toExponential(2)} (eps=${eps}), ` +
            `symmetry ${sym.toExponential(2)}, ‖Hv‖=${Math.hypot(...hv).toExponential(2)}; ` +
            `neg.controls 0.9·Hv ${scaled.toExponential(2)}, other batch ${other.toExponential(2)}`,
        );
        assert.ok(err < FD_TOL, `${c.name}: HVP vs FD rel. error ${err} ≥ ${FD_TOL}`);
        assert.ok(sym <= SYM_TOL, `${c.name}: symmetry defect ${sym} > ${SYM_TOL}`);
        assert.ok(scaled > FD_TOL, `${c.name}: negative control 0.9·Hv passed (${scaled})`);
        assert.ok(other > FD_TOL, `${c.name}: negative control (other batch) passed (${other})`);
      } finally {
        c.dispose();
      }
    });

    if (opts.weighted !== false) {
      test(`hvp[${backend}] ${family}: weighted HVP = Σ w_i/D H_i v from single-example HVPs`, { skip: unavailable(family) }, () => {
        const c = makeCase(family, { seed: 7 });
        try {
          const v = unitVec(new Rng(5), c.p);
          const w = Float64Array.from({ length: c.B }, (_, i) => [2, -0.5, 0, 1.25, 3][i % 5]);
          const D = 2.5;
          const hv = hvp(c.model, c.params, c.batch, v, { weights: w, divisor: D });
          const acc = new Float64Array(c.p);
          for (let i = 0; i < c.B; i++) {
            const one = tf.tidy(() => sliceExample(c.batch, i) as unknown as tf.TensorContainer) as unknown as Batch;
            const hi = hvp(c.model, c.params, one, v, { divisor: 1 });
            tf.dispose([one.x, one.y, ...(one.mask ? [one.mask] : [])]);
            for (let k = 0; k < c.p; k++) acc[k] += (w[i] / D) * hi[k];
          }
          const e = relErr(hv, acc);
          console.log(`hvp[${backend}] ${c.name}: weighted vs assembled single-example rel.err ${e.toExponential(2)}`);
          assert.ok(e < 1e-5, `weighted HVP differs from Σ w_i/D H_i v: ${e}`);
          // Default weights/divisor = mean loss: D = B, w = 1.
          const mean = hvp(c.model, c.params, c.batch, v);
          const explicit = hvp(c.model, c.params, c.batch, v, { weights: new Float32Array(c.B).fill(1), divisor: c.B });
          assert.ok(relErr(mean, explicit) < 1e-6);
        } finally {
          c.dispose();
        }
      });
    }
  }

  test(`hvp[${backend}] no tensor leak; hvpMany = stacked hvp; bad input errors`, () => {
    const c = makeCase('mlp');
    try {
      const rng = new Rng(3);
      const V = new Float32Array(3 * c.p);
      for (let j = 0; j < 3; j++) V.set(unitVec(rng, c.p), j * c.p);
      hvp(c.model, c.params, c.batch, V.subarray(0, c.p)); // warm-up (backend caches)
      let many: Float32Array = new Float32Array();
      assert.equal(tensorDelta(() => hvp(c.model, c.params, c.batch, V.subarray(0, c.p), { weights: new Float32Array(c.B).fill(2) })), 0);
      assert.equal(tensorDelta(() => (many = hvpMany(c.model, c.params, c.batch, V))), 0);
      assert.equal(tensorDelta(() => fdHvp(c.model, c.params, c.batch, V.subarray(0, c.p))), 0);
      for (let j = 0; j < 3; j++) {
        const one = hvp(c.model, c.params, c.batch, V.subarray(j * c.p, (j + 1) * c.p));
        assert.ok(relErr(many.subarray(j * c.p, (j + 1) * c.p), one) < 1e-7, `direction ${j}: ${relErr(many.subarray(j * c.p, (j + 1) * c.p), one)}`);
      }
      assert.throws(() => hvp(c.model, c.params, c.batch, new Float32Array(c.p + 1)), /'v' has length \d+, expected p = \d+/);
      assert.throws(() => hvpMany(c.model, c.params, c.batch, new Float32Array(c.p + 1)), /multiple of p/);
      assert.throws(() => hvp(c.model, c.params, c.batch, V.subarray(0, c.p), { weights: new Float32Array(c.B + 1) }), /'weights' has length/);
      assert.throws(() => hvp(c.model, c.params, c.batch, V.subarray(0, c.p), { divisor: 0 }), /'divisor' must be/);
      assert.throws(() => fdHvp(c.model, c.params, c.batch, V.subarray(0, c.p), { eps: -1 }), /'eps' must be/);
      assert.equal(tensorDelta(() => assert.throws(() => hvp(c.model, c.params, c.batch, V.subarray(0, c.p), { weights: new Float32Array(1) }))), 0);
    } finally {
      c.dispose();
    }
  });
}
