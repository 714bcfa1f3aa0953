/**
 * Figure builders on hand-made result files: the optimizer-mismatch bars carry exactly the summary's
 * numbers; every finding's builder produces the figure names the registry promises; a missing results
 * file says which command writes it; a summary of the wrong shape says what was expected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TidySummary } from '../../lib/plot/tidy.ts';
import { accVsSgdFigure } from '../../lib/findings/acc-epochs/figures.ts';
import { cleansingFigure } from '../../lib/findings/cleansing/figures.ts';
import { customEstimatorFdFigure, customEstimatorSpearmanFigure } from '../../lib/findings/custom-estimator/figures.ts';
import { errorDecompositionFigure } from '../../lib/findings/error-decomposition/figures.ts';
import { finalModelFigure, finalModelFigures } from '../../lib/findings/final-model/figures.ts';
import { optimizerMismatchFigure, optimizerMismatchGainFigure } from '../../lib/findings/optimizer-mismatch/figures.ts';
import { quickstartScatterFigure } from '../../lib/findings/quickstart/figures.ts';
import { selectionBestKFigure, selectionValLossFigure } from '../../lib/findings/selection/figures.ts';
import { taylorErrorHeatmap, taylorProxyScatter } from '../../lib/findings/taylor-error/figures.ts';
import { findings, findingsOfNotebook, notebooks, selectFindings } from '../../lib/findings/registry.ts';
import type { AnyFinding } from '../../lib/findings/types.ts';
import { readResults, ResultsNotFoundError } from '../../lib/plot/results.ts';
import { renderSvg } from '../../lib/plot/render-svg.ts';
import type { BarFigure, HeatmapFigure, LineFigure, ScatterFigure } from '../../lib/plot/spec.ts';
import { parseXml, byClass } from './xml.ts';
import { VARIANTS } from '../../lib/pipeline/variants.ts';

/** Display label → stable id of the variants used below (pipeline/variants.ts). */
const idOf = (label: string) => Object.values(VARIANTS).find((v) => v.label === label)!.id;

const row = (setting: string, lr: number, estimator: string, metric: string, mean: number | null, lo: number | null, hi: number | null) => ({
  setting, preset: 'quick', lr, estimator, estimatorId: idOf(estimator), metric, seeds: [0, 1], perSeed: [mean, mean], mean, std: null, lo, hi, n: 40, skipped: 0, seconds: 1,
});

/** The shape runOptimizerMismatch writes (std is null: JSON's NaN). */
const mismatch: TidySummary = {
  preset: 'quick',
  rows: [
    row('mlp', 1e-3, 'TracIn', 'spearman', 0.34, 0.29, 0.38),
    row('mlp', 1e-3, 'TracIn', 'pearson', 0.32, 0.27, 0.37),
    row('mlp', 1e-3, 'AdamW-influence (exact)', 'spearman', 0.4, 0.35, 0.44),
    row('mlp', 1e-4, 'TracIn', 'spearman', 0.5, 0.45, 0.55),
    row('mlp', 1e-4, 'AdamW-influence (exact)', 'spearman', null, null, null),
    row('cnn', 1e-3, 'TracIn', 'spearman', -0.1, -0.2, 0.05),
    row('cnn', 1e-3, 'AdamW-influence (exact)', 'spearman', 0.2, 0.1, 0.3),
  ],
  gains: [
    { setting: 'mlp', preset: 'quick', lr: 1e-3, optimizer: 'adamw', metric: 'spearman', a: 'AdamW-influence (exact)', b: 'SGD-influence', aId: idOf('AdamW-influence (exact)'), bId: idOf('SGD-influence'), gain: 1.2, lo: 0.8, hi: 1.9, diff: 0.12, diffLo: 0.08, diffHi: 0.19, n: 80 },
    { setting: 'mlp', preset: 'quick', lr: 1e-4, optimizer: 'adamw', metric: 'spearman', a: 'AdamW-influence (exact)', b: 'SGD-influence', aId: idOf('AdamW-influence (exact)'), bId: idOf('SGD-influence'), gain: 0.2, lo: 0.1, hi: 0.3, diff: 0.02, diffLo: 0.01, diffHi: 0.03, n: 80 },
    { setting: 'mlp', preset: 'quick', lr: 1e-4, optimizer: 'adamw', metric: 'pearson', a: 'AdamW-influence (exact)', b: 'SGD-influence', aId: idOf('AdamW-influence (exact)'), bId: idOf('SGD-influence'), gain: -0.2, lo: -0.3, hi: 0.1, diff: -0.02, diffLo: -0.03, diffHi: 0.01, n: 80 },
    { setting: 'mlp', preset: 'quick', lr: 0.1, optimizer: 'sgd', metric: 'spearman', a: 'SGD-influence', b: 'TracIn', aId: idOf('SGD-influence'), bId: idOf('TracIn'), gain: 2, lo: 1, hi: 3, diff: 0.2, diffLo: 0.1, diffHi: 0.3, n: 80 },
    { setting: 'cnn', preset: 'quick', lr: 1e-3, optimizer: 'adamw', metric: 'spearman', a: 'AdamW-influence (exact)', b: 'SGD-influence', aId: idOf('AdamW-influence (exact)'), bId: idOf('SGD-influence'), gain: 5, lo: 3, hi: 9, diff: 0.5, diffLo: 0.3, diffHi: 0.9, n: 16 },
  ],
};

