/**
 * Figure builders, one per figure of design.md: a parsed results file in, a {@link BuiltFigure} out.
 * They only reshape and label what the experiment wrote; nothing is recomputed (the one exception,
 * best K per LR when the selection summary lacks it, is an argmin over the rows and says so).
 *
 * Expected shapes. Every summary holds tidy `rows`; columns marked ? are optional. Numbers may be null
 * (NaN in the experiment) and show as gaps.
 *
 * | figure(s) | results file | rows |
 * |---|---|---|
 * | 00 quickstart scatter | `results/quickstart/<p>/summary.json` | `{estimator, metric, mean, lo, hi}` + `points: [{estimator, query, trainId, tsloo, estimate}]` (lib/experiments/quickstart.ts) |
 * | 01 optimizer mismatch | `results/optimizer-mismatch/<p>/summary.json` | `{setting, lr, estimator, metric, mean, lo, hi, seeds}` (lib/experiments/summary.ts FidelityRow) |
 * | 02 Taylor error heat map + proxy | `results/taylor-error/<p>/summary.json` | `{setting, lr, T, seed, relErr, queryProxy, proxy}` + `correlations` (lib/experiments/taylor-error.ts) |
 * | 03 error decomposition | `results/error-decomposition/<p>/summary.json` | `{setting, lr, k, seed, component, share, lo, hi}` (lib/experiments/error-decomposition.ts) |
 * | 04 K-step selection | `results/selection/<p>/summary.json` | `{setting, lr, budget?, method, K, valLoss, testLoss?, testLossLo?, testLossHi?}` + `bestK: [{setting, lr, family, bestK}]` (lib/experiments/selection.ts) |
 * | 05 final model | `results/final-model/<p>/summary.json` | `{dataset?, variant?, method, epoch, metric, mean, lo, hi}` (lib/experiments/final-model.ts) |
 * | 06 ACC vs SGD-IE | `results/acc-epochs/<p>/summary.json` | `{dataset?, estimator, epochs, metric, mean, sem?}` (lib/experiments/acc-epochs.ts) |
 * | 06 cleansing | `results/cleansing/<p>/summary.json` | `{dataset, labelNoise, method, fraction, k, testLossDeltaMean, testLossDeltaStd, seeds}` (lib/experiments/cleansing.ts) |
 * | 07 your estimator | `results/custom-estimator/<p>/summary.json` | `{estimator, kind, metric (spearman, pearson, fdRelErr), mean, lo, hi}` (lib/experiments/custom-estimator.ts) |
 *
 * When `metric` is present, rows are filtered to `metric === o.metric` (default spearman). The value
 * column may also be called `agreement`, `spearman` or `value` where noted.
 *
 * @module
 */
import { formatExp, formatSig } from './scale.ts';
import { barFromRows, heatmapFromRows, lineFromRows, numberOf, requireColumns, scatterFromRows, type Row } from './from-rows.ts';
import type { BuiltFigure } from './write.ts';

/** A parsed summary.json: at least `rows` (typed loosely so that each experiment's own summary type fits). */
export interface TidySummary {
  preset?: string;
  rows: readonly object[];
  best?: readonly object[];
  /** Relative-gain rows (optimizer-mismatch summaries). */
  gains?: readonly object[];
}

/** Options every builder takes. */
export interface BuildOptions {
  /** Project-relative results file, recorded in the figure's data and footnote. */
  source?: string;
  /** Metric to keep when rows carry a `metric` column (default spearman). */
  metric?: string;
}

function rowsOf(summary: unknown, what: string, shape: string): Row[] {
  const rows = (summary as { rows?: unknown } | null)?.rows;
  if (!Array.isArray(rows)) throw new Error(`${what}: summary has no 'rows' array; expected rows of ${shape} (see lib/plot/figures.ts)`);
  return rows as Row[];
}

function checkShape(rows: Row[], cols: string[], what: string, shape: string): void {
  try {
    requireColumns(rows, cols, what);
  } catch (e) {
    throw new Error(`${(e as Error).message}; expected rows of ${shape} (see lib/plot/figures.ts)`);
  }
}

function byMetric(rows: Row[], metric: string, what: string): Row[] {
  if (!rows.some((r) => 'metric' in r)) return rows;
  const out = rows.filter((r) => r.metric === metric);
  if (!out.length) throw new Error(`${what}: no rows with metric '${metric}' (have: ${[...new Set(rows.map((r) => String(r.metric)))].join(', ')})`);
  return out;
}

/** The first of `candidates` that every row has. */
function valueColumn(rows: Row[], candidates: string[], what: string, shape: string): string {
  const c = candidates.find((k) => rows.every((r) => k in r));
  if (!c) throw new Error(`${what}: rows have none of the value columns ${candidates.join(' / ')}; expected rows of ${shape} (see lib/plot/figures.ts)`);
  return c;
}

