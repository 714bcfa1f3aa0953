/**
 * Finding 4 — K-step look-ahead data selection (papers.md §1.10; protocol [DERIVED], the paper's is
 * unknown). Per (setting, LR, seed): train the full run (the reference trajectory), score every sample
 * with the K-step look-ahead on V = mean loss over a validation split, then per budget (fraction kept):
 *
 * | method          | what                                                                                   |
 * |-----------------|----------------------------------------------------------------------------------------|
 * | `none`          | no selection (the reference run itself)                                                |
 * | `offline`       | keep the top `budget` by the look-ahead score along the reference run, retrain from scratch (K = 'offline': propagate to θ_T — the paper's offline; finite K with `offlineByK`) |
 * | `online`        | online loop, horizon K, simulated continuation from the live state (selection/online.ts) |
 * | `online-ref`    | online loop, horizon K, adjoint taken from the reference run                           |
 * | `random-offline`| a seeded random subset of the same size, retrained from scratch                        |
 * | `random-online` | the online loop dropping seeded random samples with the same per-batch quotas          |
 *
 * Reading the results. The two protocols differ beyond the scores: online keeps all T steps with
 * ≈ budget·|B| samples each, offline retrains ≈ budget·T full-batch steps — at one epoch that alone
 * moves the test loss (compare `random-online` with `random-offline`). So each selection is compared with
 * its own random baseline (`dTestLoss`, `bestKRel`). Offline selection with a finite K ranks scores read at
 * different states θ_{t+1+K} on one scale; only K = 'offline' reads every sample at the same θ_T.
 *
 * The setting's test split is divided (seeded) into the validation set that defines V and a held-out
 * TEST set that only evaluates. Every run reports the final validation loss, test loss and test
 * accuracy (with per-example test values, so differences get paired bootstrap CIs).
 *
 * Caching: per (setting, preset, LR, seed) cell, the look-ahead scores (one JSON) and every run (one
 * JSON each) are written under `<outDir>/<preset>/cells/…`, so an interrupted grid resumes; the summary
 * files are rebuilt from the run files on every call.
 *
 * @module
 */
import { cacheKey } from '../../cache/key.ts';
import fs from 'node:fs';
import path from 'node:path';
import { runtimeInfo } from '../../runtime/backend.ts';
import { loadSetting, settingNames, type Setting } from '../../settings/index.ts';
import { selectSubset } from '../../data/subsets.ts';
import { subset, type Dataset } from '../../data/dataset.ts';
import { disposeParams, unflattenParams } from '../../models/params.ts';
import type { CurvatureKind } from '../../autodiff/curvature.ts';
import type { AdamWAdjoint } from '../../optim/linearize.ts';
import { train } from '../../train/trainer.ts';
import { contentHash } from '../../train/setting.ts';
import { readCachedJson, writeVerified } from '../../cache/integrity.ts';
import { writeResultFiles } from '../../pipeline/results.ts';
import { findingRun } from '../../pipeline/paths.ts';
import type { FlatState, Trajectory } from '../../train/trajectory.ts';
import { clusterBootstrapCI, clusterPairedDiff, mean, meanStd } from '../../analysis/stats.ts';
import { evaluate } from '../../selection/objective.ts';
import { horizonIndex, lookaheadScores, sampleScores, type Horizon, type LookaheadScores } from '../../selection/lookahead.ts';
import { retrainOn, selectRandom, selectTop } from '../../selection/offline.ts';
import { trainOnline, type OnlineScorer } from '../../selection/online.ts';
import { keptCount } from '../../selection/budget.ts';
import { toCsv } from '../../pipeline/summary.ts';
import { UsageError } from '../../runtime/errors.ts';

/** Selection methods (rows of the tidy table). */
export type SelectionMethod = 'none' | 'offline' | 'online' | 'online-ref' | 'random-offline' | 'random-online';

/** One setting row of a preset. */
export interface SelectionGrid {
  setting: string;
  preset: string;
  lrs: number[];
  /** Skip (with a note) when the setting is not registered yet, instead of failing. */
  optional?: boolean;
  /** Horizons for this setting (default: the preset's). */
  horizons?: Horizon[];
  /** Budgets for this setting (default: the preset's). */
  budgets?: number[];
}

