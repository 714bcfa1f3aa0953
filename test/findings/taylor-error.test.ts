/**
 * The Taylor-error experiment: the quick preset runs end to end into a temp dir, and its result files are
 * checked (schema, finite values, CIs present and ordered, the proxy's first-order part reproducing the
 * estimator, the noise floor below the signal). Plus the cell-level statistics on synthetic input.
 */
import { test } from 'node:test';
import { EmptyResultError } from '../../lib/runtime/errors.ts';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../../lib/runtime/backend.ts';
import { proxyCorrelations, ratioCI, runTaylorCell, runTaylorError, taylorCellDir, TAYLOR_PRESETS, type TaylorCellResult, type TaylorRow } from '../../lib/findings/taylor-error/experiment.ts';
import { DATA, missingData } from '../helpers/data.ts';

process.env.FTDA_QUIET = '1';
await initBackend({ backend: 'wasm' });
const skip0 = await missingData(...DATA.fashion);

const ordered = (c: { mean: number; lo: number; hi: number }, what: string) => {
  for (const k of ['mean', 'lo', 'hi'] as const) assert.ok(Number.isFinite(c[k]), `${what}.${k} = ${c[k]}`);
  assert.ok(c.lo <= c.mean && c.mean <= c.hi, `${what}: CI [${c.lo}, ${c.hi}] does not contain ${c.mean}`);
};

test('ratio CI over queries', () => {
  const r = ratioCI([1, 1, 1, 1], [4, 4, 4, 4], 0, 200);
  assert.deepEqual([r.mean, r.lo, r.hi], [0.5, 0.5, 0.5]);
  const s = ratioCI([1, 2, 0, 1], [4, 4, 4, 4], 0, 500);
  ordered(s, 'ratio');
  assert.ok(s.lo < s.hi);
});

test('proxy correlations: one set per setting, plus a pooled set when there are several', () => {
  const row = (setting: string, i: number) => ({ setting, preset: 'full', lr: 1e-3, T: 10 * (i + 1), seed: 0, relErr: i + (setting === 'cnn' ? 0.5 : 0), queryProxy: i + (setting === 'cnn' ? 0.5 : 0), proxy: i, proxyAbsolute: i, oneMinusSpearman: i, medianSampleRelErr: i }) as unknown as TaylorRow;
  const rows = [0, 1, 2, 3].flatMap((i) => [row('mlp', i), row('cnn', i)]);
  const c = proxyCorrelations(rows, 0);
  assert.deepEqual([...new Set(c.map((x) => x.setting))], ['mlp-full', 'cnn-full', 'pooled']);
  const pooled = c.find((x) => x.setting === 'pooled' && x.primary)!;
  assert.equal(pooled.cells, 8);
  assert.ok(Math.abs(pooled.spearman - 1) < 1e-12);
  assert.equal(proxyCorrelations(rows.filter((r) => r.setting === 'mlp'), 0).filter((x) => x.setting === 'pooled').length, 0);
  // 4 perfectly ranked cells: the bootstrap CI is [1, 1], the permutation p-value says 1 ordering in 24.
  const mlp = c.find((x) => x.setting === 'mlp-full' && x.primary)!;
  assert.ok([mlp.spearman, mlp.lo, mlp.hi].every((v) => Math.abs(v - 1) < 1e-12), JSON.stringify(mlp));
  assert.ok(Math.abs(mlp.pPerm - 1 / 24) < 1e-12, `pPerm ${mlp.pPerm}`);
  assert.ok(pooled.pPerm < 1e-3, `pooled pPerm ${pooled.pPerm}`);
});

