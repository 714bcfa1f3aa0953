/**
 * The Llama setting: instruction tuning of a pretrained Llama-architecture model with a prompt-masked
 * loss (design.md Llama row). The paper's Llama-3.2-1B setting (data, sequence length, optimizer, steps)
 * is unknown (papers.md §1.11: NOT FOUND), so these are our choices.
 *
 * **Model.** CPU presets: `stories260K.gguf` (Karpathy's llama2.c TinyStories model: real pretrained
 * weights, 260,032 parameters, tied head) read with `readGguf` + `ggufToLlama`, with its own SentencePiece
 * tokenizer (`SentencePieceTokenizer.fromGguf`, 512 pieces, BOS 1, EOS 2). `ctx` is set to 512, the
 * model's training length (the file's `context_length` is the converter's default 2048).
 * `paper`: Llama 3.2-1B from user-supplied files — Hugging Face `model.safetensors` (option `checkpoint`
 * / env `FTDA_LLAMA_CHECKPOINT`), its `config.json` (option `config` / env `FTDA_LLAMA_CONFIG`, default:
 * next to the checkpoint; RoPE scaling and every size come from it) and the Llama 3 `tokenizer.json`
 * (option `tokenizer` / env `FTDA_LLAMA_TOKENIZER`; the npm `llama3-tokenizer-js` package is not
 * installed, so the suite reads tokenizer.json itself, see {@link ByteLevelBpeTokenizer}) — and the
 * `tensorflow` backend.
 *
 * **Data** (text/instructions.ts). Default source `tinystories`: for each of the 2316 TinyStories of the
 * mirror, prompt = "Continue the story: <first sentence>", response = the rest of the story (whitespace
 * collapsed); sequences are `[BOS] prompt response [EOS]` cut to L+1 tokens (the response is the
 * continuation as far as it fits, so long stories lose their EOS), padded with EOS, loss on response
 * targets only. Alternative source `self-instruct-seed` (175 Self-Instruct seed tasks: prompt =
 * instruction [+ newline + input], response = output); with stories260K's 512-piece vocabulary only 4
 * (L = 48) / 22 (L = 64) of them have short enough prompts, and 175 < 384 for `paper`, so no preset can
 * use it at its sizes: it fails with a clear error and is there for custom, smaller runs.
 * Only pairs whose BOS + prompt take at most L/2 tokens are eligible (at least L/2 response targets
 * each; 1323 of 2316 stories at L = 64); from them a seeded draw (stream `llama-pairs`) gives the train
 * pairs and, disjoint, the held-out query pairs.
 *
 * **Training**: AdamW β = (0.9, 0.999), ε = 1e-8, no weight decay, linear schedule with 10 % warm-up,
 * LR grid {1e-3, 1e-4} (default 1e-3). Sizes per preset in {@link LLAMA_SETTING_PRESETS}. Cost (wasm,
 * 2-core machine shared with other jobs): stories260K ≈ 1.0 s/step at batch 8 × 64 tokens under a load
 * average of ~3 (2.2 s at ~8); `full` has 32 steps, so TSLOO over 50 pairs (one branched rerun each,
 * ≈ 28 steps) ≈ 25 min at 1 s/step.
 *
 * The returned model's `init()` returns the pretrained θ (pretrain.ts `withInitialParams`).
 *
 * @module
 */
