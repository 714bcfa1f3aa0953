/**
 * GPT-2 BPE (lib/text/gpt2.ts, via gpt-tokenizer) against a reference implementation of OpenAI's original
 * byte-level BPE (encoder.py) run on the original encoder.json + vocab.bpe, on WikiText-2 text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { decodeGpt2, encodeGpt2, GPT2_EOT, GPT2_VOCAB_SIZE } from '../../lib/text/gpt2.ts';
import { DATA, dataPath, missingData } from '../helpers/data.ts';

const skip = await missingData(...DATA.gpt2Tokenizer, 'wikitext-2/wiki.valid.tokens.gz');

/** OpenAI's encoder.py, transcribed: bytes_to_unicode, the pre-tokenisation regex, rank-ordered merges. */
class ReferenceBpe {
  private encoder: Record<string, number>;
  private ranks = new Map<string, number>();
  private byteToChar: string[] = [];
  private cache = new Map<string, string[]>();
  private pat = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

  constructor(encoderJson: string, vocabBpe: string) {
    this.encoder = JSON.parse(encoderJson);
    const lines = vocabBpe.split('\n').slice(1).filter((l) => l.length);
    lines.forEach((l, i) => this.ranks.set(l, i)); // "a b" → rank
    const bs: number[] = [];
    for (let b = 33; b <= 126; b++) bs.push(b);
    for (let b = 161; b <= 172; b++) bs.push(b);
    for (let b = 174; b <= 255; b++) bs.push(b);
    const cs = bs.slice();
    let n = 0;
    for (let b = 0; b < 256; b++) {
      if (!bs.includes(b)) {
        bs.push(b);
        cs.push(256 + n++);
      }
    }
    bs.forEach((b, i) => (this.byteToChar[b] = String.fromCharCode(cs[i])));
  }

  private bpe(token: string): string[] {
    const hit = this.cache.get(token);
    if (hit) return hit;
    let word = Array.from(token);
    while (word.length > 1) {
      let best = Infinity;
      let pair: [string, string] | undefined;
      for (let i = 0; i + 1 < word.length; i++) {
        const r = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (r !== undefined && r < best) {
          best = r;
          pair = [word[i], word[i + 1]];
        }
      }
      if (!pair) break;
      const next: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (i + 1 < word.length && word[i] === pair[0] && word[i + 1] === pair[1]) {
          next.push(pair[0] + pair[1]);
          i += 2;
        } else {
          next.push(word[i++]);
        }
      }
      word = next;
    }
    this.cache.set(token, word);
    return word;
  }

  encode(text: string): number[] {
    const out: number[] = [];
    for (const [m] of text.matchAll(this.pat)) {
      const mapped = Array.from(new TextEncoder().encode(m), (b) => this.byteToChar[b]).join('');
      for (const piece of this.bpe(mapped)) {
        const id = this.encoder[piece];
        assert.ok(id !== undefined, `piece ${piece} not in encoder.json`);
        out.push(id);
      }
    }
    return out;
  }
}

const ref = skip
  ? undefined!
  : new ReferenceBpe(fs.readFileSync(await dataPath('tokenizers/gpt2/encoder.json'), 'utf8'), fs.readFileSync(await dataPath('tokenizers/gpt2/vocab.bpe'), 'utf8'));
const valid = skip ? '' : zlib.gunzipSync(fs.readFileSync(await dataPath('wikitext-2/wiki.valid.tokens.gz'))).toString('utf8');

test('gpt2 BPE: the README ids for " = Robert Boulter ="', { skip }, () => {
  const want = [796, 5199, 347, 2852, 353, 796];
  assert.deepEqual(encodeGpt2(' = Robert Boulter ='), want);
  assert.deepEqual(ref.encode(' = Robert Boulter ='), want);
  assert.equal(decodeGpt2(want), ' = Robert Boulter =');
});

test('gpt2 BPE: equals the reference BPE on WikiText-2 valid paragraphs (incl. non-ASCII)', { skip }, () => {
  const lines = valid.split('\n');
  const paragraphs = lines.filter((l) => l.length > 200).slice(0, 4);
  const nonAscii = lines.find((l) => /[^\x00-\x7f]/.test(l) && l.length > 100);
  assert.ok(nonAscii, 'a line with non-ASCII characters exists');
  const text = [...paragraphs, nonAscii, ' = = Heading = = \n'].join('\n');
  const ids = encodeGpt2(text);
  assert.deepEqual(ids, ref.encode(text));
  assert.ok(ids.length > 500);
  assert.equal(decodeGpt2(ids), text);
  assert.ok(ids.every((i) => i >= 0 && i < GPT2_VOCAB_SIZE));
});

test('gpt2 BPE: <|endoftext|> only when allowed; bad ids rejected', { skip }, () => {
  assert.deepEqual(encodeGpt2('a<|endoftext|>b', { allowEndOfText: true }), [64, GPT2_EOT, 65]);
  assert.deepEqual(encodeGpt2('a<|endoftext|>b'), ref.encode('a<|endoftext|>b'), 'ordinary text by default');
  assert.throws(() => decodeGpt2([1, 50257]), /id 50257 at position 1 is outside \[0, 50257\)/);
});
