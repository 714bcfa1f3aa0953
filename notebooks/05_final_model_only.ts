// Source of truth for notebooks/05_final_model_only.ipynb. Edit this file, then regenerate the notebook
// with `npx tsx scripts/notebooks.ts build`. Cells are separated by `// %%` markers.
// It also runs as a plain script: `npx tsx notebooks/05_final_model_only.ts`.

// %% [markdown]
// # 5 · Final-model-only attribution
//
// **The question.** Often only the final model is available: no trajectory, no optimizer state. What can
// gradient-based attribution at θ_f measure then, and how long does it stay faithful? Wei et al. (arXiv 2412.03906)
// argue that the well-posed target is *further training*: train the final model on the full set and on the set
// without z, from the same seeded sample order, and average over seeds. They report that first-order methods
// (Grad-Dot, Grad-Cos) approximate this gold standard well at first, but the quality decays with further training,
// while influence-function methods are more stable but lower in quality.
//
// **The method in a few equations.** The gold standard after e further-training epochs is
// `Δ_e(z, q) = E_seed[ℓ_q(θ_e^{−z}) − ℓ_q(θ_e^{full})]`, centred per query over the left-out samples. The methods all
// use only θ_f: Grad-Dot `⟨∇ℓ_q(θ_f), ∇ℓ_z(θ_f)⟩`, Grad-Cos (its cosine), and the influence function
// `∇ℓ_q(θ_f)ᵀ (G + λI)⁻¹ ∇ℓ_z(θ_f)` with Gauss–Newton curvature G, solved by CG or LiSSA. As a reference for what
// trajectory-awareness buys, AdamW-influence over the further-training run itself (it needs that run, so it is not a
// final-model-only method) and the split-half reliability of the gold standard, which bounds the agreement any method
// can reach at this number of seeds. Agreement is the Spearman across left-out instances, per test instance, averaged
// over test instances, against further-training epochs; bands are 95% CIs over test instances.
//
// **Sign convention.** Every score is the predicted loss change when z is removed (positive = z helped). The gold
// standard shares that sign.
//
// **What is reduced at CPU scale, and why.** Small tabular (Adult) and image (MNIST) settings with a few hundred
// training rows and fewer seeds than the paper's 100, since every left-out instance costs a further-training run per
// seed. See `FINAL_MODEL_PRESETS` in `lib/findings/final-model/experiment.ts`. The preset comes from `FTDA_PRESET`.

// %%
import { finalModel } from '../lib/findings/final-model/index.ts';
import { ensureResults } from '../lib/findings/notebook.ts';
import { displayFigure, displayTable, presetFromEnv, readResults, saveFigure, type TidySummary } from '../lib/plot/index.ts';

const PRESET = presetFromEnv(); // FTDA_PRESET, default quick
const EXPERIMENT = finalModel.id;
console.log(`preset ${PRESET}`);

// %% [markdown]
// ## Run the experiment, or reuse its results
// `./reproduce.sh` runs the experiment first, so this cell normally reuses `results/final-model/<preset>/summary.json`.

// %%
await ensureResults(finalModel, PRESET);

// %% [markdown]
// ## The figures
// Agreement with further training against further-training epochs, one figure per further-training optimizer
// (SGD, then AdamW). Colour is the method, a dashed line the second dataset; bands are 95% CIs over test instances.

// %%
const { summary, source } = readResults<TidySummary>(EXPERIMENT, PRESET);
for (const figure of finalModel.figures.map((f) => f.build(summary as never, { source }))) {
  console.log(`wrote ${saveFigure(figure, { html: 'relative' }).svg}`);
  await displayFigure(figure.spec, { plotly: true });
}

// %% [markdown]
// ## Key numbers

// %%
const rows = (summary.rows as Record<string, unknown>[]).filter((r) => r.metric === 'spearman');
const columns = ['dataset', 'variant', 'epoch', 'method', 'mean', 'lo', 'hi', 'seeds'];
await displayTable(rows, columns);

// %% [markdown]
// ## What it means
// A method whose line falls with more further-training epochs approximates the short-horizon effect only; one that
// stays flat is stable but may sit lower. The split-half line is the ceiling at this number of seeds: a method near it
// is as good as the gold standard is reproducible. The next cell reads, per (dataset, variant, method), the agreement
// at the first and the last epoch from the results file.

// %%
const groups = new Map<string, Record<string, unknown>[]>();
for (const r of rows) {
  const key = `${r.dataset}/${r.variant} ${r.method}`;
  groups.set(key, [...(groups.get(key) ?? []), r]);
}
console.log([...groups].map(([key, rs]) => {
  const sorted = [...rs].sort((a, b) => (a.epoch as number) - (b.epoch as number));
  const [first, last] = [sorted[0], sorted[sorted.length - 1]];
  return `${key.padEnd(40)} epoch ${first.epoch}: ${(first.mean as number).toFixed(3)} → epoch ${last.epoch}: ${(last.mean as number).toFixed(3)}`;
}).join('\n'));

// %% [markdown]
// ## Practical guideline
// **With only the final model, attribute short-horizon effects and say so.** Gradient similarity at θ_f answers "what
// would a little more training without z change", not "what did z do during training"; its agreement with that target
// fades as the horizon grows. For longer horizons, influence functions are the more stable choice, and if the training
// (or further-training) run can be recorded, a trajectory method that models it is better still.
//
// *Measured 2026-11-23 on the 2-core development VM (wasm backend), full preset: on MNIST with AdamW, from 1 to 20 further-training epochs, Grad-Dot's Spearman with the further-training gold standard falls from 0.579 to 0.064. Influence functions (CG) rise from 0.208 to 0.605, and AdamW-influence on the recorded further-training trajectory goes from 0.592 to 0.666. The gold standard's own split-half agreement goes from 0.451 to 0.622.*
