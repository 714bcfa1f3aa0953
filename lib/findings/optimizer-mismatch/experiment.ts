/**
 * Finding 1 — optimizer mismatch (config-level error): fidelity of SGD-derived estimators vs
 * AdamW-influence against TSLOO on AdamW runs, per setting and learning rate, seeds 0–2.
 *
 * Presets: `quick` (CI: every setting's quick preset, one LR, one seed; MLP 40 × 40, the CNN, GPT-2 and
 * Llama cells tiny), `full` (MLP 200 scored samples × 500 queries, LR ∈ {1e-3, 1e-4, 1e-5}; CNN 100 × 64,
 * LR ∈ {1e-3, 1e-4}; GPT-2 50 blocks × 64 queries, LR ∈ {1e-4, 5e-5, 1e-5} (the paper's GPT-2 grid); Llama
 * 50 × 64, LR ∈ {1e-3, 1e-4}; seeds 0–2), `paper` (GPT-2 124M and Llama 3.2-1B from user checkpoints, the CIFAR
 * CNN at 4,000 / 1,000, the MLP as in `full`; every query scored by every estimator; needs a GPU backend for the
 * transformer rows and says so at once without one — `--settings mlp,cnn` runs the rest on a CPU).
 *
 * **Why the CNN and transformer cells score fewer queries with the exact sweeps.** SGD-influence and
 * AdamW-influence (exact) carry one adjoint per query and cost one HVP per query per step. Measured on the
 * 2-core wasm machine: one HVP on a full batch takes 0.78 s (CNN, B 64; 0.25–0.33 s since the CNN gradient fixes
 * of 2026-11-23, bench/curvature.bench.ts), 2.5 s (GPT-2, 32 × 64 tokens) and 1.6 s (Llama, 8 × 64 tokens), so 64
 * queries over 24–63 steps was 55–77 min per estimator per cell (about 17 min for the CNN now). In those cells
 * TSLOO and the cheap estimators cover all 64 queries and the two exact sweeps score the first 16 (`maxQueries`; 8 for
 * GPT-2 and Llama before the engine of 2026-12); their relative gain is paired on those queries. The GGN ablation is MLP-only in `full`. A GPU
 * backend removes the reason for both cuts.
 *
 * **ACC-SGD-IE is not a column.** The MLP and CNN runs are one epoch, where ACC-SGD-IE equals SGD-influence
 * exactly (acc-sgd-ie.ts; tested). On the multi-epoch transformer runs it carries one adjoint per recurring
 * (scored sample, query), ≈ 1 + n_scored·(live fraction) ≈ 30× the SGD sweep at 50 samples. It is compared
 * with SGD-IE where they differ, in `acc-epochs`.
 *
 * Both presets also hold the **SGD control** (the MLP trained with plain SGD at LR 0.1: there SGD-influence is the
 * matched estimator, compared with TracIn) and, on the MLP, the **ablations of partial AdamW accounting**
 * (no bias correction; v frozen; momentum ignored — `ablationEstimators`, on the first 100 queries in `full`).
 *
 * Each cell is cached (fidelity.ts); the summary is rewritten from the cell files on every call, and
 * `cachedOnly` writes it from the cells already computed (so a partial grid can be summarised).
 *
 * @module
 */
import type { RunOptions } from '../types.ts';
import fs from 'node:fs';
import path from 'node:path';
import { runtimeInfo } from '../../runtime/backend.ts';
import { cellDir, readFidelityResult, runFidelityCell, type FidelityCell, type FidelityResult } from '../../pipeline/fidelity.ts';
import type { EstimatorSpec } from '../../pipeline/cell.ts';
import { relativeGains, summariseFidelity } from '../../pipeline/summary.ts';
import { ABLATION_IDS, onFirstQueries, VARIANTS } from '../../pipeline/variants.ts';
import { writeResultFiles } from '../../pipeline/results.ts';
import { findingRun } from '../../pipeline/paths.ts';
import { readVerifiedJson } from '../../cache/integrity.ts';
import { UsageError } from '../../runtime/errors.ts';

/** The estimators compared (labels are what figures and tables show). */
export const MISMATCH_ESTIMATORS: EstimatorSpec[] = [VARIANTS.tracin, VARIANTS.sgdInfluence, VARIANTS.adamFirstOrder, VARIANTS.adamwNone, VARIANTS.adamwGgn, VARIANTS.adamwExact];

/** The estimators without the GGN variant (its cost is MLP-sized only). */
function withoutGgn(es: EstimatorSpec[]): EstimatorSpec[] {
  return es.filter((e) => e.id !== VARIANTS.adamwGgn.id);
}

/** One setting row of a preset. */
export interface MismatchSettingGrid {
  setting: string;
  preset: string;
  lrs: number[];
  nScored: number;
  nQueries: number;
  /** Estimators of this row (default: the preset's). */
  estimators?: EstimatorSpec[];
  /** `sgd`: the control row, trained with plain SGD (fidelity.ts `FidelityCell.optimizer`). */
  optimizer?: 'sgd';
}