test('optimizer mismatch gain: the paired Δρ of AdamW runs, one line per setting over LR, CI bands, a zero line', () => {
  const f = optimizerMismatchGainFigure(mismatch);
  assert.equal(f.name, '01_optimizer_mismatch_gain');
  const spec = f.spec as LineFigure;
  assert.ok(spec.xLog);
  assert.equal(spec.refLine, 0);
  assert.deepEqual(spec.series.map((s) => s.name), ['cnn', 'mlp']);
  const mlp = spec.series[1];
  assert.deepEqual(mlp.x, [1e-4, 1e-3]);
  assert.deepEqual(mlp.y, [0.02, 0.12], 'Δρ (diff), not the relative gain');
  assert.deepEqual(mlp.lo, [0.01, 0.08]);
  assert.equal(f.data.rows.length, 3, 'the SGD control and the Pearson row are left out');
  assert.equal((optimizerMismatchGainFigure(mismatch, { metric: 'pearson' }).spec as LineFigure).series[0].y[0]! < 0, true);
  assert.match(renderSvg(spec), /class="ref"/, 'the zero line is drawn');
  assert.throws(() => optimizerMismatchGainFigure({ rows: [] }), /no 'gains' array/);
});

test('optimizer mismatch: one group per setting × LR, one bar per estimator, the summary numbers unchanged', () => {
  const fig = optimizerMismatchFigure(mismatch, { source: 'results/optimizer-mismatch/quick/summary.json' });
  assert.equal(fig.name, '01_optimizer_mismatch_spearman');
  const spec = fig.spec as BarFigure;
  assert.deepEqual(spec.categories, ['mlp\nlr 1e-3', 'mlp\nlr 1e-4', 'cnn\nlr 1e-3']);
  assert.deepEqual(spec.series.map((s) => s.name), ['TracIn', 'AdamW-influence (exact)']);
  assert.deepEqual(spec.series[1].values, [0.4, null, 0.2]);
  assert.deepEqual(spec.series[0].lo, [0.29, 0.45, -0.2]);
  assert.equal(spec.refLine, 0, 'a zero line when something is negative');
  assert.match(spec.subtitle!, /seeds 0, 1/);
  assert.equal(fig.data.rows.length, 6, 'data.json keeps the rows plotted');
  const root = parseXml(renderSvg(spec));
  assert.equal(byClass(root, 'bar').length, 5);
  assert.equal(byClass(root, 'na').length, 1);
  assert.equal(optimizerMismatchFigure(mismatch, { metric: 'pearson' }).name, '01_optimizer_mismatch_pearson');
  assert.throws(() => optimizerMismatchFigure(mismatch, { metric: 'kendall' }), /no rows with metric 'kendall' \(have: spearman, pearson\)/);
  assert.throws(() => optimizerMismatchFigure({ rows: [{ setting: 'mlp', lr: 1, metric: 'spearman' }] }), /lacks column 'estimator'.*expected rows of/);
  assert.throws(() => optimizerMismatchFigure({} as TidySummary), /no 'rows' array/);
});

