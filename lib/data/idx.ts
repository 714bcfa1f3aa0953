/**
 * IDX reader (MNIST, Fashion-MNIST): big-endian header `0x00 0x00 <type> <ndim>`, one uint32 per
 * dimension, then the row-major payload. Only unsigned-byte payloads (type 0x08) occur in our data.
 *
 * Pure functions over bytes, so they can be tested with hand-built buffers.
 *
 * @module
 */

/** Magic number of an IDX file of uint8 images `[n, rows, cols]`. */
export const IDX_IMAGES_MAGIC = 0x00000803;
/** Magic number of an IDX file of uint8 labels `[n]`. */
export const IDX_LABELS_MAGIC = 0x00000801;

/** A decoded IDX array: `dims` and its uint8 payload of length `prod(dims)` (a view, not a copy). */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/**
 * Parses an IDX uint8 array and checks its magic number and exact length.
 * @param bytes the whole (decompressed) file
 * @param file name used in error messages
 * @param expectedMagic e.g. {@link IDX_IMAGES_MAGIC}
 * @returns `dims` and `data` `[prod(dims)]`
 */
export function parseIdx(bytes: Uint8Array, file: string, expectedMagic: number): IdxArray {
  if (bytes.length < 4) throw new Error(`${file}: not an IDX file: only ${bytes.length} bytes, expected at least a 4-byte magic number`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== expectedMagic) {
    throw new Error(`${file}: wrong IDX magic number 0x${hex8(magic)}, expected 0x${hex8(expectedMagic)}`);
  }
  const ndim = bytes[3];
  const header = 4 + 4 * ndim;
  if (bytes.length < header) throw new Error(`${file}: truncated IDX header: expected ${header} bytes for ${ndim} dimensions, got ${bytes.length}`);
  const dims: number[] = [];
  for (let d = 0; d < ndim; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const payload = dims.reduce((a, b) => a * b, 1);
  const expected = header + payload;
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? 'truncated IDX file' : 'IDX file has trailing bytes';
    throw new Error(`${file}: ${what}: expected ${expected} bytes (${header}-byte header + ${dims.join('×')} values), got ${bytes.length}`);
  }
  return { dims, data: bytes.subarray(header) };
}

/**
 * Parses an IDX images file (magic 0x00000803).
 * @returns `n`, `rows`, `cols` and `pixels` uint8 `[n, rows, cols]` row-major
 */
export function parseIdxImages(bytes: Uint8Array, file = '<idx images>'): { n: number; rows: number; cols: number; pixels: Uint8Array } {
  const { dims, data } = parseIdx(bytes, file, IDX_IMAGES_MAGIC);
  return { n: dims[0], rows: dims[1], cols: dims[2], pixels: data };
}

/**
 * Parses an IDX labels file (magic 0x00000801).
 * @returns labels uint8 `[n]`
 */
export function parseIdxLabels(bytes: Uint8Array, file = '<idx labels>'): Uint8Array {
  return parseIdx(bytes, file, IDX_LABELS_MAGIC).data;
}

/**
 * uint8 values → float32 `v / divisor` (default 255, giving [0, 1]; division, not multiplication by
 * 1/255, so that 255 maps to exactly 1).
 * @param pixels `[m]` @returns `[m]`
 */
export function bytesToFloat(pixels: Uint8Array, divisor = 255): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i] / divisor;
  return out;
}

function hex8(v: number): string {
  return (v >>> 0).toString(16).padStart(8, '0');
}
