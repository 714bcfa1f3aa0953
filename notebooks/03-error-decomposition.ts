// Source of truth for notebooks/03-error-decomposition.ipynb. Edit this file, then regenerate the notebook
// with `npx tsx scripts/notebooks.ts build`. Cells are separated by `// %%` markers.
// It also runs as a plain script: `npx tsx notebooks/03-error-decomposition.ts`.

// %% [markdown]
// # 3 · Where the error comes from: config, algorithm, system
//
// **What the paper claims** (Deng et al., arXiv 2605.18814). The total error of a trajectory-based estimate splits
// into three levels:
// - *Config-level:* the estimator assumes a run that did not happen (SGD instead of AdamW, the wrong schedule, weight
//   decay). This is the largest term and the most fixable.
// - *Algorithm-level:* the first-order Taylor error that remains once the configuration matches.
// - *System-level:* finite precision, checkpoint spacing and similar implementation realities.
//
// **What we measure.** We decompose the error of common practice, SGD-influence on an AdamW run, against TSLOO, on the
// same scored samples × queries. The error matrix telescopes: `R − S_k = (R − A) + (A − S) + (S − S_k)`. Here R is
// TSLOO, A is AdamW-influence (the matched estimator), S is SGD-influence, and S_k is SGD-influence fed every k-th
// checkpoint. Each part's share is its projection on the total squared error, so the shares sum to 1 exactly. A part
// that points against the rest has a negative share. There are four parts:
// - *system, float32 noise:* estimated from two computation orders of TSLOO;
// - *system, checkpoint stride:* `S − S_k`, which is zero at k = 1;
// - *config, optimizer mismatch:* `A − S`;
// - *algorithm, Taylor residual:* `R − A`, minus the noise share.
//
// CIs are 95% bootstrap intervals over queries. Squared errors are used rather than 1 − Spearman because they add up
// exactly along the chain; rank correlations do not. See `lib/experiments/error-decomposition.ts`.
//
// **Sign convention.** Every score and TSLOO value is `ℓ_q(θ_T without z) − ℓ_q(θ_T)` (positive = z helped q), so the
// errors compare like with like.
//
// **What is reduced at CPU scale, and why.** Ground truth costs one retraining per scored sample. `quick` is therefore
// the quick MLP at LR 1e-3 with 16 × 16 samples × queries and strides k ∈ {1, 4, 16}. `full` is the paper's MLP at
// LR 1e-3 and 1e-4 with 50 × 100 (`DECOMPOSITION_PRESETS`). The preset comes from `FTDA_PRESET`.

// %%
import { displayFigure, ensureResults, errorDecompositionFigure, formatTable, presetFromEnv, readResults, saveFigure, type TidySummary } from '../lib/plot/index.ts';

const PRESET = presetFromEnv(); // FTDA_PRESET, default quick
const EXPERIMENT = 'error-decomposition';
console.log(`preset ${PRESET}`);

// %% [markdown]
// ## Run the experiment, or reuse its results
// `./reproduce.sh` runs the experiment first, so this cell normally reuses
// `results/error-decomposition/<preset>/summary.json`.

// %%
await ensureResults(EXPERIMENT, PRESET, () => import('../lib/experiments/error-decomposition.ts'), (m, p) => m.runErrorDecomposition(p));

// %% [markdown]
// ## The figure
// One stacked bar per setting × LR × checkpoint stride, showing the share of each error source, with error bars
// around each segment's end.

// %%
const { summary, source } = readResults<TidySummary>(EXPERIMENT, PRESET);
const figure = errorDecompositionFigure(summary, { source });
console.log(`wrote ${saveFigure(figure, { html: 'relative' }).svg}`);
await displayFigure(figure.spec);

// %% [markdown]
// ## Key numbers

// %%
console.log(formatTable(summary.rows, ['setting', 'lr', 'k', 'seed', 'component', 'share', 'lo', 'hi', 'measured']));
