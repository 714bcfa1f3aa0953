/**
 * Finding 4 — K-step look-ahead data selection, offline and online (notebook 04).
 *
 * @module
 */
import type { Finding } from '../types.ts';
import { rowsUnion } from '../grid.ts';
import { runSelection, SELECTION_PRESETS, type SelectionSummary } from './experiment.ts';
import { selectionBestKFigure, selectionValLossFigure } from './figures.ts';
import { selectionHeadline } from './headline.ts';

export const selection: Finding<SelectionSummary> = {
  id: 'selection',
  title: 'K-step look-ahead data selection',
  notebook: '04_lookahead_selection',
  presets: () => Object.keys(SELECTION_PRESETS),
  flags: { lists: ['settings', 'lrs', 'seeds', 'budgets'] },
  grid: (preset, settings) => {
    const p = SELECTION_PRESETS[preset];
    return {
      settings: rowsUnion(p.grids, (g) => [g.setting]),
      lrs: rowsUnion(p.grids, (g) => g.lrs, settings),
      seeds: p.seeds,
      budgets: [...new Set([...p.budgets, ...rowsUnion(p.grids, (g) => g.budgets, settings)])],
    };
  },
  run: (preset, o) => runSelection(preset, o),
  report: (s) => [
    ...s.rows.map((r) => `${r.setting}/${r.preset} lr ${r.lr} budget ${r.budget} ${r.method.padEnd(14)} ${String(r.K).padEnd(7)} test loss ${r.testLoss.toFixed(4)} ± ${r.testLossStd.toFixed(4)} acc ${r.testAcc.toFixed(4)} (seeds ${r.seeds.join(',')})` +
      (r.baseline ? `  vs ${r.baseline}: Δloss ${r.dTestLoss.toFixed(4)} [${r.dTestLossLo.toFixed(4)}, ${r.dTestLossHi.toFixed(4)}]` : '')),
    ...s.bestK.map((b) => `best K (${b.family}) ${b.setting} lr ${b.lr} budget ${b.budget}: ${b.bestK} (test loss ${b.bestTestLoss.toFixed(4)}; offline ${b.offlineTestLoss.toFixed(4)}, Δ ${b.dVsOffline.toFixed(4)} [${b.dVsOfflineLo.toFixed(4)}, ${b.dVsOfflineHi.toFixed(4)}]); by K: ${b.byK}`),
    ...s.skipped.map((x) => `skipped: ${x}`),
  ],
  figures: [
    { name: '04_lookahead_selection_val_loss', build: (s, o) => selectionValLossFigure(s, o) },
    { name: '04_lookahead_selection_best_k', build: (s, o) => selectionBestKFigure(s, o) },
  ],
  headline: (s) => selectionHeadline(s as never),
};
