/**
 * Trajectory-specific leave-one-out (TSLOO, papers.md §1.3): for each selected training id z, training is
 * rerun from the same init with the same batch plan and z removed (weight 0 at the chosen occurrences),
 * and for every query q
 *
 *     TSLOO(z, q) = ℓ_q(θ_T^{−z}) − ℓ_q(θ_T)
 *
 * is recorded as a float64 difference of float32 losses downloaded to the host (README sign convention:
 * positive = z helped q).
 *
 * - **Branching:** the steps before z's first removed occurrence are identical to the base run, so each
 *   counterfactual starts from the base trajectory's recorded state there.
 * - **Vectorised replicas** (MLP family, `method: 'vectorised'`; see replicas.ts): the ids are sorted by
 *   branch step and cut into groups of `replicas`; a group starts at its smallest branch step (later
 *   members keep weight 1 until their own removal) and carries one control replica without removal.
 *   TSLOO is `loss(replica) − loss(control)`, so the rounding of the stacked computation cancels, and
 *   |loss(control) − loss(base)| is reported as the measured noise term.
 * - **Sequential** (every family, `method: 'sequential'`): one branched `train(...)` per id; the trainer
 *   reproduces the base run bit for bit, so the base losses are the control.
 * - **Second computation order** (`rowOrder: 'reversed'`, sequential only): each counterfactual run sums
 *   its batches in reverse row order. It is the same TSLOO up to float32 rounding, so comparing it with the
 *   plan-order result measures the noise floor of TSLOO itself where no vectorised path exists.
 * - **Cache + resume** (`cacheDir`): one JSON file per finished group, written atomically, in a directory
 *   keyed by everything that determines the numbers; README.md here has the layout.
 *
 * @module
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Dataset } from '../data/dataset.ts';
import type { Model } from '../models/types.ts';
import { unflattenParams, disposeParams } from '../models/params.ts';
import { runtimeInfo } from '../runtime/backend.ts';
import { scoreMatrix, type ScoreMatrix } from '../analysis/score-matrix.ts';
import { isFullState, makeEngine, resolveRemoval, type RowOrder, type StepEngine } from '../train/engine.ts';
import { cacheKey } from '../cache/key.ts';
import { readCachedJson, writeVerified } from '../cache/integrity.ts';
import { acquireLock } from '../cache/lock.ts';
import { CacheMismatchError } from '../runtime/errors.ts';
import { bytesHash, type FlatState, type Occurrence, type Removal, type Trajectory } from '../train/trajectory.ts';
import { train } from '../train/trainer.ts';
import { checkIds, checkQueries, datasetHash, diff64, queryLosses, tick, defaultChunk } from './common.ts';
import { canVectorise, MlpReplicas } from './replicas.ts';

/** How the counterfactual runs are computed. */
export type TslooMethod = 'vectorised' | 'sequential';

/** Options of {@link tsloo}. */
export interface TslooOptions {
  model: Model;
  /** The training set the trajectory's batch ids index. */
  data: Dataset;
  /** The base run: no removal, unit weights, `record: 'full'` (θ and optimizer state at recorded steps). */
  trajectory: Trajectory;
  /** Query examples; the attributed quantity is each query's loss at θ_T. */
  queries: Dataset;
  /** Training ids to remove, one at a time (the rows of the result, in this order). */
  ids: readonly number[];
  /** Which occurrences are removed (default 'all'). */
  occurrence?: Occurrence;
  /** Batch divisor of the counterfactual run (default 'original'). */
  divisor?: Removal['divisor'];
  /** 'auto' (default): vectorised for plain MLPs, sequential otherwise. */
  method?: 'auto' | TslooMethod;
  /**
   * Row order of the counterfactual runs' batches (default 'plan'; 'reversed' needs method 'sequential').
   * The base losses stay those of the plan-order base run, so the rounding difference of the order lands
   * in the scores.
   */
  rowOrder?: RowOrder;
  /** Counterfactual replicas per vectorised group, excluding the control (default 32). */
  replicas?: number;
  /** Root directory of the on-disk cache (none: compute in memory only). */
  cacheDir?: string;
  /** Called after each finished (or cached) group: `done` of `total` ids. */
  onProgress?: (done: number, total: number) => void;
  /** Stop after computing this many groups in this call (simulates a kill; the result is incomplete). */
  stopAfter?: number;
  /** Queries per forward pass (default 256 for classifiers, 8 for sequence data). */
  queryChunk?: number;
  /**
   * Vectorised only: also rerun this many ids (spread over the branch order) one at a time through the
   * trainer and report max |vectorised − trainer| per id (default 0). This measures the float32 noise of
   * TSLOO itself, which the control replica can underestimate (see README.md here).
   */
  crossCheck?: number;
}

