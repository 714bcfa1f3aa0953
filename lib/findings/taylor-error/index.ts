/**
 * Finding 2 — the Taylor error of first-order estimators over LR × trajectory length, and its proxy (notebook 02).
 *
 * @module
 */
import type { Finding } from '../types.ts';
import { settingRowsGrid } from '../grid.ts';
import { runTaylorError, TAYLOR_PRESETS, type TaylorSummary } from './experiment.ts';
import { taylorErrorHeatmap, taylorProxyScatter } from './figures.ts';
import { taylorErrorHeadline } from './headline.ts';

export const taylorError: Finding<TaylorSummary> = {
  id: 'taylor-error',
  title: 'Taylor error vs learning rate and trajectory length',
  notebook: '02_taylor_error',
  presets: () => Object.keys(TAYLOR_PRESETS),
  flags: { lists: ['settings', 'lrs', 'steps', 'seeds'], cachedOnly: true },
  grid: (preset, settings) => settingRowsGrid(TAYLOR_PRESETS[preset], settings),
  run: (preset, o) => runTaylorError(preset, o),
  report: (s) => [
    ...s.rows.map((r) => `${r.setting}/${r.preset} lr ${r.lr} T ${r.T}: relErr ${r.relErr.toFixed(3)} [${r.relErrLo.toFixed(3)}, ${r.relErrHi.toFixed(3)}]  1−ρ ${r.oneMinusSpearman.toFixed(3)}  proxy Π_Q ${r.queryProxy.toFixed(3)} Π ${r.proxy.toFixed(3)}${r.noiseRelErr !== null ? `  float32 noise relErr ${r.noiseRelErr.toFixed(3)}` : ''}`),
    ...s.correlations.filter((x) => x.primary).map((c) => `${c.setting}: Spearman(Π_Q, relErr) over ${c.cells} cells = ${c.spearman.toFixed(3)} [${c.lo.toFixed(3)}, ${c.hi.toFixed(3)}], permutation p = ${c.pPerm.toPrecision(2)}`),
    ...(s.missing.length ? [`${s.missing.length} cell(s) of the preset not computed yet`] : []),
  ],
  figures: [
    { name: '02_taylor_error_heatmap', build: (s, o) => taylorErrorHeatmap(s, o) },
    { name: '02_taylor_error_proxy', build: (s, o) => taylorProxyScatter(s, o) },
  ],
  headline: (s) => taylorErrorHeadline(s as never),
};
