/**
 * Where results and caches live: `FTDA_RESULTS_DIR` when set, else `<repo>/results` (found from this file, so a
 * notebook kernel started in notebooks/ and the CLI started anywhere use the same folders).
 *
 *     <results>/<finding>/<preset>/   summary.json, tables (CSV), cells/   (what a finding publishes)
 *     <results>/cache/                trajectories/, tsloo/, scores/, …  (shared by every finding)
 *
 * @module
 */
import path from 'node:path';
import { getEnv } from '../runtime/env.ts';
import { REPO_ROOT } from '../runtime/root.ts';
import { UsageError } from '../runtime/errors.ts';

export { REPO_ROOT };

/** The results root: `FTDA_RESULTS_DIR`, else `<repo>/results`. */
export function resultsRoot(): string {
  return path.resolve(getEnv('FTDA_RESULTS_DIR') ?? path.join(REPO_ROOT, 'results'));
}

/** The shared cache root `<results>/cache`. */
export function defaultCacheDir(): string {
  return path.join(resultsRoot(), 'cache');
}

/** The folder of a finding's results: `<results>/<finding>` (its presets below it). */
export function findingDir(finding: string): string {
  return path.join(resultsRoot(), finding);
}

/**
 * A finding's preset `name` and where its run writes: `<outDir ?? results/<finding>>/<name>/`, and the cache root.
 * @throws UsageError naming the known presets
 */
export function findingRun<P>(finding: string, presets: Record<string, P>, name: string, o: { outDir?: string; cacheDir?: string } = {}): { preset: P; outDir: string; cacheDir: string } {
  const preset = Object.hasOwn(presets, name) ? presets[name] : undefined;
  if (!preset) throw new UsageError(`unknown ${finding} preset '${name}'; known: ${Object.keys(presets).join(', ')}`);
  return { preset, outDir: path.join(o.outDir ?? findingDir(finding), name), cacheDir: o.cacheDir ?? defaultCacheDir() };
}
