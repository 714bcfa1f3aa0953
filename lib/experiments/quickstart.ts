/**
 * Notebook 00 — quickstart: train the MLP setting, attribute with AdamW-influence, and compare with TSLOO
 * ground truth, in about a minute on the quick preset. The steps are exported one by one
 * ({@link prepareCell} → {@link groundTruth} → {@link scoreEstimator} → {@link fidelityRows}) so the notebook
 * can show each of them; {@link runQuickstart} chains them and writes the result files.
 *
 * One attribution cell is (setting, preset, LR, seed, scored samples, queries), exactly as in
 * lib/experiments/fidelity.ts, and every phase uses fidelity.ts's cache layout under `results/cache`
 * (trajectory store, TSLOO groups, estimator scores with the same keys). The quickstart therefore reuses
 * what the optimizer-mismatch experiment computed for the same MLP cell, and the other way round.
 *
 * Paths default to the project root (found from this file), not the current directory, because a notebook
 * kernel starts in notebooks/.
 *
 * @module
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runtimeInfo, engineScoped } from '../runtime/backend.ts';
import { loadSetting } from '../settings/index.ts';
import type { LoadedSetting } from '../settings/mlp.ts';
import { selectSubset } from '../data/subsets.ts';
import { subset } from '../data/dataset.ts';
import { train } from '../train/trainer.ts';
import { settingHash } from '../train/setting.ts';
import { readCachedJson, writeVerified } from '../cache/integrity.ts';
import { tsloo, type TslooResult } from '../groundtruth/tsloo.ts';
import { getEstimator } from '../estimators/registry.ts';
import type { AttributionTask, Estimator } from '../estimators/types.ts';
import { column, fromJSON, toJSON, type ScoreMatrix } from '../analysis/score-matrix.ts';
import { pearson, perQuery, spearman } from '../analysis/metrics.ts';
import { bootstrapCI } from '../analysis/stats.ts';
import { writeResultFiles } from './results.ts';
import type { AttributionCell, EstimatorSpec } from './fidelity.ts';

/** Absolute path of the repository root (this file is lib/experiments/quickstart.ts). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Default cache root, shared with every fidelity experiment. */
export const DEFAULT_CACHE_DIR = path.join(REPO_ROOT, 'results', 'cache');

export type { AttributionCell } from './fidelity.ts';

/** A trained cell, ready to be attributed. */
export interface PreparedCell {
  cell: AttributionCell;
  loaded: LoadedSetting;
  /** The estimator input: model, training data, base trajectory, queries `[nQueries]`, scored ids `[nScored]`. */
  task: AttributionTask;
  /** Seconds spent in `train` (near 0 when the stored trajectory was reused). */
  trainSeconds: number;
  /** Training loss of the first and the last step. */
  firstLoss: number;
  lastLoss: number;
}

/** Where the phases are cached. */
export interface CacheOptions {
  /** Cache root (default {@link DEFAULT_CACHE_DIR}). */
  cacheDir?: string;
  /** Progress lines on stderr (default: unless FTDA_QUIET=1). */
  log?: (msg: string) => void;
}

function logger(o: CacheOptions): (msg: string) => void {
  return o.log ?? ((msg) => (process.env.FTDA_QUIET !== '1' ? console.error(msg) : undefined));
}

/**
 * Loads the setting, selects scored ids and queries as fidelity.ts does, and trains the base run (or
 * reuses the stored trajectory under `<cacheDir>/trajectories`).
 */
