/**
 * The optimizer-mismatch runner: a small MLP grid runs end to end into a temp dir and its files are checked
 * (schema, finite values, ordered CIs, paired gains); an estimator limited to the first k queries scores exactly
 * the first k columns of its unlimited twin; `cachedOnly` summarises existing cells without computing any.
 */
import { test } from 'node:test';
import { CorruptFileError, EmptyResultError, UsageError } from '../../lib/runtime/errors.ts';
import { onWarning } from '../../lib/runtime/log.ts';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../../lib/runtime/backend.ts';
import { costBoundEstimators, MISMATCH_ESTIMATORS, MISMATCH_PRESETS, runOptimizerMismatch } from '../../lib/findings/optimizer-mismatch/experiment.ts';
import { relativeGains } from '../../lib/pipeline/summary.ts';
import { VARIANTS } from '../../lib/pipeline/variants.ts';
import { runFidelityCell, type FidelityResult } from '../../lib/pipeline/fidelity.ts';

process.env.FTDA_QUIET = '1';
await initBackend({ backend: 'wasm' });

MISMATCH_PRESETS['test-small'] = {
  grids: [{ setting: 'mlp', preset: 'quick', lrs: [1e-3], nScored: 12, nQueries: 6 }],
  seeds: [0, 1],
  estimators: [
    VARIANTS.tracin,
    { ...VARIANTS.tracin, id: 'tracin-first-3', label: 'TracIn (first 3)', maxQueries: 3 },
    { ...VARIANTS.sgdInfluence, maxQueries: 4 },
    VARIANTS.adamwExact,
    { ...VARIANTS.adamwNoMomentum, maxQueries: 3 },
  ],
};

test('cost-bound estimator list: exact sweeps limited, GGN dropped, cheap ones on every query', () => {
  const list = costBoundEstimators(8);
  assert.equal(list.length, MISMATCH_ESTIMATORS.length - 1);
  assert.ok(!list.some((e) => e.options?.curvature === 'ggn'));
  for (const e of list) assert.equal(e.maxQueries, e.options?.curvature === 'exact' ? 8 : undefined, e.label);
  for (const g of MISMATCH_PRESETS.full.grids) {
    for (const e of g.estimators ?? MISMATCH_PRESETS.full.estimators) assert.ok((e.maxQueries ?? g.nQueries) <= g.nQueries, `${g.setting}: ${e.label}`);
  }
});

