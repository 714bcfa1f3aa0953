/**
 * Notebook glue: reuse an experiment's results when they exist, otherwise run it from the notebook.
 * reproduce.sh runs every experiment before the notebooks, so a notebook normally only reads. An
 * experiment module that does not exist yet is reported and skipped; the cell that reads the results
 * then fails with the "results file not found" message, which the notebook runner reports.
 *
 * @module
 */
import { getEnv } from '../runtime/env.ts';
import { hasResults, inProjectRoot } from './results.ts';

/** What {@link ensureResults} did. */
export type EnsureOutcome = 'reused' | 'ran' | 'unavailable' | 'skipped';

/** When a notebook runs an experiment itself: `FTDA_RUN_EXPERIMENTS` = missing (default) | never | always. */
export function runPolicy(): 'missing' | 'never' | 'always' {
  const v = getEnv('FTDA_RUN_EXPERIMENTS') ?? 'missing';
  if (v !== 'missing' && v !== 'never' && v !== 'always') throw new Error(`FTDA_RUN_EXPERIMENTS must be missing, never or always, got '${v}'`);
  return v;
}

const MODULE_MISSING = /Module not found|Cannot find module|ERR_MODULE_NOT_FOUND|No such file|does not provide an export/i;

/**
 * Reuses `results/<experiment>/<preset>/summary.json`, or loads the experiment module and runs it from
 * the project root (so that it writes where the CLI writes). {@link runPolicy}: `never` only reuses (the
 * notebook runner sets it after reproduce.sh has run the experiments), `always` reruns even when results
 * exist (phases are cached, so this mostly rebuilds the summary).
 *
 * @param load imports the experiment module. Pass `() => import('../lib/experiments/x.ts')` from the
 *   notebook: the import has to happen before the directory changes, because the Deno kernel resolves a
 *   cell's relative imports against the current directory.
 * @param run runs the experiment with the loaded module
 * @returns `unavailable` when the module does not exist yet, `skipped` when the policy forbids running;
 *   errors of the experiment itself propagate
 */
export async function ensureResults<M>(experiment: string, preset: string, load: () => Promise<M>, run: (mod: M, preset: string) => Promise<unknown>): Promise<EnsureOutcome> {
  const policy = runPolicy();
  const have = hasResults(experiment, preset);
  if (have && policy !== 'always') {
    console.log(`reusing results/${experiment}/${preset}/summary.json`);
    return 'reused';
  }
  if (policy === 'never') {
    console.log(`results/${experiment}/${preset}/summary.json does not exist and FTDA_RUN_EXPERIMENTS=never: not running '${experiment}' here`);
    return 'skipped';
  }
  let mod: M;
  try {
    mod = await load();
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    if (!MODULE_MISSING.test(msg)) throw e;
    console.log(`experiment '${experiment}' cannot run from here yet: ${msg.split('\n')[0]}`);
    return 'unavailable';
  }
  const { initBackend } = await import('../runtime/backend.ts');
  await initBackend();
  console.log(`running experiment '${experiment}' (preset ${preset}); phases are cached under results/cache`);
  await inProjectRoot(() => run(mod, preset));
  return 'ran';
}
