/**
 * The shared vocabulary of figure builders: a parsed results file (`TidySummary`) in, a {@link BuiltFigure}
 * out. Builders only reshape and label what a finding wrote; nothing is recomputed. Each finding's own builders
 * live in its folder (lib/findings/<id>/figures.ts) and say there which rows they expect.
 *
 * Conventions: every summary holds tidy `rows`; numbers may be null (NaN in the experiment) and show as gaps.
 * When `metric` is present, rows are filtered to `metric === o.metric` (default spearman).
 *
 * @module
 */
import { barFromRows, heatmapFromRows, lineFromRows, numberOf, requireColumns, scatterFromRows, type Row } from './from-rows.ts';
import type { BuiltFigure } from './write.ts';
export type { Row } from './from-rows.ts';
export type { BuiltFigure } from './write.ts';
export { barFromRows, heatmapFromRows, lineFromRows, numberOf, scatterFromRows };
import { formatExp, formatSig } from './scale.ts';
export { formatExp, formatSig };

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

export function rowsOf(summary: unknown, what: string, shape: string): Row[] {
  const rows = (summary as { rows?: unknown } | null)?.rows;
  if (!Array.isArray(rows)) throw new Error(`${what}: summary has no 'rows' array; expected rows of ${shape} (see the finding's figures.ts)`);
  return rows as Row[];
}

export function checkShape(rows: Row[], cols: string[], what: string, shape: string): void {
  try {
    requireColumns(rows, cols, what);
  } catch (e) {
    throw new Error(`${(e as Error).message}; expected rows of ${shape} (see the finding's figures.ts)`);
  }
}

export function byMetric(rows: Row[], metric: string, what: string): Row[] {
  if (!rows.some((r) => 'metric' in r)) return rows;
  const out = rows.filter((r) => r.metric === metric);
  if (!out.length) throw new Error(`${what}: no rows with metric '${metric}' (have: ${[...new Set(rows.map((r) => String(r.metric)))].join(', ')})`);
  return out;
}

/** The first of `candidates` that every row has. */
export function valueColumn(rows: Row[], candidates: string[], what: string, shape: string): string {
  const c = candidates.find((k) => rows.every((r) => k in r));
  if (!c) throw new Error(`${what}: rows have none of the value columns ${candidates.join(' / ')}; expected rows of ${shape} (see the finding's figures.ts)`);
  return c;
}

/** The preset a figure shows, as its subtitle names it: every preset but the study's own says it is a smoke test. */
export const presetOf = (s: TidySummary, rows: Row[]) => {
  const p = String(s.preset ?? rows[0]?.preset ?? '?');
  return p === 'full' || p === 'paper' ? p : `${p} (smoke test, not the study)`;
};
export const note = (o: BuildOptions) => (o.source ? `data: ${o.source}` : undefined);
export const data = (o: BuildOptions, rows: Row[]) => ({ source: o.source ?? null, rows });
export const metricName = (m: string) => (m === 'spearman' ? 'Spearman ρ' : m === 'pearson' ? 'Pearson r' : m === 'kendall-tau' ? 'Kendall τ' : m);

export const manySettings = (rows: Row[]) => new Set(rows.map((r) => r.setting)).size > 1;

/** Rows sorted by the given columns (numbers numerically, others as strings); the input is not changed. */
export function sortRows(rows: Row[], cols: string[]): Row[] {
  const cmp = (a: unknown, b: unknown) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a ?? '').localeCompare(String(b ?? '')));
  return [...rows].sort((a, b) => {
    for (const c of cols) {
      const d = cmp(a[c], b[c]);
      if (d) return d;
    }
    return 0;
  });
}

/** "mean over seeds 0, 1, 2", or, when groups were computed with different seeds, how many each has. */
export function seedsNote(rows: Record<string, unknown>[], all: number[]): string {
  const per = new Set(rows.map((r) => (Array.isArray(r.seeds) ? (r.seeds as number[]).join(',') : '')));
  if (per.size <= 1) return `mean over seeds ${all.join(', ') || '?'}`;
  const counts = rows.map((r) => (Array.isArray(r.seeds) ? (r.seeds as number[]).length : 0));
  return `mean over ${Math.min(...counts)}–${Math.max(...counts)} seeds per group`;
}

/**
 * Label from the columns among `cols` whose values differ across `rows` (plus `always`): numbers print as
 * `name value` (LRs in exponent notation; `names` renames columns), joined by `sep`.
 */
