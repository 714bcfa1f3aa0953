/**
 * In-suite pretraining of a base model, cached on disk and resumable.
 *
 * A language-model setting whose attributed run is *continual* pretraining needs a base model that has
 * already learned the domain. At CPU scale there is no public checkpoint for our small configurations, so
 * the base model is trained here, once, on text disjoint from the attribution data, and cached:
 *
 *     <cacheDir>/pretrain/<name>-<key16>/
 *       run/                the trajectory store (train() with a store: resumable after a kill)
 *       params.safetensors  θ_T under our parameter names (models/safetensors.ts saveParams)
 *       pretrain.json       descriptor + training curve; written last, so its presence marks a finished cache
 *
 * The key is the sha256 of everything that determines θ_T: the model family / config / spec, the
 * training setting, the bytes of the training (and evaluation) data, the caller's `describe` JSON (corpus,
 * tokenizer, vocabulary map …) and the tfjs backend (runs are bit-reproducible only within one backend).
 * A second call with the same key reads the files back and trains nothing.
 *
 * @module
 */
import { cacheKey } from '../cache/key.ts';
import fs from 'node:fs';
import path from 'node:path';
import { tf } from '../runtime/tf.ts';
import { runtimeInfo, engineKey } from '../runtime/backend.ts';
import { datasetFingerprint, type Dataset } from '../data/dataset.ts';
import { makeBatch } from '../data/batch.ts';
import type { Model, Params } from '../models/types.ts';
import { flattenParams, disposeParams, unflattenParams } from '../models/params.ts';
import { loadParams, saveParams } from '../models/safetensors.ts';
import { train } from '../train/trainer.ts';
import { type TrainConfig } from '../train/setting.ts';
import { quarantine, readCachedJson, sha256, writeVerified } from '../cache/integrity.ts';
import { warn } from '../runtime/log.ts';

/** What to pretrain. */
export interface PretrainSpec {
  /** Short name used in the cache directory, e.g. `gpt2-full`. */
  name: string;
  model: Model;
  /** Training examples (e.g. packed text blocks). */
  data: Dataset;
  setting: TrainConfig;
  /** Held-out examples whose mean loss is recorded every `evalEvery` steps (the curve). */
  evalData?: Dataset;
  /** Default: about 10 points over the run. */
  evalEvery?: number;
  /** Caller's JSON naming the data's provenance (corpus, tokenizer, vocabulary map); part of the key. */
  describe: unknown;
  /** Stored-state stride of the resumable store (default 25): resume granularity vs disk. */
  checkpointEvery?: number;
}

/** Where and how. */
export interface PretrainOptions {
  /** Cache root (default `results/cache`); files go to `<cacheDir>/pretrain/<name>-<key16>/`. */
  cacheDir?: string;
  /** Called after every training step (not called on a cache hit). */
  onStep?: (step: number, total: number, loss: number) => void;
}

/** The training curve of a pretraining run. */
export interface PretrainCurve {
  steps: number;
  /** Batch loss L_t(θ_t) per step `[steps]`. */
  losses: number[];
  /** Mean held-out loss at θ_t (empty without `evalData`). */
  evals: { t: number; loss: number }[];
  /** Wall-clock training seconds (of the call that finished the run; resumed calls add up only their part). */
  seconds: number;
}

/** The cached result. */
export interface PretrainResult {
  dir: string;
  key: string;
  /** True when read back from the cache (no training in this call). */
  cached: boolean;
  /** θ_T flattened in `model.spec` order `[nParams]`. */
  theta: Float32Array;
  curve: PretrainCurve;
}


/** Mean per-example loss of `data` at `params` (inside the caller's tidy), in chunks of 64. */
function meanLoss(model: Model, params: Params, data: Dataset): number {
  let sum = 0;
  for (let s = 0; s < data.n; s += 64) {
    const ids = Array.from({ length: Math.min(64, data.n - s) }, (_, i) => s + i);
    sum += tf.tidy(() => tf.sum(model.perExampleLoss(params, makeBatch(data, ids))).dataSync()[0]);
  }
  return sum / data.n;
}

/**
 * Pretrains (or resumes, or loads) the base model of `spec`.
 * @returns θ_T `[nParams]` and the training curve
 */
