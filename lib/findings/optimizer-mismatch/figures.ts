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

const GAIN_SHAPE = "summary.gains: {setting, lr, optimizer, metric, aId, bId, diff, diffLo, diffHi, n} (lib/pipeline/summary.ts)";

/**
 * Figure 1c — what AdamW-influence (exact) adds over SGD-influence: the paired difference Δρ of their mean
 * correlation with TSLOO (Spearman unless `o.metric`) against the learning rate, one line per setting, AdamW runs
 * only, bands = 95 % CIs (seeds, then queries). Δρ rather than the relative gain: the gain divides by
 * SGD-influence's ρ, which is near 0 on some cells (a CI to +16,000 % says nothing); the table keeps the gain.
 * Name `01_optimizer_mismatch_gain`.
 */
export function optimizerMismatchGainFigure(summary: TidySummary, o: BuildOptions = {}): BuiltFigure {
  const what = 'optimizer-mismatch gain figure';
  const metric = o.metric ?? 'spearman';
  const all: unknown = summary.gains;
  if (!Array.isArray(all)) throw new Error(`${what}: summary has no 'gains' array; expected ${GAIN_SHAPE}`);
  checkShape(all as Row[], ['setting', 'lr', 'metric', 'aId', 'bId', 'diff', 'diffLo', 'diffHi'], what, GAIN_SHAPE);
  const [a, b] = [VARIANTS.adamwExact, VARIANTS.sgdInfluence];
  const rows = (all as Row[]).filter((r) => r.aId === a.id && r.bId === b.id && r.metric === metric && (r.optimizer ?? 'adamw') !== 'sgd');
  if (!rows.length) throw new Error(`${what}: no gain of '${a.id}' over '${b.id}' (${metric}) on an AdamW run in the summary`);
  const spec = lineFromRows(
    sortRows(rows, ['setting', 'lr']),
    { x: 'lr', y: 'diff', series: 'setting', lo: 'diffLo', hi: 'diffHi' },
    {
      title: 'Optimizer mismatch: what modelling AdamW adds',
      subtitle: `preset ${presetOf(summary, rows)} · AdamW-influence − SGD-influence, paired on the same queries · 95% bootstrap CI`,
      xLabel: 'learning rate',
      yLabel: `Δ ${metricName(metric)} with TSLOO`,
      xLog: true,
      refLine: 0,
      note: note(o),
      description: `Line chart: for each setting, the paired difference of the mean ${metricName(metric)} with TSLOO between AdamW-influence (exact) and SGD-influence on the same AdamW runs, against the learning rate, with 95% bootstrap CIs (seeds, then queries). Above 0 means modelling AdamW helps.`,
    },
  );
  return { name: '01_optimizer_mismatch_gain', spec, data: data(o, rows) };
}
