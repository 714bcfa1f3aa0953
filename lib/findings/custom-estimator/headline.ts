/**
 * The headline numbers of the custom-estimator finding (nothing is recomputed).
 *
 * @module
 */
import { arr, fidelitySpearman, fmtLr, num, type Headline, type Obj } from '../headline.ts';

export function customEstimatorHeadline(s: Obj): Headline[] {
  const experiment = 'custom-estimator';
  const out = fidelitySpearman(s, experiment);
  for (const r of arr(s, 'rows').filter((r) => r.metric === 'fdRelErr' && r.kind === 'yours')) {
    out.push({ experiment, cell: `${r.setting} lr ${fmtLr(r.lr)}`, quantity: `relative error vs finite differences, ${r.estimator} (min–max)`, value: num(r.mean), lo: num(r.lo), hi: num(r.hi) });
  }
  return out;
}