export async function pretrain(spec: PretrainSpec, o: PretrainOptions = {}): Promise<PretrainResult> {
  const { model, data, setting } = spec;
  const key = cacheKey({
    format: 'faithful-tda/pretrain',
    version: 1,
    name: spec.name,
    family: model.family,
    config: model.config,
    spec: model.spec,
    setting,
    data: datasetFingerprint(data),
    evalData: spec.evalData ? datasetFingerprint(spec.evalData) : null,
    evalEvery: spec.evalEvery ?? null,
    describe: spec.describe,
    backend: engineKey(),
  }, 64);
  const dir = path.join(o.cacheDir ?? 'results/cache', 'pretrain', `${spec.name}-${key.slice(0, 16)}`);
  const metaFile = path.join(dir, 'pretrain.json');
  const paramFile = path.join(dir, 'params.safetensors');
  const meta = readCachedJson<{ key: string; thetaSha256?: string; curve: PretrainCurve }>(metaFile, 'pretrained θ₀ record', (m) =>
    m.key !== key ? `holds another pretraining (key ${String(m.key).slice(0, 12)}…)` : typeof m.thetaSha256 !== 'string' ? 'records no sha256 of θ₀ (written before integrity records)' : undefined,
  );
  if (meta && fs.existsSync(paramFile)) {
    const params = loadParams(paramFile, model.spec);
    const theta = flattenParams(params, model.spec);
    disposeParams(params);
    if (sha256(new Uint8Array(theta.buffer, theta.byteOffset, theta.byteLength)) === meta.thetaSha256) return { dir, key, cached: true, theta, curve: meta.curve };
    const moved = quarantine(paramFile);
    warn(`${paramFile}: θ₀ does not match the sha256 in pretrain.json (damaged or edited); moved it to ${moved} and rebuilding it from the stored pretraining run`);
  }

  fs.mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  const T = Math.min(setting.maxSteps ?? Infinity, setting.epochs * Math.ceil(data.n / setting.batchSize));
  const evalData = spec.evalData;
  const traj = await train({
    model,
    data,
    setting,
    store: path.join(dir, 'run'),
    checkpointEvery: spec.checkpointEvery ?? 25,
    evalFn: evalData ? (p) => meanLoss(model, p, evalData) : undefined,
    evalEvery: evalData ? (spec.evalEvery ?? Math.max(1, Math.round(T / 10))) : undefined,
    onStep: o.onStep ? (i) => o.onStep!(i.step, i.total, i.loss) : undefined,
  });
  const theta = traj.states.final().theta.slice();
  const params = unflattenParams(theta, model.spec);
  try {
    saveParams(paramFile, model.spec, params, { format: 'faithful-tda/pretrain', key });
  } finally {
    disposeParams(params);
  }
  const curve: PretrainCurve = {
    steps: traj.losses.length,
    losses: traj.losses,
    evals: traj.evals.map((e) => ({ t: e.t, loss: typeof e.value === 'number' ? e.value : Number.NaN })),
    seconds: (performance.now() - t0) / 1000,
  };
  const thetaSha256 = sha256(new Uint8Array(theta.buffer, theta.byteOffset, theta.byteLength));
  writeVerified(metaFile, JSON.stringify({ format: 'faithful-tda/pretrain', version: 1, key, name: spec.name, describe: spec.describe, setting, model: { family: model.family, config: model.config }, runtime: runtimeInfo(), thetaSha256, curve }, null, 1) + '\n');
  return { dir, key, cached: false, theta, curve };
}

/**
 * Wraps a model so that `init()` returns a fixed θ₀ (e.g. pretrained weights) instead of a random draw.
 * The trainer builds θ₀ with `model.init(rng)` when no `initParams` are given, so the wrapped model makes
 * every consumer (fidelity cells, TSLOO branches, estimators) start from `theta0` without extra plumbing;
 * the trajectory's run hash covers θ₀'s bytes. `init` returns new tensors each call (caller disposes).
 * @param theta0 flat parameters in `model.spec` order `[nParams]` (kept by reference; do not modify)
 */
export function withInitialParams<C>(model: Model<C>, theta0: Float32Array, label: string): Model<C> {
  const n = model.spec.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
  if (theta0.length !== n) throw new Error(`withInitialParams '${label}': θ₀ has ${theta0.length} values, the model has ${n} parameters`);
  return {
    family: model.family,
    config: model.config,
    spec: model.spec,
    init: () => unflattenParams(theta0, model.spec),
    logits: (p, x) => model.logits(p, x),
    perExampleLoss: (p, b) => model.perExampleLoss(p, b),
  };
}
