/**
 * Finding 3 — the error decomposition of SGD-influence on AdamW runs: system, config and algorithm shares
 * (notebook 03).
 *
 * @module
 */
import type { Finding } from '../types.ts';
import { settingRowsGrid } from '../grid.ts';
import { DECOMPOSITION_PRESETS, runErrorDecomposition, type DecompositionSummary } from './experiment.ts';
import { errorDecompositionFigure } from './figures.ts';
import { errorDecompositionHeadline } from './headline.ts';

export const errorDecomposition: Finding<DecompositionSummary> = {
  id: 'error-decomposition',
  title: 'Error decomposition: config, algorithm, system',
  notebook: '03_error_decomposition',
  presets: () => Object.keys(DECOMPOSITION_PRESETS),
  flags: { lists: ['settings', 'lrs', 'seeds'], cachedOnly: true },
  grid: (preset, settings) => settingRowsGrid(DECOMPOSITION_PRESETS[preset], settings),
  run: (preset, o) => runErrorDecomposition(preset, o),
  report: (s) => s.rows.map((r) => `${r.setting}/${r.preset} lr ${r.lr} k ${r.k}  ${r.component.padEnd(34)} share ${r.share.toFixed(3)} [${r.lo.toFixed(3)}, ${r.hi.toFixed(3)}]`),
  figures: [{ name: '03_error_decomposition', build: (s, o) => errorDecompositionFigure(s, o) }],
  headline: (s) => errorDecompositionHeadline(s as never),
};