/** {@link TslooOptions.crossCheck}: vectorised vs one-at-a-time trainer reruns of a few ids. */
export interface CrossCheck {
  ids: number[];
  /** max_q |TSLOO_vec(z, q) − TSLOO_trainer(z, q)| per id. */
  maxAbsDiff: number[];
  /** max_q |TSLOO_trainer(z, q)| per id (the effect size to compare with). */
  maxAbsScore: number[];
}

/** Measured system-level error of the vectorised path: |ℓ_q(control) − ℓ_q(base)| over groups × queries. */
export interface NoiseFloor {
  maxAbs: number;
  meanAbs: number;
  /** Number of vectorised groups it was measured on. */
  groups: number;
}

/** Result of {@link tsloo}. */
export interface TslooResult {
  /** `[ids.length, nQuery]`: TSLOO(ids[i], q); NaN rows for ids not yet computed when `complete` is false. */
  scores: ScoreMatrix;
  ids: number[];
  /** ℓ_q(θ_T) of the base run, `[nQuery]` (float32 values). */
  baseLosses: Float64Array;
  /** Step of each id's first removed occurrence, `[ids.length]` (−1: never removed, row exactly 0). */
  branchSteps: number[];
  method: TslooMethod;
  occurrence: Occurrence;
  divisor: Removal['divisor'];
  /** Replicas per group (vectorised). */
  replicas?: number;
  /** Row order of the counterfactual runs' batches. */
  rowOrder: RowOrder;
  /** Vectorised: measured |control − base|; sequential: null (the trainer reproduces the base run bit for bit). */
  noise: NoiseFloor | null;
  /** Present when `crossCheck` > 0 was asked for (vectorised). */
  crossCheck?: CrossCheck;
  timing: {
    /** Wall time of this call. */
    seconds: number;
    /** Summed compute time of all groups (including groups computed by earlier, interrupted calls). */
    computeSeconds: number;
    /** Counterfactual runs trained in this call (0 on a cache hit). */
    runsTrainedNow: number;
    /** Counterfactual runs per second of compute (over all groups). */
    runsPerSecond: number;
  };
  complete: boolean;
  /** Cache key (sha256 of the request descriptor). */
  key: string;
  /** Directory of this request's cache entry, when `cacheDir` was given. */
  cachePath?: string;
}

/** One unit of work: a vectorised group or a single sequential rerun. */
interface Group {
  index: number;
  kind: 'vectorised' | 'single';
  ids: number[];
  branch: number;
}

/** The content of one finished group file. */
interface GroupFile {
  index: number;
  kind: Group['kind'];
  ids: number[];
  branch: number;
  /** TSLOO rows, one per id, `[nQuery]` each. */
  rows: number[][];
  /** Vectorised: Σ_q |control − base| and max_q |control − base|. */
  noise?: { sumAbs: number; maxAbs: number };
  seconds: number;
}

const OCC = ['all', 'first', 'last'];

function checkOccurrence(o: unknown): Occurrence {
  if (typeof o === 'string' && OCC.includes(o)) return o as Occurrence;
  if (o && typeof o === 'object' && Number.isInteger((o as { step: unknown }).step)) return o as Occurrence;
  throw new Error(`tsloo: occurrence must be 'all' | 'first' | 'last' | {step}, got ${JSON.stringify(o)}`);
}

