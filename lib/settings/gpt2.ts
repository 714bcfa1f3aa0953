/**
 * The GPT-2 setting: continual pretraining of a GPT-2-architecture model on WikiText-2 blocks
 * (design.md GPT-2 row; papers.md §1.11, the [DL-fid] reproduction of the paper's Appendix D.1).
 *
 * **Data.** WikiText-2 (the `.tokens` files of the mirror) is split into articles at its top-level
 * headings (` = Title = ` lines), each article is tokenised with the real GPT-2 BPE (`encodeGpt2`), the
 * articles are joined with `<|endoftext|>` between them and cut into consecutive non-overlapping blocks
 * of T+1 tokens (text/packing.ts; the last partial block is dropped). Attributed run = the *valid* split:
 * a seeded random draw of `trainBlocks + testBlocks` distinct blocks (`selectSubset`, stream
 * `wikitext2-valid-blocks`), the first `trainBlocks` train, the rest are held-out query blocks. Each block's
 * loss is the mean next-token cross-entropy over its T predictions (mask of ones).
 *
 * **Vocabulary compaction (CPU presets only).** A 50257-way softmax costs ~1.8 s per step even at d = 64,
 * so the CPU-scale model uses a compact vocabulary: the GPT-2 ids occurring in the setting's corpora
 * (pretraining text + attribution text) are ranked by frequency (ties: smaller GPT-2 id first) and the
 * top `maxVocab − 2` keep a dense id; compact id 0 is `<|endoftext|>` (50256), compact id 1 is `<unk>` for
 * every other GPT-2 id. The segmentation is GPT-2's own BPE — only the id space is renumbered — and the
 * mapping (compact → GPT-2 id) and its sha256 are recorded in `describe.vocab` and in the dataset meta.
 * The `paper` preset uses the full 50257 vocabulary and the real GPT-2 ids (no compaction).
 *
 * **Base model.** CPU presets: a small GPT-2 (see {@link GPT2_SETTING_PRESETS}) pretrained in-suite on
 * WikiText-2 *test* (disjoint from the valid blocks attributed), cached (settings/pretrain.ts); its seed is
 * fixed (0), so every seed of the attributed run starts from the same base, as with a public checkpoint.
 * `paper`: GPT-2 124M from a user-supplied Hugging Face safetensors file (`checkpoint` option or
 * `FTDA_GPT2_CHECKPOINT`), which needs the `tensorflow` backend.
 *
 * **Attributed run** (the paper's GPT-2 row): AdamW β = (0.9, 0.999), ε = 1e-8, no weight decay, linear
 * schedule with 10 % warm-up (factor (t+1)/warm, then linear decay to 0), 3 epochs; batch 32 (`quick`: 8);
 * LR grid {1e-4, 5e-5, 1e-5} (default 1e-4), as in [DL-fid].
 *
 * The returned model's `init()` returns the base model's θ (pretrain.ts `withInitialParams`), so `train()`
 * without `initParams` (fidelity cells, TSLOO) starts from the pretrained weights.
 *
 * @module
 */
import { pickLr, pickPreset } from './args.ts';
import fs from 'node:fs';
import { loadText, type TextName } from '../data/registry.ts';
import { dataFileEntry } from '../data/checksums.ts';
import type { ResolveOptions } from '../data/resolve.ts';
import { selectSubset } from '../data/subsets.ts';
import type { Dataset } from '../data/dataset.ts';
import { createModel } from '../models/registry.ts';
import { numParams, type Model } from '../models/types.ts';
import type { Gpt2Config } from '../models/gpt2.ts';
import { loadHfParams } from '../models/hf.ts';
import { flattenParams, disposeParams } from '../models/params.ts';
import { runtimeInfo } from '../runtime/backend.ts';
import { getEnv } from '../runtime/env.ts';
import { encodeGpt2, GPT2_EOT, GPT2_VOCAB_SIZE } from '../text/gpt2.ts';
import { blockDataset, joinDocuments, packBlocks, type PackedBlocks } from '../text/packing.ts';
import { totalSteps, validateTrainConfig, type TrainConfig } from '../train/setting.ts';
import { bytesHash } from '../train/trajectory.ts';
import type { Setting, SettingDescription } from './types.ts';
import { pretrain, withInitialParams, type PretrainCurve } from './pretrain.ts';

