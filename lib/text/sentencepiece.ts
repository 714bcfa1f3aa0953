/**
 * SentencePiece-style BPE tokenizer built from GGUF metadata (`tokenizer.ggml.model = "llama"`), as used
 * by Llama 1/2 and llama2.c models such as stories260K.
 *
 * Encoding (the algorithm of llama.cpp's SPM tokenizer and SentencePiece BPE):
 * 1. spaces become `▁` (U+2581) and, with `add_space_prefix` (default true), one `▁` is prepended;
 * 2. the text is split into Unicode code points;
 * 3. repeatedly, the adjacent pair whose concatenation is a vocabulary piece with the **highest score** is
 *    merged (ties: leftmost pair), until no pair forms a piece;
 * 4. each remaining symbol maps to its id, or, when it is not a piece, to its UTF-8 bytes as `<0xNN>`
 *    byte tokens (byte fallback; `unk` if the byte token is missing too).
 * Control (`<s>`, `</s>`), byte and unused tokens never take part in merges. When no piece contains `▁`
 * after its first character (true for stories260K), merges cannot cross a `▁`, so words are encoded
 * independently and cached; the result is identical.
 *
 * Decoding: `▁` → space, `<0xNN>` → that byte, control tokens are dropped, and the byte string is read as
 * UTF-8; the space added by `add_space_prefix` is removed from the start.
 *
 * @module
 */
import type { GgufFile } from '../models/gguf.ts';

/** GGUF `tokenizer.ggml.token_type` values. */
export const TOKEN_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

/** Vocabulary of a SentencePiece tokenizer. */
export interface SpmVocab {
  /** Piece strings, index = id. */
  tokens: string[];
  /** Merge priorities (higher merges first), `[V]`. */
  scores: number[];
  /** {@link TOKEN_TYPE} per id, `[V]`. */
  types: number[];
  bos: number;
  eos: number;
  unk: number;
  /** Prepend `▁` before encoding (and strip the leading space when decoding). */
  addSpacePrefix: boolean;
}

/** Options of {@link SentencePieceTokenizer.encode}. */
export interface SpmEncodeOptions {
  /** Prepend the BOS id (default false). */
  bos?: boolean;
  /** Append the EOS id (default false). */
  eos?: boolean;
}

const SPACE = '\u2581';
const WORD_CACHE_MAX = 200_000;

/** A SentencePiece BPE tokenizer (encode text ↔ ids). */
export class SentencePieceTokenizer {
  readonly vocab: SpmVocab;
  private pieceToId = new Map<string, number>();
  private byteIds: Int32Array;
  private splitWords: boolean;
  private cache = new Map<string, number[]>();
  private utf8 = new TextEncoder();

  constructor(vocab: SpmVocab) {
    const V = vocab.tokens.length;
    if (vocab.scores.length !== V || vocab.types.length !== V) {
      throw new Error(`sentencepiece: tokens (${V}), scores (${vocab.scores.length}) and token types (${vocab.types.length}) must have equal length`);
    }
    for (const k of ['bos', 'eos', 'unk'] as const) {
      if (!Number.isInteger(vocab[k]) || vocab[k] < 0 || vocab[k] >= V) {
        throw new Error(`sentencepiece: ${k} id ${vocab[k]} is outside the vocabulary [0, ${V})`);
      }
    }
    this.vocab = vocab;
    this.byteIds = new Int32Array(256).fill(-1);
    let splitWords = true;
    for (let id = 0; id < V; id++) {
      const t = vocab.tokens[id];
      const ty = vocab.types[id];
      if (ty === TOKEN_TYPE.BYTE) {
        const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(t);
        if (!m) throw new Error(`sentencepiece: byte token #${id} is '${t}', expected '<0xNN>'`);
        this.byteIds[parseInt(m[1], 16)] = id;
      } else if (ty === TOKEN_TYPE.NORMAL || ty === TOKEN_TYPE.USER_DEFINED) {
        if (!this.pieceToId.has(t)) this.pieceToId.set(t, id);
        if (t.indexOf(SPACE, 1) > 0) splitWords = false;
      }
    }
    this.splitWords = splitWords;
  }

