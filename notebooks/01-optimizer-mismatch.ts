// Source of truth for notebooks/01-optimizer-mismatch.ipynb. Edit this file, then regenerate the
// notebook with `npx tsx scripts/notebooks.ts build`. Cells are separated by `// %%` markers.
// It also runs as a plain script: `npx tsx notebooks/01-optimizer-mismatch.ts`.

// %% [markdown]
// # 1 · Optimizer mismatch: SGD formulas on AdamW runs
//
// **What the paper claims** (Deng et al., arXiv 2605.18814, contribution 1). Trajectory-based estimators such as
// TracIn and SGD-influence linearise *SGD*, but the models they explain are trained with *AdamW*. This mismatch is
// the dominant config-level error. AdamW-influence carries the parameters together with AdamW's first and second
// moments through the trajectory. The paper reports that it improves the Spearman correlation with ground truth by
// 10% to over 300% across MLP, CNN, GPT-2 and Llama 3.2-1B settings.
//
// **What we measure.** For each estimator: the Spearman correlation, across the scored training samples, between its
// scores and trajectory-specific leave-one-out (TSLOO) ground truth. It is computed per query, averaged over
// queries, then averaged over seeds. Error bars are 95% bootstrap CIs over (seed, query).
//
// **Sign convention.** A score is the predicted change of a query's loss when a training sample is removed:
// `score(z, q) ≈ ℓ_q(θ_T without z) − ℓ_q(θ_T)`. Positive means z helped q. TSLOO has the same sign, so no score is
// flipped before correlating. (dattri-llm's AdamW-influence reports the negative; we do not.)
//
// **What is reduced at CPU scale, and why.** Ground truth costs one retraining per scored sample, so every setting
// is shrunk. In `full`, the MLP row is the paper's: the MNIST 784-16-16-10 ReLU MLP, AdamW β = (0.9, 0.95), constant LR,
// batch 64, one epoch, 6,000 / 500 images, LR ∈ {1e-3, 1e-4, 1e-5}, seeds 0–2, 200 scored samples × 500 queries. The
// CNN, GPT-2-architecture and Llama-architecture settings are CPU-sized models with tens of scored samples and
// queries. The `quick` preset (the default, sized for CI) runs one LR and one seed per setting on a handful of
// samples. That is enough to exercise every code path, but not to reproduce the paper's numbers. The next cell prints
// the exact grid (`MISMATCH_PRESETS`). The preset comes from `FTDA_PRESET`.

// %%
import { MISMATCH_PRESETS, type MismatchSummary } from '../lib/experiments/optimizer-mismatch.ts';
import { displayFigure, ensureResults, optimizerMismatchFigure, presetFromEnv, readResults, saveFigure } from '../lib/plot/index.ts';

const PRESET = presetFromEnv(); // FTDA_PRESET, default quick
const grid = MISMATCH_PRESETS[PRESET];
console.log(
  grid
    ? `preset ${PRESET}: ${grid.grids.map((g) => `${g.setting}/${g.preset} lr ${g.lrs.join(',')} · ${g.nScored} scored × ${g.nQueries} queries`).join('; ')} · seeds ${grid.seeds.join(',')}`
    : `preset ${PRESET} is not one of ${Object.keys(MISMATCH_PRESETS).join(', ')}: only existing results can be read`,
);

// %% [markdown]
// ## Run the experiment, or reuse its results
// `./reproduce.sh` runs the experiment before the notebooks, so this cell normally just reuses
// `results/optimizer-mismatch/<preset>/summary.json`. Otherwise it runs the experiment here. Every phase (trajectory,
// TSLOO, estimator scores) is cached under `results/cache`, so an interrupted run resumes. `FTDA_RUN_EXPERIMENTS`
// controls this: `missing` (the default) runs only when there are no results, `always` rebuilds the summary from the
// cached cells, and `never` only reads.

// %%
await ensureResults('optimizer-mismatch', PRESET, () => import('../lib/experiments/optimizer-mismatch.ts'), (m, p) => m.runOptimizerMismatch(p));

// %% [markdown]
// ## The figure
// One group of bars per setting × learning rate, one bar per estimator. The builder only reads the result file; it
// recomputes nothing. The files are written before the figure is displayed, because a headless run can drop
// displayed outputs. `figures/01-optimizer-mismatch-*.data.json` holds the numbers behind each figure.

// %%
const { summary, source } = readResults<MismatchSummary>('optimizer-mismatch', PRESET);
const figures = (['spearman', 'pearson'] as const).map((metric) => optimizerMismatchFigure(summary, { source, metric }));
for (const fig of figures) console.log(`wrote ${saveFigure(fig, { html: 'relative' }).svg}`);
await displayFigure(figures[0].spec);

// %% [markdown]
// ## Key numbers
// Mean Spearman per estimator (± std over seeds when there is more than one), with the bootstrap CI. Then the relative
// gain of AdamW-influence (exact curvature) over SGD-influence on the same AdamW run, with a paired bootstrap CI. The
// gain is what the paper's "10% to over 300%" measures.

// %%
const fmt = (v: number | null) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(3) : 'n/a');
// one console.log: a headless run can drop output that arrives late, and one message is less exposed than many
console.log([
  ...summary.rows.filter((x) => x.metric === 'spearman').map((r) => `${r.setting} lr ${r.lr.toExponential(0)}  ${r.estimator.padEnd(24)} ${fmt(r.mean)} ± ${fmt(r.std)}  CI [${fmt(r.lo)}, ${fmt(r.hi)}]  n=${r.n}`),
  ...summary.gains.filter((x) => x.metric === 'spearman').map((g) => `gain of ${g.a} over ${g.b} (${g.setting} lr ${g.lr.toExponential(0)}): ${(100 * g.gain).toFixed(1)}% [${(100 * g.lo).toFixed(1)}%, ${(100 * g.hi).toFixed(1)}%]`),
].join('\n'));
