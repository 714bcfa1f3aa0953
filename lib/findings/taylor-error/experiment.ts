/**
 * Finding 2 — the algorithm-level (first-order Taylor) error versus learning rate and trajectory length,
 * and the closed-form error proxy beside it (lib/proxy/taylor-error.ts; derivation in docs/taylor-error-proxy.md).
 *
 * Per cell (setting, LR, T = number of steps via `maxSteps`, seed), with the configuration matched
 * (AdamW-influence with exact curvature on the AdamW run it models; SGD-influence on an SGD run):
 * err(z, q) = TSLOO(z, q) − Δ̂(z, q) over the scored samples × queries, aggregated as
 *   - `relErr` = ‖TSLOO − Δ̂‖_F / ‖TSLOO‖_F (95% bootstrap CI over queries: columns resampled, ratio of sums),
 *   - `oneMinusSpearman` = 1 − mean over queries of the per-query Spearman across samples (CI over queries),
 *   - per-sample ‖TSLOO_z − Δ̂_z‖ / ‖TSLOO_z‖ (over queries) and their median,
 * next to the float32 noise floor of TSLOO itself (vectorised: the control replica's |control − base| and a
 * `crossCheck` of a few ids rerun through the trainer; sequential: the same TSLOO with every batch's rows
 * reversed, a second computation order) and the proxy (Π, Π_Q, absolute, per sample).
 * The scored samples are drawn from those the truncated plan uses (a sample never seen has TSLOO ≡ 0).
 *
 * Validation (`summary.json` → `correlations`): Spearman across cells between proxy and measured error,
 * with a 95% bootstrap CI over cells (cells resampled with replacement). Primary pairing, fixed before
 * the grid was run: Π_Q (the query-projected proxy) against `relErr` — like for like, since Π_Q is the
 * first-order prediction of exactly that ratio. The query-free Π and the 1 − Spearman target are
 * reported too. Measured on the MLP `full` grid (20 cells, seed 0): Spearman(Π_Q, relErr) = 0.908
 * [0.693, 0.991]; Π: 0.841 [0.523, 0.970]; Π_Q against 1 − Spearman: 0.699 [0.246, 0.942]. On the 6
 * CIFAR-10 CNN cells (LR 1e-3, 1e-4 × T 10, 30, 63): 0.943 [0.515, 1.000], exact permutation p = 0.008;
 * pooled over the 26 cells: 0.923 [0.769, 0.989]; with the GPT-2 cells (T = 8, LR 1e-4 and 1e-5; relErr 1.34
 * and 1.41, Π_Q 1.34 and 1.41) and the Llama cells (T = 8, LR 1e-3 and 1e-4; relErr 35.1 and 14.2, Π_Q 30.9 and 14.4)
 * over 30 cells: 0.950 [0.844, 0.993].
 *
 * Presets: `quick` (CI: MLP quick, 2 LRs × 2 lengths, 12 samples × 16 queries), `full` (MLP full:
 * LR ∈ {1e-2, 3e-3, 1e-3, 3e-4, 1e-4} × T ∈ {10, 25, 50, 94}, 50 × 100; coarser CNN (CIFAR-10), GPT-2 and
 * Llama grids, skipped when a setting is not registered). Every phase is cached (trajectory store, TSLOO groups, estimator scores,
 * proxy, whose step loop also checkpoints) so a grid can be produced a few cells per call; the summary is rebuilt from every cell file on
 * disk each time.
 *
 * @module
 */
