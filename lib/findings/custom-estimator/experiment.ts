/**
 * Notebook 07 — add your estimator: score an estimator you wrote (an object satisfying
 * lib/estimators/types.ts `Estimator`, registered with `registerEstimator`) side by side with the
 * built-ins, against two references:
 *
 * - **TSLOO** (lib/groundtruth/tsloo.ts): the real leave-one-out effect on this trajectory. Reported as the
 *   Spearman across scored samples per query, averaged over queries, with a bootstrap CI over queries.
 * - **the finite-difference oracle** (lib/groundtruth/fd-oracle.ts): the exact first-order removal effect of
 *   the real training run, `−∂ℓ_q(θ_T)/∂w_z`, on a few samples. Reported as the relative error
 *   ‖estimate − FD‖ / ‖FD‖ across queries, per sample. An estimator that claims to linearise the run
 *   (AdamW-influence with exact curvature) should be near 0; one that does not shows how far it is.
 *
 * The cell, caches and bookkeeping are the quickstart's (quickstart.ts). Built-in scores, TSLOO and the FD
 * runs are cached; your estimator's scores never are, because its code may have changed since the last run.
 *
 * For writing an estimator, this module re-exports the building blocks the built-ins use
 * ({@link ESTIMATOR_KIT}), and ships one example, {@link tracinAdam}, which the CLI run scores.
 *
 * @module
 */
import fs from 'node:fs';
import path from 'node:path';
import { VARIANTS } from '../../pipeline/variants.ts';
import { runtimeInfo } from '../../runtime/backend.ts';
import { contentHash } from '../../train/setting.ts';
import { readCachedJson, writeVerified } from '../../cache/integrity.ts';
import { fdRemovalEffect } from '../../groundtruth/fd-oracle.ts';
import { getEstimator } from '../../estimators/registry.ts';
import * as kit from '../../estimators/kit.ts';
import type { AttributionTask, Estimator, EstimatorOptions } from '../../estimators/types.ts';
import { fromJSON, row, scoreMatrix, toJSON, type ScoreMatrix } from '../../analysis/score-matrix.ts';
import { relativeError } from '../../analysis/metrics.ts';
import { writeResultFiles } from '../../pipeline/results.ts';
import { cachedScores, groundTruth, prepareCell, type AttributionCell, type CellOptions, type EstimatorScores, type EstimatorSpec, type PreparedCell } from '../../pipeline/cell.ts';
import { fidelityRows, type FidelityStatRow } from '../../pipeline/metrics.ts';
import { findingDir } from '../../pipeline/paths.ts';
import { cacheKey } from '../../cache/key.ts';
import { cachedJson } from '../../cache/entry.ts';
import { UsageError } from '../../runtime/errors.ts';

/** The estimator kit (lib/estimators/kit.ts), re-exported for notebook 07. */
export const ESTIMATOR_KIT = kit;

/**
 * Example estimator — TracIn with the AdamW preconditioner (LESS-style):
 *
 *     score(z, q) = Σ_{t: z∈B_t} (η_t / D_t) ⟨∇ℓ_q(θ_t), ∇ℓ_z(θ_t) ⊘ (√v̂_{t+1} + ε)⟩,   v̂_{t+1} = v_{t+1} / (1 − β2^k)
 *
 * AdamW rescales each coordinate by 1/(√v̂ + ε), so the push a sample gives θ is its preconditioned gradient;
 * the momentum spreads that push over later steps with weights (1 − β1)β1^j that sum to 1, so no extra factor.
 * Unlike AdamW-influence it propagates nothing through later steps (no curvature, no moment dynamics).
 * Rows `[trainIds.length]` × columns `[queries.n]`, removal sign (positive = z helped q).
 */
export const tracinAdam: Estimator = {
  name: 'tracin-adam',
  summary: 'TracIn with the AdamW preconditioner: Σ_t η_t/D_t ⟨∇ℓ_q(θ_t), ∇ℓ_z(θ_t) ⊘ (√v̂_{t+1} + ε)⟩',
  async score(task: AttributionTask, o: EstimatorOptions = {}): Promise<ScoreMatrix> {
    const { eps, beta2 } = kit.adamwHyperOf(task, 'tracin-adam');
    return kit.eachStepUsingSample(task, o, 'tracin-adam', ({ t, rows, ids, lr, divisor, p, out }) => {
      const post = task.trajectory.states.at(t + 1); // v after the update of step t: the preconditioner that step applied
      const bc = 1 - beta2 ** post.optStep;
      const G = kit.trainGradsAt(task, t, ids, o.mask);
      for (let i = 0; i < G.length; i++) G[i] /= Math.sqrt(post.v![i % p] / bc) + eps;
      kit.accumulateDots(out, rows, G, kit.queryGradsAt(task, t), p, lr / divisor);
    });
  },
};

