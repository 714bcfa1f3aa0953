/**
 * Per-sample gradients g_i = ∇_θ ℓ_i(θ) (unweighted per-example losses) and per-sample dot products
 * ⟨g_i, u_j⟩. Generic path: a loop of B single-example gradients (every family). Fast path: the
 * MLP outer-product / ghost-product trick of mlp-fast.ts.
 *
 * @module
 */
import { tf } from '../runtime/tf.ts';
import { paramList, paramRecord } from '../models/params.ts';
import { checkParams } from '../models/nn.ts';
import { numParams, type Batch, type Model, type Params } from '../models/types.ts';
import { batchSize, sliceExample } from './batch.ts';
import { gradsOf } from './tape.ts';
import { checkVector, tidyFlat, type FlatVec } from './vec.ts';
import { isFastMlp, mlpPerSampleDots, mlpPerSampleGrads } from './mlp-fast.ts';

/** `auto`: fast path when the model has one, else the loop; `loop` / `fast` force a path. */
export type PerSampleMethod = 'auto' | 'loop' | 'fast';

/** Options of the per-sample functions. */
export interface PerSampleOptions {
  method?: PerSampleMethod;
}

/** Whether `model` has a per-sample fast path (currently: the plain MLP). */
export function hasFastPerSample(model: Model): boolean {
  return isFastMlp(model);
}

function useFast(model: Model, method: PerSampleMethod | undefined, where: string): boolean {
  const m = method ?? 'auto';
  if (!['auto', 'loop', 'fast'].includes(m)) throw new Error(`${where}: unknown method '${m}' (auto | loop | fast)`);
  if (m === 'fast' && !isFastMlp(model)) {
    throw new Error(`${where}: method 'fast' has no implementation for model family '${model.family}' (use 'loop' or 'auto')`);
  }
  return m === 'fast' || (m === 'auto' && isFastMlp(model));
}

/** Gradient of ℓ_i for example i, downloaded (own tidy scope). */
function exampleGrad(model: Model, params: Params, batch: Batch, i: number): Float32Array {
  return tidyFlat(() => {
    const one = sliceExample(batch, i);
    const list = paramList(params, model.spec);
    const f = () => tf.sum(model.perExampleLoss(paramRecord(list, model.spec), one));
    return gradsOf(f, list).grads;
  });
}

/**
 * Per-sample gradients of the unweighted per-example losses ℓ_i at θ.
 * @returns Float32Array `[B·p]`, row i = ∇ℓ_i in spec order
 */
export function perSampleGrads(model: Model, params: Params, batch: Batch, opts: PerSampleOptions = {}): Float32Array {
  checkParams(model.spec, params, 'perSampleGrads');
  const B = batchSize(batch, 'perSampleGrads');
  if (useFast(model, opts.method, 'perSampleGrads')) return mlpPerSampleGrads(model, params, batch);
  const p = numParams(model.spec);
  const out = new Float32Array(B * p);
  for (let i = 0; i < B; i++) out.set(exampleGrad(model, params, batch, i), i * p);
  return out;
}

/**
 * Per-sample dot products ⟨∇ℓ_i, u_j⟩.
 * @param U `[k·p]`, row j = u_j
 * @returns Float64Array `[B·k]`, entry (i, j) at index i·k + j. Loop path: float64 dots of float32
 *   gradients; fast path: float32 ghost products on the device.
 */
export function perSampleDots(model: Model, params: Params, batch: Batch, U: FlatVec, opts: PerSampleOptions = {}): Float64Array {
  checkParams(model.spec, params, 'perSampleDots');
  const B = batchSize(batch, 'perSampleDots');
  const p = numParams(model.spec);
  const k = checkVector('perSampleDots', 'U', U, p, true);
  if (useFast(model, opts.method, 'perSampleDots')) return mlpPerSampleDots(model, params, batch, U, k);
  const out = new Float64Array(B * k);
  for (let i = 0; i < B; i++) {
    const g = exampleGrad(model, params, batch, i);
    for (let j = 0; j < k; j++) {
      let s = 0;
      const o = j * p;
      for (let q = 0; q < p; q++) s += g[q] * U[o + q];
      out[i * k + j] = s;
    }
  }
  return out;
}
