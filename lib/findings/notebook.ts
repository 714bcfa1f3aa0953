/**
 * Notebook glue: reuse a finding's results when they exist, otherwise run it from the notebook. reproduce.sh runs
 * every finding before the notebooks, so a notebook normally only reads; a cell that reads missing results fails
 * with a ResultsNotFoundError naming the command, which the notebook runner reports as pending.
 *
 * @module
 */
import { getEnv } from '../runtime/env.ts';
import { hasResults, inProjectRoot } from '../plot/results.ts';
import type { AnyFinding } from './types.ts';

/** What {@link ensureResults} did. */
export type EnsureOutcome = 'reused' | 'ran' | 'skipped';

/** When a notebook runs an experiment itself: `FTDA_RUN_EXPERIMENTS` = missing (default) | never | always. */
export function runPolicy(): 'missing' | 'never' | 'always' {
  const v = getEnv('FTDA_RUN_EXPERIMENTS') ?? 'missing';
  if (v !== 'missing' && v !== 'never' && v !== 'always') throw new Error(`FTDA_RUN_EXPERIMENTS must be missing, never or always, got '${v}'`);
  return v;
}

/**
 * Reuses `results/<id>/<preset>/summary.json`, or runs the finding from the project root (so that it writes where
 * the CLI writes). {@link runPolicy}: `never` only reuses (the notebook runner sets it after reproduce.sh has run
 * the experiments), `always` reruns even when results exist (phases are cached, so this mostly rebuilds the
 * summary).
 * @returns `skipped` when the policy forbids running; errors of the finding itself propagate
 */
export async function ensureResults(f: AnyFinding, preset: string): Promise<EnsureOutcome> {
  const policy = runPolicy();
  const have = hasResults(f.id, preset);
  if (have && policy !== 'always') {
    console.log(`reusing results/${f.id}/${preset}/summary.json`);
    return 'reused';
  }
  if (policy === 'never') {
    console.log(`results/${f.id}/${preset}/summary.json does not exist and FTDA_RUN_EXPERIMENTS=never: not running '${f.id}' here`);
    return 'skipped';
  }
  const { initBackend } = await import('../runtime/backend.ts');
  await initBackend();
  console.log(`running experiment '${f.id}' (preset ${preset}); phases are cached under results/cache`);
  await inProjectRoot(() => f.run(preset, {}));
  return 'ran';
}