/**
 * Built-ins scored beside yours (labels and options as in optimizer-mismatch, so their caches are shared). All
 * are scaled as removal effects; a final-model score such as Grad-Dot is not (no learning rate), so its
 * relative error against the FD oracle would be meaningless.
 */
export const BUILTIN_ESTIMATORS: EstimatorSpec[] = [VARIANTS.adamwExact, VARIANTS.adamFirstOrder, VARIANTS.adamwNone, VARIANTS.tracin];

/** A preset: the cell, and how many scored samples get finite-difference runs. */
export interface CustomEstimatorPreset {
  cell: AttributionCell;
  builtins: EstimatorSpec[];
  /** The first `nFd` scored samples are checked against the FD oracle (two training runs each). */
  nFd: number;
  /**
   * Relative loss-weight perturbation of the FD oracle. 1e-3 on the MNIST MLP (measured on the quick cell: at
   * 1e-2 and above the FD picks up the curvature of AdamW's 1/√v̂ rescaling and disagrees with every
   * estimator, at 1e-4 and below float32 rounding of the query losses dominates).
   */
  fdEps: number;
}

/**
 * `quick`: the quickstart's quick MLP cell (40 scored × 40 queries), FD on 2 samples. `full` / `paper`: the
 * paper's MLP, 200 × 500 (the optimizer-mismatch full cell at LR 1e-3, seed 0), FD on 5 samples.
 */
export const CUSTOM_ESTIMATOR_PRESETS: Record<string, CustomEstimatorPreset> = {
  quick: { cell: { setting: 'mlp', preset: 'quick', lr: 1e-3, seed: 0, nScored: 40, nQueries: 40 }, builtins: BUILTIN_ESTIMATORS, nFd: 2, fdEps: 1e-3 },
  full: { cell: { setting: 'mlp', preset: 'full', lr: 1e-3, seed: 0, nScored: 200, nQueries: 500 }, builtins: BUILTIN_ESTIMATORS, nFd: 5, fdEps: 1e-3 },
  paper: { cell: { setting: 'mlp', preset: 'paper', lr: 1e-3, seed: 0, nScored: 200, nQueries: 500 }, builtins: BUILTIN_ESTIMATORS, nFd: 5, fdEps: 1e-3 },
};

/** A summary row: `metric` spearman / pearson against TSLOO, or `fdRelErr` against the FD oracle. */
export interface CustomEstimatorRow extends Omit<FidelityStatRow, 'metric'> {
  metric: 'spearman' | 'pearson' | 'fdRelErr';
  /** `yours` for the estimator under test, `built-in` otherwise. */
  kind: 'yours' | 'built-in';
  /** Registry name. */
  name: string;
}

/** The summary file written by {@link runCustomEstimator}. */
export interface CustomEstimatorSummary {
  format: 'faithful-tda/custom-estimator';
  version: 1;
  preset: string;
  cell: AttributionCell;
  /** The estimator under test. */
  yours: { name: string; label: string; summary: string };
  /**
   * Rows per estimator: spearman and pearson against TSLOO (mean over queries, bootstrap CI over queries) and
   * fdRelErr (mean over the FD samples of ‖est − FD‖/‖FD‖ across queries; lo/hi = min/max over samples).
   */
  rows: CustomEstimatorRow[];
  /** Per FD sample: each estimator's relative error. */
  fd: { ids: number[]; eps: number; seconds: number; cached: boolean; perSample: { estimator: string; trainId: number; relErr: number | null }[] };
  seconds: number;
  runtime: ReturnType<typeof runtimeInfo>;
  createdAt: string;
}

/** Options of {@link runCustomEstimator}. */
export interface CustomEstimatorOptions extends Pick<CellOptions, 'cacheDir' | 'log'> {
  /** The estimator under test: a registry name or an estimator object (default {@link tracinAdam}). */
  estimator?: string | Estimator<never>;
  /** Label in tables and figures (default: the estimator's name + " (yours)"). */
  label?: string;
  /** Options passed to its `score` (besides `occurrence: 'all'`). */
  options?: Record<string, unknown>;
  /** Result root (default `<repo>/results/custom-estimator`); files go to `<outDir>/<preset>/`. */
  outDir?: string;
  /** Name the files are written under when `preset` is an object (default `custom`). */
  name?: string;
}

