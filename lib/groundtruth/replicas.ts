/**
 * R training runs of the MLP family advanced together in one process ("vectorised replicas").
 *
 * Every parameter is stacked along a replica axis. Layouts (spec names kept, so the optimizer's
 * record-based step applies unchanged):
 *   l0.w `[in, R·h1]`  (column block r = replica r: the first layer of all replicas over the shared
 *                       batch is ONE matMul `x [B, in] @ l0.w → [B, R·h1]`)
 *   l0.b `[R·h1]`
 *   l{i}.w `[R, in_i, out_i]`, l{i}.b `[R, 1, out_i]` for i ≥ 1 (batched matMuls `[R, B, in] @ [R, in, out]`)
 * The loss is Σ_r Σ_k c_{r,k} ℓ_k(θ_r), so its gradient w.r.t. the stacked parameters is the stack of the
 * per-replica gradients (replicas share no parameter). AdamW and SGD are elementwise with scalar
 * hyper-parameters, so {@link optimizerStep} on the stacked tensors applies exactly the trainer's formulas to
 * every replica (same k, same bias corrections, same decay). The float32 rounding is not the trainer's
 * (different matMul shapes), which is why TSLOO compares each replica with a control replica.
 *
 * @module
 */
import { tf } from '../runtime/tf.ts';
import { crossEntropyRows, geluTanh, repeat } from '../models/nn.ts';
import type { MlpConfig } from '../models/mlp.ts';
import type { Model, Params } from '../models/types.ts';
import { paramList, paramRecord, specOffsets } from '../models/params.ts';
import { type Dataset } from '../data/dataset.ts';
import { makeBatch } from '../data/batch.ts';
import { optimizerStep, optStateTensors, slotTensors, type OptState } from '../optim/optimizer.ts';
import type { TrainConfig } from '../train/setting.ts';
import type { FlatState } from '../train/trajectory.ts';
import { isFastMlp } from '../autodiff/mlp-fast.ts';
import { QUERY_CHUNK } from './common.ts';

/** True when `model` is a plain MLP that {@link MlpReplicas} can stack. */
export function canVectorise(model: Model): boolean {
  return isFastMlp(model);
}

function act(kind: MlpConfig['activation'], x: tf.Tensor): tf.Tensor {
  if (kind === 'relu') return tf.relu(x);
  if (kind === 'tanh') return tf.tanh(x);
  return geluTanh(x);
}

/** R stacked MLP training runs on the device. Owns its tensors: call {@link dispose}. */
export class MlpReplicas {
  private params: tf.Tensor[];
  private opt: OptState;
  private readonly sizes: number[];
  private readonly L: number;

  /**
   * @param state the common start state (host, full: θ and the optimizer slots)
   * @param R number of replicas (≥ 1)
   */
  constructor(readonly model: Model, readonly setting: TrainConfig, state: FlatState, readonly R: number) {
    if (!canVectorise(model)) throw new Error(`MlpReplicas: model family '${model.family}' is not a plain MLP`);
    if (!(Number.isInteger(R) && R >= 1)) throw new Error(`MlpReplicas: R must be a positive integer, got ${R}`);
    this.sizes = (model.config as MlpConfig).sizes;
    this.L = this.sizes.length - 1;
    this.params = this.tile(state.theta);
    const o = setting.optimizer;
    if (o.kind === 'adamw') {
      if ((!state.m || !state.v) && state.optStep > 0) throw new Error('MlpReplicas: start state lacks AdamW moments m/v');
      const z = new Float32Array(state.theta.length);
      this.opt = {
        kind: 'adamw',
        m: paramRecord(this.tile(state.m ?? z), model.spec),
        v: paramRecord(this.tile(state.v ?? z), model.spec),
        step: state.optStep,
      };
    } else {
      const needBuf = o.momentum !== 0 && state.optStep > 0;
      if (needBuf && !state.buf) throw new Error('MlpReplicas: start state lacks the SGD momentum buffer');
      this.opt = { kind: 'sgd', buf: needBuf ? paramRecord(this.tile(state.buf!), model.spec) : null, step: state.optStep };
    }
  }

