/**
 * The one cache-key function, and the argument file beside a cache entry.
 *
 * A key is the sha256 of the canonical JSON of everything that determines an entry's numbers (run hash, ids,
 * queries, estimator and options, …), cut to 24 hex digits (96 bits). Beside an entry `name.json` its arguments
 * are kept in `name.args.json` (kronfluence's persisted arguments): a later request whose arguments differ is
 * refused with a {@link CacheMismatchError} naming both, instead of reading numbers computed for something else.
 *
 * @example
 * ```ts
 * const key = cacheKey({ run: traj.manifest.runHash, ids, name: 'tracin' });
 * const file = path.join(cacheDir, 'scores', `tracin-${key}.json`);
 * ```
 * @module
 */
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { CacheMismatchError } from '../runtime/errors.ts';
import { readVerifiedJson, writeVerifiedJson } from './integrity.ts';

/** Canonical JSON: object keys sorted at every level, `undefined` fields dropped; non-finite numbers rejected. */
export function canonicalJson(obj: unknown): string {
  const walk = (v: unknown, path: string): unknown => {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`canonicalJson: non-finite number at ${path || '<root>'}`);
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}[${i}]`));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) {
        const x = (v as Record<string, unknown>)[k];
        if (x !== undefined) out[k] = walk(x, `${path}.${k}`);
      }
      return out;
    }
    return v;
  };
  return JSON.stringify(walk(obj, ''));
}

/** sha256 (hex) of the canonical JSON of `obj`: equal settings hash equally whatever their key order. */
export function contentHash(obj: unknown): string {
  return createHash('sha256').update(canonicalJson(obj)).digest('hex');
}

/** sha256 (hex) of the bytes of a typed array. */
export function bytesHash(a: Float32Array | Float64Array | Int32Array): string {
  return createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');
}

/** Hex digits of a cache key (96 bits: collisions are not a concern at any cache size). */
export const KEY_LENGTH = 24;

/** The key of a cache entry: sha256 of the canonical JSON of `args` (undefined fields dropped), `length` hex digits. */
export function cacheKey(args: unknown, length = KEY_LENGTH): string {
  return contentHash(args).slice(0, length);
}

/** The argument file of entry `file` (`x.json` → `x.args.json`; any other name gets `.args.json` appended). */
export function argsFile(file: string): string {
  return file.endsWith('.json') ? `${file.slice(0, -5)}.args.json` : `${file}.args.json`;
}

/**
 * Checks `args` against the argument file of `file`, writing it when absent (entries of earlier versions get
 * theirs on first use).
 * @throws CacheMismatchError when the recorded arguments differ
 */
export function checkArgs(file: string, args: unknown): void {
  const af = argsFile(file);
  const want = canonicalJson(args);
  const have = fs.existsSync(af) ? readVerifiedJson<{ args: unknown }>(af, `delete ${af} and the entry beside it to recompute`) : undefined;
  if (!have) {
    writeVerifiedJson(af, { args: JSON.parse(want) }, 1);
    return;
  }
  if (canonicalJson(have.args) !== want) {
    throw new CacheMismatchError(`cache entry ${file} was computed for other arguments (recorded in ${af}); this request differs — delete both to recompute, or use another cache directory`, file);
  }
}