test('quick preset: result files, schema, finite values, ordered CIs, forward = backward, noise below signal', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-taylor-'));
  const t0 = performance.now();
  const summary = await runTaylorError('quick', { outDir: out, cacheDir: path.join(out, 'cache') });
  console.log(`  quick preset: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const dir = path.join(out, 'quick');
  for (const f of ['summary.json', 'cells.csv', 'correlations.csv']) assert.ok(fs.existsSync(path.join(dir, f)), `missing ${f}`);
  const onDisk = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
  assert.equal(onDisk.format, 'faithful-tda/taylor-error');
  assert.equal(onDisk.preset, 'quick');
  assert.ok(onDisk.runtime?.backend && !Number.isNaN(Date.parse(onDisk.createdAt)));
  const g = TAYLOR_PRESETS.quick.grids[0];
  assert.equal(summary.rows.length, g.lrs.length * g.steps.length);
  assert.deepEqual(summary.missing, []);

  const csv = fs.readFileSync(path.join(dir, 'cells.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 1 + summary.rows.length);
  for (const col of ['lr', 'T', 'relErr', 'relErrLo', 'relErrHi', 'oneMinusSpearman', 'queryProxy', 'proxy', 'noiseFloor']) assert.ok(csv[0].split(',').includes(col), `cells.csv lacks ${col}`);
  assert.ok(!/NaN|null|undefined/.test(csv.join('\n')), 'cells.csv has non-finite entries');

  for (const r of summary.rows) {
    ordered({ mean: r.relErr, lo: r.relErrLo, hi: r.relErrHi }, `relErr lr ${r.lr} T ${r.T}`);
    ordered({ mean: r.oneMinusSpearman, lo: r.oneMinusSpearmanLo, hi: r.oneMinusSpearmanHi }, `1−ρ lr ${r.lr} T ${r.T}`);
    assert.ok(r.relErr > 0 && r.proxy > 0 && r.queryProxy > 0 && r.proxyAbsolute > 0, JSON.stringify(r));
    assert.ok(r.forwardBackwardRelErr < 1e-4, `the proxy's first-order part differs from the estimator: ${r.forwardBackwardRelErr}`);
    assert.ok(r.floorOverSignal >= 0 && r.floorOverSignal < 1e-2, `TSLOO noise floor / signal = ${r.floorOverSignal}`);
    assert.ok(r.errorOverFloor !== null && r.errorOverFloor > 10, `the Taylor error should be far above the float32 floor: ${r.errorOverFloor}`);
    assert.equal(r.noiseRelErr, null, 'the vectorised MLP TSLOO has no full second computation order');
  }
  assert.deepEqual([...new Set(summary.rows.map((r) => r.T))].sort((a, b) => a - b), g.steps);

  const cell: TaylorCellResult = JSON.parse(fs.readFileSync(path.join(taylorCellDir({ setting: 'mlp', preset: 'quick', lr: g.lrs[0], steps: g.steps[1], seed: 0 }, dir), 'result.json'), 'utf8'));
  assert.equal(cell.format, 'faithful-tda/taylor-error-cell');
  assert.equal(cell.estimator, 'adamw-influence');
  assert.equal(cell.T, g.steps[1]);
  assert.equal(cell.scoredIds.length, g.nScored);
  assert.equal(cell.measured.perSampleRelErr.length, g.nScored);
  assert.equal(cell.proxy.perSample.length, g.nScored);
  assert.ok(cell.proxy.perSample.every((s) => s.branchStep >= 0 && s.branchStep < cell.T), 'scored ids must occur in the truncated plan');
  assert.equal(cell.noise.crossCheck?.ids.length, TAYLOR_PRESETS.quick.crossCheck);
  assert.ok(cell.noise.control && cell.noise.control.maxAbs >= 0);
  assert.equal(cell.proxy.steps.at(-1)?.t, cell.T - 1);

  assert.equal(summary.correlations.filter((c) => c.primary).length, 1);
  for (const c of summary.correlations) {
    assert.equal(c.cells, summary.rows.length);
    assert.ok(Number.isFinite(c.spearman) && c.spearman >= -1 && c.spearman <= 1, JSON.stringify(c));
    assert.ok(c.lo <= c.hi && c.lo >= -1 && c.hi <= 1, JSON.stringify(c));
  }

  // A second call reads every phase back from the caches and reproduces the numbers.
  const again = await runTaylorError('quick', { outDir: out, cacheDir: path.join(out, 'cache') });
  assert.deepEqual(again.rows, summary.rows);
  // --settings limits what is computed, not what is summarised: a call for another setting keeps these cells.
  const other = await runTaylorError('quick', { outDir: out, cacheDir: path.join(out, 'cache'), settings: ['cnn'] });
  assert.deepEqual(other.rows, summary.rows);
  // --cached-only computes nothing, and on a fresh folder it refuses to write an empty summary.
  const fresh = path.join(out, 'fresh');
  await assert.rejects(runTaylorError('quick', { outDir: fresh, cacheDir: path.join(fresh, 'cache'), cachedOnly: true }), EmptyResultError);
  assert.ok(!fs.existsSync(path.join(fresh, 'cache')), 'cachedOnly must not train or cache anything');
  assert.ok(!fs.existsSync(path.join(fresh, 'quick', 'summary.json')), 'no empty summary is written');
  fs.rmSync(out, { recursive: true, force: true });
});

test('unknown preset is a clear error', async () => {
  await assert.rejects(runTaylorError('nope'), /unknown taylor-error preset 'nope'; known: quick, full/);
});

test('CNN cell (sequential TSLOO): the noise floor comes from the reversed-row order and is recorded', { skip: skip0 }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-taylor-cnn-'));
  try {
    const t0 = performance.now();
    // Enough samples and queries that the two orders' last-bit differences reach some float32 query loss on any engine.
    const r = await runTaylorCell({ setting: 'cnn', preset: 'quick', lr: 1e-3, steps: 10, seed: 0, nScored: 6, nQueries: 16, crossCheck: 0 }, { outDir: out, cacheDir: path.join(out, 'cache') });
    console.log(`  cnn quick cell (T ${r.T}): ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    assert.equal(r.noise.method, 'sequential');
    assert.equal(r.noise.alternative?.method, 'sequential, reversed rows');
    assert.ok(r.noise.alternative!.maxAbsDiff > 0, 'two orders must differ in the last bits');
    assert.equal(r.noise.floor, r.noise.alternative!.maxAbsDiff);
    assert.ok(r.noise.floorOverSignal < 0.01 && r.noise.errorOverFloor! > 1, JSON.stringify(r.noise));
    assert.ok(r.noise.alternative!.relDiff! > 0 && r.noise.alternative!.relDiff! < 0.01, `orders differ by ${r.noise.alternative!.relDiff} of ‖TSLOO‖`);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
