/**
 * Instruction layout (lib/text/instructions.ts): exact x / y / mask vectors for hand-built prompt and
 * response ids, truncation, errors, and the pair constructions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodeInstruction,
  encodePairs,
  instructionDataset,
  selfInstructPairs,
  splitFirstSentence,
  storyPairs,
} from '../../lib/text/instructions.ts';

const BOS = 1;
const EOS = 2;
const PAD = 0;

test('prompt masking: bos + prompt + response + eos, padded after the text', () => {
  const e = encodeInstruction([10, 11], [20, 21], { length: 8, bos: BOS, eos: EOS, pad: PAD });
  // seq = [1, 10, 11, 20, 21, 2]
  assert.deepEqual(Array.from(e.x), [1, 10, 11, 20, 21, 2, PAD, PAD]); // the eos is an input whose target is padding
  assert.deepEqual(Array.from(e.y), [10, 11, 20, 21, 2, PAD, PAD, PAD]);
  assert.deepEqual(Array.from(e.mask), [0, 0, 1, 1, 1, 0, 0, 0]); // targets 20, 21, eos
  assert.equal(e.promptTokens, 3);
  assert.equal(e.responseTokens, 3);
  assert.equal(e.truncated, false);
});

test('prompt masking without bos / eos', () => {
  const e = encodeInstruction([5, 6, 7], [8], { length: 4, pad: 9 });
  // seq = [5, 6, 7, 8]
  assert.deepEqual(Array.from(e.x), [5, 6, 7, 8]);
  assert.deepEqual(Array.from(e.y), [6, 7, 8, 9]);
  assert.deepEqual(Array.from(e.mask), [0, 0, 1, 0]);
  assert.equal(e.responseTokens, 1);
});

test('exactly L+1 tokens fill the window with no padding', () => {
  const e = encodeInstruction([10], [20, 21, 22], { length: 5, bos: BOS, eos: EOS, pad: PAD });
  // seq = [1, 10, 20, 21, 22, 2] (6 = L+1)
  assert.deepEqual(Array.from(e.x), [1, 10, 20, 21, 22]);
  assert.deepEqual(Array.from(e.y), [10, 20, 21, 22, 2]);
  assert.deepEqual(Array.from(e.mask), [0, 1, 1, 1, 1]);
  assert.equal(e.truncated, false);
});

test('long responses are cut to the window (the eos is lost)', () => {
  const e = encodeInstruction([10, 11], [20, 21, 22, 23, 24], { length: 5, bos: BOS, eos: EOS, pad: PAD });
  // seq = [1, 10, 11, 20, 21, 22 | 23, 24, 2]
  assert.deepEqual(Array.from(e.x), [1, 10, 11, 20, 21]);
  assert.deepEqual(Array.from(e.y), [10, 11, 20, 21, 22]);
  assert.deepEqual(Array.from(e.mask), [0, 0, 1, 1, 1]);
  assert.equal(e.truncated, true);
  assert.equal(e.responseTokens, 3);
});

test('a prompt that fills the window is an error naming the example; so is an empty response', () => {
  assert.throws(() => encodeInstruction([10, 11, 12, 13], [20], { length: 4, bos: BOS, pad: PAD }, 'pair #7'), /pair #7: prompt of 5 tokens leaves no response token/);
  // the boundary: prompt of L tokens still leaves the first response token as the last target
  const e = encodeInstruction([10, 11, 12], [20], { length: 4, bos: BOS, pad: PAD });
  assert.deepEqual(Array.from(e.mask), [0, 0, 0, 1]);
  assert.throws(() => encodeInstruction([10], [], { length: 4, pad: PAD }), /empty response/);
  assert.throws(() => encodeInstruction([10], [1], { length: 0, pad: PAD }), /length must be a positive integer/);
  assert.throws(() => encodeInstruction([10], [1], { length: 4, pad: -1 }), /pad must be a non-negative integer/);
});

test('encodePairs tokenises prompt and response separately; instructionDataset stacks them', () => {
  const tok = { encode: (s: string) => Array.from(s, (c) => c.charCodeAt(0) - 96) }; // a → 1, b → 2, …
  const enc = encodePairs(
    [
      { id: 'p0', prompt: 'ab', response: 'c' },
      { id: 'p1', prompt: 'd', response: 'ef' },
    ],
    tok,
    { length: 4, bos: 30, eos: 31, pad: 0 },
  );
  const ds = instructionDataset(enc, 32, 'toy', { source: 'test' });
  assert.equal(ds.n, 2);
  assert.deepEqual(ds.xShape, [4]);
  assert.deepEqual(Array.from(ds.x), [30, 1, 2, 3, 30, 4, 5, 6]);
  assert.deepEqual(Array.from(ds.y), [1, 2, 3, 31, 4, 5, 6, 31]);
  assert.deepEqual(Array.from(ds.mask!), [0, 0, 1, 1, 0, 1, 1, 1]);
  assert.equal(ds.meta?.source, 'test');
  assert.throws(() => instructionDataset(enc, 31, 'small'), /token id 31 outside the vocabulary/);
  assert.throws(() => instructionDataset([], 32, 'empty'), /no examples/);
});

test('story pairs: first sentence into the prompt, the rest (whitespace collapsed) as response', () => {
  assert.deepEqual(splitFirstSentence('Once upon a time, Tom ran.  He was\nhappy! The end.'), { first: 'Once upon a time, Tom ran.', rest: 'He was happy! The end.' });
  assert.deepEqual(splitFirstSentence('"Hi!" said Sue. "Bye."'), { first: '"Hi!" said Sue.', rest: '"Bye."' });
  assert.deepEqual(splitFirstSentence('Mr. Sun is up. Go.'), { first: 'Mr.', rest: 'Sun is up. Go.' }); // a known limit of the heuristic
  assert.equal(splitFirstSentence('No boundary here'), null);
  const pairs = storyPairs(['A dog sat. It barked.', 'no end', 'Sun rose! Birds sang.']);
  assert.deepEqual(pairs, [
    { id: 'tinystories#0', prompt: 'Continue the story: A dog sat.', response: 'It barked.' },
    { id: 'tinystories#2', prompt: 'Continue the story: Sun rose!', response: 'Birds sang.' },
  ]);
  assert.throws(() => storyPairs(['a. b.'], 'no placeholder'), /must contain '\{first\}'/);
});

test('Self-Instruct pairs: instruction (+ newline + input) → output', () => {
  const pairs = selfInstructPairs([
    { id: 't1', instruction: 'Add.', input: '2 and 3', output: '5' },
    { id: 't2', instruction: 'Greet.', input: '', output: 'Hello' },
    { id: 't3', instruction: 'Nothing.', input: '', output: '  ' },
  ]);
  assert.deepEqual(pairs, [
    { id: 't1', prompt: 'Add.\n2 and 3', response: '5' },
    { id: 't2', prompt: 'Greet.', response: 'Hello' },
  ]);
});
