/**
 * acc-epochs (paper 2: ACC-SGD-IE vs SGD-IE over epochs): the quick preset's result files (schema, finite
 * values, the epoch axis, metric ranges, per-cell τ CIs), the E = 1 sanity property (ACC-SGD-IE == SGD-IE:
 * every sample occurs once), the mean-validation-loss query wrapper, and the divisor equivalence with the
 * ACC code's (|B|−1)/|B| rescaling.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../../lib/runtime/backend.ts';
import { createModel } from '../../lib/models/registry.ts';
import { train } from '../../lib/train/trainer.ts';
import type { TrainConfig } from '../../lib/train/setting.ts';
import { getEstimator } from '../../lib/estimators/registry.ts';
import { queryLosses } from '../../lib/groundtruth/common.ts';
import { disposeParams } from '../../lib/models/params.ts';
import { ACC_EPOCHS_PRESETS, runAccEpochs, type AccEpochsSummary } from '../../lib/findings/acc-epochs/experiment.ts';
import { JACCARD_PERCENTS, type AccCellResult } from '../../lib/pipeline/mean-loss-cell.ts';
import { meanLossModel, meanLossQuery } from '../../lib/settings/binary.ts';
import { teacherData } from '../train/fixtures/synth.ts';
import { DATA, missingData } from '../helpers/data.ts';

await initBackend({ backend: 'wasm' });
const skip0 = await missingData(...DATA.adult);
process.env.FTDA_QUIET = '1';

const METRICS = ['kendall-tau', 'spearman', ...JACCARD_PERCENTS.map((p) => `jaccard-${p}`)];

test('quick preset: result files, schema, epoch axis, metric ranges, E = 1 sanity (ACC == SGD-IE)', { skip: skip0 }, async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-acc-'));
  const outDir = path.join(root, 'out');
  const cacheDir = path.join(root, 'cache');
  const t0 = performance.now();
  const s = await runAccEpochs('quick', { outDir, cacheDir });
  const seconds = (performance.now() - t0) / 1000;
  const dir = path.join(outDir, 'quick');
  for (const f of ['summary.json', 'summary.csv', 'cells.csv']) assert.ok(fs.existsSync(path.join(dir, f)), `${f} written`);
  const j = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')) as AccEpochsSummary;
  assert.equal(j.format, 'faithful-tda/acc-epochs');
  assert.equal(j.complete, true);
  assert.ok(j.runtime && j.createdAt && j.config.seeds.length >= 1);
  const preset = ACC_EPOCHS_PRESETS.quick;
  assert.ok(preset.epochs.includes(1), 'the grid carries the E = 1 sanity point');
  for (const E of preset.epochs) {
    for (const est of ['SGD-IE', 'ACC-SGD-IE']) {
      for (const metric of METRICS) {
        const r = j.rows.filter((x) => x.epochs === E && x.estimator === est && x.metric === metric);
        assert.equal(r.length, 1, `one row for E=${E} ${est} ${metric}`);
        assert.ok(Number.isFinite(r[0].mean), `${E} ${est} ${metric} finite`);
        const lo = metric.startsWith('jaccard') ? 0 : -1;
        assert.ok(r[0].mean >= lo && r[0].mean <= 1, `${metric} = ${r[0].mean} in range`);
        assert.equal(r[0].values.length, preset.seeds.length);
        if (preset.seeds.length < 2) assert.equal(r[0].std, null, 'std is null (not NaN) with one seed');
      }
    }
  }
  for (const c of j.cells) {
    for (const v of [c.kendallTau, c.tauLo, c.tauHi, c.spearman, c.testAccuracy, c.trainLoss]) assert.ok(Number.isFinite(v));
    assert.ok(c.tauLo <= c.tauHi && c.tauLo >= -1 && c.tauHi <= 1, 'τ bootstrap CI over training samples');
  }
  // Sanity: with one epoch every sample occurs once, and ACC-SGD-IE is SGD-IE exactly.
  const cellFiles = fs.readdirSync(path.join(cacheDir, 'acc-epochs')).filter((f) => f.endsWith('.json'));
  assert.equal(cellFiles.length, preset.epochs.length * preset.seeds.length * preset.specs.length);
  for (const f of cellFiles) {
    const cell = JSON.parse(fs.readFileSync(path.join(cacheDir, 'acc-epochs', f), 'utf8')) as AccCellResult;
    assert.equal(cell.truth.length, cell.cell.spec.n);
    assert.ok(cell.truth.every(Number.isFinite) && cell.estimators.every((e) => e.scores.every(Number.isFinite)));
    if (cell.cell.epochs === 1) {
      assert.equal(cell.accVsSgdMaxAbs, 0, 'E = 1: identical scores');
      assert.deepEqual(cell.estimators[0].scores, cell.estimators[1].scores);
    } else {
      assert.ok(cell.accVsSgdMaxAbs > 0, `E = ${cell.cell.epochs}: ACC differs from SGD-IE once samples recur`);
    }
  }
  // A second call is served from the cache (no retraining).
  const t1 = performance.now();
  const again = await runAccEpochs('quick', { outDir, cacheDir });
  assert.ok((performance.now() - t1) / 1000 < Math.max(5, seconds / 2), 'cached rerun is fast');
  assert.deepEqual(again.rows, s.rows);
  fs.rmSync(root, { recursive: true, force: true });
});

test('mean-loss query: its loss is the mean validation loss and its scores the mean of per-query scores', async () => {
  const data = teacherData(24, 6, 2, 1);
  const val = teacherData(9, 6, 2, 2);
  const model = createModel({ family: 'mlp', config: { sizes: [6, 5, 2], activation: 'relu' } });
  const setting: TrainConfig = { seed: 1, batchSize: 6, epochs: 2, optimizer: { kind: 'sgd', momentum: 0, weightDecay: 0 }, schedule: { kind: 'constant', lr: 0.1 } };
  const trajectory = await train({ model, data, setting });
  const wrapped = meanLossModel(model);
  const agg = meanLossQuery(val);
  const p = trajectory.states.params(trajectory.manifest.steps);
  try {
    const per = queryLosses(model, p, val);
    const one = queryLosses(wrapped, p, agg, 8);
    const mean = per.reduce((a, b) => a + b, 0) / per.length;
    assert.ok(Math.abs(one[0] - mean) < 1e-6, `${one[0]} vs ${mean}`);
  } finally {
    disposeParams(p);
  }
  const ids = Array.from({ length: data.n }, (_, i) => i);
  for (const name of ['sgd-influence', 'acc-sgd-ie']) {
    const full = await getEstimator(name).score({ model, data, trajectory, queries: val, trainIds: ids }, {});
    const m = await getEstimator(name).score({ model: wrapped, data, trajectory, queries: agg, trainIds: ids }, {});
    assert.equal(m.nQuery, 1);
    let err = 0;
    let scale = 0;
    for (let i = 0; i < ids.length; i++) {
      let s = 0;
      for (let q = 0; q < val.n; q++) s += full.values[i * val.n + q];
      err = Math.max(err, Math.abs(s / val.n - m.values[i]));
      scale = Math.max(scale, Math.abs(m.values[i]));
    }
    assert.ok(err <= 1e-5 * scale, `${name}: aggregate vs mean of columns ${err} (scale ${scale})`);
  }
});

test("divisor 'original' is the ACC code's (|B|−1)/|B| × mean over the remaining samples", async () => {
  const data = teacherData(20, 6, 2, 3);
  const model = createModel({ family: 'mlp', config: { sizes: [6, 5, 2], activation: 'tanh' } });
  const setting: TrainConfig = { seed: 2, batchSize: 10, epochs: 1, maxSteps: 1, optimizer: { kind: 'sgd', momentum: 0, weightDecay: 0 }, schedule: { kind: 'constant', lr: 0.5 } };
  const base = await train({ model, data, setting });
  const z = base.batches[0][3];
  const run = (divisor: 'original' | 'remaining') => train({ model, data, setting, removal: { ids: [z], occurrence: 'all', divisor } });
  const [orig, rem] = await Promise.all([run('original'), run('remaining')]);
  const th0 = base.states.at(0).theta;
  const a = orig.states.final().theta;
  const b = rem.states.final().theta;
  const B = base.batches[0].length;
  let err = 0;
  let scale = 0;
  for (let k = 0; k < th0.length; k++) {
    const want = ((B - 1) / B) * (b[k] - th0[k]);
    err = Math.max(err, Math.abs(a[k] - th0[k] - want));
    scale = Math.max(scale, Math.abs(want));
  }
  assert.ok(scale > 0 && err < 1e-6 + 1e-4 * scale, `one SGD step: max error ${err} (step scale ${scale})`);
});