import fs from 'node:fs';
import path from 'node:path';
import { runtimeInfo, engineScoped } from '../../runtime/backend.ts';
import { Rng } from '../../runtime/rng.ts';
import { loadSetting, settingNames, settingPresets } from '../../settings/index.ts';
import type { Setting } from '../../settings/types.ts';
import { selectSubset } from '../../data/subsets.ts';
import { subset, type Dataset } from '../../data/dataset.ts';
import { train } from '../../train/trainer.ts';
import { contentHash, totalSteps, type TrainConfig } from '../../train/setting.ts';
import { readCachedJson, readVerifiedJson, writeVerified, writeVerifiedJson } from '../../cache/integrity.ts';
import type { Trajectory } from '../../train/trajectory.ts';
import { tsloo, type TslooResult } from '../../groundtruth/tsloo.ts';
import { canVectorise } from '../../groundtruth/replicas.ts';
import { getEstimator } from '../../estimators/registry.ts';
import type { AttributionTask } from '../../estimators/types.ts';
import { column, fromJSON, row, toJSON, type ScoreMatrix } from '../../analysis/score-matrix.ts';
import { perQuery, relativeError, spearman, summarizeQueries } from '../../analysis/metrics.ts';
import { bootstrapCI, type BootstrapCI } from '../../analysis/stats.ts';
import { cellSpearmanCI, permutationP } from '../../analysis/rank-test.ts';
import { taylorErrorProxy, type ErrorProxyResult } from '../../proxy/taylor-error.ts';
import { writeResultFiles } from '../../pipeline/results.ts';
import { findingRun } from '../../pipeline/paths.ts';
import { cachedScores, groundTruth, planScoredIds, prepareCell } from '../../pipeline/cell.ts';
import { cacheKey } from '../../cache/key.ts';
import { UsageError } from '../../runtime/errors.ts';

/** One setting's grid of a preset. */
export interface TaylorGrid {
  setting: string;
  preset: string;
  lrs: number[];
  /** Trajectory lengths T (steps); a T beyond the setting's plan is clamped to it. */
  steps: number[];
  nScored: number;
  nQueries: number;
  /** Skip (with a note) when the setting or preset is not registered, instead of failing. */
  optional?: boolean;
}

/** A preset of the Taylor-error experiment. */
export interface TaylorPreset {
  grids: TaylorGrid[];
  seeds: number[];
  /** Ids rerun through the trainer to measure TSLOO's float32 noise (vectorised TSLOO only). */
  crossCheck: number;
}

export const TAYLOR_PRESETS: Record<string, TaylorPreset> = {
  quick: {
    grids: [{ setting: 'mlp', preset: 'quick', lrs: [1e-2, 1e-3], steps: [10, 25], nScored: 12, nQueries: 16 }],
    seeds: [0],
    crossCheck: 2,
  },
  full: {
    grids: [
      { setting: 'mlp', preset: 'full', lrs: [1e-2, 3e-3, 1e-3, 3e-4, 1e-4], steps: [10, 25, 50, 94], nScored: 50, nQueries: 100 },
      // Coarser grids where TSLOO is one trainer rerun per sample (0.6–1 s per step on the 2-core machine).
      { setting: 'cnn', preset: 'full', lrs: [1e-3, 1e-4], steps: [10, 30, 63], nScored: 16, nQueries: 8, optional: true },
      { setting: 'gpt2', preset: 'full', lrs: [1e-4, 1e-5], steps: [8, 24], nScored: 16, nQueries: 16, optional: true },
      { setting: 'llama', preset: 'full', lrs: [1e-3, 1e-4], steps: [8, 32], nScored: 16, nQueries: 16, optional: true },
    ],
    seeds: [0],
    crossCheck: 4,
  },
};

/** One cell: a setting at one LR, length and seed. */
export interface TaylorCell {
  setting: string;
  preset: string;
  lr: number;
  /** Requested trajectory length. */
  steps: number;
  seed: number;
  nScored: number;
  nQueries: number;
  crossCheck: number;
}

/** A ratio (or mean) with its 95% bootstrap CI over queries. */
export interface Interval {
  mean: number;
  lo: number;
  hi: number;
}

