/**
 * The attribution cell pipeline, in one place: setting → trajectory → ground truth → cached scores → metrics.
 * Every finding that attributes a trained run goes through these functions, so a cell computed by one finding
 * (the trajectory store, TSLOO groups, estimator scores) is found by every other one.
 *
 * - {@link prepareCell}: loads the setting at (LR, seed), optionally as plain SGD or truncated to `steps`,
 *   picks the queries (the first `nQueries` test examples) and the scored samples, and trains the base run into
 *   a resumable store `<cacheDir>/trajectories/<setting>-<hash>`.
 * - {@link groundTruth}: TSLOO of the scored samples on the queries, cached under `<cacheDir>/tsloo`.
 * - {@link cachedScores}: one estimator's scores, cached under `<cacheDir>/scores/<name>-<key>.json` with its
 *   arguments beside it; the key is {@link scoreKey}, the same wherever a cell is scored.
 *
 * @example
 * ```ts
 * const p = await prepareCell({ setting: 'mlp', preset: 'quick', lr: 1e-3, seed: 0, nScored: 40, nQueries: 40 });
 * const gt = await groundTruth(p);
 * const s = await cachedScores(p, gt, { label: 'TracIn', name: 'tracin' });
 * ```
 * @module
 */
import path from 'node:path';
import { engineScoped } from '../runtime/backend.ts';
import { log as defaultLog } from '../runtime/log.ts';
import { loadSetting } from '../settings/index.ts';
import type { Setting } from '../settings/types.ts';
import { selectSubset } from '../data/subsets.ts';
import { subset } from '../data/dataset.ts';
import { train } from '../train/trainer.ts';
import { totalSteps, type TrainConfig } from '../train/setting.ts';
import type { Trajectory } from '../train/trajectory.ts';
import { cacheKey } from '../cache/key.ts';
import { cachedJson } from '../cache/entry.ts';
import { tsloo, type TslooOptions, type TslooResult } from '../groundtruth/tsloo.ts';
import { getEstimator } from '../estimators/registry.ts';
import type { AttributionTask, Estimator } from '../estimators/types.ts';
import { fromJSON, toJSON, type ScoreMatrix } from '../analysis/score-matrix.ts';
import { DataError, UsageError } from '../runtime/errors.ts';
import { defaultCacheDir } from './paths.ts';

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

/** An estimator to evaluate: a stable id, the registry name, options, and the label it is displayed under. */
export interface EstimatorSpec {
  /**
   * Stable identifier (code matches on it, never on the label): e.g. `adamw-influence-exact`. Defaults to the
   * registry name.
   */
  id?: string;
  /** Display label (tables, figures, result rows). */
  label: string;
  /** Registry name (lib/estimators/registry.ts). */
  name: string;
  options?: Record<string, unknown>;
  /**
   * Score only the first `maxQueries` queries of the cell (the same queries, in the same order, as every other
   * estimator's first columns); TSLOO always covers all of them.
   */
  maxQueries?: number;
}

/** An estimator object to score without caching (its code may change between runs), e.g. a user's. */
export interface UncachedEstimator {
  id?: string;
  label: string;
  estimator: Estimator<never>;
  options?: Record<string, unknown>;
}

/** The stable id of a spec. */
export function estimatorId(e: EstimatorSpec | UncachedEstimator): string {
  return e.id ?? ('name' in e ? e.name : e.estimator.name);
}

/** How a cell is prepared. */
export interface CellOptions {
  /** Cache root (default `<results>/cache`, paths.ts). */
  cacheDir?: string;
  /** Train with plain SGD (no momentum, no weight decay) at the cell's LR instead of the setting's AdamW. */
  optimizer?: 'sgd';
  /** Truncate the run to its first `steps` steps (undefined: the whole plan). */
  steps?: number;
  /** Scored samples from the trained run instead of the seeded subset of the training set (e.g. those the run used). */
  scoredIds?: (trajectory: Trajectory) => number[];
  /** Progress lines (default: stderr unless FTDA_QUIET=1). */
  log?: (msg: string) => void;
}

/** A trained cell, ready to be attributed. */
export interface PreparedCell {
  cell: AttributionCell;
  loaded: Setting;
  /** The training configuration actually run (the setting's, or its SGD / truncated variant). */
  trainConfig: TrainConfig;
  /** The setting description as recorded with results (with the SGD variant when asked). */
  describe: Setting['describe'];
  /** Steps run. */
  T: number;
  /** The estimator input: model, training data, base trajectory, queries `[nQueries]`, scored ids `[nScored]`. */
  task: AttributionTask;
  /** Seconds spent in `train` (near 0 when the stored trajectory was reused). */
  trainSeconds: number;
  firstLoss: number;
  lastLoss: number;
  cacheDir: string;
  log: (msg: string) => void;
}

