/**
 * Figures of the add-your-estimator finding (notebook 07).
 *
 * @module
 */
import { barFromRows, byMetric, checkShape, data, note, numberOf, presetOf, rowsOf, type BuildOptions, type BuiltFigure, type Row, type TidySummary } from '../../plot/tidy.ts';

const CUSTOM_SHAPE = '{estimator, kind (yours | built-in), metric (spearman | pearson | fdRelErr), mean, lo, hi} (lib/findings/custom-estimator/experiment.ts)';

/** The rows of one metric with the estimator under test first (the order of the summary otherwise). */
function customRows(summary: TidySummary, metric: string, what: string): Row[] {
  const rows = byMetric(rowsOf(summary, what, CUSTOM_SHAPE), metric, what);
  checkShape(rows, ['estimator', 'kind', 'mean', 'lo', 'hi'], what, CUSTOM_SHAPE);
  return [...rows.filter((r) => r.kind === 'yours'), ...rows.filter((r) => r.kind !== 'yours')];
}

/**
 * Figure 7a — your estimator vs the built-ins: Spearman with TSLOO (mean over queries, 95% bootstrap CI
 * over queries), one bar per estimator, yours first (its label says "yours"). Name `07_add_your_estimator_spearman`.
 */
export function customEstimatorSpearmanFigure(summary: TidySummary, o: BuildOptions = {}): BuiltFigure {
  const rows = customRows(summary, 'spearman', 'custom-estimator Spearman figure');
  const spec = barFromRows(
    rows,
    { x: 'estimator', series: () => '', y: 'mean', lo: 'lo', hi: 'hi' },
    {
      title: 'Your estimator vs the built-ins: fidelity to TSLOO',
      subtitle: `preset ${presetOf(summary, rows)} · Spearman across scored samples, mean over queries · error bars: 95% bootstrap CI over queries`,
      xLabel: 'estimator',
      yLabel: 'Spearman ρ with TSLOO',
      valueLabels: 'fixed2',
      refLine: rows.some((r) => numberOf(r, 'lo') < 0) ? 0 : undefined,
      note: note(o),
      width: 820,
    },
  );
  return { name: '07_add_your_estimator_spearman', spec, data: data(o, rows) };
}

/**
 * Figure 7b — distance to the first-order truth: relative error ‖estimate − FD‖/‖FD‖ across queries against
 * the finite-difference oracle, mean over the FD samples (bars from the smallest to the largest sample).
 * Name `07_add_your_estimator_fd_error`.
 */
export function customEstimatorFdFigure(summary: TidySummary, o: BuildOptions = {}): BuiltFigure {
  const rows = customRows(summary, 'fdRelErr', 'custom-estimator FD figure');
  const fd = (summary as { fd?: { ids?: unknown[]; eps?: number } }).fd;
  const spec = barFromRows(
    rows,
    { x: 'estimator', series: () => '', y: 'mean', lo: 'lo', hi: 'hi' },
    {
      title: 'Distance to the exact first-order effect (finite-difference oracle)',
      subtitle: `preset ${presetOf(summary, rows)} · ‖estimate − FD‖ / ‖FD‖ across queries, mean over ${fd?.ids?.length ?? '?'} samples (ε = ${fd?.eps ?? '?'}) · bars: min–max over samples · 0 = exact`,
      xLabel: 'estimator',
      yLabel: 'relative error vs FD oracle',
      valueLabels: 'sig2',
      refLine: 1,
      note: note(o),
      width: 820,
      description: 'Bars: for each estimator, the relative error of its scores against finite differences of the real training run, averaged over a few training samples; the dashed line at 1 is the error of predicting 0.',
    },
  );
  return { name: '07_add_your_estimator_fd_error', spec, data: data(o, rows) };
}
