/**
 * Finding 3 — where the error of the common practice comes from: the error of SGD-influence against
 * TSLOO on an AdamW run, split into system-, config- and algorithm-level parts (papers.md §1.5).
 *
 * Estimates on the same run and the same (scored samples × queries) matrix:
 *   R     TSLOO, the reference (vectorised replicas on plain MLPs, else one trainer rerun per id);
 *   R′    TSLOO by a second computation order: one trainer rerun per id where R is vectorised, else one
 *         rerun per id with every batch's rows reversed (`rowOrder: 'reversed'`, the same sums in another order);
 *   A     AdamW-influence, exact curvature, every checkpoint (the matched estimator);
 *   S     SGD-influence, exact curvature, every checkpoint;
 *   S_k   SGD-influence fed every k-th checkpoint ({@link coarseCheckpoints}).
 *
 * **Decomposition (squared error, projected on the total).** The total error of S_k is the matrix
 * E = R − S_k = (R − A) + (A − S) + (S − S_k), a telescoping sum, so with ⟨X, Y⟩_q = Σ_z X[z,q] Y[z,q]
 *
 *     ‖E‖²_q = ⟨R − A, E⟩_q + ⟨A − S, E⟩_q + ⟨S − S_k, E⟩_q                (exactly, per query q)
 *
 * and each part's *share* is Σ_q ⟨part, E⟩_q / Σ_q ‖E‖²_q. Shares sum to 1 exactly; a part that points
 * against the rest of the error has a negative share. R itself carries float32 noise ν; as ν is
 * independent of everything else, E[⟨ν, E⟩] = E‖ν‖², estimated from two computation orders as
 * ½ ‖R − R′‖²_q, so the noise share is moved out of ⟨R − A, E⟩:
 *
 *   - system, float32 noise        ½ ‖R − R′‖²_q
 *   - system, checkpoint stride k   ⟨S − S_k, E⟩_q                (0 at k = 1)
 *   - config, optimizer mismatch    ⟨A − S, E⟩_q
 *   - algorithm, Taylor residual    ⟨R − A, E⟩_q − ½ ‖R − R′‖²_q
 *
 * Why this and not 1 − Spearman: squared errors are additive over a telescoping chain (exactly, with
 * the projection), rank correlations are not; 1 − Spearman of every estimate is reported beside it.
 * CIs: 95% percentile bootstrap over queries (query columns resampled; every replicate's shares also sum
 * to 1). The checkpoint wrapper feeds S_k; it is not applied to A, whose post-step moments at a stale
 * checkpoint 0 (v = 0) would give 1/ε-sized rescalings in the first k − 1 steps.
 *
 * Presets: `quick` (MLP quick, lr 1e-3, 16 × 16, k ∈ {1, 4, 16}), `full` (MLP full at lr 1e-3 and 1e-4,
 * 50 × 100 — the same samples and queries as the full-length cells of the Taylor-error grid, whose TSLOO
 * and AdamW-influence caches it reuses; CNN / transformers when registered). Every estimate is cached;
 * the summary is rebuilt from every cell file on disk.
 *
 * @module
 */
import type { RunOptions } from '../types.ts';
import { VARIANTS } from '../../pipeline/variants.ts';
import fs from 'node:fs';
import path from 'node:path';
import { runtimeInfo } from '../../runtime/backend.ts';
import { Rng } from '../../runtime/rng.ts';
import { settingNames, settingPresets } from '../../settings/index.ts';
import { unflattenParams } from '../../models/params.ts';
import { readVerifiedJson, writeVerifiedJson } from '../../cache/integrity.ts';
import type { FlatState, StateAccessor, Trajectory } from '../../train/trajectory.ts';
import { tsloo } from '../../groundtruth/tsloo.ts';
import { canVectorise } from '../../groundtruth/replicas.ts';
import type { AttributionTask } from '../../estimators/types.ts';
import type { ScoreMatrix } from '../../analysis/score-matrix.ts';
import { perQuery, spearman } from '../../analysis/metrics.ts';
import { bootstrapCI } from '../../analysis/stats.ts';
import { cachedScores, groundTruth, planScoredIds, prepareCell } from '../../pipeline/cell.ts';
import { writeResultFiles } from '../../pipeline/results.ts';
import { findingRun } from '../../pipeline/paths.ts';
import { UsageError } from '../../runtime/errors.ts';

