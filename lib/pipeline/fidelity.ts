/**
 * A fidelity cell: estimators against TSLOO ground truth on one attribution cell — the paper's protocol.
 * Spearman (and Pearson) across the scored training samples, per query, then averaged over queries; means over
 * seeds and bootstrap CIs come from summary.ts.
 *
 * The phases are cell.ts's (each cached: trajectory store, TSLOO groups, estimator scores); the cell's result is
 * written as `<outDir>/<setting>-<preset>[-sgd]/lr<lr>/seed<seed>/result.json` with its integrity record, next to
 * the config, seed, engine and versions that produced it.
 *
 * @module
 */
import path from 'node:path';
import { CacheMismatchError, UsageError } from '../runtime/errors.ts';
import { runtimeInfo } from '../runtime/backend.ts';
import { contentHash } from '../train/setting.ts';
import type { Occurrence } from '../train/trajectory.ts';
import { readVerifiedJson, writeVerifiedJson } from '../cache/integrity.ts';
import { column, scoreMatrix, type ScoreMatrix } from '../analysis/score-matrix.ts';
import { pearson, perQuery, spearman, summarizeQueries } from '../analysis/metrics.ts';
import { cachedScores, estimatorId, groundTruth, prepareCell, type AttributionCell, type EstimatorSpec } from './cell.ts';
import { resultsRoot } from './paths.ts';
import { entriesWithinFloor, tslooNoiseFloor } from '../groundtruth/noise-floor.ts';

/** Perturbed base reruns per cell for the TSLOO noise floor. */
const FLOOR_RERUNS = 4;

/** One cell of a fidelity grid: an attribution cell and the estimators compared on it. */
export interface FidelityCell extends AttributionCell {
  estimators: EstimatorSpec[];
  occurrence?: Occurrence;
  divisor?: 'original' | 'remaining';
  /**
   * Train with plain SGD (no momentum, no weight decay) at `lr` instead of the setting's AdamW: the control in
   * which SGD-influence is the matched estimator. Default: the setting's own optimizer.
   */
  optimizer?: 'sgd';
}

/** Where files go. */
export interface FidelityPaths {
  /** Cache root (default `<results>/cache`). */
  cacheDir?: string;
  /** Result root of the cells (default `<results>/fidelity`). */
  outDir?: string;
}

/** Per-estimator outcome of a cell. */
export interface EstimatorOutcome {
  /** Stable id (cell.ts `estimatorId`). */
  id: string;
  label: string;
  name: string;
  options: Record<string, unknown>;
  /** Spearman per query `[nQueries]` (NaN where undefined). */
  spearman: number[];
  pearson: number[];
  /** Queries scored (the first `nQueries` of the cell; fewer when the spec set `maxQueries`). */
  nQueries?: number;
  meanSpearman: number;
  meanPearson: number;
  seconds: number;
  cached: boolean;
}

/** The result file of one cell. */
export interface FidelityResult {
  format: 'faithful-tda/fidelity-cell';
  version: 1;
  cell: FidelityCell;
  describe: unknown;
  trainSettingHash: string;
  runHash: string;
  scoredIds: number[];
  tsloo: {
    seconds: number;
    method: string;
    noise: unknown;
    complete: boolean;
    baseLossMean: number;
    /**
     * The chaos floor (groundtruth/noise-floor.ts): base reruns from θ_0 moved by ±1 ulp; `within` of `total` TSLOO
     * entries are no larger than their query's RMS deviation (absent in results written before it existed).
     */
    floor?: { reruns: number; ulps: number; meanAbs: number; maxAbs: number; within: number; total: number; seconds: number };
  };
  trainSeconds: number;
  /** Wall time of this call (a cached cell takes seconds) and the process's peak resident memory so far. */
  wallSeconds?: number;
  peakRssMB?: number;
  estimators: EstimatorOutcome[];
  runtime: ReturnType<typeof runtimeInfo>;
  createdAt: string;
}

/** Directory of a cell's result. */
export function cellDir(cell: FidelityCell, outDir = path.join(resultsRoot(), 'fidelity')): string {
  return path.join(outDir, `${cell.setting}-${cell.preset}${cell.optimizer ? `-${cell.optimizer}` : ''}`, `lr${cell.lr}`, `seed${cell.seed}`);
}

/** The first `k` query columns of a score matrix `[nTrain, nQuery]` → `[nTrain, k]`. */
export function firstColumns(m: ScoreMatrix, k: number): ScoreMatrix {
  if (k === m.nQuery) return m;
  const out = scoreMatrix(m.nTrain, k);
  for (let q = 0; q < k; q++) {
    const c = column(m, q);
    for (let i = 0; i < m.nTrain; i++) out.values[i * k + q] = c[i];
  }
  return out;
}