/** Hand-made summaries in the shapes lib/experiments write. */
const taylor: TidySummary = {
  preset: 'quick',
  rows: [1e-2, 1e-3].flatMap((lr) => [10, 25].map((T) => ({ setting: 'mlp', preset: 'quick', lr, T, seed: 0, relErr: lr * T, relErrLo: lr * T * 0.9, relErrHi: lr * T * 1.1, queryProxy: lr * T * 1.2, proxy: lr * T * 2 }))),
  ...{ correlations: [{ setting: 'mlp', proxy: 'queryProxy', error: 'relErr', primary: true, cells: 4, spearman: 1, lo: 1, hi: 1, dropped: 0 }] },
} as TidySummary;
const decomposition: TidySummary = {
  preset: 'quick',
  rows: [1, 4].flatMap((k) =>
    ['system: float32 noise (TSLOO)', 'system: checkpoint stride', 'config: optimizer mismatch', 'algorithm: Taylor residual', 'total'].map((component, i) => ({
      setting: 'mlp', preset: 'quick', lr: 1e-3, seed: 0, T: 50, k, component, share: component === 'total' ? 1 : [0.01, k === 1 ? 0 : 0.1, 0.6, k === 1 ? 0.39 : 0.29][i], lo: 0, hi: 1, meanSquare: 1, measured: true,
    })),
  ),
};
const selection = {
  preset: 'quick',
  rows: [3e-3, 1e-3].flatMap((lr) =>
    [0, 4, 16, 'offline'].map((K, i) => ({ setting: 'mlp', preset: 'quick', lr, budget: 0.5, method: K === 'offline' ? 'offline' : 'online', K, valLoss: 1 + i / 10 + lr, testLoss: 1.1 + i / 10, testLossLo: 1, testLossHi: 1.2 })),
  ),
  bestK: [{ setting: 'mlp', preset: 'quick', lr: 3e-3, budget: 0.5, family: 'online', bestK: 0 }, { setting: 'mlp', preset: 'quick', lr: 1e-3, budget: 0.5, family: 'online', bestK: 4 }],
} as TidySummary;
const finalModel: TidySummary = {
  preset: 'quick',
  rows: ['sgd', 'adamw'].flatMap((variant) =>
    ['adult', 'mnist'].flatMap((dataset) =>
      ['Grad-Dot', 'IF (CG)'].flatMap((method) => [1, 2, 5].flatMap((epoch) => ['cosine', 'spearman'].map((metric) => ({ dataset, variant, epoch, method, metric, mean: 0.9 / epoch, sem: 0.01, lo: 0.8 / epoch, hi: 1 / epoch, nQueries: 10, skipped: 0, seeds: 2 })))),
    ),
  ),
};
const acc: TidySummary = {
  preset: 'quick',
  rows: ['ACC-SGD-IE', 'SGD-IE'].flatMap((estimator) => [1, 2, 4].flatMap((epochs) => ['kendall-tau', 'spearman'].map((metric) => ({ dataset: 'adult', n: 60, batchSize: 20, epochs, estimator, metric, mean: 0.5, std: null, sem: null, seeds: [0], values: [0.5] })))),
};

