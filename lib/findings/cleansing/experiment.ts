/**
 * Data cleansing (Hara et al. 2019 §7.2, papers.md §4.1; the downstream task of ACC-SGD-IE, §2.1): remove
 * the k training samples an estimator calls most harmful, retrain, and measure test loss / error.
 *
 * Scores are those of the acc-epochs cells (acc-epochs.ts, cached and shared): the predicted change of the
 * mean validation loss when a sample is removed. The most harmful samples are the k LOWEST scores (their
 * removal is predicted to lower the validation loss most). Removal sets compared at each k:
 * `SGD-IE`, `ACC-SGD-IE`, `TSLOO (oracle)` (the ground truth's own k lowest, an upper reference), `random`
 * (mean over `randomDraws` seeded draws) and `none` (k = 0, the base run).
 *
 * Retraining: same seed (same initialisation and the same batch plan), the removed samples dropped from
 * every batch they were in and each batch averaged over the samples left in it (the trainer's removal with
 * `divisor: 'remaining'`), i.e. plain training on the cleaned set with the original batch order. This paired
 * design keeps batch-order noise out of the comparison at small k (a fresh sampler on n − k samples would
 * reshuffle every batch).
 *
 * Optional label noise (`labelNoises`): a seeded fraction of training labels is flipped (validation and test
 * stay clean) — the corrupted-data setting of paper 2; the fraction of flipped samples among the removed
 * ones is reported as well.
 *
 * Test loss / error are measured on `nEval` examples of the test split (seeded by the run seed, drawn
 * independently of the acc-epochs test subset). Mean ± std over seeds.
 *
 * @module
 */
import fs from 'node:fs';
import path from 'node:path';
import { runtimeInfo, engineKey } from '../../runtime/backend.ts';
import { loadDataset } from '../../data/registry.ts';
import { selectSubset } from '../../data/subsets.ts';
import { subset } from '../../data/dataset.ts';
import { rngFor } from '../../runtime/rng.ts';
import { train } from '../../train/trainer.ts';
import { cacheKey } from '../../cache/key.ts';
import { readCachedJson, writeVerified } from '../../cache/integrity.ts';
import { writeResultFiles } from '../../pipeline/results.ts';
import { findingRun } from '../../pipeline/paths.ts';
import { meanStd } from '../../analysis/stats.ts';
import { binaryTrainConfig, evaluateFinal, loadBinaryTask, type BinaryTaskSpec } from '../../settings/binary.ts';
import { runAccCell } from '../../pipeline/mean-loss-cell.ts';
import { toCsv } from '../../pipeline/summary.ts';
import { UsageError } from '../../runtime/errors.ts';

/** A preset. */
export interface CleansingPreset {
  /** One binary setting per dataset. */
  specs: BinaryTaskSpec[];
  /** Training epochs of the base run (and of every retrain). */
  epochs: number;
  seeds: number[];
  /** Removed fractions of n_tr (k = round(f·n); 0 gives the `none` row). */
  fractions: number[];
  labelNoises: number[];
  randomDraws: number;
  /** Test examples used for the reported test loss / error. */
  nEval: number;
}

/**
 * `quick` (CI): Adult n = 60, B = 20, 2 epochs, seed 0, k ∈ {0, 10, 20}%. `full` (CPU scale): MNIST 1-vs-7 and
 * Adult at the acc-epochs full setting (n = 200, B = 50, LR 0.1, 10 epochs — its clean cells and scores are
 * reused), seeds 0–4, k ∈ {0, 1, 2.5, 5, 10, 20}%, clean and 20% flipped labels, 2000 test examples. (At this
 * budget of 40 SGD steps the Adult DNN still predicts the majority class, so its test error cannot move;
 * MNIST 1-vs-7 reaches ~4% error.)
 */
export const CLEANSING_PRESETS: Record<string, CleansingPreset> = {
  quick: {
    specs: [{ dataset: 'adult', n: 60, nTest: 60, hidden: [8, 8], batchSize: 20, lr: 0.1 }],
    epochs: 2,
    // Two seeds and 20 % flipped labels: cleansing can only matter on corrupted data, and a band needs two seeds.
    seeds: [0, 1],
    fractions: [0, 0.1, 0.2],
    labelNoises: [0.2],
    randomDraws: 2,
    nEval: 500,
  },
  full: {
    specs: (['mnist-1v7', 'adult'] as const).map((dataset) => ({ dataset, n: 200, nTest: 200, hidden: [8, 8], batchSize: 50, lr: 0.1 })),
    epochs: 10,
    seeds: [0, 1, 2, 3, 4],
    fractions: [0, 0.01, 0.025, 0.05, 0.1, 0.2],
    labelNoises: [0, 0.2],
    randomDraws: 3,
    nEval: 2000,
  },
};

/** The removal methods (labels as reported). */
export const CLEANSING_METHODS = ['none', 'random', 'SGD-IE', 'ACC-SGD-IE', 'TSLOO (oracle)'] as const;