/** A preset: settings × LRs × budgets × horizons × seeds. */
export interface SelectionPreset {
  grids: SelectionGrid[];
  seeds: number[];
  /** Fractions of the training set kept. */
  budgets: number[];
  /** Finite K are run online (and offline with `offlineByK`); 'offline' is the offline selection. */
  horizons: Horizon[];
  /** Online variants: `online` (simulated continuation) and/or `online-ref` (reference-run adjoints). */
  online: ('online' | 'online-ref')[];
  /** Also run offline selection with each finite K (isolates the horizon from the online protocol). */
  offlineByK: boolean;
  curvature: CurvatureKind;
  /** Fraction of the setting's test split used as the validation set (the rest is the test set). */
  valFraction: number;
  /** Online batch divisor (selection/online.ts). */
  divisor: 'kept' | 'original';
}

export const SELECTION_PRESETS: Record<string, SelectionPreset> = {
  quick: {
    grids: [{ setting: 'mlp', preset: 'quick', lrs: [3e-3] }],
    seeds: [0],
    budgets: [0.5],
    horizons: [0, 4, 'offline'],
    online: ['online'],
    offlineByK: false,
    curvature: 'exact',
    valFraction: 0.5,
    divisor: 'kept',
  },
  full: {
    grids: [
      { setting: 'mlp', preset: 'full', lrs: [1e-2, 3e-3, 1e-3] },
      // Run when registered (settings/index.ts), with shorter horizons and one budget: on wasm a CNN
      // HVP or per-sample gradient costs far more than the MLP's (measured, 2-core machine: one cnn/quick
      // cell with K ≤ 4 ≈ 6 min, one gpt2/quick cell with K ∈ {0, offline} ≈ 1.2 min per budget).
      { setting: 'cnn', preset: 'quick', lrs: [3e-3, 1e-3], optional: true, horizons: [0, 1, 4, 'offline'], budgets: [0.5] },
      { setting: 'gpt2', preset: 'quick', lrs: [1e-3, 1e-4], optional: true, horizons: [0, 1, 4, 'offline'], budgets: [0.5] },
    ],
    seeds: [0, 1, 2],
    budgets: [0.5, 0.8],
    horizons: [0, 1, 4, 16, 'offline'],
    online: ['online', 'online-ref'],
    offlineByK: true,
    curvature: 'exact',
    valFraction: 0.5,
    divisor: 'kept',
  },
};

/** One selection run's outcome (one tidy row, plus per-example test values). */
export interface SelectionRun {
  format: 'faithful-tda/selection-run';
  version: 1;
  setting: string;
  preset: string;
  lr: number;
  seed: number;
  budget: number;
  method: SelectionMethod;
  /** Horizon (`''` for methods without one). */
  K: Horizon | '';
  valLoss: number;
  valAcc: number;
  testLoss: number;
  testAcc: number;
  /** Samples kept (per epoch for online methods). */
  kept: number;
  /** Optimizer steps of the run. */
  steps: number;
  /**
   * Class balance of the kept samples (classifiers): entropy of their label histogram / log(classes),
   * 1 = as balanced as possible. Explains failures of greedy selection (it can starve classes).
   */
  keptBalance?: number;
  seconds: number;
  /** Per-example test loss / accuracy `[nTest]` (same test set for every run of the seed). */
  testLosses: number[];
  testCorrect: number[];
  /** Cache key: hash of everything that determines the run. */
  key: string;
  cost?: Record<string, number>;
  runtime: ReturnType<typeof runtimeInfo>;
  createdAt: string;
}

/** A summary row: one (setting, LR, budget, method, K) over seeds. */
export interface SelectionSummaryRow {
  setting: string;
  preset: string;
  lr: number;
  budget: number;
  method: SelectionMethod;
  K: Horizon | '';
  seeds: number[];
  valLoss: number;
  valLossStd: number;
  testLoss: number;
  testLossStd: number;
  testAcc: number;
  testAccStd: number;
  /** 95% two-stage bootstrap CIs (seeds, then test examples within seeds) of the mean over (seed, example) values. */
  testLossLo: number;
  testLossHi: number;
  testAccLo: number;
  testAccHi: number;
  /** Mean class balance of the kept samples (see {@link SelectionRun.keptBalance}); NaN when undefined. */
  keptBalance: number;
  /** The matching random baseline (random-offline for offline, random-online for online*) … */
  baseline: string;
  /** … and the paired difference (this − baseline) of test loss / accuracy with 95% CIs over (seed, example) pairs, seeds resampled first. */
  dTestLoss: number;
  dTestLossLo: number;
  dTestLossHi: number;
  dTestAcc: number;
  dTestAccLo: number;
  dTestAccHi: number;
}

