/**
 * The optimizer as part of a training setting: JSON config, validation, state creation, one update,
 * and the names of the state slots stored beside θ in a trajectory.
 *
 * @module
 */
import { tf } from '../runtime/tf.ts';
import type { Params } from '../models/types.ts';
import { adamwInit, adamwStep, checkAdamWHyper, type AdamWState } from './adamw.ts';
import { checkSgdHyper, sgdInit, sgdStep, type SgdState } from './sgd.ts';

/** AdamW config (the LR comes from the schedule). */
export interface AdamWSetting {
  kind: 'adamw';
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** SGD config (the LR comes from the schedule). */
export interface SgdSetting {
  kind: 'sgd';
  momentum: number;
  weightDecay: number;
  dampening?: number;
  nesterov?: boolean;
}

/** Optimizer config of a setting (plain JSON). */
export type OptimizerSetting = AdamWSetting | SgdSetting;

/** Optimizer state as tensors, tagged by kind. */
export type OptState = ({ kind: 'adamw' } & AdamWState) | ({ kind: 'sgd' } & SgdState);

/** Per-parameter state slots stored after θ, in this order (`buf` only for SGD with momentum). */
export type StateSlot = 'm' | 'v' | 'buf';

/** Validates an optimizer config; throws naming the field. */
export function validateOptimizer(o: OptimizerSetting): void {
  if (!o || typeof o !== 'object') throw new Error(`optimizer must be an object, got ${JSON.stringify(o)}`);
  if (o.kind === 'adamw') checkAdamWHyper({ lr: 0, ...o }, 'optimizer (adamw)');
  else if (o.kind === 'sgd') checkSgdHyper({ lr: 0, ...o }, 'optimizer (sgd)');
  else throw new Error(`optimizer.kind must be 'adamw' or 'sgd', got '${(o as { kind: unknown }).kind}'`);
}

/** The state slots of this optimizer: AdamW → [m, v]; SGD with momentum → [buf]; plain SGD → []. */
export function stateSlots(o: OptimizerSetting): StateSlot[] {
  if (o.kind === 'adamw') return ['m', 'v'];
  return o.momentum !== 0 ? ['buf'] : [];
}

/** Fresh state (step 0) for `params` (new tensors, caller owns them). */
export function initOptState(o: OptimizerSetting, params: Params): OptState {
  return o.kind === 'adamw' ? { kind: 'adamw', ...adamwInit(params) } : { kind: 'sgd', ...sgdInit() };
}

/** One update with LR `lr` (pure; call inside `tf.tidy`). */
export function optimizerStep(
  o: OptimizerSetting,
  params: Params,
  grads: Params,
  state: OptState,
  lr: number,
): { params: Params; state: OptState } {
  if (o.kind === 'adamw') {
    if (state.kind !== 'adamw') throw new Error(`optimizerStep: state kind '${state.kind}' does not match optimizer 'adamw'`);
    const r = adamwStep(params, grads, state, { lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay });
    return { params: r.params, state: { kind: 'adamw', ...r.state } };
  }
  if (state.kind !== 'sgd') throw new Error(`optimizerStep: state kind '${state.kind}' does not match optimizer 'sgd'`);
  const r = sgdStep(params, grads, state, { lr, momentum: o.momentum, dampening: o.dampening, weightDecay: o.weightDecay, nesterov: o.nesterov });
  return { params: r.params, state: { kind: 'sgd', ...r.state } };
}

/** The tensors of a state slot (`undefined` when absent, e.g. SGD's buffer before the first update). */
export function slotTensors(state: OptState, slot: StateSlot): Params | undefined {
  if (state.kind === 'adamw') return slot === 'm' ? state.m : slot === 'v' ? state.v : undefined;
  return slot === 'buf' ? state.buf ?? undefined : undefined;
}

/** All tensors held by a state (for disposal / keeping). */
export function optStateTensors(state: OptState): tf.Tensor[] {
  if (state.kind === 'adamw') return [...Object.values(state.m), ...Object.values(state.v)];
  return state.buf ? Object.values(state.buf) : [];
}