test('small grid: files, per-estimator query counts, first-k columns, paired gains, cachedOnly', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-mismatch-'));
  const cacheDir = path.join(out, 'cache');
  const s = await runOptimizerMismatch('test-small', { outDir: out, cacheDir });
  const dir = path.join(out, 'test-small');
  for (const f of ['summary.json', 'summary.csv', 'gains.csv']) assert.ok(fs.existsSync(path.join(dir, f)), `missing ${f}`);
  const onDisk = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
  assert.equal(onDisk.format, 'faithful-tda/optimizer-mismatch');
  assert.ok(onDisk.runtime?.backend && onDisk.cells.length === 2);
  for (const c of onDisk.cells) assert.ok(c.tslooWithinFloor >= 0 && c.tslooWithinFloor <= 1 && c.computeSeconds > 0, JSON.stringify(c));
  assert.equal(s.rows.length, 5 * 2);
  for (const r of s.rows) {
    for (const k of ['mean', 'lo', 'hi'] as const) assert.ok(Number.isFinite(r[k]), `${r.estimator} ${r.metric}.${k}`);
    assert.ok(r.lo <= r.hi, `${r.estimator}: CI [${r.lo}, ${r.hi}]`);
  }
  assert.ok(!/NaN|undefined/.test(fs.readFileSync(path.join(dir, 'summary.csv'), 'utf8')));

  for (const c of onDisk.cells) {
    const r = JSON.parse(fs.readFileSync(path.join(dir, c.dir, 'result.json'), 'utf8')) as FidelityResult;
    const by = (id: string) => r.estimators.find((e) => e.id === id)!;
    assert.deepEqual(r.estimators.map((e) => e.nQueries), [6, 3, 4, 6, 3]);
    // the chaos floor of the cell's TSLOO: four ±1-ulp base reruns, and how many entries lie within them
    assert.equal(r.tsloo.floor!.reruns, 4);
    assert.ok(r.tsloo.floor!.total === 12 * 6 && r.tsloo.floor!.within >= 0 && r.tsloo.floor!.within <= r.tsloo.floor!.total);
    assert.deepEqual(r.estimators.map((e) => e.spearman.length), [6, 3, 4, 6, 3]);
    // Same estimator on the first 3 queries = the first 3 per-query values of the unlimited one.
    for (let q = 0; q < 3; q++) assert.ok(Math.abs(by('tracin-first-3').spearman[q] - by('tracin').spearman[q]) < 1e-9, `seed ${c.seed} q ${q}`);
  }

  // The gain pairs AdamW (6 queries) with SGD (4 queries) on the common 4 queries of each cell: 2 cells × 4.
  const gains = s.gains.filter((g) => g.metric === 'spearman');
  assert.deepEqual(gains.map((g) => g.b), ['SGD-influence', 'AdamW-influence (no momentum)'], 'labels for display');
  assert.deepEqual(gains.map((g) => [g.aId, g.bId]), [[VARIANTS.adamwExact.id, VARIANTS.sgdInfluence.id], [VARIANTS.adamwExact.id, VARIANTS.adamwNoMomentum.id]], 'ids to match on');
  assert.deepEqual([...new Set(s.rows.map((r) => r.estimatorId))], ['tracin', 'tracin-first-3', VARIANTS.sgdInfluence.id, VARIANTS.adamwExact.id, VARIANTS.adamwNoMomentum.id]);
  assert.equal(gains[0].n, 8);
  for (const g of gains) {
    assert.ok(g.lo <= g.gain && g.gain <= g.hi, JSON.stringify(g));
    assert.ok(Number.isFinite(g.diff) && g.diffLo <= g.diff && g.diff <= g.diffHi, JSON.stringify(g));
  }
  // the full estimator over its ablation: paired on the ablation's 3 queries per cell, as gains.csv records
  assert.equal(gains[1].n, 6);
  assert.match(fs.readFileSync(path.join(dir, 'gains.csv'), 'utf8'), /AdamW-influence \(exact\),AdamW-influence \(no momentum\),/);

  // cachedOnly: with one cell removed, the summary holds the other one and nothing is recomputed.
  fs.rmSync(path.join(dir, onDisk.cells[1].dir), { recursive: true });
  fs.rmSync(path.join(cacheDir, 'scores'), { recursive: true });
  const partial = await runOptimizerMismatch('test-small', { outDir: out, cacheDir, cachedOnly: true });
  assert.equal(partial.cells.length, 1);
  assert.deepEqual(partial.rows[0].seeds, [0]);
  assert.ok(!fs.existsSync(path.join(cacheDir, 'scores')), 'cachedOnly computed scores');
  // `lrs` restricts a row's own grid: an LR outside it selects nothing (no AdamW run at the SGD control's LR).
  // … and the summary on disk is not replaced by an empty one.
  const before = fs.readFileSync(path.join(dir, 'summary.csv'), 'utf8');
  await assert.rejects(runOptimizerMismatch('test-small', { outDir: out, cacheDir, lrs: [0.5] }), EmptyResultError);
  assert.equal(fs.readFileSync(path.join(dir, 'summary.csv'), 'utf8'), before);
});

test('relativeGains pairs only the common query prefix of two estimators', () => {
  const cell = (a: number[], b: number[]) =>
    ({
      cell: { setting: 's', preset: 'p', lr: 1, seed: 0 },
      estimators: [
        { id: 'a', label: 'A', spearman: a, pearson: a },
        { id: 'b', label: 'B', spearman: b, pearson: b },
      ],
    }) as unknown as FidelityResult;
  const g = relativeGains([cell([0.5, 0.5, 0.9, 0.9], [0.25, 0.25])], 'a', 'b', 'spearman', 1);
  assert.deepEqual([g[0].a, g[0].b, g[0].aId, g[0].bId], ['A', 'B', 'a', 'b']);
  assert.equal(g[0].n, 2);
  assert.ok(Math.abs(g[0].gain - 1) < 1e-12, `gain ${g[0].gain}`); // (0.5 − 0.25) / 0.25 on the first two only
  assert.ok(Math.abs(g[0].diff - 0.25) < 1e-12, `diff ${g[0].diff}`); // 0.5 − 0.25, the same pairs
});

