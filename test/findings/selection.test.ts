/**
 * The selection experiment's quick preset: result files exist with the documented schema, every number
 * is finite, CIs are present and ordered, budgets are met, and a rerun is served from the run files with
 * identical numbers (determinism per seed is tested on fresh runs in test/selection/online.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../../lib/runtime/backend.ts';
import { runSelection, SELECTION_PRESETS, splitValTest, summariseSelection, type SelectionRun } from '../../lib/findings/selection/experiment.ts';
import { teacherData } from '../train/fixtures/synth.ts';

process.env.FTDA_QUIET = '1';
await initBackend({ backend: 'wasm' });

const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-selection-'));

function finiteDeep(v: unknown, at = ''): string[] {
  if (typeof v === 'number') return Number.isFinite(v) ? [] : [at];
  if (v === null) return [at];
  if (Array.isArray(v)) return v.flatMap((x, i) => finiteDeep(x, `${at}[${i}]`));
  if (typeof v === 'object') return Object.entries(v as object).flatMap(([k, x]) => finiteDeep(x, `${at}.${k}`));
  return [];
}

test('quick preset: files, schema, finite values, CIs, budgets; rerun served from the run files', async () => {
  const t0 = performance.now();
  const s = await runSelection('quick', { outDir: out });
  const secs = (performance.now() - t0) / 1000;
  console.log(`  quick preset: ${secs.toFixed(1)} s, ${s.runs.length} runs`);
  const dir = path.join(out, 'quick');
  for (const f of ['runs.json', 'runs.csv', 'summary.json', 'summary.csv', 'best-k.csv']) assert.ok(fs.existsSync(path.join(dir, f)), `${f} missing`);

  // Grid: none + per budget (random ×2, offline K=offline, online K ∈ {0, 4}).
  const p = SELECTION_PRESETS.quick;
  assert.deepEqual(p.horizons, [0, 4, 'offline']);
  const methods = s.runs.map((r) => `${r.method}/${r.K}`).sort();
  assert.deepEqual(methods, ['none/', 'offline/offline', 'online/0', 'online/4', 'random-offline/', 'random-online/'].sort());

  const json = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
  assert.equal(json.format, 'faithful-tda/selection');
  assert.ok(json.runtime?.backend && json.createdAt && json.config && Array.isArray(json.seeds));
  const tidy = JSON.parse(fs.readFileSync(path.join(dir, 'runs.json'), 'utf8'));
  for (const r of tidy.runs) {
    for (const k of ['setting', 'lr', 'budget', 'method', 'K', 'seed', 'valLoss', 'testLoss', 'testAcc']) assert.ok(k in r, `runs.json row lacks ${k}`);
    assert.ok(r.testAcc >= 0 && r.testAcc <= 1);
  }
  const csvHeader = fs.readFileSync(path.join(dir, 'runs.csv'), 'utf8').split('\n')[0];
  assert.match(csvHeader, /^setting,preset,lr,budget,method,K,seed,valLoss,testLoss,testAcc/);

  // Budgets: offline keeps round(b·n); online keeps the same per epoch.
  for (const r of s.runs) {
    if (r.method === 'none') assert.equal(r.kept, 3200);
    else assert.equal(r.kept, Math.round(r.budget * 3200), `${r.method} kept ${r.kept}`);
    assert.deepEqual(finiteDeep({ v: r.valLoss, t: r.testLoss, a: r.testAcc, b: r.keptBalance }), []);
  }

  // Summary rows: finite means and CIs that bracket the mean; selections have a paired diff vs random.
  for (const row of s.rows) {
    assert.deepEqual(finiteDeep({ v: row.valLoss, t: row.testLoss, a: row.testAcc, lo: row.testLossLo, hi: row.testLossHi, alo: row.testAccLo, ahi: row.testAccHi }), [], `${row.method} ${row.K}`);
    assert.ok(row.testLossLo <= row.testLoss + 1e-12 && row.testLoss <= row.testLossHi + 1e-12);
    if (row.method === 'offline' || row.method === 'online') {
      assert.ok(row.baseline.startsWith('random-'));
      assert.deepEqual(finiteDeep({ d: row.dTestLoss, lo: row.dTestLossLo, hi: row.dTestLossHi, da: row.dTestAcc }), []);
      assert.ok(row.dTestLossLo <= row.dTestLoss && row.dTestLoss <= row.dTestLossHi);
    }
  }
  // Best K per LR: the online family against offline.
  const best = s.bestK.find((b) => b.family === 'online');
  assert.ok(best, 'best-K row for the online family');
  assert.ok([0, 4, 'offline'].includes(best!.bestK));
  assert.deepEqual(finiteDeep({ b: best!.bestTestLoss, o: best!.offlineTestLoss, d: best!.dVsOffline, lo: best!.dVsOfflineLo, hi: best!.dVsOfflineHi }), []);

  // Rerun: every run comes from its file, numbers identical.
  const t1 = performance.now();
  const again = await runSelection('quick', { outDir: out });
  assert.ok((performance.now() - t1) / 1000 < secs / 2 + 5, 'rerun should be served from the run files');
  assert.deepEqual(again.rows, s.rows);
});

test('splitValTest divides the test split into disjoint seeded halves; summaries are seed-deterministic', () => {
  const ds = teacherData(20, 3, 2, 0);
  const a = splitValTest(ds, 0.5, 3);
  const b = splitValTest(ds, 0.5, 3);
  assert.equal(a.val.n, 10);
  assert.equal(a.test.n, 10);
  assert.deepEqual(a.valIds, b.valIds);
  assert.notDeepEqual(a.valIds, splitValTest(ds, 0.5, 4).valIds);
  assert.throws(() => splitValTest(ds, 1, 0), /valFraction/);
  const run = (method: SelectionRun['method'], seed: number, l: number): SelectionRun => ({
    format: 'faithful-tda/selection-run', version: 1, setting: 's', preset: 'p', lr: 1, seed, budget: 0.5, method, K: method === 'offline' ? 'offline' : '',
    valLoss: l, valAcc: 0.5, testLoss: l, testAcc: 0.5, kept: 1, steps: 1, seconds: 0, testLosses: [l, l + 0.1, l - 0.1], testCorrect: [1, 0, 1],
    key: '', runtime: {} as SelectionRun['runtime'], createdAt: '',
  });
  const runs = [run('offline', 0, 1), run('offline', 1, 1.2), run('random-offline', 0, 1.5), run('random-offline', 1, 1.4)];
  const rows = summariseSelection(runs);
  const off = rows.find((r) => r.method === 'offline')!;
  assert.ok(Math.abs(off.dTestLoss - (1.1 - 1.45)) < 1e-12);
  assert.ok(off.dTestLossHi < 0, 'offline is better than random in every pair');
  assert.deepEqual(summariseSelection(runs), rows);
});
