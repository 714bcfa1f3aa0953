/**
 * Figures of the final-model-only finding (notebook 05).
 *
 * @module
 */
import { metricName, rowsOf, epochsFigure, EPOCHS_SHAPE, type BuiltFigure, type EpochsOptions, type TidySummary } from '../../plot/tidy.ts';

/**
 * Figure 5 — final-model-only attribution: agreement with further training vs epochs, all rows matching
 * `o.where` in one figure. Name `05_final_model_only_agreement`. {@link finalModelFigures} splits it by variant.
 */
export function finalModelFigure(summary: TidySummary, o: EpochsOptions = {}): BuiltFigure {
  return epochsFigure(summary, o, 'final-model figure', '05_final_model_only_agreement', 'Final-model-only attribution vs further training', `agreement (${metricName(o.metric ?? 'spearman')})`);
}

/** The further-training optimizers (`variant` column) that figure 5 is split by, in figure order. */
export const FINAL_MODEL_VARIANTS = ['sgd', 'adamw'] as const;

/**
 * Figure 5, one figure per further-training optimizer (`variant`): six methods × two datasets already make
 * twelve lines, and both optimizers in one plot (24) cannot be read. Names `05_final_model_only_agreement_<variant>`;
 * a variant without rows is an error naming the variants the file has.
 */
export function finalModelFigures(summary: TidySummary, o: EpochsOptions = {}): BuiltFigure[] {
  return FINAL_MODEL_VARIANTS.map((v) => finalModelVariantFigure(summary, v, o));
}

/** The figure of one further-training optimizer `v` (`05_final_model_only_agreement_<v>`). */
export function finalModelVariantFigure(summary: TidySummary, v: (typeof FINAL_MODEL_VARIANTS)[number], o: EpochsOptions = {}): BuiltFigure {
  const have = new Set(rowsOf(summary, 'final-model figure', EPOCHS_SHAPE).map((r) => String(r.variant)));
  if (!have.has(v)) throw new Error(`final-model figure: no rows with variant '${v}' (the file has: ${[...have].join(', ')})`);
  return epochsFigure(summary, { ...o, where: { ...o.where, variant: v } }, 'final-model figure', `05_final_model_only_agreement_${v}`, `Final-model-only attribution vs further training with ${v === 'sgd' ? 'SGD' : 'AdamW'}`, `agreement (${metricName(o.metric ?? 'spearman')})`);
}
