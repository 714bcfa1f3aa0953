/**
 * GPT-2 byte-level BPE (OpenAI's `r50k_base`, 50257 ids, `<|endoftext|>` = 50256), via the
 * `gpt-tokenizer` package. Ids are identical to OpenAI's `encoder.json` + `vocab.bpe` (checked in
 * test/text/gpt2.test.ts against a reference implementation of the original algorithm).
 *
 * @module
 */
import { decode, encode } from 'gpt-tokenizer/encoding/r50k_base';

/** GPT-2 vocabulary size. */
export const GPT2_VOCAB_SIZE = 50257;
/** Id of `<|endoftext|>` (GPT-2 uses it as BOS, EOS and document separator). */
export const GPT2_EOT = 50256;
/** The end-of-text marker string. */
export const GPT2_EOT_TEXT = '<|endoftext|>';

/** Options of {@link encodeGpt2}. */
export interface Gpt2EncodeOptions {
  /**
   * Map the literal text `<|endoftext|>` to id 50256 (default false: it is encoded as ordinary text,
   * like tiktoken's `encode_ordinary`, so data can never inject a special token by accident).
   */
  allowEndOfText?: boolean;
}

/** Text → GPT-2 token ids `[n]`. */
export function encodeGpt2(text: string, opt: Gpt2EncodeOptions = {}): number[] {
  const ordinary = (t: string) => (t.length ? encode(t, { disallowedSpecial: new Set() }) : []);
  if (!opt.allowEndOfText) return ordinary(text);
  // Split ourselves: gpt-tokenizer 4.0.0 finds allowed special tokens only at the start of the text
  // (its special-token regex is sticky), so `allowedSpecial` misses one in the middle.
  const out: number[] = [];
  text.split(GPT2_EOT_TEXT).forEach((part, i) => {
    if (i > 0) out.push(GPT2_EOT);
    for (const id of ordinary(part)) out.push(id); // no spread: parts can be millions of ids
  });
  return out;
}

/**
 * GPT-2 token ids `[n]` → text.
 * @throws naming the first id outside [0, 50257)
 */
export function decodeGpt2(ids: Iterable<number>): string {
  const arr = Array.from(ids);
  const bad = arr.findIndex((i) => !Number.isInteger(i) || i < 0 || i >= GPT2_VOCAB_SIZE);
  if (bad >= 0) throw new Error(`decodeGpt2: id ${arr[bad]} at position ${bad} is outside [0, ${GPT2_VOCAB_SIZE})`);
  return decode(arr);
}