/** Checks that `traj` is a usable base run for `model` and `data`; returns its engine. */
function checkBase(model: Model, data: Dataset, traj: Trajectory): StepEngine {
  if (!traj || !traj.manifest || !traj.states) throw new Error('tsloo: trajectory must be a Trajectory (lib/train/trajectory.ts)');
  const man = traj.manifest;
  if (man.removal && man.removal.ids.length > 0) {
    throw new Error(`tsloo: the base trajectory is itself counterfactual (it removed ids [${man.removal.ids.slice(0, 8).join(', ')}]); pass the unmodified base run`);
  }
  if (man.weightsKey !== undefined) {
    throw new Error(`tsloo: the base trajectory was trained with sample weights '${man.weightsKey}'; pass the unweighted base run`);
  }
  if (man.rowOrder) throw new Error(`tsloo: the base trajectory ran its batches in '${man.rowOrder}' row order; pass the plan-order base run (use the rowOrder option for a second computation order)`);
  if (man.startStep !== 0) throw new Error(`tsloo: the base trajectory is a branch starting at step ${man.startStep}; TSLOO needs the run from step 0`);
  if (!man.complete || man.endStep !== man.steps) throw new Error(`tsloo: the base trajectory is incomplete (endStep ${man.endStep} of ${man.steps})`);
  if (man.record !== 'full') {
    throw new Error(`tsloo: the base trajectory was recorded with record '${man.record}'; branching needs full states (θ and optimizer state): train it with record 'full'`);
  }
  if (man.nTrain !== data.n) throw new Error(`tsloo: the trajectory was trained on ${man.nTrain} samples, data has ${data.n}`);
  if (JSON.stringify(man.spec) !== JSON.stringify(model.spec)) throw new Error(`tsloo: model spec does not match the trajectory's spec (family ${man.modelFamily})`);
  const engine = makeEngine({ model, data, setting: man.setting });
  if (engine.T !== traj.batches.length || engine.plan.some((b, t) => b.length !== traj.batches[t].length || b.some((id, k) => id !== traj.batches[t][k]))) {
    throw new Error("tsloo: the setting's batch plan on this data differs from the trajectory's batches (wrong data?)");
  }
  return engine;
}

/**
 * Trajectory-specific leave-one-out scores.
 * @returns scores `[ids.length, queries.n]` (TSLOO(z, q) = ℓ_q(θ_T^{−z}) − ℓ_q(θ_T)) with metadata
 * @throws on an id out of range or repeated, a base run without full states, a counterfactual / weighted /
 *   branched base run, a model or data that does not match the trajectory, or invalid options
 */
