/**
 * Block packing (lib/text/packing.ts) on hand-built token lists: separators, exact block contents, the
 * dropped partial block, and the dataset built from blocks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockDataset, joinDocuments, packBlocks } from '../../lib/text/packing.ts';

const SEP = 99;

test('joinDocuments puts one separator between consecutive documents, none at the ends', () => {
  assert.deepEqual(Array.from(joinDocuments([[1, 2], [3], [4, 5, 6]], SEP)), [1, 2, SEP, 3, SEP, 4, 5, 6]);
  assert.deepEqual(Array.from(joinDocuments([[7]], SEP)), [7]);
  assert.deepEqual(Array.from(joinDocuments([], SEP)), []);
});

test('joinDocuments skips empty documents (no doubled separators)', () => {
  assert.deepEqual(Array.from(joinDocuments([[], [1], [], [], [2, 3], []], SEP)), [1, SEP, 2, 3]);
  assert.throws(() => joinDocuments([[1]], 1.5), /separator must be an integer/);
});

test('packBlocks cuts consecutive non-overlapping blocks of T+1 and drops the partial last block', () => {
  const stream = Array.from({ length: 11 }, (_, i) => 10 + i); // 10..20
  const b = packBlocks(stream, 2); // blocks of 3
  assert.equal(b.blockTokens, 3);
  assert.equal(b.n, 3);
  assert.deepEqual(Array.from(b.tokens), [10, 11, 12, 13, 14, 15, 16, 17, 18]);
  assert.equal(b.dropped, 2); // 19, 20
  const exact = packBlocks([1, 2, 3, 4], 1);
  assert.equal(exact.n, 2);
  assert.equal(exact.dropped, 0);
  assert.equal(packBlocks([1, 2], 4).n, 0);
  assert.throws(() => packBlocks([1, 2, 3], 0), /T must be a positive integer/);
});

test('blockDataset: x = first T, y = next T of each block, all-ones mask, chosen blocks in order', () => {
  const stream = joinDocuments([[1, 2, 3], [4, 5], [6, 7, 8, 9]], SEP); // 1 2 3 S 4 5 S 6 7 8 9
  const b = packBlocks(stream, 3); // blocks [1 2 3 S] [4 5 S 6]; dropped 7 8 9
  assert.equal(b.n, 2);
  assert.equal(b.dropped, 3);
  const ds = blockDataset(b, 100, 'toy');
  assert.deepEqual(ds.xShape, [3]);
  assert.deepEqual(ds.yShape, [3]);
  assert.equal(ds.n, 2);
  assert.deepEqual(Array.from(ds.x), [1, 2, 3, 4, 5, SEP]);
  assert.deepEqual(Array.from(ds.y), [2, 3, SEP, 5, SEP, 6]);
  assert.deepEqual(Array.from(ds.mask!), [1, 1, 1, 1, 1, 1]);
  assert.equal(ds.classes, 100);
  const rev = blockDataset(b, 100, 'toy-rev', [1, 0]);
  assert.deepEqual(Array.from(rev.x), [4, 5, SEP, 1, 2, 3]);
  assert.deepEqual(rev.meta?.blockIds, [1, 0]);
  assert.throws(() => blockDataset(b, 100, 'bad', [2]), /block id 2 out of range/);
  assert.throws(() => blockDataset(b, 50, 'small-vocab'), /token id 99 outside the vocabulary \[0, 50\)/);
});
