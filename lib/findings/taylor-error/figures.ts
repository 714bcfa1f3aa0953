/**
 * Figures of the Taylor-error finding (notebook 02).
 *
 * @module
 */
import { checkShape, data, formatExp, formatSig, heatmapFromRows, manySettings, note, numberOf, presetOf, rowsOf, scatterFromRows, sortRows, type BuildOptions, type BuiltFigure, type Row, type TidySummary } from '../../plot/tidy.ts';

const TAYLOR_SHAPE = '{setting, lr, T, seed?, relErr, relErrLo?, relErrHi?, queryProxy?, proxy?} (+ correlations: [{setting, proxy, error, primary, spearman, lo, hi}]) (lib/findings/taylor-error/experiment.ts)';

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