/** One retrain outcome. */
export interface CleansingPoint {
  dataset: string;
  labelNoise: number;
  seed: number;
  method: string;
  fraction: number;
  k: number;
  testLoss: number;
  testError: number;
  valLoss: number;
  /** Fraction of flipped-label samples among the removed ones (null when k = 0 or without noise). */
  flippedRemoved: number | null;
}

/** The k lowest-scoring ids (ties by id). */
export function mostHarmful(scores: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => scores[a] - scores[b] || a - b);
  return idx.slice(0, k).sort((a, b) => a - b);
}

function log(msg: string): void {
  if (process.env.FTDA_QUIET !== '1') console.error(msg);
}

/** All retrains of one (label noise, seed), cached as one JSON file. */
export async function cleansingCell(preset: CleansingPreset, spec: BinaryTaskSpec, labelNoise: number, seed: number, cacheDir: string): Promise<CleansingPoint[]> {
  const { epochs, fractions, randomDraws, nEval } = preset;
  const key = cacheKey({ preset: { spec, epochs, fractions, randomDraws, nEval }, labelNoise, seed, backend: engineKey() }, 20);
  const file = path.join(cacheDir, 'cleansing', `${spec.dataset}-noise${labelNoise}-seed${seed}-${key}.json`);
  const hit = readCachedJson<CleansingPoint[]>(file, 'cleansing retrains');
  if (hit) return hit;
  const t0 = performance.now();
  const cell = await runAccCell({ spec, seed, epochs, labelNoise }, cacheDir);
  const s = await loadBinaryTask(spec, seed, labelNoise);
  const te = await loadDataset(spec.dataset, 'test');
  if (nEval > te.n) throw new Error(`cleansing: nEval ${nEval} > ${te.n} test examples`);
  const evalSet = subset(te, selectSubset(te.n, nEval, seed, 'cleansing-eval'), `${spec.dataset}/eval[${nEval}]`);
  const setting = binaryTrainConfig(spec, seed, epochs);
  const n = s.train.n;
  const flipped = new Set(s.flipped);
  const scoreOf: Record<string, number[]> = {
    'SGD-IE': cell.estimators.find((e) => e.name === 'sgd-influence')!.scores,
    'ACC-SGD-IE': cell.estimators.find((e) => e.name === 'acc-sgd-ie')!.scores,
    'TSLOO (oracle)': cell.truth,
  };
  const retrain = async (removed: number[]) => {
    const traj = await train({ model: s.model, data: s.train, setting, record: 'none', ...(removed.length ? { removal: { ids: removed, occurrence: 'all' as const, divisor: 'remaining' as const } } : {}) });
    const t = evaluateFinal(s.model, traj, evalSet);
    const v = evaluateFinal(s.model, traj, s.val);
    return { testLoss: t.loss, testError: 1 - t.accuracy, valLoss: v.loss };
  };
  const flippedFrac = (ids: number[]) => (ids.length && flipped.size ? ids.filter((i) => flipped.has(i)).length / ids.length : null);
  const points: CleansingPoint[] = [];
  const none = await retrain([]);
  for (const fraction of preset.fractions) {
    const k = Math.round(fraction * n);
    const base = { dataset: spec.dataset, labelNoise, seed, fraction, k };
    if (k === 0) {
      points.push({ ...base, method: 'none', ...none, flippedRemoved: null });
      continue;
    }
    for (const [method, sc] of Object.entries(scoreOf)) {
      const removed = mostHarmful(sc, k);
      points.push({ ...base, method, ...(await retrain(removed)), flippedRemoved: flippedFrac(removed) });
    }
    const draws: { testLoss: number; testError: number; valLoss: number; flippedRemoved: number | null }[] = [];
    for (let r = 0; r < preset.randomDraws; r++) {
      const removed = rngFor(seed, `cleansing-random-${k}-${r}`).sample(n, k).sort((a, b) => a - b);
      draws.push({ ...(await retrain(removed)), flippedRemoved: flippedFrac(removed) });
    }
    const avg = (f: (d: (typeof draws)[number]) => number) => draws.reduce((a, d) => a + f(d), 0) / draws.length;
    points.push({ ...base, method: 'random', testLoss: avg((d) => d.testLoss), testError: avg((d) => d.testError), valLoss: avg((d) => d.valLoss), flippedRemoved: draws[0].flippedRemoved === null ? null : avg((d) => d.flippedRemoved!) });
  }
  writeVerified(file, JSON.stringify(points) + '\n');
  log(`[cleansing ${spec.dataset} noise ${labelNoise} seed ${seed}] ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return points;
}

/** A tidy summary row: (label noise, method, k) over seeds. */
export interface CleansingRow {
  dataset: string;
  labelNoise: number;
  method: string;
  fraction: number;
  k: number;
  testLossMean: number;
  testLossStd: number | null;
  testErrorMean: number;
  testErrorStd: number | null;
  valLossMean: number;
  /** Paired difference to `none` (same seed), mean ± std over seeds. */
  testLossDeltaMean: number;
  testLossDeltaStd: number | null;
  testErrorDeltaMean: number;
  testErrorDeltaStd: number | null;
  flippedRemovedMean: number | null;
  seeds: number;
}

/** The summary file. */
export interface CleansingSummary {
  format: 'faithful-tda/cleansing';
  version: 1;
  preset: string;
  config: CleansingPreset;
  complete: boolean;
  missing: { dataset: string; labelNoise: number; seed: number }[];
  rows: CleansingRow[];
  points: CleansingPoint[];
  runtime: ReturnType<typeof runtimeInfo>;
  createdAt: string;
}

const fin = (x: number) => (Number.isFinite(x) ? x : null);

/** Aggregates points into rows per (label noise, method, k); deltas are paired with the same seed's `none` run. */
export function summariseCleansing(points: CleansingPoint[]): CleansingRow[] {
  const pair = (p: CleansingPoint) => `${p.dataset}|${p.labelNoise}|${p.seed}`;
  const noneOf = new Map(points.filter((p) => p.method === 'none').map((p) => [pair(p), p]));
  const groups = new Map<string, CleansingPoint[]>();
  for (const p of points) {
    const k = `${p.dataset}|${p.labelNoise}|${p.method}|${p.k}`;
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(p);
  }
  const rows: CleansingRow[] = [];
  for (const g of groups.values()) {
    const p0 = g[0];
    const tl = meanStd(g.map((p) => p.testLoss));
    const er = meanStd(g.map((p) => p.testError));
    const dl = meanStd(g.map((p) => p.testLoss - noneOf.get(pair(p))!.testLoss));
    const de = meanStd(g.map((p) => p.testError - noneOf.get(pair(p))!.testError));
    const fr = g.filter((p) => p.flippedRemoved !== null).map((p) => p.flippedRemoved!);
    rows.push({
      dataset: p0.dataset, labelNoise: p0.labelNoise, method: p0.method, fraction: p0.fraction, k: p0.k,
      testLossMean: tl.mean, testLossStd: fin(tl.std), testErrorMean: er.mean, testErrorStd: fin(er.std),
      valLossMean: meanStd(g.map((p) => p.valLoss)).mean,
      testLossDeltaMean: dl.mean, testLossDeltaStd: fin(dl.std), testErrorDeltaMean: de.mean, testErrorDeltaStd: fin(de.std),
      flippedRemovedMean: fr.length ? fr.reduce((a, b) => a + b, 0) / fr.length : null,
      seeds: g.length,
    });
  }
  const order = (m: string) => CLEANSING_METHODS.indexOf(m as (typeof CLEANSING_METHODS)[number]);
  return rows.sort((a, b) => a.dataset.localeCompare(b.dataset) || a.labelNoise - b.labelNoise || a.k - b.k || order(a.method) - order(b.method));
}

/** Options of {@link runCleansing}. */
export interface CleansingOptions {
  outDir?: string;
  cacheDir?: string;
  seeds?: number[];
  /** Restrict to these datasets. */
  datasets?: string[];
  /** Start no new (dataset, noise, seed) cell after this many seconds (rerun to resume). */
  budgetSeconds?: number;
}

/** Runs a preset and writes `summary.json`, `summary.csv`, `points.csv` under `<outDir>/<preset>/`. */
export async function runCleansing(presetName: string, o: CleansingOptions = {}): Promise<CleansingSummary> {
  const { preset, outDir, cacheDir } = findingRun('cleansing', CLEANSING_PRESETS, presetName, o);
  const seeds = o.seeds ?? preset.seeds;
  const specs = preset.specs.filter((s) => !o.datasets || o.datasets.includes(s.dataset));
  if (!specs.length) throw new Error(`cleansing: no dataset of preset '${presetName}' matches [${o.datasets}]`);
  const t0 = performance.now();
  const points: CleansingPoint[] = [];
  const missing: CleansingSummary['missing'] = [];
  for (const seed of seeds) {
    for (const spec of specs) {
      for (const labelNoise of preset.labelNoises) {
        if (o.budgetSeconds !== undefined && (performance.now() - t0) / 1000 > o.budgetSeconds) {
          missing.push({ dataset: spec.dataset, labelNoise, seed });
          continue;
        }
        points.push(...(await cleansingCell(preset, spec, labelNoise, seed, cacheDir)));
      }
    }
  }
  const summary: CleansingSummary = {
    format: 'faithful-tda/cleansing',
    version: 1,
    preset: presetName,
    config: { ...preset, specs, seeds },
    complete: missing.length === 0,
    missing,
    rows: summariseCleansing(points),
    points,
    runtime: runtimeInfo(),
    createdAt: new Date().toISOString(),
  };
  writeResultFiles(outDir, { 'summary.json': summary, 'summary.csv': summary.rows, 'points.csv': points });
  return summary;
}