/** The result file of one cell. */
export interface TaylorCellResult {
  format: 'faithful-tda/taylor-error-cell';
  version: 1;
  cell: TaylorCell;
  /** Actual T (requested length clamped to the plan). */
  T: number;
  describe: unknown;
  runHash: string;
  scoredIds: number[];
  /** The matched estimator (registry name) whose first-order error is measured. */
  estimator: string;
  measured: {
    relErr: Interval;
    oneMinusSpearman: Interval;
    /** ‖TSLOO_z − Δ̂_z‖ / ‖TSLOO_z‖ per scored sample `[nScored]` (NaN if TSLOO_z ≡ 0). */
    perSampleRelErr: number[];
    medianSampleRelErr: number;
    /** Root-mean-square of TSLOO and of TSLOO − Δ̂ over all (z, q). */
    tslooRms: number;
    errorRms: number;
  };
  noise: {
    method: string;
    /** |ℓ(control) − ℓ(base)| of the vectorised path (null: sequential, where the base run is the control). */
    control: { maxAbs: number; meanAbs: number } | null;
    /** max_q |vectorised − trainer| per cross-checked id. */
    crossCheck: { ids: number[]; maxAbsDiff: number[]; maxAbsScore: number[] } | null;
    /**
     * Sequential TSLOO: the same matrix by a second computation order (reversed batch rows): max over (z, q)
     * of the difference, and ‖TSLOO − TSLOO′‖_F / ‖TSLOO‖_F (absent in older cells).
     */
    alternative?: { method: string; maxAbsDiff: number; relDiff?: number } | null;
    /** The largest of these maxima: the float32 floor TSLOO is resolved to. */
    floor: number;
    /** floor / tslooRms and errorRms / floor (null when the floor is 0): the algorithm-level error against it. */
    floorOverSignal: number;
    errorOverFloor: number | null;
  };
  proxy: {
    /** Π, Π_Q, RMS ‖e_T‖, median π(z), optimizer share of ‖e‖² (see lib/proxy/taylor-error.ts). */
    cell: ErrorProxyResult['cell'];
    perSample: ErrorProxyResult['perSample'];
    steps: ErrorProxyResult['steps'];
    /** relErr(Q δθ⁽¹⁾_T, Δ̂): the forward propagation reproduces the estimator (float32 rounding). */
    forwardBackwardRelErr: number;
    /** Spearman across samples of π_Q(z) and of π(z) with the measured per-sample relative error. */
    perSampleSpearmanQuery: number;
    perSampleSpearman: number;
    seconds: number;
  };
  seconds: { train: number; tsloo: number; estimator: number; proxy: number };
  runtime: ReturnType<typeof runtimeInfo>;
  createdAt: string;
}

/** Where files go. */
export interface TaylorPaths {
  /** Cache root (default `results/cache`). */
  cacheDir?: string;
  /** Result root of this preset, e.g. `results/taylor-error/quick`. */
  outDir: string;
}

function log(msg: string): void {
  if (process.env.FTDA_QUIET !== '1') console.error(msg);
}

/** A progress callback that logs `label: d/n what` at most every 10 s, and at the end. */
function throttledProgress(label: string): (d: number, n: number, what: string) => void {
  let last = 0;
  return (d, n, what) => {
    if (performance.now() - last > 10000 || d === n) {
      log(`  ${label}: ${d}/${n} ${what}`);
      last = performance.now();
    }
  };
}

/** The registry name of the estimator that models a run's optimizer exactly. */
export function matchedEstimator(traj: Trajectory): string {
  return traj.manifest.setting.optimizer.kind === 'adamw' ? 'adamw-influence' : 'sgd-influence';
}

/**
 * CI over queries of a ratio of per-query sums, sqrt(Σ_q a_q / Σ_q b_q) (columns resampled together).
 * @param a `[nQuery]` numerators, @param b `[nQuery]` denominators
 */
export function ratioCI(a: ArrayLike<number>, b: ArrayLike<number>, seed: number, reps = 2000): Interval {
  const n = a.length;
  const stat = (idx: (k: number) => number) => {
    let sa = 0, sb = 0;
    for (let k = 0; k < n; k++) {
      const i = idx(k);
      sa += a[i];
      sb += b[i];
    }
    return Math.sqrt(sa / sb);
  };
  const mean = stat((k) => k);
  const rng = new Rng(seed);
  const rs = new Float64Array(reps);
  for (let r = 0; r < reps; r++) rs[r] = stat(() => rng.int(n));
  rs.sort();
  return { mean, lo: rs[Math.floor(0.025 * (reps - 1))], hi: rs[Math.ceil(0.975 * (reps - 1))] };
}

