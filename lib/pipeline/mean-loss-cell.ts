/**
 * The mean-validation-loss attribution cell on a binary task (settings/binary.ts): one SGD run, TSLOO of the mean
 * validation loss for every training sample, and SGD-IE and ACC-SGD-IE scores of it, with the ACC paper's metrics
 * (Kendall τ with a bootstrap CI, Spearman, Jaccard of top/bottom p %). Cached as one file per cell under
 * `<cacheDir>/acc-epochs/`. The acc-epochs finding reports its metrics over epochs; the cleansing finding removes
 * the most harmful samples by its scores.
 *
 * @module
 */
import { cacheKey } from '../cache/key.ts';
import path from 'node:path';
import { runtimeInfo, engineKey } from '../runtime/backend.ts';
import { Rng } from '../runtime/rng.ts';
import { log } from '../runtime/log.ts';
import { train } from '../train/trainer.ts';
import { type TrainConfig } from '../train/setting.ts';
import type { Trajectory } from '../train/trajectory.ts';
import { readCachedJson, writeVerified } from '../cache/integrity.ts';
import { tsloo } from '../groundtruth/tsloo.ts';
import { getEstimator } from '../estimators/registry.ts';
import { jaccardTopBottom, kendallTau, spearman, topBottomK } from '../analysis/metrics.ts';
import { quantile } from '../analysis/stats.ts';
import { binaryTrainConfig, evaluateFinal, loadBinaryTask, meanLossModel, meanLossQuery, type BinaryTask, type BinaryTaskSpec } from '../settings/binary.ts';
import { defaultCacheDir } from './paths.ts';

/** The p values of paper 2's Jaccard index. */
export const JACCARD_PERCENTS = [70, 50, 30, 10] as const;

/** Paper 2's metrics of an estimate vector against the truth `[n]` each. */
export function accMetrics(est: ArrayLike<number>, truth: ArrayLike<number>): Record<string, number> {
  const e = Float64Array.from(est);
  const t = Float64Array.from(truth);
  const out: Record<string, number> = { 'kendall-tau': kendallTau(e, t), spearman: spearman(e, t) };
  for (const p of JACCARD_PERCENTS) out[`jaccard-${p}`] = jaccardTopBottom(e, t, topBottomK(e.length, p));
  return out;
}

/** Percentile bootstrap CI of Kendall τ over training samples (resampled pairs), seeded. */
export function tauBootstrap(est: ArrayLike<number>, truth: ArrayLike<number>, reps = 300, seed = 0): { lo: number; hi: number; reps: number } {
  const n = est.length;
  const rng = new Rng(seed);
  const vals = new Float64Array(reps);
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  for (let r = 0; r < reps; r++) {
    for (let k = 0; k < n; k++) {
      const i = rng.int(n);
      a[k] = est[i];
      b[k] = truth[i];
    }
    vals[r] = kendallTau(a, b);
  }
  const ok = vals.filter((x) => !Number.isNaN(x));
  if (!ok.length) return { lo: NaN, hi: NaN, reps };
  return { lo: quantile(ok, 0.025), hi: quantile(ok, 0.975), reps };
}

/** One cell: (setting, seed, epochs[, label noise]). */
export interface AccCell {
  spec: BinaryTaskSpec;
  seed: number;
  epochs: number;
  /** Fraction of flipped training labels (default 0; used by the cleansing experiment). */
  labelNoise?: number;
}

/** One estimator's outcome in a cell. */
export interface AccEstimatorOutcome {
  label: string;
  name: string;
  /** Scores of the mean validation loss, `[n_tr]` (removal convention). */
  scores: number[];
  metrics: Record<string, number>;
  tauCI: { lo: number; hi: number; reps: number };
  seconds: number;
}

/** The cached result of one cell. */
export interface AccCellResult {
  format: 'faithful-tda/acc-epochs-cell';
  version: 1;
  cell: AccCell;
  query: 'mean-validation-loss';
  occurrence: 'all';
  divisor: 'original';
  setting: TrainConfig;
  base: { steps: number; trainLoss: number; valLoss: number; testLoss: number; testAccuracy: number };
  /** TSLOO of the mean validation loss per training sample `[n_tr]`. */
  truth: number[];
  /** Training rows with flipped labels. */
  flipped: number[];
  tsloo: { seconds: number; method: string; noise: unknown };
  estimators: AccEstimatorOutcome[];
  /** max_i |ACC-SGD-IE_i − SGD-IE_i| (exactly 0 expected at E = 1). */
  accVsSgdMaxAbs: number;
  runtime: ReturnType<typeof runtimeInfo>;
  createdAt: string;
}