// ---------------------------------------------------------------------------------------------------
// Vocabulary compaction

/** A renumbering of GPT-2 ids into a dense range (see the module doc). */
export interface VocabMap {
  /** Compact vocabulary size V (model rows). */
  size: number;
  /** Compact id of `<unk>` (1): every GPT-2 id outside the kept set maps here. */
  unk: number;
  /** Compact id of `<|endoftext|>` (0). */
  eot: number;
  /** GPT-2 id of each compact id `[V]`; −1 for `<unk>`. */
  gpt2Ids: Int32Array;
  /** sha256 of `gpt2Ids` (little-endian int32 bytes). */
  hash: string;
  /** Fraction of the counted tokens that kept their own id (1 − unk rate). */
  coverage: number;
  /** Distinct GPT-2 ids seen in the counted streams. */
  distinct: number;
}

/** Compact ids of `<|endoftext|>` and `<unk>`. */
export const COMPACT_EOT = 0;
export const COMPACT_UNK = 1;

/**
 * Builds a compact vocabulary from GPT-2 token streams: the `maxSize − 2` most frequent ids (ties: smaller
 * GPT-2 id first) after `<|endoftext|>` (0) and `<unk>` (1).
 * @param streams GPT-2 ids `[k][len_i]` (every id in [0, 50257))
 */
export function buildVocabMap(streams: readonly ArrayLike<number>[], maxSize: number): VocabMap {
  if (!(Number.isInteger(maxSize) && maxSize >= 3)) throw new Error(`buildVocabMap: maxSize must be an integer ≥ 3, got ${maxSize}`);
  const counts = new Float64Array(GPT2_VOCAB_SIZE);
  let total = 0;
  for (const s of streams) {
    for (let i = 0; i < s.length; i++) {
      const id = s[i];
      if (!(Number.isInteger(id) && id >= 0 && id < GPT2_VOCAB_SIZE)) throw new Error(`buildVocabMap: id ${id} at position ${i} is not a GPT-2 id`);
      counts[id]++;
    }
    total += s.length;
  }
  const seen: number[] = [];
  for (let id = 0; id < GPT2_VOCAB_SIZE; id++) if (counts[id] > 0 && id !== GPT2_EOT) seen.push(id);
  seen.sort((a, b) => counts[b] - counts[a] || a - b);
  const kept = seen.slice(0, maxSize - 2);
  const gpt2Ids = Int32Array.from([GPT2_EOT, -1, ...kept]);
  const covered = kept.reduce((s, id) => s + counts[id], counts[GPT2_EOT]);
  return {
    size: gpt2Ids.length,
    unk: COMPACT_UNK,
    eot: COMPACT_EOT,
    gpt2Ids,
    hash: bytesHash(gpt2Ids),
    coverage: total ? covered / total : 1,
    distinct: seen.length + (counts[GPT2_EOT] > 0 ? 1 : 0),
  };
}

const lookupCache = new WeakMap<VocabMap, Int32Array>();
function lookup(map: VocabMap): Int32Array {
  let l = lookupCache.get(map);
  if (!l) {
    l = new Int32Array(GPT2_VOCAB_SIZE).fill(map.unk);
    map.gpt2Ids.forEach((g, c) => {
      if (g >= 0) l![g] = c;
    });
    lookupCache.set(map, l);
  }
  return l;
}

/** GPT-2 ids → compact ids (unknown ids → `<unk>`). @returns `[len]` */
export function compactIds(map: VocabMap, ids: ArrayLike<number>): Int32Array {
  const l = lookup(map);
  return Int32Array.from({ length: ids.length }, (_, i) => {
    const id = ids[i];
    if (!(Number.isInteger(id) && id >= 0 && id < GPT2_VOCAB_SIZE)) throw new Error(`compactIds: id ${id} at position ${i} is not a GPT-2 id`);
    return l[id];
  });
}

/**
 * Compact ids → GPT-2 ids.
 * @param unkAs GPT-2 id to write for `<unk>`; without it an `<unk>` is an error (it has no GPT-2 id)
 * @returns `[len]`
 */