/**
 * Partial AdamW accounting (adamw-influence.ts `AdamWAblation`), exact curvature, on the first `maxQueries`
 * queries: which part of the optimizer the estimate needs.
 */
export function ablationEstimators(maxQueries?: number): EstimatorSpec[] {
  return [VARIANTS.adamwNoBiasCorrection, VARIANTS.adamwVFrozen, VARIANTS.adamwNoMomentum].map((v) => onFirstQueries(v, maxQueries));
}

/** The SGD control's estimators: on a plain-SGD run SGD-influence is the matched one. */
export const SGD_CONTROL_ESTIMATORS: EstimatorSpec[] = [VARIANTS.tracin, VARIANTS.sgdInfluence];

/**
 * The estimators of the CPU-scale CNN / transformer `full` cells: the cheap ones on every query, the two exact
 * sweeps on the first `exactQueries` (see the module comment), no GGN ablation.
 */
export function costBoundEstimators(exactQueries: number): EstimatorSpec[] {
  const exact: string[] = [VARIANTS.sgdInfluence.id, VARIANTS.adamwExact.id];
  return withoutGgn(MISMATCH_ESTIMATORS).map((e) => (exact.includes(e.id!) ? { ...e, maxQueries: exactQueries } : e));
}

/** A preset: settings × LRs × seeds. */
export interface MismatchPreset {
  grids: MismatchSettingGrid[];
  seeds: number[];
  estimators: EstimatorSpec[];
}

export const MISMATCH_PRESETS: Record<string, MismatchPreset> = {
  quick: {
    grids: [
      { setting: 'mlp', preset: 'quick', lrs: [1e-3], nScored: 40, nQueries: 40, estimators: [...MISMATCH_ESTIMATORS, ...ablationEstimators()] },
      { setting: 'mlp', preset: 'quick', lrs: [0.1], nScored: 40, nQueries: 40, optimizer: 'sgd', estimators: SGD_CONTROL_ESTIMATORS },
      { setting: 'cnn', preset: 'quick', lrs: [1e-3], nScored: 8, nQueries: 4 },
      { setting: 'gpt2', preset: 'quick', lrs: [1e-4], nScored: 6, nQueries: 4 },
      { setting: 'llama', preset: 'quick', lrs: [1e-3], nScored: 6, nQueries: 2 },
    ],
    seeds: [0],
    estimators: MISMATCH_ESTIMATORS,
  },
  full: {
    grids: [
      { setting: 'mlp', preset: 'full', lrs: [1e-3, 1e-4, 1e-5], nScored: 200, nQueries: 500, estimators: [...MISMATCH_ESTIMATORS, ...ablationEstimators(100)] },
      { setting: 'mlp', preset: 'full', lrs: [0.1], nScored: 200, nQueries: 500, optimizer: 'sgd', estimators: SGD_CONTROL_ESTIMATORS },
      { setting: 'cnn', preset: 'full', lrs: [1e-3, 1e-4], nScored: 100, nQueries: 64, estimators: costBoundEstimators(16) },
      { setting: 'gpt2', preset: 'full', lrs: [1e-4, 5e-5, 1e-5], nScored: 50, nQueries: 64, estimators: costBoundEstimators(16) },
      { setting: 'llama', preset: 'full', lrs: [1e-3, 1e-4], nScored: 50, nQueries: 64, estimators: costBoundEstimators(16) },
    ],
    seeds: [0, 1, 2],
    estimators: MISMATCH_ESTIMATORS,
  },
  // The paper-scale grid, for a GPU backend (README, Engine). The transformer rows come first: without the
  // tensorflow backend or the checkpoints, the run stops at once with the setting's message naming both.
  // Every estimator scores every query. GPT-2: the [DL-fid] Appendix D.1 counts (50 blocks, first 64 of the
  // validation blocks). Llama 3.2-1B's LR grid and counts are not published (papers.md §1.11); ours are a choice.
  paper: {
    grids: [
      { setting: 'gpt2', preset: 'paper', lrs: [1e-4, 5e-5, 1e-5], nScored: 50, nQueries: 64, estimators: withoutGgn(MISMATCH_ESTIMATORS) },
      { setting: 'llama', preset: 'paper', lrs: [1e-4, 1e-5], nScored: 50, nQueries: 64, estimators: withoutGgn(MISMATCH_ESTIMATORS) },
      { setting: 'cnn', preset: 'paper', lrs: [1e-3, 1e-4], nScored: 100, nQueries: 200 },
      { setting: 'mlp', preset: 'paper', lrs: [1e-3, 1e-4, 1e-5], nScored: 200, nQueries: 500, estimators: [...MISMATCH_ESTIMATORS, ...ablationEstimators()] },
      { setting: 'mlp', preset: 'paper', lrs: [0.1], nScored: 200, nQueries: 500, optimizer: 'sgd', estimators: SGD_CONTROL_ESTIMATORS },
    ],
    seeds: [0, 1, 2],
    estimators: MISMATCH_ESTIMATORS,
  },
};

