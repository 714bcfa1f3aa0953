/**
 * Headline numbers: the few values of a finding's summary that the README, the notebooks and the reproduce
 * table quote (each finding's headline.ts picks them; nothing is recomputed), and the helpers they share.
 *
 * @module
 */

/** One headline number. */
export interface Headline {
  experiment: string;
  /** Which setting / cell it is about, e.g. `mlp lr 1e-3`. */
  cell: string;
  quantity: string;
  /** A number, or a label (e.g. the best K of a selection run); null when the run produced none. */
  value: number | string | null;
  lo?: number | null;
  hi?: number | null;
  /** How to print `value`, `lo` and `hi`: plain (3 decimals), `%` (×100) or signed `+%` (relative change). */
  format?: 'num' | '%' | '+%';
}

/** A summary read loosely (results files of older versions may lack fields). */
export type Obj = Record<string, unknown>;

/** `s[key]` as an array of objects. @throws naming the key when it is not an array */
export const arr = (s: Obj, key: string): Obj[] => {
  const v = s[key];
  if (!Array.isArray(v)) throw new Error(`no '${key}' array`);
  return v as Obj[];
};

/** A finite number, else null. */
export const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Distinct values in first-seen order. */
export const uniq = <T>(xs: T[]): T[] => [...new Set(xs)];

/** `0.001` → `1e-3`; other numbers as they are. */
export function fmtLr(lr: unknown): string {
  if (typeof lr !== 'number') return String(lr);
  const e = lr.toExponential();
  return /^\d(\.0+)?e/.test(e) ? e.replace(/\.0+e/, 'e').replace('e+', 'e') : String(lr);
}

/** Spearman ρ against TSLOO per estimator, from rows of the fidelity shape (setting, lr, estimator, metric, mean, lo, hi). */
export function fidelitySpearman(s: Obj, experiment: string, label = (r: Obj) => String(r.estimator)): Headline[] {
  return arr(s, 'rows')
    .filter((r) => r.metric === 'spearman')
    .map((r) => ({ experiment, cell: `${r.setting} lr ${fmtLr(r.lr)}`, quantity: `Spearman ρ vs TSLOO, ${label(r)}`, value: num(r.mean), lo: num(r.lo), hi: num(r.hi) }));
}
