/**
 * Notebook 00 — the quickstart: train the MNIST MLP, attribute with AdamW-influence and TracIn, compare with TSLOO.
 *
 * @module
 */
import type { Finding } from '../types.ts';
import { QUICKSTART_PRESETS, runQuickstart, type QuickstartSummary } from './experiment.ts';
import { quickstartScatterFigure } from './figures.ts';
import { quickstartHeadline } from './headline.ts';

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : 'n/a');

export const quickstart: Finding<QuickstartSummary> = {
  id: 'quickstart',
  title: 'Quickstart: train the MLP, attribute with AdamW-influence, compare with TSLOO',
  notebook: '00_quickstart',
  presets: () => Object.keys(QUICKSTART_PRESETS),
  flags: { lists: [] },
  grid: () => ({}),
  run: (preset) => runQuickstart(preset),
  report: (s) => [
    ...s.rows.map((r) => `${r.setting}/${r.preset} lr ${r.lr} ${r.estimator.padEnd(26)} ${r.metric.padEnd(8)} ${fmt(r.mean)} [${fmt(r.lo)}, ${fmt(r.hi)}] over ${r.n} queries`),
    `quickstart: ${s.seconds.toFixed(1)} s`,
  ],
  figures: [{ name: '00_quickstart_scatter', build: (s, o) => quickstartScatterFigure(s, o) }],
  headline: (s) => quickstartHeadline(s as never),
};