export function expandIds(map: VocabMap, ids: ArrayLike<number>, unkAs?: number): number[] {
  return Array.from({ length: ids.length }, (_, i) => {
    const c = ids[i];
    if (!(Number.isInteger(c) && c >= 0 && c < map.size)) throw new Error(`expandIds: compact id ${c} at position ${i} is outside [0, ${map.size})`);
    const g = map.gpt2Ids[c];
    if (g < 0) {
      if (unkAs === undefined) throw new Error(`expandIds: position ${i} is <unk>, which has no GPT-2 id (pass unkAs)`);
      return unkAs;
    }
    return g;
  });
}

// ---------------------------------------------------------------------------------------------------
// WikiText-2 → GPT-2 token stream

/** Splits WikiText-2 (`.tokens` layout) into articles at the top-level ` = Title = ` heading lines. */
export function splitWikitextArticles(text: string): string[] {
  const lines = text.split('\n');
  const out: string[] = [];
  let cur: string[] = [];
  for (const line of lines) {
    if (/^ = [^=].* = $/.test(line) && cur.some((l) => l.trim() !== '')) {
      out.push(cur.join('\n'));
      cur = [];
    }
    cur.push(line);
  }
  if (cur.some((l) => l.trim() !== '')) out.push(cur.join('\n'));
  return out;
}

/** A corpus as one GPT-2 id stream: articles tokenised separately and joined with `<|endoftext|>`. */
export async function wikitextStream(name: TextName, resolve?: ResolveOptions): Promise<Int32Array> {
  const articles = splitWikitextArticles(await loadText(name, resolve));
  return joinDocuments(articles.map((a) => encodeGpt2(a)), GPT2_EOT);
}

// ---------------------------------------------------------------------------------------------------
// Presets

/** In-suite pretraining of a CPU-scale base model. */
export interface Gpt2PretrainSpec {
  /** Corpora (joined in this order) — disjoint from the attributed WikiText-2 valid blocks. */
  corpora: TextName[];
  batchSize: number;
  epochs: number;
  /** Truncate the pretraining plan (quick). */
  maxSteps?: number;
  lr: number;
  /** Blocks held out from the end of the pretraining stream for the eval curve. */
  evalBlocks: number;
}

/** One GPT-2 preset. */
export interface Gpt2PresetSpec {
  /** Predictions per block T (block = T+1 tokens). */
  T: number;
  /** Model width / heads / layers (ctx = T for CPU presets; 1024 for the paper's checkpoint). */
  model: Omit<Gpt2Config, 'vocab'>;
  /** Compact vocabulary size, or 'gpt2' for the real 50257 ids. */
  vocab: number | 'gpt2';
  trainBlocks: number;
  testBlocks: number;
  batchSize: number;
  epochs: number;
  /** In-suite pretraining (CPU presets), or null: the base comes from a user checkpoint (paper). */
  pretrain: Gpt2PretrainSpec | null;
}

/**
 * Presets. `full` is sized so TSLOO over 50 blocks fits in about an hour or less: 24 steps, one branched
 * rerun per block ≈ 50 · 22 steps at ≈ 1.1 s/step (measured, wasm, 2-core machine at a load average of
 * ~3; 3.4 s/step at ~8) ≈ 20 min (≈ 60 min under the heavier load). Its base model: 366,336 parameters
 * (V = 4096: 262,144 of them in `wte`), pretrained 141 steps (one epoch of WikiText-2 test, 4,487 blocks)
 * to a held-out loss of 4.63 nats (from 8.30). `quick`: 46,560 parameters, 40 pretraining steps
 * (6.92 → 4.61), ≈ 60 ms per attributed step.
 * `paper` is the [DL-fid] setting: GPT-2 124M, 128-token blocks (T = 127), 512 train blocks, batch 32,
 * 3 epochs (48 steps); 256 held-out blocks (the first 64 are the scored queries there).
 */