export async function prepareCell(cell: AttributionCell, o: CacheOptions = {}): Promise<PreparedCell> {
  const cacheDir = o.cacheDir ?? DEFAULT_CACHE_DIR;
  const loaded = await loadSetting(cell.setting, cell.preset, { seed: cell.seed, lr: cell.lr });
  if (cell.nScored > loaded.train.n) throw new Error(`${cell.setting}/${cell.preset}: nScored ${cell.nScored} > training set size ${loaded.train.n}`);
  if (cell.nQueries > loaded.test.n) throw new Error(`${cell.setting}/${cell.preset}: nQueries ${cell.nQueries} > test set size ${loaded.test.n}`);
  const queries = subset(loaded.test, Array.from({ length: cell.nQueries }, (_, i) => i), `${loaded.test.name}[:${cell.nQueries}]`);
  const trainIds = selectSubset(loaded.train.n, cell.nScored, cell.seed, 'scored-train');
  const t0 = performance.now();
  const trajectory = await train({
    model: loaded.model,
    data: loaded.train,
    setting: loaded.setting,
    store: path.join(cacheDir, 'trajectories', `${cell.setting}-${settingHash(engineScoped(loaded.describe)).slice(0, 16)}`),
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  logger(o)(`[${cell.setting}/${cell.preset} lr ${cell.lr} seed ${cell.seed}] base run: ${trajectory.manifest.steps} steps, ${trainSeconds.toFixed(1)} s`);
  const losses = trajectory.losses;
  return {
    cell,
    loaded,
    task: { model: loaded.model, data: loaded.train, trajectory, queries, trainIds },
    trainSeconds,
    firstLoss: losses[0],
    lastLoss: losses[losses.length - 1],
  };
}

/** TSLOO ground truth `[nScored, nQueries]` of a prepared cell (all occurrences removed, original divisor; cached). */
export async function groundTruth(p: PreparedCell, o: CacheOptions = {}): Promise<TslooResult> {
  const log = logger(o);
  const gt = await tsloo({
    model: p.task.model,
    data: p.task.data,
    trajectory: p.task.trajectory,
    queries: p.task.queries,
    ids: p.task.trainIds,
    occurrence: 'all',
    divisor: 'original',
    cacheDir: path.join(o.cacheDir ?? DEFAULT_CACHE_DIR, 'tsloo'),
    onProgress: (d, n) => log(`  tsloo ${d}/${n}`),
  });
  if (!gt.complete) throw new Error('groundTruth: TSLOO did not complete');
  log(`  tsloo: ${gt.timing.computeSeconds.toFixed(1)} s of compute (${gt.method})`);
  return gt;
}

/** An estimator to score: a registry entry (cached) or an estimator object (never cached: its code may change). */
export type ScoredEstimator = EstimatorSpec | { label: string; estimator: Estimator<never>; options?: Record<string, unknown> };

/** Scores of one estimator on a cell. */
export interface EstimatorScores {
  label: string;
  name: string;
  /** `[nScored, nQueries]`, rows in `task.trainIds` order. */
  scores: ScoreMatrix;
  seconds: number;
  cached: boolean;
}

/**
 * Scores `e` on the prepared cell. A registry estimator's scores are cached under `<cacheDir>/scores` with
 * fidelity.ts's key (run, ids, TSLOO key, name, options), so either side reuses the other's files.
 * @param gt the cell's ground truth (its cache key is part of the score key)
 */
export async function scoreEstimator(p: PreparedCell, gt: TslooResult, e: ScoredEstimator, o: CacheOptions = {}): Promise<EstimatorScores> {
  const cacheDir = o.cacheDir ?? DEFAULT_CACHE_DIR;
  const options: Record<string, unknown> = { occurrence: 'all', ...(e.options ?? {}) };
  const est = 'estimator' in e ? e.estimator : getEstimator(e.name);
  const file =
    'estimator' in e
      ? undefined
      : path.join(cacheDir, 'scores', `${e.name}-${settingHash({ run: p.task.trajectory.manifest.runHash, ids: p.task.trainIds, q: gt.key, name: e.name, options }).slice(0, 24)}.json`);
  const saved = file ? readCachedJson<{ seconds: number; scores: unknown }>(file, `${e.label} scores`) : undefined;
  if (saved) return { label: e.label, name: est.name, scores: fromJSON(saved.scores), seconds: saved.seconds, cached: true };
  const t0 = performance.now();
  const scores = await (est as Estimator).score(p.task, options);
  const seconds = (performance.now() - t0) / 1000;
  if (scores.nTrain !== p.task.trainIds.length || scores.nQuery !== p.task.queries.n) {
    throw new Error(`estimator '${est.name}' returned ${scores.nTrain} × ${scores.nQuery} scores; expected ${p.task.trainIds.length} × ${p.task.queries.n} (trainIds × queries)`);
  }
  if (file) writeVerified(file, JSON.stringify({ estimator: est.name, options, seconds, scores: toJSON(scores) }));
  logger(o)(`  ${e.label}: ${seconds.toFixed(1)} s`);
  return { label: e.label, name: est.name, scores, seconds, cached: false };
}

/** One tidy fidelity row: an estimator's agreement with TSLOO on one cell. */
export interface FidelityStatRow {
  setting: string;
  preset: string;
  lr: number;
  seed: number;
  estimator: string;
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
      setting: cell.setting, preset: cell.preset, lr: cell.lr, seed: cell.seed, estimator: est.label, metric,
      mean: ci.mean, lo: ci.lo, hi: ci.hi, n: ci.n, skipped: ci.skipped, seconds: est.seconds, cached: est.cached,
    };
  });
  return { rows, perQuery: per };
}