/** "Best K per LR": within one family of horizons (plus the offline endpoint), the K with the lowest mean test loss. */
export interface BestKRow {
  setting: string;
  preset: string;
  lr: number;
  budget: number;
  /** `online` / `online-ref` / `offline` (offline selection by K). */
  family: string;
  bestK: Horizon;
  bestTestLoss: number;
  /** K with the lowest mean validation loss (the selection objective) and with the highest test accuracy. */
  bestKByVal: Horizon;
  bestKByAcc: Horizon;
  /** Offline selection (K = 'offline') for comparison, and the paired difference best − offline with CI. */
  offlineTestLoss: number;
  dVsOffline: number;
  dVsOfflineLo: number;
  dVsOfflineHi: number;
  /** Mean test loss of each candidate K, as `K:loss` pairs. */
  byK: string;
  /**
   * The same, relative to each protocol's own random baseline (gain = test loss − that of random-online
   * for online K, of random-offline for offline): online keeps T steps of smaller batches, offline
   * retrains T·budget steps of full batches, which alone moves the test loss (see the random rows).
   */
  bestKRel: Horizon;
  /** Paired difference of gains, (best − its random) − (offline − random-offline), with CI. */
  dRelVsOffline: number;
  dRelVsOfflineLo: number;
  dRelVsOfflineHi: number;
  /** Gain over the protocol's random baseline of each candidate K, as `K:Δloss` pairs. */
  relByK: string;
}

/** The summary file. */
export interface SelectionSummary {
  format: 'faithful-tda/selection';
  version: 1;
  preset: string;
  config: SelectionPreset;
  seeds: number[];
  runs: Omit<SelectionRun, 'testLosses' | 'testCorrect' | 'runtime' | 'format' | 'version'>[];
  rows: SelectionSummaryRow[];
  bestK: BestKRow[];
  skipped: string[];
  runtime: ReturnType<typeof runtimeInfo>;
  createdAt: string;
}

/** Options of {@link runSelection}. */
export interface SelectionOptions {
  /** Result root (default `results/selection`); files go under `<outDir>/<preset>/`. */
  outDir?: string;
  lrs?: number[];
  seeds?: number[];
  settings?: string[];
  /** Override the preset's budgets. */
  budgets?: number[];
}

function log(msg: string): void {
  if (process.env.FTDA_QUIET !== '1') console.error(msg);
}

const kLabel = (K: Horizon | '') => (K === '' ? '' : `K${K}`);

/** The validation / test division of a setting's test split (seeded; both ascending). */
export function splitValTest(test: Dataset, valFraction: number, seed: number): { val: Dataset; test: Dataset; valIds: number[] } {
  if (!(valFraction > 0 && valFraction < 1)) throw new Error(`selection: valFraction must be in (0, 1), got ${valFraction}`);
  const nVal = Math.round(valFraction * test.n);
  if (nVal < 1 || nVal >= test.n) throw new Error(`selection: the test split (${test.n}) is too small to divide at ${valFraction}`);
  const valIds = selectSubset(test.n, nVal, seed, 'selection-val').sort((a, b) => a - b);
  const inVal = new Set(valIds);
  const testIds = Array.from({ length: test.n }, (_, i) => i).filter((i) => !inVal.has(i));
  return { val: subset(test, valIds, `${test.name}/val`), test: subset(test, testIds, `${test.name}/test`), valIds };
}

/** Everything one (setting, preset, LR, seed) cell needs. */
interface Cell {
  grid: SelectionGrid;
  lr: number;
  seed: number;
  loaded: Setting;
  val: Dataset;
  test: Dataset;
  dir: string;
  base: Record<string, unknown>;
}

function readRun(file: string, key: string): SelectionRun | undefined {
  return readCachedJson<SelectionRun>(file, 'selection run', (r) => (r.key === key ? undefined : `holds another run (key ${String(r.key).slice(0, 12)}…)`));
}

/** Evaluates a final state and writes the run file. */
/** Normalised label entropy of the kept ids (undefined for non-classifier data). */
export function labelBalance(data: Dataset, ids: number[]): number | undefined {
  if (data.yShape.length !== 0 || data.classes < 2 || !ids.length) return undefined;
  const h = new Float64Array(data.classes);
  for (const i of ids) h[data.y[i]]++;
  let e = 0;
  for (const c of h) if (c > 0) e -= (c / ids.length) * Math.log(c / ids.length);
  return e / Math.log(data.classes);
}

