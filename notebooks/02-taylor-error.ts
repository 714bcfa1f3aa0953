// Source of truth for notebooks/02-taylor-error.ipynb. Edit this file, then regenerate the notebook with
// `npx tsx scripts/notebooks.ts build`. Cells are separated by `// %%` markers.
// It also runs as a plain script: `npx tsx notebooks/02-taylor-error.ts`.

// %% [markdown]
// # 2 · The Taylor error: learning rate and trajectory length
//
// **What the paper claims** (Deng et al., arXiv 2605.18814, contribution 2). Matching the estimator to the optimizer
// still leaves an *algorithm-level* error, because the estimator linearises the trajectory and drops the higher-order
// terms. A larger learning rate moves each step further from the linearisation point. A longer trajectory lets the
// error compound as the perturbation propagates. A closed-form proxy, evaluated along the original trajectory without
// any retraining, "tracks the true first-order error closely".
//
// **What we measure.** With the configuration matched (AdamW-influence with exact curvature on the AdamW run it
// models), the relative error is `‖TSLOO − Δ̂‖_F / ‖TSLOO‖_F` over scored samples × queries. It is measured per
// (setting, learning rate, trajectory length T, seed), with a 95% bootstrap CI over queries. Beside it sits the proxy
// of `lib/analysis/error-proxy.ts`. The paper's formula is not public, so this proxy is derived in that module: the
// one-step remainders at the first-order perturbation, carried to θ_T by the same linear map the estimator uses.
//
// **Sign convention.** Scores and TSLOO are both `ℓ_q(θ_T without z) − ℓ_q(θ_T)`. The error is their difference,
// with no sign flips.
//
// **What is reduced at CPU scale, and why.** Each cell needs its own TSLOO ground truth, one retraining per scored
// sample. The `quick` preset is therefore a 2 × 2 grid on the quick MLP (LR ∈ {1e-2, 1e-3}, T ∈ {10, 25}, 12 samples ×
// 16 queries, one seed). `full` is LR ∈ {1e-2, 3e-3, 1e-3, 3e-4, 1e-4} × T ∈ {10, 25, 50, 94} on the paper's MLP, 50 × 100.
// The grids live in `TAYLOR_PRESETS` in `lib/experiments/taylor-error.ts`. The preset comes from `FTDA_PRESET`.

// %%
import { displayFigure, ensureResults, formatTable, presetFromEnv, readResults, saveFigure, taylorErrorHeatmap, taylorProxyScatter, type TidySummary } from '../lib/plot/index.ts';

const PRESET = presetFromEnv(); // FTDA_PRESET, default quick
const EXPERIMENT = 'taylor-error';
console.log(`preset ${PRESET}`);

// %% [markdown]
// ## Run the experiment, or reuse its results
// `./reproduce.sh` runs the experiment first, so this cell normally reuses `results/taylor-error/<preset>/summary.json`.
// Every phase is cached under `results/cache`.

// %%
await ensureResults(EXPERIMENT, PRESET, () => import('../lib/experiments/taylor-error.ts'), (m, p) => m.runTaylorError(p));

// %% [markdown]
// ## The figures
// First, a heat map of the measured error over learning rate × T. The colour scale is logarithmic, because the error
// spans orders of magnitude. Second, the proxy against the measured error, one point per cell, with a least-squares
// fit in log–log space. The subtitle gives the experiment's Spearman across cells, with its bootstrap CI.

// %%
const { summary, source } = readResults<TidySummary>(EXPERIMENT, PRESET);
const figures = [taylorErrorHeatmap(summary, { source }), taylorProxyScatter(summary, { source })];
for (const fig of figures) console.log(`wrote ${saveFigure(fig, { html: 'relative' }).svg}`);
await displayFigure(figures[0].spec);
await displayFigure(figures[1].spec);

// %% [markdown]
// ## Key numbers
// Measured error with its CI, and the proxies, per cell. Then the proxy-vs-error correlations. The primary pairing,
// fixed before the grid was run, is `queryProxy` against `relErr`.

// %%
const correlations = (summary as { correlations?: object[] }).correlations ?? [];
// one console.log: a headless run can drop output that arrives late
console.log([
  formatTable(summary.rows, ['setting', 'lr', 'T', 'seed', 'relErr', 'relErrLo', 'relErrHi', 'queryProxy', 'proxy']),
  ...(correlations.length ? ['', formatTable(correlations, ['setting', 'proxy', 'error', 'primary', 'cells', 'spearman', 'lo', 'hi'])] : []),
].join('\n'));