const presetOf = (s: TidySummary, rows: Row[]) => String(s.preset ?? rows[0]?.preset ?? '?');
const note = (o: BuildOptions) => (o.source ? `data: ${o.source}` : undefined);
const data = (o: BuildOptions, rows: Row[]) => ({ source: o.source ?? null, rows });
const metricName = (m: string) => (m === 'spearman' ? 'Spearman ρ' : m === 'pearson' ? 'Pearson r' : m);

const manySettings = (rows: Row[]) => new Set(rows.map((r) => r.setting)).size > 1;

/** Rows sorted by the given columns (numbers numerically, others as strings); the input is not changed. */
function sortRows(rows: Row[], cols: string[]): Row[] {
  const cmp = (a: unknown, b: unknown) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a ?? '').localeCompare(String(b ?? '')));
  return [...rows].sort((a, b) => {
    for (const c of cols) {
      const d = cmp(a[c], b[c]);
      if (d) return d;
    }
    return 0;
  });
}

const MISMATCH_SHAPE = '{setting, lr, estimator, metric, mean, lo, hi, seeds}';

/** "mean over seeds 0, 1, 2", or, when groups were computed with different seeds, how many each has. */
function seedsNote(rows: Record<string, unknown>[], all: number[]): string {
  const per = new Set(rows.map((r) => (Array.isArray(r.seeds) ? (r.seeds as number[]).join(',') : '')));
  if (per.size <= 1) return `mean over seeds ${all.join(', ') || '?'}`;
  const counts = rows.map((r) => (Array.isArray(r.seeds) ? (r.seeds as number[]).length : 0));
  return `mean over ${Math.min(...counts)}–${Math.max(...counts)} seeds per group`;
}

/** Labels of the partial-accounting ablations (`AdamW-influence (no bias corr.)` etc., optimizer-mismatch.ts). */
export function isAblationLabel(label: string): boolean {
  return /\((no bias corr\.|v frozen|no momentum)\)$/.test(label);
}

/**
 * Figure 1 — optimizer mismatch: fidelity (mean over seeds, 95% CI) of each estimator against TSLOO,
 * grouped by setting × learning rate. Name `01_optimizer_mismatch_<metric>`.
 */
export function optimizerMismatchFigure(summary: TidySummary, o: BuildOptions = {}): BuiltFigure {
  const what = 'optimizer-mismatch figure';
  const metric = o.metric ?? 'spearman';
  // Ablations of partial AdamW accounting are a table in notebook 01, not bars here (they share the label prefix).
  const rows = byMetric(rowsOf(summary, what, MISMATCH_SHAPE), metric, what).filter((r) => !isAblationLabel(String(r.estimator)));
  checkShape(rows, ['setting', 'lr', 'estimator', 'mean', 'lo', 'hi'], what, MISMATCH_SHAPE);
  const seeds = [...new Set(rows.flatMap((r) => (Array.isArray(r.seeds) ? (r.seeds as number[]) : [])))].sort((a, b) => a - b);
  const negative = rows.some((r) => numberOf(r, 'lo') < 0 || numberOf(r, 'mean') < 0);
  const spec = barFromRows(
    rows,
    { x: (r) => `${r.setting}${r.optimizer === 'sgd' ? ' · SGD run' : ''}\nlr ${formatExp(numberOf(r, 'lr'))}`, series: 'estimator', y: 'mean', lo: 'lo', hi: 'hi' },
    {
      title: `Optimizer mismatch: fidelity to TSLOO (${metricName(metric)})`,
      subtitle: `preset ${presetOf(summary, rows)} · ${seedsNote(rows, seeds)} · error bars: 95% CI, bootstrap over seeds, then queries`,
      xLabel: 'setting · learning rate (AdamW runs unless marked SGD)',
      yLabel: `${metricName(metric)} with TSLOO`,
      valueLabels: 'fixed2',
      refLine: negative ? 0 : undefined,
      note: note(o),
      width: 820,
      description: `Grouped bars: for each setting and learning rate, the mean ${metricName(metric)} between each estimator's scores and TSLOO ground truth, with 95% bootstrap confidence intervals. Higher is more faithful.`,
    },
  );
  return { name: `01_optimizer_mismatch_${metric}`, spec, data: data(o, rows) };
}

const GAIN_SHAPE = "summary.gains: {setting, lr, optimizer, metric, a, b, gain, lo, hi, n} (lib/experiments/summary.ts)";

/**
 * Figure 1c — the relative gain of AdamW-influence (exact) over SGD-influence (Spearman unless `o.metric`)
 * against the learning rate, one line per setting, AdamW runs only, bands = the gains' 95% CIs. Name
 * `01_optimizer_mismatch_gain`.
 */