export async function tsloo(opts: TslooOptions): Promise<TslooResult> {
  const t0 = performance.now();
  const { model, data, trajectory: traj, queries } = opts;
  if (!model || !Array.isArray(model.spec)) throw new Error('tsloo: model must be a Model (lib/models/types.ts)');
  if (!data || typeof data.n !== 'number') throw new Error('tsloo: data must be a Dataset (lib/data/dataset.ts)');
  checkQueries('tsloo', queries);
  const ids = checkIds('tsloo', opts.ids, data.n);
  const occurrence = checkOccurrence(opts.occurrence ?? 'all');
  const divisor = opts.divisor ?? 'original';
  if (divisor !== 'original' && divisor !== 'remaining') throw new Error(`tsloo: divisor must be 'original' or 'remaining', got '${divisor}'`);
  const want = opts.method ?? 'auto';
  if (!['auto', 'vectorised', 'sequential'].includes(want)) throw new Error(`tsloo: method must be 'auto' | 'vectorised' | 'sequential', got '${want}'`);
  if (want === 'vectorised' && !canVectorise(model)) {
    throw new Error(`tsloo: method 'vectorised' supports plain MLPs only (model family '${model.family}'); use 'sequential' or 'auto'`);
  }
  const method: TslooMethod = want === 'auto' ? (canVectorise(model) ? 'vectorised' : 'sequential') : want;
  const rowOrder = opts.rowOrder ?? 'plan';
  if (rowOrder !== 'plan' && rowOrder !== 'reversed') throw new Error(`tsloo: rowOrder must be 'plan' or 'reversed', got '${opts.rowOrder}'`);
  if (rowOrder === 'reversed' && method !== 'sequential') throw new Error(`tsloo: rowOrder 'reversed' needs method 'sequential' (this request resolved to '${method}')`);
  const R = opts.replicas ?? 32;
  if (!(Number.isInteger(R) && R >= 1)) throw new Error(`tsloo: replicas must be a positive integer, got ${opts.replicas}`);
  if (opts.stopAfter !== undefined && !(Number.isInteger(opts.stopAfter) && opts.stopAfter >= 0)) {
    throw new Error(`tsloo: stopAfter must be a non-negative integer, got ${opts.stopAfter}`);
  }
  const nCheck = opts.crossCheck ?? 0;
  if (!(Number.isInteger(nCheck) && nCheck >= 0)) throw new Error(`tsloo: crossCheck must be a non-negative integer, got ${opts.crossCheck}`);
  const chunk = opts.queryChunk ?? defaultChunk(queries);
  if (!(Number.isInteger(chunk) && chunk >= 1)) throw new Error(`tsloo: queryChunk must be a positive integer, got ${opts.queryChunk}`);
  const baseEngine = checkBase(model, data, traj);
  const setting = traj.manifest.setting;
  const nQ = queries.n;

  // Removal steps of every id (validates the occurrence rule against the plan).
  const byStep = resolveRemoval(traj.batches, data.n, { ids, occurrence, divisor });
  const stepsOf = new Map<number, number[]>();
  byStep.forEach((set, t) => set.forEach((id) => (stepsOf.get(id) ?? stepsOf.set(id, []).get(id)!).push(t)));
  const branchSteps = ids.map((id) => (stepsOf.has(id) ? Math.min(...stepsOf.get(id)!) : -1));

  // Cache key: everything that determines the numbers.
  const finalState = traj.states.final();
  const descriptor = {
    kind: 'faithful-tda/tsloo',
    version: 1,
    runHash: traj.manifest.runHash,
    finalTheta: bytesHash(finalState.theta),
    data: datasetHash(data),
    queries: datasetHash(queries),
    ids,
    occurrence,
    divisor,
    method,
    replicas: method === 'vectorised' ? R : undefined,
    rowOrder: rowOrder === 'reversed' ? rowOrder : undefined, // absent for 'plan': earlier cache keys stay valid
    queryChunk: chunk,
  };
  const key = cacheKey(descriptor, 64);
  const dir = opts.cacheDir !== undefined ? path.join(opts.cacheDir, `tsloo-${key.slice(0, 24)}`) : undefined;
  const resultFile = dir && path.join(dir, 'result.json');
  const fitsRequest = (r: StoredResult) => (r.key !== key ? `holds another request (key ${String(r.key).slice(0, 12)}…)` : r.values?.length !== ids.length * nQ ? `holds ${r.values?.length} values, expected ${ids.length * nQ}` : undefined);
  const finished = () => {
    const r = resultFile ? readCachedJson<StoredResult>(resultFile, 'TSLOO result', fitsRequest) : undefined;
    return r && (method !== 'vectorised' || (r.crossCheck?.ids.length ?? 0) >= nCheck) ? r : undefined;
  };
  let release: (() => void) | undefined;
  if (dir) {
    const hit = finished();
    if (hit) {
      opts.onProgress?.(ids.length, ids.length);
      return fromStored(hit, performance.now() - t0, dir);
    }
    // One writer per request; a second process waits here, then reuses the finished result.
    release = await acquireLock(dir, `TSLOO of ${ids.length} ids × ${nQ} queries`);
    const done = finished();
    if (done) {
      release();
      opts.onProgress?.(ids.length, ids.length);
      return fromStored(done, performance.now() - t0, dir);
    }
    const reqFile = path.join(dir, 'request.json');
    const req = readCachedJson<{ key: string }>(reqFile, 'TSLOO request');
    if (req && req.key !== key) {
      release();
      throw new CacheMismatchError(`tsloo: cache ${dir} holds a different request (key ${req.key.slice(0, 12)}…)`, dir);
    }
    if (!req) writeVerified(reqFile, JSON.stringify({ key, descriptor, runtime: runtimeInfo(), createdAt: new Date().toISOString() }));
    fs.mkdirSync(path.join(dir, 'groups'), { recursive: true });
  }
  try {
    const baseP = unflattenParams(finalState.theta, model.spec);
    let base: Float32Array;
    try {
      base = queryLosses(model, baseP, queries, chunk);
    } finally {
      disposeParams(baseP);
    }

    // Groups: sorted by branch step (then id); ids never removed need no run (row exactly 0).
    const order = ids.map((id, row) => ({ id, row, b: branchSteps[row] })).filter((e) => e.b >= 0).sort((a, b) => a.b - b.b || a.id - b.id);
    const groups: Group[] = [];
    const vecOrder: typeof order = [];
    if (method === 'sequential') {
      for (const e of order) groups.push({ index: groups.length, kind: 'single', ids: [e.id], branch: e.b });
    } else {
      // Under 'remaining' a removal that empties a batch skips that replica's optimizer step (its AdamW counter
      // then differs from the other replicas'): such ids run singly through the trainer.
      const empties = (id: number) => divisor === 'remaining' && stepsOf.get(id)!.some((t) => traj.batches[t].length === 1);
      const vec = order.filter((e) => !empties(e.id));
      for (let s = 0; s < vec.length; s += R) {
        const part = vec.slice(s, s + R);
        groups.push({ index: groups.length, kind: 'vectorised', ids: part.map((e) => e.id), branch: part[0].b });
      }
      vecOrder.push(...vec);
      for (const e of order.filter((e) => empties(e.id))) groups.push({ index: groups.length, kind: 'single', ids: [e.id], branch: e.b });
    }

    const rowOf = new Map(ids.map((id, r) => [id, r]));
    const values = new Float64Array(ids.length * nQ);
    const filled = new Uint8Array(ids.length);
    ids.forEach((id, r) => {
      if (branchSteps[r] < 0) filled[r] = 1; // exactly zero
    });
    let done = ids.length - order.length;
    let computeSeconds = 0;
    let runsNow = 0;
    let computedNow = 0;
    const noiseAcc = { sum: 0, max: 0, n: 0, groups: 0 };
    const absorb = (g: GroupFile) => {
      g.rows.forEach((row, k) => {
        const r = rowOf.get(g.ids[k])!;
        values.set(row, r * nQ);
        filled[r] = 1;
      });
      if (g.noise) {
        noiseAcc.sum += g.noise.sumAbs;
        noiseAcc.max = Math.max(noiseAcc.max, g.noise.maxAbs);
        noiseAcc.n += nQ;
        noiseAcc.groups++;
      }
      computeSeconds += g.seconds;
      done += g.ids.length;
    };
    const groupFile = (g: Group) => (dir ? path.join(dir, 'groups', `${String(g.index).padStart(6, '0')}.json`) : undefined);

    // Cached groups first (a resumed computation).
    const todo: Group[] = [];
    for (const g of groups) {
      const f = groupFile(g);
      const fits = (c: GroupFile) => (c.ids.length === g.ids.length && c.ids.every((id, k) => id === g.ids[k]) && c.rows.length === g.ids.length && c.rows.every((r) => r.length === nQ) ? undefined : `holds ids [${c.ids}] × ${c.rows[0]?.length} queries, expected [${g.ids}] × ${nQ}`);
      const cached = f ? readCachedJson<GroupFile>(f, `TSLOO group ${g.index}`, fits) : undefined;
      if (cached) absorb(cached);
      else todo.push(g);
    }
    opts.onProgress?.(done, ids.length);

    const ctx: RunCtx = { model, data, setting, traj, queries, chunk, occurrence, divisor, rowOrder, base, baseEngine };
    for (const g of todo) {
      if (opts.stopAfter !== undefined && computedNow >= opts.stopAfter) break;
      const gs = performance.now();
      const out = g.kind === 'vectorised' ? await runVectorised(ctx, g) : await runSingle(ctx, g);
      const file: GroupFile = { index: g.index, kind: g.kind, ids: g.ids, branch: g.branch, rows: out.rows.map((r) => Array.from(r)), noise: out.noise, seconds: (performance.now() - gs) / 1000 };
      const f = groupFile(g);
      if (f) writeVerified(f, JSON.stringify(file));
      absorb(file);
      runsNow += g.ids.length;
      computedNow++;
      opts.onProgress?.(done, ids.length);
      await tick();
    }

    const complete = filled.every((x) => x === 1);
    filled.forEach((x, r) => {
      if (!x) values.fill(NaN, r * nQ, (r + 1) * nQ);
    });
    const stored: StoredResult = {
      key,
      ids,
      nQuery: nQ,
      values: Array.from(values),
      baseLosses: Array.from(base),
      branchSteps,
      method,
      occurrence,
      divisor,
      replicas: method === 'vectorised' ? R : undefined,
      rowOrder,
      noise: method === 'vectorised' ? { maxAbs: noiseAcc.max, meanAbs: noiseAcc.n ? noiseAcc.sum / noiseAcc.n : 0, groups: noiseAcc.groups } : null,
      computeSeconds,
      runtime: runtimeInfo(),
    };
    if (complete && method === 'vectorised' && nCheck > 0) {
      const prev = resultFile ? readCachedJson<StoredResult>(resultFile, 'TSLOO result', fitsRequest)?.crossCheck : undefined;
      stored.crossCheck = prev && prev.ids.length >= nCheck ? prev : await crossCheck(ctx, vecOrder, nCheck, values, rowOf);
    }
    if (resultFile && complete) writeVerified(resultFile, JSON.stringify(stored));
    const res = fromStored(stored, performance.now() - t0, dir);
    res.timing.runsTrainedNow = runsNow;
    res.timing.runsPerSecond = computeSeconds > 0 ? (done - (ids.length - order.length)) / computeSeconds : 0;
    res.complete = complete;
    return res;
  } finally {
    release?.();
  }
}

