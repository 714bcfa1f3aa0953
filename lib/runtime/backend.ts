/**
 * Backend selection and the runtime record written beside every result.
 *
 * `auto` tries tfjs-node-gpu → tfjs-node → wasm → cpu. Override with the `FTDA_BACKEND` environment
 * variable or a `--backend` flag (flag wins). The tfjs-node packages are optional dependencies: their
 * install downloads libtensorflow, which fails without internet, and npm then simply omits them.
 *
 * Always `await initBackend()` before creating any tensor (importing the wasm backend registers it at a
 * higher priority than cpu, and tfjs throws if a tensor is made before it is initialised).
 *
 * @module
 */
import { tf } from './tf.ts';
import { applyGradFixes, defaultFixesFor, GRADFIX_VERSION, type GradFix } from './gradfixes.ts';
import { flagValue, getEnv, runtimeName, runtimeVersion } from './env.ts';
import { blasStatus, loadBlas, type BlasInfo } from './blas.ts';
import { installBlasMatMul, installRunTranspose, NATIVE_KERNELS_VERSION } from './blas-kernels.ts';

/** Backends a user can ask for. */
export type BackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

/** What ran: stored in every result file so results can be compared only within one engine. */
export interface RuntimeInfo {
  /** tfjs backend name actually in use (`tensorflow`, `wasm`, `cpu`). */
  backend: string;
  /** For `tensorflow`: which package provided it (`@tensorflow/tfjs-node-gpu` / `@tensorflow/tfjs-node`). */
  backendPackage: string;
  /** `node x.y.z` or `deno x.y.z`. */
  runtime: string;
  /** Package versions of the numerical stack. */
  versions: Record<string, string>;
  /** Gradient fixes active (see gradfixes.ts) and the version of that set. */
  gradFixes: GradFix[];
  gradFixVersion: number;
  /** Why the preferred backends were skipped in `auto` mode. */
  skipped: string[];
  /**
   * The native GEMM behind the wasm backend's matrix products (blas.ts), or null when XNNPACK does them all
   * (`FTDA_BLAS=off`, no OpenBLAS, or another backend). Part of the engine: it changes the last bits.
   */
  blas: BlasInfo | null;
  /** Why `blas` is what it is. */
  blasStatus: string;
}

let current: RuntimeInfo | undefined;
let pending: Promise<RuntimeInfo> | undefined;

/** Options of {@link initBackend}. */
export interface InitOptions {
  /** Backend to use; default: `--backend` flag, then `FTDA_BACKEND`, then `auto`. */
  backend?: BackendChoice;
  /** Gradient fixes to apply; default: {@link defaultFixesFor} the chosen backend. */
  fixes?: GradFix[];
}

/** Resolves the requested backend from options, CLI flag and environment, validating the name. */
export function requestedBackend(opt?: BackendChoice): BackendChoice {
  const raw = opt ?? flagValue('backend') ?? getEnv('FTDA_BACKEND') ?? 'auto';
  if (!BACKEND_CHOICES.includes(raw as BackendChoice)) {
    throw new Error(
      `unknown backend '${raw}' (from ${opt ? 'options' : flagValue('backend') ? '--backend' : 'FTDA_BACKEND'}); ` +
        `choose one of ${BACKEND_CHOICES.join(', ')}`,
    );
  }
  return raw as BackendChoice;
}

async function tryNode(pkg: string, skipped: string[]): Promise<boolean> {
  try {
    await import(pkg);
  } catch (e) {
    skipped.push(`${pkg}: not installed or failed to load (${(e as Error).message.split('\n')[0]})`);
    return false;
  }
  // A second tfjs-core copy would register 'tensorflow' into another engine: check ours has it.
  if (!tf.findBackendFactory('tensorflow')) {
    skipped.push(`${pkg}: loaded, but registered into a different tfjs-core copy (check \`npm ls @tensorflow/tfjs-core\`)`);
    return false;
  }
  return await tf.setBackend('tensorflow');
}

async function tryWasm(skipped: string[]): Promise<boolean> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    return await tf.setBackend('wasm');
  } catch (e) {
    skipped.push(`wasm: ${(e as Error).message.split('\n')[0]}`);
    return false;
  }
}

