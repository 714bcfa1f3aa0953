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
import { tf } from '../../runtime/tf.ts';
import { runtimeInfo, engineKey } from '../../runtime/backend.ts';
import { loadDataset } from '../../data/registry.ts';
import { selectSubset } from '../../data/subsets.ts';
import { subset, type Dataset } from '../../data/dataset.ts';
import { makeBatch } from '../../data/batch.ts';
import { createModel } from '../../models/registry.ts';
import type { Model, Params } from '../../models/types.ts';
import { train } from '../../train/trainer.ts';
import { contentHash, type TrainConfig } from '../../train/setting.ts';
import { readCachedJson, writeVerified } from '../../cache/integrity.ts';
import { writeResultFiles } from '../../pipeline/results.ts';
import { findingRun } from '../../pipeline/paths.ts';
import type { Trajectory } from '../../train/trajectory.ts';
import { tsloo } from '../../groundtruth/tsloo.ts';
import { getEstimator } from '../../estimators/registry.ts';
import { jaccardTopBottom, kendallTau, spearman, topBottomK } from '../../analysis/metrics.ts';
import { meanStd, quantile, sem } from '../../analysis/stats.ts';
import { Rng } from '../../runtime/rng.ts';
import { toCsv } from '../../pipeline/summary.ts';

import { ACC_DATASETS, type AccDataset, type BinaryTaskSpec } from '../../settings/binary.ts';
import { ACC_ESTIMATORS, runAccCell, type AccCell, type AccCellResult } from '../../pipeline/mean-loss-cell.ts';
import { UsageError } from '../../runtime/errors.ts';

/** A preset: settings × epoch grid × seeds. */
export interface AccEpochsPreset {
  specs: BinaryTaskSpec[];
  epochs: number[];
  seeds: number[];
}

const spec = (dataset: AccDataset, n: number, batchSize: number, nTest = n): BinaryTaskSpec => ({ dataset, n, nTest, hidden: [8, 8], batchSize, lr: 0.1 });

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
  /** Display label, and the stable id code matches on (mean-loss-cell.ts `ACC_ESTIMATORS`). */
  estimator: string;
  estimatorId: string;
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
        const values = g.map((r) => r.estimators.find((x) => x.name === e.name)!.metrics[metric]);
        const ms = meanStd(values);
        rows.push({ dataset: c.spec.dataset, n: c.spec.n, batchSize: c.spec.batchSize, epochs: c.epochs, estimator: e.label, estimatorId: e.id, metric, mean: ms.mean, std: fin(ms.std), sem: fin(sem(values)), seeds: g.map((r) => r.cell.seed), values });
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
  const { preset, outDir, cacheDir } = findingRun('acc-epochs', ACC_EPOCHS_PRESETS, presetName, o);
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
