/**
 * The metrics step of the cell pipeline: an estimator's agreement with TSLOO per query (Spearman and Pearson
 * across the scored samples), with a percentile-bootstrap CI over queries.
 *
 * @module
 */
import { pearson, perQuery, spearman } from '../analysis/metrics.ts';
import { bootstrapCI } from '../analysis/stats.ts';
import type { ScoreMatrix } from '../analysis/score-matrix.ts';
import type { AttributionCell, EstimatorScores } from './cell.ts';

/** One tidy fidelity row: an estimator's agreement with TSLOO on one cell. */
export interface FidelityStatRow {
  setting: string;
  preset: string;
  lr: number;
  seed: number;
  /** Display label, and the stable id code matches on (cell.ts `estimatorId`). */
  estimator: string;
  estimatorId: string;
  metric: 'spearman' | 'pearson';
  /** Mean over queries of the per-query correlation across scored samples. */
  mean: number;
  /** 95% percentile-bootstrap CI of that mean over queries (seeded, 2000 resamples). */
  lo: number;
  hi: number;
  /** Queries used / skipped (NaN: a constant column). */
  n: number;
  skipped: number;
  seconds: number;
  cached: boolean;
}

/**
 * Spearman and Pearson of `est` against `truth`, per query (across scored samples), with a bootstrap CI
 * over queries.
 * @returns the two rows and the per-query values `[nQueries]` of each metric (NaN where undefined)
 */
export function fidelityRows(cell: AttributionCell, est: EstimatorScores, truth: ScoreMatrix): { rows: FidelityStatRow[]; perQuery: Record<'spearman' | 'pearson', Float64Array> } {
  const per = { spearman: perQuery(spearman, est.scores, truth), pearson: perQuery(pearson, est.scores, truth) };
  const rows = (['spearman', 'pearson'] as const).map((metric): FidelityStatRow => {
    const ci = bootstrapCI(per[metric], { seed: 0, reps: 2000 });
    return {
      setting: cell.setting, preset: cell.preset, lr: cell.lr, seed: cell.seed, estimator: est.label, estimatorId: est.id, metric,
      mean: ci.mean, lo: ci.lo, hi: ci.hi, n: ci.n, skipped: ci.skipped, seconds: est.seconds, cached: est.cached,
    };
  });
  return { rows, perQuery: per };
}