export function optimizerMismatchGainFigure(summary: TidySummary, o: BuildOptions = {}): BuiltFigure {
  const what = 'optimizer-mismatch gain figure';
  const metric = o.metric ?? 'spearman';
  const all: unknown = summary.gains;
  if (!Array.isArray(all)) throw new Error(`${what}: summary has no 'gains' array; expected ${GAIN_SHAPE}`);
  checkShape(all as Row[], ['setting', 'lr', 'metric', 'a', 'b', 'gain', 'lo', 'hi'], what, GAIN_SHAPE);
  const rows = (all as Row[])
    .filter((r) => r.a === 'AdamW-influence (exact)' && r.b === 'SGD-influence' && r.metric === metric && (r.optimizer ?? 'adamw') !== 'sgd')
    .map((r) => ({ ...r, percent: 100 * numberOf(r, 'gain'), percentLo: 100 * numberOf(r, 'lo'), percentHi: 100 * numberOf(r, 'hi') }));
  if (!rows.length) throw new Error(`${what}: no gain of 'AdamW-influence (exact)' over 'SGD-influence' (${metric}) on an AdamW run in the summary`);
  const spec = lineFromRows(
    sortRows(rows, ['setting', 'lr']),
    { x: 'lr', y: 'percent', series: 'setting', lo: 'percentLo', hi: 'percentHi' },
    {
      title: 'Optimizer mismatch: gain of AdamW-influence over SGD-influence',
      subtitle: `preset ${presetOf(summary, rows)} · relative gain of mean ${metricName(metric)} with TSLOO · bands (bars at single points): 95% bootstrap CI`,
      xLabel: 'learning rate',
      yLabel: 'relative gain (%)',
      xLog: true,
      note: note(o),
      description: `Line chart: for each setting, the relative gain (mean AdamW-influence − mean SGD-influence) / |mean SGD-influence| of the ${metricName(metric)} with TSLOO, against the learning rate, with 95% bootstrap CIs (seeds, then queries). Above 0 means modelling AdamW helps.`,
    },
  );
  return { name: '01_optimizer_mismatch_gain', spec, data: data(o, rows) };
}

const TAYLOR_SHAPE = '{setting, lr, T, seed?, relErr, relErrLo?, relErrHi?, queryProxy?, proxy?} (+ correlations: [{setting, proxy, error, primary, spearman, lo, hi}]) (lib/experiments/taylor-error.ts)';

/** Rows averaged over seeds per (setting, lr, T): the heat map has one cell per (LR, T). */
function meanOverSeeds(rows: Row[], cols: string[]): { rows: Row[]; seeds: number } {
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    const k = `${r.setting ?? ''}|${r.lr}|${r.T}`;
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(r);
  }
  const seeds = Math.max(...[...groups.values()].map((g) => g.length));
  if (seeds <= 1) return { rows, seeds };
  return {
    rows: [...groups.values()].map((g) => ({ ...g[0], ...Object.fromEntries(cols.map((c) => [c, g.reduce((s, r) => s + numberOf(r, c), 0) / g.length])), seed: 'mean' })),
    seeds,
  };
}

/** Options of the Taylor-error builders. */
export interface TaylorOptions extends BuildOptions {
  /** Measured error column (default `relErr` = ‖TSLOO − Δ̂‖_F / ‖TSLOO‖_F). */
  error?: string;
  /** Proxy column of the scatter (default `queryProxy`, the pairing the experiment fixed as primary). */
  proxy?: string;
}

/**
 * Figure 2a — measured Taylor (linearisation) error over learning rate × trajectory length T (mean over
 * seeds when there are several). Name `02_taylor_error_heatmap`.
 */
export function taylorErrorHeatmap(summary: TidySummary, o: TaylorOptions = {}): BuiltFigure {
  const what = 'taylor-error heat map';
  const err = o.error ?? 'relErr';
  const raw = rowsOf(summary, what, TAYLOR_SHAPE);
  checkShape(raw, ['lr', 'T', err], what, TAYLOR_SHAPE);
  const { rows, seeds } = meanOverSeeds(raw, [err]);
  const positive = rows.every((r) => !(numberOf(r, err) <= 0));
  // sorted so that first appearance is numeric order for the label functions below
  const spec = heatmapFromRows(
    sortRows(rows, ['setting', 'T', 'lr']),
    { x: (r) => formatExp(numberOf(r, 'lr')), y: manySettings(rows) ? ['setting', 'T'] : 'T', z: err },
    {
      title: 'Taylor error of the linearised trajectory',
      subtitle: `preset ${presetOf(summary, rows)} · ${err === 'relErr' ? '‖TSLOO − estimate‖ / ‖TSLOO‖ with the configuration matched' : err}${seeds > 1 ? ` · mean over ${seeds} seeds` : ''}`,
      xLabel: 'learning rate',
      yLabel: 'trajectory length T (steps)',
      colorLabel: err === 'relErr' ? 'relative Taylor error' : err,
      zLog: positive,
      cellLabels: 'sig2',
      note: note(o),
    },
  );
  return { name: '02_taylor_error_heatmap', spec, data: data(o, raw) };
}

/**
 * Figure 2b — the closed-form error proxy against the measured Taylor error, one point per cell (log–log,
 * least-squares fit); the subtitle quotes the experiment's Spearman across cells when the summary has it.
 * Name `02_taylor_error_proxy`.
 */
