/**
 * The model contract: a model is a set of pure functions of a parameter record.
 *
 * Pure functions (no tf.LayersModel, no hidden state) are what make `tf.grads`, double backprop (HVPs),
 * per-sample gradients and counterfactual replays straightforward.
 *
 * @module
 */
import type { tf } from '../runtime/tf.ts';
import type { Rng } from '../runtime/rng.ts';

/** Model families the suite ships. */
export type ModelFamily = 'mlp' | 'cnn' | 'gpt2' | 'llama';

/** Name and shape of one parameter tensor; a model's `spec` fixes the canonical order. */
export interface ParamSpec {
  name: string;
  shape: number[];
}

/** Parameter record keyed by name; iterate in `spec` order, never object order. */
export type Params = Record<string, tf.Tensor>;

/**
 * A mini-batch on the device.
 * - classification: `x` `[B, ...inputShape]` float32, `y` `[B]` int32.
 * - language modelling: `x` `[B, T]` int32 token ids, `y` `[B, T]` int32 next-token targets,
 *   `mask` `[B, T]` float32 (1 = this target counts in the loss; prompt and padding positions are 0).
 */
export interface Batch {
  x: tf.Tensor;
  y: tf.Tensor;
  mask?: tf.Tensor;
}

/** A differentiable model as pure functions of its parameters. */
export interface Model<C = unknown> {
  readonly family: ModelFamily;
  readonly config: C;
  /** Parameter names and shapes in canonical order (flattening, storage and HVPs use this order). */
  readonly spec: ParamSpec[];
  /** Deterministic initial parameters drawn from `rng`. */
  init(rng: Rng): Params;
  /** Logits: `[B, classes]` for classifiers, `[B, T, vocab]` for language models. */
  logits(params: Params, x: tf.Tensor): tf.Tensor;
  /**
   * Per-example loss `[B]`: softmax cross-entropy for classifiers; for language models the mean
   * next-token cross-entropy over the example's positions with `mask = 1`.
   */
  perExampleLoss(params: Params, batch: Batch): tf.Tensor1D;
}

/** Total number of scalar parameters of a spec. */
export function numParams(spec: ParamSpec[]): number {
  return spec.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
}
