/**
 * The headline numbers of the selection finding (nothing is recomputed).
 *
 * @module
 */
import { arr, fmtLr, num, type Headline, type Obj } from '../headline.ts';

export function selectionHeadline(s: Obj): Headline[] {
  const experiment = 'selection';
  const out: Headline[] = [];
  for (const b of arr(s, 'bestK')) {
    const cell = `${b.setting} lr ${fmtLr(b.lr)} budget ${Math.round(100 * (b.budget as number))}% ${b.family}`;
    out.push({ experiment, cell, quantity: 'best K by test loss', value: b.bestK === '' || b.bestK === undefined || b.bestK === null ? null : String(b.bestK) });
    out.push({ experiment, cell, quantity: 'Δ test loss, best K − offline', value: num(b.dVsOffline), lo: num(b.dVsOfflineLo), hi: num(b.dVsOfflineHi) });
  }
  return out;
}