/**
 * Selects and initialises the tfjs backend, applies the gradient fixes, and returns the runtime record.
 * Idempotent: later calls return the first result; asking for a different backend afterwards throws.
 */
export function initBackend(options: InitOptions = {}): Promise<RuntimeInfo> {
  const want = requestedBackend(options.backend);
  if (pending) {
    return pending.then((info) => {
      if (want !== 'auto' && info.backend !== want) {
        throw new Error(`backend already initialised as '${info.backend}'; cannot switch to '${want}' in one process`);
      }
      return info;
    });
  }
  pending = doInit(want, options.fixes);
  return pending;
}

async function doInit(want: BackendChoice, fixes?: GradFix[]): Promise<RuntimeInfo> {
  const skipped: string[] = [];
  let backendPackage = '';
  let ok = false;
  // PROD silences tfjs' "install tfjs-node" banner (printed through its warn()); numerics are unaffected.
  tf.env().set('PROD', true);
  if (want === 'auto' || want === 'tensorflow') {
    for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      if (await tryNode(pkg, skipped)) {
        ok = true;
        backendPackage = pkg;
        break;
      }
    }
    if (!ok && want === 'tensorflow') {
      throw new Error(
        `backend 'tensorflow' requested but neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is usable:\n  ` +
          skipped.join('\n  ') +
          `\nSee README "GPU / native backend" for installing libtensorflow offline.`,
      );
    }
  }
  if (!ok && (want === 'auto' || want === 'wasm')) {
    ok = await tryWasm(skipped);
    if (ok) backendPackage = '@tensorflow/tfjs-backend-wasm';
    else if (want === 'wasm') throw new Error(`backend 'wasm' requested but failed to initialise: ${skipped.at(-1)}`);
  }
  if (!ok) {
    ok = await tf.setBackend('cpu');
    backendPackage = '@tensorflow/tfjs-backend-cpu';
  }
  if (!ok) throw new Error('no tfjs backend could be initialised');
  await tf.ready();
  const backend = tf.getBackend();
  const gradFixes = applyGradFixes(fixes ?? defaultFixesFor(backend));
  let blas: BlasInfo | null = null;
  let why = `not used by the ${backend} backend`;
  if (backend === 'wasm') {
    installRunTranspose(); // a pure copy: the same bits with or without a native GEMM
    const b = await loadBlas();
    if (b && installBlasMatMul(b)) blas = { ...b.info, id: `${b.info.id}+k${NATIVE_KERNELS_VERSION}` };
    why = blasStatus();
  }
  current = {
    backend,
    backendPackage,
    runtime: `${runtimeName()} ${runtimeVersion().split(' ')[1]}`,
    versions: await stackVersions(),
    gradFixes,
    gradFixVersion: GRADFIX_VERSION,
    skipped,
    blas,
    blasStatus: why,
  };
  return current;
}

/**
 * The engine in one short string for cache keys and messages: the backend, plus the native GEMM when one is in
 * use (`wasm`, `wasm+openblas-0.3.21-SkylakeX`). Keys made before the GEMM existed stay valid for plain wasm.
 */
export function engineKey(): string {
  const rt = runtimeInfo();
  return rt.blas ? `${rt.backend}+${rt.blas.id}` : rt.backend;
}

async function stackVersions(): Promise<Record<string, string>> {
  const v: Record<string, string> = {};
  for (const [k, val] of Object.entries(tf.version)) v[`@tensorflow/${k}`] = String(val);
  try {
    const w = await import('@tensorflow/tfjs-backend-wasm');
    v['@tensorflow/tfjs-backend-wasm'] = (w as { version_wasm: string }).version_wasm;
  } catch {
    // not installed
  }
  return v;
}

/** The runtime record of the initialised backend; throws if {@link initBackend} has not completed. */
export function runtimeInfo(): RuntimeInfo {
  if (!current) throw new Error('runtimeInfo(): call `await initBackend()` first');
  return current;
}

/**
 * `obj` for hashing into a cache directory name, tagged with the engine when a native GEMM is in use, so runs of
 * different engines get different directories (plain wasm keeps the names it always had).
 */
export function engineScoped<T>(obj: T): T | { scoped: T; engine: string } {
  const rt = runtimeInfo();
  return rt.blas ? { scoped: obj, engine: engineKey() } : obj;
}
