/**
 * quickstart (notebook 00): on a small quick-MLP cell, the result files and their schema, finite per-query
 * fidelity with CIs that contain the mean, the scatter points (TSLOO and estimate straight from the score
 * matrices), the phase caches reused on a second run with identical numbers, and fidelity.ts's cache keys
 * (a score file written by either is found by the other).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../../lib/runtime/backend.ts';
import { runFidelityCell } from '../../lib/pipeline/fidelity.ts';
import { cachedScores as scoreEstimator, groundTruth, prepareCell } from '../../lib/pipeline/cell.ts';
import { QUICKSTART_ESTIMATORS, QUICKSTART_PRESETS, runQuickstart, type QuickstartPreset, type QuickstartSummary } from '../../lib/findings/quickstart/experiment.ts';

await initBackend({ backend: 'wasm' });
process.env.FTDA_QUIET = '1';

const small: QuickstartPreset = { cell: { setting: 'mlp', preset: 'quick', lr: 1e-3, seed: 0, nScored: 8, nQueries: 6 }, estimators: QUICKSTART_ESTIMATORS, scatterQueries: 2 };

test('quickstart: result files, fidelity rows with CIs, scatter points, cached rerun with the same numbers', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-quickstart-'));
  try {
    const o = { cacheDir: path.join(root, 'cache'), outDir: path.join(root, 'out'), name: 'small' };
    const s = await runQuickstart(small, o);
    for (const f of ['summary.json', 'summary.csv', 'points.csv']) assert.ok(fs.existsSync(path.join(root, 'out', 'small', f)), `${f} written`);
    const j = JSON.parse(fs.readFileSync(path.join(root, 'out', 'small', 'summary.json'), 'utf8')) as QuickstartSummary;
    assert.equal(j.format, 'faithful-tda/quickstart');
    assert.equal(j.preset, 'small');
    assert.deepEqual(j.cell, small.cell);
    assert.equal(j.training.steps, 50, 'quick MLP: 3,200 images / batch 64');
    assert.ok(j.training.lastLoss < j.training.firstLoss, 'the model learned');
    assert.equal(j.tsloo.method, 'vectorised');
    assert.equal(j.rows.length, 2 * 2, 'two estimators × spearman, pearson');
    for (const r of j.rows) {
      assert.ok(Number.isFinite(r.mean) && r.mean >= -1 && r.mean <= 1, `${r.estimator} ${r.metric} ${r.mean}`);
      assert.ok(r.lo <= r.mean && r.mean <= r.hi, 'the CI contains the mean');
      assert.equal(r.n + r.skipped, 6);
      assert.equal(r.cached, false);
    }
    assert.deepEqual(j.perQuery.map((p) => [p.estimator, p.spearman.length]), QUICKSTART_ESTIMATORS.map((e) => [e.label, 6]));
    assert.equal(j.points.length, 2 * 2 * 8, 'estimators × scatter queries × scored samples');
    assert.ok(j.points.every((p) => Number.isFinite(p.tsloo) && Number.isFinite(p.estimate)));
    // the points are the score matrices' entries: re-derive one from the phases
    const prepared = await prepareCell(small.cell, o);
    const gt = await groundTruth(prepared);
    const i = prepared.task.trainIds.indexOf(j.points[3].trainId);
    assert.equal(j.points[3].tsloo, gt.scores.values[i * 6 + j.points[3].query]);
    // second run: every phase from the cache, identical fidelity
    const again = await runQuickstart(small, o);
    assert.ok(again.rows.every((r) => r.cached), 'scores reused');
    assert.deepEqual(again.rows.map((r) => [r.mean, r.lo, r.hi]), s.rows.map((r) => [r.mean, r.lo, r.hi]));
    assert.ok(again.training.seconds < 1, 'trajectory reused');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('quickstart and the fidelity cell share score caches (one pipeline, one key), so notebook 00 reuses optimizer-mismatch work', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-quickstart-'));
  try {
    const cacheDir = path.join(root, 'cache');
    const tracin = QUICKSTART_ESTIMATORS.find((e) => e.name === 'tracin')!;
    const cell = { ...small.cell, estimators: [tracin] };
    const f = await runFidelityCell(cell, { cacheDir, outDir: path.join(root, 'fidelity') });
    const prepared = await prepareCell(small.cell, { cacheDir });
    const gt = await groundTruth(prepared);
    const s = await scoreEstimator(prepared, gt, tracin);
    assert.equal(s.cached, true, 'the file fidelity.ts wrote is found');
    assert.equal(f.estimators[0].cached, false);
    assert.deepEqual(Object.keys(QUICKSTART_PRESETS), ['quick', 'full', 'paper']);
    await assert.rejects(runQuickstart('nope'), /unknown quickstart preset 'nope'; known: quick, full, paper/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