/**
 * A view of `traj` as if only every k-th state (0, k, 2k, …, and the final one) had been saved: state t is
 * replaced by θ, m, v of the nearest earlier saved state ⌊t/k⌋·k. AdamW's step counter keeps its true
 * value (a stale checkpoint does not rewind bias correction). k = 1 returns the run's own states.
 * @throws on k that is not a positive integer
 */
export function coarseCheckpoints(traj: Trajectory, k: number): Trajectory {
  if (!(Number.isInteger(k) && k >= 1)) throw new Error(`coarseCheckpoints: k must be a positive integer, got ${k}`);
  const T = traj.manifest.steps;
  const spec = traj.manifest.spec;
  const snap = (t: number) => (t >= T ? T : Math.floor(t / k) * k);
  const at = (t: number): FlatState => {
    const c = snap(t);
    const s = traj.states.at(c);
    if (c === t) return s;
    let optStep = s.optStep;
    for (let u = c; u < t; u++) if (traj.divisors[u] > 0) optStep++;
    return { ...s, optStep };
  };
  const recorded = [...new Set(Array.from({ length: T + 1 }, (_, t) => snap(t)))];
  const states: StateAccessor = {
    recorded,
    at,
    final: () => traj.states.final(),
    params: (t: number) => unflattenParams(at(t).theta, spec),
  };
  return { ...traj, states };
}

/** One setting of a preset. */
export interface DecompositionGrid {
  setting: string;
  preset: string;
  lrs: number[];
  nScored: number;
  nQueries: number;
  optional?: boolean;
}

/** A preset. */
export interface DecompositionPreset {
  grids: DecompositionGrid[];
  seeds: number[];
  /** Checkpoint strides k (1 must be among them: it is the undecimated baseline). */
  ks: number[];
  /** Ids also rerun through the trainer by `tsloo` (its own noise check). */
  crossCheck: number;
}

export const DECOMPOSITION_PRESETS: Record<string, DecompositionPreset> = {
  quick: {
    grids: [{ setting: 'mlp', preset: 'quick', lrs: [1e-3], nScored: 16, nQueries: 16 }],
    seeds: [0],
    ks: [1, 4, 16],
    crossCheck: 2,
  },
  full: {
    grids: [
      { setting: 'mlp', preset: 'full', lrs: [1e-3, 1e-4], nScored: 50, nQueries: 100 },
      { setting: 'cnn', preset: 'full', lrs: [1e-3], nScored: 16, nQueries: 8, optional: true },
      { setting: 'gpt2', preset: 'full', lrs: [1e-4], nScored: 16, nQueries: 16, optional: true },
      { setting: 'llama', preset: 'full', lrs: [1e-4], nScored: 16, nQueries: 16, optional: true },
    ],
    seeds: [0],
    ks: [1, 4, 16],
    crossCheck: 4,
  },
};

/** Component names, in table order. */
export const COMPONENTS = [
  'system: float32 noise (TSLOO)',
  'system: checkpoint stride',
  'config: optimizer mismatch',
  'algorithm: Taylor residual',
  'total',
] as const;
export type Component = (typeof COMPONENTS)[number];

/** The component that depends on the checkpoint stride k. */
export const STRIDE_COMPONENT: Component = 'system: checkpoint stride';

/** One row of the decomposition table. */
export interface DecompositionRow {
  setting: string;
  preset: string;
  lr: number;
  seed: number;
  T: number;
  k: number;
  component: Component;
  /** Share of Σ_q ‖R − S_k‖²_q (total = 1) with its 95% bootstrap CI over queries. */
  share: number;
  lo: number;
  hi: number;
  /** The part in squared-score units per (z, q) entry: Σ_q part_q / (nScored · nQueries). */
  meanSquare: number;
  /** False for the noise row where no second computation order exists (share fixed at 0). */
  measured: boolean;
}

/** 1 − mean Spearman (over queries, across samples) of each estimate against R, with a CI over queries. */
export interface FidelityContext {
  setting: string;
  preset: string;
  lr: number;
  seed: number;
  estimate: string;
  oneMinusSpearman: number;
  lo: number;
  hi: number;
}