/** A quickstart preset: the cell and how many queries the scatter shows. */
export interface QuickstartPreset {
  cell: AttributionCell;
  estimators: EstimatorSpec[];
  /** Queries whose (TSLOO, estimate) pairs are kept for the scatter plot (all scored samples of each). */
  scatterQueries: number;
}

/**
 * AdamW-influence, the estimator the quickstart is about, and TracIn, the common SGD-derived practice, as
 * a reference. Labels and options equal optimizer-mismatch's, so their cached scores are shared.
 */
export const QUICKSTART_ESTIMATORS: EstimatorSpec[] = [
  { label: 'AdamW-influence (exact)', name: 'adamw-influence', options: { curvature: 'exact' } },
  { label: 'TracIn', name: 'tracin' },
];

/**
 * `quick`: the quick MNIST MLP (3,200 training images, 50 AdamW steps), LR 1e-3, seed 0, 40 scored samples ×
 * 40 queries — the optimizer-mismatch quick MLP cell. `full` / `paper`: the paper's MLP (6,000 images), 200 × 500,
 * the optimizer-mismatch full cell at LR 1e-3, seed 0.
 */
export const QUICKSTART_PRESETS: Record<string, QuickstartPreset> = {
  quick: { cell: { setting: 'mlp', preset: 'quick', lr: 1e-3, seed: 0, nScored: 40, nQueries: 40 }, estimators: QUICKSTART_ESTIMATORS, scatterQueries: 4 },
  full: { cell: { setting: 'mlp', preset: 'full', lr: 1e-3, seed: 0, nScored: 200, nQueries: 500 }, estimators: QUICKSTART_ESTIMATORS, scatterQueries: 4 },
  paper: { cell: { setting: 'mlp', preset: 'paper', lr: 1e-3, seed: 0, nScored: 200, nQueries: 500 }, estimators: QUICKSTART_ESTIMATORS, scatterQueries: 4 },
};

/** One point of the scatter: a (scored sample, query) pair. */
export interface ScatterPoint {
  estimator: string;
  /** Query index in `0..nQueries-1`. */
  query: number;
  /** Training id (index into the setting's training set). */
  trainId: number;
  tsloo: number;
  estimate: number;
}

/** The summary file written by {@link runQuickstart}. */
export interface QuickstartSummary {
  format: 'faithful-tda/quickstart';
  version: 1;
  preset: string;
  cell: AttributionCell;
  training: { steps: number; seconds: number; firstLoss: number; lastLoss: number; runHash: string };
  tsloo: { method: string; computeSeconds: number; noise: unknown; meanQueryLoss: number };
  rows: FidelityStatRow[];
  /** Per-query Spearman `[nQueries]` per estimator label. */
  perQuery: { estimator: string; spearman: (number | null)[] }[];
  points: ScatterPoint[];
  seconds: number;
  runtime: ReturnType<typeof runtimeInfo>;
  createdAt: string;
}