/** The shape runQuickstart writes (lib/experiments/quickstart.ts), two estimators, two queries, three samples. */
const quickstart = {
  preset: 'quick',
  rows: ['AdamW-influence (exact)', 'TracIn'].flatMap((estimator, i) =>
    ['spearman', 'pearson'].map((metric) => ({ setting: 'mlp', preset: 'quick', lr: 1e-3, seed: 0, estimator, metric, mean: 0.4 - i / 10, lo: 0.3 - i / 10, hi: 0.5 - i / 10, n: 40, skipped: 0, seconds: 1, cached: false })),
  ),
  points: ['AdamW-influence (exact)', 'TracIn'].flatMap((estimator, i) => [0, 1].flatMap((query) => [7, 8, 9].map((trainId) => ({ estimator, query, trainId, tsloo: trainId / 1000, estimate: (trainId / 1000) * (1 - i / 2) })))),
} as TidySummary;
/** The shape runCleansing writes: `none` at k = 0, the methods at k > 0, two label-noise levels. */
const cleansing: TidySummary = {
  preset: 'quick',
  rows: [0, 0.2].flatMap((labelNoise) => [
    { dataset: 'adult', labelNoise, method: 'none', fraction: 0, k: 0, testLossDeltaMean: 0, testLossDeltaStd: 0, seeds: 2 },
    ...['random', 'SGD-IE', 'ACC-SGD-IE', 'TSLOO (oracle)'].flatMap((method, i) =>
      [0.1, 0.2].map((fraction) => ({ dataset: 'adult', labelNoise, method, fraction, k: fraction * 60, testLossDeltaMean: -i * fraction, testLossDeltaStd: 0.02, seeds: 2 })),
    ),
  ]),
};
/** The shape runCustomEstimator writes: yours and two built-ins, three metrics each. */
const custom: TidySummary = {
  preset: 'quick',
  rows: [['TracIn', 'built-in'], ['tracin-adam (yours)', 'yours'], ['AdamW-influence (exact)', 'built-in']].flatMap(([estimator, kind], i) =>
    (['spearman', 'pearson', 'fdRelErr'] as const).map((metric) => ({ setting: 'mlp', preset: 'quick', lr: 1e-3, seed: 0, estimator, kind, name: estimator, metric, mean: metric === 'fdRelErr' ? 1 - i / 3 : 0.3 + i / 10, lo: 0.2, hi: 1.1, n: 40, skipped: 0, seconds: 1, cached: false })),
  ),
  ...{ fd: { ids: [3, 5], eps: 1e-3, perSample: [] } },
} as TidySummary;

test('every finding builder yields the figure names its registry entry promises', () => {
  const built: Record<string, string[]> = {
    '00_quickstart': [quickstartScatterFigure(quickstart)].map((f) => f.name),
    '01_optimizer_mismatch': [optimizerMismatchFigure(mismatch, { metric: 'spearman' }), optimizerMismatchFigure(mismatch, { metric: 'pearson' }), optimizerMismatchGainFigure(mismatch)].map((f) => f.name),
    '02_taylor_error': [taylorErrorHeatmap(taylor), taylorProxyScatter(taylor)].map((f) => f.name),
    '03_error_decomposition': [errorDecompositionFigure(decomposition)].map((f) => f.name),
    '04_lookahead_selection': [selectionValLossFigure(selection), selectionBestKFigure(selection)].map((f) => f.name),
    '05_final_model_only': finalModelFigures(finalModel).map((f) => f.name),
    '06_accumulative_sgd': [accVsSgdFigure(acc), cleansingFigure(cleansing)].map((f) => f.name),
    '07_add_your_estimator': [customEstimatorSpearmanFigure(custom), customEstimatorFdFigure(custom)].map((f) => f.name),
  };
  const names = (fs: AnyFinding[]) => fs.flatMap((f) => f.figures.map((x) => x.name));
  assert.deepEqual(notebooks().map((n) => n.notebook), Object.keys(built));
  for (const n of notebooks()) {
    assert.deepEqual(names(n.findings), built[n.notebook], n.notebook);
    assert.match(n.notebook, /^\d\d_[a-z0-9_]+$/, 'notebook stems are NN_snake_case');
    for (const fig of names(n.findings)) assert.ok(fig === n.notebook || fig.startsWith(`${n.notebook}_`), `${fig}: figure stems start with their notebook's stem`);
  }
  assert.deepEqual(selectFindings(['01', 'acc-epochs']).map((f) => f.id), ['optimizer-mismatch', 'acc-epochs']);
  assert.deepEqual(selectFindings(['cleansing', '07']).map((f) => f.id), ['cleansing', 'custom-estimator']);
  assert.deepEqual(findingsOfNotebook('06').map((f) => f.id), ['acc-epochs', 'cleansing']);
  assert.deepEqual(findingsOfNotebook('05_final_model_only').map((f) => f.id), ['final-model']);
  assert.throws(() => findingsOfNotebook('05-final-model-and-acc'), /no finding for notebook '05-final-model-and-acc'; known: 00_quickstart, /);
  assert.deepEqual(findings().map((f) => f.id), ['quickstart', 'optimizer-mismatch', 'taylor-error', 'error-decomposition', 'selection', 'final-model', 'acc-epochs', 'cleansing', 'custom-estimator']);
});