export const GPT2_SETTING_PRESETS: Record<'quick' | 'full' | 'paper', Gpt2PresetSpec> = {
  quick: {
    T: 32, model: { ctx: 32, d: 32, heads: 2, layers: 1 }, vocab: 1024,
    trainBlocks: 64, testBlocks: 32, batchSize: 8, epochs: 3,
    pretrain: { corpora: ['wikitext2-test'], batchSize: 16, epochs: 1, maxSteps: 40, lr: 3e-3, evalBlocks: 32 },
  },
  full: {
    T: 64, model: { ctx: 64, d: 64, heads: 4, layers: 2 }, vocab: 4096,
    trainBlocks: 256, testBlocks: 128, batchSize: 32, epochs: 3,
    pretrain: { corpora: ['wikitext2-test'], batchSize: 32, epochs: 1, lr: 3e-3, evalBlocks: 64 },
  },
  paper: {
    T: 127, model: { ctx: 1024, d: 768, heads: 12, layers: 12 }, vocab: 'gpt2',
    trainBlocks: 512, testBlocks: 256, batchSize: 32, epochs: 3, pretrain: null,
  },
};

/** Default LR: the largest of the paper's GPT-2 grid {1e-4, 5e-5, 1e-5}. */
export const GPT2_DEFAULT_LR = 1e-4;

/** Options of {@link loadGpt2Setting}. */
export interface Gpt2SettingOptions {
  seed?: number;
  lr?: number;
  resolve?: ResolveOptions;
  /** Cache root of the pretraining (default `results/cache`). */
  cacheDir?: string;
  /** `paper`: path of GPT-2 124M `model.safetensors` (default: env `FTDA_GPT2_CHECKPOINT`). */
  checkpoint?: string;
  /** Progress of the pretraining (only when it actually trains). */
  onPretrainStep?: (step: number, total: number, loss: number) => void;
}

/** Description of a GPT-2 setting: the common fields plus tokenizer, vocabulary and base model. */
export interface Gpt2SettingDescription extends SettingDescription {
  tokenizer: string;
  vocab:
    | { kind: 'gpt2'; size: number; note: string }
    | {
        kind: 'compact';
        size: number;
        /** sha256 of the mapping. */
        hash: string;
        coverage: number;
        distinct: number;
        eot: number;
        unk: number;
        countedCorpora: string[];
        note: string;
        /** The mapping itself: GPT-2 id of each compact id `[V]` (−1 = <unk>). */
        gpt2Ids: number[];
      };
  blocks: { T: number; blockTokens: number; poolBlocks: number; droppedTokens: number };
  base:
    | { kind: 'pretrained-in-suite'; key: string; corpora: string[]; setting: TrainConfig; firstEval: number | null; lastEval: number | null; steps: number }
    | { kind: 'checkpoint'; path: string; sha256: string };
}

/** The attributed run's training setting (plain JSON). */
export function gpt2TrainConfig(p: Gpt2PresetSpec, seed = 0, lr = GPT2_DEFAULT_LR): TrainConfig {
  return {
    seed,
    batchSize: p.batchSize,
    epochs: p.epochs,
    optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
    schedule: { kind: 'linear', lr, warmupFrac: 0.1 },
  };
}

/** The pretraining run's setting: AdamW β = (0.9, 0.95), wd 0.01, cosine to lr/10 after 10 % warm-up, seed 0. */
export function gpt2PretrainSetting(pt: Gpt2PretrainSpec, nBlocks: number): TrainConfig {
  const s: TrainConfig = {
    seed: 0,
    batchSize: pt.batchSize,
    epochs: pt.epochs,
    optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01 },
    schedule: { kind: 'cosine', lr: pt.lr, warmupSteps: 1, minLr: pt.lr / 10 },
    ...(pt.maxSteps !== undefined ? { maxSteps: pt.maxSteps } : {}),
  };
  const T = totalSteps(s, nBlocks);
  s.schedule = { kind: 'cosine', lr: pt.lr, warmupSteps: Math.max(1, Math.round(0.1 * T)), minLr: pt.lr / 10 };
  return s;
}

const TEXT_FILE: Partial<Record<TextName, string>> = {
  'wikitext2-valid': 'wikitext-2/wiki.valid.tokens.gz',
  'wikitext2-test': 'wikitext-2/wiki.test.tokens.gz',
  tinyshakespeare: 'tinyshakespeare/input.txt.gz',
};