/** The result file of one cell. */
export interface DecompositionCellResult {
  format: 'faithful-tda/error-decomposition-cell';
  version: 1;
  cell: { setting: string; preset: string; lr: number; seed: number; nScored: number; nQueries: number; ks: number[] };
  T: number;
  runHash: string;
  scoredIds: number[];
  tsloo: { method: string; alternative: string | null; control: unknown; crossCheck: unknown; maxAbsDiffAlternative: number | null };
  rows: DecompositionRow[];
  fidelity: FidelityContext[];
  seconds: Record<string, number>;
  runtime: ReturnType<typeof runtimeInfo>;
  createdAt: string;
}

/** Per-query parts of the decomposition of R − S_k. @returns each `[nQuery]` */
export function decompositionParts(R: ScoreMatrix, Ralt: ScoreMatrix | null, A: ScoreMatrix, S: ScoreMatrix, Sk: ScoreMatrix): Record<Component, Float64Array> {
  const { nTrain: nz, nQuery: nq } = R;
  for (const [name, m] of [['R′', Ralt], ['A', A], ['S', S], ['S_k', Sk]] as const) {
    if (m && (m.nTrain !== nz || m.nQuery !== nq)) throw new Error(`decompositionParts: ${name} is [${m.nTrain}, ${m.nQuery}], R is [${nz}, ${nq}]`);
  }
  const out = Object.fromEntries(COMPONENTS.map((c) => [c, new Float64Array(nq)])) as Record<Component, Float64Array>;
  for (let z = 0; z < nz; z++) {
    for (let q = 0; q < nq; q++) {
      const i = z * nq + q;
      const E = R.values[i] - Sk.values[i];
      const noise = Ralt ? 0.5 * (R.values[i] - Ralt.values[i]) ** 2 : 0;
      out['total'][q] += E * E;
      out['system: float32 noise (TSLOO)'][q] += noise;
      out['system: checkpoint stride'][q] += (S.values[i] - Sk.values[i]) * E;
      out['config: optimizer mismatch'][q] += (A.values[i] - S.values[i]) * E;
      out['algorithm: Taylor residual'][q] += (R.values[i] - A.values[i]) * E - noise;
    }
  }
  return out;
}

/**
 * Shares Σ_q part_q / Σ_q total_q with percentile-bootstrap CIs over queries (columns resampled).
 * @param parts from {@link decompositionParts}
 */
export function sharesWithCI(parts: Record<Component, Float64Array>, seed: number, reps = 2000): Record<Component, { share: number; lo: number; hi: number }> {
  const nq = parts.total.length;
  const shares = (idx: (j: number) => number) => {
    const sums = Object.fromEntries(COMPONENTS.map((c) => [c, 0])) as Record<Component, number>;
    for (let j = 0; j < nq; j++) {
      const q = idx(j);
      for (const c of COMPONENTS) sums[c] += parts[c][q];
    }
    return COMPONENTS.map((c) => sums[c] / sums.total);
  };
  const point = shares((j) => j);
  const rng = new Rng(seed);
  const reps2 = COMPONENTS.map(() => new Float64Array(reps));
  for (let r = 0; r < reps; r++) {
    const s = shares(() => rng.int(nq));
    s.forEach((v, c) => (reps2[c][r] = v));
  }
  return Object.fromEntries(
    COMPONENTS.map((c, ci) => {
      const xs = reps2[ci].sort();
      return [c, { share: point[ci], lo: xs[Math.floor(0.025 * (reps - 1))], hi: xs[Math.ceil(0.975 * (reps - 1))] }];
    }),
  ) as Record<Component, { share: number; lo: number; hi: number }>;
}

function log(msg: string): void {
  if (process.env.FTDA_QUIET !== '1') console.error(msg);
}

/** Directory of a cell's result file. */
export function decompositionCellDir(c: { setting: string; preset: string; lr: number; seed: number }, outDir: string): string {
  return path.join(outDir, 'cells', `${c.setting}-${c.preset}`, `lr${c.lr}`, `seed${c.seed}`);
}

