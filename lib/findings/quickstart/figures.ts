/**
 * Figure of the quickstart (notebook 00).
 *
 * @module
 */
import { byMetric, checkShape, data, formatSig, note, numberOf, presetOf, rowsOf, scatterFromRows, type BuildOptions, type BuiltFigure, type Row, type TidySummary } from '../../plot/tidy.ts';

const QUICKSTART_SHAPE = '{estimator, metric, mean, lo, hi} + points: [{estimator, query, trainId, tsloo, estimate}] (lib/findings/quickstart/experiment.ts)';

/**
 * Figure 0 — quickstart: each estimator's score against TSLOO for every scored sample of the first few
 * queries (points from the summary's `points`), with the y = x line; the subtitle quotes each estimator's
 * mean Spearman over all queries and its 95% CI from the summary's rows. Name `00_quickstart_scatter`.
 */
export function quickstartScatterFigure(summary: TidySummary, o: BuildOptions = {}): BuiltFigure {
  const what = 'quickstart scatter';
  const rows = byMetric(rowsOf(summary, what, QUICKSTART_SHAPE), 'spearman', what);
  const points = (summary as { points?: unknown }).points;
  if (!Array.isArray(points) || !points.length) throw new Error(`${what}: summary has no 'points' array; expected ${QUICKSTART_SHAPE}`);
  checkShape(points as Row[], ['estimator', 'query', 'trainId', 'tsloo', 'estimate'], what, QUICKSTART_SHAPE);
  const queries = new Set((points as Row[]).map((r) => r.query)).size;
  // each estimator's fidelity goes into its legend entry (the subtitle has no room for several; the legend none
  // for CIs, which go to the description and data.json)
  const rho = new Map(rows.map((r) => [r.estimator, `ρ ${numberOf(r, 'mean').toFixed(2)}`]));
  const ci = rows.map((r) => `${r.estimator}: ρ ${formatSig(numberOf(r, 'mean'), 2)} [${formatSig(numberOf(r, 'lo'), 2)}, ${formatSig(numberOf(r, 'hi'), 2)}]`).join('; ');
  const nq = Math.max(0, ...rows.map((r) => numberOf(r, 'n')).filter(Number.isFinite));
  const spec = scatterFromRows(
    points as Row[],
    { x: 'tsloo', y: 'estimate', series: (r) => (rho.has(r.estimator) ? `${r.estimator} · ${rho.get(r.estimator)}` : String(r.estimator)), label: ['query', 'trainId'] },
    {
      title: 'Estimated vs true leave-one-out effect',
      subtitle: `preset ${presetOf(summary, rows)} · points: first ${queries} queries × every scored sample · ρ: mean Spearman with TSLOO over ${nq || '?'} queries`,
      xLabel: 'TSLOO: ℓ_q(θ_T without z) − ℓ_q(θ_T)',
      yLabel: 'estimated effect',
      refLine: 'identity',
      note: note(o),
      width: 820,
      description: `Scatter plot: one point per (scored training sample, query) for the first ${queries} queries, estimated removal effect against TSLOO ground truth, one colour per estimator. Points on the dashed y = x line are exact. Mean Spearman over queries with 95% CI: ${ci}.`,
    },
  );
  return { name: '00_quickstart_scatter', spec, data: data(o, points as Row[]) };
}
