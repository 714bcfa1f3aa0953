import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binaryTask, selectSubset, stratifiedSubset } from '../../lib/data/subsets.ts';
import { subset } from '../../lib/data/dataset.ts';
import type { Dataset } from '../../lib/data/dataset.ts';

test('subsets: selectSubset is deterministic per (seed, stream), distinct and in range', () => {
  const a = selectSubset(1000, 200, 3);
  assert.deepEqual(a, selectSubset(1000, 200, 3));
  assert.equal(new Set(a).size, 200);
  assert.ok(a.every((i) => Number.isInteger(i) && i >= 0 && i < 1000));
  assert.notDeepEqual(a, selectSubset(1000, 200, 4));
  assert.notDeepEqual(a, selectSubset(1000, 200, 3, 'other'));
  assert.throws(() => selectSubset(5, 6, 0), /k must be an integer in \[0, 5\]/);
});

test('subsets: stratifiedSubset balances classes, redistributes from small classes, is seeded', () => {
  const labels = Int32Array.from({ length: 1000 }, (_, i) => (i < 10 ? 3 : i % 3)); // class 3 has 10 examples
  const ids = stratifiedSubset(labels, 103, 1);
  assert.equal(ids.length, 103);
  assert.equal(new Set(ids).size, 103);
  assert.deepEqual(ids, [...ids].sort((p, q) => p - q));
  const counts = [0, 0, 0, 0];
  for (const i of ids) counts[labels[i]]++;
  assert.equal(counts[3], 10); // all of the small class
  assert.equal(counts[0] + counts[1] + counts[2], 93);
  assert.ok(Math.max(counts[0], counts[1], counts[2]) - Math.min(counts[0], counts[1], counts[2]) <= 1);
  assert.deepEqual(ids, stratifiedSubset(labels, 103, 1));
  assert.notDeepEqual(ids, stratifiedSubset(labels, 103, 2));
});

test('subsets: binaryTask keeps two classes in order and relabels them 0/1', () => {
  const ds: Dataset = { name: 'toy', n: 5, x: Float32Array.from([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]), xShape: [2], y: Int32Array.from([7, 1, 2, 1, 7]), yShape: [], classes: 10 };
  const b = binaryTask(ds, [1, 7]);
  assert.equal(b.n, 4);
  assert.equal(b.classes, 2);
  assert.deepEqual([...b.y], [1, 0, 0, 1]);
  assert.deepEqual([...b.x], [0, 0, 1, 1, 3, 3, 4, 4]);
  assert.deepEqual(b.meta?.parentIds, [0, 1, 3, 4]);
  assert.deepEqual([...ds.y], [7, 1, 2, 1, 7]); // input untouched
  assert.throws(() => binaryTask(ds, [5, 6]), /no examples of class 5 or 6/);
  assert.throws(() => subset(ds, [5]), /id 5 out of range/);
});
