/**
 * Paper 3 (final-model-only attribution, arXiv 2412.03906; papers.md §3): how well do gradient-based
 * final-model methods approximate the further-training gold standard as further training grows?
 *
 * Protocol (per dataset):
 * 1. Train a model to (near) convergence with SGD (the "final model" θ_f; seed 0).
 * 2. Gold standard (groundtruth/further-training.ts, mode 'delete' = the paper's tabular `RandomSamplerLOO`):
 *    for further-training seeds s and every left-out training id i, further-train θ_f on the full set and
 *    on the set without i with the same seeded order; Δ_{s,e}(i, q) = ℓ_q(θ_e^{−i,s}) − ℓ_q(θ_e^{full,s}),
 *    averaged over seeds, then minus the mean over left-out ids per query (eq. 13, `subtractMean`). Each seed
 *    is computed (and cached) on its own with subtractMean off; averaging and centring afterwards gives the
 *    same matrix, since the centring is linear.
 * 3. Methods at θ_f: Grad-Dot, Grad-Cos, IF with CG and with LiSSA (Gauss–Newton curvature, as the paper's
 *    `gnh=True`; damping = the estimator's default, 100 × the mean squared training-gradient entry = the
 *    paper's ×100 choice).
 * 4. Compare per test instance (cosine and Spearman across the left-out ids), mean over test instances ± SEM
 *    (and a bootstrap CI over test instances), as a function of further-training epochs.
 *
 * Two further-training variants: `sgd` (the paper's main one) and `adamw` (the paper's Adam variant).
 * AdamW-influence in the final-model-only setting: θ_f is all we have, but further training is an algorithm
 * we can run, so the natural trajectory method is AdamW-influence over the *further-training* run of the
 * same seed (fresh AdamW state at θ_f, recorded through e epochs): it linearises exactly the process the gold
 * standard measures (with zero-weight removal at the same batches instead of the sampler's deletion), and is
 * averaged over the same seeds. It needs more than the final model (the further-training trajectory is
 * computed, not given), so it is a reference for what trajectory-awareness buys, not a FiMO method. The `sgd`
 * variant can likewise carry SGD-influence over its further-training run (`trajectoryEstimators`).
 *
 * Also reported: a split-half reliability of the gold standard (cosine/Spearman between the seed-averages of
 * the even and the odd seeds), which bounds how well any method can agree at a given number of seeds, and
 * the 0-epoch check (Δ after 0 further epochs is exactly 0).
 *
 * @module
 */
import { cacheKey } from '../../cache/key.ts';
import fs from 'node:fs';
import path from 'node:path';
import { runtimeInfo, engineKey } from '../../runtime/backend.ts';
import { loadDataset } from '../../data/registry.ts';
import { selectSubset } from '../../data/subsets.ts';
import { subset, type Dataset } from '../../data/dataset.ts';
import { createModel } from '../../models/registry.ts';
import type { Model } from '../../models/types.ts';
import { disposeParams, unflattenParams } from '../../models/params.ts';
import type { OptimizerSetting } from '../../optim/optimizer.ts';
import { train } from '../../train/trainer.ts';
import { type TrainConfig } from '../../train/setting.ts';
import { readCachedJson, writeVerified } from '../../cache/integrity.ts';
import { writeResultFiles } from '../../pipeline/results.ts';
import { findingRun } from '../../pipeline/paths.ts';
import { log } from '../../runtime/log.ts';
import type { Trajectory } from '../../train/trajectory.ts';
import { furtherTraining } from '../../groundtruth/further-training.ts';
import { getEstimator } from '../../estimators/registry.ts';
import type { AttributionTask } from '../../estimators/types.ts';
import { scoreMatrix, type ScoreMatrix } from '../../analysis/score-matrix.ts';
import { cosine, perQuery, spearman, summarizeQueries } from '../../analysis/metrics.ts';
import { bootstrapCI } from '../../analysis/stats.ts';
import { evaluateFinal } from '../../settings/binary.ts';
import { toCsv } from '../../pipeline/summary.ts';
import { UsageError } from '../../runtime/errors.ts';