/** result.json of a finished request. */
interface StoredResult {
  key: string;
  ids: number[];
  nQuery: number;
  values: number[];
  baseLosses: number[];
  branchSteps: number[];
  method: TslooMethod;
  occurrence: Occurrence;
  divisor: Removal['divisor'];
  replicas?: number;
  /** Absent in results written before the option existed ('plan'). */
  rowOrder?: RowOrder;
  noise: NoiseFloor | null;
  crossCheck?: CrossCheck;
  computeSeconds: number;
  runtime: unknown;
}

function fromStored(s: StoredResult, ms: number, dir?: string): TslooResult {
  const runs = s.branchSteps.filter((b) => b >= 0).length;
  return {
    scores: scoreMatrix(s.ids.length, s.nQuery, s.values.map((v) => (v === null ? NaN : v))),
    ids: s.ids,
    baseLosses: Float64Array.from(s.baseLosses),
    branchSteps: s.branchSteps,
    method: s.method,
    occurrence: s.occurrence,
    divisor: s.divisor,
    replicas: s.replicas,
    rowOrder: s.rowOrder ?? 'plan',
    noise: s.noise,
    crossCheck: s.crossCheck,
    timing: { seconds: ms / 1000, computeSeconds: s.computeSeconds, runsTrainedNow: 0, runsPerSecond: s.computeSeconds > 0 ? runs / s.computeSeconds : 0 },
    complete: true,
    key: s.key,
    cachePath: dir,
  };
}

