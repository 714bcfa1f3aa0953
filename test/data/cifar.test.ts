import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCifar10 } from '../../lib/data/cifar.ts';

test('cifar: one hand-built record maps planes R,G,B to NHWC channels, /255', () => {
  const rec = new Uint8Array(3073 * 2);
  rec[0] = 6;
  for (let p = 0; p < 1024; p++) {
    rec[1 + p] = p % 256; // R
    rec[1 + 1024 + p] = (p * 3) % 256; // G
    rec[1 + 2048 + p] = 255 - (p % 256); // B
  }
  rec[3073] = 9; // second record all zeros except label
  const { n, x, y } = parseCifar10(rec, 'rec');
  assert.equal(n, 2);
  assert.deepEqual([...y], [6, 9]);
  assert.equal(x.length, 2 * 32 * 32 * 3);
  // pixel (row 1, col 2) = plane index 34
  const at = (i: number, r: number, c: number, ch: number) => x[i * 3072 + (r * 32 + c) * 3 + ch];
  assert.equal(at(0, 1, 2, 0), Math.fround(34 / 255));
  assert.equal(at(0, 1, 2, 1), Math.fround(102 / 255));
  assert.equal(at(0, 1, 2, 2), Math.fround(221 / 255));
  assert.equal(at(0, 0, 0, 2), 1);
  assert.equal(at(0, 31, 31, 0), Math.fround(255 / 255));
  assert.equal(at(1, 5, 5, 1), 0);
});

test('cifar: length not a multiple of 3073 and bad labels are errors', () => {
  assert.throws(() => parseCifar10(new Uint8Array(3074), 'batch.bin'), /batch\.bin: .*not a multiple of 3073.*1 whole records \+ 1 stray/);
  const bad = new Uint8Array(3073);
  bad[0] = 10;
  assert.throws(() => parseCifar10(bad, 'b'), /record 0 has label 10/);
});
