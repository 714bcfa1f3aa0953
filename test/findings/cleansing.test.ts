/**
 * cleansing (Hara et al. §7.2 / ACC-SGD-IE's downstream task): the quick preset's result files (schema,
 * finite values, every (method, k) present, paired deltas), the selection rule, and a sanity property:
 * removing the ground truth's most harmful samples lowers the validation loss the selection targeted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../../lib/runtime/backend.ts';
import { CLEANSING_METHODS, CLEANSING_PRESETS, mostHarmful, runCleansing, type CleansingSummary } from '../../lib/findings/cleansing/experiment.ts';
import { DATA, missingData } from '../helpers/data.ts';

await initBackend({ backend: 'wasm' });
const skip0 = await missingData(...DATA.adult);
process.env.FTDA_QUIET = '1';

test('mostHarmful: the k lowest scores (predicted removal lowers the validation loss most), ties by id', () => {
  assert.deepEqual(mostHarmful([0.3, -0.2, 0.1, -0.2, -1], 3), [1, 3, 4]);
  assert.deepEqual(mostHarmful([1, 2], 0), []);
});

test('quick preset: files, schema, every (method, k), finite, paired deltas, oracle lowers validation loss', { skip: skip0 }, async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-clean-'));
  const outDir = path.join(root, 'out');
  await runCleansing('quick', { outDir, cacheDir: path.join(root, 'cache') });
  const dir = path.join(outDir, 'quick');
  for (const f of ['summary.json', 'summary.csv', 'points.csv']) assert.ok(fs.existsSync(path.join(dir, f)), f);
  const j = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')) as CleansingSummary;
  assert.equal(j.format, 'faithful-tda/cleansing');
  assert.equal(j.complete, true);
  assert.ok(j.runtime && j.createdAt);
  const preset = CLEANSING_PRESETS.quick;
  const grid = preset.specs.flatMap((spec) => preset.labelNoises.flatMap((noise) => preset.fractions.map((f) => ({ spec, noise, k: Math.round(f * spec.n) }))));
  for (const { spec, noise, k } of grid) {
    const methods = k === 0 ? ['none'] : CLEANSING_METHODS.filter((m) => m !== 'none');
    for (const m of methods) {
      const r = j.rows.filter((x) => x.dataset === spec.dataset && x.labelNoise === noise && x.k === k && x.method === m);
      assert.equal(r.length, 1, `${spec.dataset} noise ${noise} k ${k} ${m}`);
      const row = r[0];
      for (const v of [row.testLossMean, row.testErrorMean, row.valLossMean, row.testLossDeltaMean, row.testErrorDeltaMean]) assert.ok(Number.isFinite(v));
      assert.ok(row.testErrorMean >= 0 && row.testErrorMean <= 1);
      assert.equal(row.seeds, preset.seeds.length);
      if (m === 'none') assert.equal(row.testLossDeltaMean, 0);
    }
  }
  const noise = preset.labelNoises[0];
  const none = j.rows.find((x) => x.method === 'none' && x.labelNoise === noise)!;
  const kMax = Math.max(...j.rows.map((x) => x.k));
  const oracle = j.rows.find((x) => x.method === 'TSLOO (oracle)' && x.k === kMax && x.labelNoise === noise)!;
  assert.ok(oracle.valLossMean < none.valLossMean, `oracle removal: validation loss ${oracle.valLossMean} < ${none.valLossMean}`);
  fs.rmSync(root, { recursive: true, force: true });
});