test('quickstart scatter: one series per estimator with its Spearman in the legend, the y = x line, every point', () => {
  const fig = quickstartScatterFigure(quickstart, { source: 'results/quickstart/quick/summary.json' });
  const s = fig.spec as ScatterFigure;
  assert.equal(s.refLine, 'identity');
  assert.deepEqual(s.series.map((x) => x.name), ['AdamW-influence (exact) · ρ 0.40', 'TracIn · ρ 0.30']);
  assert.deepEqual(s.series[1].y, [0.0035, 0.004, 0.0045, 0.0035, 0.004, 0.0045]);
  assert.equal(s.series[0].labels?.[0], 'query 0 · trainId 7');
  assert.match(s.subtitle!, /first 2 queries .* over 40 queries/);
  assert.match(s.description!, /TracIn: ρ 0\.3 \[0\.2, 0\.4\]/);
  assert.equal(fig.data.rows.length, 12, 'data.json keeps the points plotted');
  assert.throws(() => quickstartScatterFigure({ rows: quickstart.rows }), /no 'points' array/);
});

test('cleansing: Δ test loss vs % removed per method at the largest label noise, each line starting at (0, 0)', () => {
  const l = cleansingFigure(cleansing).spec as LineFigure;
  assert.deepEqual(l.series.map((s) => s.name), ['random', 'SGD-IE', 'ACC-SGD-IE', 'TSLOO (oracle)']);
  assert.deepEqual(l.series[1].x, [0, 10, 20]);
  assert.deepEqual(l.series[1].y, [0, -0.1, -0.2]);
  assert.match(l.subtitle!, /label noise 20% .* ± 1 s\.e\.m\./);
  assert.ok(Math.abs((l.series[1].hi![1] as number) - (-0.1 + 0.02 / Math.SQRT2)) < 1e-12, 'band: std / √seeds');
  assert.deepEqual(l.series[1].lo![0], 0);
  assert.match((cleansingFigure(cleansing, { labelNoise: 0 }).spec as LineFigure).subtitle!, /label noise 0%/);
  assert.throws(() => cleansingFigure(cleansing, { labelNoise: 0.5 }), /no rows with labelNoise 0\.5 \(have: 0, 0\.2\)/);
});

test('custom estimator: Spearman and FD-error bars, yours first, CIs from the summary', () => {
  const a = customEstimatorSpearmanFigure(custom).spec as BarFigure;
  assert.deepEqual(a.categories, ['tracin-adam (yours)', 'TracIn', 'AdamW-influence (exact)']);
  assert.deepEqual(a.series[0].values, [0.4, 0.3, 0.5]);
  const b = customEstimatorFdFigure(custom).spec as BarFigure;
  assert.deepEqual(b.series[0].values, [1 - 1 / 3, 1, 1 - 2 / 3]);
  assert.equal(b.refLine, 1);
  assert.match(b.subtitle!, /mean over 2 samples \(ε = 0\.001\)/);
  assert.throws(() => customEstimatorFdFigure({ rows: [] }), /no rows with metric 'fdRelErr'|no rows to plot|lacks column/);
});