import { pickLr, pickPreset } from './args.ts';
import fs from 'node:fs';
import path from 'node:path';
import { dataFilePath, loadInstructionTasks, loadStories } from '../data/registry.ts';
import { dataFileEntry } from '../data/checksums.ts';
import type { ResolveOptions } from '../data/resolve.ts';
import { selectSubset } from '../data/subsets.ts';
import { createModel } from '../models/registry.ts';
import { numParams, type Model } from '../models/types.ts';
import type { LlamaConfig } from '../models/llama.ts';
import { ggufToLlama, readGguf } from '../models/gguf.ts';
import { llamaConfigFromHf, loadHfParams } from '../models/hf.ts';
import { disposeParams, flattenParams } from '../models/params.ts';
import { runtimeInfo } from '../runtime/backend.ts';
import { getEnv } from '../runtime/env.ts';
import { SentencePieceTokenizer } from '../text/sentencepiece.ts';
import { ByteLevelBpeTokenizer } from '../text/byte-bpe.ts';
export { ByteLevelBpeTokenizer } from '../text/byte-bpe.ts';
import {
  encodePairs,
  instructionDataset,
  selfInstructPairs,
  storyPairs,
  STORY_TEMPLATE,
  type InstructionPair,
  type TokenEncoder,
} from '../text/instructions.ts';
import { totalSteps, validateTrainConfig, type TrainConfig } from '../train/setting.ts';
import { bytesHash } from '../train/trajectory.ts';
import type { Setting, SettingDescription } from './types.ts';
import { withInitialParams } from './pretrain.ts';

/** Instruction data sources. */
export type InstructionSource = 'tinystories' | 'self-instruct-seed';

/** One Llama preset. */
export interface LlamaPresetSpec {
  base: 'stories260K' | 'llama-3.2-1b';
  source: InstructionSource;
  /** Sequence length L. */
  length: number;
  trainSize: number;
  testSize: number;
  batchSize: number;
  epochs: number;
}

/** Presets (see the module doc). */
export const LLAMA_SETTING_PRESETS: Record<'quick' | 'full' | 'paper', LlamaPresetSpec> = {
  quick: { base: 'stories260K', source: 'tinystories', length: 48, trainSize: 12, testSize: 8, batchSize: 4, epochs: 2 },
  full: { base: 'stories260K', source: 'tinystories', length: 64, trainSize: 128, testSize: 128, batchSize: 8, epochs: 2 },
  paper: { base: 'llama-3.2-1b', source: 'tinystories', length: 128, trainSize: 256, testSize: 128, batchSize: 16, epochs: 2 },
};

/** Default LR: the larger of our grid {1e-3, 1e-4}. */
export const LLAMA_DEFAULT_LR = 1e-3;

/** Options of {@link loadLlamaSetting}. */
export interface LlamaSettingOptions {
  seed?: number;
  lr?: number;
  resolve?: ResolveOptions;
  /** Override the preset's instruction source. */
  source?: InstructionSource;
  /** `paper`: Llama 3.2-1B `model.safetensors` (default env FTDA_LLAMA_CHECKPOINT). */
  checkpoint?: string;
  /** `paper`: its `config.json` (default env FTDA_LLAMA_CONFIG, else next to the checkpoint). */
  config?: string;
  /** `paper`: the Llama 3 `tokenizer.json` (default env FTDA_LLAMA_TOKENIZER). */
  tokenizer?: string;
}

/** Description of a Llama setting: the common fields plus tokenizer, format and base model. */
export interface LlamaSettingDescription extends SettingDescription {
  tokenizer: { kind: 'sentencepiece-gguf' | 'hf-tokenizer.json'; file: string; vocab: number; bos: number; eos: number; pad: number };
  format: { length: number; template: string | null; source: InstructionSource; eligiblePairs: number; maxPromptTokens: number; note: string };
  base: { kind: 'gguf' | 'hf-checkpoint'; file: string; sha256: string };
}

/** The training setting (plain JSON). */
export function llamaTrainConfig(p: LlamaPresetSpec, seed = 0, lr = LLAMA_DEFAULT_LR): TrainConfig {
  return {
    seed,
    batchSize: p.batchSize,
    epochs: p.epochs,
    optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
    schedule: { kind: 'linear', lr, warmupFrac: 0.1 },
  };
}

interface BaseModel {
  model: Model;
  tok: TokenEncoder & { bos: number; eos: number };
  vocab: number;
  tokenizerInfo: { kind: LlamaSettingDescription['tokenizer']['kind']; file: string };
  base: LlamaSettingDescription['base'];
}

const STORIES_GGUF = 'models/stories260K/stories260K.gguf';