/**
 * Loads the setting, picks queries and scored samples, and trains the base run (or reuses its store).
 * @throws UsageError for an unknown optimizer variant; DataError when the cell asks for more samples than exist
 */
export async function prepareCell(cell: AttributionCell, o: CellOptions = {}): Promise<PreparedCell> {
  const cacheDir = o.cacheDir ?? defaultCacheDir();
  const log = o.log ?? defaultLog;
  const loaded = await loadSetting(cell.setting, cell.preset, { seed: cell.seed, lr: cell.lr });
  let setting = loaded.trainConfig;
  let describe = loaded.describe;
  if (o.optimizer === 'sgd') {
    setting = { ...setting, optimizer: { kind: 'sgd', momentum: 0, weightDecay: 0 } };
    describe = { ...describe, training: setting };
  } else if (o.optimizer !== undefined) {
    throw new UsageError(`cell optimizer must be 'sgd' or absent, got '${o.optimizer}'`);
  }
  const full = totalSteps(setting, loaded.train.n);
  const T = Math.min(o.steps ?? full, full);
  if (T < full) setting = { ...setting, maxSteps: T };
  if (cell.nScored > loaded.train.n) throw new DataError(`${cell.setting}/${cell.preset}: nScored ${cell.nScored} > training set size ${loaded.train.n}`);
  if (cell.nQueries > loaded.test.n) throw new DataError(`${cell.setting}/${cell.preset}: nQueries ${cell.nQueries} > test set size ${loaded.test.n}`);
  const queries = subset(loaded.test, Array.from({ length: cell.nQueries }, (_, i) => i), `${loaded.test.name}[:${cell.nQueries}]`);
  // The store is keyed by the description of the run (and its length when truncated), per engine.
  const runKey = cacheKey(engineScoped(T < full ? { describe, maxSteps: T } : describe), 16);
  const t0 = performance.now();
  const trajectory = await train({ model: loaded.model, data: loaded.train, setting, store: path.join(cacheDir, 'trajectories', `${cell.setting}-${runKey}`) });
  const trainSeconds = (performance.now() - t0) / 1000;
  const trainIds = o.scoredIds ? o.scoredIds(trajectory) : selectSubset(loaded.train.n, cell.nScored, cell.seed, 'scored-train');
  const losses = trajectory.losses;
  return {
    cell,
    loaded,
    trainConfig: setting,
    describe,
    T,
    task: { model: loaded.model, data: loaded.train, trajectory, queries, trainIds },
    trainSeconds,
    firstLoss: losses[0],
    lastLoss: losses[losses.length - 1],
    cacheDir,
    log,
  };
}

/** `n` of the samples a (possibly truncated) plan uses, in a seeded order. */
export function planScoredIds(traj: Trajectory, n: number, seed: number): number[] {
  const seen = [...new Set(traj.batches.flat())].sort((a, b) => a - b);
  return selectSubset(seen.length, Math.min(n, seen.length), seed, 'taylor-scored').map((i) => seen[i]);
}

/** TSLOO options a finding may set beyond the cell's (cross-check, method, row order). */
export type GroundTruthOptions = Pick<TslooOptions, 'crossCheck' | 'method' | 'rowOrder' | 'occurrence' | 'divisor'>;

/**
 * TSLOO ground truth `[nScored, nQueries]` of a prepared cell (all occurrences removed, original divisor unless
 * asked otherwise; cached and resumable).
 */
export async function groundTruth(p: PreparedCell, o: GroundTruthOptions = {}): Promise<TslooResult> {
  return tsloo({
    model: p.task.model,
    data: p.task.data,
    trajectory: p.task.trajectory,
    queries: p.task.queries,
    ids: p.task.trainIds,
    occurrence: 'all',
    divisor: 'original',
    ...o,
    cacheDir: path.join(p.cacheDir, 'tsloo'),
    onProgress: (d, n) => p.log(`  tsloo ${d}/${n}`),
  });
}

/** The arguments that determine an estimator's scores on a cell (hashed into the entry's key). */
export function scoreArgs(task: AttributionTask, groundTruthKey: string, name: string, options: Record<string, unknown>, nQueries?: number, tag?: string): Record<string, unknown> {
  return { run: task.trajectory.manifest.runHash, ids: task.trainIds, q: groundTruthKey, name, options, ...(nQueries !== undefined ? { nq: nQueries } : {}), ...(tag ? { tag } : {}) };
}

