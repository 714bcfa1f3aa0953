/**
 * stories260K (GGUF, real pretrained Llama): the llama forward pass must reproduce the published greedy
 * sample, and the GGUF tokenizer must decode/encode it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/runtime/backend.ts';
import { tf } from '../../lib/runtime/tf.ts';
import { readGguf, ggufToLlama } from '../../lib/models/gguf.ts';
import { llama, LLAMA_PRESETS } from '../../lib/models/llama.ts';
import { SentencePieceTokenizer } from '../../lib/text/sentencepiece.ts';
import { DATA, dataPath, missingData } from '../helpers/data.ts';

await initBackend({ backend: 'wasm' });

const skip = await missingData(...DATA.stories260k);
const GOLDEN = [403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337];
const gguf = skip ? undefined! : readGguf(await dataPath(DATA.stories260k[0]));

test('stories260K: GGUF header and config', { skip }, () => {
  assert.equal(gguf.version, 3);
  assert.equal(gguf.tensors.length, 48);
  assert.equal(gguf.dataOffset, 14176);
  const { config, params } = ggufToLlama(gguf);
  // Same architecture as the preset; ctx comes from the file's (converter-default) context_length.
  assert.deepEqual({ ...config, ctx: 512, normEps: 1e-5 }, LLAMA_PRESETS.stories260K);
  assert.equal(config.ctx, 2048);
  assert.equal(config.tiedEmbeddings, true, 'output.weight equals token_embd.weight');
  assert.deepEqual(params['layers.0.attn.wk'].shape, [64, 32]);
  assert.deepEqual(params['layers.0.mlp.w_down'].shape, [172, 64]);
  tf.dispose(Object.values(params));
});

test('stories260K: greedy decoding from BOS reproduces the golden ids', { skip }, () => {
  const { config, params } = ggufToLlama(gguf);
  const model = llama(config);
  const before = tf.memory().numTensors;
  const ids = [1];
  for (let step = 0; step < GOLDEN.length; step++) {
    const next = tf.tidy(() => {
      const z = model.logits(params, tf.tensor2d([ids], [1, ids.length], 'int32'));
      const last = tf.slice(z, [0, ids.length - 1, 0], [1, 1, config.vocab]);
      return tf.argMax(tf.reshape(last, [-1])).dataSync()[0];
    });
    ids.push(next);
  }
  assert.deepEqual(ids.slice(1), GOLDEN);
  assert.equal(tf.memory().numTensors, before, 'no tensors leaked');
  tf.dispose(Object.values(params));
});

test('stories260K tokenizer: decode golden ids, encode round trip', { skip }, () => {
  const tok = SentencePieceTokenizer.fromGguf(gguf);
  assert.equal(tok.size, 512);
  assert.equal(tok.bos, 1);
  assert.equal(tok.eos, 2);
  const text = tok.decode([1, ...GOLDEN]);
  assert.equal(text, 'Once upon a time, there was a little girl named Lily. She loved to play');
  assert.deepEqual(tok.encode(text), GOLDEN);
  assert.deepEqual(tok.encode(text, { bos: true, eos: true }), [1, ...GOLDEN, 2]);
  const sentence = 'Once upon a time, there was a little girl named Lily.';
  assert.equal(tok.decode(tok.encode(sentence)), sentence);
});

test('stories260K tokenizer: byte fallback for characters outside the vocabulary', { skip }, () => {
  const tok = SentencePieceTokenizer.fromGguf(gguf);
  const s = 'Lily saw a 🐱 and said "héllo"\nThe end.';
  const ids = tok.encode(s);
  // The cat emoji is not a piece: its 4 UTF-8 bytes become <0xF0> <0x9F> <0x90> <0xB1>.
  const cat = [0xf0, 0x9f, 0x90, 0xb1].map((b) => 3 + b);
  const at = ids.indexOf(cat[0]);
  assert.ok(at > 0, 'byte tokens present');
  assert.deepEqual(ids.slice(at, at + 4), cat);
  assert.equal(tok.decode(ids), s);
  assert.deepEqual(tok.encode(''), []);
  assert.throws(() => tok.decode([512]), /id 512 is outside the vocabulary/);
});