test('taylor error: heat map over LR × T (log colours), proxy scatter with the experiment correlation', () => {
  const h = taylorErrorHeatmap(taylor).spec as HeatmapFigure;
  assert.deepEqual(h.x, ['1e-3', '1e-2']);
  assert.deepEqual(h.y, ['10', '25']);
  assert.deepEqual(h.z, [[0.01, 0.1], [0.025, 0.25]]);
  assert.equal(h.zLog, true);
  const s = taylorProxyScatter(taylor).spec as ScatterFigure;
  assert.equal(s.series[0].x.length, 4);
  assert.match(s.subtitle!, /Spearman 1 \[1, 1\] over 4 cells/);
  assert.throws(() => taylorErrorHeatmap({ rows: [{ lr: 1, T: 2 }] }), /lacks column 'relErr'/);
});

test('error decomposition: stacked shares per LR × stride, the total row left out', () => {
  const b = errorDecompositionFigure(decomposition).spec as BarFigure;
  assert.equal(b.stacked, true);
  assert.deepEqual(b.categories, ['mlp\nstride 1', 'mlp\nstride 4']);
  assert.equal(b.series.length, 4);
  for (let c = 0; c < 2; c++) assert.ok(Math.abs(b.series.reduce((s, x) => s + (x.values[c] as number), 0) - 1) < 1e-12, 'shares sum to 1');
  assert.ok(b.series.every((x) => x.lo === undefined && x.hi === undefined), 'no whiskers on stacked shares');
  assert.deepEqual(b.yDomain, [0, 1], 'the share axis ends at 1');
});

test('selection: loss vs numeric K per LR; best K per LR from the summary', () => {
  const l = selectionValLossFigure(selection).spec as LineFigure;
  assert.deepEqual(l.series.filter((s) => !s.dash).map((s) => s.name), ['lr 1e-3', 'lr 3e-3']);
  assert.deepEqual(l.series[0].x, [0, 4, 16]);
  // the offline selection as a dashed flat baseline over the K range, in its line's colour
  const off = l.series.filter((s) => s.dash);
  assert.deepEqual(off.map((s) => [s.name, s.x, s.y]), [['lr 3e-3 · offline', [0, 16], [1.3 + 3e-3, 1.3 + 3e-3]], ['lr 1e-3 · offline', [0, 16], [1.3 + 1e-3, 1.3 + 1e-3]]]);
  assert.equal(off[0].color, off[1].color, 'one colour per baseline method');
  assert.ok(off[0].color! >= 2, 'after the lines’ colours');
  assert.match(l.subtitle!, /dashed: offline/);
  const b = selectionBestKFigure(selection).spec as LineFigure;
  assert.deepEqual(b.yDomain, [0, 4], 'K ≥ 0: the axis starts at 0');
  assert.deepEqual(b.series[0].x, [1e-3, 3e-3]);
  assert.deepEqual(b.series[0].y, [4, 0]);
  const derived = selectionBestKFigure({ rows: selection.rows }).spec as LineFigure;
  assert.deepEqual(derived.series[0].y, [0, 0], 'argmin of valLoss when bestK is absent');
  assert.throws(() => selectionValLossFigure(selection, { method: 'magic' }), /no rows with method 'magic'/);
});