/** The two estimators compared (labels as reported). */
export const ACC_ESTIMATORS = [
  { id: 'sgd-ie', label: 'SGD-IE', name: 'sgd-influence' },
  { id: 'acc-sgd-ie', label: 'ACC-SGD-IE', name: 'acc-sgd-ie' },
] as const;


/** Scores of the mean validation loss for every training sample, by registry name. */
export async function meanValScores(name: string, s: BinaryTask, trajectory: Trajectory, ids: number[]): Promise<Float64Array> {
  const task = { model: meanLossModel(s.model), data: s.train, trajectory, queries: meanLossQuery(s.val), trainIds: ids };
  // One query: ACC-SGD-IE holds at most n_tr + 1 adjoints of p floats.
  const m = await getEstimator(name).score(task, name === 'acc-sgd-ie' ? { maxFloats: 4e8 } : {});
  return Float64Array.from(m.values);
}

/**
 * Runs (or loads) one cell.
 * @returns the cell result (also written to `<cacheDir>/acc-epochs/<key>.json`)
 */
export async function runAccCell(cell: AccCell, cacheDir = defaultCacheDir()): Promise<AccCellResult> {
  const rt = runtimeInfo();
  const noise = cell.labelNoise ?? 0;
  // labelNoise 0 is omitted so that clean cells keep one key whether or not it was given.
  const key = cacheKey({ cell: { ...cell, labelNoise: noise || undefined }, backend: engineKey(), v: 1 });
  const file = path.join(cacheDir, 'acc-epochs', `${cell.spec.dataset}-E${cell.epochs}-seed${cell.seed}${noise ? `-noise${noise}` : ''}-${key}.json`);
  const hit = readCachedJson<AccCellResult>(file, 'ACC-epochs cell');
  if (hit) return hit;

  const s = await loadBinaryTask(cell.spec, cell.seed, noise);
  const setting = binaryTrainConfig(cell.spec, cell.seed, cell.epochs);
  const trajectory = await train({ model: s.model, data: s.train, setting });
  const ids = Array.from({ length: s.train.n }, (_, i) => i);
  const tag = `[acc-epochs ${cell.spec.dataset} E=${cell.epochs} seed ${cell.seed}]`;

  const gt = await tsloo({ model: s.model, data: s.train, trajectory, queries: s.val, ids, occurrence: 'all', divisor: 'original', cacheDir: path.join(cacheDir, 'tsloo') });
  const nv = s.val.n;
  const truth = ids.map((_, i) => {
    let sum = 0;
    for (let q = 0; q < nv; q++) sum += gt.scores.values[i * nv + q];
    return sum / nv;
  });
  log(`${tag} TSLOO ${gt.timing.seconds.toFixed(1)} s`);

  const estimators: AccEstimatorOutcome[] = [];
  for (const e of ACC_ESTIMATORS) {
    const t0 = performance.now();
    const scores = await meanValScores(e.name, s, trajectory, ids);
    const seconds = (performance.now() - t0) / 1000;
    const metrics = accMetrics(scores, truth);
    estimators.push({ label: e.label, name: e.name, scores: Array.from(scores), metrics, tauCI: tauBootstrap(scores, truth, 300, cell.seed), seconds });
    log(`${tag} ${e.label}: τ ${metrics['kendall-tau'].toFixed(4)} (${seconds.toFixed(1)} s)`);
  }
  const [sgd, acc] = estimators;
  const accVsSgdMaxAbs = sgd.scores.reduce((m, x, i) => Math.max(m, Math.abs(x - acc.scores[i])), 0);
  const tr = evaluateFinal(s.model, trajectory, s.train);
  const va = evaluateFinal(s.model, trajectory, s.val);
  const te = evaluateFinal(s.model, trajectory, s.test);
  const result: AccCellResult = {
    format: 'faithful-tda/acc-epochs-cell',
    version: 1,
    cell,
    query: 'mean-validation-loss',
    occurrence: 'all',
    divisor: 'original',
    setting,
    base: { steps: trajectory.manifest.steps, trainLoss: tr.loss, valLoss: va.loss, testLoss: te.loss, testAccuracy: te.accuracy },
    truth,
    flipped: s.flipped,
    tsloo: { seconds: gt.timing.computeSeconds, method: gt.method, noise: gt.noise },
    estimators,
    accVsSgdMaxAbs,
    runtime: rt,
    createdAt: new Date().toISOString(),
  };
  writeVerified(file, JSON.stringify(result) + '\n');
  return result;
}