/** FD removal effects `[ids.length, nQueries]` of the prepared cell's base run, cached per (run, ids, queries, ε). */
export async function fdOracle(p: PreparedCell, ids: number[], eps: number): Promise<{ scores: ScoreMatrix; seconds: number; cached: boolean }> {
  const args = { run: p.task.trajectory.manifest.runHash, ids, queries: p.task.queries.name, nq: p.task.queries.n, eps };
  const file = path.join(p.cacheDir, 'fd-oracle', `${p.cell.setting}-${cacheKey(args)}.json`);
  const entry = await cachedJson(file, 'FD oracle', async () => {
    const t0 = performance.now();
    const scores = await fdRemovalEffect(p.task.model, p.task.data, p.task.trajectory, p.task.queries, ids, { eps, occurrence: 'all' });
    return { ids, eps, seconds: (performance.now() - t0) / 1000, scores: toJSON(scores) };
  }, { args });
  return { scores: fromJSON(entry.value.scores), seconds: entry.value.seconds, cached: entry.cached };
}

/**
 * Scores your estimator and the built-ins on the preset's cell against TSLOO and (on `nFd` samples) the FD
 * oracle; writes `<outDir>/<preset>/summary.json` and `summary.csv`.
 * @param preset a name of {@link CUSTOM_ESTIMATOR_PRESETS}, or a preset object (tests use a smaller cell)
 */
export async function runCustomEstimator(preset: string | CustomEstimatorPreset, o: CustomEstimatorOptions = {}): Promise<CustomEstimatorSummary> {
  const pr = typeof preset === 'string' ? CUSTOM_ESTIMATOR_PRESETS[preset] : preset;
  if (!pr) throw new UsageError(`unknown custom-estimator preset '${preset}'; known: ${Object.keys(CUSTOM_ESTIMATOR_PRESETS).join(', ')}`);
  const presetName = typeof preset === 'string' ? preset : (o.name ?? 'custom');
  const yours = typeof o.estimator === 'string' ? getEstimator(o.estimator) : (o.estimator ?? tracinAdam);
  const label = o.label ?? `${yours.name} (yours)`;
  const t0 = performance.now();
  const p = await prepareCell(pr.cell, o);
  const gt = await groundTruth(p);
  const scored: { s: EstimatorScores; kind: CustomEstimatorRow['kind'] }[] = [
    { s: await cachedScores(p, gt, { label, estimator: yours as Estimator<never>, options: o.options }), kind: 'yours' },
  ];
  for (const b of pr.builtins) scored.push({ s: await cachedScores(p, gt, b), kind: 'built-in' });

  const fdRows = Array.from({ length: Math.min(pr.nFd, p.task.trainIds.length) }, (_, i) => i);
  const fdIds = fdRows.map((r) => p.task.trainIds[r]);
  const fd = fdIds.length ? await fdOracle(p, fdIds, pr.fdEps) : undefined;

  const rows: CustomEstimatorRow[] = [];
  const perSample: CustomEstimatorSummary['fd']['perSample'] = [];
  for (const { s, kind } of scored) {
    rows.push(...fidelityRows(pr.cell, s, gt.scores).rows.map((r) => ({ ...r, kind, name: s.name })));
    if (!fd) continue;
    const errs = fdRows.map((r, i) => {
      const e = relativeError(row(s.scores, r), row(fd.scores, i));
      perSample.push({ estimator: s.label, trainId: fdIds[i], relErr: Number.isFinite(e) ? e : null });
      return e;
    });
    const ok = errs.filter(Number.isFinite);
    rows.push({
      setting: pr.cell.setting, preset: pr.cell.preset, lr: pr.cell.lr, seed: pr.cell.seed, estimator: s.label, estimatorId: s.id, kind, name: s.name, metric: 'fdRelErr',
      mean: ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : NaN, lo: ok.length ? Math.min(...ok) : NaN, hi: ok.length ? Math.max(...ok) : NaN, n: ok.length, skipped: errs.length - ok.length, seconds: s.seconds, cached: s.cached,
    });
  }
  const summary: CustomEstimatorSummary = {
    format: 'faithful-tda/custom-estimator',
    version: 1,
    preset: presetName,
    cell: pr.cell,
    yours: { name: yours.name, label, summary: yours.summary },
    rows,
    fd: { ids: fdIds, eps: pr.fdEps, seconds: fd?.seconds ?? 0, cached: fd?.cached ?? false, perSample },
    seconds: (performance.now() - t0) / 1000,
    runtime: runtimeInfo(),
    createdAt: new Date().toISOString(),
  };
  writeResultFiles(path.join(o.outDir ?? findingDir('custom-estimator'), presetName), { 'summary.json': summary, 'summary.csv': rows });
  return summary;
}
