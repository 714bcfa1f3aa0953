/**
 * Inference for a rank correlation *across cells* of an experiment grid (e.g. error proxy vs measured
 * error over LR × T cells), where there are few points and each cell is one number: a percentile-bootstrap
 * CI over cells and a one-sided permutation p-value. With 4 cells the bootstrap CI of a perfect ranking is
 * [1, 1]; the p-value (1/24 there) says what that is worth.
 *
 * @module
 */
import { Rng } from '../runtime/rng.ts';
import { spearman } from './metrics.ts';

/**
 * One-sided permutation p-value of Spearman(x, y) > 0: the share of orderings of y whose Spearman with x
 * reaches the observed one (the identity counted). Exact (all n! orderings) for n ≤ 8, else `reps` random
 * permutations (Rng(seed)) with the +1 correction. NaN below 3 cells.
 * @param x `[nCells]`, @param y `[nCells]`
 */
export function permutationP(x: number[], y: number[], seed = 0, reps = 10000): number {
  const n = x.length;
  if (n < 3) return NaN;
  const rho = spearman(x, y);
  const eps = 1e-12; // ties in ρ count as reaching it
  if (n <= 8) {
    let hit = 0;
    let total = 0;
    const perm = y.slice();
    const visit = (k: number): void => {
      if (k === n) {
        total++;
        if (spearman(x, perm) >= rho - eps) hit++;
        return;
      }
      for (let i = k; i < n; i++) {
        [perm[k], perm[i]] = [perm[i], perm[k]];
        visit(k + 1);
        [perm[k], perm[i]] = [perm[i], perm[k]];
      }
    };
    visit(0);
    return hit / total;
  }
  const rng = new Rng(seed);
  let hit = 0;
  const perm = y.slice();
  for (let r = 0; r < reps; r++) {
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    if (spearman(x, perm) >= rho - eps) hit++;
  }
  return (hit + 1) / (reps + 1);
}

/**
 * Spearman(x, y) across cells with a percentile-bootstrap CI over cells (resampled with replacement;
 * average ranks handle the duplicates a resample creates).
 * @param x `[nCells]`, @param y `[nCells]`
 */
export function cellSpearmanCI(x: number[], y: number[], seed: number, reps = 2000): { spearman: number; lo: number; hi: number; dropped: number } {
  const n = x.length;
  if (n < 3) return { spearman: NaN, lo: NaN, hi: NaN, dropped: 0 }; // too few cells for a rank correlation
  const rho = spearman(x, y);
  const rng = new Rng(seed);
  const rs: number[] = [];
  let dropped = 0;
  for (let r = 0; r < reps; r++) {
    const idx = Array.from({ length: n }, () => rng.int(n));
    const v = spearman(idx.map((i) => x[i]), idx.map((i) => y[i]));
    if (Number.isFinite(v)) rs.push(v);
    else dropped++;
  }
  rs.sort((a, b) => a - b);
  if (!rs.length) return { spearman: rho, lo: NaN, hi: NaN, dropped };
  return { spearman: rho, lo: rs[Math.floor(0.025 * (rs.length - 1))], hi: rs[Math.ceil(0.975 * (rs.length - 1))], dropped };
}
