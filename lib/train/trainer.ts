/**
 * `train`: run a setting (optionally counterfactual: sample weights, removals, a branch start) and return
 * its {@link Trajectory}, in memory or in a resumable on-disk store. Conventions: README.md here.
 *
 * @module
 */
import { tf } from '../runtime/tf.ts';
import { runtimeInfo } from '../runtime/backend.ts';
import { rngFor } from '../runtime/rng.ts';
import type { Model, Params } from '../models/types.ts';
import { flattenParams } from '../models/params.ts';
import { checkParams } from '../models/nn.ts';
import { datasetHash, type Dataset } from '../data/dataset.ts';
import { isFullState, makeEngine, Runner, type RowOrder, type StepInfo, type WeightFn } from './engine.ts';
import { diskTrajectory, makeAccessor, type ReplayContext } from './replay.ts';
import * as path from 'node:path';
import { contentHash } from './setting.ts';
import { TrajectoryStore, type CheckpointMeta, type RunHeader, type StoredManifest } from './store.ts';
import {
  bytesHash,
  copyState,
  trajectoryHash,
  type EvalRecord,
  type FlatState,
  type RecordMode,
  type Removal,
  type Trajectory,
  type TrajectoryManifest,
} from './trajectory.ts';
import type { TrainConfig } from './setting.ts';
import { CacheMismatchError, CorruptFileError } from '../runtime/errors.ts';
import { warn } from '../runtime/log.ts';
import { acquireLock } from '../cache/lock.ts';
import { quarantine } from '../cache/integrity.ts';
import { lossWatchdog } from './watchdog.ts';

/** Options of {@link train}. */
export interface TrainOptions {
  model: Model;
  data: Dataset;
  setting: TrainConfig;
  /** θ_0 (not disposed by train); default `model.init(rngFor(setting.seed, 'init'))`. */
  initParams?: Params;
  /** Loss-weight multiplier w(id, t) (default 1), e.g. 1−ε for ε-removal finite differences. */
  weights?: WeightFn;
  /** Names `weights` in the run hash; required together with `weights` when a store is used. */
  weightsKey?: string;
  removal?: Removal;
  /** Row order of the batch tensors (default 'plan'); 'reversed' is part of the run hash and the manifest. */
  rowOrder?: RowOrder;
  /** In-memory recording (ignored with a store, which always keeps full states): default 'full'. */
  record?: RecordMode;
  /** A directory (or store) to write to / resume from. */
  store?: TrajectoryStore | string;
  /** Stride k of stored states: states t ≡ 0 (mod k), plus the first and last (default 1). */
  checkpointEvery?: number;
  onStep?: (info: StepInfo) => void;
  /** Branch: start at state `step` of the same plan from `state` (e.g. a recorded state of the base run). */
  from?: { step: number; state: FlatState };
  /** Stop at state `until` (absolute step index: steps from..until−1 are run). */
  until?: number;
  /** Evaluated on θ_t (inside tf.tidy) at t ≡ 0 (mod evalEvery) and at the last state. */
  evalFn?: (params: Params, t: number) => number | Record<string, number>;
  evalEvery?: number;
}

const RECORD: RecordMode[] = ['none', 'params', 'full'];

function optInt(name: string, v: unknown, min: number, max = Infinity): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new Error(`train: ${name} must be an integer in [${min}, ${max}], got ${v}`);
  }
}


/** Steps whose state is stored: first, every k-th, last (the 'none' mode keeps only the last). */
function recordedGrid(start: number, end: number, k: number, none: boolean): number[] {
  if (none) return [end];
  const out = [start];
  for (let t = Math.ceil((start + 1) / k) * k; t < end; t += k) out.push(t);
  if (end !== start) out.push(end);
  return out;
}

/**
 * Trains `opts.setting` and returns the trajectory.
 *
 * With a store: an empty directory starts a run; a directory holding an unfinished run with the same
 * run hash resumes from its last complete checkpoint (bit-identical to an uninterrupted run); a finished
 * run with the same hash is returned as is; any other run hash is an error (nothing is overwritten).
 * @throws on invalid options, or naming step/epoch/batch when training diverges (non-finite values)
 */
