/**
 * The one code path that applies training steps. Training, branching (`from`), resume and replay all
 * run through {@link Runner.step}, which is what makes replays bit-identical to the recorded run.
 *
 * Step t: L_t(θ) = Σ_{i∈B_t} c_{i,t} ℓ_i(θ) with c_{i,t} = w_{i,t}/D_t (float64, rounded once to
 * float32); w = 0 for removed occurrences, otherwise `weights(i, t)` (default 1). Removed samples stay
 * in the batch tensor with weight 0, so a removal and a zero weight run the same kernels on the same
 * shapes (bit-identical), and the rest of the batch is summed in the same order as in the base run.
 *
 * @module
 */
import { tf } from '../runtime/tf.ts';
import type { Model, ParamSpec } from '../models/types.ts';
import { numParams } from '../models/types.ts';
import { paramList, paramRecord, unflattenParams } from '../models/params.ts';
import { checkDataset, type Dataset } from '../data/dataset.ts';
import { makeBatch } from '../data/batch.ts';
import { lrSequence } from '../optim/schedule.ts';
import { adamwStepF32 } from '../optim/adamw.ts';
import { sgdStepF32 } from '../optim/sgd.ts';
import { stateSlots, type StateSlot } from '../optim/optimizer.ts';
import { planFor, stepsPerEpoch, validateTrainConfig, type TrainConfig } from './setting.ts';
import type { FlatState, Removal } from './trajectory.ts';

/**
 * Row order of each batch tensor: 'plan' (as drawn), or 'reversed' — the same run, summed in another
 * order, so its float32 rounding differs (a second computation order for measuring TSLOO's noise floor).
 */
export type RowOrder = 'plan' | 'reversed';

/** Loss-weight multiplier of sample `id` at step `t` (1 = as trained). */
export type WeightFn = (id: number, step: number) => number;

/** Everything fixed about a run: the plan, the LRs, and the per-step loss coefficients. */
export interface StepEngine {
  model: Model;
  data: Dataset;
  setting: TrainConfig;
  spec: ParamSpec[];
  nParams: number;
  slots: StateSlot[];
  /** Batch ids per step, `[T][≤B]`, in the row order of the batch tensors. */
  plan: number[][];
  rowOrder: RowOrder;
  /** η_t per step, `[T]`. */
  lrs: number[];
  T: number;
  stepsPerEpoch: number;
  /** Steps at which each removed id is removed (`id → steps`). */
  removedAt: Map<number, Set<number>>;
  /** The batch-loss divisor D_t (0 = every sample removed under 'remaining': the step is skipped). */
  divisor(t: number): number;
  /** Per-sample coefficients `c [|B_t|]` (w/D as float32) and the divisor D_t. */
  coef(t: number): { c: Float32Array; D: number };
}

const OCC = ['all', 'first', 'last'];

/** Validates a removal and resolves it to `step → removed ids`. Ids that never occur remove nothing. */
export function resolveRemoval(plan: number[][], nTrain: number, removal: Removal): Map<number, Set<number>> {
  if (!removal || typeof removal !== 'object') throw new Error(`removal must be an object, got ${JSON.stringify(removal)}`);
  if (!Array.isArray(removal.ids)) throw new Error(`removal.ids must be an array of training ids, got ${JSON.stringify(removal.ids)}`);
  if (removal.divisor !== 'original' && removal.divisor !== 'remaining') {
    throw new Error(`removal.divisor must be 'original' or 'remaining', got '${removal.divisor}'`);
  }
  const occ = removal.occurrence;
  const isStep = typeof occ === 'object' && occ !== null && 'step' in occ;
  if (!isStep && !OCC.includes(occ as string)) {
    throw new Error(`removal.occurrence must be 'all' | 'first' | 'last' | {step}, got ${JSON.stringify(occ)}`);
  }
  if (isStep && !(Number.isInteger(occ.step) && occ.step >= 0 && occ.step < plan.length)) {
    throw new Error(`removal.occurrence.step must be an integer in [0, ${plan.length}), got ${occ.step}`);
  }
  const seen = new Set<number>();
  for (const id of removal.ids) {
    if (!Number.isInteger(id) || id < 0 || id >= nTrain) throw new Error(`removal id ${id} out of range [0, ${nTrain})`);
    if (seen.has(id)) throw new Error(`removal id ${id} listed twice`);
    seen.add(id);
  }
  const occurrences = new Map<number, number[]>();
  plan.forEach((b, t) => b.forEach((id) => seen.has(id) && (occurrences.get(id) ?? occurrences.set(id, []).get(id)!).push(t)));
  const byStep = new Map<number, Set<number>>();
  const add = (t: number, id: number) => (byStep.get(t) ?? byStep.set(t, new Set()).get(t)!).add(id);
  for (const id of removal.ids) {
    const steps = occurrences.get(id) ?? [];
    if (isStep) {
      if (!steps.includes(occ.step)) throw new Error(`removal id ${id} does not occur in batch ${occ.step} (it occurs at steps [${steps}])`);
      add(occ.step, id);
    } else if (steps.length) {
      if (occ === 'all') steps.forEach((t) => add(t, id));
      else add(occ === 'first' ? steps[0] : steps[steps.length - 1], id);
    }
  }
  return byStep;
}