/** Logical file → pinned sha256 of the corpora used (provenance for result files). */
function fileHashes(names: TextName[]): Record<string, string> {
  return Object.fromEntries(names.map((n) => TEXT_FILE[n] ?? n).map((f) => [f, dataFileEntry(f).sha256]));
}

function missingPaperInputs(ckpt: string | undefined): string[] {
  const missing: string[] = [];
  if (!ckpt) missing.push('a GPT-2 124M Hugging Face safetensors checkpoint (option `checkpoint` or env FTDA_GPT2_CHECKPOINT = path of model.safetensors from huggingface.co/gpt2)');
  else if (!fs.existsSync(ckpt)) missing.push(`the GPT-2 checkpoint '${ckpt}' (file not found)`);
  const backend = runtimeInfo().backend;
  if (backend !== 'tensorflow') {
    missing.push(`the 'tensorflow' backend (this process runs '${backend}'; install @tensorflow/tfjs-node-gpu with CUDA, see README "Engine and backends", and run with --backend tensorflow)`);
  }
  return missing;
}

/**
 * Loads the GPT-2 setting for a preset (pretraining the CPU-scale base model on first use).
 * Needs `initBackend()` first (pretraining and checkpoint loading make tensors).
 * @throws on an unknown preset, bad seed / LR, missing data; `paper` without a checkpoint or without the
 *   tensorflow backend: one error listing what to provide
 */
