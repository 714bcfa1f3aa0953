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