/**
 * Validates and fixes a run's plan, LRs and loss coefficients.
 * @throws naming the bad setting field, removal id, or weight
 */
export function makeEngine(o: {
  model: Model;
  data: Dataset;
  setting: TrainConfig;
  weights?: WeightFn;
  removal?: Removal;
  rowOrder?: RowOrder;
}): StepEngine {
  const { model, data, setting, weights, removal } = o;
  const rowOrder = o.rowOrder ?? 'plan';
  if (rowOrder !== 'plan' && rowOrder !== 'reversed') throw new Error(`train: rowOrder must be 'plan' or 'reversed', got '${o.rowOrder}'`);
  if (!model || !Array.isArray(model.spec)) throw new Error('train: model must be a Model (see lib/models/types.ts)');
  if (!data || typeof data.n !== 'number') throw new Error('train: data must be a Dataset (see lib/data/dataset.ts)');
  checkDataset(data);
  validateTrainConfig(setting, data.n);
  if (weights !== undefined && typeof weights !== 'function') throw new Error(`train: weights must be a function (id, step) => number`);
  const drawn = planFor(setting, data.n);
  const plan = rowOrder === 'reversed' ? drawn.map((b) => [...b].reverse()) : drawn;
  const T = plan.length;
  const removedByStep = removal ? resolveRemoval(plan, data.n, removal) : new Map<number, Set<number>>();
  const removedAt = new Map<number, Set<number>>();
  removedByStep.forEach((ids, t) => ids.forEach((id) => (removedAt.get(id) ?? removedAt.set(id, new Set()).get(id)!).add(t)));
  const mode = removal?.divisor ?? 'original';
  const divisor = (t: number): number => {
    const ids = plan[t];
    const rem = removedByStep.get(t);
    return mode === 'remaining' && rem ? ids.length - ids.filter((i) => rem.has(i)).length : ids.length;
  };
  return {
    model,
    data,
    setting,
    spec: model.spec,
    nParams: numParams(model.spec),
    slots: stateSlots(setting.optimizer),
    plan,
    rowOrder,
    lrs: lrSequence(setting.schedule, T),
    T,
    stepsPerEpoch: stepsPerEpoch(setting, data.n),
    removedAt,
    divisor,
    coef(t: number) {
      const ids = plan[t];
      const rem = removedByStep.get(t);
      const D = divisor(t);
      const c = new Float32Array(ids.length);
      if (D === 0) return { c, D };
      ids.forEach((id, k) => {
        if (rem?.has(id)) return;
        const w = weights ? weights(id, t) : 1;
        if (typeof w !== 'number' || !Number.isFinite(w)) throw new Error(`weights(${id}, ${t}) returned ${w}; expected a finite number`);
        c[k] = w / D;
      });
      return { c, D };
    },
  };
}

/** What one step did. */
export interface StepInfo {
  step: number;
  total: number;
  epoch: number;
  /** L_t(θ_t) (0 when skipped). */
  loss: number;
  lr: number;
  divisor: number;
  /** True when every sample of the batch was removed under divisor 'remaining' (no update, see README). */
  skipped: boolean;
}

/**
 * A state that advances one step at a time. θ lives on the device (the forward and backward pass run there, one
 * download of loss + gradient per step); the optimizer state and the update live on the host (adamw.ts
 * `adamwStepF32`, sgd.ts `sgdStepF32`: the bits of the tensor updates, without their ~13 kernel launches per
 * parameter tensor). Owns its tensors: call {@link dispose}.
 */
export class Runner {
  private params: tf.Tensor[];
  /** θ (mirrored by `params`), the optimizer slots and the update counter, on the host. */
  private host: { theta: Float32Array; m?: Float32Array; v?: Float32Array; buf?: Float32Array | null; step: number };
  /** Index of the next step to apply (= index of the current state). */
  t: number;