function finishRun(c: Cell, file: string, key: string, fields: Pick<SelectionRun, 'budget' | 'method' | 'K' | 'kept' | 'steps' | 'seconds' | 'cost' | 'keptBalance'>, final: FlatState): SelectionRun {
  const params = unflattenParams(final.theta, c.loaded.model.spec);
  try {
    const v = evaluate(c.loaded.model, params, c.val);
    const te = evaluate(c.loaded.model, params, c.test);
    const run: SelectionRun = {
      format: 'faithful-tda/selection-run',
      version: 1,
      setting: c.grid.setting,
      preset: c.grid.preset,
      lr: c.lr,
      seed: c.seed,
      ...fields,
      valLoss: v.loss,
      valAcc: v.accuracy,
      testLoss: te.loss,
      testAcc: te.accuracy,
      testLosses: te.losses,
      testCorrect: te.correct,
      key,
      runtime: runtimeInfo(),
      createdAt: new Date().toISOString(),
    };
    for (const k of ['valLoss', 'testLoss', 'testAcc'] as const) {
      if (!Number.isFinite(run[k])) throw new Error(`selection: ${k} of ${fields.method} ${kLabel(fields.K)} budget ${fields.budget} is ${run[k]}`);
    }
    writeVerified(file, JSON.stringify(run) + '\n');
    log(`  ${fields.method.padEnd(14)} ${kLabel(fields.K).padEnd(9)} b=${fields.budget}: val ${v.loss.toFixed(4)}  test ${te.loss.toFixed(4)} acc ${te.accuracy.toFixed(4)}  (${fields.seconds.toFixed(1)} s)`);
    return run;
  } finally {
    disposeParams(params);
  }
}

/** Look-ahead scores along the reference run: cached JSON, or computed (with reference adjoints when asked). */
async function referenceScores(
  c: Cell,
  traj: Trajectory,
  horizons: Horizon[],
  curvature: CurvatureKind,
  wantAdjoints: Horizon[],
): Promise<{ res: LookaheadScores; adjoints?: Map<string, Float32Array[]> }> {
  const file = path.join(c.dir, 'lookahead-scores.json');
  const key = cacheKey({ ...c.base, run: traj.manifest.runHash, horizons, curvature }, 64);
  const j = wantAdjoints.length ? undefined : readCachedJson<{ key: string; horizons: Horizon[]; T: number; cost: LookaheadScores['cost']; scores: number[][][] }>(file, 'look-ahead scores', (v) => (v.key === key ? undefined : 'holds the scores of another reference run'));
  if (j) return { res: { horizons: j.horizons, T: j.T, batches: traj.batches, scores: j.scores.map((h: number[][]) => h.map((s) => Float64Array.from(s))), cost: j.cost } };
  const adjoints = wantAdjoints.length ? new Map<string, Float32Array[]>() : undefined;
  const want = new Set(wantAdjoints.map((h) => horizons.indexOf(h)));
  let last = 0;
  const res = await lookaheadScores(
    { model: c.loaded.model, data: c.loaded.train, trajectory: traj, validation: c.val },
    {
      horizons,
      curvature,
      // Float32 copies: T·|K|·3p values would be large in float64.
      onAdjoint: adjoints && ((t, h, U) => {
        if (want.has(h)) adjoints.set(`${t}/${h}`, [Float32Array.from(U.theta), Float32Array.from(U.m), Float32Array.from(U.v)]);
      }),
      onProgress: (d, n) => {
        if (performance.now() - last > 10000 || d === n) {
          log(`  look-ahead sweep ${d}/${n} steps`);
          last = performance.now();
        }
      },
    },
  );
  writeVerified(file, JSON.stringify({ key, horizons, T: res.T, cost: res.cost, scores: res.scores.map((h) => h.map((s) => Array.from(s))) }));
  return { res, adjoints };
}

