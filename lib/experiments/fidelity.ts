/**
 * Fidelity of estimators against TSLOO ground truth on one (setting, preset, LR, seed) cell — the paper's
 * protocol: Spearman (and Pearson) across the scored training samples, per query, then averaged over
 * queries; mean ± std over seeds and bootstrap CIs over queries come from {@link summariseFidelity}.
 *
 * Every expensive phase is cached on disk (kronfluence-style persisted phases): the base trajectory
 * (resumable store), TSLOO (per-group files, resumable), and each estimator's scores (one JSON file each).
 * Results are written as JSON next to the config, seed, backend and versions that produced them.
 *
 * @module
 */
import fs from 'node:fs';
import path from 'node:path';
import { runtimeInfo, engineScoped } from '../runtime/backend.ts';
import { log } from '../runtime/log.ts';
import { loadSetting } from '../settings/index.ts';
import { selectSubset } from '../data/subsets.ts';
import { subset } from '../data/dataset.ts';
import { train } from '../train/trainer.ts';
import { settingHash } from '../train/setting.ts';
import { writeVerifiedJson } from '../cache/integrity.ts';
import { cachedJson } from '../cache/entry.ts';
import type { Occurrence } from '../train/trajectory.ts';
import { tsloo } from '../groundtruth/tsloo.ts';
import { getEstimator } from '../estimators/registry.ts';
import type { AttributionTask } from '../estimators/types.ts';
import { column, fromJSON, scoreMatrix, toJSON, type ScoreMatrix } from '../analysis/score-matrix.ts';
import { pearson, perQuery, spearman, summarizeQueries } from '../analysis/metrics.ts';

/** An estimator to evaluate: registry name, options, and the label it is reported under. */
export interface EstimatorSpec {
  label: string;
  name: string;
  options?: Record<string, unknown>;
  /**
   * Score only the first `maxQueries` queries of the cell (the same queries, in the same order, as every other
   * estimator's first columns). Exact-curvature sweeps cost one HVP per query per step, so on the CPU-scale CNN and
   * transformer cells they get fewer queries than the cheap estimators; TSLOO always covers all `nQueries`.
   */
  maxQueries?: number;
}

/** One attribution cell: what is trained, which samples are scored, which queries are asked. */
export interface AttributionCell {
  /** Setting name (lib/settings), e.g. `mlp`. */
  setting: string;
  /** The setting's own preset (data and model size), e.g. `quick`. */
  preset: string;
  lr: number;
  seed: number;
  /** Training samples scored: a seeded subset of the training set (stream `scored-train`). */
  nScored: number;
  /** Queries: the first `nQueries` examples of the setting's test set. */
  nQueries: number;
}

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
  /** Cache root for trajectories, TSLOO and scores (default `results/cache`). */
  cacheDir?: string;
  /** Result root (default `results/fidelity`). */
  outDir?: string;
}

/** Per-estimator outcome of a cell. */
export interface EstimatorOutcome {
  label: string;
  name: string;
  options: Record<string, unknown>;
  /** Spearman per query `[nQueries]` (NaN where undefined). */
  spearman: number[];
  pearson: number[];
  /** Queries scored (the first `nQueries` of the cell; less than the cell's when the spec set `maxQueries`; absent in
   *  files written before the field existed, where it equals the cell's). */
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
  tsloo: { seconds: number; method: string; noise: unknown; complete: boolean; baseLossMean: number };
  trainSeconds: number;
  /** Wall time of this call (a cached cell takes seconds) and the process's peak resident memory so far. */
  wallSeconds?: number;
  peakRssMB?: number;
  estimators: EstimatorOutcome[];
  runtime: ReturnType<typeof runtimeInfo>;
  createdAt: string;
}

/** Directory of a cell's result. */
export function cellDir(cell: FidelityCell, outDir = 'results/fidelity'): string {
  return path.join(outDir, `${cell.setting}-${cell.preset}${cell.optimizer ? `-${cell.optimizer}` : ''}`, `lr${cell.lr}`, `seed${cell.seed}`);
}


/**
 * Runs (or resumes, or loads) one fidelity cell and writes `<outDir>/<setting>-<preset>/lr<lr>/seed<seed>/result.json`.
 */