/** Runs (or loads from the caches) one setting at one LR and seed; writes its `result.json`. */
export async function runDecompositionCell(
  c: { setting: string; preset: string; lr: number; seed: number; nScored: number; nQueries: number; ks: number[]; crossCheck: number },
  paths: { cacheDir?: string; outDir: string },
): Promise<DecompositionCellResult> {
  if (!c.ks.includes(1)) throw new Error(`error-decomposition: ks must include 1 (the undecimated baseline), got ${c.ks.join(', ')}`);
  // The Taylor-error grid's id choice, so its full-length cells share TSLOO and AdamW-influence caches.
  const run = await prepareCell(c, { cacheDir: paths.cacheDir, scoredIds: (t) => planScoredIds(t, c.nScored, c.seed) });
  const { loaded } = run;
  const { trajectory, queries, trainIds: ids } = run.task;
  if (trajectory.manifest.setting.optimizer.kind !== 'adamw') throw new Error(`error-decomposition: ${c.setting} trains with ${trajectory.manifest.setting.optimizer.kind}; the decomposition is of SGD-influence on an AdamW run`);
  const tag = `[decomposition ${c.setting}/${c.preset} lr ${c.lr} seed ${c.seed}]`;
  const seconds: Record<string, number> = { train: run.trainSeconds };

  const vec = canVectorise(loaded.model);
  const R = await groundTruth(run, { crossCheck: vec ? c.crossCheck : 0 });
  seconds.tsloo = R.timing.computeSeconds;
  // The second computation order: the trainer where R is vectorised, else the trainer with reversed rows.
  const Ralt = await groundTruth(run, vec ? { method: 'sequential' } : { method: 'sequential', rowOrder: 'reversed' });
  seconds.tslooAlternative = Ralt.timing.computeSeconds;
  const altName = `${Ralt.method}${Ralt.rowOrder === 'reversed' ? ', reversed rows' : ''}`;
  log(`${tag} tsloo ${R.method} + ${altName}`);

  const exact = { curvature: 'exact' };
  const A = await cachedScores(run, R, { ...VARIANTS.adamwExact, options: exact }, { progressSeconds: 10 });
  const S = await cachedScores(run, R, { ...VARIANTS.sgdInfluence, options: exact }, { progressSeconds: 10 });
  seconds.adamw = A.seconds;
  seconds.sgd = S.seconds;
  const Sk = new Map<number, ScoreMatrix>([[1, S.scores]]);
  for (const k of c.ks.filter((k) => k !== 1)) {
    const r = await cachedScores(run, R, { label: `SGD-influence (stride ${k})`, name: 'sgd-influence', options: exact }, { task: { ...run.task, trajectory: coarseCheckpoints(trajectory, k) }, tag: `checkpoint-stride-${k}`, progressSeconds: 10 });
    Sk.set(k, r.scores);
    seconds[`sgdStride${k}`] = r.seconds;
  }
  log(`${tag} estimates done`);

  const rows: DecompositionRow[] = [];
  const nEntries = ids.length * queries.n;
  for (const k of c.ks) {
    const parts = decompositionParts(R.scores, Ralt.scores, A.scores, S.scores, Sk.get(k)!);
    const shares = sharesWithCI(parts, c.seed);
    for (const comp of COMPONENTS) {
      rows.push({
        setting: c.setting,
        preset: c.preset,
        lr: c.lr,
        seed: c.seed,
        T: run.T,
        k,
        component: comp,
        ...shares[comp],
        meanSquare: parts[comp].reduce((a, b) => a + b, 0) / nEntries,
        measured: true, // false only in cells written before the reversed-row order existed (CNN, transformers)
      });
    }
  }
  const fidelity: FidelityContext[] = [];
  const ctx = (estimate: string, m: ScoreMatrix) => {
    const ci = bootstrapCI(perQuery(spearman, m, R.scores), { seed: c.seed });
    fidelity.push({ setting: c.setting, preset: c.preset, lr: c.lr, seed: c.seed, estimate, oneMinusSpearman: 1 - ci.mean, lo: 1 - ci.hi, hi: 1 - ci.lo });
  };
  ctx(vec ? 'TSLOO (sequential order)' : 'TSLOO (reversed row order)', Ralt.scores);
  ctx(A.label, A.scores);
  for (const k of c.ks) ctx(`SGD-influence (exact), stride ${k}`, Sk.get(k)!);

  let maxAlt = 0;
  for (let i = 0; i < R.scores.values.length; i++) maxAlt = Math.max(maxAlt, Math.abs(R.scores.values[i] - Ralt.scores.values[i]));
  const result: DecompositionCellResult = {
    format: 'faithful-tda/error-decomposition-cell',
    version: 1,
    cell: { setting: c.setting, preset: c.preset, lr: c.lr, seed: c.seed, nScored: c.nScored, nQueries: c.nQueries, ks: c.ks },
    T: run.T,
    runHash: trajectory.manifest.runHash,
    scoredIds: ids,
    tsloo: { method: R.method, alternative: altName, control: R.noise, crossCheck: R.crossCheck ?? null, maxAbsDiffAlternative: maxAlt },
    rows,
    fidelity,
    seconds,
    runtime: runtimeInfo(),
    createdAt: new Date().toISOString(),
  };
  const dir = decompositionCellDir(c, paths.outDir);
  fs.mkdirSync(dir, { recursive: true });
  writeVerifiedJson(path.join(dir, 'result.json'), result, 1);
  return result;
}

