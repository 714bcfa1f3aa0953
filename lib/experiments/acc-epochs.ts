/**
 * Paper 2 (ACC-SGD-IE, arXiv 2510.26185; papers.md §2.3): how faithful are SGD-IE (Hara et al.'s unrolled
 * SGD-influence) and ACC-SGD-IE to TSLOO as the number of training epochs grows.
 *
 * Setting (per dataset, per seed, per epoch count E): binary task (Adult income, 20 Newsgroups ibm.pc vs
 * mac TF-IDF, MNIST 1 vs 7), n_tr = n_val = n_test random examples (train/val from the training split, test
 * from the test split), DNN d-8-8-2 ReLU (a 2-class softmax head instead of the paper's single logit + BCE:
 * the same model class, our MLP family's loss), plain SGD (no momentum, α = 0), constant LR, batch B.
 *
 * Query: the mean validation loss L_val(θ_T) = (1/n_val) Σ_v ℓ_v(θ_T), as the papers do. Both influence
 * estimators see it as ONE query (a wrapped model whose "example" is the whole validation set, see
 * {@link meanLossModel}), so ACC-SGD-IE's memory is n_tr adjoints of one vector. Ground truth: TSLOO of every
 * training sample (removal at all occurrences, divisor 'original'), averaged over the validation columns —
 * exactly L_val(θ^{−z}) − L_val(θ) because TSLOO is a difference of per-query losses.
 *
 * Divisor equivalence: the ACC code's counterfactual rescales the mean over the |B|−1 remaining samples by
 * (|B|−1)/|B|, i.e. (|B|−1)/|B| · (1/(|B|−1)) Σ_{i≠z} g_i = (1/|B|) Σ_{i≠z} g_i: the removed term is dropped
 * and the original |B| kept — our `divisor: 'original'` (checked in test/experiments/acc-epochs.test.ts
 * against the trainer's 'remaining' divisor on one step).
 *
 * Metrics (paper 2's plot.py): Kendall τ and the Jaccard index of the top-(p/2)% ∪ bottom-(p/2)% sets,
 * p ∈ {70, 50, 30, 10}, plus Spearman; per cell a bootstrap CI of τ over training samples; over seeds
 * mean ± std. Sanity (recorded per cell): at E = 1 every sample occurs once, so ACC-SGD-IE == SGD-IE.
 *
 * Every cell is cached as JSON under `<cacheDir>/acc-epochs/` (and TSLOO under `<cacheDir>/tsloo`), so a
 * preset can be run in pieces (`budgetSeconds`) and resumed.
 *
 * @module
 */
import fs from 'node:fs';
import path from 'node:path';
import { tf } from '../runtime/tf.ts';
import { runtimeInfo, engineKey } from '../runtime/backend.ts';
import { loadDataset } from '../data/registry.ts';
import { selectSubset } from '../data/subsets.ts';
import { subset, type Dataset } from '../data/dataset.ts';
import { makeBatch } from '../data/batch.ts';
import { createModel } from '../models/registry.ts';
import type { Model, Params } from '../models/types.ts';
import { train } from '../train/trainer.ts';
import { settingHash, type TrainSetting } from '../train/setting.ts';
import { readCachedJson, writeVerified } from '../cache/integrity.ts';
import { writeResultFiles } from './results.ts';
import type { Trajectory } from '../train/trajectory.ts';
import { tsloo } from '../groundtruth/tsloo.ts';
import { getEstimator } from '../estimators/registry.ts';
import { jaccardTopBottom, kendallTau, spearman, topBottomK } from '../analysis/metrics.ts';
import { meanStd, quantile, sem } from '../analysis/stats.ts';
import { Rng } from '../runtime/rng.ts';
import { toCsv } from './summary.ts';

/** The binary datasets of paper 2. */
export const ACC_DATASETS = ['adult', '20news-binary', 'mnist-1v7'] as const;
export type AccDataset = (typeof ACC_DATASETS)[number];

