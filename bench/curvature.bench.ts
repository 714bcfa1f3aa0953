/**
 * Benchmark: one full-batch gradient and one exact Hessian-vector product (double backprop) on the real
 * settings, with the kernel time by op, so a slow kernel shows up by name.
 *
 * The HVP is the unit cost of SGD-influence, AdamW-influence (exact) and the error proxy: a CNN
 * fidelity cell runs 16 queries × 63 steps of them per estimator.
 *
 *     npx tsx bench/curvature.bench.ts [--settings cnn,mlp] [--preset full] [--reps 5] [--backend wasm]
 *
 * Writes bench/results/curvature.json (atomically) and prints a table.
 *
 * @module
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, runtimeInfo } from '../lib/runtime/backend.ts';
import { tf } from '../lib/runtime/tf.ts';
import { flagValue } from '../lib/runtime/env.ts';
import { rngFor } from '../lib/runtime/rng.ts';
import { loadSetting } from '../lib/settings/index.ts';
import { makeBatch, disposeBatch } from '../lib/data/batch.ts';
import { lossAndGrad } from '../lib/autodiff/loss.ts';
import { hvp } from '../lib/autodiff/hvp.ts';
import { numParams } from '../lib/models/types.ts';
import { disposeParams } from '../lib/models/params.ts';
import { writeAtomic } from '../lib/cache/integrity.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const preset = flagValue('preset') ?? 'full';
const settings = (flagValue('settings') ?? 'cnn,mlp').split(',').map((s) => s.trim());
const reps = Number(flagValue('reps') ?? 5);
if (!(Number.isInteger(reps) && reps >= 1)) throw new Error(`--reps must be a positive integer, got '${flagValue('reps')}'`);
await initBackend();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cases: unknown[] = [];
const loadBefore = os.loadavg();
for (const name of settings) {
  const L = await loadSetting(name, preset, { seed: 0 });
  const params = L.model.init(rngFor(0, 'bench-init'));
  const B = L.trainConfig.batchSize;
  const batch = makeBatch(L.train, Array.from({ length: Math.min(B, L.train.n) }, (_, i) => i));
  const p = numParams(L.model.spec);
  const v = new Float32Array(rngFor(1, 'bench-v').normalArray(p, 1));
  const opts = { divisor: B };
  const time = (f: () => unknown) => {
    f(); // warm-up
    const ms: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      f();
      ms.push(performance.now() - t0);
    }
    return { median: median(ms), min: Math.min(...ms) };
  };
  const grad = time(() => lossAndGrad(L.model, params, batch, opts));
  const hv = time(() => hvp(L.model, params, batch, v, opts));
  // Kernel time by op of one HVP (tf.profile; async backends report 0).
  const prof = await tf.profile(() => void hvp(L.model, params, batch, v, opts));
  const byOp = new Map<string, number>();
  for (const k of prof.kernels) byOp.set(k.name, (byOp.get(k.name) ?? 0) + (typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0));
  const topOps = [...byOp.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([op, ms]) => ({ op, ms: +ms.toFixed(1) }));
  cases.push({ setting: name, preset, params: p, batch: B, gradMs: grad, hvpMs: hv, hvpOverGrad: hv.median / grad.median, hvpTopOps: topOps });
  console.log(`${name}/${preset}: p=${p} B=${B}  grad ${grad.median.toFixed(0)} ms  HVP ${hv.median.toFixed(0)} ms (×${(hv.median / grad.median).toFixed(1)})  top ops: ${topOps.map((o) => `${o.op} ${o.ms}`).join(', ')}`);
  disposeParams(params);
  disposeBatch(batch);
}

const out = path.join(root, 'bench', 'results', 'curvature.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
writeAtomic(
  out,
  JSON.stringify({ bench: 'curvature', reps, cases, runtime: runtimeInfo(), host: { cpus: os.cpus().length, loadavgBefore: loadBefore, loadavgAfter: os.loadavg() }, date: new Date().toISOString() }, null, 1) + '\n',
);
console.log(`→ ${path.relative(root, out)}`);