export async function loadGpt2Setting(preset: string, opts: Gpt2SettingOptions = {}): Promise<Setting> {
  const p = pickPreset('gpt2', GPT2_SETTING_PRESETS, preset);
  const seed = opts.seed ?? 0;
  const lr = pickLr('gpt2', opts.lr, GPT2_DEFAULT_LR);
  const setting = gpt2TrainConfig(p, seed, lr);
  validateTrainConfig(setting, p.trainBlocks);
  let ckpt: string | undefined;
  if (p.pretrain === null) {
    ckpt = opts.checkpoint ?? getEnv('FTDA_GPT2_CHECKPOINT');
    const missing = missingPaperInputs(ckpt);
    if (missing.length) throw new Error(`gpt2 setting, preset '${preset}' (GPT-2 124M) needs:\n  - ${missing.join('\n  - ')}`);
  }

  // Token streams (real GPT-2 ids) and, for CPU presets, the compact vocabulary over every corpus used.
  const attrGpt2 = await wikitextStream('wikitext2-valid', opts.resolve);
  const pt = p.pretrain;
  const ptGpt2 = pt ? await Promise.all(pt.corpora.map((c) => wikitextStream(c, opts.resolve))) : [];
  const map = p.vocab === 'gpt2' ? null : buildVocabMap([...ptGpt2, attrGpt2], p.vocab);
  const V = map ? map.size : GPT2_VOCAB_SIZE;
  const toModelIds = (ids: Int32Array) => (map ? compactIds(map, ids) : ids);

  const blocks: PackedBlocks = packBlocks(toModelIds(attrGpt2), p.T);
  if (blocks.n < p.trainBlocks + p.testBlocks) throw new Error(`gpt2 setting: WikiText-2 valid gives ${blocks.n} blocks of ${p.T + 1} tokens, fewer than ${p.trainBlocks} + ${p.testBlocks}`);
  const drawn = selectSubset(blocks.n, p.trainBlocks + p.testBlocks, seed, 'wikitext2-valid-blocks');
  const vocabMeta = map ? { vocabHash: map.hash, vocabSize: map.size } : { vocabSize: V };
  const train = blockDataset(blocks, V, `wikitext2-valid/blocks${p.T + 1}[${p.trainBlocks},seed=${seed}]`, drawn.slice(0, p.trainBlocks));
  const test = blockDataset(blocks, V, `wikitext2-valid/blocks${p.T + 1}[held-out ${p.testBlocks},seed=${seed}]`, drawn.slice(p.trainBlocks));
  train.meta = { ...train.meta, ...vocabMeta };
  test.meta = { ...test.meta, ...vocabMeta };

  const config: Gpt2Config = { vocab: V, ...p.model };
  const bare = createModel({ family: 'gpt2', config: { ...config } });
  let model: Model;
  let base: Gpt2SettingDescription['base'];
  if (pt) {
    const ptBlocks = packBlocks(toModelIds(joinDocuments(ptGpt2, GPT2_EOT)), p.T);
    if (ptBlocks.n <= pt.evalBlocks) throw new Error(`gpt2 pretraining: ${ptBlocks.n} blocks, not more than evalBlocks ${pt.evalBlocks}`);
    const nTr = ptBlocks.n - pt.evalBlocks;
    const ptTrain = blockDataset(ptBlocks, V, `${pt.corpora.join('+')}/blocks${p.T + 1}[:${nTr}]`, Array.from({ length: nTr }, (_, i) => i));
    const ptEval = blockDataset(ptBlocks, V, `${pt.corpora.join('+')}/blocks${p.T + 1}[${nTr}:]`, Array.from({ length: pt.evalBlocks }, (_, i) => nTr + i));
    const ptSetting = gpt2PretrainSetting(pt, nTr);
    const res = await pretrain(
      {
        name: `gpt2-${preset}`,
        model: bare,
        data: ptTrain,
        evalData: ptEval,
        setting: ptSetting,
        describe: { corpora: pt.corpora, tokenizer: 'gpt2-bpe', vocabHash: map?.hash ?? 'gpt2', T: p.T },
      },
      { cacheDir: opts.cacheDir, onStep: opts.onPretrainStep },
    );
    model = withInitialParams(bare, res.theta, `gpt2-${preset} pretrained`);
    base = {
      kind: 'pretrained-in-suite',
      key: res.key,
      corpora: pt.corpora,
      setting: ptSetting,
      firstEval: res.curve.evals[0]?.loss ?? null,
      lastEval: res.curve.evals.at(-1)?.loss ?? null,
      steps: res.curve.steps,
    };
  } else {
    const params = loadHfParams(bare, ckpt!);
    const theta = flattenParams(params, bare.spec);
    disposeParams(params);
    model = withInitialParams(bare, theta, `gpt2 checkpoint '${ckpt}'`);
    base = { kind: 'checkpoint', path: ckpt!, sha256: bytesHash(theta) };
  }

  const describe: Gpt2SettingDescription = {
    name: 'gpt2',
    preset,
    data: {
      dataset: 'wikitext2-valid',
      train: { from: `wikitext2-valid blocks of ${p.T + 1} tokens`, poolSize: blocks.n, size: p.trainBlocks, stream: 'wikitext2-valid-blocks[:train]' },
      test: { from: `wikitext2-valid blocks of ${p.T + 1} tokens`, poolSize: blocks.n, size: p.testBlocks, stream: 'wikitext2-valid-blocks[train:]' },
      files: fileHashes(['wikitext2-valid', ...(pt?.corpora ?? [])]),
    },
    model: { family: 'gpt2', preset: preset === 'paper' ? 'paper' : 'custom', config, nParams: numParams(bare.spec) },
    training: setting,
    steps: totalSteps(setting, p.trainBlocks),
    tokenizer: 'GPT-2 byte-level BPE (r50k_base, gpt-tokenizer)',
    vocab: map
      ? {
          kind: 'compact',
          size: map.size,
          hash: map.hash,
          coverage: map.coverage,
          distinct: map.distinct,
          eot: map.eot,
          unk: map.unk,
          countedCorpora: [...(pt?.corpora ?? []), 'wikitext2-valid'],
          note: 'CPU-scale vocabulary compaction: real GPT-2 BPE segmentation, ids renumbered by frequency; 0 = <|endoftext|>, 1 = <unk> for GPT-2 ids outside the kept set',
          gpt2Ids: Array.from(map.gpt2Ids),
        }
      : { kind: 'gpt2', size: GPT2_VOCAB_SIZE, note: 'full GPT-2 vocabulary, real ids' },
    blocks: { T: p.T, blockTokens: p.T + 1, poolBlocks: blocks.n, droppedTokens: blocks.dropped },
    base,
  };
  return { model, train, test, trainConfig: setting, describe };
}
