/**
 * custom-estimator (notebook 07): the example estimator satisfies the contract (shape, removal sign, agrees
 * in rank with TracIn, which it preconditions); runCustomEstimator scores an estimator given as an object or
 * by its registry name beside the built-ins, writes the summary, compares with TSLOO and with the FD oracle
 * (AdamW-influence with exact curvature is close to it, the uncorrected TracIn is not), never caches your
 * estimator's scores, and rejects an estimator whose score matrix has the wrong shape.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../../lib/runtime/backend.ts';
import { getEstimator, registerEstimator } from '../../lib/estimators/registry.ts';
import type { Estimator } from '../../lib/estimators/types.ts';
import { scoreMatrix } from '../../lib/analysis/score-matrix.ts';
import { spearman } from '../../lib/analysis/metrics.ts';
import { prepareCell } from '../../lib/pipeline/cell.ts';
import { BUILTIN_ESTIMATORS, CUSTOM_ESTIMATOR_PRESETS, ESTIMATOR_KIT, runCustomEstimator, tracinAdam, type CustomEstimatorPreset, type CustomEstimatorSummary } from '../../lib/findings/custom-estimator/experiment.ts';

await initBackend({ backend: 'wasm' });
process.env.FTDA_QUIET = '1';

const small: CustomEstimatorPreset = {
  cell: { setting: 'mlp', preset: 'quick', lr: 1e-3, seed: 0, nScored: 8, nQueries: 6 },
  builtins: BUILTIN_ESTIMATORS.filter((b) => b.name === 'tracin' || (b.name === 'adamw-influence' && b.options?.curvature === 'exact')),
  nFd: 2,
  fdEps: CUSTOM_ESTIMATOR_PRESETS.quick.fdEps,
};

test('custom estimator: yours beside the built-ins, against TSLOO and the FD oracle; summary written', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-custom-'));
  try {
    const o = { cacheDir: path.join(root, 'cache'), outDir: path.join(root, 'out'), name: 'small' };
    const s = await runCustomEstimator(small, o);
    const j = JSON.parse(fs.readFileSync(path.join(root, 'out', 'small', 'summary.json'), 'utf8')) as CustomEstimatorSummary;
    assert.ok(fs.existsSync(path.join(root, 'out', 'small', 'summary.csv')));
    assert.equal(j.format, 'faithful-tda/custom-estimator');
    assert.deepEqual(j.yours, { name: 'tracin-adam', label: 'tracin-adam (yours)', summary: tracinAdam.summary });
    assert.deepEqual([...new Set(j.rows.map((r) => r.estimator))], ['tracin-adam (yours)', 'AdamW-influence (exact)', 'TracIn']);
    assert.deepEqual(j.rows.map((r) => r.metric).slice(0, 3), ['spearman', 'pearson', 'fdRelErr']);
    assert.deepEqual(j.rows.filter((r) => r.kind === 'yours').map((r) => r.metric), ['spearman', 'pearson', 'fdRelErr']);
    for (const r of j.rows) {
      assert.ok(Number.isFinite(r.mean), `${r.estimator} ${r.metric}`);
      assert.ok(r.lo <= r.mean && r.mean <= r.hi);
    }
    assert.equal(j.fd.ids.length, 2);
    assert.equal(j.fd.perSample.length, 3 * 2);
    const fdErr = (label: string) => j.rows.find((r) => r.estimator === label && r.metric === 'fdRelErr')!.mean;
    // the matched linearisation computes the first-order effect; TracIn (an SGD push at the raw gradient scale) does not
    assert.ok(fdErr('AdamW-influence (exact)') < 0.3, `AdamW-influence vs FD: ${fdErr('AdamW-influence (exact)')}`);
    assert.ok(fdErr('TracIn') > 0.5, `TracIn vs FD: ${fdErr('TracIn')}`);
    // rerun: built-ins and FD from the cache, yours recomputed (its code may have changed)
    const again = await runCustomEstimator(small, o);
    assert.deepEqual(again.rows.filter((r) => r.metric === 'spearman').map((r) => r.cached), [false, true, true]);
    assert.equal(again.fd.cached, true);
    assert.deepEqual(again.rows.map((r) => r.mean), s.rows.map((r) => r.mean));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('the example estimator: [trainIds × queries], ranks like TracIn per query; registry lookup; shape errors', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-custom-'));
  try {
    const cacheDir = path.join(root, 'cache');
    const p = await prepareCell(small.cell, { cacheDir });
    const mine = await tracinAdam.score(p.task);
    const tracin = await getEstimator('tracin').score(p.task);
    assert.deepEqual([mine.nTrain, mine.nQuery], [8, 6]);
    assert.ok(mine.values.every(Number.isFinite));
    // a diagonal positive preconditioner changes magnitudes, not the sign structure: rankings stay related
    let rho = 0;
    for (let q = 0; q < 6; q++) rho += spearman(Array.from({ length: 8 }, (_, r) => mine.values[r * 6 + q]), Array.from({ length: 8 }, (_, r) => tracin.values[r * 6 + q])) / 6;
    assert.ok(rho > 0.3, `mean Spearman with TracIn ${rho}`);
    assert.equal(typeof ESTIMATOR_KIT.trainGradsAt, 'function');
    // by registry name, under a label of your choice
    registerEstimator({ ...tracinAdam, name: 'tracin-adam-test' } as Estimator<never>);
    const s = await runCustomEstimator({ ...small, builtins: [], nFd: 0 }, { cacheDir, outDir: path.join(root, 'out'), estimator: 'tracin-adam-test', label: 'mine' });
    assert.deepEqual(s.rows.map((r) => [r.estimator, r.metric]), [['mine', 'spearman'], ['mine', 'pearson']]);
    const wrong: Estimator = { name: 'wrong-shape', summary: 'returns too few rows', score: async (task) => scoreMatrix(task.trainIds.length - 1, task.queries.n) };
    await assert.rejects(runCustomEstimator({ ...small, builtins: [], nFd: 0 }, { cacheDir, outDir: path.join(root, 'out'), estimator: wrong as Estimator<never> }), /returned 7 × 6 scores; expected 8 × 6/);
    await assert.rejects(runCustomEstimator('nope'), /unknown custom-estimator preset 'nope'/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