/** The summary written by {@link runErrorDecomposition}. */
export interface DecompositionSummary {
  format: 'faithful-tda/error-decomposition';
  version: 1;
  preset: string;
  definition: string;
  rows: DecompositionRow[];
  fidelity: FidelityContext[];
  missing: { setting: string; lr: number; seed: number }[];
  skipped: string[];
  runtime: ReturnType<typeof runtimeInfo>;
  createdAt: string;
}

/**
 * Options of {@link runErrorDecomposition} (findings/types.ts `RunOptions`): `settings` computes only those settings'
 * cells (the summary still covers every cell of the preset on disk); `cachedOnly` computes nothing.
 */
export type DecompositionOptions = Pick<RunOptions, 'outDir' | 'cacheDir' | 'lrs' | 'seeds' | 'settings' | 'cachedOnly'>;

/**
 * Runs the requested cells of a preset, then writes `summary.json`, `table.csv` (the decomposition) and
 * `fidelity.csv` under `<outDir>/<preset>/` from every cell result of the preset on disk.
 */
export async function runErrorDecomposition(presetName: string, o: DecompositionOptions = {}): Promise<DecompositionSummary> {
  const { preset, outDir, cacheDir } = findingRun('error-decomposition', DECOMPOSITION_PRESETS, presetName, o);
  const skipped: string[] = [];
  const cells: { setting: string; preset: string; lr: number; seed: number; nScored: number; nQueries: number; ks: number[]; crossCheck: number }[] = [];
  for (const g of preset.grids) {
    const why = !settingNames().includes(g.setting) ? `setting '${g.setting}' is not registered` : !settingPresets(g.setting).includes(g.preset) ? `setting '${g.setting}' has no preset '${g.preset}'` : null;
    if (why) {
      if (!g.optional) throw new Error(`error-decomposition: ${why}`);
      skipped.push(`${g.setting}/${g.preset}: ${why}`);
      continue;
    }
    for (const lr of g.lrs) for (const seed of preset.seeds) cells.push({ setting: g.setting, preset: g.preset, lr, seed, nScored: g.nScored, nQueries: g.nQueries, ks: preset.ks, crossCheck: preset.crossCheck });
  }
  for (const c of cells) {
    if (o.cachedOnly) break;
    if ((o.settings && !o.settings.includes(c.setting)) || (o.lrs && !o.lrs.includes(c.lr)) || (o.seeds && !o.seeds.includes(c.seed))) continue;
    await runDecompositionCell(c, { cacheDir, outDir });
  }
  const rows: DecompositionRow[] = [];
  const fidelity: FidelityContext[] = [];
  const missing: DecompositionSummary['missing'] = [];
  for (const c of cells) {
    const file = path.join(decompositionCellDir(c, outDir), 'result.json');
    const r = readVerifiedJson<DecompositionCellResult>(file, 'delete it and rerun the cell (its phases are cached)');
    if (!r) {
      missing.push({ setting: c.setting, lr: c.lr, seed: c.seed });
      continue;
    }
    rows.push(...r.rows);
    fidelity.push(...r.fidelity);
  }
  const summary: DecompositionSummary = {
    format: 'faithful-tda/error-decomposition',
    version: 1,
    preset: presetName,
    definition:
      'share = Σ_q ⟨part, R − S_k⟩_q / Σ_q ‖R − S_k‖²_q over the (scored sample × query) matrix; parts: noise ½‖R − R′‖², ' +
      'checkpoint ⟨S − S_k, E⟩, config ⟨A − S, E⟩, algorithm ⟨R − A, E⟩ − noise; shares sum to 1; 95% bootstrap CIs over queries',
    rows,
    fidelity,
    missing,
    skipped,
    runtime: runtimeInfo(),
    createdAt: new Date().toISOString(),
  };
  writeResultFiles(outDir, { 'summary.json': summary, 'table.csv': rows, 'fidelity.csv': fidelity });
  return summary;
}