function rms(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] * values[i];
  return Math.sqrt(s / values.length);
}

/** Runs (or loads) one cell and writes `<outDir>/cells/<setting>-<preset>/lr<lr>/T<steps>/seed<seed>/result.json`. */
export async function runTaylorCell(cell: TaylorCell, paths: TaylorPaths): Promise<TaylorCellResult> {
  const run = await prepareCell(cell, { cacheDir: paths.cacheDir, steps: cell.steps, scoredIds: (t) => planScoredIds(t, cell.nScored, cell.seed) });
  const { loaded } = run;
  const { trajectory, queries, trainIds: ids } = run.task;
  const cacheDir = run.cacheDir;
  const tag = `[taylor ${cell.setting}/${cell.preset} lr ${cell.lr} T ${run.T} seed ${cell.seed}]`;
  log(`${tag} base run ${run.trainSeconds.toFixed(1)} s`);

  const vec = canVectorise(loaded.model);
  const gt: TslooResult = await groundTruth(run, { crossCheck: vec ? cell.crossCheck : 0 });
  log(`${tag} tsloo ${gt.timing.computeSeconds.toFixed(1)} s (${gt.method})`);
  // Without a vectorised control, the noise floor comes from a second computation order of the same runs.
  const alt = vec ? null : await groundTruth(run, { method: 'sequential', rowOrder: 'reversed' });
  let altDiff = 0;
  if (alt) {
    for (let i = 0; i < alt.scores.values.length; i++) altDiff = Math.max(altDiff, Math.abs(alt.scores.values[i] - gt.scores.values[i]));
    log(`${tag} tsloo, reversed rows ${alt.timing.computeSeconds.toFixed(1)} s (max |Δ| ${altDiff.toExponential(2)})`);
  }

  const estimator = matchedEstimator(trajectory);
  const est = await cachedScores(run, gt, { label: estimator, name: estimator, options: { curvature: 'exact' } }, { progressSeconds: 10 });
  log(`${tag} ${estimator} ${est.seconds.toFixed(1)} s${est.cached ? ' (cached)' : ''}`);

  // The proxy (cached: it costs about as much as the estimator; its step loop resumes from a checkpoint).
  const proxyKey = cacheKey({ run: trajectory.manifest.runHash, ids, q: gt.key, seed: cell.seed, v: 1 });
  const proxyFile = path.join(cacheDir, 'proxy', `proxy-${proxyKey}.json`);
  let px: ErrorProxyResult;
  const j = readCachedJson<ErrorProxyResult & { firstOrderScores: unknown; predictedError: unknown }>(proxyFile, 'Taylor-error proxy');
  if (j) {
    px = { ...j, firstOrderScores: fromJSON(j.firstOrderScores), predictedError: fromJSON(j.predictedError) };
  } else {
    px = await taylorErrorProxy(loaded.model, loaded.train, trajectory, ids, { queries, seed: cell.seed, onProgress: throttledProgress('error proxy'), checkpoint: { file: proxyFile.replace(/\.json$/, '.ckpt') } });
    writeVerified(proxyFile, JSON.stringify({ ...px, firstOrderScores: toJSON(px.firstOrderScores!), predictedError: toJSON(px.predictedError!) }));
  }
  log(`${tag} proxy Π ${px.cell.proxy.toFixed(3)} Π_Q ${px.cell.queryProxy!.toFixed(3)} (${px.seconds.toFixed(1)} s)`);

  // Measured error.
  const truth = gt.scores;
  const hat = est.scores;
  const nq = truth.nQuery;
  const num = new Float64Array(nq);
  const den = new Float64Array(nq);
  for (let q = 0; q < nq; q++) {
    const y = column(truth, q);
    const x = column(hat, q);
    for (let i = 0; i < y.length; i++) {
      num[q] += (y[i] - x[i]) ** 2;
      den[q] += y[i] ** 2;
    }
  }
  const relErr = ratioCI(num, den, cell.seed);
  const sp = perQuery(spearman, hat, truth);
  const spCI: BootstrapCI = bootstrapCI(sp, { seed: cell.seed });
  const perSampleRelErr = ids.map((_, r) => {
    const y = row(truth, r);
    return y.every((v) => v === 0) ? NaN : relativeError(row(hat, r), y);
  });
  const finite = perSampleRelErr.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const median = finite.length ? (finite[(finite.length - 1) >> 1] + finite[finite.length >> 1]) / 2 : NaN;
  const err = Float64Array.from(truth.values, (v, i) => v - hat.values[i]);
  const tslooRms = rms(truth.values);
  const errorRms = rms(err);

  const cc = gt.crossCheck ?? null;
  const floor = Math.max(gt.noise?.maxAbs ?? 0, ...(cc?.maxAbsDiff ?? [0]), altDiff);
  const keep = perSampleRelErr.map((v) => Number.isFinite(v));
  const pick = (xs: number[]) => xs.filter((_, i) => keep[i]);

  const result: TaylorCellResult = {
    format: 'faithful-tda/taylor-error-cell',
    version: 1,
    cell,
    T: run.T,
    describe: loaded.describe,
    runHash: trajectory.manifest.runHash,
    scoredIds: ids,
    estimator,
    measured: {
      relErr,
      oneMinusSpearman: { mean: 1 - spCI.mean, lo: 1 - spCI.hi, hi: 1 - spCI.lo },
      perSampleRelErr,
      medianSampleRelErr: median,
      tslooRms,
      errorRms,
    },
    noise: {
      method: gt.method,
      control: gt.noise ? { maxAbs: gt.noise.maxAbs, meanAbs: gt.noise.meanAbs } : null,
      crossCheck: cc,
      alternative: alt ? { method: 'sequential, reversed rows', maxAbsDiff: altDiff, relDiff: relativeError(alt.scores.values, truth.values) } : null,
      floor,
      floorOverSignal: floor / tslooRms,
      errorOverFloor: floor > 0 ? errorRms / floor : null,
    },
    proxy: {
      cell: px.cell,
      perSample: px.perSample,
      steps: px.steps,
      forwardBackwardRelErr: relativeError(px.firstOrderScores!.values, hat.values),
      perSampleSpearmanQuery: spearman(pick(px.perSample.map((s) => s.queryProxy!)), pick(perSampleRelErr)),
      perSampleSpearman: spearman(pick(px.perSample.map((s) => s.proxy)), pick(perSampleRelErr)),
      seconds: px.seconds,
    },
    seconds: { train: run.trainSeconds, tsloo: gt.timing.computeSeconds, estimator: est.seconds, proxy: px.seconds },
    runtime: runtimeInfo(),
    createdAt: new Date().toISOString(),
  };
  const dir = taylorCellDir(cell, paths.outDir);
  fs.mkdirSync(dir, { recursive: true });
  writeVerifiedJson(path.join(dir, 'result.json'), result, 1);
  return result;
}