export async function train(opts: TrainOptions): Promise<Trajectory> {
  const { model, data, setting } = opts;
  const engine = makeEngine({ model, data, setting, weights: opts.weights, removal: opts.removal, rowOrder: opts.rowOrder });
  const reversed = engine.rowOrder === 'reversed' ? ('reversed' as const) : undefined;
  const { T, spec, nParams, slots } = engine;
  const record = opts.record ?? 'full';
  if (!RECORD.includes(record)) throw new Error(`train: record must be one of ${RECORD.join(' | ')}, got '${record}'`);
  optInt('checkpointEvery', opts.checkpointEvery, 1);
  optInt('evalEvery', opts.evalEvery, 1);
  const k = opts.checkpointEvery ?? 1;
  if (opts.from && opts.initParams) throw new Error('train: give either from or initParams, not both');
  const startStep = opts.from?.step ?? 0;
  optInt('from.step', startStep, 0, T);
  optInt('until', opts.until, startStep, T);
  const endStep = opts.until ?? T;
  for (const [id, steps] of engine.removedAt) {
    const early = [...steps].filter((t) => t < startStep);
    if (early.length) throw new Error(`train: removal of id ${id} at step ${early[0]} lies before from.step ${startStep}; branch at or before the first removed occurrence`);
  }

  // The start state, owned by this run (host copy).
  let start: FlatState;
  if (opts.from) {
    if (!opts.from.state || !(opts.from.state.theta instanceof Float32Array)) throw new Error('train: from.state must be a FlatState with a Float32Array theta');
    start = copyState(opts.from.state);
  } else {
    let p = opts.initParams;
    if (p) checkParams(spec, p, 'initParams');
    else p = model.init(rngFor(setting.seed, 'init'));
    start = { theta: flattenParams(p, spec), optStep: 0 };
    if (!opts.initParams) tf.dispose(Object.values(p));
    if (setting.optimizer.kind === 'adamw') {
      start.m = new Float32Array(nParams);
      start.v = new Float32Array(nParams);
    }
  }
  if (start.theta.length !== nParams) throw new Error(`train: start θ has ${start.theta.length} entries, the model has ${nParams}`);
  if (!isFullState(start, slots)) throw new Error(`train: from.state lacks optimizer slots [${slots}] (record 'full' to branch)`);

  const store = typeof opts.store === 'string' ? new TrajectoryStore(opts.store) : opts.store;
  if (store !== undefined && !(store instanceof TrajectoryStore)) throw new Error('train: store must be a directory path or a TrajectoryStore');
  if (store && opts.weights && opts.weightsKey === undefined) {
    throw new Error('train: weights with a store need a weightsKey (a name for the weights, part of the run hash)');
  }
  const runtime = runtimeInfo();
  const sHash = contentHash(setting);
  const runHash = contentHash({
    setting,
    model: { family: model.family, config: model.config, spec },
    data: store ? datasetHash(data) : data.name,
    start: { step: startStep, theta: bytesHash(start.theta), m: start.m && bytesHash(start.m), v: start.v && bytesHash(start.v), buf: start.buf && bytesHash(start.buf), optStep: start.optStep },
    removal: opts.removal,
    rowOrder: reversed, // absent for 'plan': earlier run hashes stay valid
    weightsKey: opts.weightsKey ?? (opts.weights ? '<unnamed function>' : undefined),
    checkpointEvery: k,
    evalEvery: opts.evalEvery,
    // The native GEMM (when one is used) is part of the engine; absent otherwise, so earlier hashes stay valid.
    engine: { backend: runtime.backend, versions: runtime.versions, gradFixes: runtime.gradFixes, gradFixVersion: runtime.gradFixVersion, blas: runtime.blas?.id },
  });
  const recordedSteps = recordedGrid(startStep, endStep, k, record === 'none' && !store);
  const header: Omit<TrajectoryManifest, 'endStep' | 'complete' | 'recordedSteps'> = {
    format: 'faithful-tda/trajectory',
    version: 1,
    setting,
    settingHash: sHash,
    runHash,
    modelFamily: model.family,
    modelConfig: model.config,
    spec,
    nParams,
    nTrain: data.n,
    dataName: data.name,
    steps: T,
    startStep,
    optimizer: setting.optimizer.kind,
    slots,
    removal: opts.removal,
    ...(reversed ? { rowOrder: reversed } : {}),
    weightsKey: opts.weightsKey,
    record: store ? 'full' : record,
    checkpointEvery: k,
    runtime,
    createdAt: new Date().toISOString(),
  };
  const divisors = engine.plan.map((_, t) => engine.divisor(t));
  const losses = new Array<number>(T).fill(0);
  const evals: EvalRecord[] = [];
  const replay: ReplayContext = { engine, startStep, startState: start, losses };
  const manifestAt = (end: number): TrajectoryManifest => ({
    ...header,
    endStep: end,
    complete: end === T,
    recordedSteps: store ? recordedGrid(startStep, end, k, false) : recordedGrid(startStep, end, k, record === 'none'),
  });

  let cur = startStep;
  let state = start;
  let lastCk = -1;
  if (store) {
    const mismatch = (what: string, h: string) =>
      new CacheMismatchError(`trajectory store ${store.dir} holds a different run (${what} run hash ${h.slice(0, 12)}…, this run ${runHash.slice(0, 12)}…); use another directory or delete it`, store.dir);
    const man = readOrQuarantine(store, 'manifest.json');
    if (man) {
      if (man.runHash !== runHash) throw mismatch('finished', man.runHash);
      if (endStep === T) {
        return diskTrajectory(store, man, man.losses, man.evals, { ...replay, losses: man.losses });
      }
    }
    // From here on this process writes the store: one writer at a time (a second identical run waits, then
    // finds the finished manifest above on its next call).
    const unlock = await acquireLock(store.dir, `training run ${runHash.slice(0, 12)}…`);
    try {
      const again = readOrQuarantine(store, 'manifest.json');
      if (again && again.runHash === runHash && endStep === T) return diskTrajectory(store, again, again.losses, again.evals, { ...replay, losses: again.losses });
      return await runLoop(await prepareStore(store, runHash, startStep, endStep, mismatch));
    } finally {
      unlock();
    }
  }
  return runLoop(undefined);

  /** Resume point in a store (verified), or a fresh run.json. */
  async function prepareStore(
    st: TrajectoryStore,
    hash: string,
    from: number,
    to: number,
    mismatch: (what: string, h: string) => Error,
  ): Promise<{ t: number; state: FlatState } | undefined> {
    const run = readOrQuarantine(st, 'run.json');
    if (run && run.runHash !== hash) throw mismatch('unfinished', run.runHash);
    if (!run && st.listCheckpoints().length) {
      // Checkpoints without a usable header cannot be proven to belong to this run: keep them aside, start over.
      const moved = quarantine(path.join(st.dir, 'steps'));
      warn(`trajectory store ${st.dir}: checkpoints without a valid run.json moved to ${moved}; training from the start`);
    }
    for (;;) {
      const resumed = run ? resumePoint(st, from, to) : undefined;
      if (!resumed) {
        const h: RunHeader = { ...header, batches: engine.plan, lrs: engine.lrs, divisors };
        st.writeRun(h);
        return undefined;
      }
      try {
        const s0 = st.readState(resumed.t, slots, nParams);
        resumed.losses.forEach((l, t) => (losses[t] = l));
        evals.push(...resumed.evals);
        return { t: resumed.t, state: s0 };
      } catch (e) {
        if (!(e instanceof CorruptFileError)) throw e;
        const moved = st.quarantineState(resumed.t);
        warn(`${e.message}; moved it to ${moved} and resuming from the previous verified checkpoint`);
      }
    }
  }

  async function runLoop(resumedAt: { t: number; state: FlatState } | undefined): Promise<Trajectory> {
    if (resumedAt) {
      cur = resumedAt.t;
      lastCk = resumedAt.t;
      state = resumedAt.state;
    }
    const mem = new Map<number, FlatState>();
    const recSet = new Set(recordedSteps);
    const stride = (t: number) => t === startStep || t === endStep || t % k === 0;
    const evalDue = (t: number) => !!opts.evalFn && (t === endStep || (opts.evalEvery !== undefined && t % opts.evalEvery === 0));
    const runner = new Runner(engine, state, cur);
    let pendingEvals: EvalRecord[] = [];
    const watchdog = lossWatchdog(engine.lrs, cur > startStep ? losses[startStep] : undefined);
    try {
      const visit = (t: number) => {
        if (t !== cur || lastCk === -1) {
          if (evalDue(t)) {
            let value: number | Record<string, number> = 0;
            tf.tidy(() => {
              value = opts.evalFn!(runner.paramsRecord(), t);
            });
            const e = { t, value };
            evals.push(e);
            pendingEvals.push(e);
          }
        }
        if (store) {
          if (stride(t) && (t !== cur || lastCk === -1)) {
            store.writeCheckpoint(runner.flat(), slots, nParams, {
              t,
              prevT: lastCk,
              losses: lastCk < 0 ? [] : losses.slice(lastCk, t),
              evals: pendingEvals,
            });
            lastCk = t;
            pendingEvals = [];
          }
        } else if (recSet.has(t)) {
          mem.set(t, t === startStep && record !== 'params' ? copyState(start) : runner.flat(record === 'params' && t !== endStep));
        }
      };
      visit(cur);
      while (runner.t < endStep) {
        const info = runner.step();
        losses[info.step] = info.loss;
        watchdog(info.step, info.loss);
        opts.onStep?.(info);
        visit(runner.t);
        // Let timers and I/O run now and then (progress output, child processes); no effect on numbers.
        if (runner.t % 64 === 0) await new Promise((r) => setTimeout(r, 0));
      }
    } finally {
      runner.dispose();
    }

    const manifest = manifestAt(endStep);
    if (store) {
      const traj = diskTrajectory(store, { ...manifest, batches: engine.plan, lrs: engine.lrs, divisors }, losses, evals, replay);
      if (endStep === T) {
        store.writeManifest({ ...manifest, batches: engine.plan, lrs: engine.lrs, divisors, losses, evals, trajectoryHash: trajectoryHash(traj) });
      }
      return traj;
    }
    return {
      manifest,
      batches: engine.plan,
      lrs: engine.lrs,
      divisors,
      losses,
      evals,
      states: makeAccessor(
        { recorded: recordedSteps, get: (t) => mem.get(t)! },
        { startStep, endStep, spec },
        replay,
      ),
    };
  }
}