test('epochs figures: spearman rows, CI bands (or ± s.e.m. when present), one line per method', () => {
  const f = finalModelFigure(finalModel, { where: { dataset: 'adult', variant: 'sgd' } }).spec as LineFigure;
  assert.deepEqual(f.series.map((s) => s.name), ['Grad-Dot', 'IF (CG)']);
  assert.deepEqual(f.series[0].x, [1, 2, 5]);
  assert.ok(f.series[0].lo && f.series[0].hi);
  // split by variant; within one, colour = method and the second dataset dashed
  const [sgd, adamw] = finalModelFigures(finalModel).map((b) => b.spec as LineFigure);
  assert.match(sgd.title, /with SGD$/);
  assert.match(adamw.title, /with AdamW$/);
  assert.deepEqual(sgd.series.map((s) => [s.name, s.color, s.dash ?? false]), [
    ['adult · Grad-Dot', 0, false],
    ['adult · IF (CG)', 1, false],
    ['mnist · Grad-Dot', 0, true],
    ['mnist · IF (CG)', 1, true],
  ]);
  assert.throws(() => finalModelFigures({ rows: (finalModel.rows as Record<string, unknown>[]).filter((r) => r.variant === 'sgd') }), /no rows with variant 'adamw' \(the file has: sgd\)/);
  // more than four lines: no bands (they would overlap into one smear); the subtitle says where the CIs are
  const many = { rows: ['A', 'B', 'C', 'D', 'E'].flatMap((method) => [1, 2].map((epoch) => ({ dataset: 'adult', variant: 'sgd', epoch, method, metric: 'spearman', mean: 0.5, lo: 0.4, hi: 0.6 }))) };
  const m = finalModelFigure(many).spec as LineFigure;
  assert.equal(m.series.length, 5);
  assert.ok(m.series.every((x) => x.lo === undefined), 'no bands for five lines');
  assert.match(m.subtitle!, /CIs in the data file/);
  const a = accVsSgdFigure(acc).spec as LineFigure;
  assert.deepEqual(a.series.map((s) => s.name), ['ACC-SGD-IE', 'SGD-IE']);
  assert.equal(a.series[0].lo, undefined, 'no band: no lo/hi and sem is null (one seed)');
  const withSem = { rows: acc.rows.map((r) => ({ ...r, sem: 0.1 })) };
  const band = accVsSgdFigure(withSem).spec as LineFigure;
  assert.deepEqual(band.series[0].lo, [0.4, 0.4, 0.4]);
  assert.match(band.subtitle!, /± 1 s\.e\.m\./);
  assert.match(a.yLabel!, /^Kendall τ with TSLOO$/, 'the metric of the headline table');
  assert.match(a.subtitle!, /· adult ·|· adult$/, 'the dataset is named');
  assert.deepEqual(a.yDomain, [0.4, 0.6], 'a flat correlation gets a 0.2-wide axis, not a magnified one');
});

test('a missing results file names the command that writes it', () => {
  assert.throws(
    () => readResults('taylor-error', 'no-such-preset'),
    (e: unknown) => e instanceof ResultsNotFoundError && /^results file not found: results\/taylor-error\/no-such-preset\/summary\.json; run `npx tsx lib\/cli\.ts experiment taylor-error --preset no-such-preset`$/.test((e as Error).message),
  );
});

test('displayTable: nothing outside the kernel; inside, one arquero HTML table with the text table as fallback', async () => {
  const { displayTable } = await import('../../lib/plot/index.ts');
  const rows = [{ estimator: 'TracIn', mean: 0.123456, lo: null, seeds: [0, 1] }];
  await displayTable(rows, ['estimator', 'mean', 'lo', 'seeds']); // Node: no Deno.jupyter, no output, no throw
  const calls: [Record<string, unknown>, unknown][] = [];
  const g = globalThis as { Deno?: unknown };
  g.Deno = { jupyter: { display: async (b: Record<string, unknown>, o: unknown) => void calls.push([b, o]) } };
  try {
    await displayTable(rows, ['estimator', ['ρ', 'mean'], 'lo', 'seeds']);
  } finally {
    delete g.Deno;
  }
  assert.equal(calls.length, 1);
  const [bundle, opts] = calls[0];
  assert.deepEqual(opts, { raw: true });
  const html = bundle['text/html'] as string;
  assert.match(html, /^<table>/);
  assert.match(html, /<th[^>]*>ρ<\/th>/);
  assert.match(html, /<td[^>]*>0\.123<\/td>/, 'numbers to 3 significant digits');
  assert.match(html, /<td[^>]*>n\/a<\/td>/, 'missing values');
  assert.match(html, /<td[^>]*>0, 1<\/td>/, 'arrays joined');
  assert.match(bundle['text/plain'] as string, /^estimator +ρ +lo +seeds\n/);
});
