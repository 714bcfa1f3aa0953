/**
 * The weighted batch loss L(θ) = (1/D) Σ_i w_i ℓ_i(θ) (the trainer's exact form), its gradient, and
 * query gradients ∇ℓ(z_q; θ).
 *
 * ℓ_i is `model.perExampleLoss` (softmax CE for classifiers; masked mean next-token CE for LMs).
 * Defaults: w_i = 1, D = B, i.e. the mean loss.
 *
 * @module
 */
import { tf } from '../runtime/tf.ts';
import { paramList, paramRecord } from '../models/params.ts';
import { checkParams } from '../models/nn.ts';
import type { Batch, Model, Params } from '../models/types.ts';
import { batchSize, resolveWeights, type LossOptions } from './batch.ts';
import { gradsOf } from './tape.ts';
import { tidyFlat } from './vec.ts';
import { perSampleGrads } from './persample.ts';

export type { LossOptions } from './batch.ts';

/**
 * A closure θ-list ↦ L(θ) for use inside `tf.tidy` (it creates the weight tensor in the current scope).
 * @returns function of the parameter tensors in spec order, giving a scalar
 */
export function lossClosure(model: Model, batch: Batch, opts: LossOptions = {}, where = 'loss'): (list: tf.Tensor[]) => tf.Scalar {
  const B = batchSize(batch, where);
  const { w, D, unit } = resolveWeights(where, B, opts);
  const wt = unit ? null : tf.tensor1d(Float32Array.from(w), 'float32');
  return (list) => {
    const l = model.perExampleLoss(paramRecord(list, model.spec), batch);
    if (l.rank !== 1 || l.shape[0] !== B) {
      throw new Error(`${where}: model.perExampleLoss returned shape [${l.shape}], expected [${B}]`);
    }
    return tf.div(wt ? tf.sum(tf.mul(l, wt)) : tf.sum(l), D) as tf.Scalar;
  };
}

/**
 * L(θ) = (1/D) Σ_i w_i ℓ_i(θ) as a scalar tensor the caller owns (dispose it).
 * @param weights `[B]` per-example weights (default 1)
 * @param divisor D > 0 (default B)
 */
export function weightedBatchLoss(
  model: Model,
  params: Params,
  batch: Batch,
  weights?: Float32Array | Float64Array,
  divisor?: number,
): tf.Scalar {
  checkParams(model.spec, params, 'weightedBatchLoss');
  return tf.tidy(() => lossClosure(model, batch, { weights, divisor }, 'weightedBatchLoss')(paramList(params, model.spec)));
}

/**
 * Loss value and gradient ∇L(θ) of the weighted batch loss.
 * @returns `loss` (float32 value as a number), `grad` Float32Array `[p]` in spec order
 */
export function lossAndGrad(model: Model, params: Params, batch: Batch, opts: LossOptions = {}): { loss: number; grad: Float32Array } {
  checkParams(model.spec, params, 'lossAndGrad');
  let loss = NaN;
  const grad = tidyFlat(() => {
    const f = lossClosure(model, batch, opts, 'lossAndGrad');
    const list = paramList(params, model.spec);
    const { value, grads } = gradsOf(() => f(list), list);
    loss = value.dataSync()[0];
    return grads;
  });
  return { loss, grad };
}

/**
 * Query gradients ∇_θ ℓ(z_q; θ) of each example of `batch` (unweighted, undivided per-example losses).
 * Same as {@link perSampleGrads}; named for its role in attribution scores.
 * @returns Float32Array `[B·p]`, row q = ∇ℓ(z_q; θ)
 */
export function queryGrads(model: Model, params: Params, batch: Batch): Float32Array {
  return perSampleGrads(model, params, batch);
}