  /** A flat `[P]` vector → stacked tensors in the layouts of the module doc (new tensors). */
  private tile(flat: Float32Array): tf.Tensor[] {
    const { spec } = this.model;
    const off = specOffsets(spec);
    const R = this.R;
    return tf.tidy(() =>
      spec.map((s, j) => {
        const p = tf.tensor(flat.subarray(off[j], off[j + 1]), s.shape, 'float32');
        const layer = j >> 1;
        const isW = j % 2 === 0;
        if (layer === 0) return isW ? repeat(p, R, 1) : repeat(p, R, 0);
        return isW ? repeat(tf.expandDims(p, 0), R, 0) : repeat(tf.reshape(p, [1, 1, s.shape[0]]), R, 0);
      })
    );
  }

  /** Stacked logits `[R, N, K]` of inputs `x [N, ...]` (call inside tidy). */
  private logits(ps: tf.Tensor[], x: tf.Tensor): tf.Tensor {
    const N = x.shape[0];
    const x2 = x.rank === 2 ? x : tf.reshape(x, [N, -1]);
    const h1 = this.sizes[1];
    const z0 = tf.add(tf.matMul(x2, ps[0]), ps[1]); // [N, R·h1]
    const a0 = this.L > 1 ? act((this.model.config as MlpConfig).activation, z0) : z0;
    let h = tf.transpose(tf.reshape(a0, [N, this.R, h1]), [1, 0, 2]); // [R, N, h1]
    for (let i = 1; i < this.L; i++) {
      const z = tf.add(tf.matMul(h, ps[2 * i]), ps[2 * i + 1]);
      h = i < this.L - 1 ? act((this.model.config as MlpConfig).activation, z) : z;
    }
    return h;
  }

  /** Per-example losses `[R·N]` (row r·N + k = ℓ_k(θ_r)) of a batch (call inside tidy). */
  private rowLosses(ps: tf.Tensor[], x: tf.Tensor, y: tf.Tensor): tf.Tensor1D {
    const N = x.shape[0];
    const K = this.sizes[this.L];
    return crossEntropyRows(tf.reshape(this.logits(ps, x), [this.R * N, K]), repeat(tf.reshape(y, [-1]), this.R, 0));
  }

  /**
   * One training step of every replica on the shared batch `ids`.
   * @param c coefficients `[R·|ids|]` float32, row r = replica r's w/D_t (0 for a removed sample)
   * @param lr η_t
   * @returns Σ_r L_r (the summed batch losses before the step)
   * @throws naming the step when a loss, gradient or updated parameter is not finite
   */
  step(data: Dataset, ids: number[], c: Float32Array, lr: number, t: number): number {
    const B = ids.length;
    if (c.length !== this.R * B) throw new Error(`MlpReplicas.step: c has ${c.length} entries, expected R·B = ${this.R}·${B}`);
    const spec = this.model.spec;
    let next: { params: tf.Tensor[]; opt: OptState } | undefined;
    let stats: number[] = [];
    tf.tidy(() => {
      const batch = makeBatch(data, ids);
      const cT = tf.tensor1d(c, 'float32');
      const f = (...ts: tf.Tensor[]) => tf.sum(tf.mul(this.rowLosses(ts, batch.x, batch.y), cT)) as tf.Scalar;
      const { value, grads } = tf.valueAndGrads(f)(this.params);
      const r = optimizerStep(this.setting.optimizer, paramRecord(this.params, spec), paramRecord(grads, spec), this.opt, lr);
      const np = paramList(r.params, spec);
      // 0·x is NaN exactly when x is not finite. Only θ' is probed (half the trainer's cost): a non-finite
      // gradient always reaches θ' through m, v or the SGD direction (Inf/Inf and 0·Inf are NaN).
      let probe: tf.Tensor = tf.scalar(0);
      for (const x of np) probe = tf.add(probe, tf.sum(tf.mul(x, 0)));
      stats = Array.from(tf.stack([value, probe]).dataSync());
      for (const x of [...np, ...optStateTensors(r.state)]) tf.keep(x);
      next = { params: np, opt: r.state };
    });
    if (!Number.isFinite(stats[0]) || !Number.isFinite(stats[1])) {
      tf.dispose([...next!.params, ...optStateTensors(next!.opt)]);
      throw new Error(`vectorised replicas diverged at step ${t} (lr ${lr}): ` + (Number.isFinite(stats[0]) ? 'non-finite gradient or parameters' : `summed loss = ${stats[0]}`));
    }
    const keep = new Set<tf.Tensor>([...next!.params, ...optStateTensors(next!.opt)]);
    tf.dispose([...this.params, ...optStateTensors(this.opt)].filter((x) => !keep.has(x)));
    this.params = next!.params;
    this.opt = next!.opt;
    return stats[0];
  }

