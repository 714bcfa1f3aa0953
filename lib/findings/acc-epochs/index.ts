/**
 * Finding 6a — ACC-SGD-IE against SGD-IE over epochs (notebook 06).
 *
 * @module
 */
import type { Finding } from '../types.ts';
import { ACC_EPOCHS_PRESETS, runAccEpochs, type AccEpochsSummary } from './experiment.ts';
import { accVsSgdFigure } from './figures.ts';
import { accEpochsHeadline } from './headline.ts';

const fmt = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : x.toFixed(4));

export const accEpochs: Finding<AccEpochsSummary> = {
  id: 'acc-epochs',
  title: 'ACC-SGD-IE vs SGD-IE over epochs',
  notebook: '06_accumulative_sgd',
  presets: () => Object.keys(ACC_EPOCHS_PRESETS),
  flags: { lists: ['seeds', 'datasets'], budget: true },
  grid: (preset) => ({ seeds: ACC_EPOCHS_PRESETS[preset].seeds, datasets: ACC_EPOCHS_PRESETS[preset].specs.map((x) => x.dataset) }),
  run: (preset, o) => runAccEpochs(preset, o),
  report: (s) => [
    ...s.rows.map((r) => `${r.dataset} E=${r.epochs} ${r.estimator.padEnd(10)} ${r.metric.padEnd(11)} ${fmt(r.mean)} ± ${fmt(r.std)} (std, seeds ${r.seeds.join(',')})`),
    `complete: ${s.complete}${s.missing.length ? `; missing ${s.missing.length} cells` : ''}`,
  ],
  figures: [{ name: '06_accumulative_sgd_acc_vs_sgd_ie', build: (s, o) => accVsSgdFigure(s, o) }],
  headline: (s) => accEpochsHeadline(s as never),
};