/** A binary task of paper 2 at a given size, with the DNN and its SGD hyper-parameters. */
export interface BinarySettingSpec {
  dataset: AccDataset;
  /** n_tr = n_val (the paper's `--datasize`). */
  n: number;
  /** Test examples (for reporting the model's test loss / accuracy only). */
  nTest: number;
  /** Hidden widths (paper: [8, 8]). */
  hidden: number[];
  batchSize: number;
  lr: number;
}

/** The data and model of one (setting, seed). */
export interface BinarySetting {
  train: Dataset;
  val: Dataset;
  test: Dataset;
  model: Model;
  /** Ids into the dataset's training split (train then val) and test split. */
  source: { trainIds: number[]; valIds: number[]; testIds: number[] };
  /** Training rows whose label was flipped (label noise; empty without). */
  flipped: number[];
}

const splitCache = new Map<string, Promise<{ train: Dataset; test: Dataset }>>();

function loadSplits(name: AccDataset): Promise<{ train: Dataset; test: Dataset }> {
  let p = splitCache.get(name);
  if (!p) {
    p = Promise.all([loadDataset(name, 'train'), loadDataset(name, 'test')]).then(([train, test]) => ({ train, test }));
    splitCache.set(name, p);
    p.catch(() => splitCache.delete(name));
  }
  return p;
}

/**
 * Seeded train / validation / test subsets of a binary dataset (fresh copies) and the d-hidden-2 ReLU MLP.
 * `labelNoise` ∈ [0, 1) flips the labels of a seeded ⌊labelNoise·n⌋ training rows (paper 2's `--noise`);
 * validation and test stay clean.
 */
export async function loadBinarySetting(spec: BinarySettingSpec, seed: number, labelNoise = 0): Promise<BinarySetting> {
  if (!(labelNoise >= 0 && labelNoise < 1)) throw new Error(`acc-epochs: labelNoise must be in [0, 1), got ${labelNoise}`);
  if (!ACC_DATASETS.includes(spec.dataset)) throw new Error(`acc-epochs: unknown dataset '${spec.dataset}'; known: ${ACC_DATASETS.join(', ')}`);
  const { train: tr, test: te } = await loadSplits(spec.dataset);
  if (2 * spec.n > tr.n) throw new Error(`acc-epochs: n_tr + n_val = ${2 * spec.n} > ${tr.n} training examples of '${spec.dataset}'`);
  if (spec.nTest > te.n) throw new Error(`acc-epochs: nTest ${spec.nTest} > ${te.n} test examples of '${spec.dataset}'`);
  const ids = selectSubset(tr.n, 2 * spec.n, seed, 'acc-train-val');
  const trainIds = ids.slice(0, spec.n);
  const valIds = ids.slice(spec.n);
  const testIds = selectSubset(te.n, spec.nTest, seed, 'acc-test');
  const d = tr.xShape.reduce((a, b) => a * b, 1);
  const model = createModel({ family: 'mlp', config: { sizes: [d, ...spec.hidden, 2], activation: 'relu' } });
  const train = subset(tr, trainIds, `${spec.dataset}/train[${spec.n}]${labelNoise ? `+noise${labelNoise}` : ''}`);
  const flipped = labelNoise > 0 ? selectSubset(spec.n, Math.floor(labelNoise * spec.n), seed, 'label-noise').sort((a, b) => a - b) : [];
  for (const i of flipped) train.y[i] = 1 - train.y[i];
  return {
    train,
    val: subset(tr, valIds, `${spec.dataset}/val[${spec.n}]`),
    test: subset(te, testIds, `${spec.dataset}/test[${spec.nTest}]`),
    model,
    source: { trainIds, valIds, testIds },
    flipped,
  };
}

/** The plain-SGD training setting of paper 2 (no momentum, α = 0, constant LR). */
export function binaryTrainSetting(spec: BinarySettingSpec, seed: number, epochs: number): TrainSetting {
  return {
    seed,
    batchSize: spec.batchSize,
    epochs,
    optimizer: { kind: 'sgd', momentum: 0, weightDecay: 0 },
    schedule: { kind: 'constant', lr: spec.lr },
  };
}

