/**
 * The error decomposition: the checkpoint-stride wrapper (k = 1 is the exact estimator bit for bit), the
 * algebra of the shares, and the quick preset end to end (files, schema, shares summing to 1, CIs).
 */
import { test } from 'node:test';
import { EmptyResultError } from '../../lib/runtime/errors.ts';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../../lib/runtime/backend.ts';
import { createModel } from '../../lib/models/registry.ts';
import { train } from '../../lib/train/trainer.ts';
import { getEstimator } from '../../lib/estimators/registry.ts';
import { scoreMatrix } from '../../lib/analysis/score-matrix.ts';
import {
  coarseCheckpoints,
  COMPONENTS,
  DECOMPOSITION_PRESETS,
  decompositionParts,
  runDecompositionCell,
  runErrorDecomposition,
  sharesWithCI,
} from '../../lib/findings/error-decomposition/experiment.ts';
import { adamwSetting, teacherData } from '../train/fixtures/synth.ts';
import { DATA, missingData } from '../helpers/data.ts';

process.env.FTDA_QUIET = '1';
await initBackend({ backend: 'wasm' });
const skip0 = await missingData(...DATA.fashion);

test('checkpoint stride: k = 1 reproduces both estimators bit for bit; k = 4 uses the nearest earlier state', async () => {
  const model = createModel({ family: 'mlp', config: { sizes: [6, 8, 3], activation: 'tanh' } });
  const data = teacherData(48, 6, 3, 1);
  const queries = teacherData(6, 6, 3, 2);
  const traj = await train({ model, data, setting: adamwSetting({ epochs: 2 }) });
  const T = traj.manifest.steps;
  const task = { model, data, trajectory: traj, queries, trainIds: [0, 7, 19, 30] };
  for (const name of ['sgd-influence', 'adamw-influence']) {
    const exact = await getEstimator(name).score(task, {});
    const k1 = await getEstimator(name).score({ ...task, trajectory: coarseCheckpoints(traj, 1) }, {});
    assert.deepEqual(Array.from(k1.values), Array.from(exact.values), `${name}: k = 1 is not bit-identical`);
  }
  const c4 = coarseCheckpoints(traj, 4);
  assert.equal(c4.states.at(5).theta, traj.states.at(4).theta);
  assert.equal(c4.states.at(5).v, traj.states.at(4).v);
  assert.equal(c4.states.at(5).optStep, traj.states.at(5).optStep, 'the step counter keeps its true value');
  assert.equal(c4.states.at(8).theta, traj.states.at(8).theta);
  assert.equal(c4.states.at(T).theta, traj.states.at(T).theta, 'the final state is kept');
  assert.deepEqual(c4.states.recorded, [...new Set([...Array.from({ length: Math.ceil(T / 4) }, (_, i) => 4 * i), T])]);
  const s1 = await getEstimator('sgd-influence').score(task, {});
  const s4 = await getEstimator('sgd-influence').score({ ...task, trajectory: c4 }, {});
  assert.ok(s4.values.some((v, i) => v !== s1.values[i]), 'stride 4 must change the SGD-influence scores');
  assert.throws(() => coarseCheckpoints(traj, 0), /positive integer/);
});

test('decomposition algebra: parts sum to the total per query; a pure-config error is all config', () => {
  const nz = 3, nq = 4;
  const m = (f: (i: number) => number) => scoreMatrix(nz, nq, Array.from({ length: nz * nq }, (_, i) => f(i)));
  const R = m((i) => Math.sin(i + 1));
  const A = m((i) => Math.sin(i + 1) + 0.1 * Math.cos(3 * i));
  const S = m((i) => 0.5 * Math.sin(2 * i));
  const Sk = m((i) => 0.5 * Math.sin(2 * i) + 0.05 * (i % 3));
  const Ralt = m((i) => Math.sin(i + 1) + 1e-3 * ((i % 2) - 0.5));
  const parts = decompositionParts(R, Ralt, A, S, Sk);
  for (let q = 0; q < nq; q++) {
    const sum = COMPONENTS.filter((c) => c !== 'total').reduce((a, c) => a + parts[c][q], 0);
    assert.ok(Math.abs(sum - parts.total[q]) < 1e-12 * parts.total[q], `query ${q}: ${sum} vs ${parts.total[q]}`);
  }
  const only = sharesWithCI(decompositionParts(R, null, R, S, S), 0, 200);
  assert.equal(only['config: optimizer mismatch'].share, 1);
  assert.equal(only['algorithm: Taylor residual'].share, 0);
  assert.equal(only['system: checkpoint stride'].share, 0);
  assert.throws(() => decompositionParts(R, null, scoreMatrix(2, 4), S, S), /A is \[2, 4\]/);
});