/** Directory of a cell's result file. */
export function taylorCellDir(cell: Pick<TaylorCell, 'setting' | 'preset' | 'lr' | 'steps' | 'seed'>, outDir: string): string {
  return path.join(outDir, 'cells', `${cell.setting}-${cell.preset}`, `lr${cell.lr}`, `T${cell.steps}`, `seed${cell.seed}`);
}

/** One row of `cells.csv`. */
export interface TaylorRow {
  setting: string;
  preset: string;
  lr: number;
  T: number;
  seed: number;
  nScored: number;
  nQueries: number;
  relErr: number;
  relErrLo: number;
  relErrHi: number;
  oneMinusSpearman: number;
  oneMinusSpearmanLo: number;
  oneMinusSpearmanHi: number;
  medianSampleRelErr: number;
  proxy: number;
  queryProxy: number;
  proxyAbsolute: number;
  proxyMedian: number;
  optimizerShare: number;
  noiseFloor: number;
  floorOverSignal: number;
  errorOverFloor: number | null;
  /**
   * The relErr float32 noise alone gives one TSLOO computation: ‖TSLOO − TSLOO′‖_F / (√2 ‖TSLOO‖_F) over a
   * full second computation order (independent noise of equal size in both); null where there is none (MLP).
   */
  noiseRelErr: number | null;
  forwardBackwardRelErr: number;
  perSampleSpearmanQuery: number;
}

