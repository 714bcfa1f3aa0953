/**
 * Notebook 00 — quickstart: train the MLP setting, attribute with AdamW-influence, and compare with TSLOO
 * ground truth, in about a minute on the quick preset. The notebook shows the pipeline's steps one by one
 * (lib/pipeline/cell.ts: prepareCell → groundTruth → cachedScores, then pipeline/metrics.ts fidelityRows);
 * {@link runQuickstart} chains them and writes the result files.
 *
 * The cell is the optimizer-mismatch quick MLP cell, through the same pipeline and caches, so either finding
 * reuses what the other computed.
 *
 * @module
 */
import { VARIANTS } from '../../pipeline/variants.ts';
import path from 'node:path';
import { runtimeInfo } from '../../runtime/backend.ts';
import type { TslooResult } from '../../groundtruth/tsloo.ts';
import { column } from '../../analysis/score-matrix.ts';
import { writeResultFiles } from '../../pipeline/results.ts';
import { cachedScores, groundTruth, prepareCell, type AttributionCell, type CellOptions, type EstimatorScores, type EstimatorSpec, type PreparedCell } from '../../pipeline/cell.ts';
import { fidelityRows, type FidelityStatRow } from '../../pipeline/metrics.ts';
import { findingDir } from '../../pipeline/paths.ts';
import { UsageError } from '../../runtime/errors.ts';

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
export const QUICKSTART_ESTIMATORS: EstimatorSpec[] = [VARIANTS.adamwExact, VARIANTS.tracin];

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
export interface QuickstartOptions extends Pick<CellOptions, 'cacheDir' | 'log'> {
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
  writeResultFiles(path.join(o.outDir ?? findingDir('quickstart'), presetName), { 'summary.json': summary, 'summary.csv': rows, 'points.csv': points });
  return summary;
}

/**
 * Runs the quickstart: train (or reuse) the cell's base run, TSLOO, each estimator, then Spearman/Pearson per
 * query with bootstrap CIs; writes `<outDir>/<preset>/summary.json`, `summary.csv`, `points.csv`.
 * @param preset a name of {@link QUICKSTART_PRESETS}, or a preset object (tests use a smaller cell)
 */
export async function runQuickstart(preset: string | QuickstartPreset, o: QuickstartOptions & { name?: string } = {}): Promise<QuickstartSummary> {
  const p = typeof preset === 'string' ? QUICKSTART_PRESETS[preset] : preset;
  if (!p) throw new UsageError(`unknown quickstart preset '${preset}'; known: ${Object.keys(QUICKSTART_PRESETS).join(', ')}`);
  const name = typeof preset === 'string' ? preset : (o.name ?? 'custom');
  const t0 = performance.now();
  const prepared = await prepareCell(p.cell, o);
  prepared.log(`[${p.cell.setting}/${p.cell.preset} lr ${p.cell.lr} seed ${p.cell.seed}] base run: ${prepared.task.trajectory.manifest.steps} steps, ${prepared.trainSeconds.toFixed(1)} s`);
  const gt = await groundTruth(prepared);
  if (!gt.complete) throw new Error('quickstart: TSLOO did not complete');
  const scored: EstimatorScores[] = [];
  for (const e of p.estimators) scored.push(await cachedScores(prepared, gt, e));
  return writeQuickstartSummary(name, p, prepared, gt, scored, (performance.now() - t0) / 1000, o);
}
