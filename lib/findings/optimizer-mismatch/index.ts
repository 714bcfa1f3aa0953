/**
 * Finding 1 — optimizer mismatch: SGD-derived estimators against AdamW-influence on AdamW runs (notebook 01).
 *
 * @module
 */
import type { Finding } from '../types.ts';
import { settingRowsGrid } from '../grid.ts';
import { MISMATCH_PRESETS, runOptimizerMismatch, type MismatchSummary } from './experiment.ts';
import { optimizerMismatchFigure, optimizerMismatchGainFigure } from './figures.ts';
import { optimizerMismatchHeadline } from './headline.ts';
import { mismatchControls, mismatchTable } from './blocks.ts';

export const optimizerMismatch: Finding<MismatchSummary> = {
  id: 'optimizer-mismatch',
  title: 'Optimizer mismatch: SGD-derived estimators vs AdamW-influence',
  notebook: '01_optimizer_mismatch',
  presets: () => Object.keys(MISMATCH_PRESETS),
  flags: { lists: ['settings', 'lrs', 'seeds'], cachedOnly: true },
  grid: (preset, settings) => settingRowsGrid(MISMATCH_PRESETS[preset], settings),
  run: (preset, o) => runOptimizerMismatch(preset, o),
  report: (s) => [
    ...s.rows.filter((x) => x.metric === 'spearman').map((r) => `${r.setting}/${r.preset} ${r.optimizer} lr ${r.lr}  ${r.estimator.padEnd(31)} spearman ${r.mean.toFixed(4)}${r.seeds.length > 1 ? ` ± ${r.std.toFixed(4)}` : ''} (seeds ${r.seeds.join(',')}; 95% CI ${r.lo.toFixed(4)}–${r.hi.toFixed(4)})`),
    ...s.gains.map((g) => `gain ${g.a} over ${g.b} (${g.metric}, ${g.setting} ${g.optimizer} lr ${g.lr}): ${(100 * g.gain).toFixed(1)}% [${(100 * g.lo).toFixed(1)}, ${(100 * g.hi).toFixed(1)}], difference ${g.diff.toFixed(3)} [${g.diffLo.toFixed(3)}, ${g.diffHi.toFixed(3)}]`),
  ],
  figures: [
    { name: '01_optimizer_mismatch_spearman', build: (s, o) => optimizerMismatchFigure(s, { ...o, metric: 'spearman' }) },
    { name: '01_optimizer_mismatch_pearson', build: (s, o) => optimizerMismatchFigure(s, { ...o, metric: 'pearson' }) },
    { name: '01_optimizer_mismatch_gain', build: (s, o) => optimizerMismatchGainFigure(s, o) },
  ],
  headline: (s) => optimizerMismatchHeadline(s as never),
  blocks: { table: mismatchTable, controls: mismatchControls },
};