/** Runs (or loads) every run of one cell. */
async function runCell(c: Cell, p: SelectionPreset, budgets: number[]): Promise<SelectionRun[]> {
  const { model, train: data, trainConfig: setting } = c.loaded;
  const horizons = c.grid.horizons ?? p.horizons;
  const finite = horizons.filter((h): h is number => h !== 'offline');
  const out: SelectionRun[] = [];
  const job = (budget: number, method: SelectionMethod, K: Horizon | '') => {
    const file = path.join(c.dir, `${method}${K === '' ? '' : '-' + kLabel(K)}-b${budget}.json`);
    const key = cacheKey({ ...c.base, budget, method, K, divisor: method.startsWith('online') || method === 'random-online' ? p.divisor : undefined, curvature: method === 'none' || method.startsWith('random') ? undefined : p.curvature }, 64);
    return { file, key, have: readRun(file, key) };
  };
  const jobs: { budget: number; method: SelectionMethod; K: Horizon | '' }[] = [{ budget: 1, method: 'none', K: '' }];
  for (const budget of budgets) {
    jobs.push({ budget, method: 'random-offline', K: '' }, { budget, method: 'random-online', K: '' });
    for (const K of horizons) if (K === 'offline' || p.offlineByK) jobs.push({ budget, method: 'offline', K });
    for (const m of p.online) for (const K of finite) jobs.push({ budget, method: m, K });
  }
  const pending = jobs.filter((j) => {
    const h = job(j.budget, j.method, j.K).have;
    if (h) out.push(h);
    return !h;
  });
  if (!pending.length) return out;

  // The reference (full) run: cheap for the MLP, kept in memory with every state.
  const t0 = performance.now();
  const traj = await train({ model, data, setting });
  const trainSeconds = (performance.now() - t0) / 1000;
  const needScores = pending.some((j) => j.method === 'offline' || j.method === 'online-ref');
  const refK = pending.some((j) => j.method === 'online-ref') ? finite : [];
  const scored = needScores ? await referenceScores(c, traj, horizons, p.curvature, refK) : undefined;
  if (scored) log(`  look-ahead scores (${horizons.join(', ')}): ${scored.res.cost.curvatureProducts} curvature products, ${scored.res.cost.seconds.toFixed(1)} s`);

  for (const j of pending) {
    const { file, key } = job(j.budget, j.method, j.K);
    const s0 = performance.now();
    if (j.method === 'none') {
      const all = Array.from({ length: data.n }, (_, i) => i);
      out.push(finishRun(c, file, key, { budget: 1, method: 'none', K: '', kept: data.n, steps: traj.manifest.steps, seconds: trainSeconds, keptBalance: labelBalance(data, all) }, traj.states.final()));
    } else if (j.method === 'offline' || j.method === 'random-offline') {
      const keep = j.method === 'offline'
        ? selectTop(sampleScores(scored!.res, j.K as Horizon, data.n), j.budget)
        : selectRandom(data.n, j.budget, c.seed);
      const r = await retrainOn({ model, data, setting, keep });
      out.push(finishRun(c, file, key, { budget: j.budget, method: j.method, K: j.K, kept: keep.length, steps: r.steps, seconds: (performance.now() - s0) / 1000, keptBalance: labelBalance(data, keep) }, r.final));
    } else {
      let scorer: OnlineScorer;
      if (j.method === 'random-online') scorer = { kind: 'random', seed: c.seed };
      else if (j.method === 'online') scorer = { kind: 'lookahead', K: j.K as number, curvature: p.curvature };
      else {
        const hi = horizonIndex(scored!.res, j.K as Horizon);
        const adj = scored!.adjoints!;
        const adjoint = (t: number): AdamWAdjoint => {
          const [theta, m, v] = adj.get(`${t}/${hi}`)!.map((x) => Float64Array.from(x));
          return { theta, m, v };
        };
        scorer = { kind: 'lookahead', K: j.K as number, source: 'reference', adjoint };
      }
      const r = await trainOnline({ model, data, setting, validation: c.val, budget: j.budget, scorer, divisor: p.divisor });
      const kept = r.keptPerEpoch[0];
      if (r.keptPerEpoch.some((k) => k !== keptCount(data.n, j.budget))) throw new Error(`selection: online run kept ${r.keptPerEpoch} per epoch, budget says ${keptCount(data.n, j.budget)}`);
      out.push(finishRun(c, file, key, { budget: j.budget, method: j.method, K: j.K, kept, steps: r.losses.length, seconds: (performance.now() - s0) / 1000, keptBalance: labelBalance(data, r.kept.flat()), cost: { curvatureProducts: r.cost.curvatureProducts, simulatedSteps: r.cost.simulatedSteps, validationGrads: r.cost.validationGrads } }, r.final));
    }
  }
  return out;
}

