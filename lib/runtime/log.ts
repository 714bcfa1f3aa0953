/**
 * Progress and warning lines on stderr, the one place that knows `FTDA_QUIET`.
 *
 * - {@link log}: progress, silenced by `FTDA_QUIET=1` (tests, notebooks).
 * - {@link warn}: something the user must see (a corrupt cache entry moved aside, a diverging loss); never
 *   silenced, prefixed `warning:`.
 *
 * @module
 */
import { getEnv } from './env.ts';

/** A progress line on stderr unless `FTDA_QUIET=1`. */
export function log(msg: string): void {
  if (getEnv('FTDA_QUIET') !== '1') console.error(msg);
}

/** Listeners that also receive every warning (tests, the notebook runner). */
const warnListeners = new Set<(msg: string) => void>();

/** A warning line on stderr (always printed). */
export function warn(msg: string): void {
  console.error(`warning: ${msg}`);
  for (const f of warnListeners) f(msg);
}

/**
 * Calls `f` with every warning until the returned function is called.
 * @example
 * ```ts
 * const seen: string[] = []; const stop = onWarning((m) => seen.push(m)); …; stop();
 * ```
 */
export function onWarning(f: (msg: string) => void): () => void {
  warnListeners.add(f);
  return () => warnListeners.delete(f);
}