interface RunCtx {
  model: Model;
  data: Dataset;
  setting: Trajectory['manifest']['setting'];
  traj: Trajectory;
  queries: Dataset;
  chunk: number;
  occurrence: Occurrence;
  divisor: Removal['divisor'];
  rowOrder: RowOrder;
  /** ℓ_q(θ_T) of the base run `[nQuery]`. */
  base: Float32Array;
  baseEngine: StepEngine;
}

function branchState(ctx: RunCtx, step: number): FlatState {
  const s = ctx.traj.states.at(step);
  if (!isFullState(s, ctx.baseEngine.slots)) {
    throw new Error(`tsloo: the base trajectory's state ${step} lacks the optimizer slots [${ctx.baseEngine.slots}] (record 'full' to branch)`);
  }
  return s;
}

/** One id through the trainer, branched at its first removed occurrence. */
async function runSingle(ctx: RunCtx, g: Group): Promise<{ rows: Float64Array[]; noise?: undefined }> {
  const id = g.ids[0];
  const cf = await train({
    model: ctx.model,
    data: ctx.data,
    setting: ctx.setting,
    removal: { ids: [id], occurrence: ctx.occurrence, divisor: ctx.divisor },
    rowOrder: ctx.rowOrder,
    from: { step: g.branch, state: branchState(ctx, g.branch) },
    record: 'none',
  });
  const p = unflattenParams(cf.states.final().theta, ctx.model.spec);
  try {
    return { rows: [diff64(queryLosses(ctx.model, p, ctx.queries, ctx.chunk), ctx.base)] };
  } finally {
    disposeParams(p);
  }
}

