/**
 * State access for trajectories: stored states are returned as recorded, others are replayed from the
 * nearest earlier full state through {@link Runner} (the training code path), so they are bit-identical
 * to what the run computed. Replayed losses are checked against the recorded ones, which catches a
 * replay on a different backend or with different weights.
 *
 * @module
 */
import type { Dataset } from '../data/dataset.ts';
import type { Model, ParamSpec } from '../models/types.ts';
import { unflattenParams } from '../models/params.ts';
import { isFullState, makeEngine, Runner, type StepEngine, type WeightFn } from './engine.ts';
import type { FlatState, StateAccessor, Trajectory } from './trajectory.ts';
import { TrajectoryStore } from './store.ts';
import { CorruptFileError } from '../runtime/errors.ts';
import { warn } from '../runtime/log.ts';

/** Where stored states come from (memory or a {@link TrajectoryStore}). */
export interface StateSource {
  recorded: number[];
  /** A stored state; throws {@link CorruptFileError} when it fails its check. */
  get(t: number): FlatState;
  /** Rewrites a bad stored state with a regenerated one if it is bit-identical to the record. */
  repair?(t: number, state: FlatState): boolean;
  /** Where the states live (messages). */
  where?: string;
}

/** What replay needs: the run's engine, its first state and the recorded losses for verification. */
export interface ReplayContext {
  engine: StepEngine;
  startStep: number;
  startState: FlatState;
  losses: number[];
}

/** Upper bound on the bytes of replayed states kept for the next call (backward and forward sweeps). */
const CACHE_BYTES = 256 * 2 ** 20;

/**
 * Builds a {@link StateAccessor} for states startStep..endStep.
 * @param replay omit to allow stored states only (e.g. a trajectory loaded without model and data)
 */
export function makeAccessor(
  source: StateSource,
  range: { startStep: number; endStep: number; spec: ParamSpec[] },
  replay?: ReplayContext,
): StateAccessor {
  const recorded = [...source.recorded].sort((a, b) => a - b);
  const recordedSet = new Set(recorded);
  let cache = new Map<number, FlatState>();
  const at = (t: number): FlatState => {
    if (!Number.isInteger(t) || t < range.startStep || t > range.endStep) {
      throw new Error(`trajectory state ${t} does not exist: this run has states ${range.startStep}..${range.endStep}`);
    }
    if (recordedSet.has(t)) {
      try {
        return source.get(t);
      } catch (e) {
        if (!(e instanceof CorruptFileError)) throw e;
        return regenerate(t, e);
      }
    }
    const hit = cache.get(t);
    if (hit) return hit;
    if (!replay) {
      throw new Error(`state ${t} was not stored (stored: every ${recorded.length > 1 ? recorded[1] - recorded[0] : '?'}-th) and this trajectory has no replay context; load it with { model, data }`);
    }
    return replayTo(t);
  };
  // A stored state that fails its check is recomputed from the nearest good earlier state by the training code
  // path and written back only if it reproduces the recorded sha256 (store.ts `repairState`).
  const regenerate = (t: number, e: CorruptFileError): FlatState => {
    const where = source.where ?? 'this trajectory';
    if (!replay) {
      throw new CorruptFileError(e.file, e.reason, `it cannot be regenerated because ${where} was opened without its model and data (load it with { model, data }, or delete ${where} to retrain)`);
    }
    const s = t === replay.startStep ? replay.startState : replayTo(t, t);
    if (!source.repair?.(t, s)) {
      throw new CorruptFileError(e.file, e.reason, `replaying the run did not reproduce it bit for bit (another backend or gradient-fix set?); delete ${where} to retrain`);
    }
    warn(`${e.file}: ${e.reason}; regenerated it by replaying the run from an earlier verified state (bit-identical to the record) and rewrote it`);
    return s;
  };
  const goodStored = (r: number): FlatState | undefined => {
    try {
      return source.get(r);
    } catch (e) {
      if (e instanceof CorruptFileError) return undefined; // repaired when it is asked for itself
      throw e;
    }
  };
  const replayTo = (t: number, skip = -1): FlatState => {
    const { engine, losses } = replay!;
    let baseT = replay!.startStep;
    let base = replay!.startState;
    for (const r of recorded) {
      if (r > t || r <= baseT || r === skip) continue;
      const s = goodStored(r);
      if (s && isFullState(s, engine.slots)) {
        baseT = r;
        base = s;
      }
    }
    for (const [r, s] of cache) if (r <= t && r > baseT) [baseT, base] = [r, s];
    const runner = new Runner(engine, base, baseT);
    const next = new Map<number, FlatState>();
    const stateBytes = engine.nParams * 4 * (1 + engine.slots.length);
    const cap = Math.max(1, Math.floor(CACHE_BYTES / stateBytes));
    let out: FlatState | undefined;
    try {
      while (runner.t < t) {
        const step = runner.t;
        const info = runner.step();
        if (losses[step] !== info.loss) {
          throw new Error(
            `replay diverged from the recorded run at step ${step}: loss ${info.loss} vs recorded ${losses[step]} ` +
              `(different backend, gradient fixes, weights or data?)`,
          );
        }
        if (t - runner.t < cap || runner.t === t) {
          const s = runner.flat();
          next.set(runner.t, s);
          if (runner.t === t) out = s;
        }
      }
    } finally {
      runner.dispose();
    }
    cache = next;
    return out!;
  };
  return {
    recorded,
    at,
    final: () => at(range.endStep),
    params: (t: number) => unflattenParams(at(t).theta, range.spec),
  };
}