export function taylorProxyScatter(summary: TidySummary, o: TaylorOptions = {}): BuiltFigure {
  const what = 'taylor-error proxy scatter';
  const err = o.error ?? 'relErr';
  const rows = rowsOf(summary, what, TAYLOR_SHAPE);
  const proxy = o.proxy ?? (rows.every((r) => 'queryProxy' in r) ? 'queryProxy' : 'proxy');
  checkShape(rows, [proxy, err], what, TAYLOR_SHAPE);
  const pos = (k: string) => rows.every((r) => !(numberOf(r, k) <= 0));
  const corr = ((summary as { correlations?: Row[] }).correlations ?? []).filter((c) => c.proxy === proxy && c.error === err);
  const corrText = corr.map((c) => `${manySettings(corr) ? `${c.setting}: ` : ''}Spearman ${formatSig(numberOf(c, 'spearman'), 2)} [${formatSig(numberOf(c, 'lo'), 2)}, ${formatSig(numberOf(c, 'hi'), 2)}] over ${c.cells} cells`).join('; ');
  const spec = scatterFromRows(
    rows,
    { x: proxy, y: err, series: rows.every((r) => 'setting' in r) ? 'setting' : undefined, label: rows.every((r) => 'lr' in r && 'T' in r) ? ['lr', 'T'] : undefined },
    {
      title: 'Error proxy vs measured Taylor error',
      subtitle: `preset ${presetOf(summary, rows)} · one point per (setting, LR, T, seed)${corrText ? ` · ${corrText}` : ''}`,
      xLabel: `error proxy (${proxy})`,
      yLabel: `measured error (${err})`,
      refLine: 'fit',
      xLog: pos(proxy),
      yLog: pos(err),
      note: note(o),
    },
  );
  return { name: '02_taylor_error_proxy', spec, data: data(o, rows) };
}

const DECOMP_SHAPE = '{setting, lr?, k?, seed?, component, share, lo?, hi?} with component "total" optional (lib/experiments/error-decomposition.ts)';

/**
 * Figure 3 — error decomposition: the share of each error source (system / config / algorithm) in the
 * squared error of SGD-influence against TSLOO, one stacked bar per setting × LR × checkpoint stride.
 * Shares sum to 1; a negative share points against the rest of the error. Name `03_error_decomposition`.
 */
export function errorDecompositionFigure(summary: TidySummary, o: BuildOptions = {}): BuiltFigure {
  const what = 'error-decomposition figure';
  const all = rowsOf(summary, what, DECOMP_SHAPE);
  const part = all.every((r) => 'component' in r) ? 'component' : 'source';
  checkShape(all, ['setting', part, 'share'], what, DECOMP_SHAPE);
  const rows = all.filter((r) => r[part] !== 'total');
  const ci = rows.every((r) => 'lo' in r && 'hi' in r);
  const spec = barFromRows(
    sortRows(rows, ['setting', 'lr', 'k', 'seed']),
    { x: varyingLabel(rows, ['setting', 'lr', 'k', 'seed'], ['setting'], { sep: '\n', names: { k: 'stride' } }), series: part, y: 'share', lo: ci ? 'lo' : undefined, hi: ci ? 'hi' : undefined },
    {
      title: 'Where the attribution error comes from',
      subtitle: `preset ${presetOf(summary, rows)} · share of the squared error of SGD-influence vs TSLOO${ci ? ' · error bars: 95% bootstrap CI over queries' : ''}`,
      xLabel: 'setting · learning rate · checkpoint stride',
      yLabel: 'share of squared error',
      stacked: true,
      valueLabels: 'percent',
      refLine: rows.some((r) => numberOf(r, 'share') < 0) ? 0 : undefined,
      note: note(o),
      width: 860,
    },
  );
  return { name: '03_error_decomposition', spec, data: data(o, all) };
}

/**
 * Label from the columns among `cols` whose values differ across `rows` (plus `always`): numbers print as
 * `name value` (LRs in exponent notation; `names` renames columns), joined by `sep`.
 */
function varyingLabel(rows: Row[], cols: string[], always: string[] = [], o: { sep?: string; names?: Record<string, string> } = {}): (r: Row) => string {
  const vary = cols.filter((c) => always.includes(c) || new Set(rows.map((r) => JSON.stringify(r[c]))).size > 1);
  return (r) =>
    vary
      .map((c) => {
        const v = r[c];
        const name = o.names?.[c] ?? c;
        if (c === 'lr' && typeof v === 'number') return `lr ${formatExp(v)}`;
        return typeof v === 'number' ? `${name} ${formatSig(v)}` : String(v);
      })
      .join(o.sep ?? ' · ') || String(r[always[0]] ?? '');
}

const SELECTION_SHAPE = '{setting, lr, budget?, method, K (number | "offline"), valLoss, testLoss?, testLossLo?, testLossHi?} (+ bestK: [{setting, lr, budget?, family, bestK}]) (lib/experiments/selection.ts)';

