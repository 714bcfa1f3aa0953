/**
 * The headline numbers of the final-model finding (nothing is recomputed).
 *
 * @module
 */
import { arr, num, uniq, type Headline, type Obj } from '../headline.ts';

export function finalModelHeadline(s: Obj): Headline[] {
  const experiment = 'final-model';
  const rows = arr(s, 'rows').filter((r) => r.metric === 'spearman');
  const out: Headline[] = [];
  for (const ds of uniq(rows.map((r) => `${r.dataset}|${r.variant}`))) {
    const rs = rows.filter((r) => `${r.dataset}|${r.variant}` === ds);
    const epoch = Math.max(...rs.map((r) => r.epoch as number));
    const last = rs.filter((r) => r.epoch === epoch);
    const cell = `${last[0].dataset} ${last[0].variant}, epoch ${epoch}`;
    const finalOnly = last.filter((r) => r.kind === 'final-model').sort((a, b) => (num(b.mean) ?? -Infinity) - (num(a.mean) ?? -Infinity));
    const pick = [finalOnly[0], last.find((r) => r.kind === 'trajectory'), last.find((r) => r.kind === 'split-half')].filter(Boolean) as Obj[];
    for (const r of pick) {
      const role = r === finalOnly[0] ? 'best final-model-only: ' : '';
      out.push({ experiment, cell, quantity: `Spearman ρ vs further training, ${role}${r.method}`, value: num(r.mean), lo: num(r.lo), hi: num(r.hi) });
    }
  }
  return out;
}