/** A group of ids as stacked replicas (replica 0 = control without removal). */
async function runVectorised(ctx: RunCtx, g: Group): Promise<{ rows: Float64Array[]; noise: { sumAbs: number; maxAbs: number } }> {
  const { model, data, setting, traj } = ctx;
  const engines = [ctx.baseEngine, ...g.ids.map((id) => makeEngine({ model, data, setting, removal: { ids: [id], occurrence: ctx.occurrence, divisor: ctx.divisor } }))];
  const R = engines.length;
  const rep = new MlpReplicas(model, setting, branchState(ctx, g.branch), R);
  let L: Float32Array;
  try {
    for (let t = g.branch; t < traj.batches.length; t++) {
      const ids = traj.batches[t];
      const B = ids.length;
      const c = new Float32Array(R * B);
      engines.forEach((e, r) => {
        const { c: cr, D } = e.coef(t);
        if (D === 0) throw new Error(`tsloo: internal: replica ${r} has an empty batch at step ${t}`);
        c.set(cr, r * B);
      });
      rep.step(data, ids, c, traj.lrs[t], t);
      if (t % 64 === 63) await tick();
    }
    L = rep.queryLosses(ctx.queries, ctx.chunk);
  } finally {
    rep.dispose();
  }
  const nQ = ctx.queries.n;
  const control = L.subarray(0, nQ);
  const rows = g.ids.map((_, k) => diff64(L, control, (k + 1) * nQ));
  let sumAbs = 0;
  let maxAbs = 0;
  for (let q = 0; q < nQ; q++) {
    const d = Math.abs(Number(control[q]) - Number(ctx.base[q]));
    sumAbs += d;
    maxAbs = Math.max(maxAbs, d);
  }
  return { rows, noise: { sumAbs, maxAbs } };
}

/** Reruns `k` of the vectorised ids (evenly spread over the branch order) through the trainer. */
async function crossCheck(ctx: RunCtx, order: { id: number; b: number }[], k: number, values: Float64Array, rowOf: Map<number, number>): Promise<CrossCheck> {
  const nQ = ctx.queries.n;
  const pick = [...new Set(Array.from({ length: Math.min(k, order.length) }, (_, j) => Math.floor(((j + 0.5) * order.length) / Math.min(k, order.length))))].map((i) => order[i]);
  const out: CrossCheck = { ids: [], maxAbsDiff: [], maxAbsScore: [] };
  for (const e of pick) {
    const [row] = (await runSingle(ctx, { index: -1, kind: 'single', ids: [e.id], branch: e.b })).rows;
    const r = rowOf.get(e.id)!;
    let d = 0;
    let m = 0;
    for (let q = 0; q < nQ; q++) {
      d = Math.max(d, Math.abs(values[r * nQ + q] - row[q]));
      m = Math.max(m, Math.abs(row[q]));
    }
    out.ids.push(e.id);
    out.maxAbsDiff.push(d);
    out.maxAbsScore.push(m);
  }
  return out;
}