/** An estimator spec (registry name + options, reported under `label`). */
export interface MethodSpec {
  label: string;
  name: string;
  options?: Record<string, unknown>;
}

/** A further-training variant. */
export interface FurtherVariant {
  name: string;
  optimizer: OptimizerSetting;
  /** Constant further-training LR. */
  lr: number;
  /** Estimators run over each seed's further-training trajectory of e epochs (averaged over seeds like Δ). */
  trajectoryEstimators: MethodSpec[];
}

/** One dataset of the experiment. */
export interface FinalModelSpec {
  dataset: 'adult' | 'mnist';
  /** Training examples (a seeded subset of the training split). */
  nTrain: number;
  /** Test instances (queries). */
  nQueries: number;
  /** Left-out training instances (rows). */
  nLeftOut: number;
  /** MLP widths including input and output. */
  sizes: number[];
  /** Final training: plain SGD, constant LR. */
  final: { epochs: number; batchSize: number; lr: number };
  variants: FurtherVariant[];
}

/** A preset. */
export interface FinalModelPreset {
  specs: FinalModelSpec[];
  /** Further-training epochs at which everything is compared (the largest one is trained). */
  epochs: number[];
  /** Further-training seeds 0..seeds−1 (averaged). */
  seeds: number;
  /** Final-model methods. */
  methods: MethodSpec[];
  /**
   * Trajectory estimators run on the first `trajectorySeeds` seeds only (default: all) and are averaged over
   * those: each is a deterministic linearisation of one seed's run, so it varies far less over seeds than Δ,
   * and it costs one HVP per query and step.
   */
  trajectorySeeds?: number;
}

const sgdOpt: OptimizerSetting = { kind: 'sgd', momentum: 0, weightDecay: 0 };
const adamwOpt: OptimizerSetting = { kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };

/** Final-model methods of papers.md §3.3 (LiSSA depth per preset). */
export function finalModelMethods(lissaDepth: number): MethodSpec[] {
  return [
    { label: 'Grad-Dot', name: 'grad-dot' },
    { label: 'Grad-Cos', name: 'grad-cos' },
    { label: 'IF (CG)', name: 'if-cg', options: { curvature: 'ggn' } },
    { label: 'IF (LiSSA)', name: 'if-lissa', options: { curvature: 'ggn', depth: lissaDepth } },
  ];
}

const ADAMW_INF: MethodSpec = { label: 'AdamW-influence (FT traj.)', name: 'adamw-influence', options: { curvature: 'exact' } };
const SGD_INF: MethodSpec = { label: 'SGD-influence (FT traj.)', name: 'sgd-influence', options: { curvature: 'exact' } };

function variants(sgdLr: number, adamwLr: number, withSgdTraj: boolean): FurtherVariant[] {
  return [
    { name: 'sgd', optimizer: sgdOpt, lr: sgdLr, trajectoryEstimators: withSgdTraj ? [SGD_INF] : [] },
    { name: 'adamw', optimizer: adamwOpt, lr: adamwLr, trajectoryEstimators: [ADAMW_INF] },
  ];
}

/**
 * `quick` (CI): Adult 104-32-32-2 on 300 samples, 10 queries × 10 left-out ids, 2 seeds, epochs {1, 2, 5}.
 * `full` (CPU scale): Adult 104-32-32-2 and MNIST 784-16-16-10 on 1000 samples each, 30 queries × 40
 * left-out ids, 8 seeds (AdamW-influence over the further-training run: 2), epochs {1, 2, 5, 10, 20}. The further-training SGD LR
 * is 2.5× below the final one (the paper: 100×) because our training sets are 30× smaller: the amount of
 * further training, Σ η over steps, then runs from 0.16 (1 epoch) to 3.2 (20 epochs), which covers the
 * paper's Folktables range (25 epochs · 235 steps · 1e-4 = 0.6) and beyond.
 */
