/**
 * The wasm backend's `BatchMatMul` kernel computed by a native GEMM (blas.ts) on the wasm heap itself: the
 * operands are `Float32Array` views at the tensors' offsets in wasm memory, so nothing is copied.
 *
 * Products too small to gain (m·n·k below {@link MIN_FLOPS_SHAPE}) and batch shapes other than equal or
 * broadcast-from-one keep the stock XNNPACK kernel. Either way the choice depends only on the shapes, so one
 * engine gives the same bits on every run. The gradient of BatchMatMul is unchanged (it is made of BatchMatMuls
 * and transposes, gradfixes.ts `matmul-transpose`), so first and second derivatives use this kernel too.
 *
 * @module
 */
import { tf } from './tf.ts';
import type { Blas } from './blas.ts';

/**
 * Version of the native kernel set (this file, mlp-native.ts, and the transpose flags it enables): part of the
 * engine id, so a change of arithmetic here never meets caches of the previous one. Bump it with any such change.
 */
export const NATIVE_KERNELS_VERSION = 1;

let flags = false;

/**
 * True while the native GEMM is installed: transposes are then free inside the GEMM, so model code and the
 * BatchMatMul gradient pass transpose flags instead of materialising transposes (which XNNPACK needs).
 */
export function nativeTransposes(): boolean {
  return flags;
}

/** Smallest m·n·k sent to the native GEMM: below it the FFI call costs more than XNNPACK's whole product. */
export const MIN_FLOPS_SHAPE = 16 * 16 * 16;

interface WasmTensorInfo {
  dataId: object;
  shape: number[];
  dtype: string;
}
interface WasmBackendLike {
  dataIdMap: { get(id: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: string): WasmTensorInfo;
  wasm: { HEAPU8: Uint8Array };
}
type KernelArgs = { inputs: { a: WasmTensorInfo; b: WasmTensorInfo }; backend: WasmBackendLike; attrs: { transposeA: boolean; transposeB: boolean } };

let installed: { blas: Blas; stock: tf.KernelConfig } | undefined;

/** Counts of products by path since install (for benchmarks and tests). */
export const blasKernelStats = { native: 0, stock: 0 };

/**
 * Replaces the wasm `BatchMatMul` kernel by the native one (idempotent). Call after the wasm backend is ready.
 * @returns false when the backend is not wasm (nothing changed)
 */
export function installBlasMatMul(blas: Blas): boolean {
  if (tf.getBackend() !== 'wasm') return false;
  if (installed) return true;
  const stock = tf.getKernel('BatchMatMul', 'wasm');
  if (!stock) throw new Error('installBlasMatMul: the wasm backend has no BatchMatMul kernel to replace');
  installed = { blas, stock };
  flags = true;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc: nativeBatchMatMul as unknown as tf.KernelFunc });
  return true;
}

/** Restores the stock kernel (tests). */
export function uninstallBlasMatMul(): void {
  if (!installed) return;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel(installed.stock);
  installed = undefined;
  flags = false;
}

function nativeBatchMatMul(args: KernelArgs): WasmTensorInfo {
  const { inputs, backend, attrs } = args;
  const { a, b } = inputs;
  const { transposeA, transposeB } = attrs;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  const batchA = a.shape.slice(0, -2).reduce((x, y) => x * y, 1);
  const batchB = b.shape.slice(0, -2).reduce((x, y) => x * y, 1);
  const simpleBatch = batchA === batchB || batchA === 1 || batchB === 1;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || k !== kb || !simpleBatch || m * n * k < MIN_FLOPS_SHAPE || m * n === 0 || k === 0) {
    blasKernelStats.stock++;
    return installed!.stock.kernelFunc(args as never) as WasmTensorInfo;
  }
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
  const batch = Math.max(batchA, batchB);
  const out = backend.makeOutput([...outer, m, n], 'float32');
  // After makeOutput: allocating may grow wasm memory, which replaces its buffer.
  const heap = backend.wasm.HEAPU8.buffer;
  const av = new Float32Array(heap, backend.dataIdMap.get(a.dataId).memoryOffset, batchA * m * k);
  const bv = new Float32Array(heap, backend.dataIdMap.get(b.dataId).memoryOffset, batchB * k * n);
  const cv = new Float32Array(heap, backend.dataIdMap.get(out.dataId).memoryOffset, batch * m * n);
  const lda = transposeA ? m : k;
  const ldb = transposeB ? k : n;
  const sgemm = installed!.blas.sgemm;
  if (batch === 1) {
    sgemm(transposeA, transposeB, m, n, k, av, lda, bv, ldb, cv, n);
  } else {
    const sa = batchA === 1 ? 0 : m * k;
    const sb = batchB === 1 ? 0 : k * n;
    for (let i = 0; i < batch; i++) {
      sgemm(transposeA, transposeB, m, n, k, av.subarray(i * sa), lda, bv.subarray(i * sb), ldb, cv.subarray(i * m * n), n);
    }
  }
  blasKernelStats.native++;
  return out;
}

