/** SentencePiece BPE rules on a hand-made vocabulary: score order, leftmost ties, byte fallback, no-split path. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SentencePieceTokenizer, TOKEN_TYPE, type SpmVocab } from '../../lib/text/sentencepiece.ts';

function vocab(pieces: [string, number][], extra: Partial<SpmVocab> = {}): SpmVocab {
  const bytes = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
  const tokens = ['<unk>', '<s>', '</s>', ...bytes, ...pieces.map((p) => p[0])];
  const scores = [0, 0, 0, ...bytes.map(() => 0), ...pieces.map((p) => p[1])];
  const types = [TOKEN_TYPE.UNKNOWN, TOKEN_TYPE.CONTROL, TOKEN_TYPE.CONTROL, ...bytes.map(() => TOKEN_TYPE.BYTE), ...pieces.map(() => TOKEN_TYPE.NORMAL)];
  return { tokens, scores, types, bos: 1, eos: 2, unk: 0, addSpacePrefix: true, ...extra };
}
const BASE = 259;

test('spm: the highest-scoring pair merges first, not the leftmost', () => {
  // "abc": "bc" (score -1) beats "ab" (score -2), so the result is a + bc, never ab + c.
  const tok = new SentencePieceTokenizer(vocab([['▁', -10], ['a', -10], ['b', -10], ['c', -10], ['ab', -2], ['bc', -1], ['▁a', -5]]));
  const id = (p: string) => tok.vocab.tokens.indexOf(p);
  // ▁ a b c: candidates ▁a(-5) ab(-2) bc(-1) → bc; then ▁a(-5) → ▁a bc.
  assert.deepEqual(tok.encode('abc'), [id('▁a'), id('bc')]);
  assert.equal(tok.decode(tok.encode('abc')), 'abc');
});

test('spm: equal scores merge the leftmost pair', () => {
  const tok = new SentencePieceTokenizer(vocab([['▁', -10], ['a', -10], ['aa', -1]], { addSpacePrefix: false }));
  const id = (p: string) => tok.vocab.tokens.indexOf(p);
  assert.deepEqual(tok.encode('aaa'), [id('aa'), id('a')]);
});

test('spm: byte fallback, spaces, control tokens skipped in decode', () => {
  const tok = new SentencePieceTokenizer(vocab([['▁', -10], ['x', -10], ['▁x', -1]]));
  const id = (p: string) => tok.vocab.tokens.indexOf(p);
  // 'é' is not a piece: UTF-8 C3 A9 → byte tokens 3 + 0xC3, 3 + 0xA9.
  assert.deepEqual(tok.encode('x é', { bos: true }), [1, id('▁x'), id('▁'), 3 + 0xc3, 3 + 0xa9]);
  assert.equal(tok.decode([1, id('▁x'), id('▁'), 3 + 0xc3, 3 + 0xa9, 2]), 'x é');
  assert.equal(tok.decode([id('▁x')], false), ' x');
});

test('spm: pieces with an inner ▁ disable per-word splitting and can merge across words', () => {
  const tok = new SentencePieceTokenizer(vocab([['▁', -10], ['a', -10], ['▁a', -3], ['▁a▁a', -1], ['a▁', -2]]));
  const id = (p: string) => tok.vocab.tokens.indexOf(p);
  // ▁ a ▁ a: pairs ▁a(-3), a▁(-2), ▁a(-3) → a▁ merges (across the word boundary); ▁a▁ and a▁a are not pieces.
  assert.deepEqual(tok.encode('a a'), [id('▁'), id('a▁'), id('a')]);
  assert.equal(tok.decode(tok.encode('a a')), 'a a');
});

test('spm: invalid vocabularies are rejected with the field named', () => {
  assert.throws(() => new SentencePieceTokenizer({ ...vocab([]), scores: [1] }), /must have equal length/);
  assert.throws(() => new SentencePieceTokenizer({ ...vocab([]), bos: 999 }), /bos id 999 is outside the vocabulary/);
  const v = vocab([]);
  v.tokens[5] = 'xx';
  assert.throws(() => new SentencePieceTokenizer(v), /byte token #5 is 'xx', expected '<0xNN>'/);
});