export const FINAL_MODEL_PRESETS: Record<string, FinalModelPreset> = {
  quick: {
    specs: [{ dataset: 'adult', nTrain: 300, nQueries: 10, nLeftOut: 10, sizes: [104, 32, 32, 2], final: { epochs: 100, batchSize: 64, lr: 0.05 }, variants: variants(3e-2, 3e-4, true) }],
    epochs: [1, 2, 5],
    seeds: 2,
    methods: finalModelMethods(150),
  },
  full: {
    specs: [
      { dataset: 'adult', nTrain: 1000, nQueries: 30, nLeftOut: 40, sizes: [104, 32, 32, 2], final: { epochs: 200, batchSize: 128, lr: 0.05 }, variants: variants(2e-2, 3e-4, false) },
      { dataset: 'mnist', nTrain: 1000, nQueries: 30, nLeftOut: 40, sizes: [784, 16, 16, 10], final: { epochs: 100, batchSize: 128, lr: 0.1 }, variants: variants(2e-2, 3e-4, false) },
    ],
    epochs: [1, 2, 5, 10, 20],
    seeds: 8,
    trajectorySeeds: 2,
    methods: finalModelMethods(300),
  },
};

/** The final model and its data. */
export interface FinalModelSetup {
  spec: FinalModelSpec;
  model: Model;
  train: Dataset;
  queries: Dataset;
  leftOut: number[];
  trajectory: Trajectory;
  finalSetting: TrainConfig;
  finalEval: { trainLoss: number; trainAccuracy: number; testLoss: number; testAccuracy: number };
  key: string;
}

/** Trains (deterministically; a few seconds) the final model of a spec. */
export async function setupFinalModel(spec: FinalModelSpec): Promise<FinalModelSetup> {
  const [tr, te] = await Promise.all([loadDataset(spec.dataset, 'train'), loadDataset(spec.dataset, 'test')]);
  const d = tr.xShape.reduce((a, b) => a * b, 1);
  if (spec.sizes[0] !== d) throw new Error(`final-model: sizes[0] = ${spec.sizes[0]} but '${spec.dataset}' has ${d} features`);
  if (spec.sizes[spec.sizes.length - 1] !== tr.classes) throw new Error(`final-model: the output width must be ${tr.classes} for '${spec.dataset}'`);
  if (spec.nLeftOut > spec.nTrain) throw new Error(`final-model: nLeftOut ${spec.nLeftOut} > nTrain ${spec.nTrain}`);
  const train_ = subset(tr, selectSubset(tr.n, spec.nTrain, 0, 'fimo-train'), `${spec.dataset}/train[${spec.nTrain}]`);
  const test = subset(te, selectSubset(te.n, Math.max(spec.nQueries, 1000), 0, 'fimo-test'), `${spec.dataset}/test`);
  const queries = subset(test, Array.from({ length: spec.nQueries }, (_, i) => i), `${spec.dataset}/queries[${spec.nQueries}]`);
  const leftOut = selectSubset(spec.nTrain, spec.nLeftOut, 0, 'fimo-left-out');
  const model = createModel({ family: 'mlp', config: { sizes: spec.sizes, activation: 'relu' } });
  const finalSetting: TrainConfig = { seed: 0, batchSize: spec.final.batchSize, epochs: spec.final.epochs, optimizer: sgdOpt, schedule: { kind: 'constant', lr: spec.final.lr } };
  const trajectory = await train({ model, data: train_, setting: finalSetting, record: 'none' });
  const a = evaluateFinal(model, trajectory, train_);
  const b = evaluateFinal(model, trajectory, test);
  const rt = runtimeInfo();
  const key = cacheKey({ spec: { ...spec, variants: undefined }, backend: engineKey(), theta: trajectory.manifest.runHash }, 20);
  return { spec, model, train: train_, queries, leftOut, trajectory, finalSetting, finalEval: { trainLoss: a.loss, trainAccuracy: a.accuracy, testLoss: b.loss, testAccuracy: b.accuracy }, key };
}

function readJson<T>(file: string): T | undefined {
  return readCachedJson<T>(file, 'final-model cell');
}

function writeJson(file: string, v: unknown): void {
  writeVerified(file, JSON.stringify(v) + '\n');
}