/**
 * Runs every cell of a preset (resuming from the run files), then writes `runs.json`/`runs.csv` (tidy),
 * `summary.json`/`summary.csv` and `best-k.csv` under `<outDir>/<preset>/`.
 */
export async function runSelection(presetName: string, o: SelectionOptions = {}): Promise<SelectionSummary> {
  const { preset, outDir } = findingRun('selection', SELECTION_PRESETS, presetName, o);
  const budgets = preset.budgets;
  const runs: SelectionRun[] = [];
  const skipped: string[] = [];
  const seeds = o.seeds ?? preset.seeds;
  for (const grid of preset.grids) {
    if (o.settings && !o.settings.includes(grid.setting)) continue;
    if (!settingNames().includes(grid.setting)) {
      if (!grid.optional) throw new Error(`selection: setting '${grid.setting}' is not registered (known: ${settingNames().join(', ')})`);
      skipped.push(`${grid.setting}/${grid.preset}: setting not registered yet`);
      log(`[selection] skipping ${grid.setting}/${grid.preset}: setting not registered yet`);
      continue;
    }
    for (const lr of o.lrs ?? grid.lrs) {
      for (const seed of seeds) {
        const loaded = await loadSetting(grid.setting, grid.preset, { seed, lr });
        const { val, test, valIds } = splitValTest(loaded.test, preset.valFraction, seed);
        const dir = path.join(outDir, 'cells', `${grid.setting}-${grid.preset}`, `lr${lr}`, `seed${seed}`);
        fs.mkdirSync(dir, { recursive: true });
        const base = { describe: contentHash(loaded.describe), valIds, valFraction: preset.valFraction };
        log(`[selection ${grid.setting}/${grid.preset} lr ${lr} seed ${seed}] ${loaded.train.n} train, ${val.n} val, ${test.n} test`);
        runs.push(...(await runCell({ grid, lr, seed, loaded, val, test, dir, base }, preset, o.budgets ?? grid.budgets ?? budgets)));
      }
    }
  }
  // Runs of this preset's other cells already on disk (e.g. from invocations restricted by --lrs/--seeds).
  const seen = new Set(runs.map((r) => r.key));
  for (const r of collectRuns(path.join(outDir, 'cells'), preset)) if (!seen.has(r.key)) runs.push(r);
  const summary: SelectionSummary = {
    format: 'faithful-tda/selection',
    version: 1,
    preset: presetName,
    config: preset,
    seeds,
    runs: runs.map(({ testLosses: _l, testCorrect: _c, runtime: _r, format: _f, version: _v, ...rest }) => rest),
    rows: summariseSelection(runs),
    bestK: bestKPerLr(runs),
    skipped,
    runtime: runtimeInfo(),
    createdAt: new Date().toISOString(),
  };
  const tidy = summary.runs.map((r) => ({ setting: r.setting, preset: r.preset, lr: r.lr, budget: r.budget, method: r.method, K: r.K, seed: r.seed, valLoss: r.valLoss, testLoss: r.testLoss, testAcc: r.testAcc, kept: r.kept, keptBalance: r.keptBalance ?? '', steps: r.steps, seconds: r.seconds }));
  writeResultFiles(outDir, {
    'runs.json': { format: 'faithful-tda/selection-runs', version: 1, preset: presetName, config: preset, seeds, runs: tidy, runtime: summary.runtime, createdAt: summary.createdAt },
    'runs.csv': tidy,
    'summary.json': summary,
    'summary.csv': summary.rows,
    'best-k.csv': summary.bestK,
  });
  return summary;
}

/**
 * Run files under `cellsDir` that belong to the preset's grid (setting, preset, LR, seed, budget, method
 * and horizon all in the preset). Files of an older preset definition are not detected: delete the
 * result folder after changing a preset.
 */
