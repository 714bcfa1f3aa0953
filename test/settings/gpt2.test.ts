/**
 * The GPT-2 setting (lib/settings/gpt2.ts): vocabulary compaction (exact layout, round trip to real GPT-2
 * ids and text), WikiText article splitting, the quick preset (in-suite pretraining with its cache,
 * block shapes, a few attributed steps, finite AdamW-influence scores) and the paper preset's error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../../lib/runtime/backend.ts';
import { loadSetting } from '../../lib/settings/index.ts';
import {
  buildVocabMap,
  compactIds,
  expandIds,
  loadGpt2Setting,
  splitWikitextArticles,
  type Gpt2SettingDescription,
  type VocabMap,
} from '../../lib/settings/gpt2.ts';
import { decodeGpt2, encodeGpt2, GPT2_EOT } from '../../lib/text/gpt2.ts';
import { loadText } from '../../lib/data/registry.ts';
import { subset } from '../../lib/data/dataset.ts';
import { flattenParams, disposeParams } from '../../lib/models/params.ts';
import { rngFor } from '../../lib/runtime/rng.ts';
import { train } from '../../lib/train/trainer.ts';
import { lrAt } from '../../lib/optim/schedule.ts';
import { getEstimator } from '../../lib/estimators/registry.ts';
import { DATA, missingData } from '../helpers/data.ts';

await initBackend({ backend: 'wasm' });
const skip0 = await missingData(...[...DATA.gpt2Tokenizer, ...DATA.wikitext]);
const skip1 = await missingData(...[...DATA.gpt2Tokenizer, ...DATA.wikitext]);

test('buildVocabMap: <|endoftext|> = 0, <unk> = 1, then ids by frequency (ties: smaller id first)', () => {
  const map = buildVocabMap([[7, 7, 7, 3, 3, 9, 9, 5], [GPT2_EOT, 5]], 5);
  // counts: 7×3, 3×2, 9×2, 5×2 → 7, 3, 5, 9 (ties by id); 3 slots after the two specials
  assert.deepEqual(Array.from(map.gpt2Ids), [GPT2_EOT, -1, 7, 3, 5]);
  assert.equal(map.size, 5);
  assert.equal(map.distinct, 5);
  assert.equal(map.coverage, 8 / 10); // 9 (×2) became <unk>
  assert.deepEqual(Array.from(compactIds(map, [7, 9, GPT2_EOT, 5, 3, 12345])), [2, 1, 0, 4, 3, 1]);
  assert.deepEqual(expandIds(map, [2, 0, 4]), [7, GPT2_EOT, 5]);
  assert.throws(() => expandIds(map, [1]), /position 0 is <unk>, which has no GPT-2 id/);
  assert.deepEqual(expandIds(map, [1, 3], 220), [220, 3]);
  assert.throws(() => expandIds(map, [5]), /compact id 5 at position 0 is outside \[0, 5\)/);
  assert.throws(() => compactIds(map, [50257]), /not a GPT-2 id/);
  assert.throws(() => buildVocabMap([[1]], 2), /maxSize must be an integer ≥ 3/);
  assert.equal(buildVocabMap([[3, 7]], 4).hash, buildVocabMap([[7, 3]], 4).hash);
  assert.notEqual(buildVocabMap([[3, 7]], 4).hash, buildVocabMap([[3, 7, 7]], 4).hash);
});

test('real GPT-2 ids round-trip through the compaction map (ids and text)', { skip: skip0 }, async () => {
  const text = (await loadText('wikitext2-valid')).slice(0, 4000);
  const ids = encodeGpt2(text);
  const map: VocabMap = buildVocabMap([ids], 4096);
  assert.equal(map.coverage, 1);
  const back = expandIds(map, compactIds(map, ids));
  assert.deepEqual(back, ids);
  assert.equal(decodeGpt2(back), text);
  // A capped map sends the rare ids to <unk> and keeps the GPT-2 segmentation of the others.
  const small = buildVocabMap([ids], 64);
  const c = compactIds(small, ids);
  const kept = Array.from(c).map((v, i) => [v, ids[i]]).filter(([v]) => v !== small.unk);
  assert.ok(kept.length > ids.length / 3 && kept.length < ids.length);
  for (const [v, g] of kept) assert.equal(small.gpt2Ids[v], g);
});

test('splitWikitextArticles cuts at top-level headings only', () => {
  const t = ' \n = A = \n \n text a \n = = Sub = = \n more a \n = B = \n text b \n';
  assert.deepEqual(splitWikitextArticles(t), [' \n = A = \n \n text a \n = = Sub = = \n more a ', ' = B = \n text b \n']);
});

test('gpt2 quick: pretraining (cached), blocks, a few attributed steps, finite AdamW-influence', { skip: skip1 }, async () => {
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-gpt2-'));
  try {
    let steps = 0;
    const s = await loadGpt2Setting('quick', { seed: 0, cacheDir, onPretrainStep: () => steps++ });
    const d = s.describe as Gpt2SettingDescription;
    assert.equal(steps, 40, 'the quick base model trains 40 steps');
    assert.equal(d.base.kind, 'pretrained-in-suite');
    if (d.base.kind !== 'pretrained-in-suite') return;
    assert.ok(d.base.lastEval! < d.base.firstEval! - 1, `held-out loss ${d.base.firstEval} → ${d.base.lastEval}`);
    const dir = fs.readdirSync(path.join(cacheDir, 'pretrain'))[0];
    const curve = JSON.parse(fs.readFileSync(path.join(cacheDir, 'pretrain', dir, 'pretrain.json'), 'utf8')).curve;
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    assert.ok(mean(curve.losses.slice(-10)) < mean(curve.losses.slice(0, 10)) - 1, 'training loss falls on average');

    // Shapes and the recorded vocabulary.
    assert.equal(s.train.n, 64);
    assert.equal(s.test.n, 32);
    assert.deepEqual(s.train.xShape, [32]);
    assert.deepEqual(s.train.yShape, [32]);
    assert.ok(s.train.mask!.every((v) => v === 1));
    assert.equal(d.vocab.kind, 'compact');
    if (d.vocab.kind !== 'compact') return;
    assert.equal(d.vocab.size, 1024);
    assert.equal(d.vocab.gpt2Ids.length, 1024);
    assert.equal(s.train.classes, 1024);
    assert.ok(s.train.x.every((v) => v >= 0 && v < 1024));
    // y is x shifted by one inside a block
    assert.deepEqual(Array.from(s.train.x.subarray(1, 32)), Array.from(s.train.y.subarray(0, 31)));
    // a block's compact ids map back to GPT-2 ids and decode to text (<unk> written as a space)
    const map = { ...d.vocab, gpt2Ids: Int32Array.from(d.vocab.gpt2Ids) } as unknown as VocabMap;
    const row = decodeGpt2(expandIds(map, s.train.x.subarray(0, 32), encodeGpt2(' ')[0]));
    assert.ok(row.length > 20);

    // Second load: cache hit (no training), same base θ.
    steps = 0;
    const s2 = await loadGpt2Setting('quick', { seed: 0, cacheDir, onPretrainStep: () => steps++ });
    assert.equal(steps, 0, 'cached pretraining: no step trained');
    assert.deepEqual((s2.describe as Gpt2SettingDescription).base, d.base);
    const p1 = s.model.init(rngFor(0, 'init'));
    const p2 = s2.model.init(rngFor(9, 'init'));
    assert.deepEqual(flattenParams(p1, s.model.spec), flattenParams(p2, s2.model.spec));
    disposeParams(p1);
    disposeParams(p2);

    // A few steps of the attributed run (linear schedule with warm-up) and AdamW-influence on it.
    const traj = await train({ model: s.model, data: s.train, setting: { ...s.trainConfig, maxSteps: 3 } });
    assert.ok(traj.losses.every((l) => Number.isFinite(l) && l > 0 && l < 10), `losses ${traj.losses}`);
    // the paper's schedule over the full 24-step run: warm-up of round(2.4) = 2 steps, then linear decay
    const lrs = Array.from({ length: 24 }, (_, t) => lrAt(s.trainConfig.schedule, t, 24));
    [0.5, 1, 1, 21 / 22].forEach((f, t) => assert.ok(Math.abs(lrs[t] / 1e-4 - f) < 1e-12, `lr factor at step ${t}: ${lrs[t] / 1e-4} vs ${f}`));
    const scores = await getEstimator('adamw-influence').score(
      { model: s.model, data: s.train, trajectory: traj, queries: subset(s.test, [0, 1]), trainIds: traj.batches[0].slice(0, 2) },
      { curvature: 'exact' },
    );
    assert.ok(Array.from(scores.values).every(Number.isFinite), `scores ${scores.values}`);
    assert.ok(Array.from(scores.values).some((v) => v !== 0));
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('gpt2 paper without a checkpoint or the tensorflow backend: one error saying what to provide', async () => {
  const saved = process.env.FTDA_GPT2_CHECKPOINT;
  delete process.env.FTDA_GPT2_CHECKPOINT;
  try {
    await assert.rejects(loadSetting('gpt2', 'paper'), (e: Error) => {
      assert.match(e.message, /GPT-2 124M/);
      assert.match(e.message, /FTDA_GPT2_CHECKPOINT/);
      assert.match(e.message, /'tensorflow' backend \(this process runs 'wasm'/);
      return true;
    });
    await assert.rejects(loadGpt2Setting('paper', { checkpoint: '/nonexistent/model.safetensors' }), /'\/nonexistent\/model.safetensors' \(file not found\)/);
  } finally {
    if (saved !== undefined) process.env.FTDA_GPT2_CHECKPOINT = saved;
  }
});