/** Final-model method scores `[nLeftOut, nQueries]` (cached per final model and method). */
async function methodScores(s: FinalModelSetup, m: MethodSpec, cacheDir: string): Promise<{ values: number[]; seconds: number; solves?: unknown }> {
  const file = path.join(cacheDir, 'final-model', s.key, `method-${cacheKey(m, 16)}.json`);
  const hit = readJson<{ values: number[]; seconds: number; solves?: unknown }>(file);
  if (hit) return hit;
  const task: AttributionTask = { model: s.model, data: s.train, trajectory: s.trajectory, queries: s.queries, trainIds: s.leftOut };
  const solves: { iterations: number; residual: number; converged: boolean; damping: number }[] = [];
  const t0 = performance.now();
  const sm = await getEstimator(m.name).score(task, { ...(m.options ?? {}), onSolve: (i: { iterations: number; residual: number; converged: boolean; damping: number }) => solves.push(i) });
  const seconds = (performance.now() - t0) / 1000;
  const out = {
    values: Array.from(sm.values),
    seconds,
    solves: solves.length ? { n: solves.length, damping: solves[0].damping, meanIterations: solves.reduce((a, x) => a + x.iterations, 0) / solves.length, maxResidual: Math.max(...solves.map((x) => x.residual)), converged: solves.every((x) => x.converged) } : undefined,
  };
  writeJson(file, out);
  log(`[final-model ${s.spec.dataset}] ${m.label}: ${seconds.toFixed(1)} s`);
  return out;
}

/** One (dataset, variant, seed) cell: raw Δ per epoch and trajectory-estimator scores per epoch. */
export interface FurtherCell {
  /** `deltas[k]`: Δ after `epochs[k]` further epochs, `[nLeftOut·nQueries]` (this seed, not centred). */
  deltas: number[][];
  /** max |Δ| after 0 further epochs (must be exactly 0). */
  epoch0MaxAbs: number;
  /** label → per epoch index → scores `[nLeftOut·nQueries]`. */
  trajectory: Record<string, number[][]>;
  seconds: number;
}

async function furtherCell(s: FinalModelSetup, v: FurtherVariant, seed: number, epochs: number[], withTrajectory: boolean, cacheDir: string): Promise<FurtherCell> {
  const file = path.join(cacheDir, 'final-model', s.key, `further-${cacheKey({ v, epochs, withTrajectory }, 16)}-seed${seed}.json`);
  const hit = readJson<FurtherCell>(file);
  if (hit) return hit;
  const t0 = performance.now();
  const maxE = Math.max(...epochs);
  const schedule = { kind: 'constant' as const, lr: v.lr };
  const ft = await furtherTraining({
    model: s.model, data: s.train, queries: s.queries, ids: s.leftOut, from: s.trajectory, epochs: maxE, seeds: [seed],
    batchSize: s.spec.final.batchSize, optimizer: v.optimizer, schedule, mode: 'delete', subtractMean: false,
  });
  const deltas = epochs.map((e) => Array.from(ft.perEpoch[e].values));
  const epoch0MaxAbs = ft.perEpoch[0].values.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  const trajectory: Record<string, number[][]> = {};
  if (withTrajectory && v.trajectoryEstimators.length) {
    const theta = s.trajectory.states.final().theta;
    for (const e of epochs) {
      const init = unflattenParams(theta, s.model.spec);
      let run: Trajectory;
      try {
        // Same seed, batch size, optimizer and constant LR as the gold standard's full run: its first e epochs.
        run = await train({ model: s.model, data: s.train, initParams: init, setting: { seed, batchSize: s.spec.final.batchSize, epochs: e, optimizer: v.optimizer, schedule } });
      } finally {
        disposeParams(init);
      }
      for (const m of v.trajectoryEstimators) {
        const sm = await getEstimator(m.name).score({ model: s.model, data: s.train, trajectory: run, queries: s.queries, trainIds: s.leftOut }, m.options ?? {});
        (trajectory[m.label] ??= []).push(Array.from(sm.values));
      }
    }
  }
  const out: FurtherCell = { deltas, epoch0MaxAbs, trajectory, seconds: (performance.now() - t0) / 1000 };
  writeJson(file, out);
  log(`[final-model ${s.spec.dataset}/${v.name} seed ${seed}] ${out.seconds.toFixed(1)} s`);
  return out;
}