test('paper preset: transformer rows first; on wasm it stops at once naming the checkpoint and backend, writing no cell', async () => {
  const p = MISMATCH_PRESETS.paper;
  assert.deepEqual(p.grids.slice(0, 2).map((g) => `${g.setting}/${g.preset}`), ['gpt2/paper', 'llama/paper']);
  assert.deepEqual(p.grids[0].lrs, [1e-4, 5e-5, 1e-5], "the paper's GPT-2 grid");
  for (const g of p.grids) for (const e of g.estimators ?? p.estimators) assert.equal(e.maxQueries, undefined, `${g.setting}: ${e.label} scores every query`);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-mismatch-paper-'));
  const saved = process.env.FTDA_GPT2_CHECKPOINT;
  delete process.env.FTDA_GPT2_CHECKPOINT;
  try {
    await assert.rejects(runOptimizerMismatch('paper', { outDir: out, cacheDir: path.join(out, 'cache') }), /GPT-2 124M[\s\S]*FTDA_GPT2_CHECKPOINT/);
    assert.ok(!fs.existsSync(path.join(out, 'paper', 'cells')), 'no cell written');
  } finally {
    if (saved !== undefined) process.env.FTDA_GPT2_CHECKPOINT = saved;
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('issue #17 (2): an edited or truncated score cache is set aside and recomputed, naming the file; a bad cell result under cachedOnly is an error naming it', async () => {
  MISMATCH_PRESETS['test-cache'] = { grids: [{ setting: 'mlp', preset: 'quick', lrs: [1e-3], nScored: 8, nQueries: 4 }], seeds: [0], estimators: [VARIANTS.tracin, VARIANTS.adamwExact] };
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-mismatch-cache-'));
  const cacheDir = path.join(out, 'cache');
  try {
    const first = await runOptimizerMismatch('test-cache', { outDir: out, cacheDir });
    const scores = path.join(cacheDir, 'scores');
    const files = fs.readdirSync(scores).filter((f) => f.endsWith('.json') && !f.endsWith('.args.json')).sort();
    const tracin = path.join(scores, files.find((f) => f.startsWith('tracin-'))!);
    const adamw = path.join(scores, files.find((f) => f.startsWith('adamw-influence-'))!);
    // Edited: every TracIn score replaced by its negative (the file still parses, Spearman would flip).
    const j = JSON.parse(fs.readFileSync(tracin, 'utf8'));
    j.scores.values = j.scores.values.map((v: number) => -v);
    fs.writeFileSync(tracin, JSON.stringify(j));
    // Truncated at 500 bytes (used to stop the run with a JSON position error naming no file).
    fs.writeFileSync(adamw, fs.readFileSync(adamw, 'utf8').slice(0, 500));
    const seen: string[] = [];
    const stop = onWarning((m) => seen.push(m));
    let again;
    try {
      again = await runOptimizerMismatch('test-cache', { outDir: out, cacheDir });
    } finally {
      stop();
    }
    const stats = (rows: typeof first.rows) => rows.map(({ seconds: _s, ...r }) => r);
    assert.deepEqual(stats(again.rows), stats(first.rows), 'the same statistics as before the damage (wall times aside)');
    assert.ok(seen.some((m) => m.includes(tracin)), seen.join(' | '));
    assert.ok(seen.some((m) => m.includes(adamw)), seen.join(' | '));
    // A damaged cell result under cachedOnly: an error naming the file and what to do.
    const cell = path.join(out, 'test-cache', again.cells[0].dir, 'result.json');
    fs.writeFileSync(cell, fs.readFileSync(cell, 'utf8').replace('"meanSpearman":', '"meanSpearman": 0.99, "x":'));
    await assert.rejects(runOptimizerMismatch('test-cache', { outDir: out, cacheDir, cachedOnly: true }), (e: Error) => e instanceof CorruptFileError && e.message.includes(cell) && /without --cached-only/.test(e.message));
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
    delete MISMATCH_PRESETS['test-cache'];
  }
});

test('stable ids: two specs sharing an id are refused before anything is trained', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-mismatch-ids-'));
  try {
    const cell = { setting: 'mlp', preset: 'quick', lr: 1e-3, seed: 0, nScored: 4, nQueries: 2, estimators: [VARIANTS.tracin, { ...VARIANTS.tracin, label: 'TracIn again' }] };
    await assert.rejects(runFidelityCell(cell, { outDir: out, cacheDir: path.join(out, 'cache') }), (e: Error) => e instanceof UsageError && /share the id 'tracin'/.test(e.message));
    assert.ok(!fs.existsSync(path.join(out, 'cache')), 'nothing trained');
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
