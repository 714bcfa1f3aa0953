/**
 * The headline numbers of the cleansing finding (nothing is recomputed).
 *
 * @module
 */
import { arr, num, uniq, type Headline, type Obj } from '../headline.ts';

export function cleansingHeadline(s: Obj): Headline[] {
  const experiment = 'cleansing';
  const rows = arr(s, 'rows');
  const out: Headline[] = [];
  for (const k of uniq(rows.map((r) => `${r.dataset}|${r.labelNoise}`))) {
    const rs = rows.filter((r) => `${r.dataset}|${r.labelNoise}` === k);
    const frac = Math.max(...rs.map((r) => r.fraction as number));
    for (const r of rs.filter((r) => r.fraction === frac && r.method !== 'none')) {
      out.push({ experiment, cell: `${r.dataset}, label noise ${Math.round(100 * (r.labelNoise as number))}%, remove ${Math.round(100 * frac)}%`, quantity: `Δ test loss after removal, ${r.method}`, value: num(r.testLossDeltaMean) });
    }
  }
  return out;
}