  /**
   * @param state state t on the host (AdamW m/v may be omitted only at optStep 0: zeros)
   * @param t its step index
   */
  constructor(readonly engine: StepEngine, state: FlatState, t: number) {
    const { spec, nParams, setting } = engine;
    if (!(Number.isInteger(t) && t >= 0 && t <= engine.T)) throw new Error(`state step must be an integer in [0, ${engine.T}], got ${t}`);
    if (!(Number.isInteger(state.optStep) && state.optStep >= 0)) throw new Error(`state.optStep must be a non-negative integer, got ${state.optStep}`);
    const chk = (k: string, a: Float32Array | undefined) => {
      if (a && a.length !== nParams) throw new Error(`state.${k} has ${a.length} entries, the model has ${nParams} parameters`);
    };
    chk('theta', state.theta);
    chk('m', state.m);
    chk('v', state.v);
    chk('buf', state.buf);
    if (!(state.theta instanceof Float32Array)) throw new Error('state.theta must be a Float32Array');
    this.t = t;
    const theta = Float32Array.from(state.theta);
    if (setting.optimizer.kind === 'adamw') {
      if ((!state.m || !state.v) && state.optStep > 0) throw new Error(`state at step ${t} lacks AdamW moments m/v (only θ was recorded)`);
      this.host = { theta, m: state.m ? Float32Array.from(state.m) : new Float32Array(nParams), v: state.v ? Float32Array.from(state.v) : new Float32Array(nParams), step: state.optStep };
    } else {
      const needBuf = engine.slots.includes('buf') && state.optStep > 0;
      if (needBuf && !state.buf) throw new Error(`state at step ${t} lacks the SGD momentum buffer (only θ was recorded)`);
      this.host = { theta, buf: needBuf ? Float32Array.from(state.buf!) : null, step: state.optStep };
    }
    this.params = paramList(unflattenParams(theta, spec), spec);
  }

  /** Applies step t and advances to state t+1. @throws on a non-finite loss, gradient or parameter */
  step(): StepInfo {
    const e = this.engine;
    const t = this.t;
    if (t >= e.T) throw new Error(`Runner.step: already at the final state ${e.T}`);
    const ids = e.plan[t];
    const lr = e.lrs[t];
    const epoch = Math.floor(t / e.stepsPerEpoch);
    const { c, D } = e.coef(t);
    const info = { step: t, total: e.T, epoch, lr, divisor: D };
    if (D === 0) {
      // Empty batch: like a training loop that `continue`s — no optimizer call, schedule index advances.
      this.t++;
      return { ...info, loss: 0, skipped: true };
    }
    // Loss and gradient in one download.
    let flat: Float32Array = new Float32Array(0);
    tf.tidy(() => {
      const batch = makeBatch(e.data, ids);
      const cT = tf.tensor1d(c, 'float32');
      const f = (...ts: tf.Tensor[]) => tf.sum(tf.mul(e.model.perExampleLoss(paramRecord(ts, e.spec), batch), cT)) as tf.Scalar;
      const { value, grads } = tf.valueAndGrads(f)(this.params);
      const all = tf.concat([tf.reshape(value, [1]), ...grads.map((g) => tf.reshape(g, [-1]))]);
      flat = all.dataSync() as Float32Array; // a copy; not returned from the tidy, which would walk it
    });
    const loss = flat[0];
    const g = flat.subarray(1);
    const o = e.setting.optimizer;
    const h = this.host;
    let next: Runner['host'];
    if (o.kind === 'adamw') {
      const r = adamwStepF32(h.theta, g, h.m!, h.v!, { lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay }, h.step + 1);
      next = { ...r, step: h.step + 1 };
    } else {
      const r = sgdStepF32(h.theta, g, h.buf ?? null, { lr, momentum: o.momentum, dampening: o.dampening, weightDecay: o.weightDecay, nesterov: o.nesterov });
      next = { theta: r.theta, buf: r.buf, step: h.step + 1 };
    }
    if (!Number.isFinite(loss) || !allFinite(g) || !allFinite(next.theta)) {
      const shown = ids.slice(0, 8).join(', ') + (ids.length > 8 ? ', …' : '');
      throw new Error(
        `training diverged at step ${t} (epoch ${epoch}, lr ${lr}, batch ids [${shown}]): ` +
          (Number.isFinite(loss) ? 'non-finite gradient or updated parameters' : `loss = ${loss}`),
      );
    }
    const params = paramList(unflattenParams(next.theta, e.spec), e.spec);
    tf.dispose(this.params);
    this.params = params;
    this.host = next;
    this.t++;
    return { ...info, loss, skipped: false };
  }

  /** Current parameters as a record (owned by the runner: do not dispose). */
  paramsRecord() {
    return paramRecord(this.params, this.engine.spec);
  }

  /** The current state (copies); `thetaOnly` skips the optimizer slots. */
  flat(thetaOnly = false): FlatState {
    const h = this.host;
    const s: FlatState = { theta: Float32Array.from(h.theta), optStep: h.step };
    if (!thetaOnly) {
      for (const k of this.engine.slots) {
        const a = h[k];
        if (a) s[k] = Float32Array.from(a);
      }
    }
    return s;
  }

  /** Releases the device tensors. */
  dispose(): void {
    tf.dispose(this.params);
    this.params = [];
  }
}

function allFinite(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/** True when `s` holds every optimizer slot needed to continue training from it. */
export function isFullState(s: FlatState, slots: StateSlot[]): boolean {
  return slots.every((k) => (k === 'buf' && s.optStep === 0) || s[k] !== undefined);
}
