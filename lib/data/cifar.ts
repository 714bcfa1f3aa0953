/**
 * CIFAR-10 binary reader: each 3073-byte record is 1 label byte, then the 1024 R, 1024 G and 1024 B
 * bytes of a row-major 32×32 image. We convert to NHWC float32 in [0, 1], the layout tfjs' conv2d wants.
 *
 * @module
 */

/** Bytes per CIFAR-10 record (label + 3·32·32). */
export const CIFAR_RECORD_BYTES = 3073;
/** CIFAR-10 class names, index = label. */
export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'] as const;

/**
 * Parses CIFAR-10 binary records.
 * @param bytes the whole (decompressed) file, a multiple of 3073 bytes
 * @param file name used in error messages
 * @returns `x` float32 `[n, 32, 32, 3]` (NHWC, value/255) and `y` int32 `[n]` in 0–9
 */
export function parseCifar10(bytes: Uint8Array, file = '<cifar10>'): { n: number; x: Float32Array; y: Int32Array } {
  if (bytes.length % CIFAR_RECORD_BYTES !== 0) {
    throw new Error(
      `${file}: CIFAR-10 binary length ${bytes.length} is not a multiple of ${CIFAR_RECORD_BYTES} bytes per record ` +
        `(${Math.floor(bytes.length / CIFAR_RECORD_BYTES)} whole records + ${bytes.length % CIFAR_RECORD_BYTES} stray bytes)`,
    );
  }
  const n = bytes.length / CIFAR_RECORD_BYTES;
  const x = new Float32Array(n * 3072);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = i * CIFAR_RECORD_BYTES;
    const label = bytes[r];
    if (label > 9) throw new Error(`${file}: record ${i} has label ${label}, expected 0–9`);
    y[i] = label;
    const o = i * 3072;
    for (let p = 0; p < 1024; p++) {
      // plane-major (CHW) → interleaved (HWC)
      x[o + p * 3] = bytes[r + 1 + p] / 255;
      x[o + p * 3 + 1] = bytes[r + 1 + 1024 + p] / 255;
      x[o + p * 3 + 2] = bytes[r + 1 + 2048 + p] / 255;
    }
  }
  return { n, x, y };
}
