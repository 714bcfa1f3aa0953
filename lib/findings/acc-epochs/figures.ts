/**
 * Figures of the ACC-SGD-IE vs SGD-IE finding (notebook 06).
 *
 * @module
 */
import { metricName, epochsFigure, type BuiltFigure, type EpochsOptions, type TidySummary } from '../../plot/tidy.ts';

/**
 * Figure 6a — ACC-SGD-IE vs SGD-IE fidelity to TSLOO vs number of epochs, in Kendall τ (the paper's metric and the
 * headline table's) unless `o.metric`. Name `06_accumulative_sgd_acc_vs_sgd_ie`.
 */
export function accVsSgdFigure(summary: TidySummary, o: EpochsOptions = {}): BuiltFigure {
  const metric = o.metric ?? 'kendall-tau';
  return epochsFigure(summary, { ...o, metric }, 'acc-epochs figure', '06_accumulative_sgd_acc_vs_sgd_ie', 'ACC-SGD-IE vs SGD-IE over epochs', `${metricName(metric)} with TSLOO`);
}