  /**
   * Builds the tokenizer from a GGUF file's `tokenizer.ggml.*` metadata.
   * @throws when the tokenizer model is not `llama` (SentencePiece) or a field is missing
   */
  static fromGguf(g: GgufFile): SentencePieceTokenizer {
    const m = g.metadata;
    const where = `gguf '${g.source}'`;
    if (m['tokenizer.ggml.model'] !== 'llama') {
      throw new Error(`${where}: tokenizer.ggml.model is ${JSON.stringify(m['tokenizer.ggml.model'])}, expected "llama" (SentencePiece)`);
    }
    const arr = <T>(key: string, kind: string): T[] => {
      const v = m[key];
      if (!Array.isArray(v)) throw new Error(`${where}: missing or non-array metadata '${key}'`);
      if (v.some((x) => typeof x !== kind)) throw new Error(`${where}: metadata '${key}' must hold ${kind}s`);
      return v as T[];
    };
    const tokens = arr<string>('tokenizer.ggml.tokens', 'string');
    const scores = m['tokenizer.ggml.scores'] === undefined ? tokens.map(() => 0) : arr<number>('tokenizer.ggml.scores', 'number');
    const types = m['tokenizer.ggml.token_type'] === undefined ? tokens.map(() => TOKEN_TYPE.NORMAL) : arr<number>('tokenizer.ggml.token_type', 'number');
    const id = (key: string, fallback: number) => {
      const v = m[key];
      return typeof v === 'number' ? v : fallback;
    };
    const asp = m['tokenizer.ggml.add_space_prefix'];
    return new SentencePieceTokenizer({
      tokens,
      scores,
      types,
      bos: id('tokenizer.ggml.bos_token_id', 1),
      eos: id('tokenizer.ggml.eos_token_id', 2),
      unk: id('tokenizer.ggml.unknown_token_id', 0),
      addSpacePrefix: typeof asp === 'boolean' ? asp : true,
    });
  }

  /** Vocabulary size V. */
  get size(): number {
    return this.vocab.tokens.length;
  }
  get bos(): number {
    return this.vocab.bos;
  }
  get eos(): number {
    return this.vocab.eos;
  }

  /** The piece string of an id (e.g. `▁Once`, `<0x0A>`, `<s>`). */
  piece(id: number): string {
    const t = this.vocab.tokens[id];
    if (t === undefined) throw new Error(`sentencepiece: id ${id} is outside the vocabulary [0, ${this.size})`);
    return t;
  }

  /** Text → ids `[n]` (see the module doc for the algorithm). */
  encode(text: string, opt: SpmEncodeOptions = {}): number[] {
    const out: number[] = [];
    if (opt.bos) out.push(this.vocab.bos);
    if (text.length) {
      let s = text.replaceAll(' ', SPACE);
      if (this.vocab.addSpacePrefix) s = SPACE + s;
      if (this.splitWords) {
        // Each chunk is a maximal run starting at a ▁ (or the text start) with no further ▁.
        let start = 0;
        for (let i = 1; i <= s.length; i++) {
          if (i === s.length || s[i] === SPACE) {
            this.encodeWord(s.slice(start, i), out);
            start = i;
          }
        }
      } else {
        for (const id of this.bpe(s)) out.push(id);
      }
    }
    if (opt.eos) out.push(this.vocab.eos);
    return out;
  }

  private encodeWord(w: string, out: number[]): void {
    let ids = this.cache.get(w);
    if (!ids) {
      ids = this.bpe(w);
      if (this.cache.size >= WORD_CACHE_MAX) this.cache.clear();
      this.cache.set(w, ids);
    }
    for (const id of ids) out.push(id);
  }

  /** Score-ordered pair merging over code points, then byte fallback. */
  private bpe(s: string): number[] {
    const sym = Array.from(s);
    const { scores } = this.vocab;
    for (;;) {
      let best = -Infinity;
      let at = -1;
      for (let i = 0; i + 1 < sym.length; i++) {
        const id = this.pieceToId.get(sym[i] + sym[i + 1]);
        if (id !== undefined && scores[id] > best) {
          best = scores[id];
          at = i;
        }
      }
      if (at < 0) break;
      sym.splice(at, 2, sym[at] + sym[at + 1]);
    }
    const ids: number[] = [];
    for (const p of sym) {
      const id = this.pieceToId.get(p);
      if (id !== undefined) {
        ids.push(id);
        continue;
      }
      for (const b of this.utf8.encode(p)) {
        const bid = this.byteIds[b];
        ids.push(bid >= 0 ? bid : this.vocab.unk);
      }
    }
    return ids;
  }

  /**
   * Ids → text. Control tokens (BOS/EOS) are skipped; byte tokens are reassembled into UTF-8.
   * @param stripLeadingSpace drop the space of the `add_space_prefix` `▁` (default: `addSpacePrefix`)
   */
  decode(ids: ArrayLike<number>, stripLeadingSpace = this.vocab.addSpacePrefix): string {
    const bytes: number[] = [];
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k];
      const t = this.piece(id);
      const ty = this.vocab.types[id];
      if (ty === TOKEN_TYPE.CONTROL) continue;
      if (ty === TOKEN_TYPE.BYTE) {
        bytes.push(parseInt(t.slice(3, 5), 16));
        continue;
      }
      const surface = ty === TOKEN_TYPE.UNKNOWN ? ' \u2047 ' : t.replaceAll(SPACE, ' ');
      for (const b of this.utf8.encode(surface)) bytes.push(b);
    }
    let text = new TextDecoder('utf-8').decode(new Uint8Array(bytes));
    if (stripLeadingSpace && text.startsWith(' ')) text = text.slice(1);
    return text;
  }
}