/** run.json / manifest.json of a store, or undefined when absent or failing its check (then moved aside). */
function readOrQuarantine<N extends 'run.json' | 'manifest.json'>(store: TrajectoryStore, name: N): (N extends 'run.json' ? RunHeader : StoredManifest) | undefined {
  try {
    return (name === 'run.json' ? store.readRun() : store.readManifest()) as never;
  } catch (e) {
    if (!(e instanceof CorruptFileError)) throw e;
    const moved = store.quarantineFile(name);
    warn(`${e.message.split(';')[0]}; moved it to ${moved}; ${name === 'manifest.json' ? 'the run is finished again from its checkpoints' : 'the run starts over'}`);
    return undefined;
  }
}


/**
 * The latest complete checkpoint ≤ end whose chain of commit markers reaches the start state, with the
 * losses and evaluations recorded along that chain; undefined when none is usable.
 */
function resumePoint(
  store: TrajectoryStore,
  startStep: number,
  endStep: number,
): { t: number; losses: Map<number, number>; evals: EvalRecord[] } | undefined {
  const cks = store.listCheckpoints().filter((t) => t >= startStep && t <= endStep).reverse();
  for (const t of cks) {
    const losses = new Map<number, number>();
    const evals: EvalRecord[] = [];
    let meta: CheckpointMeta | undefined = store.checkpointMeta(t);
    let ok = false;
    while (meta) {
      meta.losses.forEach((l, i) => losses.set(meta!.prevT + i, l));
      evals.unshift(...meta.evals);
      if (meta.prevT < 0) {
        ok = meta.t === startStep;
        break;
      }
      meta = meta.prevT < meta.t ? store.checkpointMeta(meta.prevT) : undefined;
    }
    if (ok) return { t, losses, evals };
  }
  return undefined;
}
