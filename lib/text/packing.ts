/**
 * Block packing for causal language modelling (GPT-2 style continual pretraining).
 *
 * 1. {@link joinDocuments}: documents (token-id lists) are concatenated with one separator id *between*
 *    consecutive documents (GPT-2 uses `<|endoftext|>` = 50256): d₀ ‖ s ‖ d₁ ‖ s ‖ … ‖ d_{n−1}.
 *    Empty documents are skipped (no doubled separators).
 * 2. {@link packBlocks}: the stream is cut into consecutive, non-overlapping blocks of T+1 tokens,
 *    block k = stream[k(T+1), (k+1)(T+1)); the last partial block is dropped. A block gives the input
 *    x = its first T tokens and the targets y = its last T tokens (next-token prediction at every position).
 * 3. {@link blockDataset}: blocks → a {@link Dataset} with x, y `[n, T]` int32 and an all-ones loss mask
 *    (the per-block loss is the mean next-token cross-entropy over the T predictions).
 *
 * Pure host code: no tensors.
 *
 * @module
 */
import type { Dataset } from '../data/dataset.ts';

/**
 * Concatenates documents with a separator between consecutive non-empty documents.
 * @param docs token ids per document `[nDocs][len_i]`
 * @param separator id placed between documents (e.g. GPT-2 `<|endoftext|>`)
 * @returns the token stream `[Σ len_i + (nonEmpty − 1)]`
 */
export function joinDocuments(docs: readonly (readonly number[] | Int32Array)[], separator: number): Int32Array {
  if (!Number.isInteger(separator)) throw new Error(`joinDocuments: separator must be an integer id, got ${separator}`);
  const kept = docs.filter((d) => d.length > 0);
  const total = kept.reduce((s, d) => s + d.length, 0) + Math.max(0, kept.length - 1);
  const out = new Int32Array(total);
  let at = 0;
  kept.forEach((d, i) => {
    if (i > 0) out[at++] = separator;
    out.set(d, at);
    at += d.length;
  });
  return out;
}

/** Blocks cut from a token stream. */
export interface PackedBlocks {
  /** Block length T+1 (tokens per block). */
  blockTokens: number;
  /** Number of whole blocks n = ⌊len / (T+1)⌋. */
  n: number;
  /** The blocks, row-major `[n, T+1]`. */
  tokens: Int32Array;
  /** Tokens dropped at the end (the partial last block), `len − n(T+1)`. */
  dropped: number;
}

/**
 * Cuts a token stream into consecutive non-overlapping blocks of `T + 1` tokens; the last partial block
 * is dropped.
 * @param stream token ids `[len]`
 * @param T predictions per block (block length T+1)
 */
export function packBlocks(stream: ArrayLike<number>, T: number): PackedBlocks {
  if (!(Number.isInteger(T) && T > 0)) throw new Error(`packBlocks: T must be a positive integer, got ${T}`);
  const L = T + 1;
  const n = Math.floor(stream.length / L);
  const tokens = Int32Array.from({ length: n * L }, (_, i) => stream[i]);
  return { blockTokens: L, n, tokens, dropped: stream.length - n * L };
}

/**
 * A language-modelling dataset from blocks: x = block[0..T−1], y = block[1..T], mask = 1 everywhere.
 * @param blocks from {@link packBlocks}
 * @param ids which blocks, in this order (default all)
 * @param vocab vocabulary size (the dataset's `classes`)
 * @returns x, y `[n, T]` int32, mask `[n, T]` float32 of ones
 */
export function blockDataset(blocks: PackedBlocks, vocab: number, name: string, ids?: readonly number[]): Dataset {
  const L = blocks.blockTokens;
  const T = L - 1;
  const pick = ids ?? Array.from({ length: blocks.n }, (_, i) => i);
  const x = new Int32Array(pick.length * T);
  const y = new Int32Array(pick.length * T);
  pick.forEach((b, k) => {
    if (!(Number.isInteger(b) && b >= 0 && b < blocks.n)) throw new Error(`blockDataset '${name}': block id ${b} out of range [0, ${blocks.n})`);
    const row = blocks.tokens.subarray(b * L, (b + 1) * L);
    x.set(row.subarray(0, T), k * T);
    y.set(row.subarray(1, L), k * T);
  });
  for (const a of [x, y]) {
    const bad = a.findIndex((v) => v < 0 || v >= vocab);
    if (bad >= 0) throw new Error(`blockDataset '${name}': token id ${a[bad]} outside the vocabulary [0, ${vocab})`);
  }
  return {
    name,
    n: pick.length,
    x,
    xShape: [T],
    y,
    yShape: [T],
    mask: new Float32Array(pick.length * T).fill(1),
    classes: vocab,
    meta: { blockIds: [...pick], blockTokens: L },
  };
}