test('quick preset: one table, shares sum to 1, CIs ordered, k = 1 has no checkpoint share, noise measured', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-decomp-'));
  const t0 = performance.now();
  const s = await runErrorDecomposition('quick', { outDir: out, cacheDir: path.join(out, 'cache') });
  console.log(`  quick preset: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const dir = path.join(out, 'quick');
  for (const f of ['summary.json', 'table.csv', 'fidelity.csv']) assert.ok(fs.existsSync(path.join(dir, f)), `missing ${f}`);
  const j = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
  assert.equal(j.format, 'faithful-tda/error-decomposition');
  assert.ok(j.runtime?.backend && !Number.isNaN(Date.parse(j.createdAt)) && j.definition.includes('sum to 1'));
  const ks = DECOMPOSITION_PRESETS.quick.ks;
  assert.equal(s.rows.length, ks.length * COMPONENTS.length);
  const csv = fs.readFileSync(path.join(dir, 'table.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 1 + s.rows.length);
  assert.ok(!/NaN|null|undefined/.test(csv.join('\n')), 'table.csv has non-finite entries');
  for (const k of ks) {
    const rows = s.rows.filter((r) => r.k === k);
    const total = rows.find((r) => r.component === 'total')!;
    assert.deepEqual([total.share, total.lo, total.hi], [1, 1, 1]);
    const sum = rows.filter((r) => r.component !== 'total').reduce((a, r) => a + r.share, 0);
    assert.ok(Math.abs(sum - 1) < 1e-9, `k ${k}: shares sum to ${sum}`);
    for (const r of rows) {
      assert.ok([r.share, r.lo, r.hi, r.meanSquare].every(Number.isFinite), JSON.stringify(r));
      assert.ok(r.lo <= r.share + 1e-12 && r.share <= r.hi + 1e-12, `${r.component} k ${k}: [${r.lo}, ${r.hi}] vs ${r.share}`);
    }
    const noise = rows.find((r) => r.component === 'system: float32 noise (TSLOO)')!;
    assert.ok(noise.measured && noise.share >= 0 && noise.share < 0.05, `noise share ${noise.share}`);
    const ck = rows.find((r) => r.component === 'system: checkpoint stride')!;
    if (k === 1) assert.deepEqual([ck.share, ck.lo, ck.hi, ck.meanSquare], [0, 0, 0, 0]);
  }
  assert.equal(s.fidelity.length, 2 + ks.length);
  for (const f of s.fidelity) assert.ok([f.oneMinusSpearman, f.lo, f.hi].every(Number.isFinite) && f.lo <= f.oneMinusSpearman && f.oneMinusSpearman <= f.hi, JSON.stringify(f));
  // --settings limits what is computed, not what is summarised; --cached-only computes nothing.
  const other = await runErrorDecomposition('quick', { outDir: out, cacheDir: path.join(out, 'cache'), settings: ['cnn'] });
  assert.deepEqual(other.rows, s.rows);
  // Nothing on disk: an empty summary is refused rather than written.
  await assert.rejects(runErrorDecomposition('quick', { outDir: path.join(out, 'fresh'), cacheDir: path.join(out, 'fresh', 'cache'), cachedOnly: true }), EmptyResultError);
  assert.ok(!fs.existsSync(path.join(out, 'fresh', 'cache')), 'cachedOnly must not compute anything');
  assert.ok(!fs.existsSync(path.join(out, 'fresh', 'quick', 'summary.json')), 'no empty summary is written');
  fs.rmSync(out, { recursive: true, force: true });
});

test('CNN (no vectorised TSLOO): the noise row is measured from the reversed-row order', { skip: skip0 }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-decomp-cnn-'));
  try {
    const t0 = performance.now();
    const r = await runDecompositionCell({ setting: 'cnn', preset: 'quick', lr: 1e-3, seed: 0, nScored: 4, nQueries: 4, ks: [1], crossCheck: 0 }, { outDir: out, cacheDir: path.join(out, 'cache') });
    console.log(`  cnn quick cell: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    assert.equal(r.tsloo.method, 'sequential');
    assert.equal(r.tsloo.alternative, 'sequential, reversed rows');
    assert.ok(r.tsloo.maxAbsDiffAlternative! > 0, 'the two orders must differ in the last bits');
    const noise = r.rows.find((x) => x.component === 'system: float32 noise (TSLOO)')!;
    assert.ok(noise.measured && noise.meanSquare > 0 && noise.share >= 0 && noise.share < 0.05, JSON.stringify(noise));
    assert.ok(r.fidelity.some((f) => f.estimate === 'TSLOO (reversed row order)' && f.oneMinusSpearman < 0.05));
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