  /**
   * Per-query losses of every replica, float32 values.
   * @returns Float32Array `[R·nQuery]`, entry r·nQuery + q = ℓ_q(θ_r)
   */
  queryLosses(queries: Dataset, chunk = QUERY_CHUNK): Float32Array {
    const n = queries.n;
    const out = new Float32Array(this.R * n);
    for (let s = 0; s < n; s += chunk) {
      const m = Math.min(chunk, n - s);
      const ids = Array.from({ length: m }, (_, k) => s + k);
      const l = tf.tidy(() => {
        const b = makeBatch(queries, ids);
        return this.rowLosses(this.params, b.x, b.y);
      });
      try {
        const v = l.dataSync() as Float32Array;
        for (let r = 0; r < this.R; r++) out.set(v.subarray(r * m, (r + 1) * m), r * n + s);
      } finally {
        l.dispose();
      }
    }
    return out;
  }

  /** Replica r's parameters as a plain record in the model's shapes (new tensors, caller disposes). */
  replicaParams(r: number): Params {
    return paramRecord(this.unstack(this.params, r), this.model.spec);
  }

  /** Replica r's state downloaded to the host (θ and the optimizer slots present). */
  replicaState(r: number): FlatState {
    const flat = (ts: tf.Tensor[]) => {
      const parts = this.unstack(ts, r);
      try {
        const off = specOffsets(this.model.spec);
        const out = new Float32Array(off[off.length - 1]);
        parts.forEach((p, j) => out.set(p.dataSync() as Float32Array, off[j]));
        return out;
      } finally {
        tf.dispose(parts);
      }
    };
    const s: FlatState = { theta: flat(this.params), optStep: this.opt.step };
    for (const k of ['m', 'v', 'buf'] as const) {
      const p = slotTensors(this.opt, k);
      if (p) s[k] = flat(paramList(p, this.model.spec));
    }
    return s;
  }

  private unstack(ts: tf.Tensor[], r: number): tf.Tensor[] {
    if (!(Number.isInteger(r) && r >= 0 && r < this.R)) throw new Error(`MlpReplicas: replica ${r} out of range [0, ${this.R})`);
    const { spec } = this.model;
    return tf.tidy(() =>
      spec.map((s, j) => {
        const x = ts[j];
        if (j === 0) {
          const [i, o] = s.shape;
          return tf.reshape(tf.slice(tf.reshape(x, [i, this.R, o]), [0, r, 0], [i, 1, o]), s.shape);
        }
        if (j === 1) return tf.slice(x, [r * s.shape[0]], [s.shape[0]]);
        return tf.reshape(tf.slice(x, r, 1), s.shape);
      })
    );
  }

  /** Releases the device tensors. */
  dispose(): void {
    tf.dispose([...this.params, ...optStateTensors(this.opt)]);
    this.params = [];
  }
}