let stockTranspose: tf.KernelConfig | undefined;

/**
 * Replaces the wasm `Transpose` kernel, for permutations that keep the last axis last, by a copy of contiguous
 * runs (`copyWithin` on the wasm heap): the splitting and merging of attention heads ([B,T,H,d] ↔ [B,H,T,d])
 * copied one float at a time in the stock kernel (~20 ns per element). A pure copy, so the bits are the same on
 * every engine; other permutations keep the stock kernel. Idempotent.
 * @returns false when the backend is not wasm
 */
export function installRunTranspose(): boolean {
  if (tf.getBackend() !== 'wasm') return false;
  if (stockTranspose) return true;
  const stock = tf.getKernel('Transpose', 'wasm');
  if (!stock) return false;
  stockTranspose = stock;
  tf.unregisterKernel('Transpose', 'wasm');
  tf.registerKernel({ kernelName: 'Transpose', backendName: 'wasm', kernelFunc: runTranspose as unknown as tf.KernelFunc });
  return true;
}

function runTranspose(args: { inputs: { x: WasmTensorInfo }; backend: WasmBackendLike & { typedArrayFromHeap?: unknown }; attrs: { perm: number[] } }): WasmTensorInfo {
  const { inputs, backend, attrs } = args;
  const { x } = inputs;
  const perm = attrs.perm;
  const r = x.shape.length;
  const bytes = x.dtype === 'float32' || x.dtype === 'int32' ? 4 : 0;
  if (r < 3 || perm[r - 1] !== r - 1 || !bytes || perm.every((p, i) => p === i)) return stockTranspose!.kernelFunc(args as never) as WasmTensorInfo;
  const L = x.shape[r - 1];
  const outShape = perm.map((p) => x.shape[p]);
  const out = backend.makeOutput(outShape, x.dtype);
  const heap = new Int32Array(backend.wasm.HEAPU8.buffer); // 4-byte elements: float32 and int32 alike
  const src = backend.dataIdMap.get(x.dataId).memoryOffset / 4;
  const dst = backend.dataIdMap.get(out.dataId).memoryOffset / 4;
  // Strides of the input in elements, seen through the permutation (outer r−1 axes of the output).
  const inStride = new Array<number>(r).fill(1);
  for (let i = r - 2; i >= 0; i--) inStride[i] = inStride[i + 1] * x.shape[i + 1];
  const outer = outShape.slice(0, r - 1);
  const st = perm.slice(0, r - 1).map((p) => inStride[p]);
  const idx = new Array<number>(r - 1).fill(0);
  const n = outer.reduce((a, b) => a * b, 1);
  let s = src;
  for (let c = 0; c < n; c++) {
    const o = dst + c * L;
    if (L <= 16) for (let k = 0; k < L; k++) heap[o + k] = heap[s + k];
    else heap.copyWithin(o, s, s + L);
    // Advance the outer index (row-major over the output) and the source offset with it.
    for (let a = r - 2; a >= 0; a--) {
      if (++idx[a] < outer[a]) {
        s += st[a];
        break;
      }
      s -= st[a] * (outer[a] - 1);
      idx[a] = 0;
    }
  }
  return out;
}