/** Options of {@link loadTrajectory}: what replay of non-stored steps needs. */
export interface LoadOptions {
  model?: Model;
  data?: Dataset;
  /** Required when the run was trained with `weights` (its `weightsKey` is in the manifest). */
  weights?: WeightFn;
}

/**
 * Opens a completed trajectory directory. With `model` and `data`, non-stored states are replayed.
 * @throws when the directory holds no completed run, or the model does not match the stored spec
 */
export function loadTrajectory(dir: string | TrajectoryStore, opts: LoadOptions = {}): Trajectory {
  const store = typeof dir === 'string' ? new TrajectoryStore(dir) : dir;
  const man = store.readManifest();
  if (!man) {
    const run = store.readRun();
    throw new Error(
      run
        ? `trajectory store ${store.dir} holds an unfinished run (resume it by calling train() with the same options)`
        : `trajectory store ${store.dir} has no manifest.json`,
    );
  }
  if (man.format !== 'faithful-tda/trajectory' || man.version !== 1) {
    throw new Error(`trajectory store ${store.dir}: unsupported format ${man.format} v${man.version}`);
  }
  let replay: ReplayContext | undefined;
  if (opts.model || opts.data) {
    if (!opts.model || !opts.data) throw new Error('loadTrajectory: replay needs both model and data');
    if (JSON.stringify(opts.model.spec) !== JSON.stringify(man.spec)) {
      throw new Error(`loadTrajectory: model spec does not match the stored spec of ${store.dir}`);
    }
    if (man.weightsKey !== undefined && !opts.weights) {
      throw new Error(`loadTrajectory: the run used weights '${man.weightsKey}'; pass the same weights function to replay`);
    }
    const engine = makeEngine({ model: opts.model, data: opts.data, setting: man.setting, weights: opts.weights, removal: man.removal });
    replay = {
      engine,
      startStep: man.startStep,
      startState: store.readState(man.startStep, man.slots, man.nParams),
      losses: man.losses,
    };
  }
  return diskTrajectory(store, man, man.losses, man.evals, replay);
}

/** A trajectory whose states live in `store` (the arrays are given). */
export function diskTrajectory(
  store: TrajectoryStore,
  man: Trajectory['manifest'] & { batches: number[][]; lrs: number[]; divisors: number[] },
  losses: number[],
  evals: Trajectory['evals'],
  replay?: ReplayContext,
): Trajectory {
  const { batches, lrs, divisors, ...rest } = man as typeof man & { losses?: unknown; evals?: unknown; trajectoryHash?: unknown };
  delete (rest as { losses?: unknown }).losses;
  delete (rest as { evals?: unknown }).evals;
  const source: StateSource = {
    recorded: man.recordedSteps,
    get: (t) => store.readState(t, man.slots, man.nParams),
    repair: (t, s) => store.repairState(t, s, man.slots, man.nParams),
    where: store.dir,
  };
  return {
    manifest: rest as Trajectory['manifest'],
    batches,
    lrs,
    divisors,
    losses,
    evals,
    states: makeAccessor(source, { startStep: man.startStep, endStep: man.endStep, spec: man.spec }, replay),
  };
}