/** Mean of flat matrices. */
function meanOf(ms: number[][]): Float64Array {
  const out = new Float64Array(ms[0].length);
  for (const m of ms) m.forEach((x, i) => (out[i] += x / ms.length));
  return out;
}

/** Per query column, minus the mean over left-out rows (eq. 13). */
export function centreColumns(m: ScoreMatrix): ScoreMatrix {
  const out = scoreMatrix(m.nTrain, m.nQuery, m.values);
  for (let q = 0; q < m.nQuery; q++) {
    let mu = 0;
    for (let i = 0; i < m.nTrain; i++) mu += m.values[i * m.nQuery + q];
    mu /= m.nTrain;
    for (let i = 0; i < m.nTrain; i++) out.values[i * m.nQuery + q] -= mu;
  }
  return out;
}

/** A tidy row: one (dataset, variant, epoch, method, metric), over test instances. */
export interface FinalModelRow {
  dataset: string;
  variant: string;
  epoch: number;
  /** Display label of the method. */
  method: string;
  /** What the method is: a final-model-only method, a trajectory estimator on the further-training run, or the gold standard against itself. */
  kind: 'final-model' | 'trajectory' | 'split-half';
  metric: 'cosine' | 'spearman';
  mean: number;
  sem: number;
  lo: number;
  hi: number;
  nQueries: number;
  skipped: number;
  /** Seeds averaged: the gold standard's, or (trajectory estimators) those the estimator was run on. */
  seeds: number;
}

function metricRows(base: Omit<FinalModelRow, 'metric' | 'mean' | 'sem' | 'lo' | 'hi' | 'nQueries' | 'skipped'>, est: ScoreMatrix, gt: ScoreMatrix, bootSeed: number): FinalModelRow[] {
  return (['cosine', 'spearman'] as const).map((metric) => {
    const v = perQuery(metric === 'cosine' ? cosine : spearman, est, gt);
    const s = summarizeQueries(v);
    const ci = bootstrapCI(v, { seed: bootSeed, reps: 1000 });
    return { ...base, metric, mean: s.mean, sem: s.sem, lo: ci.lo, hi: ci.hi, nQueries: s.n, skipped: s.skipped };
  });
}

/** The summary file. */
export interface FinalModelSummary {
  format: 'faithful-tda/final-model';
  version: 1;
  preset: string;
  config: FinalModelPreset;
  complete: boolean;
  /** Seeds used per (dataset, variant) (fewer than the preset's when a budget stopped the run). */
  seedsUsed: Record<string, number>;
  finalModels: { dataset: string; setting: TrainConfig; eval: FinalModelSetup['finalEval']; methodSeconds: Record<string, number>; solves: Record<string, unknown> }[];
  /**
   * One row per (dataset, variant, epoch, method, metric). Method 'GT split-half' compares the even-seed with
   * the odd-seed average of the gold standard (its reliability at half the seeds).
   */
  rows: FinalModelRow[];
  /** max |Δ| after 0 further epochs over every cell (exactly 0 expected). */
  epoch0MaxAbs: number;
  /** Gold-standard magnitude per (dataset, variant, epoch): mean |Δ| (centred). */
  deltaScale: { dataset: string; variant: string; epoch: number; meanAbs: number }[];
  runtime: ReturnType<typeof runtimeInfo>;
  createdAt: string;
}

/** Options of {@link runFinalModel}. */
export interface FinalModelOptions {
  outDir?: string;
  cacheDir?: string;
  /** Restrict to these datasets. */
  datasets?: string[];
  /** Override the number of seeds. */
  seeds?: number;
  /** Start no new seed cell after this many seconds (rerun to resume from the cache). */
  budgetSeconds?: number;
}

/**
 * Runs a preset and writes `summary.json`, `summary.csv` under `<outDir>/<preset>/`.
 */
