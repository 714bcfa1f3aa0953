// Source of truth for notebooks/04_lookahead_selection.ipynb. Edit this file, then regenerate the notebook with
// `npx tsx scripts/notebooks.ts build`. Cells are separated by `// %%` markers.
// It also runs as a plain script: `npx tsx notebooks/04_lookahead_selection.ts`.

// %% [markdown]
// # 4 · Data selection with a K-step look-ahead
//
// **The question.** When attribution scores are used to select training data, how far into the future should a
// sample's effect be propagated? The paper (Deng et al., arXiv 2605.18814, contribution 3) treats offline and online
// selection as two ends of one family. Offline selection propagates each sample's effect to the end of training, so
// it sees the whole future and accumulates the whole first-order error. Online selection scores with a short
// horizon, down to K = 0. The paper's findings:
// - online selection with a small-to-moderate K often matches or beats offline selection;
// - the best K grows as the learning rate shrinks, so K and the LR should be tuned together.
//
// **The method in a few equations.** A sample used at step t gets the horizon-K score
// `score_K(z) = ∇V(θ_r)ᵀ E_θ J_{r−1} ⋯ J_{t+1} Z_push(z, t)`, read K steps later (r = t + 1 + K, clamped to T). V is the
// validation objective, J_s the linearised AdamW step and `Z_push` the state perturbation of removing z at step t.
// K = 0 is a one-step (online) score, K = T − t − 1 the offline one. The lowest-scoring samples are dropped to the
// budget, then the model is trained on the rest. We record the validation and test loss after selection per
// (setting, LR, budget, method, K), with paired differences to a random-selection baseline. The formalisation is ours
// (`lib/selection/lookahead.ts`): the paper's equations are not public.
//
// **Sign convention.** Positive score = removing the sample would raise the validation objective = the sample helps.
// Selection keeps the highest scores.
//
// **What is reduced at CPU scale, and why.** Every (LR, budget, K, seed) cell retrains the model, and each look-ahead
// step costs one Hessian-vector product. The `quick` preset is therefore one LR (3e-3), budget 0.5, K ∈ {0, 4, offline}
// and one seed on the quick MLP. `full` is LR ∈ {1e-2, 3e-3, 1e-3}, budgets {0.5, 0.8}, K ∈ {0, 1, 4, 16, offline} and
// seeds 0–2 (`SELECTION_PRESETS` in `lib/findings/selection/experiment.ts`). The preset comes from `FTDA_PRESET`.

// %%
import { selection } from '../lib/findings/selection/index.ts';
import { ensureResults } from '../lib/findings/notebook.ts';
import { displayFigure, displayTable, presetFromEnv, readResults, saveFigure, type TidySummary } from '../lib/plot/index.ts';

const PRESET = presetFromEnv(); // FTDA_PRESET, default quick
const EXPERIMENT = selection.id;
console.log(`preset ${PRESET}`);

// %% [markdown]
// ## Run the experiment, or reuse its results
// `./reproduce.sh` runs the experiment first, so this cell normally reuses `results/selection/<preset>/summary.json`.

// %%
await ensureResults(selection, PRESET);

// %% [markdown]
// ## The figures
// First, the validation loss after online selection against K, one line per learning rate. Offline selection is not
// on the K axis; its numbers are in the table below. Second, the best K per learning rate: the K with the lowest mean
// test loss, for each horizon family.

// %%
const { summary, source } = readResults<TidySummary>(EXPERIMENT, PRESET);
const figures = selection.figures.map((f) => f.build(summary as never, { source })); // validation loss, best K
for (const fig of figures) console.log(`wrote ${saveFigure(fig, { html: 'relative' }).svg}`);
await displayFigure(figures[0].spec, { plotly: true });
await displayFigure(figures[1].spec, { plotly: true });

// %% [markdown]
// ## Key numbers
// Loss after selection per method and K, with the paired difference to random selection (negative = better than
// random). Then the best K per LR and its difference to offline selection.

// %%
const bestK = ((summary as { bestK?: Record<string, unknown>[] }).bestK ?? []);
const columns = ['setting', 'lr', 'budget', 'method', 'K', 'valLoss', 'testLoss', 'dTestLoss', 'dTestLossLo', 'dTestLossHi'];
await displayTable(summary.rows, columns);
if (bestK.length) await displayTable(bestK, ['setting', 'lr', 'budget', 'family', 'bestK', 'bestTestLoss', 'offlineTestLoss', 'dVsOffline', 'dVsOfflineLo', 'dVsOfflineHi']);

// %% [markdown]
// ## What it means
// If the best K is finite (not `offline`) and its test loss is at or below offline selection's (a difference ≤ 0
// whose CI includes or lies below 0), a short horizon loses nothing against propagating to the end of training. If the
// best K moves up as the LR moves down, the horizon should be chosen with the learning rate: smaller steps keep the
// linearisation valid for longer (notebook 02). The next cell reads both from the results file.

// %%
const fmt = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(4) : 'n/a');
console.log(bestK.length
  ? bestK.map((b) => `${b.setting} lr ${(b.lr as number).toExponential(0)} budget ${b.budget} (${b.family}): best K ${b.bestK}; test loss vs offline ${fmt(b.dVsOffline)} [${fmt(b.dVsOfflineLo)}, ${fmt(b.dVsOfflineHi)}]`).join('\n')
  : 'the summary has no bestK rows');

// %% [markdown]
// ## Practical guideline
// **Prefer a short look-ahead to offline selection, and tune K together with the learning rate.** Scoring with a small
// horizon is cheaper than propagating to the end of training and avoids accumulating the Taylor error of the whole
// run. Start from small K at large learning rates and increase it as the learning rate decreases.
//
// *Measured 2026-11-23 on the 2-core development VM (wasm backend), full preset: on the MNIST MLP (LR 1e-2 / 3e-3 / 1e-3 × budget 50 % / 80 %, seeds 0–2) the best online horizon is K = 0 or 1 at every LR, so it does not grow as the LR shrinks. Online beats offline by 0.06–0.34 nats of test loss at budget 50 %, but random online beats random offline by a similar margin: that gap is the protocol (online keeps all T steps). These numbers do not support the paper's two selection claims. Agreement between horizons does grow as the LR shrinks (Spearman K = 0 vs K = 4: 0.19 / 0.60 / 0.85). On the CNN (Fashion-MNIST, 320 samples, LR 3e-3 / 1e-3) and GPT-2 (64 WikiText-2 blocks, LR 1e-3 / 1e-4) quick-scale rows (seeds 0–2, budget 50 %, K ∈ {0, 1, 4, offline}), selection does not beat random. On GPT-2 every method's test loss is within 0.011 nats of its protocol's random baseline, every CI spanning 0. On the CNN at LR 1e-3 every method is 0.03–0.08 nats worse than random (CIs span 0); at LR 3e-3 every method is worse by 0.11–0.94 nats, and the offline methods' CIs lie above 0. So the best K there (CNN online: 0 at both LRs; GPT-2 online: 4 at both) is noise.*
