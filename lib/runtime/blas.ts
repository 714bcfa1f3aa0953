/**
 * An optional native GEMM: OpenBLAS's `cblas_sgemm`, called through an FFI (the `koffi` npm package under Node,
 * `Deno.dlopen` under Deno), for the matrix products of the wasm backend (blas-kernels.ts).
 *
 * Why: tfjs-wasm's XNNPACK GEMM reaches 12–16 GFLOP/s on one core here, OpenBLAS's AVX-512 kernels 120–240;
 * the transformer gradients and HVPs are GEMM-bound (perf-2026-12.md §3).
 *
 * Choice (`FTDA_BLAS`): `auto` (default) uses the first OpenBLAS found, `off` never loads one, a path loads that
 * library. Without OpenBLAS or without an FFI the suite runs as before on XNNPACK alone.
 *
 * OpenBLAS picks its kernels by CPU detection, which misreads some virtual CPUs (a KVM CPU with AVX-512 read as
 * Prescott or Haswell, 2–10× slower): unless `OPENBLAS_CORETYPE` is set, it is set from the CPU flags before the
 * library loads. Threads are pinned to 1 (`OPENBLAS_NUM_THREADS`, `openblas_set_num_threads`): the engine is
 * single-threaded, and one thread keeps every product's summation order, so results are bit-identical run to
 * run. The library, its version and the core type are part of the engine record ({@link BlasInfo}): results of
 * different kernels differ in the last bits and are never mixed in one cache entry.
 *
 * @example
 * ```ts
 * const blas = await loadBlas(); // undefined when unavailable
 * blas?.sgemm(false, false, m, n, k, a, k, b, n, c, n); // C[m×n] = A[m×k]·B[k×n], row-major
 * ```
 * @module
 */
import * as fs from 'node:fs';
import { getEnv } from './env.ts';

/** What is loaded: recorded in every result and cache key. */
export interface BlasInfo {
  /** `openblas`. */
  name: string;
  /** The file loaded. */
  library: string;
  /** `openblas_get_config()`, e.g. `OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64`. */
  config: string;
  /** The kernel family in use (`openblas_get_corename()`), e.g. `SkylakeX`. */
  coreType: string;
  /** `OPENBLAS_CORETYPE` was set by us (from the CPU flags) rather than by the user. */
  coreTypeFrom: 'cpu-flags' | 'environment' | 'library';
  threads: number;
  /** The FFI used: `koffi <version>` or `deno <version>`. */
  ffi: string;
  /** Short id for keys: `openblas-0.3.21-SkylakeX`. */
  id: string;
}

/** A loaded single-precision GEMM. */
export interface Blas {
  info: BlasInfo;
  /**
   * C ← op(A)·op(B) + β·C, row-major; op(X) = Xᵀ when its flag is set; β defaults to 0. `a`, `b`, `c` are views
   * whose first element is the matrix's first element (views into wasm memory work: nothing is copied).
   */
  sgemm(transA: boolean, transB: boolean, m: number, n: number, k: number, a: Float32Array, lda: number, b: Float32Array, ldb: number, c: Float32Array, ldc: number, beta?: number): void;
}

/** Where Debian, Ubuntu and Fedora put OpenBLAS (the pthread build first; it is pinned to one thread anyway). */
export const OPENBLAS_CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0',
  '/usr/lib/x86_64-linux-gnu/libopenblas.so.0',
  '/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0',
  '/usr/lib/aarch64-linux-gnu/libopenblas.so.0',
  '/usr/lib64/libopenblas.so.0',
  '/usr/local/lib/libopenblas.so.0',
  '/opt/homebrew/opt/openblas/lib/libopenblas.dylib',
  '/usr/local/opt/openblas/lib/libopenblas.dylib',
];

const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

/**
 * OpenBLAS's core type for this CPU from /proc/cpuinfo flags (`SkylakeX` with AVX-512 F/BW/VL/DQ, `Haswell` with
 * AVX2 + FMA), or undefined where the flags cannot be read (then OpenBLAS detects).
 */
export function coreTypeFromCpuFlags(cpuinfo?: string): string | undefined {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return undefined;
    }
  }
  const line = text.split('\n').find((l) => /^flags\s*:/.test(l));
  if (!line) return undefined;
  const flags = new Set(line.split(':')[1].trim().split(/\s+/));
  if (['avx512f', 'avx512bw', 'avx512vl', 'avx512dq'].every((f) => flags.has(f))) return 'SkylakeX';
  if (flags.has('avx2') && flags.has('fma')) return 'Haswell';
  return undefined;
}

let loaded: Promise<Blas | undefined> | undefined;
let ready: Blas | undefined;

/** The loaded GEMM once {@link loadBlas} has resolved (synchronous access for host-side kernels), else undefined. */
export function blas(): Blas | undefined {
  return ready;
}

/**
 * Loads OpenBLAS once per process (see the module doc for `FTDA_BLAS`).
 * @returns undefined when disabled or unavailable; `why` of {@link blasStatus} says which
 */
export function loadBlas(): Promise<Blas | undefined> {
  loaded ??= doLoad();
  return loaded;
}

let status = 'not loaded';

/** Why the last {@link loadBlas} gave what it gave (for the runtime record and `--help`). */
export function blasStatus(): string {
  return status;
}

