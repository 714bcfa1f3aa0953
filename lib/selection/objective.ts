/**
 * The selection objective and the evaluation of a selected run.
 *
 * The validation objective is V(θ) = (1/n_val) Σ_{v∈val} ℓ_v(θ), the mean per-example loss over a
 * validation set. Look-ahead scores read the removal effect with ∇V, so the whole validation set is
 * one vector (one adjoint per read-out point, not one per validation example).
 *
 * @module
 */
import { tf } from '../runtime/tf.ts';
import type { Dataset } from '../data/dataset.ts';
import { disposeBatch, makeBatch } from '../data/batch.ts';
import { numParams, type Model, type Params } from '../models/types.ts';
import { lossAndGrad } from '../autodiff/loss.ts';

function chunks(n: number, size: number): number[][] {
  if (!(Number.isInteger(size) && size > 0)) throw new Error(`chunk size must be a positive integer, got ${size}`);
  const out: number[][] = [];
  for (let s = 0; s < n; s += size) out.push(Array.from({ length: Math.min(size, n - s) }, (_, i) => s + i));
  return out;
}

/**
 * ∇V(θ), the gradient of the mean validation loss, accumulated over chunks in float64 (chunk c
 * contributes (n_c/n)·∇(mean loss of c)).
 * @param chunk examples per gradient call (memory bound for large models)
 * @returns Float64Array `[p]`
 */
export function validationGrad(model: Model, params: Params, val: Dataset, chunk = 256): Float64Array {
  if (val.n === 0) throw new Error(`validationGrad: the validation set '${val.name}' is empty`);
  const out = new Float64Array(numParams(model.spec));
  for (const ids of chunks(val.n, chunk)) {
    const b = makeBatch(val, ids);
    try {
      const g = lossAndGrad(model, params, b).grad;
      const w = ids.length / val.n;
      for (let i = 0; i < g.length; i++) out[i] += w * g[i];
    } finally {
      disposeBatch(b);
    }
  }
  return out;
}

/** Loss and accuracy of a model on a dataset, with the per-example values (for paired bootstrap CIs). */
export interface Evaluation {
  /** Mean per-example loss. */
  loss: number;
  /** Mean per-example accuracy (classifiers: argmax = label; LMs: masked next-token accuracy per example). */
  accuracy: number;
  /** `[n]` per-example loss. */
  losses: number[];
  /** `[n]` per-example accuracy in [0, 1]. */
  correct: number[];
}

/**
 * Evaluates `params` on every example of `ds` (in chunks; no tensors left behind).
 * @throws on an empty dataset
 */
export function evaluate(model: Model, params: Params, ds: Dataset, chunk = 256): Evaluation {
  if (ds.n === 0) throw new Error(`evaluate: dataset '${ds.name}' is empty`);
  const losses: number[] = [];
  const correct: number[] = [];
  for (const ids of chunks(ds.n, chunk)) {
    let l: number[] = [];
    let a: number[] = [];
    tf.tidy(() => {
      const b = makeBatch(ds, ids);
      const loss = model.perExampleLoss(params, b);
      const hit = tf.cast(tf.equal(tf.argMax(model.logits(params, b.x), -1), b.y), 'float32');
      let acc: tf.Tensor;
      if (hit.rank === 1) acc = hit;
      else {
        // LM: mean over the positions that count (mask, else all), per example.
        const m = b.mask ?? tf.onesLike(hit);
        acc = tf.div(tf.sum(tf.mul(hit, m), 1), tf.maximum(tf.sum(m, 1), 1));
      }
      // Assigned, not returned: tidy would walk a returned array element by element.
      l = Array.from(loss.dataSync());
      a = Array.from(acc.dataSync());
    });
    losses.push(...l);
    correct.push(...a);
  }
  const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
  return { loss: mean(losses), accuracy: mean(correct), losses, correct };
}
