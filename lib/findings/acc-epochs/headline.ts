/**
 * The headline numbers of the acc-epochs finding (nothing is recomputed).
 *
 * @module
 */
import { arr, num, uniq, type Headline, type Obj } from '../headline.ts';

export function accEpochsHeadline(s: Obj): Headline[] {
  const experiment = 'acc-epochs';
  const rows = arr(s, 'rows').filter((r) => r.metric === 'kendall-tau');
  const out: Headline[] = [];
  for (const ds of uniq(rows.map((r) => String(r.dataset)))) {
    const rs = rows.filter((r) => r.dataset === ds);
    const epochs = Math.max(...rs.map((r) => r.epochs as number));
    for (const r of rs.filter((r) => r.epochs === epochs)) {
      const sem = num(r.sem);
      const m = num(r.mean);
      out.push({ experiment, cell: `${ds}, ${epochs} epochs`, quantity: `Kendall τ vs TSLOO, ${r.estimator} (± 2 SEM over seeds)`, value: m, lo: m !== null && sem !== null ? m - 2 * sem : null, hi: m !== null && sem !== null ? m + 2 * sem : null });
    }
  }
  return out;
}
