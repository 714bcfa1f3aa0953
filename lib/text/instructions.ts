/**
 * Instruction tuning data: (prompt, response) pairs → fixed-length token sequences whose loss counts
 * the response tokens only.
 *
 * Sequence layout (one example, length L):
 *
 *     seq = [bos?] ‖ prompt ‖ response ‖ [eos?]      (truncated to its first L+1 tokens)
 *     x[t] = seq[t],  y[t] = seq[t+1]                 (t = 0..L−1; positions past the text hold `pad`)
 *     mask[t] = 1  iff  seq[t+1] is a response token (or the closing eos), else 0
 *
 * So the model is trained on next-token prediction of the response given everything before it; prompt
 * targets and padding targets have mask 0. Padding is appended *after* the text and attention stays
 * causal, so padded positions cannot influence the logits of any earlier (real) position; their targets
 * are masked, so they contribute nothing to the loss or its gradient. The per-example loss is the mean
 * cross-entropy over the mask-1 positions (models/nn.ts `sequenceLoss`).
 *
 * Prompt and response are tokenised separately (so the mask boundary falls exactly between them, as in
 * the usual SFT pipelines): with a SentencePiece tokenizer each segment gets its own word-initial `▁`,
 * i.e. the response reads as if separated from the prompt by a space.
 *
 * Pair construction from corpora ({@link storyPairs}, {@link selfInstructPairs}) is documented on each.
 * Pure host code: no tensors.
 *
 * @module
 */
import type { Dataset } from '../data/dataset.ts';
import type { InstructionTask } from '../data/registry.ts';

/** One instruction example. */
export interface InstructionPair {
  /** Provenance, e.g. `tinystories#17` or a Self-Instruct task id. */
  id: string;
  prompt: string;
  response: string;
}

/** What {@link encodePairs} needs from a tokenizer: text → ids with no BOS/EOS added. */
export interface TokenEncoder {
  encode(text: string): number[];
}

/** Fixed-length layout of an instruction sequence. */
export interface InstructionFormat {
  /** Sequence length L (positions of x, y and mask). */
  length: number;
  /** Prepended to the prompt when given. */
  bos?: number;
  /** Appended after the response when given (and counted in the loss, so the model learns to stop). */
  eos?: number;
  /** Id written at padded positions of x and y (masked out; any valid id). */
  pad: number;
}

/** One encoded example. */
export interface EncodedInstruction {
  /** Inputs `[L]`. */
  x: Int32Array;
  /** Next-token targets `[L]`. */
  y: Int32Array;
  /** 1 where the target is a response token (or the closing eos) `[L]`. */
  mask: Float32Array;
  /** Tokens of the (untruncated) sequence before the response: bos + prompt. */
  promptTokens: number;
  /** Response tokens kept in the window (incl. eos when it fits) = Σ mask. */
  responseTokens: number;
  /** True when the sequence was longer than L+1 and was cut. */
  truncated: boolean;
}

function checkId(v: number, what: string): void {
  if (!(Number.isInteger(v) && v >= 0)) throw new Error(`instruction format: ${what} must be a non-negative integer id, got ${v}`);
}

/**
 * Lays out one tokenised (prompt, response) pair (see the module doc).
 * @param prompt prompt ids `[p]` (no BOS) @param response response ids `[r]` (no EOS)
 * @throws when no response token falls inside the window (the prompt fills all L positions), naming `where`
 */
export function encodeInstruction(
  prompt: readonly number[],
  response: readonly number[],
  f: InstructionFormat,
  where = 'example',
): EncodedInstruction {
  const L = f.length;
  if (!(Number.isInteger(L) && L > 0)) throw new Error(`instruction format: length must be a positive integer, got ${L}`);
  checkId(f.pad, 'pad');
  if (f.bos !== undefined) checkId(f.bos, 'bos');
  if (f.eos !== undefined) checkId(f.eos, 'eos');
  if (response.length === 0) throw new Error(`${where}: empty response (nothing to train on)`);
  const full = [...(f.bos !== undefined ? [f.bos] : []), ...prompt, ...response, ...(f.eos !== undefined ? [f.eos] : [])];
  const start = full.length - response.length - (f.eos !== undefined ? 1 : 0); // index of the first response token
  const seq = full.slice(0, L + 1);
  if (start >= seq.length) {
    throw new Error(`${where}: prompt of ${start} tokens leaves no response token inside a sequence of length ${L}; shorten the prompt or raise the length`);
  }
  const x = new Int32Array(L).fill(f.pad);
  const y = new Int32Array(L).fill(f.pad);
  const mask = new Float32Array(L);
  for (let t = 0; t < L; t++) {
    if (t < seq.length) x[t] = seq[t];
    if (t + 1 < seq.length) {
      y[t] = seq[t + 1];
      if (t + 1 >= start) mask[t] = 1;
    }
  }
  return { x, y, mask, promptTokens: start, responseTokens: seq.length - start, truncated: full.length > L + 1 };
}

