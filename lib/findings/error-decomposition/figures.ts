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
 * Shares sum to 1; a negative share points against the rest of the error. Name `03_error_decomposition`.
 */
export function errorDecompositionFigure(summary: TidySummary, o: BuildOptions = {}): BuiltFigure {
  const what = 'error-decomposition figure';
  const all = rowsOf(summary, what, DECOMP_SHAPE);
  const part = all.every((r) => 'component' in r) ? 'component' : 'source';
  checkShape(all, ['setting', part, 'share'], what, DECOMP_SHAPE);
  const rows = all.filter((r) => r[part] !== 'total');
  const ci = rows.every((r) => 'lo' in r && 'hi' in r);
  const spec = barFromRows(
    sortRows(rows, ['setting', 'lr', 'k', 'seed']),
    { x: varyingLabel(rows, ['setting', 'lr', 'k', 'seed'], ['setting'], { sep: '\n', names: { k: 'stride' } }), series: part, y: 'share', lo: ci ? 'lo' : undefined, hi: ci ? 'hi' : undefined },
    {
      title: 'Where the attribution error comes from',
      subtitle: `preset ${presetOf(summary, rows)} · share of the squared error of SGD-influence vs TSLOO${ci ? ' · error bars: 95% bootstrap CI over queries' : ''}`,
      xLabel: 'setting · learning rate · checkpoint stride',
      yLabel: 'share of squared error',
      stacked: true,
      valueLabels: 'percent',
      refLine: rows.some((r) => numberOf(r, 'share') < 0) ? 0 : undefined,
      note: note(o),
      width: 860,
    },
  );
  return { name: '03_error_decomposition', spec, data: data(o, all) };
}