/** Options of the selection builders. */
export interface SelectionOptions extends BuildOptions {
  /** Selection method whose lines are drawn (default `online`; rows without a method column are all kept). */
  method?: string;
  /** Value column (default `valLoss`); `testLoss` gets the bootstrap band from `testLossLo`/`testLossHi`. */
  y?: 'valLoss' | 'testLoss';
}

/**
 * Figure 4a — K-step look-ahead selection: loss after selection vs look-ahead K, one line per learning rate
 * (and budget / setting when several). Rows with K = 'offline' are not on the K axis. Name `04_lookahead_selection_val_loss`.
 */
export function selectionValLossFigure(summary: TidySummary, o: SelectionOptions = {}): BuiltFigure {
  const what = 'selection loss-vs-K figure';
  const all = rowsOf(summary, what, SELECTION_SHAPE);
  const method = o.method ?? 'online';
  const byMethod = all.some((r) => 'method' in r) ? all.filter((r) => r.method === method) : all;
  if (!byMethod.length) throw new Error(`${what}: no rows with method '${method}' (have: ${[...new Set(all.map((r) => String(r.method)))].join(', ')})`);
  const kCol = byMethod.every((r) => 'K' in r) ? 'K' : 'k';
  const y = o.y ?? 'valLoss';
  checkShape(byMethod, ['lr', kCol, y], what, SELECTION_SHAPE);
  const rows = byMethod.filter((r) => typeof r[kCol] === 'number');
  if (!rows.length) throw new Error(`${what}: no rows with a numeric ${kCol} for method '${method}'`);
  const ci = rows.every((r) => `${y}Lo` in r && `${y}Hi` in r);
  const spec = lineFromRows(
    sortRows(rows, ['setting', 'budget', 'lr']),
    { x: kCol, y, series: varyingLabel(rows, ['setting', 'budget', 'lr'], ['lr']), lo: ci ? `${y}Lo` : undefined, hi: ci ? `${y}Hi` : undefined },
    {
      title: `K-step look-ahead selection: ${y === 'valLoss' ? 'validation' : 'test'} loss vs K`,
      subtitle: `preset ${presetOf(summary, rows)} · method ${method} · one line per learning rate${ci ? ' · bands: 95% bootstrap CI' : ''}`,
      xLabel: 'look-ahead K (steps)',
      yLabel: `${y === 'valLoss' ? 'validation' : 'test'} loss after selection`,
      note: note(o),
    },
  );
  return { name: '04_lookahead_selection_val_loss', spec, data: data(o, rows) };
}

/**
 * Figure 4b — best K per learning rate, one line per horizon family. Reads `bestK` (or `best`) rows
 * `{lr, bestK | k, family?}`; without them, takes the argmin of valLoss over numeric K per (setting, LR).
 * A best K of 'offline' is not a number and shows as a gap. Name `04_lookahead_selection_best_k`.
 */
export function selectionBestKFigure(summary: TidySummary, o: SelectionOptions = {}): BuiltFigure {
  const what = 'selection best-K figure';
  const s = summary as TidySummary & { bestK?: readonly object[] };
  let best = (Array.isArray(s.bestK) ? s.bestK : Array.isArray(s.best) ? s.best : undefined) as Row[] | undefined;
  let derived = false;
  if (!best) {
    const rows = rowsOf(summary, what, SELECTION_SHAPE).filter((r) => !('method' in r) || r.method === (o.method ?? 'online'));
    const kCol = rows.every((r) => 'K' in r) ? 'K' : 'k';
    checkShape(rows, ['lr', kCol, 'valLoss'], what, SELECTION_SHAPE);
    const groups = new Map<string, Row>();
    for (const r of rows) {
      if (typeof r[kCol] !== 'number' || !Number.isFinite(numberOf(r, 'valLoss'))) continue;
      const key = `${r.setting ?? ''}|${r.budget ?? ''}|${r.lr}`;
      const cur = groups.get(key);
      if (!cur || numberOf(r, 'valLoss') < numberOf(cur, 'valLoss')) groups.set(key, r);
    }
    best = [...groups.values()].map((r) => ({ setting: r.setting, budget: r.budget, lr: r.lr, family: 'argmin valLoss', bestK: r[kCol] }));
    derived = true;
  }
  const kCol = best.every((r) => 'bestK' in r) ? 'bestK' : 'k';
  checkShape(best, ['lr', kCol], what, SELECTION_SHAPE);
  const spec = lineFromRows(
    sortRows(best, ['setting', 'budget', 'lr']),
    { x: 'lr', y: kCol, series: varyingLabel(best, ['setting', 'budget', 'family'], best.every((r) => 'family' in r) ? ['family'] : []) },
    {
      title: 'Best look-ahead K vs learning rate',
      subtitle: `preset ${presetOf(summary, best)}${derived ? ' · best K = argmin of validation loss over K' : ' · best K by mean test loss'} · 'offline' shows as a gap`,
      xLabel: 'learning rate',
      yLabel: 'best K (steps)',
      xLog: best.every((r) => numberOf(r, 'lr') > 0),
      note: note(o),
    },
  );
  return { name: '04_lookahead_selection_best_k', spec, data: data(o, best) };
}

