/**
 * The headline numbers of the optimizer-mismatch finding (nothing is recomputed).
 *
 * @module
 */
import { arr, fmtLr, num, type Headline, type Obj } from '../headline.ts';

export function optimizerMismatchHeadline(s: Obj): Headline[] {
  const experiment = 'optimizer-mismatch';
  const rows = arr(s, 'rows');
  const out: Headline[] = [];
  for (const g of arr(s, 'gains').filter((g) => g.metric === 'spearman')) {
    // `optimizer` is absent in summaries written before the SGD control existed (all AdamW runs then)
    const opt = (x: Obj) => (x.optimizer as string | undefined) ?? 'adamw';
    const cell = `${g.setting}${opt(g) === 'sgd' ? ' (SGD run)' : ''} lr ${fmtLr(g.lr)}`;
    for (const [id, label] of [[g.aId, g.a], [g.bId, g.b]]) {
      const r = rows.find((x) => x.setting === g.setting && x.lr === g.lr && opt(x) === opt(g) && x.metric === 'spearman' && x.estimatorId === id);
      out.push({ experiment, cell, quantity: `Spearman ρ vs TSLOO, ${label}`, value: num(r?.mean), lo: num(r?.lo), hi: num(r?.hi) });
    }
    out.push({ experiment, cell, quantity: `relative gain of ${g.a} over ${g.b}`, value: num(g.gain), lo: num(g.lo), hi: num(g.hi), format: '+%' });
  }
  return out;
}
