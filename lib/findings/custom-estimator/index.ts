/**
 * Notebook 07 — add your estimator: register it, score it against TSLOO and the finite-difference oracle.
 *
 * @module
 */
import type { Finding } from '../types.ts';
import { CUSTOM_ESTIMATOR_PRESETS, runCustomEstimator, type CustomEstimatorSummary } from './experiment.ts';
import { customEstimatorFdFigure, customEstimatorSpearmanFigure } from './figures.ts';
import { customEstimatorHeadline } from './headline.ts';

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : 'n/a');

export const customEstimator: Finding<CustomEstimatorSummary> = {
  id: 'custom-estimator',
  title: 'Add your estimator: register it, score it against TSLOO and the finite-difference oracle',
  notebook: '07_add_your_estimator',
  presets: () => Object.keys(CUSTOM_ESTIMATOR_PRESETS),
  flags: { lists: [] },
  grid: () => ({}),
  run: (preset) => runCustomEstimator(preset),
  report: (s) => [
    ...s.rows.map((r) => `${r.kind.padEnd(8)} ${r.estimator.padEnd(26)} ${r.metric.padEnd(8)} ${fmt(r.mean)} [${fmt(r.lo)}, ${fmt(r.hi)}] (n ${r.n})`),
    `custom-estimator: ${s.seconds.toFixed(1)} s`,
  ],
  figures: [
    { name: '07_add_your_estimator_spearman', build: (s, o) => customEstimatorSpearmanFigure(s, o) },
    { name: '07_add_your_estimator_fd_error', build: (s, o) => customEstimatorFdFigure(s, o) },
  ],
  headline: (s) => customEstimatorHeadline(s as never),
};
