/**
 * A cached JSON computation: read the verified entry, or compute it under the entry's lock and write it with its
 * integrity record (and its arguments file, key.ts). A second process asking for the same entry waits for the first and reuses its file; a bad
 * entry is moved aside and recomputed (integrity.ts).
 *
 * @example
 * ```ts
 * const { value, cached } = await cachedJson(file, 'TracIn scores', async () => ({ scores: toJSON(await score()) }));
 * ```
 * @module
 */
import { readCachedJson, writeVerifiedJson } from './integrity.ts';
import { withLock } from './lock.ts';
import { checkArgs } from './key.ts';

/** Options of {@link cachedJson}. */
export interface CachedJsonOptions<T> {
  /** A reason when a parsed entry does not fit the request (then it is recomputed). */
  validate?: (v: T) => string | undefined;
  /** The entry's arguments: kept beside it (key.ts `checkArgs`); a request with other arguments is refused. */
  args?: unknown;
}

/**
 * The value of cache entry `file`, computing and storing it when absent or bad.
 * @param what what the entry holds (messages)
 * @returns the value and whether it came from disk
 */
export async function cachedJson<T>(file: string, what: string, compute: () => Promise<T>, o: CachedJsonOptions<T> = {}): Promise<{ value: T; cached: boolean }> {
  if (o.args !== undefined) checkArgs(file, o.args);
  const hit = readCachedJson<T>(file, what, o.validate);
  if (hit !== undefined) return { value: hit, cached: true };
  return withLock(file, what, async () => {
    // Another process may have written it while this one waited for the lock.
    const again = readCachedJson<T>(file, what, o.validate);
    if (again !== undefined) return { value: again, cached: true };
    const value = await compute();
    writeVerifiedJson(file, value);
    return { value, cached: false };
  });
}
