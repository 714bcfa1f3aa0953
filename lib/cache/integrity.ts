/**
 * Files that are read back (cache entries, cell results, trajectory manifests) are written with an integrity
 * record and verified on every read, so a torn, truncated or edited file is never used.
 *
 * Layout: `name.json` plus `name.json.sha256`, one line in `sha256sum` format (`<hex>  name.json`), so
 * `sha256sum -c name.json.sha256` checks a file by hand. The data file is renamed into place before its
 * record: a kill between the two leaves a file without a record, which reads as corrupt and is recomputed.
 *
 * What a caller does with a bad file:
 * - a cache entry ({@link readCachedJson}): the file and its record are moved aside to `name.corrupt-<time>`
 *   (nothing is deleted), a warning names both, and the caller recomputes;
 * - anything that cannot be recomputed here ({@link readVerifiedJson}): a {@link CorruptFileError} naming the
 *   file and what to do.
 *
 * Hashing costs about 2 ms per MB here, small next to any computation whose result is cached.
 *
 * @example
 * ```ts
 * writeVerifiedJson('results/cache/scores/x.json', { scores });
 * const hit = readCachedJson<{ scores: unknown }>('results/cache/scores/x.json', 'TracIn scores');
 * ```
 * @module
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { CorruptFileError } from '../runtime/errors.ts';
import { warn } from '../runtime/log.ts';

/** Suffix of the integrity record beside a file. */
export const RECORD_SUFFIX = '.sha256';

/** Lower-case hex sha256 of `bytes`. */
export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Writes `data` to `file` via a temporary file + rename (atomic on one filesystem). */
export function writeAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/** Writes `file` atomically, then its integrity record `file.sha256`. Creates the parent directory. */
export function writeVerified(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeAtomic(file, data);
  writeAtomic(file + RECORD_SUFFIX, `${sha256(data)}  ${path.basename(file)}\n`);
}

/** {@link writeVerified} of `JSON.stringify(value)`. */
export function writeVerifiedJson(file: string, value: unknown, indent?: number): void {
  writeVerified(file, JSON.stringify(value, null, indent) + (indent === undefined ? '' : '\n'));
}

/**
 * The bytes of `file` after checking them against `file.sha256`; undefined when `file` does not exist.
 * @throws CorruptFileError when the record is missing or unreadable, or the bytes do not match it
 */
export function readVerified(file: string): Buffer | undefined {
  if (!fs.existsSync(file)) return undefined;
  const bytes = fs.readFileSync(file);
  const rec = file + RECORD_SUFFIX;
  if (!fs.existsSync(rec)) {
    throw new CorruptFileError(file, `has no integrity record (${path.basename(rec)} is missing: the write was interrupted, or the file predates integrity records)`);
  }
  const want = fs.readFileSync(rec, 'utf8').trim().split(/\s+/)[0];
  if (!/^[0-9a-f]{64}$/.test(want ?? '')) throw new CorruptFileError(file, `its integrity record ${path.basename(rec)} is unreadable`);
  const got = sha256(bytes);
  if (got !== want) throw new CorruptFileError(file, `sha256 ${got.slice(0, 12)}… does not match the ${want.slice(0, 12)}… recorded when it was written (edited, truncated or damaged)`);
  return bytes;
}

/**
 * Parsed JSON of a verified file; undefined when it does not exist.
 * @param remedy appended to the error message (what the user should do)
 * @throws CorruptFileError naming the file
 */
export function readVerifiedJson<T>(file: string, remedy?: string): T | undefined {
  let bytes: Buffer | undefined;
  try {
    bytes = readVerified(file);
  } catch (e) {
    if (e instanceof CorruptFileError && remedy) throw new CorruptFileError(e.file, e.reason, remedy);
    throw e;
  }
  if (bytes === undefined) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (e) {
    throw new CorruptFileError(file, `is not valid JSON although its record matches (${(e as Error).message})`, remedy);
  }
}

/**
 * Moves `file` and its record aside to `file.corrupt-<ISO time>` (never deletes) and returns the new path.
 */
export function quarantine(file: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dest = `${file}.corrupt-${stamp}`;
  if (fs.existsSync(file)) fs.renameSync(file, dest);
  if (fs.existsSync(file + RECORD_SUFFIX)) fs.renameSync(file + RECORD_SUFFIX, dest + RECORD_SUFFIX);
  return dest;
}

/**
 * A cache entry's parsed JSON, or undefined when it is absent **or bad** (then it is quarantined with a warning
 * and the caller recomputes it).
 * @param what what the entry holds, for the warning (e.g. "TracIn scores")
 * @param validate returns a reason when the parsed value does not fit the request (wrong shape, other ids)
 */
export function readCachedJson<T>(file: string, what: string, validate?: (v: T) => string | undefined): T | undefined {
  try {
    const v = readVerifiedJson<T>(file);
    if (v === undefined) return undefined;
    const bad = validate?.(v);
    if (bad) throw new CorruptFileError(file, bad);
    return v;
  } catch (e) {
    if (!(e instanceof CorruptFileError)) throw e;
    const moved = quarantine(file);
    warn(`cache entry (${what}) ${e.message}; moved it to ${moved} and recomputing`);
    return undefined;
  }
}