export async function runFidelityCell(cell: FidelityCell, paths: FidelityPaths = {}): Promise<FidelityResult> {
  const tCell = performance.now();
  const cacheDir = paths.cacheDir ?? 'results/cache';
  const outDir = paths.outDir ?? 'results/fidelity';
  const loaded = await loadSetting(cell.setting, cell.preset, { seed: cell.seed, lr: cell.lr });
  const { model } = loaded;
  let setting = loaded.setting;
  let describe = loaded.describe;
  if (cell.optimizer === 'sgd') {
    setting = { ...setting, optimizer: { kind: 'sgd', momentum: 0, weightDecay: 0 } };
    describe = { ...describe, training: setting };
  } else if (cell.optimizer !== undefined) {
    throw new Error(`fidelity: cell.optimizer must be 'sgd' or absent, got '${cell.optimizer}'`);
  }
  if (cell.nScored > loaded.train.n) throw new Error(`fidelity: nScored ${cell.nScored} > training set size ${loaded.train.n}`);
  if (cell.nQueries > loaded.test.n) throw new Error(`fidelity: nQueries ${cell.nQueries} > test set size ${loaded.test.n}`);
  const queries = subset(loaded.test, Array.from({ length: cell.nQueries }, (_, i) => i), `${loaded.test.name}[:${cell.nQueries}]`);
  const scoredIds = selectSubset(loaded.train.n, cell.nScored, cell.seed, 'scored-train');
  const describeHash = settingHash(engineScoped(describe)).slice(0, 16);

  // Phase 1: the base trajectory (resumable store keyed by the full setting description).
  const t0 = performance.now();
  const trajectory = await train({
    model,
    data: loaded.train,
    setting,
    store: path.join(cacheDir, 'trajectories', `${cell.setting}-${describeHash}`),
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  log(`[fidelity ${cell.setting}/${cell.preset} lr ${cell.lr} seed ${cell.seed}] base run: ${trajectory.manifest.steps} steps, ${trainSeconds.toFixed(1)} s`);

  // Phase 2: ground truth.
  const gt = await tsloo({
    model,
    data: loaded.train,
    trajectory,
    queries,
    ids: scoredIds,
    occurrence: cell.occurrence ?? 'all',
    divisor: cell.divisor ?? 'original',
    cacheDir: path.join(cacheDir, 'tsloo'),
    onProgress: (d, n) => log(`  tsloo ${d}/${n}`),
  });
  log(`  tsloo: ${gt.timing.seconds.toFixed(1)} s (${gt.method})`);

  // Phase 3: estimators (each cached as a ScoreMatrix JSON).
  const task: AttributionTask = { model, data: loaded.train, trajectory, queries, trainIds: scoredIds };
  const outcomes: EstimatorOutcome[] = [];
  for (const e of cell.estimators) {
    const options = { occurrence: cell.occurrence ?? 'all', ...(e.options ?? {}) };
    const nq = e.maxQueries !== undefined ? Math.min(e.maxQueries, cell.nQueries) : cell.nQueries;
    if (!(Number.isInteger(nq) && nq >= 1)) throw new Error(`fidelity: estimator '${e.label}': maxQueries must be a positive integer, got ${e.maxQueries}`);
    const eTask = nq === cell.nQueries ? task : { ...task, queries: subset(queries, Array.from({ length: nq }, (_, i) => i), `${queries.name}[:${nq}]`) };
    const truth = nq === cell.nQueries ? gt.scores : firstColumns(gt.scores, nq);
    const key = settingHash({ run: trajectory.manifest.runHash, ids: scoredIds, q: gt.key, name: e.name, options, ...(nq === cell.nQueries ? {} : { nq }) }).slice(0, 24);
    const file = path.join(cacheDir, 'scores', `${e.name}-${key}.json`);
    const shape = (v: { scores?: { nTrain?: number; nQuery?: number } }) =>
      v.scores?.nTrain === scoredIds.length && v.scores?.nQuery === nq ? undefined : `holds a ${v.scores?.nTrain} × ${v.scores?.nQuery} score matrix, expected ${scoredIds.length} × ${nq}`;
    const entry = await cachedJson(file, `${e.label} scores`, async () => {
      const s0 = performance.now();
      let last = 0;
      const m = await getEstimator(e.name).score(eTask, {
        ...options,
        // Long sweeps checkpoint beside the entry and resume after a kill (bit-identical).
        checkpoint: { file: file.replace(/\.json$/, '.resume'), key },
        onProgress: (d: number, n: number, what: string) => {
          const now = performance.now();
          if (now - last > 5000 || d === n) {
            log(`  ${e.label}: ${d}/${n} ${what}`);
            last = now;
          }
        },
      });
      return { estimator: e.name, options, seconds: (performance.now() - s0) / 1000, scores: toJSON(m) };
    }, { validate: shape });
    const scores: ScoreMatrix = fromJSON(entry.value.scores);
    const seconds: number = entry.value.seconds;
    const cached = entry.cached;
    const sp = perQuery(spearman, scores, truth);
    const pe = perQuery(pearson, scores, truth);
    const outcome: EstimatorOutcome = {
      label: e.label,
      name: e.name,
      options,
      spearman: Array.from(sp),
      pearson: Array.from(pe),
      nQueries: nq,
      meanSpearman: summarizeQueries(sp).mean,
      meanPearson: summarizeQueries(pe).mean,
      seconds,
      cached,
    };
    log(`  ${e.label}: spearman ${outcome.meanSpearman.toFixed(4)}  pearson ${outcome.meanPearson.toFixed(4)}  (${nq} queries, ${seconds.toFixed(1)} s${cached ? ', cached' : ''})`);
    outcomes.push(outcome);
  }

  const result: FidelityResult = {
    format: 'faithful-tda/fidelity-cell',
    version: 1,
    cell,
    describe,
    trainSettingHash: settingHash(setting),
    runHash: trajectory.manifest.runHash,
    scoredIds,
    tsloo: {
      seconds: gt.timing.computeSeconds,
      method: gt.method,
      noise: gt.noise,
      complete: gt.complete,
      baseLossMean: gt.baseLosses.reduce((a, b) => a + b, 0) / gt.baseLosses.length,
    },
    trainSeconds,
    wallSeconds: (performance.now() - tCell) / 1000,
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    estimators: outcomes,
    runtime: runtimeInfo(),
    createdAt: new Date().toISOString(),
  };
  writeVerifiedJson(path.join(cellDir(cell, outDir), 'result.json'), result, 1);
  return result;
}

/** The first `k` query columns of a score matrix `[nTrain, nQuery]` → `[nTrain, k]`. */
function firstColumns(m: ScoreMatrix, k: number): ScoreMatrix {
  const out = scoreMatrix(m.nTrain, k);
  for (let q = 0; q < k; q++) {
    const c = column(m, q);
    for (let i = 0; i < m.nTrain; i++) out.values[i * k + q] = c[i];
  }
  return out;
}
