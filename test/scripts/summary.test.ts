/**
 * scripts/summary.ts: each extractor pulls the headline numbers out of a hand-made summary of the shape
 * its experiment writes (values unchanged, the right rows chosen), a summary of the wrong shape gives a
 * row that says so instead of a crash, and the tables format values, percentages and intervals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fmtLr, formatValue, headlines, markdownTable, parseSummaryFlags, textTable, type Headline } from '../../scripts/summary.ts';
import { findings, getFinding } from '../../lib/findings/registry.ts';
import { VARIANTS } from '../../lib/pipeline/variants.ts';

const EXPERIMENTS = findings().map((f) => f.id);
const EXTRACTORS = Object.fromEntries(findings().map((f) => [f.id, (s: unknown, _e: string) => f.headline(s)]));

const idOf = (label: string) => Object.values(VARIANTS).find((v) => v.label === label)!.id;
const row = (estimator: string, metric: string, mean: number, lo: number, hi: number) => ({ setting: 'mlp', preset: 'quick', lr: 1e-3, estimator, estimatorId: idOf(estimator), metric, mean, lo, hi });

test('optimizer-mismatch: both Spearmans and the relative gain per setting × LR, Pearson ignored', () => {
  const s = {
    rows: [row('AdamW-influence (exact)', 'spearman', 0.4, 0.35, 0.45), row('SGD-influence', 'spearman', 0.2, 0.15, 0.25), row('SGD-influence', 'pearson', 0.9, 0.8, 1)],
    gains: [
      { setting: 'mlp', lr: 1e-3, metric: 'spearman', a: 'AdamW-influence (exact)', b: 'SGD-influence', aId: idOf('AdamW-influence (exact)'), bId: idOf('SGD-influence'), gain: 1, lo: 0.5, hi: 1.5 },
      { setting: 'mlp', lr: 1e-3, metric: 'pearson', a: 'AdamW-influence (exact)', b: 'SGD-influence', aId: idOf('AdamW-influence (exact)'), bId: idOf('SGD-influence'), gain: 9, lo: 9, hi: 9 },
    ],
  };
  const h = EXTRACTORS['optimizer-mismatch'](s, 'optimizer-mismatch');
  assert.deepEqual(h.map((x) => [x.cell, x.value]), [['mlp lr 1e-3', 0.4], ['mlp lr 1e-3', 0.2], ['mlp lr 1e-3', 1]]);
  assert.equal(h[2].format, '+%');
  assert.deepEqual(formatValue(h[2]), { value: '+100.0%', ci: '[+50.0%, +150.0%]' });
  assert.deepEqual(formatValue(h[0]), { value: '0.400', ci: '[0.350, 0.450]' });
});

test('taylor-error, error-decomposition, selection: primary correlation, shares at the smallest k plus the stride share, best K', () => {
  const t = EXTRACTORS['taylor-error']({ correlations: [{ setting: 'mlp-quick', proxy: 'queryProxy', error: 'relErr', primary: true, cells: 6, spearman: 0.9, lo: 0.7, hi: 1 }, { primary: false, spearman: 0 }] }, 'taylor-error');
  assert.equal(t.length, 1);
  assert.match(t[0].quantity, /queryProxy, relErr\) over 6 cells/);

  const comp = (k: number, component: string, share: number) => ({ setting: 'mlp', lr: 1e-3, seed: 0, T: 50, k, component, share, lo: share - 0.01, hi: share + 0.01 });
  const d = EXTRACTORS['error-decomposition'](
    { rows: [comp(1, 'system: float32 noise (TSLOO)', 0), comp(1, 'system: checkpoint stride', 0), comp(1, 'config: optimizer mismatch', 0.3), comp(1, 'algorithm: Taylor residual', 0.7), comp(1, 'total', 1), comp(16, 'system: checkpoint stride', 0.05), comp(16, 'config: optimizer mismatch', 0.25)] },
    'error-decomposition',
  );
  assert.deepEqual(d.map((x) => [x.quantity.replace('share of squared error, ', ''), x.value]), [
    ['system: float32 noise (TSLOO) (k=1)', 0],
    ['config: optimizer mismatch (k=1)', 0.3],
    ['algorithm: Taylor residual (k=1)', 0.7],
    ['system: checkpoint stride (k=16)', 0.05],
  ]);
  assert.equal(formatValue(d[1]).value, '30.0%');

  const sel = EXTRACTORS.selection({ bestK: [{ setting: 'mlp', lr: 3e-3, budget: 0.5, family: 'online', bestK: 4, dVsOffline: -0.39, dVsOfflineLo: -0.49, dVsOfflineHi: -0.29 }] }, 'selection');
  assert.deepEqual(sel.map((x) => x.value), ['4', -0.39]);
  assert.equal(sel[0].cell, 'mlp lr 3e-3 budget 50% online');
});

test('final-model, acc-epochs, cleansing: the last epoch / largest fraction, the right methods', () => {
  const fm = (epoch: number, method: string, mean: number) => ({ dataset: 'adult', variant: 'adamw', epoch, method, kind: method === 'GT split-half' ? 'split-half' : /FT traj/.test(method) ? 'trajectory' : 'final-model', metric: 'spearman', mean, lo: mean - 0.1, hi: mean + 0.1 });
  const f = EXTRACTORS['final-model']({ rows: [fm(1, 'IF (CG)', 0.99), fm(20, 'Grad-Dot', 0.1), fm(20, 'IF (CG)', 0.7), fm(20, 'AdamW-influence (FT traj.)', 0.8), fm(20, 'GT split-half', 0.75), { ...fm(20, 'IF (CG)', 0.5), metric: 'cosine' }] }, 'final-model');
  assert.deepEqual(f.map((x) => [x.cell, x.quantity.replace('Spearman ρ vs further training, ', ''), x.value]), [
    ['adult adamw, epoch 20', 'best final-model-only: IF (CG)', 0.7],
    ['adult adamw, epoch 20', 'AdamW-influence (FT traj.)', 0.8],
    ['adult adamw, epoch 20', 'GT split-half', 0.75],
  ]);
  const acc = EXTRACTORS['acc-epochs']({ rows: [{ dataset: 'adult', epochs: 1, estimator: 'SGD-IE', metric: 'kendall-tau', mean: 1, sem: 0 }, { dataset: 'adult', epochs: 10, estimator: 'ACC-SGD-IE', metric: 'kendall-tau', mean: 0.8, sem: 0.05 }] }, 'acc-epochs');
  assert.equal(acc.length, 1);
  assert.deepEqual([acc[0].value, acc[0].lo, acc[0].hi], [0.8, 0.8 - 0.1, 0.8 + 0.1]);
  const cl = EXTRACTORS.cleansing({ rows: [{ dataset: 'adult', labelNoise: 0.2, method: 'none', fraction: 0, testLossDeltaMean: 0 }, { dataset: 'adult', labelNoise: 0.2, method: 'ACC-SGD-IE', fraction: 0.1, testLossDeltaMean: -0.05 }, { dataset: 'adult', labelNoise: 0.2, method: 'ACC-SGD-IE', fraction: 0.01, testLossDeltaMean: -0.01 }] }, 'cleansing');
  assert.deepEqual(cl.map((x) => [x.cell, x.value]), [['adult, label noise 20%, remove 10%', -0.05]]);
});

test('a summary of the wrong shape throws in its extractor (headlines turns that into a row); every registered finding has a headline', () => {
  assert.throws(() => EXTRACTORS['optimizer-mismatch']({ rows: [] }, 'optimizer-mismatch'), /no 'gains' array/);
  for (const e of EXPERIMENTS) assert.ok(EXTRACTORS[e], `no headline extractor for experiment '${e}'`);
  // A preset nobody ran: every experiment is pending, with the command that writes it.
  const { rows, pending } = headlines('no-such-preset-xyz');
  assert.deepEqual(rows, []);
  assert.equal(pending.length, EXPERIMENTS.length);
  assert.match(pending[0].command, /lib\/cli\.ts experiment .* --preset no-such-preset-xyz/);
});

test('tables: aligned text and Markdown, missing values as —, tiny numbers in exponent form', () => {
  const rows: Headline[] = [
    { experiment: 'x', cell: 'c|1', quantity: 'q', value: 0.5, lo: 0.25, hi: 0.75 },
    { experiment: 'x', cell: 'c2', quantity: 'q2', value: null },
    { experiment: 'x', cell: 'c3', quantity: 'q3', value: 2.5e-5 },
  ];
  const t = textTable(rows).split('\n');
  assert.equal(t.length, 5);
  assert.match(t[2], /0\.500\s+\[0\.250, 0\.750\]$/);
  assert.match(t[3], /—$/);
  assert.match(t[4], /2\.50e-5$/);
  const md = markdownTable(rows);
  assert.match(md, /\| x \| c\\\|1 \| q \| 0\.500 \| \[0\.250, 0\.750\] \|/, 'pipes in cells are escaped');
  assert.equal(fmtLr(0.001), '1e-3');
  assert.equal(fmtLr(3e-4), '3e-4');
  assert.equal(fmtLr(0.0025), '0.0025');
  assert.deepEqual(parseSummaryFlags(['--preset', 'full', '--out', 'none']).out, null);
  assert.throws(() => parseSummaryFlags(['--bogus']), /unknown flag '--bogus'/);
});