export function varyingLabel(rows: Row[], cols: string[], always: string[] = [], o: { sep?: string; names?: Record<string, string> } = {}): (r: Row) => string {
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

/** Most lines an epochs figure draws CI bands for. */
const MAX_BANDS = 4;

export const EPOCHS_SHAPE = '{dataset?, variant?, estimator | method, epochs | epoch, metric?, mean, lo?, hi?, sem?} (lib/findings/final-model/experiment.ts, acc-epochs.ts)';

/** Options of the epoch builders. */
export interface EpochsOptions extends BuildOptions {
  /** Keep only rows matching these columns (e.g. `{ dataset: 'adult', variant: 'sgd' }`). */
  where?: Record<string, unknown>;
}

export function epochsFigure(summary: TidySummary, o: EpochsOptions, what: string, name: string, title: string, yLabel: string): BuiltFigure {
  const all = rowsOf(summary, what, EPOCHS_SHAPE).filter((r) => !o.where || Object.entries(o.where).every(([k, v]) => r[k] === v));
  if (!all.length) throw new Error(`${what}: no rows${o.where ? ` match ${JSON.stringify(o.where)}` : ''}`);
  const rows = byMetric(all, o.metric ?? 'spearman', what);
  const x = rows.every((r) => 'epochs' in r) ? 'epochs' : 'epoch';
  const who = rows.every((r) => 'estimator' in r) ? 'estimator' : 'method';
  checkShape(rows, [x, who], what, EPOCHS_SHAPE);
  const y = valueColumn(rows, ['mean', 'agreement', 'spearman', 'value'], what, EPOCHS_SHAPE);
  // Bands only while they can be told apart (at most 4 lines; six overlapping bands read as one smear): beyond
  // that the CIs stay in the data file and the hover text.
  const lines = new Set(rows.map(varyingLabel(rows, ['dataset', 'variant', who], [who]))).size;
  const ci = lines <= MAX_BANDS && rows.every((r) => 'lo' in r && 'hi' in r);
  // without a CI in the file, a ± 1 s.e.m. band (over seeds) where the file has one
  const semBand = lines <= MAX_BANDS && !ci && rows.every((r) => Number.isFinite(numberOf(r, 'sem')));
  const banded = semBand ? rows.map((r) => ({ ...r, lo: numberOf(r, y) - numberOf(r, 'sem'), hi: numberOf(r, y) + numberOf(r, 'sem') })) : rows;
  // A correlation axis spans at least 0.2: a range of 0.002 would magnify noise into a trend.
  const ext = extentOf(banded.flatMap((r) => [numberOf(r, y), ...(ci || semBand ? [numberOf(r, 'lo'), numberOf(r, 'hi')] : [])]));
  const yDomain = ext && ext[1] - ext[0] < 0.2 ? clampSpan(ext, 0.2, [-1, 1]) : undefined;
  const datasets = [...new Set(rows.map((r) => r.dataset).filter((d) => d !== undefined))].join(', ');
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
      subtitle: `preset ${presetOf(summary, rows)}${datasets ? ` · ${datasets}` : ''}${ci ? ' · bands: 95% CI' : semBand ? ' · bands: ± 1 s.e.m. over seeds' : lines > MAX_BANDS ? ' · CIs in the data file' : ''}`,
      xLabel: 'training epochs',
      yLabel,
      yDomain,
      note: note(o),
    },
  );
  return { name, spec, data: data(o, rows) };
}

/** [min, max] of the finite values, or undefined. */
function extentOf(vs: number[]): [number, number] | undefined {
  const f = vs.filter((v) => Number.isFinite(v));
  return f.length ? [Math.min(...f), Math.max(...f)] : undefined;
}

/** `ext` widened about its centre to at least `span`, shifted to stay inside `bounds`. */
function clampSpan(ext: [number, number], span: number, bounds: [number, number]): [number, number] {
  const mid = (ext[0] + ext[1]) / 2;
  let lo = mid - span / 2;
  let hi = mid + span / 2;
  if (lo < bounds[0]) [lo, hi] = [bounds[0], bounds[0] + span];
  if (hi > bounds[1]) [lo, hi] = [bounds[1] - span, bounds[1]];
  return [Number(lo.toFixed(6)), Number(hi.toFixed(6))];
}