/** Options of {@link runQuickstart}. */
export interface QuickstartOptions extends CacheOptions {
  /** Result root (default `<repo>/results/quickstart`); files go to `<outDir>/<preset>/`. */
  outDir?: string;
}

/** Finite number or null (JSON has no NaN). */
const fin = (x: number): number | null => (Number.isFinite(x) ? x : null);

/**
 * Builds the summary from the computed pieces (exported for the notebook, which computes them cell by cell)
 * and writes `summary.json`, `summary.csv` (the rows) and `points.csv` under `<outDir>/<presetName>/`.
 * @param scored the estimators' scores, each `[nScored, nQueries]`
 */
export function writeQuickstartSummary(presetName: string, preset: QuickstartPreset, p: PreparedCell, gt: TslooResult, scored: EstimatorScores[], seconds: number, o: QuickstartOptions = {}): QuickstartSummary {
  const rows: FidelityStatRow[] = [];
  const perQueryOut: QuickstartSummary['perQuery'] = [];
  const points: ScatterPoint[] = [];
  const nq = Math.min(preset.scatterQueries, p.task.queries.n);
  for (const s of scored) {
    const f = fidelityRows(preset.cell, s, gt.scores);
    rows.push(...f.rows);
    perQueryOut.push({ estimator: s.label, spearman: Array.from(f.perQuery.spearman, fin) });
    for (let q = 0; q < nq; q++) {
      const truth = column(gt.scores, q);
      const est = column(s.scores, q);
      p.task.trainIds.forEach((trainId, i) => points.push({ estimator: s.label, query: q, trainId, tsloo: truth[i], estimate: est[i] }));
    }
  }
  const summary: QuickstartSummary = {
    format: 'faithful-tda/quickstart',
    version: 1,
    preset: presetName,
    cell: preset.cell,
    training: { steps: p.task.trajectory.manifest.steps, seconds: p.trainSeconds, firstLoss: p.firstLoss, lastLoss: p.lastLoss, runHash: p.task.trajectory.manifest.runHash },
    tsloo: { method: gt.method, computeSeconds: gt.timing.computeSeconds, noise: gt.noise, meanQueryLoss: gt.baseLosses.reduce((a, b) => a + b, 0) / gt.baseLosses.length },
    rows,
    perQuery: perQueryOut,
    points,
    seconds,
    runtime: runtimeInfo(),
    createdAt: new Date().toISOString(),
  };
  writeResultFiles(path.join(o.outDir ?? path.join(REPO_ROOT, 'results', 'quickstart'), presetName), { 'summary.json': summary, 'summary.csv': rows, 'points.csv': points });
  return summary;
}

/**
 * Runs the quickstart: train (or reuse) the cell's base run, TSLOO, each estimator, then Spearman/Pearson per
 * query with bootstrap CIs; writes `<outDir>/<preset>/summary.json`, `summary.csv`, `points.csv`.
 * @param preset a name of {@link QUICKSTART_PRESETS}, or a preset object (tests use a smaller cell)
 */
export async function runQuickstart(preset: string | QuickstartPreset, o: QuickstartOptions & { name?: string } = {}): Promise<QuickstartSummary> {
  const p = typeof preset === 'string' ? QUICKSTART_PRESETS[preset] : preset;
  if (!p) throw new Error(`unknown quickstart preset '${preset}'; known: ${Object.keys(QUICKSTART_PRESETS).join(', ')}`);
  const name = typeof preset === 'string' ? preset : (o.name ?? 'custom');
  const t0 = performance.now();
  const prepared = await prepareCell(p.cell, o);
  const gt = await groundTruth(prepared, o);
  const scored: EstimatorScores[] = [];
  for (const e of p.estimators) scored.push(await scoreEstimator(prepared, gt, e, o));
  return writeQuickstartSummary(name, p, prepared, gt, scored, (performance.now() - t0) / 1000, o);
}
