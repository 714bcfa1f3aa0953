/**
 * Figures of the ACC-SGD-IE vs SGD-IE finding (notebook 06).
 *
 * @module
 */
import { metricName, epochsFigure, type BuiltFigure, type EpochsOptions, type TidySummary } from '../../plot/tidy.ts';

/** Figure 6a — ACC-SGD-IE vs SGD-IE fidelity to TSLOO vs number of epochs. Name `06_accumulative_sgd_acc_vs_sgd_ie`. */
export function accVsSgdFigure(summary: TidySummary, o: EpochsOptions = {}): BuiltFigure {
  return epochsFigure(summary, o, 'acc-epochs figure', '06_accumulative_sgd_acc_vs_sgd_ie', 'ACC-SGD-IE vs SGD-IE over epochs', `${metricName(o.metric ?? 'spearman')} with TSLOO`);
}