/** The cache key of an estimator's scores ({@link scoreArgs} hashed). */
export function scoreKey(args: Record<string, unknown>): string {
  return cacheKey(args);
}

/** Scores of one estimator on a cell. */
export interface EstimatorScores {
  id: string;
  label: string;
  name: string;
  /** Options the estimator ran with (occurrence included). */
  options: Record<string, unknown>;
  /** `[nScored, nQueries]` (or `[nScored, maxQueries]`), rows in `task.trainIds` order. */
  scores: ScoreMatrix;
  /** Queries scored (the first of the cell's). */
  nQueries: number;
  seconds: number;
  cached: boolean;
}

/** Options of {@link cachedScores}. */
export interface ScoreOptions {
  /** Anything else that changes the numbers (e.g. a checkpoint stride), part of the key. */
  tag?: string;
  /** The task to score instead of the cell's own (e.g. on coarser checkpoints); same ids and queries. */
  task?: AttributionTask;
  /** Progress every ~5 s (default) of the estimator's loop. */
  progressSeconds?: number;
}

/**
 * Scores `e` on the prepared cell: a registry estimator's scores are cached (resumable for long sweeps); an
 * estimator object is scored every time. Queries beyond `maxQueries` are not scored.
 * @param gt the cell's ground truth (its cache key is part of the score key)
 * @throws when the estimator returns a matrix of the wrong shape
 */
export async function cachedScores(p: PreparedCell, gt: Pick<TslooResult, 'key'>, e: EstimatorSpec | UncachedEstimator, o: ScoreOptions = {}): Promise<EstimatorScores> {
  const base = o.task ?? p.task;
  const options: Record<string, unknown> = { occurrence: 'all', ...(e.options ?? {}) };
  const all = base.queries.n;
  const nq = 'maxQueries' in e && e.maxQueries !== undefined ? Math.min(e.maxQueries, all) : all;
  if (!(Number.isInteger(nq) && nq >= 1)) throw new UsageError(`estimator '${e.label}': maxQueries must be a positive integer, got ${'maxQueries' in e ? e.maxQueries : nq}`);
  const task = nq === all ? base : { ...base, queries: subset(base.queries, Array.from({ length: nq }, (_, i) => i), `${base.queries.name}[:${nq}]`) };
  const est: Estimator = 'estimator' in e ? (e.estimator as Estimator) : getEstimator(e.name);
  const id = estimatorId(e);
  const check = (m: ScoreMatrix) => {
    if (m.nTrain !== task.trainIds.length || m.nQuery !== nq) {
      throw new Error(`estimator '${est.name}' returned ${m.nTrain} × ${m.nQuery} scores; expected ${task.trainIds.length} × ${nq} (trainIds × queries)`);
    }
  };
  let last = 0;
  const every = 1000 * (o.progressSeconds ?? 5);
  const onProgress = (d: number, n: number, what: string) => {
    const now = performance.now();
    if (now - last > every || d === n) {
      p.log(`  ${e.label}: ${d}/${n} ${what}`);
      last = now;
    }
  };
  if ('estimator' in e) {
    const t0 = performance.now();
    const scores = await est.score(task, options);
    check(scores);
    return { id, label: e.label, name: est.name, options, scores, nQueries: nq, seconds: (performance.now() - t0) / 1000, cached: false };
  }
  const args = scoreArgs(task, gt.key, e.name, options, nq === all ? undefined : nq, o.tag);
  const key = scoreKey(args);
  const file = path.join(p.cacheDir, 'scores', `${e.name}-${key}.json`);
  const shape = (v: { scores?: { nTrain?: number; nQuery?: number } }) =>
    v.scores?.nTrain === task.trainIds.length && v.scores?.nQuery === nq ? undefined : `holds a ${v.scores?.nTrain} × ${v.scores?.nQuery} score matrix, expected ${task.trainIds.length} × ${nq}`;
  const entry = await cachedJson(
    file,
    `${e.label} scores`,
    async () => {
      const t0 = performance.now();
      // Long sweeps checkpoint beside the entry and resume after a kill (bit-identical).
      const m = await est.score(task, { ...options, checkpoint: { file: file.replace(/\.json$/, '.resume'), key }, onProgress });
      check(m);
      return { estimator: e.name, options, ...(o.tag ? { tag: o.tag } : {}), seconds: (performance.now() - t0) / 1000, scores: toJSON(m) };
    },
    { validate: shape, args },
  );
  return { id, label: e.label, name: e.name, options, scores: fromJSON(entry.value.scores), nQueries: nq, seconds: entry.value.seconds, cached: entry.cached };
}