/**
 * Reads a cell's `result.json` (integrity-checked) for a `--cached-only` summary.
 * @returns undefined when absent
 * @throws CorruptFileError when damaged, CacheMismatchError when it predates estimator ids (version 1 without
 *   `estimators[].id`): rerun the cell without `--cached-only`, which rebuilds it from the score caches
 */
export function readFidelityResult(file: string): FidelityResult | undefined {
  const remedy = 'rerun this cell without --cached-only to rebuild it from the caches';
  const r = readVerifiedJson<FidelityResult>(file, remedy);
  if (r && r.estimators.some((e) => typeof e.id !== 'string')) throw new CacheMismatchError(`${file} predates estimator ids; ${remedy}`, file);
  return r;
}

/** Runs (or resumes, or loads) one fidelity cell and writes its `result.json` under {@link cellDir}. */
export async function runFidelityCell(cell: FidelityCell, paths: FidelityPaths = {}): Promise<FidelityResult> {
  const tCell = performance.now();
  const ids = cell.estimators.map(estimatorId);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup) throw new UsageError(`fidelity cell: two estimators share the id '${dup}' (give each spec its own \`id\`; it defaults to the registry name)`);
  const p = await prepareCell(cell, { cacheDir: paths.cacheDir, optimizer: cell.optimizer });
  const tag = `[fidelity ${cell.setting}/${cell.preset} lr ${cell.lr} seed ${cell.seed}]`;
  p.log(`${tag} base run: ${p.task.trajectory.manifest.steps} steps, ${p.trainSeconds.toFixed(1)} s`);
  const occurrence = cell.occurrence ?? 'all';
  const gt = await groundTruth(p, { occurrence, divisor: cell.divisor ?? 'original' });
  p.log(`  tsloo: ${gt.timing.seconds.toFixed(1)} s (${gt.method})`);
  const floor = (await tslooNoiseFloor({ model: p.task.model, data: p.task.data, trajectory: p.task.trajectory, queries: p.task.queries, reruns: FLOOR_RERUNS, ulps: 1, cacheDir: p.cacheDir })).value;
  const within = entriesWithinFloor(gt.scores.values, floor.perQuery);
  p.log(`  noise floor: ${within.within} of ${within.total} TSLOO entries within ±1-ulp reruns (mean |Δ| ${floor.meanAbs.toExponential(2)}, ${floor.seconds.toFixed(1)} s)`);

  const outcomes: EstimatorOutcome[] = [];
  for (const e of cell.estimators) {
    const s = await cachedScores(p, gt, { ...e, options: { occurrence, ...(e.options ?? {}) } });
    const truth = firstColumns(gt.scores, s.nQueries);
    const sp = perQuery(spearman, s.scores, truth);
    const pe = perQuery(pearson, s.scores, truth);
    const outcome: EstimatorOutcome = {
      id: s.id,
      label: e.label,
      name: e.name,
      options: s.options,
      spearman: Array.from(sp),
      pearson: Array.from(pe),
      nQueries: s.nQueries,
      meanSpearman: summarizeQueries(sp).mean,
      meanPearson: summarizeQueries(pe).mean,
      seconds: s.seconds,
      cached: s.cached,
    };
    p.log(`  ${e.label}: spearman ${outcome.meanSpearman.toFixed(4)}  pearson ${outcome.meanPearson.toFixed(4)}  (${s.nQueries} queries, ${s.seconds.toFixed(1)} s${s.cached ? ', cached' : ''})`);
    outcomes.push(outcome);
  }

  const result: FidelityResult = {
    format: 'faithful-tda/fidelity-cell',
    version: 1,
    cell,
    describe: p.describe,
    trainSettingHash: contentHash(p.trainConfig),
    runHash: p.task.trajectory.manifest.runHash,
    scoredIds: p.task.trainIds,
    tsloo: {
      seconds: gt.timing.computeSeconds,
      method: gt.method,
      noise: gt.noise,
      complete: gt.complete,
      baseLossMean: gt.baseLosses.reduce((a, b) => a + b, 0) / gt.baseLosses.length,
      floor: { reruns: floor.reruns, ulps: floor.ulps, meanAbs: floor.meanAbs, maxAbs: floor.maxAbs, within: within.within, total: within.total, seconds: floor.seconds },
    },
    trainSeconds: p.trainSeconds,
    wallSeconds: (performance.now() - tCell) / 1000,
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    estimators: outcomes,
    runtime: runtimeInfo(),
    createdAt: new Date().toISOString(),
  };
  writeVerifiedJson(path.join(cellDir(cell, paths.outDir), 'result.json'), result, 1);
  return result;
}
