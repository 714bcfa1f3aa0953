/**
 * Where things live: the project root (found from this file, so it does not depend on the current
 * directory — a Jupyter kernel starts in notebooks/), the figures folder and result files.
 *
 * @module
 */
import path from 'node:path';
import { getEnv } from '../runtime/env.ts';
import { REPO_ROOT } from '../runtime/root.ts';

/** Absolute path of the repository root (lib/runtime/root.ts). */
export const PROJECT_ROOT = REPO_ROOT;

/** Absolute path of `parts` under the project root. */
export function projectPath(...parts: string[]): string {
  return path.join(PROJECT_ROOT, ...parts);
}

/**
 * The figures folder: `FTDA_FIGURES_DIR` (tests point it elsewhere), else `<root>/figures` for the `full` preset
 * (the published study, tracked in git) and `<root>/figures/<preset>` for any other (smoke tests such as `quick`,
 * ignored by git, so a quick run never rewrites a tracked file).
 * @param preset default {@link presetFromEnv}
 */
export function figuresDir(preset: string = presetFromEnv()): string {
  const env = getEnv('FTDA_FIGURES_DIR');
  if (env) return path.resolve(env);
  return preset === 'full' ? projectPath('figures') : projectPath('figures', preset);
}

/** The bundled plotly.js of the `plotly.js-dist` npm package. */
export function plotlyJsPath(): string {
  return projectPath('node_modules', 'plotly.js-dist', 'plotly.js');
}

/** The preset a notebook or script runs: `FTDA_PRESET`, default `quick`. */
export function presetFromEnv(): string {
  const p = getEnv('FTDA_PRESET') ?? 'quick';
  if (!/^[a-z][a-z0-9-]*$/.test(p)) throw new Error(`FTDA_PRESET must be a preset name such as quick or full, got '${p}'`);
  return p;
}
