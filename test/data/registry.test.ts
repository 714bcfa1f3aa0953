import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dataFilePath, DATASET_NAMES, loadDataset, loadInstructionTasks, loadStories, loadText } from '../../lib/data/registry.ts';
import { checkDataset } from '../../lib/data/dataset.ts';

const haveMirror = !!process.env.FTDA_DATA_MIRROR && fs.existsSync(path.join(process.env.FTDA_DATA_MIRROR, 'SHA256SUMS'));
const skip = !haveMirror && 'real-data mirror not available (set FTDA_DATA_MIRROR)';
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-registry-'));
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));
const resolve = { cacheDir, offline: true };

const counts = (y: Int32Array, k: number) => {
  const c = new Array(k).fill(0);
  for (const v of y) c[v]++;
  return c;
};

test('registry: unknown dataset names and splits are errors that list what exists', async () => {
  await assert.rejects(loadDataset('imagenet', 'train'), (e: Error) => {
    assert.match(e.message, /unknown dataset 'imagenet'/);
    for (const n of DATASET_NAMES) assert.ok(e.message.includes(n), n);
    return true;
  });
  await assert.rejects(loadDataset('mnist', 'all', { resolve }), /dataset 'mnist': unknown split 'all', expected one of train, test/);
  await assert.rejects(loadText('wikitext103' as never, resolve), /unknown text corpus 'wikitext103'; known corpora: wikitext2-valid/);
});

test('registry: MNIST has 60000 train images and the published test label counts', { skip }, async () => {
  const tr = await loadDataset('mnist', 'train', { resolve });
  checkDataset(tr);
  assert.equal(tr.n, 60000);
  assert.deepEqual(tr.xShape, [784]);
  assert.deepEqual([...tr.y.subarray(0, 5)], [5, 0, 4, 1, 9]);
  const te = await loadDataset('mnist', 'test', { resolve, shape: 'image' });
  assert.deepEqual(te.xShape, [28, 28, 1]);
  assert.deepEqual(counts(te.y, 10), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  let max = 0, min = 1;
  for (const v of te.x) { if (v > max) max = v; if (v < min) min = v; }
  assert.deepEqual([min, max], [0, 1]);
  const b = await loadDataset('mnist-1v7', 'test', { resolve });
  assert.equal(b.n, 1135 + 1028);
  assert.deepEqual(counts(b.y, 2), [1135, 1028]);
});

test('registry: CIFAR-10 subset labels and first pixels match the original data_batch_1', { skip }, async () => {
  const tr = await loadDataset('cifar10', 'train', { resolve });
  checkDataset(tr);
  assert.equal(tr.n, 4000);
  assert.deepEqual(tr.xShape, [32, 32, 3]);
  assert.deepEqual([...tr.y.subarray(0, 10)], [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]);
  // R plane of record 0 starts 59,43,50,68; its second row starts 16,0,18 (mirror README)
  const r = (row: number, col: number) => Math.round(tr.x[(row * 32 + col) * 3] * 255);
  assert.deepEqual([r(0, 0), r(0, 1), r(0, 2), r(0, 3), r(1, 0), r(1, 1), r(1, 2)], [59, 43, 50, 68, 16, 0, 18]);
  const te = await loadDataset('cifar10', 'test', { resolve, shape: 'flat' });
  assert.deepEqual([te.n, ...te.xShape], [1000, 3072]);
  assert.deepEqual([...te.y.subarray(0, 10)], [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]);
});

test('registry: Adult drops "?" rows and encodes 104 train-fitted columns', { skip }, async () => {
  const tr = await loadDataset('adult', 'train', { resolve });
  const te = await loadDataset('adult', 'test', { resolve });
  checkDataset(tr);
  checkDataset(te);
  assert.equal(tr.n, 30162);
  assert.equal(te.n, 15060);
  assert.deepEqual(tr.xShape, [104]);
  assert.deepEqual(te.xShape, [104]);
  assert.equal((tr.meta?.columns as string[]).length, 104);
  assert.deepEqual(counts(tr.y, 2), [22654, 7508]);
  // standardised with train statistics: train age column has mean ≈ 0
  let s = 0;
  for (let i = 0; i < tr.n; i++) s += tr.x[i * 104];
  assert.ok(Math.abs(s / tr.n) < 1e-4);
});

test('registry: 20news-binary (ibm vs mac), digits, text corpora and raw file paths', { skip }, async () => {
  const nw = await loadDataset('20news-binary', 'train', { resolve, k: 500 });
  checkDataset(nw);
  assert.deepEqual([nw.n, ...nw.xShape], [1168, 500]);
  assert.deepEqual(counts(nw.y, 2), [590, 578]);
  let sq = 0;
  for (let j = 0; j < 500; j++) sq += nw.x[j] ** 2;
  assert.ok(sq === 0 || Math.abs(sq - 1) < 1e-5, 'rows are l2-normalised');
  const dg = await loadDataset('digits', 'all', { resolve });
  assert.deepEqual([dg.n, ...dg.xShape], [1797, 64]);
  const [tr, te] = [await loadDataset('digits', 'train', { resolve }), await loadDataset('digits', 'test', { resolve })];
  assert.equal(tr.n + te.n, 1797);
  assert.equal((await loadText('wikitext2-valid', resolve)).split('\n').length - 1, 3760);
  const stories = await loadStories(resolve);
  assert.equal(stories.length, 2316);
  assert.ok(stories[0].startsWith('One day, a little girl named Lily found a needle in her room.'));
  assert.equal((await loadInstructionTasks('self-instruct-seed', resolve)).length, 175);
  const gguf = await dataFilePath('models/stories260K/stories260K.gguf', resolve);
  assert.ok(gguf.startsWith(cacheDir));
  assert.equal(fs.statSync(gguf).size, 1185376);
});