/**
 * The validation set as ONE query example: x `[1, n_val, ...xShape]`, y `[1, n_val]`. Use with
 * {@link meanLossModel}, whose per-example loss of this example is the mean validation loss.
 */
export function meanLossQuery(val: Dataset): Dataset {
  if (val.yShape.length !== 0) throw new Error(`meanLossQuery: '${val.name}' is not a classification dataset`);
  return { name: `mean-loss(${val.name})`, n: 1, x: val.x, xShape: [val.n, ...val.xShape], y: val.y, yShape: [val.n], classes: val.classes };
}

/**
 * `inner` with one change: an example whose target has a trailing axis (y `[B, m]`, from
 * {@link meanLossQuery}) gets the mean of the inner per-example losses of its m rows. Training batches
 * (y `[B]`) are passed through unchanged. The config omits `sizes`, so the MLP per-sample fast path (which
 * would not see this loss) is never used for it; gradients go through the generic autodiff loop.
 */
export function meanLossModel(inner: Model): Model {
  return {
    family: inner.family,
    config: { wraps: inner.config, query: 'mean-loss' },
    spec: inner.spec,
    init: (rng) => inner.init(rng),
    logits: (p: Params, x: tf.Tensor) => inner.logits(p, x),
    perExampleLoss(p, b) {
      if (b.y.rank === 1) return inner.perExampleLoss(p, b);
      return tf.tidy(() => {
        const [B, m] = b.y.shape;
        const x = tf.reshape(b.x, [B * m, ...b.x.shape.slice(2)]);
        const l = inner.perExampleLoss(p, { x, y: tf.reshape(b.y, [B * m]) });
        return tf.mean(tf.reshape(l, [B, m]), 1) as tf.Tensor1D;
      });
    },
  };
}

/** Mean loss and accuracy of θ on a dataset. */
export function evaluateParams(model: Model, params: Params, ds: Dataset): { loss: number; accuracy: number } {
  const [loss, acc] = tf.tidy(() => {
    const b = makeBatch(ds, Array.from({ length: ds.n }, (_, i) => i));
    const l = tf.mean(model.perExampleLoss(params, b));
    const a = tf.mean(tf.cast(tf.equal(tf.argMax(model.logits(params, b.x), -1), b.y), 'float32'));
    return tf.stack([l, a]).dataSync();
  });
  return { loss, accuracy: acc };
}

/** Final-state evaluation of a trajectory. */
export function evaluateFinal(model: Model, traj: Trajectory, ds: Dataset): { loss: number; accuracy: number } {
  const p = traj.states.params(traj.manifest.steps);
  try {
    return evaluateParams(model, p, ds);
  } finally {
    tf.dispose(Object.values(p));
  }
}

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
  spec: BinarySettingSpec;
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
  setting: TrainSetting;
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
  { label: 'SGD-IE', name: 'sgd-influence' },
  { label: 'ACC-SGD-IE', name: 'acc-sgd-ie' },
] as const;

function log(msg: string): void {
  if (process.env.FTDA_QUIET !== '1') console.error(msg);
}

/** Scores of the mean validation loss for every training sample, by registry name. */
export async function meanValScores(name: string, s: BinarySetting, trajectory: Trajectory, ids: number[]): Promise<Float64Array> {
  const task = { model: meanLossModel(s.model), data: s.train, trajectory, queries: meanLossQuery(s.val), trainIds: ids };
  // One query: ACC-SGD-IE holds at most n_tr + 1 adjoints of p floats.
  const m = await getEstimator(name).score(task, name === 'acc-sgd-ie' ? { maxFloats: 4e8 } : {});
  return Float64Array.from(m.values);
}

/**
 * Runs (or loads) one cell.
 * @returns the cell result (also written to `<cacheDir>/acc-epochs/<key>.json`)
 */