/** Spearman across cells of a proxy column against an error column, with a bootstrap CI over cells. */
export interface ProxyCorrelation {
  setting: string;
  proxy: 'queryProxy' | 'proxy' | 'proxyAbsolute';
  error: 'relErr' | 'oneMinusSpearman' | 'medianSampleRelErr';
  primary: boolean;
  cells: number;
  spearman: number;
  lo: number;
  hi: number;
  /** Bootstrap replicates where Spearman was undefined (a resample with a constant column), dropped. */
  dropped: number;
  /**
   * One-sided permutation p-value P(ρ_perm ≥ ρ) under no association: exact up to 8 cells, else 10,000
   * random permutations. With few cells the bootstrap CI degenerates (4 perfectly ranked cells give
   * [1, 1]); this says how often chance alone ranks them as well (1/24 for 4 cells).
   */
  pPerm: number;
}

/** The summary file written by {@link runTaylorError}. */
export interface TaylorSummary {
  format: 'faithful-tda/taylor-error';
  version: 1;
  preset: string;
  rows: TaylorRow[];
  correlations: ProxyCorrelation[];
  /** Cells of the preset without a result file yet, and grids skipped (setting not registered). */
  missing: { setting: string; lr: number; steps: number; seed: number }[];
  skipped: string[];
  runtime: ReturnType<typeof runtimeInfo>;
  createdAt: string;
}

/** Options of {@link runTaylorError}. */
export interface TaylorOptions {
  outDir?: string;
  cacheDir?: string;
  /** Restrict the cells computed in this call (the summary still covers every cell on disk). */
  lrs?: number[];
  steps?: number[];
  seeds?: number[];
  settings?: string[];
  /** Compute nothing: rebuild the summary from the cell files already on disk. */
  cachedOnly?: boolean;
}

function gridAvailable(g: TaylorGrid): string | null {
  if (!settingNames().includes(g.setting)) return `setting '${g.setting}' is not registered (known: ${settingNames().join(', ')})`;
  if (!settingPresets(g.setting).includes(g.preset)) return `setting '${g.setting}' has no preset '${g.preset}'`;
  return null;
}

function toRow(r: TaylorCellResult): TaylorRow {
  return {
    setting: r.cell.setting,
    preset: r.cell.preset,
    lr: r.cell.lr,
    T: r.T,
    seed: r.cell.seed,
    nScored: r.scoredIds.length,
    nQueries: r.cell.nQueries,
    relErr: r.measured.relErr.mean,
    relErrLo: r.measured.relErr.lo,
    relErrHi: r.measured.relErr.hi,
    oneMinusSpearman: r.measured.oneMinusSpearman.mean,
    oneMinusSpearmanLo: r.measured.oneMinusSpearman.lo,
    oneMinusSpearmanHi: r.measured.oneMinusSpearman.hi,
    medianSampleRelErr: r.measured.medianSampleRelErr,
    proxy: r.proxy.cell.proxy,
    queryProxy: r.proxy.cell.queryProxy ?? NaN,
    proxyAbsolute: r.proxy.cell.absolute,
    proxyMedian: r.proxy.cell.median,
    optimizerShare: r.proxy.cell.optimizerShare,
    noiseFloor: r.noise.floor,
    floorOverSignal: r.noise.floorOverSignal,
    errorOverFloor: r.noise.errorOverFloor,
    noiseRelErr: r.noise.alternative?.relDiff !== undefined ? r.noise.alternative.relDiff / Math.SQRT2 : null,
    forwardBackwardRelErr: r.proxy.forwardBackwardRelErr,
    perSampleSpearmanQuery: r.proxy.perSampleSpearmanQuery,
  };
}