export function collectRuns(cellsDir: string, p: SelectionPreset): SelectionRun[] {
  if (!fs.existsSync(cellsDir)) return [];
  const out: SelectionRun[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else if (e.name.endsWith('.json') && e.name !== 'lookahead-scores.json') {
        const r = readCachedJson<SelectionRun>(f, 'selection run');
        if (!r || r.format !== 'faithful-tda/selection-run') continue;
        const g = p.grids.find((x) => x.setting === r.setting && x.preset === r.preset);
        if (!g || !g.lrs.includes(r.lr) || !p.seeds.includes(r.seed)) continue;
        const hs: (Horizon | '')[] = g.horizons ?? p.horizons;
        const ok = r.method === 'none' ||
          ((g.budgets ?? p.budgets).includes(r.budget) &&
            (r.method.startsWith('random') ? r.K === '' : r.method === 'offline' ? hs.includes(r.K) && (r.K === 'offline' || p.offlineByK) : p.online.includes(r.method as 'online') && hs.includes(r.K) && r.K !== 'offline'));
        if (ok) out.push(r);
      }
    }
  };
  walk(cellsDir);
  return out;
}

type Group = { key: string; runs: SelectionRun[] };

function groupBy(runs: SelectionRun[], key: (r: SelectionRun) => string): Group[] {
  const m = new Map<string, SelectionRun[]>();
  for (const r of runs) (m.get(key(r)) ?? m.set(key(r), []).get(key(r))!).push(r);
  return [...m.entries()].map(([k, rs]) => ({ key: k, runs: rs.sort((a, b) => a.seed - b.seed) }));
}

const cellKey = (r: SelectionRun) => `${r.setting}|${r.preset}|${r.lr}|${r.budget}`;
const methodKey = (r: SelectionRun) => `${cellKey(r)}|${r.method}|${r.K}`;

/** Per-example values of the runs, one group per seed (the CIs resample seeds, then examples). */
const bySeed = (rs: SelectionRun[], k: 'testLosses' | 'testCorrect') => rs.map((r) => r[k]);

/** Paired (seed, example) values of `a` and its baseline runs `b` (matched by seed), one group per seed. */
function paired(a: SelectionRun[], b: SelectionRun[], k: 'testLosses' | 'testCorrect'): [number[][], number[][]] {
  const xa: number[][] = [];
  const xb: number[][] = [];
  for (const r of a) {
    const s = b.find((x) => x.seed === r.seed);
    if (!s) continue;
    xa.push(r[k]);
    xb.push(s[k]);
  }
  return [xa, xb];
}

/** Summary rows over seeds with bootstrap CIs (seeded, reproducible). */
export function summariseSelection(runs: SelectionRun[], seed = 0): SelectionSummaryRow[] {
  const rows: SelectionSummaryRow[] = [];
  for (const g of groupBy(runs, methodKey)) {
    const rs = g.runs;
    const r0 = rs[0];
    const baseline = r0.method === 'offline' ? 'random-offline' : r0.method === 'online' || r0.method === 'online-ref' ? 'random-online' : '';
    const base = baseline ? runs.filter((r) => cellKey(r) === cellKey(r0) && r.method === baseline) : [];
    const [la, lb] = paired(rs, base, 'testLosses');
    const [aa, ab] = paired(rs, base, 'testCorrect');
    const dl = base.length ? clusterPairedDiff(la, lb, { seed }) : undefined;
    const da = base.length ? clusterPairedDiff(aa, ab, { seed }) : undefined;
    const vl = meanStd(rs.map((r) => r.valLoss));
    const tl = meanStd(rs.map((r) => r.testLoss));
    const ta = meanStd(rs.map((r) => r.testAcc));
    const cl = clusterBootstrapCI(bySeed(rs, 'testLosses'), { seed });
    const ca = clusterBootstrapCI(bySeed(rs, 'testCorrect'), { seed });
    rows.push({
      setting: r0.setting,
      preset: r0.preset,
      lr: r0.lr,
      budget: r0.budget,
      method: r0.method,
      K: r0.K,
      seeds: rs.map((r) => r.seed),
      valLoss: vl.mean,
      valLossStd: vl.std,
      testLoss: tl.mean,
      testLossStd: tl.std,
      testAcc: ta.mean,
      testAccStd: ta.std,
      testLossLo: cl.lo,
      testLossHi: cl.hi,
      testAccLo: ca.lo,
      testAccHi: ca.hi,
      keptBalance: mean(rs.map((r) => r.keptBalance ?? NaN)),
      baseline,
      dTestLoss: dl?.mean ?? NaN,
      dTestLossLo: dl?.lo ?? NaN,
      dTestLossHi: dl?.hi ?? NaN,
      dTestAcc: da?.mean ?? NaN,
      dTestAccLo: da?.lo ?? NaN,
      dTestAccHi: da?.hi ?? NaN,
    });
  }
  const order: SelectionMethod[] = ['none', 'random-offline', 'offline', 'random-online', 'online', 'online-ref'];
  const kOrd = (k: Horizon | '') => (k === '' ? -1 : k === 'offline' ? Infinity : k);
  return rows.sort((a, b) =>
    a.setting.localeCompare(b.setting) || b.lr - a.lr || a.budget - b.budget || order.indexOf(a.method) - order.indexOf(b.method) || kOrd(a.K) - kOrd(b.K));
}