export async function runAccCell(cell: AccCell, cacheDir = 'results/cache'): Promise<AccCellResult> {
  const rt = runtimeInfo();
  const noise = cell.labelNoise ?? 0;
  // labelNoise 0 is omitted so that clean cells keep one key whether or not it was given.
  const key = settingHash({ cell: { ...cell, labelNoise: noise || undefined }, backend: engineKey(), v: 1 }).slice(0, 24);
  const file = path.join(cacheDir, 'acc-epochs', `${cell.spec.dataset}-E${cell.epochs}-seed${cell.seed}${noise ? `-noise${noise}` : ''}-${key}.json`);
  const hit = readCachedJson<AccCellResult>(file, 'ACC-epochs cell');
  if (hit) return hit;

  const s = await loadBinarySetting(cell.spec, cell.seed, noise);
  const setting = binaryTrainSetting(cell.spec, cell.seed, cell.epochs);
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

/** A preset: settings × epoch grid × seeds. */
export interface AccEpochsPreset {
  specs: BinarySettingSpec[];
  epochs: number[];
  seeds: number[];
}

const spec = (dataset: AccDataset, n: number, batchSize: number, nTest = n): BinarySettingSpec => ({ dataset, n, nTest, hidden: [8, 8], batchSize, lr: 0.1 });

/**
 * `quick` (CI): Adult, n = 60, B = 20, E ∈ {1, 2, 4}, seed 0. `full` (CPU scale): the three datasets at
 * Hara et al.'s DNN size n = 200 (paper 2's exp.sh uses 400), B = 50, LR 0.1, E ∈ {1, 2, 5, 10}, seeds 0–2.
 * ACC-SGD-IE costs n_tr HVPs per step (≈ 11k HVPs per dataset and seed here), which is what bounds the grid
 * on a CPU; paper 2's grid reaches 38 epochs. E = 1 is the ACC == SGD-IE sanity point. `long`: the
 * long-epoch end of paper 2's grid at a size a CPU affords: Adult and MNIST 1-vs-7, n = 100, B = 25,
 * E ∈ {1, 10, 20, 40}, seeds 0–1.
 */
export const ACC_EPOCHS_PRESETS: Record<string, AccEpochsPreset> = {
  quick: { specs: [spec('adult', 60, 20)], epochs: [1, 2, 4], seeds: [0] },
  full: { specs: ACC_DATASETS.map((d) => spec(d, 200, 50)), epochs: [1, 2, 5, 10], seeds: [0, 1, 2] },
  long: { specs: [spec('adult', 100, 25), spec('mnist-1v7', 100, 25)], epochs: [1, 10, 20, 40], seeds: [0, 1] },
};

/** Options of {@link runAccEpochs}. */
export interface AccEpochsOptions {
  outDir?: string;
  cacheDir?: string;
  seeds?: number[];
  datasets?: string[];
  epochs?: number[];
  /** Start no new cell after this many seconds (the summary is then marked incomplete; rerun to resume). */
  budgetSeconds?: number;
}

/** A tidy summary row: one (dataset, epochs, estimator, metric) over seeds. */
export interface AccSummaryRow {
  dataset: string;
  n: number;
  batchSize: number;
  epochs: number;
  estimator: string;
  metric: string;
  mean: number;
  /** Sample std over seeds (null with one seed). */
  std: number | null;
  sem: number | null;
  seeds: number[];
  values: number[];
}

/** The summary file. */
export interface AccEpochsSummary {
  format: 'faithful-tda/acc-epochs';
  version: 1;
  preset: string;
  config: AccEpochsPreset;
  complete: boolean;
  missing: { dataset: string; epochs: number; seed: number }[];
  rows: AccSummaryRow[];
  /** Per-cell rows (seed level), with the τ bootstrap CI over training samples. */
  cells: {
    dataset: string; epochs: number; seed: number; estimator: string; kendallTau: number; tauLo: number; tauHi: number;
    jaccard70: number; jaccard50: number; jaccard30: number; jaccard10: number; spearman: number;
    accVsSgdMaxAbs: number; testAccuracy: number; trainLoss: number; seconds: number;
  }[];
  runtime: ReturnType<typeof runtimeInfo>;
  createdAt: string;
}

const fin = (x: number) => (Number.isFinite(x) ? x : null);

/** Aggregates cell results into tidy rows (mean ± std over seeds). */
export function summariseAcc(results: AccCellResult[]): AccSummaryRow[] {
  const groups = new Map<string, AccCellResult[]>();
  for (const r of results) {
    const k = `${r.cell.spec.dataset}|${r.cell.epochs}`;
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(r);
  }
  const rows: AccSummaryRow[] = [];
  for (const g of groups.values()) {
    g.sort((a, b) => a.cell.seed - b.cell.seed);
    const c = g[0].cell;
    for (const e of ACC_ESTIMATORS) {
      for (const metric of Object.keys(g[0].estimators[0].metrics)) {
        const values = g.map((r) => r.estimators.find((x) => x.label === e.label)!.metrics[metric]);
        const ms = meanStd(values);
        rows.push({ dataset: c.spec.dataset, n: c.spec.n, batchSize: c.spec.batchSize, epochs: c.epochs, estimator: e.label, metric, mean: ms.mean, std: fin(ms.std), sem: fin(sem(values)), seeds: g.map((r) => r.cell.seed), values });
      }
    }
  }
  return rows.sort((a, b) => a.dataset.localeCompare(b.dataset) || a.epochs - b.epochs || a.metric.localeCompare(b.metric) || a.estimator.localeCompare(b.estimator));
}

/**
 * Runs a preset (cached cells; seeds outermost so a budgeted run finishes whole seeds first) and writes
 * `summary.json`, `summary.csv` and `cells.csv` under `<outDir>/<preset>/`.
 */
export async function runAccEpochs(presetName: string, o: AccEpochsOptions = {}): Promise<AccEpochsSummary> {
  const preset = ACC_EPOCHS_PRESETS[presetName];
  if (!preset) throw new Error(`unknown acc-epochs preset '${presetName}'; known: ${Object.keys(ACC_EPOCHS_PRESETS).join(', ')}`);
  const outDir = path.join(o.outDir ?? 'results/acc-epochs', presetName);
  const cacheDir = o.cacheDir ?? 'results/cache';
  const specs = preset.specs.filter((s) => !o.datasets || o.datasets.includes(s.dataset));
  if (!specs.length) throw new Error(`acc-epochs: no dataset of preset '${presetName}' matches [${o.datasets}]`);
  const epochs = o.epochs ?? preset.epochs;
  const seeds = o.seeds ?? preset.seeds;
  const t0 = performance.now();
  const results: AccCellResult[] = [];
  const missing: AccEpochsSummary['missing'] = [];
  for (const seed of seeds) {
    for (const sp of specs) {
      for (const E of epochs) {
        if (o.budgetSeconds !== undefined && (performance.now() - t0) / 1000 > o.budgetSeconds) {
          missing.push({ dataset: sp.dataset, epochs: E, seed });
          continue;
        }
        results.push(await runAccCell({ spec: sp, seed, epochs: E }, cacheDir));
      }
    }
  }
  const cells = results.flatMap((r) => r.estimators.map((e) => ({
    dataset: r.cell.spec.dataset, epochs: r.cell.epochs, seed: r.cell.seed, estimator: e.label,
    kendallTau: e.metrics['kendall-tau'], tauLo: e.tauCI.lo, tauHi: e.tauCI.hi,
    jaccard70: e.metrics['jaccard-70'], jaccard50: e.metrics['jaccard-50'], jaccard30: e.metrics['jaccard-30'], jaccard10: e.metrics['jaccard-10'],
    spearman: e.metrics.spearman, accVsSgdMaxAbs: r.accVsSgdMaxAbs, testAccuracy: r.base.testAccuracy, trainLoss: r.base.trainLoss, seconds: e.seconds,
  })));
  const summary: AccEpochsSummary = {
    format: 'faithful-tda/acc-epochs',
    version: 1,
    preset: presetName,
    config: { specs, epochs, seeds },
    complete: missing.length === 0,
    missing,
    rows: summariseAcc(results),
    cells,
    runtime: runtimeInfo(),
    createdAt: new Date().toISOString(),
  };
  writeResultFiles(outDir, { 'summary.json': summary, 'summary.csv': summary.rows, 'cells.csv': summary.cells });
  return summary;
}