const EPOCHS_SHAPE = '{dataset?, variant?, estimator | method, epochs | epoch, metric?, mean, lo?, hi?, sem?} (lib/experiments/final-model.ts, acc-epochs.ts)';

/** Options of the epoch builders. */
export interface EpochsOptions extends BuildOptions {
  /** Keep only rows matching these columns (e.g. `{ dataset: 'adult', variant: 'sgd' }`). */
  where?: Record<string, unknown>;
}

function epochsFigure(summary: TidySummary, o: EpochsOptions, what: string, name: string, title: string, yLabel: string): BuiltFigure {
  const all = rowsOf(summary, what, EPOCHS_SHAPE).filter((r) => !o.where || Object.entries(o.where).every(([k, v]) => r[k] === v));
  if (!all.length) throw new Error(`${what}: no rows${o.where ? ` match ${JSON.stringify(o.where)}` : ''}`);
  const rows = byMetric(all, o.metric ?? 'spearman', what);
  const x = rows.every((r) => 'epochs' in r) ? 'epochs' : 'epoch';
  const who = rows.every((r) => 'estimator' in r) ? 'estimator' : 'method';
  checkShape(rows, [x, who], what, EPOCHS_SHAPE);
  const y = valueColumn(rows, ['mean', 'agreement', 'spearman', 'value'], what, EPOCHS_SHAPE);
  const ci = rows.every((r) => 'lo' in r && 'hi' in r);
  // without a CI in the file, a ± 1 s.e.m. band (over seeds) where the file has one
  const semBand = !ci && rows.every((r) => Number.isFinite(numberOf(r, 'sem')));
  const banded = semBand ? rows.map((r) => ({ ...r, lo: numberOf(r, y) - numberOf(r, 'sem'), hi: numberOf(r, y) + numberOf(r, 'sem') })) : rows;
  const spec = lineFromRows(
    banded,
    {
      x,
      y,
      series: varyingLabel(rows, ['dataset', 'variant', who], [who]),
      lo: ci || semBand ? 'lo' : undefined,
      hi: ci || semBand ? 'hi' : undefined,
      // one colour per method, dashes for the second dataset (or variant), so 12 lines stay readable
      colorBy: who,
      dashBy: varyingLabel(rows, ['dataset', 'variant']),
    },
    {
      title,
      subtitle: `preset ${presetOf(summary, rows)}${ci ? ' · bands: 95% CI' : semBand ? ' · bands: ± 1 s.e.m. over seeds' : ''}`,
      xLabel: 'training epochs',
      yLabel,
      note: note(o),
    },
  );
  return { name, spec, data: data(o, rows) };
}

/**
 * Figure 5 — final-model-only attribution: agreement with further training vs epochs, all rows matching
 * `o.where` in one figure. Name `05_final_model_only_agreement`. {@link finalModelFigures} splits it by variant.
 */
export function finalModelFigure(summary: TidySummary, o: EpochsOptions = {}): BuiltFigure {
  return epochsFigure(summary, o, 'final-model figure', '05_final_model_only_agreement', 'Final-model-only attribution vs further training', `agreement (${metricName(o.metric ?? 'spearman')})`);
}

/** The further-training optimizers (`variant` column) that figure 5 is split by, in figure order. */
export const FINAL_MODEL_VARIANTS = ['sgd', 'adamw'] as const;

/**
 * Figure 5, one figure per further-training optimizer (`variant`): six methods × two datasets already make
 * twelve lines, and both optimizers in one plot (24) cannot be read. Names `05_final_model_only_agreement_<variant>`;
 * a variant without rows is an error naming the variants the file has.
 */
export function finalModelFigures(summary: TidySummary, o: EpochsOptions = {}): BuiltFigure[] {
  const have = new Set(rowsOf(summary, 'final-model figure', EPOCHS_SHAPE).map((r) => String(r.variant)));
  return FINAL_MODEL_VARIANTS.map((v) => {
    if (!have.has(v)) throw new Error(`final-model figure: no rows with variant '${v}' (the file has: ${[...have].join(', ')})`);
    return epochsFigure(summary, { ...o, where: { ...o.where, variant: v } }, 'final-model figure', `05_final_model_only_agreement_${v}`, `Final-model-only attribution vs further training with ${v === 'sgd' ? 'SGD' : 'AdamW'}`, `agreement (${metricName(o.metric ?? 'spearman')})`);
  });
}

/** Figure 6a — ACC-SGD-IE vs SGD-IE fidelity to TSLOO vs number of epochs. Name `06_accumulative_sgd_acc_vs_sgd_ie`. */
export function accVsSgdFigure(summary: TidySummary, o: EpochsOptions = {}): BuiltFigure {
  return epochsFigure(summary, o, 'acc-epochs figure', '06_accumulative_sgd_acc_vs_sgd_ie', 'ACC-SGD-IE vs SGD-IE over epochs', `${metricName(o.metric ?? 'spearman')} with TSLOO`);
}

