// Source of truth for notebooks/05-final-model-and-acc.ipynb. Edit this file, then regenerate the notebook
// with `npx tsx scripts/notebooks.ts build`. Cells are separated by `// %%` markers.
// It also runs as a plain script: `npx tsx notebooks/05-final-model-and-acc.ts`.

// %% [markdown]
// # 5 · Final-model-only attribution, and ACC-SGD-IE over epochs
//
// Two neighbouring papers, each on how the faithfulness of an estimate changes with the amount of training.
//
// **Final-model-only attribution** (Wei et al., arXiv 2412.03906). With only the final model available, the gold
// standard is *further training*: train the final model on the full set and on the set without z, from the same
// seeded sample order, adjust and average over seeds. Gradient-based methods all approximate this gold standard. The
// paper reports two things. First-order methods (Grad-Dot, Grad-Cos) approximate it well at first, but the quality
// decays with further training. Influence-function methods are more stable but lower in quality.
//
// **ACC-SGD-IE** (Shi et al., arXiv 2510.26185). SGD-IE treats each epoch's effect as independent and sums them.
// ACC-SGD-IE propagates the leave-one-out perturbation along the whole trajectory. The paper reports more accurate
// estimates, especially over long training.
//
// **What we measure.** For the first paper: the agreement (Spearman across left-out training instances, per test
// instance, then averaged) between each method and the further-training gold standard, against further-training
// epochs. For the second: the Spearman of ACC-SGD-IE and SGD-IE with TSLOO, against the number of training epochs.
//
// **Sign convention.** Every score is the predicted loss change when z is removed (positive = z helped). Both gold
// standards share that sign.
//
// **What is reduced at CPU scale, and why.** These are small tabular settings (Adult) with a few hundred training rows
// and fewer seeds than the papers' 100, since every left-out instance costs a further-training run per seed. See
// `FINAL_MODEL_PRESETS` and `ACC_EPOCHS_PRESETS` in `lib/experiments/`. The preset comes from `FTDA_PRESET`.

// %%
import { accVsSgdFigure, displayFigure, ensureResults, finalModelFigure, formatTable, presetFromEnv, readResults, saveFigure, type TidySummary } from '../lib/plot/index.ts';

const PRESET = presetFromEnv(); // FTDA_PRESET, default quick
console.log(`preset ${PRESET}`);

// %% [markdown]
// ## Run the experiments, or reuse their results
// `./reproduce.sh` runs both experiments first, so this cell normally reuses their `summary.json` files.

// %%
await ensureResults('final-model', PRESET, () => import('../lib/experiments/final-model.ts'), (m, p) => m.runFinalModel(p));
await ensureResults('acc-epochs', PRESET, () => import('../lib/experiments/acc-epochs.ts'), (m, p) => m.runAccEpochs(p));

// %% [markdown]
// ## The figures
// Agreement with further training against further-training epochs, one line per method (bands: 95% CI over test
// instances). Then ACC-SGD-IE vs SGD-IE against training epochs (bands: ± 1 s.e.m. over seeds when there are several).

// %%
const fm = readResults<TidySummary>('final-model', PRESET);
const acc = readResults<TidySummary>('acc-epochs', PRESET);
const figures = [finalModelFigure(fm.summary, { source: fm.source }), accVsSgdFigure(acc.summary, { source: acc.source })];
for (const fig of figures) console.log(`wrote ${saveFigure(fig, { html: 'relative' }).svg}`);
await displayFigure(figures[0].spec);
await displayFigure(figures[1].spec);

// %% [markdown]
// ## Key numbers

// %%
const spearmanRows = (rows: readonly object[]) => rows.filter((r) => (r as { metric?: string }).metric === 'spearman');
// one console.log: a headless run can drop output that arrives late
console.log([
  formatTable(spearmanRows(fm.summary.rows), ['dataset', 'variant', 'epoch', 'method', 'mean', 'lo', 'hi']),
  '',
  formatTable(spearmanRows(acc.summary.rows), ['dataset', 'epochs', 'estimator', 'mean', 'std', 'seeds']),
].join('\n'));
