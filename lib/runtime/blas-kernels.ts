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
