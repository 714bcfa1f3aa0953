/**
 * The headline numbers of the error-decomposition finding (nothing is recomputed).
 *
 * @module
 */
import { STRIDE_COMPONENT } from './experiment.ts';
import { arr, fmtLr, num, uniq, type Headline, type Obj } from '../headline.ts';

export function errorDecompositionHeadline(s: Obj): Headline[] {
  const experiment = 'error-decomposition';
  const rows = arr(s, 'rows');
  const out: Headline[] = [];
  const key = (r: Obj) => `${r.setting}|${r.lr}|${r.seed}`;
  for (const k of uniq(rows.map(key))) {
    const cellRows = rows.filter((r) => key(r) === k);
    const ks = uniq(cellRows.map((r) => r.k as number)).sort((a, b) => a - b);
    const r0 = cellRows[0];
    const cell = `${r0.setting} lr ${fmtLr(r0.lr)} seed ${r0.seed}`;
    for (const r of cellRows.filter((r) => r.k === ks[0] && r.component !== 'total' && r.component !== STRIDE_COMPONENT)) {
      out.push({ experiment, cell, quantity: `share of squared error, ${r.component} (k=${r.k})`, value: num(r.share), lo: num(r.lo), hi: num(r.hi), format: '%' });
    }
    const kMax = ks[ks.length - 1];
    const stride = cellRows.find((r) => r.k === kMax && r.component === STRIDE_COMPONENT);
    if (stride && kMax !== ks[0]) out.push({ experiment, cell, quantity: `share of squared error, ${stride.component} (k=${kMax})`, value: num(stride.share), lo: num(stride.lo), hi: num(stride.hi), format: '%' });
  }
  return out;
}
