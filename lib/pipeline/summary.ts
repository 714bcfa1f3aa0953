/**
 * Aggregation of fidelity cells into tidy rows: per (setting, preset, LR, estimator), the mean over
 * queries of each seed, mean ± std over seeds, a two-stage bootstrap CI (seeds, then queries within each
 * seed: stats.ts `clusterBootstrapCI`), and the relative gain of one estimator over another with the paired
 * two-stage bootstrap. With one seed both are the plain bootstrap over queries.
 *
 * @module
 */
import { clusterBootstrapCI, clusterPairedDiff, clusterRelativeGain, mean, meanStd } from '../analysis/stats.ts';
import type { FidelityResult } from './fidelity.ts';

/** One tidy row of a fidelity summary. */
export interface FidelityRow {
  setting: string;
  preset: string;
  lr: number;
  /** Optimizer of the attributed run (`adamw`, or `sgd` for the control). */
  optimizer: string;
  /** Display label. */
  estimator: string;
  /** Stable id (cell.ts `estimatorId`): what code matches on. */
  estimatorId: string;
  metric: 'spearman' | 'pearson';
  seeds: number[];
  /** Mean over queries, per seed (same order as `seeds`). */
  perSeed: number[];
  /** Mean ± std over seeds of the per-seed means (std is NaN with one seed: `NaN` in the CSV, null in the JSON). */
  mean: number;
  std: number;
  /** 95% two-stage percentile-bootstrap CI (seeds, then queries within seeds) of the mean of all (seed, query) values. */
  lo: number;
  hi: number;
  /** (seed, query) values used / skipped (NaN: constant column). */
  n: number;
  skipped: number;
  /** Mean estimator wall time per seed (s). */
  seconds: number;
}

/** A relative-gain row: (mean A − mean B)/|mean B| over paired (seed, query) values. */
export interface GainRow {
  setting: string;
  preset: string;
  lr: number;
  optimizer: string;
  metric: 'spearman' | 'pearson';
  /** Display labels of the two estimators. */
  a: string;
  b: string;
  /** Their stable ids. */
  aId: string;
  bId: string;
  /** mean(a) / mean(b) − 1 over the paired (seed, query) values, with its CI; ill-conditioned when mean(b) ≈ 0. */
  gain: number;
  lo: number;
  hi: number;
  /** mean(a − b), the absolute difference (e.g. Δρ), with its CI: well defined where `gain` is not. */
  diff: number;
  diffLo: number;
  diffHi: number;
  n: number;
}

function groupKey(r: FidelityResult): string {
  return `${r.cell.setting}|${r.cell.preset}|${r.cell.lr}|${optimizerOf(r)}`;
}

/** The optimizer a cell trained with: `sgd` for the SGD control, else the setting's own (`adamw`). */
export function optimizerOf(r: FidelityResult): string {
  return r.cell.optimizer ?? 'adamw';
}

/** Groups results by (setting, preset, LR), seeds sorted. */
export function groupCells(results: FidelityResult[]): FidelityResult[][] {
  const groups = new Map<string, FidelityResult[]>();
  for (const r of results) (groups.get(groupKey(r)) ?? groups.set(groupKey(r), []).get(groupKey(r))!).push(r);
  return [...groups.values()].map((g) => g.sort((a, b) => a.cell.seed - b.cell.seed));
}

/** Tidy summary rows for every estimator (by id) in the results (seeded bootstrap, reproducible). */
export function summariseFidelity(results: FidelityResult[], seed = 0): FidelityRow[] {
  const rows: FidelityRow[] = [];
  for (const g of groupCells(results)) {
    const ids = [...new Set(g.flatMap((r) => r.estimators.map((e) => e.id)))];
    for (const id of ids) {
      const label = g.flatMap((r) => r.estimators).find((e) => e.id === id)!.label;
      for (const metric of ['spearman', 'pearson'] as const) {
        const perSeed: number[] = [];
        const bySeed: number[][] = [];
        const secs: number[] = [];
        const seeds: number[] = [];
        for (const r of g) {
          const e = r.estimators.find((x) => x.id === id);
          if (!e) continue;
          const vals = e[metric].map((v) => (v === null ? NaN : v));
          const finite = vals.filter((v) => Number.isFinite(v));
          perSeed.push(finite.length ? mean(finite) : NaN);
          bySeed.push(vals);
          secs.push(e.seconds);
          seeds.push(r.cell.seed);
        }
        const ms = meanStd(perSeed);
        const ci = clusterBootstrapCI(bySeed, { seed, reps: 2000 });
        rows.push({
          setting: g[0].cell.setting,
          preset: g[0].cell.preset,
          lr: g[0].cell.lr,
          optimizer: optimizerOf(g[0]),
          estimator: label,
          estimatorId: id,
          metric,
          seeds,
          perSeed,
          mean: ms.mean,
          std: ms.std,
          lo: ci.lo,
          hi: ci.hi,
          n: ci.n,
          skipped: ci.skipped,
          seconds: mean(secs),
        });
      }
    }
  }
  return rows;
}

/** Relative gain of estimator `a` over `b` (ids) in each group, paired over (seed, query), seeds resampled first. */
export function relativeGains(results: FidelityResult[], a: string, b: string, metric: 'spearman' | 'pearson' = 'spearman', seed = 0): GainRow[] {
  const out: GainRow[] = [];
  for (const g of groupCells(results)) {
    const av: number[][] = [];
    const bv: number[][] = [];
    let labels: [string, string] | undefined;
    for (const r of g) {
      const ea = r.estimators.find((x) => x.id === a);
      const eb = r.estimators.find((x) => x.id === b);
      if (!ea || !eb) continue;
      labels = [ea.label, eb.label];
      // Pair query by query: both score the cell's first queries, so with different `maxQueries` the common
      // prefix holds the same queries.
      const n = Math.min(ea[metric].length, eb[metric].length);
      av.push(ea[metric].slice(0, n).map((v) => (v === null ? NaN : v)));
      bv.push(eb[metric].slice(0, n).map((v) => (v === null ? NaN : v)));
    }
    if (!av.length) continue;
    const rg = clusterRelativeGain(av, bv, { seed, reps: 2000 });
    const d = clusterPairedDiff(av, bv, { seed, reps: 2000 });
    out.push({
      setting: g[0].cell.setting, preset: g[0].cell.preset, lr: g[0].cell.lr, optimizer: optimizerOf(g[0]), metric, a: labels![0], b: labels![1], aId: a, bId: b,
      gain: rg.gain, lo: rg.lo, hi: rg.hi, diff: d.mean, diffLo: d.lo, diffHi: d.hi, n: rg.n,
    });
  }
  return out;
}

/** Rows as CSV text (header from the first row's keys; arrays joined with ';'). */
export function toCsv(rows: object[]): string {
  if (!rows.length) return '';
  const keys = Object.keys(rows[0]);
  const cell = (v: unknown) => {
    const s = Array.isArray(v) ? v.join(';') : typeof v === 'number' ? String(v) : String(v ?? '');
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [keys.join(','), ...rows.map((r) => keys.map((k) => cell((r as Record<string, unknown>)[k])).join(','))].join('\n') + '\n';
}
