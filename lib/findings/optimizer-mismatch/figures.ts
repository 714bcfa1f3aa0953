/**
 * Figures of the optimizer-mismatch finding (notebook 01).
 *
 * @module
 */
import { ABLATION_IDS, VARIANTS } from '../../pipeline/variants.ts';
import { barFromRows, byMetric, checkShape, data, formatExp, lineFromRows, metricName, note, numberOf, presetOf, rowsOf, seedsNote, sortRows, type BuildOptions, type BuiltFigure, type Row, type TidySummary } from '../../plot/tidy.ts';

const MISMATCH_SHAPE = '{setting, lr, estimator, estimatorId, metric, mean, lo, hi, seeds}';

/** Whether a summary row is one of the partial-accounting ablations (pipeline/variants.ts `ABLATION_IDS`). */
export function isAblation(row: Row): boolean {
  return ABLATION_IDS.includes(String(row.estimatorId));
}

/**
 * Figure 1 — optimizer mismatch: fidelity (mean over seeds, 95% CI) of each estimator against TSLOO,
 * grouped by setting × learning rate. Name `01_optimizer_mismatch_<metric>`.
 */
export function optimizerMismatchFigure(summary: TidySummary, o: BuildOptions = {}): BuiltFigure {
  const what = 'optimizer-mismatch figure';
  const metric = o.metric ?? 'spearman';
  // Ablations of partial AdamW accounting are a table in notebook 01, not bars here.
  const all = byMetric(rowsOf(summary, what, MISMATCH_SHAPE), metric, what);
  checkShape(all, ['setting', 'lr', 'estimator', 'estimatorId', 'mean', 'lo', 'hi'], what, MISMATCH_SHAPE);
  const rows = all.filter((r) => !isAblation(r));
  const seeds = [...new Set(rows.flatMap((r) => (Array.isArray(r.seeds) ? (r.seeds as number[]) : [])))].sort((a, b) => a - b);
  const negative = rows.some((r) => numberOf(r, 'lo') < 0 || numberOf(r, 'mean') < 0);
  const spec = barFromRows(
    rows,
    { x: (r) => `${r.setting}${r.optimizer === 'sgd' ? ' · SGD run' : ''}\nlr ${formatExp(numberOf(r, 'lr'))}`, series: 'estimator', y: 'mean', lo: 'lo', hi: 'hi' },
    {
      title: `Optimizer mismatch: fidelity to TSLOO (${metricName(metric)})`,
      subtitle: `preset ${presetOf(summary, rows)} · ${seedsNote(rows, seeds)} · error bars: 95% CI, bootstrap over seeds, then queries`,
      xLabel: 'setting · learning rate (AdamW runs unless marked SGD)',
      yLabel: `${metricName(metric)} with TSLOO`,
      valueLabels: 'fixed2',
      refLine: negative ? 0 : undefined,
      note: note(o),
      width: 820,
      description: `Grouped bars: for each setting and learning rate, the mean ${metricName(metric)} between each estimator's scores and TSLOO ground truth, with 95% bootstrap confidence intervals. Higher is more faithful.`,
    },
  );
  return { name: `01_optimizer_mismatch_${metric}`, spec, data: data(o, rows) };
}

const GAIN_SHAPE = "summary.gains: {setting, lr, optimizer, metric, a, b, aId, bId, gain, lo, hi, n} (lib/pipeline/summary.ts)";

/**
 * Figure 1c — the relative gain of AdamW-influence (exact) over SGD-influence (Spearman unless `o.metric`)
 * against the learning rate, one line per setting, AdamW runs only, bands = the gains' 95% CIs. Name
 * `01_optimizer_mismatch_gain`.
 */
export function optimizerMismatchGainFigure(summary: TidySummary, o: BuildOptions = {}): BuiltFigure {
  const what = 'optimizer-mismatch gain figure';
  const metric = o.metric ?? 'spearman';
  const all: unknown = summary.gains;
  if (!Array.isArray(all)) throw new Error(`${what}: summary has no 'gains' array; expected ${GAIN_SHAPE}`);
  checkShape(all as Row[], ['setting', 'lr', 'metric', 'aId', 'bId', 'gain', 'lo', 'hi'], what, GAIN_SHAPE);
  const [a, b] = [VARIANTS.adamwExact, VARIANTS.sgdInfluence];
  const rows = (all as Row[])
    .filter((r) => r.aId === a.id && r.bId === b.id && r.metric === metric && (r.optimizer ?? 'adamw') !== 'sgd')
    .map((r) => ({ ...r, percent: 100 * numberOf(r, 'gain'), percentLo: 100 * numberOf(r, 'lo'), percentHi: 100 * numberOf(r, 'hi') }));
  if (!rows.length) throw new Error(`${what}: no gain of '${a.id}' over '${b.id}' (${metric}) on an AdamW run in the summary`);
  const spec = lineFromRows(
    sortRows(rows, ['setting', 'lr']),
    { x: 'lr', y: 'percent', series: 'setting', lo: 'percentLo', hi: 'percentHi' },
    {
      title: 'Optimizer mismatch: gain of AdamW-influence over SGD-influence',
      subtitle: `preset ${presetOf(summary, rows)} · relative gain of mean ${metricName(metric)} with TSLOO · bands (bars at single points): 95% bootstrap CI`,
      xLabel: 'learning rate',
      yLabel: 'relative gain (%)',
      xLog: true,
      note: note(o),
      description: `Line chart: for each setting, the relative gain (mean AdamW-influence − mean SGD-influence) / |mean SGD-influence| of the ${metricName(metric)} with TSLOO, against the learning rate, with 95% bootstrap CIs (seeds, then queries). Above 0 means modelling AdamW helps.`,
    },
  );
  return { name: '01_optimizer_mismatch_gain', spec, data: data(o, rows) };
}