/**
 * Correlations of every proxy with every error measure, per setting (cells pooled over seeds), and, when
 * the rows span several settings, once more over all of them (setting `pooled`): the proxy and the error
 * are both dimensionless ratios, so one ranking across architectures is meaningful.
 */
export function proxyCorrelations(rows: TaylorRow[], seed = 0): ProxyCorrelation[] {
  const out: ProxyCorrelation[] = [];
  const settings = [...new Set(rows.map((r) => `${r.setting}-${r.preset}`))];
  const groups: [string, TaylorRow[]][] = settings.map((s) => [s, rows.filter((r) => `${r.setting}-${r.preset}` === s)]);
  if (settings.length > 1) groups.push(['pooled', rows]);
  for (const [setting, rs] of groups) {
    for (const proxy of ['queryProxy', 'proxy', 'proxyAbsolute'] as const) {
      for (const error of ['relErr', 'oneMinusSpearman', 'medianSampleRelErr'] as const) {
        const x = rs.map((r) => r[proxy]);
        const y = rs.map((r) => r[error]);
        const c = cellSpearmanCI(x, y, seed);
        out.push({ setting, proxy, error, primary: proxy === 'queryProxy' && error === 'relErr', cells: rs.length, ...c, pPerm: permutationP(x, y, seed) });
      }
    }
  }
  return out;
}

/**
 * Runs the requested cells of a preset (cached), then writes `summary.json`, `cells.csv` and
 * `correlations.csv` under `<outDir>/<preset>/` from every cell result of the preset on disk.
 */
export async function runTaylorError(presetName: string, o: TaylorOptions = {}): Promise<TaylorSummary> {
  const { preset, outDir, cacheDir } = findingRun('taylor-error', TAYLOR_PRESETS, presetName, o);
  const skipped: string[] = [];
  const all: { g: TaylorGrid; cell: TaylorCell }[] = [];
  for (const g of preset.grids) {
    const why = gridAvailable(g);
    if (why) {
      if (!g.optional) throw new Error(`taylor-error: ${why}`);
      skipped.push(`${g.setting}/${g.preset}: ${why}`);
      continue;
    }
    for (const lr of g.lrs) for (const steps of g.steps) for (const seed of preset.seeds) {
      all.push({ g, cell: { setting: g.setting, preset: g.preset, lr, steps, seed, nScored: g.nScored, nQueries: g.nQueries, crossCheck: preset.crossCheck } });
    }
  }
  for (const { cell } of all) {
    if (o.cachedOnly) break;
    if (o.settings && !o.settings.includes(cell.setting)) continue;
    if (o.lrs && !o.lrs.includes(cell.lr)) continue;
    if (o.steps && !o.steps.includes(cell.steps)) continue;
    if (o.seeds && !o.seeds.includes(cell.seed)) continue;
    await runTaylorCell(cell, { cacheDir, outDir });
  }
  const results: TaylorCellResult[] = [];
  const missing: TaylorSummary['missing'] = [];
  for (const { cell } of all) {
    const file = path.join(taylorCellDir(cell, outDir), 'result.json');
    const r = readVerifiedJson<TaylorCellResult>(file, 'delete it and rerun the cell (its phases are cached)');
    if (r) results.push(r);
    else missing.push({ setting: cell.setting, lr: cell.lr, steps: cell.steps, seed: cell.seed });
  }
  const rows = results.map(toRow);
  const summary: TaylorSummary = {
    format: 'faithful-tda/taylor-error',
    version: 1,
    preset: presetName,
    rows,
    correlations: proxyCorrelations(rows),
    missing,
    skipped,
    runtime: runtimeInfo(),
    createdAt: new Date().toISOString(),
  };
  writeResultFiles(outDir, { 'summary.json': summary, 'cells.csv': rows, 'correlations.csv': summary.correlations });
  return summary;
}