async function stories260K(resolve?: ResolveOptions): Promise<BaseModel> {
  const file = await dataFilePath(STORIES_GGUF, resolve);
  const g = readGguf(file);
  const tok = SentencePieceTokenizer.fromGguf(g);
  const { config, params } = ggufToLlama(g);
  const bare = createModel({ family: 'llama', config: { ...config, ctx: 512 } });
  const theta = flattenParams(params, bare.spec);
  disposeParams(params);
  return {
    model: withInitialParams(bare, theta, 'stories260K'),
    tok: { encode: (t: string) => tok.encode(t), bos: tok.bos, eos: tok.eos },
    vocab: tok.size,
    tokenizerInfo: { kind: 'sentencepiece-gguf', file: STORIES_GGUF },
    base: { kind: 'gguf', file: STORIES_GGUF, sha256: bytesHash(theta) },
  };
}

function llama32(o: LlamaSettingOptions, length: number): BaseModel {
  const ckpt = o.checkpoint ?? getEnv('FTDA_LLAMA_CHECKPOINT');
  const cfg = o.config ?? getEnv('FTDA_LLAMA_CONFIG') ?? (ckpt ? path.join(path.dirname(ckpt), 'config.json') : undefined);
  const tokFile = o.tokenizer ?? getEnv('FTDA_LLAMA_TOKENIZER');
  const missing: string[] = [];
  if (!ckpt) missing.push('the Llama 3.2-1B Hugging Face checkpoint (option `checkpoint` or env FTDA_LLAMA_CHECKPOINT = path of model.safetensors)');
  else if (!fs.existsSync(ckpt)) missing.push(`the Llama checkpoint '${ckpt}' (file not found)`);
  if (!cfg || !fs.existsSync(cfg)) missing.push(`its config.json (option \`config\` or env FTDA_LLAMA_CONFIG; looked at ${cfg ? `'${cfg}'` : 'nothing: no checkpoint given'}) — RoPE scaling and sizes come from it`);
  if (!tokFile) missing.push('the Llama 3 tokenizer.json (option `tokenizer` or env FTDA_LLAMA_TOKENIZER; the npm package llama3-tokenizer-js is not installed)');
  else if (!fs.existsSync(tokFile)) missing.push(`the tokenizer file '${tokFile}' (file not found)`);
  const backend = runtimeInfo().backend;
  if (backend !== 'tensorflow') {
    missing.push(`the 'tensorflow' backend (this process runs '${backend}'; install @tensorflow/tfjs-node-gpu with CUDA, see README "Engine and backends", and run with --backend tensorflow)`);
  }
  if (missing.length) throw new Error(`llama setting, preset 'paper' (Llama 3.2-1B) needs:\n  - ${missing.join('\n  - ')}`);
  const config: LlamaConfig = llamaConfigFromHf(JSON.parse(fs.readFileSync(cfg!, 'utf8')), cfg);
  if (length > config.ctx) throw new Error(`llama paper: sequence length ${length} exceeds max_position_embeddings ${config.ctx}`);
  const tok = ByteLevelBpeTokenizer.fromFile(tokFile!);
  if (tok.size > config.vocab) throw new Error(`llama paper: tokenizer has ${tok.size} ids, the model's vocab_size is ${config.vocab}`);
  const bare = createModel({ family: 'llama', config: { ...config } });
  const params = loadHfParams(bare, ckpt!);
  const theta = flattenParams(params, bare.spec);
  disposeParams(params);
  return {
    model: withInitialParams(bare, theta, `llama checkpoint '${ckpt}'`),
    tok,
    vocab: config.vocab,
    tokenizerInfo: { kind: 'hf-tokenizer.json', file: tokFile! },
    base: { kind: 'hf-checkpoint', file: ckpt!, sha256: bytesHash(theta) },
  };
}

async function pairsFor(source: InstructionSource, resolve?: ResolveOptions): Promise<InstructionPair[]> {
  if (source === 'tinystories') return storyPairs(await loadStories(resolve));
  if (source === 'self-instruct-seed') return selfInstructPairs(await loadInstructionTasks('self-instruct-seed', resolve));
  throw new Error(`llama setting: unknown instruction source '${source}'; known: tinystories, self-instruct-seed`);
}

