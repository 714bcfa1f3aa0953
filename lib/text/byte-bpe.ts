/**
 * Byte-level BPE tokenizer read from a Hugging Face `tokenizer.json` (Llama 3), for the Llama `paper`
 * preset (the `llama3-tokenizer-js` npm package is not installed; users supply tokenizer.json).
 *
 * @module
 */
import fs from 'node:fs';
import type { TokenEncoder } from './instructions.ts';

// Llama 3 tokenizer from a Hugging Face tokenizer.json (paper preset)

/** Llama 3's pre-tokenizer pattern as written in its tokenizer.json. */
const LLAMA3_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
/** The same pattern for JavaScript (no inline `(?i:` group in Node 20: the contractions are spelled out). */
const LLAMA3_REGEX = /'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;

/** GPT-2's byte ↔ printable-character table used by byte-level BPE vocabularies. */
function byteToChar(): string[] {
  const keep = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const out: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCodePoint(keep(b) ? b : 256 + extra++);
  return out;
}

/**
 * Byte-level BPE from a Hugging Face `tokenizer.json` (model type BPE, Llama 3's split pattern): text is
 * split by the pattern, each piece's UTF-8 bytes are mapped to GPT-2's printable characters, a piece that
 * is itself a vocabulary entry is taken whole (`ignore_merges`, as Llama 3 sets it), otherwise the
 * adjacent pair with the lowest merge rank is merged (leftmost first) until none applies. Special tokens
 * are never parsed from text. BOS = `<|begin_of_text|>`, EOS = `<|end_of_text|>` (from `added_tokens`).
 * Only Llama 3's pattern is accepted (others: error), as the suite cannot test other pre-tokenizers.
 */
export class ByteLevelBpeTokenizer implements TokenEncoder {
  readonly size: number;
  readonly bos: number;
  readonly eos: number;
  private vocab = new Map<string, number>();
  private ranks = new Map<string, number>();
  private ignoreMerges: boolean;
  private chars = byteToChar();
  private utf8 = new TextEncoder();
  private cache = new Map<string, number[]>();

  constructor(json: Record<string, unknown>, where = 'tokenizer.json') {
    const model = json.model as { type?: string; vocab?: Record<string, number>; merges?: (string | string[])[]; ignore_merges?: boolean } | undefined;
    if (!model || model.type !== 'BPE' || !model.vocab || !Array.isArray(model.merges)) {
      throw new Error(`${where}: expected model.type "BPE" with vocab and merges`);
    }
    const pattern = JSON.stringify(json.pre_tokenizer ?? null);
    if (!pattern.includes(JSON.stringify(LLAMA3_PATTERN).slice(1, -1))) {
      throw new Error(`${where}: pre_tokenizer is not Llama 3's split pattern (only that one is supported)`);
    }
    let max = -1;
    for (const [tok, id] of Object.entries(model.vocab)) {
      this.vocab.set(tok, id);
      max = Math.max(max, id);
    }
    model.merges.forEach((m, r) => this.ranks.set(Array.isArray(m) ? m.join(' ') : m, r));
    const added = (json.added_tokens as { id: number; content: string }[] | undefined) ?? [];
    for (const a of added) max = Math.max(max, a.id);
    const special = (name: string) => {
      const a = added.find((t) => t.content === name);
      if (!a) throw new Error(`${where}: added_tokens lacks '${name}'`);
      return a.id;
    };
    this.bos = special('<|begin_of_text|>');
    this.eos = special('<|end_of_text|>');
    this.size = max + 1;
    this.ignoreMerges = model.ignore_merges ?? false;
  }

  /** Reads and parses a tokenizer.json file. */
  static fromFile(file: string): ByteLevelBpeTokenizer {
    return new ByteLevelBpeTokenizer(JSON.parse(fs.readFileSync(file, 'utf8')), file);
  }

  /** Text → ids (no BOS/EOS). */
  encode(text: string): number[] {
    const out: number[] = [];
    for (const m of text.matchAll(LLAMA3_REGEX)) {
      const word = Array.from(this.utf8.encode(m[0]), (b) => this.chars[b]).join('');
      let ids = this.cache.get(word);
      if (!ids) {
        ids = this.bpe(word);
        if (this.cache.size > 100_000) this.cache.clear();
        this.cache.set(word, ids);
      }
      for (const id of ids) out.push(id);
    }
    return out;
  }

  private bpe(word: string): number[] {
    const whole = this.vocab.get(word);
    if (this.ignoreMerges && whole !== undefined) return [whole];
    const sym = Array.from(word);
    for (;;) {
      let best = Infinity;
      let at = -1;
      for (let i = 0; i + 1 < sym.length; i++) {
        const r = this.ranks.get(`${sym[i]} ${sym[i + 1]}`);
        if (r !== undefined && r < best) {
          best = r;
          at = i;
        }
      }
      if (at < 0) break;
      sym.splice(at, 2, sym[at] + sym[at + 1]);
    }
    return sym.map((s) => {
      const id = this.vocab.get(s);
      if (id === undefined) throw new Error(`tokenizer.json: piece ${JSON.stringify(s)} is not in the vocabulary (incomplete byte alphabet?)`);
      return id;
    });
  }
}
