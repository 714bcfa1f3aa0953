/**
 * Finding 6b — data cleansing with SGD-IE and ACC-SGD-IE against the TSLOO oracle and random removal (notebook 06).
 *
 * @module
 */
import type { Finding } from '../types.ts';
import { CLEANSING_PRESETS, runCleansing, type CleansingSummary } from './experiment.ts';
import { cleansingFigure } from './figures.ts';
import { cleansingHeadline } from './headline.ts';

const fmt = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : x.toFixed(4));

export const cleansing: Finding<CleansingSummary> = {
  id: 'cleansing',
  title: 'Data cleansing with ACC-SGD-IE and SGD-IE',
  notebook: '06_accumulative_sgd',
  presets: () => Object.keys(CLEANSING_PRESETS),
  flags: { lists: ['seeds', 'datasets'], budget: true },
  grid: (preset) => ({ seeds: CLEANSING_PRESETS[preset].seeds, datasets: CLEANSING_PRESETS[preset].specs.map((x) => x.dataset) }),
  run: (preset, o) => runCleansing(preset, o),
  report: (s) => [
    ...s.rows.map((r) => `${r.dataset} noise ${r.labelNoise} k ${String(r.k).padStart(3)} ${r.method.padEnd(14)} test loss ${fmt(r.testLossMean)} (Δ vs none ${fmt(r.testLossDeltaMean)} ± ${fmt(r.testLossDeltaStd)}) error ${fmt(r.testErrorMean)} (Δ ${fmt(r.testErrorDeltaMean)} ± ${fmt(r.testErrorDeltaStd)})`),
    `complete: ${s.complete}${s.missing.length ? `; missing ${s.missing.length} cells` : ''}`,
  ],
  figures: [{ name: '06_accumulative_sgd_cleansing', build: (s, o) => cleansingFigure(s, o) }],
  headline: (s) => cleansingHeadline(s as never),
};
