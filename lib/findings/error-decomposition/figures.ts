/**
 * Figures of the error-decomposition finding (notebook 03).
 *
 * @module
 */
import { barFromRows, checkShape, data, note, numberOf, presetOf, rowsOf, sortRows, varyingLabel, type BuildOptions, type BuiltFigure, type TidySummary } from '../../plot/tidy.ts';

const DECOMP_SHAPE = '{setting, lr?, k?, seed?, component, share, lo?, hi?} with component "total" optional (lib/findings/error-decomposition/experiment.ts)';

/**
 * Figure 3 — error decomposition: the share of each error source (system / config / algorithm) in the
 * squared error of SGD-influence against TSLOO, one stacked bar per setting × LR × checkpoint stride.
 * Shares sum to 1; a negative share points against the rest of the error. No whiskers: a CI of one share drawn at
 * the top of a stacked segment reads as a CI of the sum (it ran past 1 and through the labels); the CIs are in the
 * table (notebook 03, `table.csv`) and in the data file. Name `03_error_decomposition`.
 */
export function errorDecompositionFigure(summary: TidySummary, o: BuildOptions = {}): BuiltFigure {
  const what = 'error-decomposition figure';
  const all = rowsOf(summary, what, DECOMP_SHAPE);
  const part = all.every((r) => 'component' in r) ? 'component' : 'source';
  checkShape(all, ['setting', part, 'share'], what, DECOMP_SHAPE);
  const rows = all.filter((r) => r[part] !== 'total');
  const negative = rows.some((r) => numberOf(r, 'share') < 0);
  const spec = barFromRows(
    sortRows(rows, ['setting', 'lr', 'k', 'seed']),
    { x: varyingLabel(rows, ['setting', 'lr', 'k', 'seed'], ['setting'], { sep: '\n', names: { k: 'stride' } }), series: part, y: 'share' },
    {
      title: 'Where the attribution error comes from',
      subtitle: `preset ${presetOf(summary, rows)} · share of the squared error of SGD-influence vs TSLOO · 95% CIs in the table`,
      xLabel: 'setting · learning rate · checkpoint stride',
      yLabel: 'share of squared error',
      stacked: true,
      valueLabels: 'percent',
      refLine: negative ? 0 : undefined,
      yDomain: negative ? undefined : [0, 1],
      note: note(o),
      width: 860,
    },
  );
  return { name: '03_error_decomposition', spec, data: data(o, all) };
}
