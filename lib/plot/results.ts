/**
 * Reading an experiment's result file (`results/<experiment>/<preset>/summary.json`) for a figure, with
 * an error that says which command produces it, and running code from the project root (experiments
 * write under `results/` relative to the current directory, a notebook kernel starts in notebooks/).
 *
 * @module
 */
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './paths.ts';
import { resultsRoot } from '../pipeline/paths.ts';
import { FtdaError } from '../runtime/errors.ts';

/** The command that writes an experiment's results. */
export function experimentCommand(experiment: string, preset: string): string {
  return `npx tsx lib/cli.ts experiment ${experiment} --preset ${preset}`;
}

/** Thrown when a results file is missing; its message names the command that writes it. */
export class ResultsNotFoundError extends FtdaError {
  constructor(
    readonly experiment: string,
    readonly preset: string,
    readonly file: string,
  ) {
    super('data', `results file not found: ${path.relative(PROJECT_ROOT, file) || file}; run \`${experimentCommand(experiment, preset)}\``);
  }
}

/** Absolute path of `results/<experiment>/<preset>/<file>`. */
export function resultsFile(experiment: string, preset: string, file = 'summary.json'): string {
  return path.join(resultsRoot(), experiment, preset, file);
}

/** A parsed results file and where it came from (project-relative). */
export interface LoadedResults<T> {
  summary: T;
  source: string;
}

/**
 * Reads and parses `results/<experiment>/<preset>/summary.json`.
 * @throws ResultsNotFoundError when the file does not exist; Error (naming the file) when it is not JSON
 */
export function readResults<T = Record<string, unknown>>(experiment: string, preset: string, file = 'summary.json'): LoadedResults<T> {
  const abs = resultsFile(experiment, preset, file);
  if (!fs.existsSync(abs)) throw new ResultsNotFoundError(experiment, preset, abs);
  const source = path.relative(PROJECT_ROOT, abs).split(path.sep).join('/');
  try {
    return { summary: JSON.parse(fs.readFileSync(abs, 'utf8')) as T, source };
  } catch (e) {
    throw new Error(`${source} is not valid JSON (${(e as Error).message}); rerun \`${experimentCommand(experiment, preset)}\``);
  }
}

/** True when the results file exists. */
export function hasResults(experiment: string, preset: string): boolean {
  return fs.existsSync(resultsFile(experiment, preset));
}

/**
 * Runs `fn` with the project root as the current directory (restored afterwards), so that experiment
 * code writes to the same `results/` and `results/cache` as the CLI. Import modules before calling it:
 * the Deno kernel resolves relative imports against the current directory.
 */
export async function inProjectRoot<T>(fn: () => Promise<T> | T): Promise<T> {
  const prev = process.cwd();
  process.chdir(PROJECT_ROOT);
  try {
    return await fn();
  } finally {
    process.chdir(prev);
  }
}
