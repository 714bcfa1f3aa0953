/**
 * The Llama setting (lib/settings/llama.ts): the quick preset's instruction sequences are exactly the
 * documented layout (recomputed from the pairs with the GGUF tokenizer), the model starts from the real
 * stories260K weights, a few steps train, AdamW-influence gives finite scores; the paper preset's error;
 * the tokenizer.json byte-level BPE on a hand-built vocabulary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/runtime/backend.ts';
import { tf } from '../../lib/runtime/tf.ts';
import { rngFor } from '../../lib/runtime/rng.ts';
import { loadSetting } from '../../lib/settings/index.ts';
import { ByteLevelBpeTokenizer, loadLlamaSetting, type LlamaSettingDescription } from '../../lib/settings/llama.ts';
import { dataFilePath, loadStories } from '../../lib/data/registry.ts';
import { subset } from '../../lib/data/dataset.ts';
import { readGguf, ggufToLlama } from '../../lib/models/gguf.ts';
import { disposeParams } from '../../lib/models/params.ts';
import { SentencePieceTokenizer } from '../../lib/text/sentencepiece.ts';
import { encodeInstruction, storyPairs } from '../../lib/text/instructions.ts';
import { train } from '../../lib/train/trainer.ts';
import { getEstimator } from '../../lib/estimators/registry.ts';
import { DATA, missingData } from '../helpers/data.ts';

await initBackend({ backend: 'wasm' });
const skip0 = await missingData(...[...DATA.stories260k, ...DATA.tinystories]);
const skip1 = await missingData(...[...DATA.stories260k, ...DATA.tinystories]);

test('llama quick: stories260K, prompt-masked TinyStories sequences, a few steps, finite AdamW-influence', { skip: skip0 }, async () => {
  const s = await loadSetting('llama', 'quick', { seed: 0 });
  const d = s.describe as LlamaSettingDescription;
  assert.equal(s.train.n, 12);
  assert.equal(s.test.n, 8);
  assert.deepEqual(s.train.xShape, [48]);
  assert.equal(s.train.classes, 512);
  assert.equal(d.model.nParams, 260032);
  assert.deepEqual([d.tokenizer.bos, d.tokenizer.eos, d.tokenizer.pad], [1, 2, 2]);

  // Every sequence is exactly encodeInstruction(prompt, response) of its pair, and the mask covers the
  // response targets only: zeros (prompt), then ones, then zeros (padding).
  const g = readGguf(await dataFilePath('models/stories260K/stories260K.gguf'));
  const tok = SentencePieceTokenizer.fromGguf(g);
  const pairs = new Map(storyPairs(await loadStories()).map((p) => [p.id, p]));
  const ids = s.train.meta?.pairIds as string[];
  const testIds = s.test.meta?.pairIds as string[];
  assert.equal(new Set([...ids, ...testIds]).size, 20, 'train and query pairs are disjoint');
  const L = 48;
  ids.forEach((id, i) => {
    const p = pairs.get(id)!;
    const e = encodeInstruction(tok.encode(p.prompt), tok.encode(p.response), { length: L, bos: 1, eos: 2, pad: 2 });
    const x = s.train.x.subarray(i * L, (i + 1) * L);
    const m = s.train.mask!.subarray(i * L, (i + 1) * L);
    assert.deepEqual(Array.from(x), Array.from(e.x));
    assert.deepEqual(Array.from(s.train.y.subarray(i * L, (i + 1) * L)), Array.from(e.y));
    assert.deepEqual(Array.from(m), Array.from(e.mask));
    assert.equal(x[0], 1, 'BOS first');
    assert.ok(e.promptTokens <= 24, 'eligible prompts take at most L/2 tokens');
    const first = m.indexOf(1);
    assert.equal(first, e.promptTokens - 1, 'the first counted target is the first response token');
    const ones = Array.from(m).filter((v) => v === 1).length;
    assert.ok(Array.from(m.subarray(first, first + ones)).every((v) => v === 1), 'one contiguous block of ones');
    assert.ok(tok.decode(Array.from(s.train.y.subarray(i * L + first, i * L + first + 5))).trim().length > 0);
    assert.ok(p.response.startsWith(tok.decode(Array.from(s.train.y.subarray(i * L + first, i * L + first + 3))).trim()));
  });

  // θ₀ is the real stories260K weights.
  const ref = ggufToLlama(g).params;
  const p0 = s.model.init(rngFor(0, 'init'));
  assert.deepEqual(p0['layers.2.attn.wq'].dataSync(), ref['layers.2.attn.wq'].dataSync());
  disposeParams(p0);
  disposeParams(ref);

  const before = tf.memory().numTensors;
  const traj = await train({ model: s.model, data: s.train, setting: { ...s.trainConfig, maxSteps: 2 } });
  assert.ok(traj.losses.every((l) => Number.isFinite(l) && l > 0 && l < 4), `a pretrained TinyStories model: small losses ${traj.losses}`);
  const scores = await getEstimator('adamw-influence').score(
    { model: s.model, data: s.train, trajectory: traj, queries: subset(s.test, [0]), trainIds: traj.batches[0].slice(0, 2) },
    { curvature: 'exact' },
  );
  assert.ok(Array.from(scores.values).every(Number.isFinite), `scores ${scores.values}`);
  assert.ok(Array.from(scores.values).some((v) => v !== 0));
  assert.equal(tf.memory().numTensors, before, 'no tensors leaked');
});

test('llama: the seed draws other pairs; unknown source is an error', { skip: skip1 }, async () => {
  const a = await loadLlamaSetting('quick', { seed: 0 });
  const b = await loadLlamaSetting('quick', { seed: 1 });
  assert.notDeepEqual(a.train.meta?.pairIds, b.train.meta?.pairIds);
  await assert.rejects(loadLlamaSetting('quick', { source: 'alpaca' as never }), /unknown instruction source 'alpaca'/);
});

test('llama paper without its files or the tensorflow backend: one error listing them', async () => {
  const saved = ['FTDA_LLAMA_CHECKPOINT', 'FTDA_LLAMA_CONFIG', 'FTDA_LLAMA_TOKENIZER'].map((k) => [k, process.env[k]] as const);
  for (const [k] of saved) delete process.env[k];
  try {
    await assert.rejects(loadSetting('llama', 'paper'), (e: Error) => {
      assert.match(e.message, /Llama 3\.2-1B/);
      assert.match(e.message, /FTDA_LLAMA_CHECKPOINT/);
      assert.match(e.message, /config\.json/);
      assert.match(e.message, /FTDA_LLAMA_TOKENIZER/);
      assert.match(e.message, /llama3-tokenizer-js is not installed/);
      assert.match(e.message, /'tensorflow' backend/);
      return true;
    });
  } finally {
    for (const [k, v] of saved) if (v !== undefined) process.env[k] = v;
  }
});

/** A hand-built byte-level BPE tokenizer.json (Llama 3 layout): 256 byte characters + 3 merges. */
function toyTokenizerJson(ignoreMerges: boolean): Record<string, unknown> {
  const keep = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const chars: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) chars.push(String.fromCodePoint(keep(b) ? b : 256 + extra++));
  const vocab: Record<string, number> = {};
  chars.forEach((c, i) => (vocab[c] = i));
  vocab['Ġt'] = 256; // Ġ = space
  vocab['he'] = 257;
  vocab['Ġthe'] = 258;
  vocab['Ġcat'] = 259; // reachable only whole (no merges build it)
  return {
    added_tokens: [
      { id: 260, content: '<|begin_of_text|>' },
      { id: 261, content: '<|end_of_text|>' },
    ],
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    model: { type: 'BPE', ignore_merges: ignoreMerges, vocab, merges: ['Ġ t', ['h', 'e'], 'Ġt he'] },
  };
}