export async function runFinalModel(presetName: string, o: FinalModelOptions = {}): Promise<FinalModelSummary> {
  const { preset, outDir, cacheDir } = findingRun('final-model', FINAL_MODEL_PRESETS, presetName, o);
  const nSeeds = o.seeds ?? preset.seeds;
  const specs = preset.specs.filter((s) => !o.datasets || o.datasets.includes(s.dataset));
  if (!specs.length) throw new Error(`final-model: no dataset of preset '${presetName}' matches [${o.datasets}]`);
  const t0 = performance.now();
  const over = () => o.budgetSeconds !== undefined && (performance.now() - t0) / 1000 > o.budgetSeconds;
  const epochs = [...preset.epochs].sort((a, b) => a - b);

  const rows: FinalModelRow[] = [];
  const finalModels: FinalModelSummary['finalModels'] = [];
  const seedsUsed: Record<string, number> = {};
  const deltaScale: FinalModelSummary['deltaScale'] = [];
  let epoch0MaxAbs = 0;
  let complete = true;
  for (const spec of specs) {
    const s = await setupFinalModel(spec);
    const nI = spec.nLeftOut;
    const nQ = spec.nQueries;
    const methods: { m: MethodSpec; scores: ScoreMatrix }[] = [];
    const methodSeconds: Record<string, number> = {};
    const solves: Record<string, unknown> = {};
    for (const m of preset.methods) {
      const r = await methodScores(s, m, cacheDir);
      methods.push({ m, scores: scoreMatrix(nI, nQ, r.values) });
      methodSeconds[m.label] = r.seconds;
      if (r.solves) solves[m.label] = r.solves;
    }
    finalModels.push({ dataset: spec.dataset, setting: s.finalSetting, eval: s.finalEval, methodSeconds, solves });
    for (const v of spec.variants) {
      const cells: FurtherCell[] = [];
      for (let seed = 0; seed < nSeeds; seed++) {
        if (over()) {
          complete = false;
          break;
        }
        cells.push(await furtherCell(s, v, seed, epochs, seed < (preset.trajectorySeeds ?? nSeeds), cacheDir));
      }
      seedsUsed[`${spec.dataset}/${v.name}`] = cells.length;
      if (!cells.length) continue;
      for (const c of cells) epoch0MaxAbs = Math.max(epoch0MaxAbs, c.epoch0MaxAbs);
      epochs.forEach((e, k) => {
        const gt = centreColumns(scoreMatrix(nI, nQ, meanOf(cells.map((c) => c.deltas[k]))));
        deltaScale.push({ dataset: spec.dataset, variant: v.name, epoch: e, meanAbs: gt.values.reduce((a, x) => a + Math.abs(x), 0) / gt.values.length });
        const base = { dataset: spec.dataset, variant: v.name, epoch: e, seeds: cells.length };
        for (const { m, scores } of methods) rows.push(...metricRows({ ...base, method: m.label, kind: 'final-model' }, scores, gt, e));
        for (const m of v.trajectoryEstimators) {
          const withT = cells.filter((c) => c.trajectory[m.label]);
          if (!withT.length) continue;
          const est = scoreMatrix(nI, nQ, meanOf(withT.map((c) => c.trajectory[m.label][k])));
          rows.push(...metricRows({ ...base, method: m.label, kind: 'trajectory', seeds: withT.length }, est, gt, e));
        }
        if (cells.length >= 2) {
          const even = centreColumns(scoreMatrix(nI, nQ, meanOf(cells.filter((_, i) => i % 2 === 0).map((c) => c.deltas[k]))));
          const odd = centreColumns(scoreMatrix(nI, nQ, meanOf(cells.filter((_, i) => i % 2 === 1).map((c) => c.deltas[k]))));
          rows.push(...metricRows({ ...base, method: 'GT split-half', kind: 'split-half' }, even, odd, e));
        }
      });
    }
  }
  const summary: FinalModelSummary = {
    format: 'faithful-tda/final-model',
    version: 1,
    preset: presetName,
    config: { ...preset, specs, seeds: nSeeds },
    complete,
    seedsUsed,
    finalModels,
    rows,
    epoch0MaxAbs,
    deltaScale,
    runtime: runtimeInfo(),
    createdAt: new Date().toISOString(),
  };
  writeResultFiles(outDir, { 'summary.json': summary, 'summary.csv': rows });
  return summary;
}
