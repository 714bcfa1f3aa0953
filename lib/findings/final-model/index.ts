/**
 * Finding 5 — final-model-only attribution (Grad-Dot, Grad-Cos, influence functions) against further training
 * (notebook 05).
 *
 * @module
 */
import type { Finding } from '../types.ts';
import { FINAL_MODEL_PRESETS, runFinalModel, type FinalModelSummary } from './experiment.ts';
import { FINAL_MODEL_VARIANTS, finalModelVariantFigure } from './figures.ts';
import { finalModelHeadline } from './headline.ts';

const fmt = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : x.toFixed(4));

export const finalModel: Finding<FinalModelSummary> = {
  id: 'final-model',
  title: 'Final-model-only attribution vs further training',
  notebook: '05_final_model_only',
  presets: () => Object.keys(FINAL_MODEL_PRESETS),
  flags: { lists: ['datasets'], budget: true, seedCount: true },
  grid: (preset) => ({ datasets: FINAL_MODEL_PRESETS[preset].specs.map((x) => x.dataset), maxSeedCount: FINAL_MODEL_PRESETS[preset].seeds }),
  run: (preset, o) => runFinalModel(preset, { ...o, seeds: o.seedCount }),
  report: (s) => [
    ...s.rows.map((r) => `${r.dataset}/${r.variant} epoch ${r.epoch} ${r.method.padEnd(27)} ${r.metric.padEnd(8)} ${fmt(r.mean)} ± ${fmt(r.sem)} (SEM, ${r.nQueries} queries, ${r.seeds} seeds)`),
    `complete: ${s.complete}; seeds used: ${JSON.stringify(s.seedsUsed)}; max |Δ| at 0 epochs: ${s.epoch0MaxAbs}`,
  ],
  figures: FINAL_MODEL_VARIANTS.map((v) => ({ name: `05_final_model_only_agreement_${v}`, build: (s: FinalModelSummary, o) => finalModelVariantFigure(s as never, v, o) })),
  headline: (s) => finalModelHeadline(s as never),
};