/** Tokenises and lays out pairs (prompt and response encoded separately, see the module doc). */
export function encodePairs(pairs: readonly InstructionPair[], tok: TokenEncoder, f: InstructionFormat): EncodedInstruction[] {
  return pairs.map((p) => encodeInstruction(tok.encode(p.prompt), tok.encode(p.response), f, `instruction pair '${p.id}'`));
}

/**
 * Encoded examples → a language-modelling {@link Dataset}.
 * @param vocab vocabulary size (every id must be below it)
 * @returns x, y `[n, L]` int32 and mask `[n, L]` float32
 */
export function instructionDataset(examples: readonly EncodedInstruction[], vocab: number, name: string, meta: Record<string, unknown> = {}): Dataset {
  if (!examples.length) throw new Error(`instructionDataset '${name}': no examples`);
  const L = examples[0].x.length;
  const n = examples.length;
  const x = new Int32Array(n * L);
  const y = new Int32Array(n * L);
  const mask = new Float32Array(n * L);
  examples.forEach((e, i) => {
    if (e.x.length !== L) throw new Error(`instructionDataset '${name}': example ${i} has length ${e.x.length}, expected ${L}`);
    x.set(e.x, i * L);
    y.set(e.y, i * L);
    mask.set(e.mask, i * L);
  });
  for (const a of [x, y]) {
    const bad = a.findIndex((v) => v < 0 || v >= vocab);
    if (bad >= 0) throw new Error(`instructionDataset '${name}': token id ${a[bad]} outside the vocabulary [0, ${vocab})`);
  }
  return { name, n, x, xShape: [L], y, yShape: [L], mask, classes: vocab, meta };
}

/** Default instruction template of {@link storyPairs}; `{first}` is replaced by the story's first sentence. */
export const STORY_TEMPLATE = 'Continue the story: {first}';

/**
 * First sentence and the rest of a text with whitespace runs collapsed to one space: the first sentence
 * ends at the first `.`, `!` or `?` (optionally followed by closing quotes) that is followed by a space and
 * an upper-case letter (optionally after an opening quote), so `"Hi!" said Sue.` stays one sentence.
 * @returns null when the text has no such boundary or nothing after it
 */
export function splitFirstSentence(text: string): { first: string; rest: string } | null {
  const t = text.replace(/\s+/g, ' ').trim();
  const m = /^(.+?[.!?]["'\u201d\u2019]*) (["'\u201c\u2018]?[A-Z].*)$/.exec(t);
  return m ? { first: m[1], rest: m[2] } : null;
}

/**
 * TinyStories-domain instruction pairs: for each story, prompt = `template` with `{first}` = the story's
 * first sentence (default "Continue the story: <first sentence>"), response = the rest of the story
 * (whitespace collapsed to single spaces; see {@link splitFirstSentence}). Stories without a sentence
 * boundary are skipped. Ids are `tinystories#<index in the input>`.
 */
export function storyPairs(stories: readonly string[], template = STORY_TEMPLATE): InstructionPair[] {
  if (!template.includes('{first}')) throw new Error(`storyPairs: template must contain '{first}', got ${JSON.stringify(template)}`);
  const out: InstructionPair[] = [];
  stories.forEach((s, i) => {
    const parts = splitFirstSentence(s);
    if (parts) out.push({ id: `tinystories#${i}`, prompt: template.replace('{first}', parts.first), response: parts.rest });
  });
  return out;
}

/**
 * Self-Instruct pairs: prompt = instruction, plus a newline and the input when the input is non-empty;
 * response = the output. Tasks with an empty output are skipped.
 */
export function selfInstructPairs(tasks: readonly InstructionTask[]): InstructionPair[] {
  return tasks
    .filter((t) => t.output.trim() !== '')
    .map((t) => ({ id: t.id, prompt: t.input.trim() ? `${t.instruction}\n${t.input}` : t.instruction, response: t.output }));
}