const QUICKSTART_SHAPE = '{estimator, metric, mean, lo, hi} + points: [{estimator, query, trainId, tsloo, estimate}] (lib/experiments/quickstart.ts)';

/**
 * Figure 0 — quickstart: each estimator's score against TSLOO for every scored sample of the first few
 * queries (points from the summary's `points`), with the y = x line; the subtitle quotes each estimator's
 * mean Spearman over all queries and its 95% CI from the summary's rows. Name `00_quickstart_scatter`.
 */
export function quickstartScatterFigure(summary: TidySummary, o: BuildOptions = {}): BuiltFigure {
  const what = 'quickstart scatter';
  const rows = byMetric(rowsOf(summary, what, QUICKSTART_SHAPE), 'spearman', what);
  const points = (summary as { points?: unknown }).points;
  if (!Array.isArray(points) || !points.length) throw new Error(`${what}: summary has no 'points' array; expected ${QUICKSTART_SHAPE}`);
  checkShape(points as Row[], ['estimator', 'query', 'trainId', 'tsloo', 'estimate'], what, QUICKSTART_SHAPE);
  const queries = new Set((points as Row[]).map((r) => r.query)).size;
  // each estimator's fidelity goes into its legend entry (the subtitle has no room for several; the legend none
  // for CIs, which go to the description and data.json)
  const rho = new Map(rows.map((r) => [r.estimator, `ρ ${numberOf(r, 'mean').toFixed(2)}`]));
  const ci = rows.map((r) => `${r.estimator}: ρ ${formatSig(numberOf(r, 'mean'), 2)} [${formatSig(numberOf(r, 'lo'), 2)}, ${formatSig(numberOf(r, 'hi'), 2)}]`).join('; ');
  const nq = Math.max(0, ...rows.map((r) => numberOf(r, 'n')).filter(Number.isFinite));
  const spec = scatterFromRows(
    points as Row[],
    { x: 'tsloo', y: 'estimate', series: (r) => (rho.has(r.estimator) ? `${r.estimator} · ${rho.get(r.estimator)}` : String(r.estimator)), label: ['query', 'trainId'] },
    {
      title: 'Estimated vs true leave-one-out effect',
      subtitle: `preset ${presetOf(summary, rows)} · points: first ${queries} queries × every scored sample · ρ: mean Spearman with TSLOO over ${nq || '?'} queries`,
      xLabel: 'TSLOO: ℓ_q(θ_T without z) − ℓ_q(θ_T)',
      yLabel: 'estimated effect',
      refLine: 'identity',
      note: note(o),
      width: 820,
      description: `Scatter plot: one point per (scored training sample, query) for the first ${queries} queries, estimated removal effect against TSLOO ground truth, one colour per estimator. Points on the dashed y = x line are exact. Mean Spearman over queries with 95% CI: ${ci}.`,
    },
  );
  return { name: '00_quickstart_scatter', spec, data: data(o, points as Row[]) };
}

const CLEANSING_SHAPE = '{dataset, labelNoise, method, fraction, k, testLossDeltaMean, testLossDeltaStd?, seeds} with method "none" at k = 0 (lib/experiments/cleansing.ts)';

/** Options of {@link cleansingFigure}. */
export interface CleansingFigureOptions extends BuildOptions {
  /** Label-noise level drawn (default: the largest in the summary, the corrupted-data setting). */
  labelNoise?: number;
}

/**
 * Figure 6b — data cleansing: change of test loss against the no-removal run after removing the k most
 * harmful samples by each method, against the fraction removed; one line per (dataset when several,)
 * method, each starting at (0, 0) from the `none` row. Bands: ± 1 s.e.m. over seeds (paired deltas) when
 * there are several seeds. Name `06_accumulative_sgd_cleansing`.
 */
