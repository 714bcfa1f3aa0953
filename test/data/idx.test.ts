import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToFloat, parseIdxImages, parseIdxLabels } from '../../lib/data/idx.ts';

/** Builds an IDX file: big-endian magic, dims, payload. */
function idxBytes(magic: number, dims: number[], payload: number[]): Uint8Array {
  const b = new Uint8Array(4 + 4 * dims.length + payload.length);
  const v = new DataView(b.buffer);
  v.setUint32(0, magic, false);
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  b.set(payload, 4 + 4 * dims.length);
  return b;
}

test('idx: hand-built images and labels parse with big-endian dims and row-major pixels', () => {
  const pix = [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]; // 2 images of 2×3
  const img = parseIdxImages(idxBytes(0x803, [2, 2, 3], pix), 'img');
  assert.equal(img.n, 2);
  assert.equal(img.rows, 2);
  assert.equal(img.cols, 3);
  assert.deepEqual([...img.pixels], pix);
  const lab = parseIdxLabels(idxBytes(0x801, [3], [7, 0, 9]), 'lab');
  assert.deepEqual([...lab], [7, 0, 9]);
  // 256 images would need dims > 255: check a multi-byte dim is read big-endian
  const big = parseIdxLabels(idxBytes(0x801, [300], new Array(300).fill(1)), 'big');
  assert.equal(big.length, 300);
  const f = bytesToFloat(new Uint8Array([0, 51, 255]));
  assert.deepEqual([...f], [0, Math.fround(51 / 255), 1]);
});

test('idx: a truncated file names the file and the expected / actual byte counts', () => {
  const full = idxBytes(0x803, [2, 2, 3], new Array(12).fill(0));
  assert.throws(() => parseIdxImages(full.subarray(0, 20), 'train-images'), (e: Error) => {
    assert.match(e.message, /train-images/);
    assert.match(e.message, /truncated/);
    assert.match(e.message, /expected 28 bytes/);
    assert.match(e.message, /got 20/);
    return true;
  });
  assert.throws(() => parseIdxImages(full.subarray(0, 10), 'hdr'), /hdr: truncated IDX header: expected 16 bytes/);
  const extra = new Uint8Array(full.length + 1);
  extra.set(full);
  assert.throws(() => parseIdxImages(extra, 'x'), /trailing bytes/);
});

test('idx: wrong magic (labels file read as images) is rejected', () => {
  const lab = idxBytes(0x801, [3], [1, 2, 3]);
  assert.throws(() => parseIdxImages(lab, 'labels.idx'), /labels\.idx: wrong IDX magic number 0x00000801, expected 0x00000803/);
  assert.throws(() => parseIdxLabels(new Uint8Array([0x1f, 0x8b, 8, 0]), 'gz'), /wrong IDX magic/);
  assert.throws(() => parseIdxLabels(new Uint8Array([0, 0]), 'tiny'), /only 2 bytes/);
});
