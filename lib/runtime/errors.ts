/**
 * Typed errors of the library. Control flow tests the class (or `kind`), never the message text; the CLI maps
 * each kind to an exit code (`exitCode`).
 *
 * | kind | meaning | exit |
 * |---|---|---|
 * | `usage` | the command, a flag or a value is wrong | 2 |
 * | `data` | an input file (dataset, checkpoint, config) is missing, malformed or hostile | 3 |
 * | `corrupt` | a cached or stored file fails its integrity check | 4 |
 * | `cache-mismatch` | a cache entry holds a different request than the one asked for | 4 |
 * | `lock` | another live process holds a cache entry and waiting was not allowed | 5 |
 * | `divergence` | training or a recursion produced non-finite values | 6 |
 * | `empty-result` | a summary would have no rows (nothing is written) | 2 |
 *
 * @example
 * ```ts
 * try { await run(); } catch (e) { if (e instanceof CorruptFileError) console.error(e.file); }
 * ```
 * @module
 */

/** Every kind of {@link FtdaError}. */
export type ErrorKind = 'usage' | 'data' | 'corrupt' | 'cache-mismatch' | 'divergence' | 'lock' | 'empty-result';

/** Base class: a message for people plus a machine-readable `kind`. */
export class FtdaError extends Error {
  constructor(readonly kind: ErrorKind, message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A mistake in how a command or function was called (exit code 2). */
export class UsageError extends FtdaError {
  constructor(message: string) {
    super('usage', message);
  }
}

/** An input file that cannot be used as it is. */
export class DataError extends FtdaError {
  constructor(message: string, readonly file?: string) {
    super('data', message);
  }
}

/** A cached or stored file whose bytes do not match the record made when it was written. */
export class CorruptFileError extends FtdaError {
  constructor(readonly file: string, readonly reason: string, remedy?: string) {
    super('corrupt', `${file}: ${reason}${remedy ? `; ${remedy}` : ''}`);
  }
}

/** A cache entry that holds a different request (different run, options or data). */
export class CacheMismatchError extends FtdaError {
  constructor(message: string, readonly path?: string) {
    super('cache-mismatch', message);
  }
}

/** Non-finite values in training or in an iterative solver. */
export class DivergenceError extends FtdaError {
  constructor(message: string, readonly step?: number) {
    super('divergence', message);
  }
}

/** Another live process holds a lock. */
export class LockError extends FtdaError {
  constructor(message: string, readonly lockFile: string) {
    super('lock', message);
  }
}

/** A summary that would replace the one on disk with no rows. */
export class EmptyResultError extends FtdaError {
  constructor(message: string) {
    super('empty-result', message);
  }
}

/** Exit codes by kind (the table above); anything that is not an {@link FtdaError} exits 1 (a bug, or the platform). */
export const EXIT_CODES: Record<ErrorKind, number> = { usage: 2, 'empty-result': 2, data: 3, corrupt: 4, 'cache-mismatch': 4, lock: 5, divergence: 6 };

/** The CLI's exit code for an error. */
export function exitCode(e: unknown): number {
  return e instanceof FtdaError ? EXIT_CODES[e.kind] : 1;
}