export function cleansingFigure(summary: TidySummary, o: CleansingFigureOptions = {}): BuiltFigure {
  const what = 'cleansing figure';
  const all = rowsOf(summary, what, CLEANSING_SHAPE);
  checkShape(all, ['dataset', 'labelNoise', 'method', 'fraction', 'testLossDeltaMean'], what, CLEANSING_SHAPE);
  const noises = [...new Set(all.map((r) => numberOf(r, 'labelNoise')))].sort((a, b) => a - b);
  const noise = o.labelNoise ?? noises[noises.length - 1];
  const atNoise = all.filter((r) => numberOf(r, 'labelNoise') === noise);
  if (!atNoise.length) throw new Error(`${what}: no rows with labelNoise ${noise} (have: ${noises.join(', ')})`);
  const methods = [...new Set(atNoise.map((r) => String(r.method)))].filter((m) => m !== 'none');
  const plotted: Row[] = [];
  for (const r of atNoise) {
    const seeds = numberOf(r, 'seeds');
    const sem = seeds > 1 ? numberOf(r, 'testLossDeltaStd') / Math.sqrt(seeds) : NaN;
    const base = { ...r, percent: 100 * numberOf(r, 'fraction'), lo: numberOf(r, 'testLossDeltaMean') - sem, hi: numberOf(r, 'testLossDeltaMean') + sem };
    // the no-removal run is every method's k = 0 point (its delta is 0 by construction)
    if (r.method === 'none') for (const m of methods) plotted.push({ ...base, method: m, lo: 0, hi: 0 });
    else plotted.push(base);
  }
  const banded = plotted.every((r) => Number.isFinite(numberOf(r, 'lo')));
  const spec = lineFromRows(
    sortRows(plotted, ['dataset', 'percent']),
    { x: 'percent', y: 'testLossDeltaMean', series: varyingLabel(plotted, ['dataset', 'method'], ['method']), lo: banded ? 'lo' : undefined, hi: banded ? 'hi' : undefined },
    {
      title: 'Data cleansing: remove the most harmful samples, retrain',
      subtitle: `preset ${presetOf(summary, all)} · label noise ${formatSig(100 * noise)}% · change of test loss vs no removal (negative = better)${banded ? ' · bands: ± 1 s.e.m. over seeds' : ''}`,
      xLabel: '% of the training set removed',
      yLabel: 'Δ test loss',
      note: note(o),
      width: 820,
    },
  );
  return { name: '06_accumulative_sgd_cleansing', spec, data: data(o, atNoise) };
}

const CUSTOM_SHAPE = '{estimator, kind (yours | built-in), metric (spearman | pearson | fdRelErr), mean, lo, hi} (lib/experiments/custom-estimator.ts)';

/** The rows of one metric with the estimator under test first (the order of the summary otherwise). */
function customRows(summary: TidySummary, metric: string, what: string): Row[] {
  const rows = byMetric(rowsOf(summary, what, CUSTOM_SHAPE), metric, what);
  checkShape(rows, ['estimator', 'kind', 'mean', 'lo', 'hi'], what, CUSTOM_SHAPE);
  return [...rows.filter((r) => r.kind === 'yours'), ...rows.filter((r) => r.kind !== 'yours')];
}

/**
 * Figure 7a — your estimator vs the built-ins: Spearman with TSLOO (mean over queries, 95% bootstrap CI
 * over queries), one bar per estimator, yours first (its label says "yours"). Name `07_add_your_estimator_spearman`.
 */
export function customEstimatorSpearmanFigure(summary: TidySummary, o: BuildOptions = {}): BuiltFigure {
  const rows = customRows(summary, 'spearman', 'custom-estimator Spearman figure');
  const spec = barFromRows(
    rows,
    { x: 'estimator', series: () => '', y: 'mean', lo: 'lo', hi: 'hi' },
    {
      title: 'Your estimator vs the built-ins: fidelity to TSLOO',
      subtitle: `preset ${presetOf(summary, rows)} · Spearman across scored samples, mean over queries · error bars: 95% bootstrap CI over queries`,
      xLabel: 'estimator',
      yLabel: 'Spearman ρ with TSLOO',
      valueLabels: 'fixed2',
      refLine: rows.some((r) => numberOf(r, 'lo') < 0) ? 0 : undefined,
      note: note(o),
      width: 820,
    },
  );
  return { name: '07_add_your_estimator_spearman', spec, data: data(o, rows) };
}

/**
 * Figure 7b — distance to the first-order truth: relative error ‖estimate − FD‖/‖FD‖ across queries against
 * the finite-difference oracle, mean over the FD samples (bars from the smallest to the largest sample).
 * Name `07_add_your_estimator_fd_error`.
 */
export function customEstimatorFdFigure(summary: TidySummary, o: BuildOptions = {}): BuiltFigure {
  const rows = customRows(summary, 'fdRelErr', 'custom-estimator FD figure');
  const fd = (summary as { fd?: { ids?: unknown[]; eps?: number } }).fd;
  const spec = barFromRows(
    rows,
    { x: 'estimator', series: () => '', y: 'mean', lo: 'lo', hi: 'hi' },
    {
      title: 'Distance to the exact first-order effect (finite-difference oracle)',
      subtitle: `preset ${presetOf(summary, rows)} · ‖estimate − FD‖ / ‖FD‖ across queries, mean over ${fd?.ids?.length ?? '?'} samples (ε = ${fd?.eps ?? '?'}) · bars: min–max over samples · 0 = exact`,
      xLabel: 'estimator',
      yLabel: 'relative error vs FD oracle',
      valueLabels: 'sig2',
      refLine: 1,
      note: note(o),
      width: 820,
      description: 'Bars: for each estimator, the relative error of its scores against finite differences of the real training run, averaged over a few training samples; the dashed line at 1 is the error of predicting 0.',
    },
  );
  return { name: '07_add_your_estimator_fd_error', spec, data: data(o, rows) };
}