/**
 * Loads the Llama setting for a preset. Needs `initBackend()` first (the weights become tensors briefly).
 * @throws on an unknown preset / source, bad seed or LR, too few eligible pairs; `paper` without its
 *   files or without the tensorflow backend: one error listing what to provide
 */
export async function loadLlamaSetting(preset: string, opts: LlamaSettingOptions = {}): Promise<Setting> {
  const p = pickPreset('llama', LLAMA_SETTING_PRESETS, preset);
  const seed = opts.seed ?? 0;
  const lr = pickLr('llama', opts.lr, LLAMA_DEFAULT_LR);
  const setting = llamaTrainConfig(p, seed, lr);
  validateTrainConfig(setting, p.trainSize);
  const source = opts.source ?? p.source;

  const base = p.base === 'stories260K' ? await stories260K(opts.resolve) : llama32(opts, p.length);
  const pad = base.tok.eos;
  const format = { length: p.length, bos: base.tok.bos, eos: base.tok.eos, pad };
  const pairs = await pairsFor(source, opts.resolve);
  const maxPrompt = Math.floor(p.length / 2);
  const eligible = pairs.filter((q) => 1 + base.tok.encode(q.prompt).length <= maxPrompt);
  const need = p.trainSize + p.testSize;
  if (eligible.length < need) {
    throw new Error(`llama setting '${preset}': only ${eligible.length} ${source} pairs have a prompt of ≤ ${maxPrompt} tokens, need ${need} (train ${p.trainSize} + test ${p.testSize})`);
  }
  const drawn = selectSubset(eligible.length, need, seed, 'llama-pairs').map((i) => eligible[i]);
  const trPairs = drawn.slice(0, p.trainSize);
  const tePairs = drawn.slice(p.trainSize);
  const meta = (ps: InstructionPair[]) => ({ pairIds: ps.map((q) => q.id), source });
  const train = instructionDataset(encodePairs(trPairs, base.tok, format), base.vocab, `${source}/instructions[${p.trainSize},L=${p.length},seed=${seed}]`, meta(trPairs));
  const test = instructionDataset(encodePairs(tePairs, base.tok, format), base.vocab, `${source}/instructions[held-out ${p.testSize},L=${p.length},seed=${seed}]`, meta(tePairs));

  const { model } = base;
  const describe: LlamaSettingDescription = {
    name: 'llama',
    preset,
    data: {
      dataset: source,
      train: { from: `${source} instruction pairs (prompt ≤ ${maxPrompt} tokens)`, poolSize: eligible.length, size: p.trainSize, stream: 'llama-pairs[:train]' },
      test: { from: `${source} instruction pairs (prompt ≤ ${maxPrompt} tokens)`, poolSize: eligible.length, size: p.testSize, stream: 'llama-pairs[train:]' },
      files: Object.fromEntries(
        [source === 'tinystories' ? 'instructions/tinystories/tinystories_train_first2316.txt.gz' : 'instructions/self-instruct/seed_tasks.jsonl.gz', ...(p.base === 'stories260K' ? [STORIES_GGUF] : [])].map((f) => [f, dataFileEntry(f).sha256]),
      ),
    },
    model: { family: 'llama', preset: p.base, config: model.config, nParams: numParams(model.spec) },
    training: setting,
    steps: totalSteps(setting, p.trainSize),
    tokenizer: { ...base.tokenizerInfo, vocab: base.vocab, bos: base.tok.bos, eos: base.tok.eos, pad },
    format: {
      length: p.length,
      template: source === 'tinystories' ? STORY_TEMPLATE : null,
      source,
      eligiblePairs: eligible.length,
      maxPromptTokens: maxPrompt,
      note: '[BOS] prompt response [EOS] cut to L+1 tokens, padded with EOS after the text (causal attention: padding cannot affect real positions); loss on response targets only (mask)',
    },
    base: base.base,
  };
  return { model, train, test, trainConfig: setting, describe };
}

// ---------------------------------------------------------------------------------------------------
