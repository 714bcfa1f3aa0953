/**
 * final-model (paper 3: final-model-only methods vs the further-training gold standard): the quick preset's
 * result files (schema, finite values, SEM and CI present, the epoch axis complete for every method and
 * variant, metric ranges), Δ = 0 after 0 further epochs, and the eq.-13 centring.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../../lib/runtime/backend.ts';
import { scoreMatrix } from '../../lib/analysis/score-matrix.ts';
import { centreColumns, FINAL_MODEL_PRESETS, runFinalModel, type FinalModelSummary } from '../../lib/findings/final-model/experiment.ts';
import { DATA, missingData } from '../helpers/data.ts';

await initBackend({ backend: 'wasm' });
const skip0 = await missingData(...DATA.adult);
process.env.FTDA_QUIET = '1';

test('quick preset: files, schema, epoch axis, SEM/CI, ranges, Δ = 0 at 0 epochs', { skip: skip0 }, async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-fimo-'));
  const outDir = path.join(root, 'out');
  const s = await runFinalModel('quick', { outDir, cacheDir: path.join(root, 'cache') });
  const dir = path.join(outDir, 'quick');
  assert.ok(fs.existsSync(path.join(dir, 'summary.csv')));
  const j = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')) as FinalModelSummary;
  assert.equal(j.format, 'faithful-tda/final-model');
  assert.equal(j.complete, true);
  assert.ok(j.runtime && j.createdAt);
  assert.equal(j.epoch0MaxAbs, 0, 'further training for 0 epochs changes nothing');
  const preset = FINAL_MODEL_PRESETS.quick;
  for (const spec of preset.specs) {
    const fm = j.finalModels.find((x) => x.dataset === spec.dataset)!;
    assert.ok(fm.eval.trainAccuracy > 0.7, `final model trained (train accuracy ${fm.eval.trainAccuracy})`);
    for (const v of spec.variants) {
      assert.equal(j.seedsUsed[`${spec.dataset}/${v.name}`], preset.seeds);
      const methods = [...preset.methods.map((m) => m.label), ...v.trajectoryEstimators.map((m) => m.label), 'GT split-half'];
      for (const e of preset.epochs) {
        for (const method of methods) {
          for (const metric of ['cosine', 'spearman'] as const) {
            const r = j.rows.filter((x) => x.dataset === spec.dataset && x.variant === v.name && x.epoch === e && x.method === method && x.metric === metric);
            assert.equal(r.length, 1, `${v.name} epoch ${e} ${method} ${metric}`);
            const row = r[0];
            for (const x of [row.mean, row.sem, row.lo, row.hi]) assert.ok(Number.isFinite(x), `${method} ${metric} ${JSON.stringify(row)}`);
            assert.ok(row.mean >= -1 && row.mean <= 1 && row.lo <= row.hi && row.sem >= 0);
            assert.equal(row.nQueries + row.skipped, spec.nQueries);
          }
        }
      }
    }
  }
  for (const d of j.deltaScale) assert.ok(d.meanAbs > 0 && Number.isFinite(d.meanAbs), 'the gold standard is non-trivial');
  assert.deepEqual(s.rows.length, j.rows.length);
  fs.rmSync(root, { recursive: true, force: true });
});

test('centreColumns: every column sums to 0 and differences are kept', () => {
  const m = scoreMatrix(3, 2, [1, 10, 2, 20, 6, 60]);
  const c = centreColumns(m);
  assert.deepEqual(Array.from(c.values), [-2, -20, -1, -10, 3, 30]);
  assert.deepEqual(Array.from(m.values), [1, 10, 2, 20, 6, 60], 'input untouched');
});
