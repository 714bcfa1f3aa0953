/**
 * Trajectory: what happened when a setting was trained — the batch plan, applied LRs, divisors,
 * losses, and the states θ_t (+ optimizer state) at recorded steps, with deterministic replay for the
 * steps in between.
 *
 * State indexing: state t (t = 0..T) is the state BEFORE the update of step t; state T is final.
 * So θ_t, m_t, v_t, and `optStep` = number of optimizer updates applied before step t (AdamW's
 * bias-correction counter of step t is optStep+1).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { ModelFamily, ParamSpec, Params } from '../models/types.ts';
import { flattenParams, unflattenParams } from '../models/params.ts';
import type { RuntimeInfo } from '../runtime/backend.ts';
import type { StateSlot } from '../optim/optimizer.ts';
import type { TrainConfig } from './setting.ts';

/** θ_t → flat float32 vector `[P]` in spec order (synchronous download). */
export const flatten: (params: Params, spec: ParamSpec[]) => Float32Array = flattenParams;
/** Flat vector `[P]` → new parameter tensors (caller owns them). */
export const toParams: (flat: Float32Array | Float64Array, spec: ParamSpec[]) => Params = unflattenParams;

/** One state on the host, every vector `[P]` float32 in spec order. */
export interface FlatState {
  theta: Float32Array;
  /** Optimizer updates applied before this state (AdamW: k of the next update is optStep+1). */
  optStep: number;
  /** AdamW first moment (absent when only θ was recorded). */
  m?: Float32Array;
  /** AdamW second moment. */
  v?: Float32Array;
  /** SGD momentum buffer (absent before the first update, as in PyTorch). */
  buf?: Float32Array;
}

/** Which occurrences of a removed sample are removed (see README "Removal"). */
export type Occurrence = 'all' | 'first' | 'last' | { step: number };

/** A counterfactual removal: weight 0 for `ids` at the chosen occurrences. */
export interface Removal {
  ids: readonly number[];
  occurrence: Occurrence;
  /** Batch-loss divisor D_t: the original |B_t| (what the estimators linearise) or the remaining count. */
  divisor: 'original' | 'remaining';
}

/** What is kept in memory: every `checkpointEvery`-th full state, θ only, or only the final state. */
export type RecordMode = 'none' | 'params' | 'full';

/** Descriptive header of a trajectory (plain JSON; `manifest.json` on disk also holds the arrays). */
export interface TrajectoryManifest {
  format: 'faithful-tda/trajectory';
  version: 1;
  setting: TrainConfig;
  settingHash: string;
  /** Hash of everything that determines the bits (setting, model, data, init, removal, weightsKey, backend). */
  runHash: string;
  modelFamily: ModelFamily | string;
  modelConfig: unknown;
  spec: ParamSpec[];
  nParams: number;
  nTrain: number;
  dataName: string;
  /** Plan length T (states 0..T exist in a complete run). */
  steps: number;
  /** First state of this run (> 0 for a branch started with `from`). */
  startStep: number;
  /** Last state reached (T unless stopped with `until`). */
  endStep: number;
  complete: boolean;
  optimizer: 'adamw' | 'sgd';
  /** Slots stored after θ in each full state, in order. */
  slots: StateSlot[];
  removal?: Removal;
  /** Present when the batch rows ran in reverse order (see `RowOrder` in engine.ts). */
  rowOrder?: 'reversed';
  weightsKey?: string;
  record: RecordMode;
  checkpointEvery: number;
  /** Steps whose state is stored (the hashed ones); others are replayed. */
  recordedSteps: number[];
  runtime: RuntimeInfo;
  createdAt: string;
}

/** An evaluation result of `evalFn` on θ_t. */
export interface EvalRecord {
  t: number;
  value: number | Record<string, number>;
}