/** Best K per (setting, LR, budget) within each horizon family, against offline selection. */
export function bestKPerLr(runs: SelectionRun[], seed = 0): BestKRow[] {
  const out: BestKRow[] = [];
  for (const g of groupBy(runs, cellKey)) {
    const offline = g.runs.filter((r) => r.method === 'offline' && r.K === 'offline');
    for (const family of ['online', 'online-ref', 'offline'] as const) {
      const cands = groupBy(g.runs.filter((r) => (r.method === family && r.K !== '') || (r.method === 'offline' && r.K === 'offline')), (r) => String(r.K));
      if (cands.length < 2) continue;
      const stat = (rs: SelectionRun[], k: 'testLoss' | 'valLoss' | 'testAcc') => mean(rs.map((r) => r[k]));
      const argBest = (k: 'testLoss' | 'valLoss' | 'testAcc', sign: number) =>
        cands.reduce((best, c) => (sign * stat(c.runs, k) < sign * stat(best.runs, k) ? c : best)).runs[0].K as Horizon;
      const bestK = argBest('testLoss', 1);
      const best = cands.find((c) => c.runs[0].K === bestK)!.runs;
      const [a, b] = paired(best, offline, 'testLosses');
      const d = offline.length ? clusterPairedDiff(a, b, { seed }) : undefined;
      // Per-(seed, example) gains over the protocol's random baseline, one group per seed.
      const rand = (m: string) => g.runs.filter((r) => r.method === m);
      const gain = (rs: SelectionRun[]): number[][] => {
        const [x, y] = paired(rs, rand(rs[0].method === 'offline' ? 'random-offline' : 'random-online'), 'testLosses');
        return x.map((xs, s) => xs.map((v, i) => v - y[s][i]));
      };
      const gains = cands.map((c) => ({ K: c.runs[0].K as Horizon, g: gain(c.runs) }));
      const flat = (g: number[][]) => g.flat();
      const okGains = gains.filter((x) => flat(x.g).length);
      const bestRel = okGains.length ? okGains.reduce((b, x) => (mean(flat(x.g)) < mean(flat(b.g)) ? x : b)) : undefined;
      const offGain = gains.find((x) => x.K === 'offline')?.g ?? [];
      const sameShape = bestRel !== undefined && offGain.length === bestRel.g.length && offGain.every((o, s) => o.length === bestRel.g[s].length);
      const dr = bestRel && sameShape && flat(offGain).length ? clusterPairedDiff(bestRel.g, offGain, { seed }) : undefined;
      const r0 = g.runs[0];
      out.push({
        setting: r0.setting,
        preset: r0.preset,
        lr: r0.lr,
        budget: r0.budget,
        family,
        bestK,
        bestTestLoss: stat(best, 'testLoss'),
        bestKByVal: argBest('valLoss', 1),
        bestKByAcc: argBest('testAcc', -1),
        offlineTestLoss: offline.length ? stat(offline, 'testLoss') : NaN,
        dVsOffline: d?.mean ?? NaN,
        dVsOfflineLo: d?.lo ?? NaN,
        dVsOfflineHi: d?.hi ?? NaN,
        byK: cands.map((c) => `${c.runs[0].K}:${stat(c.runs, 'testLoss').toFixed(4)}`).join(' '),
        bestKRel: bestRel?.K ?? bestK,
        dRelVsOffline: dr?.mean ?? NaN,
        dRelVsOfflineLo: dr?.lo ?? NaN,
        dRelVsOfflineHi: dr?.hi ?? NaN,
        relByK: okGains.map((x) => `${x.K}:${mean(flat(x.g)).toFixed(4)}`).join(' '),
      });
    }
  }
  return out.sort((a, b) => a.setting.localeCompare(b.setting) || a.budget - b.budget || a.family.localeCompare(b.family) || b.lr - a.lr);
}