test('ByteLevelBpeTokenizer: pattern split, byte characters, rank-ordered merges, ignore_merges', () => {
  // Byte-level ids of the toy vocabulary: id = byte value (t = 116, c = 99, …).
  const tok = new ByteLevelBpeTokenizer(toyTokenizerJson(true));
  assert.deepEqual([tok.bos, tok.eos, tok.size], [260, 261, 262]);
  // pieces "the" (t + merged he), " the" and " cat" (whole vocabulary entries)
  assert.deepEqual(tok.encode('the the cat'), [116, 257, 258, 259]);
  assert.deepEqual(tok.encode("It's\n"), [73, 116, 39, 115, 10]); // "It", "'s", "\n"
  // Without ignore_merges " cat" must be built by merges, which cannot: single bytes (Ġ = byte 32).
  const strict = new ByteLevelBpeTokenizer(toyTokenizerJson(false));
  assert.deepEqual(strict.encode(' cat'), [32, 99, 97, 116]);
  assert.deepEqual(strict.encode(' the'), [258]); // Ġ t → Ġt, h e → he, Ġt he → Ġthe
  const bad = toyTokenizerJson(true);
  bad.pre_tokenizer = { type: 'ByteLevel', add_prefix_space: true };
  assert.throws(() => new ByteLevelBpeTokenizer(bad, 'x.json'), /x\.json: pre_tokenizer is not Llama 3's split pattern/);
  assert.throws(() => new ByteLevelBpeTokenizer({ model: { type: 'Unigram' } }, 'y.json'), /y\.json: expected model.type "BPE"/);
});
