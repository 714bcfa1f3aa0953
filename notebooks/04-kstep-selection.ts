// Source of truth for notebooks/04-kstep-selection.ipynb. Edit this file, then regenerate the notebook with
// `npx tsx scripts/notebooks.ts build`. Cells are separated by `// %%` markers.
// It also runs as a plain script: `npx tsx notebooks/04-kstep-selection.ts`.

// %% [markdown]
// # 4 · Data selection with a K-step look-ahead
//
// **What the paper claims** (Deng et al., arXiv 2605.18814, contribution 3). Offline selection propagates each
// sample's effect to the end of training, so it sees the whole future and accumulates the whole first-order error.
// Online selection scores with a short horizon, down to K = 0. Treating both as K-step look-ahead exposes the
// trade-off. The paper's findings:
// - online selection with a small-to-moderate K often matches or beats offline selection;
// - the best K grows as the learning rate shrinks, so K and the LR should be tuned together.
//
// **What we measure.** A sample used at step t gets the horizon-K score `∇V(θ_r)ᵀ E_θ J_{r−1}⋯J_{t+1} Z_push(z, t)`,
// read K steps later (r = t + 1 + K, clamped to T). V is the validation objective. The lowest-scoring samples are
// dropped to the budget, then the model is trained on the rest. We record the validation and test loss after
// selection per (setting, LR, budget, method, K), with paired differences to a random-selection baseline. The
// formalisation is ours (`lib/selection/lookahead.ts`): the paper's equations are not public.
//
// **Sign convention.** Positive score = removing the sample would raise the validation objective = the sample helps.
// Selection keeps the highest scores.
//
// **What is reduced at CPU scale, and why.** Every (LR, budget, K, seed) cell retrains the model, and each look-ahead
// step costs one Hessian-vector product. The `quick` preset is therefore one LR (3e-3), budget 0.5, K ∈ {0, 4, offline}
// and one seed on the quick MLP. `full` is LR ∈ {1e-2, 3e-3, 1e-3}, budgets {0.5, 0.8}, K ∈ {0, 1, 4, 16, offline} and
// seeds 0–2 (`SELECTION_PRESETS` in `lib/experiments/selection.ts`). The preset comes from `FTDA_PRESET`.

// %%
import { displayFigure, ensureResults, formatTable, presetFromEnv, readResults, saveFigure, selectionBestKFigure, selectionValLossFigure, type TidySummary } from '../lib/plot/index.ts';

const PRESET = presetFromEnv(); // FTDA_PRESET, default quick
const EXPERIMENT = 'selection';
console.log(`preset ${PRESET}`);

// %% [markdown]
// ## Run the experiment, or reuse its results
// `./reproduce.sh` runs the experiment first, so this cell normally reuses `results/selection/<preset>/summary.json`.

// %%
await ensureResults(EXPERIMENT, PRESET, () => import('../lib/experiments/selection.ts'), (m, p) => m.runSelection(p));

// %% [markdown]
// ## The figures
// First, the validation loss after online selection against K, one line per learning rate. Offline selection is not
// on the K axis; its numbers are in the table below. Second, the best K per learning rate: the K with the lowest mean
// test loss, for each horizon family.

// %%
const { summary, source } = readResults<TidySummary>(EXPERIMENT, PRESET);
const figures = [selectionValLossFigure(summary, { source }), selectionBestKFigure(summary, { source })];
for (const fig of figures) console.log(`wrote ${saveFigure(fig, { html: 'relative' }).svg}`);
await displayFigure(figures[0].spec);
await displayFigure(figures[1].spec);

// %% [markdown]
// ## Key numbers
// Loss after selection per method and K, with the paired difference to random selection (negative = better than
// random). Then the best K per LR and its difference to offline selection.

// %%
const bestK = (summary as { bestK?: object[] }).bestK ?? [];
// one console.log: a headless run can drop output that arrives late
console.log([
  formatTable(summary.rows, ['setting', 'lr', 'budget', 'method', 'K', 'valLoss', 'testLoss', 'dTestLoss', 'dTestLossLo', 'dTestLossHi']),
  ...(bestK.length ? ['', formatTable(bestK, ['setting', 'lr', 'budget', 'family', 'bestK', 'bestTestLoss', 'offlineTestLoss', 'dVsOffline', 'dVsOfflineLo', 'dVsOfflineHi'])] : []),
].join('\n'));
