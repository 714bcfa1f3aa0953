/**
 * The headline numbers of the quickstart finding (nothing is recomputed).
 *
 * @module
 */
import { fidelitySpearman, type Headline, type Obj } from '../headline.ts';

export function quickstartHeadline(s: Obj): Headline[] {
  return fidelitySpearman(s, 'quickstart');
}