async function doLoad(): Promise<Blas | undefined> {
  const want = getEnv('FTDA_BLAS') ?? 'auto';
  if (want === 'off') {
    status = 'off (FTDA_BLAS=off)';
    return undefined;
  }
  const files = want === 'auto' ? OPENBLAS_CANDIDATES.filter((f) => fs.existsSync(f)) : [want];
  if (!files.length) {
    status = 'no OpenBLAS found (install libopenblas0-pthread, or set FTDA_BLAS to its path)';
    return undefined;
  }
  if (want !== 'auto' && !fs.existsSync(want)) throw new Error(`FTDA_BLAS=${want}: no such file (use auto, off, or the path of libopenblas)`);
  // Before the library initialises: one thread, and the right kernels for this CPU.
  process.env.OPENBLAS_NUM_THREADS = '1';
  let coreTypeFrom: BlasInfo['coreTypeFrom'] = 'environment';
  if (!getEnv('OPENBLAS_CORETYPE')) {
    const ct = coreTypeFromCpuFlags();
    if (ct) process.env.OPENBLAS_CORETYPE = ct;
    coreTypeFrom = ct ? 'cpu-flags' : 'library';
  }
  const deno = (globalThis as { Deno?: DenoFfi }).Deno;
  try {
    const b = deno?.dlopen ? openDeno(deno, files[0]) : await openKoffi(files[0]);
    if (!b) return undefined;
    b.setThreads(1);
    const config = b.config();
    const coreType = b.coreName();
    const version = /OpenBLAS ([\d.]+)/.exec(config)?.[1] ?? 'unknown';
    const info: BlasInfo = { name: 'openblas', library: files[0], config, coreType, coreTypeFrom, threads: 1, ffi: b.ffi, id: `openblas-${version}-${coreType}` };
    status = `${info.id} (${info.ffi}, ${files[0]})`;
    ready = { info, sgemm: b.sgemm };
    return ready;
  } catch (e) {
    if (want !== 'auto') throw new Error(`FTDA_BLAS=${want}: cannot load it (${(e as Error).message})`);
    status = `OpenBLAS found but not loadable (${(e as Error).message.split('\n')[0]})`;
    return undefined;
  }
}

interface RawBlas {
  ffi: string;
  sgemm: Blas['sgemm'];
  setThreads(n: number): void;
  config(): string;
  coreName(): string;
}

async function openKoffi(file: string): Promise<RawBlas | undefined> {
  let koffi: KoffiModule;
  try {
    const m = (await import('koffi')) as unknown as { default?: KoffiModule } & KoffiModule;
    koffi = m.default ?? m;
  } catch (e) {
    status = `OpenBLAS found, but the optional npm package koffi is not installed (${(e as Error).message.split('\n')[0]})`;
    return undefined;
  }
  const lib = koffi.load(file);
  const gemm = lib.func('void cblas_sgemm(int, int, int, int, int, int, float, float *, int, float *, int, float, _Inout_ float *, int)');
  const setThreads = lib.func('void openblas_set_num_threads(int)');
  const config = lib.func('const char *openblas_get_config()');
  const core = lib.func('const char *openblas_get_corename()');
  return {
    ffi: `koffi ${koffi.version ?? ''}`.trim(),
    sgemm: (tA, tB, m, n, k, a, lda, b, ldb, c, ldc, beta = 0) => gemm(ROW_MAJOR, tA ? TRANS : NO_TRANS, tB ? TRANS : NO_TRANS, m, n, k, 1, a, lda, b, ldb, beta, c, ldc),
    setThreads: (n) => setThreads(n),
    config: () => String(config()),
    coreName: () => String(core()),
  };
}

function openDeno(deno: DenoFfi, file: string): RawBlas {
  const lib = deno.dlopen(file, {
    cblas_sgemm: { parameters: ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'f32', 'buffer', 'i32', 'buffer', 'i32', 'f32', 'buffer', 'i32'], result: 'void' },
    openblas_set_num_threads: { parameters: ['i32'], result: 'void' },
    openblas_get_config: { parameters: [], result: 'pointer' },
    openblas_get_corename: { parameters: [], result: 'pointer' },
  });
  const s = lib.symbols;
  const str = (p: unknown) => (p ? new deno.UnsafePointerView(p).getCString() : '');
  return {
    ffi: `deno ${deno.version.deno}`,
    sgemm: (tA, tB, m, n, k, a, lda, b, ldb, c, ldc, beta = 0) => s.cblas_sgemm(ROW_MAJOR, tA ? TRANS : NO_TRANS, tB ? TRANS : NO_TRANS, m, n, k, 1, a, lda, b, ldb, beta, c, ldc),
    setThreads: (n) => s.openblas_set_num_threads(n),
    config: () => str(s.openblas_get_config()),
    coreName: () => str(s.openblas_get_corename()),
  };
}

/** The part of koffi's API used here. */
interface KoffiModule {
  version?: string;
  load(file: string): { func(signature: string): (...args: unknown[]) => unknown };
}

/** The part of Deno's FFI used here. */
interface DenoFfi {
  version: { deno: string };
  // deno-lint-ignore no-explicit-any
  dlopen(file: string, symbols: Record<string, unknown>): { symbols: Record<string, (...args: any[]) => any> };
  UnsafePointerView: new (p: unknown) => { getCString(): string };
}
