/**
 * The headline numbers of the taylor-error finding (nothing is recomputed).
 *
 * @module
 */
import { arr, num, type Headline, type Obj } from '../headline.ts';

export function taylorErrorHeadline(s: Obj): Headline[] {
  const experiment = 'taylor-error';
  return arr(s, 'correlations')
    .filter((c) => c.primary === true)
    .map((c) => ({ experiment, cell: String(c.setting), quantity: `Spearman(${c.proxy}, ${c.error}) over ${c.cells} cells`, value: num(c.spearman), lo: num(c.lo), hi: num(c.hi) }));
}
