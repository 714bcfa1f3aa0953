/**
 * Figure of the data-cleansing finding (notebook 06).
 *
 * @module
 */
import { checkShape, data, formatSig, lineFromRows, note, numberOf, presetOf, rowsOf, sortRows, varyingLabel, type BuildOptions, type BuiltFigure, type Row, type TidySummary } from '../../plot/tidy.ts';

const CLEANSING_SHAPE = '{dataset, labelNoise, method, fraction, k, testLossDeltaMean, testLossDeltaStd?, seeds} with method "none" at k = 0 (lib/findings/cleansing/experiment.ts)';

/** Options of {@link cleansingFigure}. */
export interface CleansingFigureOptions extends BuildOptions {
  /** Label-noise level drawn (default: the largest in the summary, the corrupted-data setting). */
  labelNoise?: number;
}

/**
 * Figure 6b — data cleansing: change of test loss against the no-removal run after removing the k most
 * harmful samples by each method, against the fraction removed; one line per (dataset when several,)
 * method, each starting at (0, 0) from the `none` row. Bands: ± 1 s.e.m. over seeds (paired deltas) when
 * there are several seeds. Name `06_accumulative_sgd_cleansing`.
 */
export function cleansingFigure(summary: TidySummary, o: CleansingFigureOptions = {}): BuiltFigure {
  const what = 'cleansing figure';
  const all = rowsOf(summary, what, CLEANSING_SHAPE);
  checkShape(all, ['dataset', 'labelNoise', 'method', 'fraction', 'testLossDeltaMean'], what, CLEANSING_SHAPE);
  const noises = [...new Set(all.map((r) => numberOf(r, 'labelNoise')))].sort((a, b) => a - b);
  const noise = o.labelNoise ?? noises[noises.length - 1];
  const atNoise = all.filter((r) => numberOf(r, 'labelNoise') === noise);
  if (!atNoise.length) throw new Error(`${what}: no rows with labelNoise ${noise} (have: ${noises.join(', ')})`);
  const methods = [...new Set(atNoise.map((r) => String(r.method)))].filter((m) => m !== 'none');
  const plotted: Row[] = [];
  for (const r of atNoise) {
    const seeds = numberOf(r, 'seeds');
    const sem = seeds > 1 ? numberOf(r, 'testLossDeltaStd') / Math.sqrt(seeds) : NaN;
    const base = { ...r, percent: 100 * numberOf(r, 'fraction'), lo: numberOf(r, 'testLossDeltaMean') - sem, hi: numberOf(r, 'testLossDeltaMean') + sem };
    // the no-removal run is every method's k = 0 point (its delta is 0 by construction)
    if (r.method === 'none') for (const m of methods) plotted.push({ ...base, method: m, lo: 0, hi: 0 });
    else plotted.push(base);
  }
  const banded = plotted.every((r) => Number.isFinite(numberOf(r, 'lo')));
  const spec = lineFromRows(
    sortRows(plotted, ['dataset', 'percent']),
    { x: 'percent', y: 'testLossDeltaMean', series: varyingLabel(plotted, ['dataset', 'method'], ['method']), lo: banded ? 'lo' : undefined, hi: banded ? 'hi' : undefined },
    {
      title: 'Data cleansing: remove the most harmful samples, retrain',
      subtitle: `preset ${presetOf(summary, all)} · ${[...new Set(atNoise.map((r) => String(r.dataset)))].join(', ')} · label noise ${formatSig(100 * noise)}% · change of test loss vs no removal (negative = better)${banded ? ' · bands: ± 1 s.e.m. over seeds' : ''}`,
      xLabel: '% of the training set removed',
      yLabel: 'Δ test loss',
      note: note(o),
      width: 820,
    },
  );
  return { name: '06_accumulative_sgd_cleansing', spec, data: data(o, atNoise) };
}