/**
 * Options of {@link runOptimizerMismatch} (findings/types.ts `RunOptions`): `lrs` / `seeds` / `settings` restrict the
 * preset (an LR outside a row's grid skips that row); `cachedOnly` summarises the cells whose result file exists.
 */
export type MismatchOptions = Pick<RunOptions, 'outDir' | 'cacheDir' | 'lrs' | 'seeds' | 'settings' | 'cachedOnly'>;

/** The summary file written by {@link runOptimizerMismatch}. */
export interface MismatchSummary {
  format: 'faithful-tda/optimizer-mismatch';
  version: 1;
  preset: string;
  rows: ReturnType<typeof summariseFidelity>;
  gains: ReturnType<typeof relativeGains>;
  /**
   * Per cell: where its result is, and its cost: `computeSeconds` = training + TSLOO + every estimator, each as
   * measured when it was computed (a cached phase keeps its original time), the peak RSS of the process (MB), and
   * the share of TSLOO entries within the ±1-ulp noise floor (pipeline/fidelity.ts; null in older cell files).
   */
  cells: { dir: string; setting: string; lr: number; seed: number; optimizer: string; computeSeconds: number; peakRssMB: number | null; tslooWithinFloor: number | null }[];
  runtime: ReturnType<typeof runtimeInfo>;
  createdAt: string;
}

/**
 * Runs every cell of a preset (cached), then writes `summary.json`, `summary.csv` and `gains.csv` under
 * `<outDir>/<preset>/`.
 */
export async function runOptimizerMismatch(presetName: string, o: MismatchOptions = {}): Promise<MismatchSummary> {
  const { preset, outDir, cacheDir } = findingRun('optimizer-mismatch', MISMATCH_PRESETS, presetName, o);
  const results: FidelityResult[] = [];
  const cells: MismatchSummary['cells'] = [];
  for (const g of preset.grids) {
    if (o.settings && !o.settings.includes(g.setting)) continue;
    // `lrs` restricts each row's own grid (the SGD control's LR is not an AdamW row's, and vice versa)
    for (const lr of o.lrs ? g.lrs.filter((x) => o.lrs!.includes(x)) : g.lrs) {
      for (const seed of o.seeds ?? preset.seeds) {
        const cell: FidelityCell = {
          setting: g.setting, preset: g.preset, lr, seed, nScored: g.nScored, nQueries: g.nQueries, estimators: g.estimators ?? preset.estimators,
          ...(g.optimizer ? { optimizer: g.optimizer } : {}),
        };
        const resultFile = path.join(cellDir(cell, path.join(outDir, 'cells')), 'result.json');
        const r = o.cachedOnly
          ? readFidelityResult(resultFile)
          : await runFidelityCell(cell, { cacheDir, outDir: path.join(outDir, 'cells') });
        if (!r) continue;
        results.push(r);
        const computeSeconds = r.trainSeconds + r.tsloo.seconds + r.estimators.reduce((a, e) => a + e.seconds, 0);
        cells.push({ dir: path.relative(outDir, cellDir(cell, path.join(outDir, 'cells'))), setting: g.setting, lr, seed, optimizer: g.optimizer ?? 'adamw', computeSeconds, peakRssMB: r.peakRssMB ?? null, tslooWithinFloor: r.tsloo.floor ? r.tsloo.floor.within / r.tsloo.floor.total : null });
      }
    }
  }
  const sgdRuns = results.filter((r) => r.cell.optimizer === 'sgd');
  const summary: MismatchSummary = {
    format: 'faithful-tda/optimizer-mismatch',
    version: 1,
    preset: presetName,
    rows: summariseFidelity(results),
    gains: [
      ...relativeGains(results, VARIANTS.adamwExact.id, VARIANTS.sgdInfluence.id, 'spearman'),
      ...relativeGains(results, VARIANTS.adamwExact.id, VARIANTS.sgdInfluence.id, 'pearson'),
      // the SGD control: the matched estimator against the cheapest one
      ...relativeGains(sgdRuns, VARIANTS.sgdInfluence.id, VARIANTS.tracin.id, 'spearman'),
      ...relativeGains(sgdRuns, VARIANTS.sgdInfluence.id, VARIANTS.tracin.id, 'pearson'),
      // what each part of AdamW is worth: the full estimator over each ablation, paired on the ablation's queries
      ...ABLATION_IDS.flatMap((id) => relativeGains(results, VARIANTS.adamwExact.id, id, 'spearman')),
    ],
    cells,
    runtime: runtimeInfo(),
    createdAt: new Date().toISOString(),
  };
  writeResultFiles(outDir, { 'summary.json': summary, 'summary.csv': summary.rows, 'gains.csv': summary.gains });
  return summary;
}