/** Access to states 0..T (only startStep..endStep exist for branches / stopped runs). */
export interface StateAccessor {
  /** Steps with a stored state, ascending. */
  readonly recorded: number[];
  /**
   * State t: stored, or replayed from the nearest earlier full state (bit-identical to the run).
   * The arrays may be shared with the trajectory's storage: copy before modifying.
   */
  at(t: number): FlatState;
  /** The last state (endStep). */
  final(): FlatState;
  /** θ_t as new tensors (caller disposes). */
  params(t: number): Params;
}

/** A trained (or partially trained) run. Arrays are indexed by step t = 0..T−1. */
export interface Trajectory {
  manifest: TrajectoryManifest;
  /** Training-set ids of batch t (including removed samples: they stay in the batch with weight 0). */
  batches: number[][];
  /** η_t applied at step t. */
  lrs: number[];
  /** D_t, the batch-loss divisor used at step t (0 = empty batch, update skipped). */
  divisors: number[];
  /** Batch loss L_t(θ_t) = Σ w ℓ / D_t (float32 value as a JS number); 0 for steps not run or skipped. */
  losses: number[];
  evals: EvalRecord[];
  states: StateAccessor;
}

/** The vectors of a state in storage order [θ | slots…] (absent slots → zeros), as float32 `[P·(1+slots)]`. */
export function packState(s: FlatState, slots: StateSlot[], nParams: number): Float32Array {
  const out = new Float32Array(nParams * (1 + slots.length));
  if (s.theta.length !== nParams) throw new Error(`packState: theta has ${s.theta.length} entries, expected ${nParams}`);
  out.set(s.theta, 0);
  slots.forEach((k, i) => {
    const a = s[k];
    if (a) {
      if (a.length !== nParams) throw new Error(`packState: ${k} has ${a.length} entries, expected ${nParams}`);
      out.set(a, nParams * (i + 1));
    } else if (k !== 'buf' || s.optStep > 0) {
      throw new Error(`packState: state at optStep ${s.optStep} lacks slot '${k}'`);
    }
  });
  return out;
}

/** Inverse of {@link packState}; `buf` is absent when optStep = 0 (PyTorch's lazily created buffer). */
export function unpackState(flat: Float32Array, slots: StateSlot[], nParams: number, optStep: number): FlatState {
  if (flat.length !== nParams * (1 + slots.length)) {
    throw new Error(`unpackState: ${flat.length} values, expected ${nParams}·${1 + slots.length}`);
  }
  const s: FlatState = { theta: flat.slice(0, nParams), optStep };
  slots.forEach((k, i) => {
    if (k === 'buf' && optStep === 0) return;
    s[k] = flat.slice(nParams * (i + 1), nParams * (i + 2));
  });
  return s;
}

/** Deep copy of a state. */
export function copyState(s: FlatState): FlatState {
  const c: FlatState = { theta: s.theta.slice(), optStep: s.optStep };
  if (s.m) c.m = s.m.slice();
  if (s.v) c.v = s.v.slice();
  if (s.buf) c.buf = s.buf.slice();
  return c;
}

function bytesOf(a: Float32Array | Float64Array | Int32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export { bytesHash } from '../cache/key.ts';

/**
 * sha256 over the plan (batches, LRs, divisors), the losses (float64 bytes), and every recorded state
 * (step, optStep, θ and present slots as float32 bytes). Independent of storage (memory or disk), creation
 * time and pause/resume history: two runs hash equal iff they recorded the same bits.
 */
export function trajectoryHash(traj: Trajectory): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ b: traj.batches, l: traj.lrs, d: traj.divisors, s: traj.manifest.startStep, e: traj.manifest.endStep }));
  h.update(bytesOf(Float64Array.from(traj.losses)));
  for (const t of traj.states.recorded) {
    const s = traj.states.at(t);
    h.update(`|${t}:${s.optStep}`);
    h.update(bytesOf(s.theta));
    for (const k of ['m', 'v', 'buf'] as const) {
      const a = s[k];
      if (a) {
        h.update(k);
        h.update(bytesOf(a));
      }
    }
  }
  return h.digest('hex');
}
