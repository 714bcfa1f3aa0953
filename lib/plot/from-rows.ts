/**
 * Generic figure builders over tidy rows (one record per observation, as every `summary.json` stores
 * them): say which columns are x, y, series and the CI ends, get a {@link FigureSpec}. Shapes are
 * checked and a missing column or an ambiguous (duplicate) cell is an error that lists what exists.
 *
 * @module
 */
import { formatSig } from './scale.ts';
import type { BarFigure, FigureBase, HeatmapFigure, LineFigure, MaybeNumber, ScatterFigure } from './spec.ts';

/** A tidy record. */
export type Row = Record<string, unknown>;

/**
 * How a label is taken from a row: a column, several columns (joined over lines, numbers printed as
 * `name value`), or a function.
 */
export type Column = string | string[] | ((row: Row) => string);

/** Rows whose listed columns equal the given values (numbers compared numerically). */
export function where(rows: Row[], filter: Record<string, unknown> | undefined): Row[] {
  if (!filter) return rows;
  return rows.filter((r) => Object.entries(filter).every(([k, v]) => (typeof v === 'number' ? Number(r[k]) === v : r[k] === v)));
}

/** Throws unless every row has every column in `cols`. */
export function requireColumns(rows: Row[], cols: (string | undefined)[], context: string): void {
  if (!Array.isArray(rows)) throw new Error(`${context}: expected an array of rows, got ${typeof rows}`);
  if (!rows.length) throw new Error(`${context}: no rows to plot`);
  for (const c of cols) {
    if (c === undefined) continue;
    const bad = rows.findIndex((r) => !(c in r));
    if (bad >= 0) throw new Error(`${context}: row ${bad} lacks column '${c}' (it has: ${Object.keys(rows[bad]).join(', ')})`);
  }
}

function columnsOf(c: Column | undefined): string[] {
  return typeof c === 'string' ? [c] : Array.isArray(c) ? c : [];
}

/** A row's label for `col`. */
export function labelOf(row: Row, col: Column): string {
  if (typeof col === 'function') return col(row);
  const one = (k: string, prefix: boolean) => {
    const v = row[k];
    if (typeof v === 'number') return prefix ? `${k} ${formatSig(v)}` : formatSig(v);
    return String(v);
  };
  if (typeof col === 'string') return one(col, false);
  return col.map((k) => one(k, true)).join('\n');
}

/** A row's number in column `k`; null / missing / non-numeric strings → NaN. */
export function numberOf(row: Row, k: string): number {
  const v = row[k];
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return NaN;
}

/** Distinct labels in order of first appearance (numeric single columns: ascending). */
function orderedLabels(rows: Row[], col: Column, order?: string[]): string[] {
  const seen = [...new Set(rows.map((r) => labelOf(r, col)))];
  if (order) return [...order.filter((o) => seen.includes(o)), ...seen.filter((s) => !order.includes(s))];
  if (typeof col === 'string' && rows.every((r) => typeof r[col] === 'number')) {
    const byLabel = new Map(rows.map((r) => [labelOf(r, col), r[col] as number]));
    return seen.sort((a, b) => byLabel.get(a)! - byLabel.get(b)!);
  }
  return seen;
}

function nullable(v: number): MaybeNumber {
  return Number.isFinite(v) ? v : null;
}

/** Column mapping of {@link barFromRows}. */
export interface BarMapping {
  x: Column;
  series: Column;
  y: string;
  lo?: string;
  hi?: string;
  where?: Record<string, unknown>;
  /** Preferred order of categories / series (others follow in order of appearance). */
  xOrder?: string[];
  seriesOrder?: string[];
}

/** Grouped bars: one category per distinct `x`, one bar per distinct `series`. */
export function barFromRows(rows: Row[], m: BarMapping, base: FigureBase & Pick<BarFigure, 'stacked' | 'valueLabels' | 'yDomain' | 'refLine'>): BarFigure {
  const rs = where(rows, m.where);
  requireColumns(rs, [...columnsOf(m.x), ...columnsOf(m.series), m.y, m.lo, m.hi], `bar chart '${base.title}'`);
  const cats = orderedLabels(rs, m.x, m.xOrder);
  const names = orderedLabels(rs, m.series, m.seriesOrder);
  const cell = new Map<string, Row>();
  for (const r of rs) {
    const key = `${labelOf(r, m.series)}\u0000${labelOf(r, m.x)}`;
    if (cell.has(key)) throw new Error(`bar chart '${base.title}': two rows for series '${labelOf(r, m.series)}' at '${labelOf(r, m.x)}' (narrow them with 'where')`);
    cell.set(key, r);
  }
  const pick = (name: string, k: string | undefined) => cats.map((c) => {
    const r = cell.get(`${name}\u0000${c}`);
    return r && k ? nullable(numberOf(r, k)) : null;
  });
  return {
    kind: 'bar',
    ...base,
    categories: cats,
    series: names.map((name) => ({ name, values: pick(name, m.y), ...(m.lo && m.hi ? { lo: pick(name, m.lo), hi: pick(name, m.hi) } : {}) })),
  };
}

/** Column mapping of {@link lineFromRows}. */
export interface LineMapping {
  x: string;
  y: string;
  series?: Column;
  lo?: string;
  hi?: string;
  where?: Record<string, unknown>;
  seriesOrder?: string[];
  /** Series with the same label here share a colour (default: one colour per series). */
  colorBy?: Column;
  /** Series whose label here is not the first one seen are dashed. */
  dashBy?: Column;
}

/** Lines: one per distinct `series` (or a single unnamed one), points sorted by x. */
export function lineFromRows(rows: Row[], m: LineMapping, base: FigureBase & Pick<LineFigure, 'xLog' | 'yLog' | 'yDomain' | 'markers' | 'refLine'>): LineFigure {
  const rs = where(rows, m.where);
  requireColumns(rs, [m.x, m.y, ...columnsOf(m.series), ...columnsOf(m.colorBy), ...columnsOf(m.dashBy), m.lo, m.hi], `line chart '${base.title}'`);
  const names = m.series ? orderedLabels(rs, m.series, m.seriesOrder) : [''];
  const colors = m.colorBy ? orderedLabels(rs, m.colorBy) : [];
  const dashes = m.dashBy ? orderedLabels(rs, m.dashBy) : [];
  return {
    kind: 'line',
    ...base,
    series: names.map((name) => {
      const pts = rs.filter((r) => !m.series || labelOf(r, m.series) === name).sort((a, b) => numberOf(a, m.x) - numberOf(b, m.x));
      const style = {
        ...(m.colorBy && pts.length ? { color: colors.indexOf(labelOf(pts[0], m.colorBy)) } : {}),
        ...(m.dashBy && pts.length && dashes.indexOf(labelOf(pts[0], m.dashBy)) > 0 ? { dash: true } : {}),
      };
      pts.forEach((r, i) => {
        if (!Number.isFinite(numberOf(r, m.x))) throw new Error(`line chart '${base.title}': column '${m.x}' must be numeric, got ${JSON.stringify(r[m.x])}`);
        if (i && numberOf(pts[i - 1], m.x) === numberOf(r, m.x)) throw new Error(`line chart '${base.title}': two rows at ${m.x} = ${r[m.x]}${name ? ` in series '${name}'` : ''} (narrow them with 'where')`);
      });
      return {
        name,
        x: pts.map((r) => numberOf(r, m.x)),
        y: pts.map((r) => nullable(numberOf(r, m.y))),
        ...(m.lo && m.hi ? { lo: pts.map((r) => nullable(numberOf(r, m.lo!))), hi: pts.map((r) => nullable(numberOf(r, m.hi!))) } : {}),
        ...style,
      };
    }),
  };
}

/** Column mapping of {@link heatmapFromRows}. */
export interface HeatmapMapping {
  x: Column;
  y: Column;
  z: string;
  where?: Record<string, unknown>;
}

/** A heat map with one column per distinct `x` and one row per distinct `y`; absent cells are missing. */
export function heatmapFromRows(rows: Row[], m: HeatmapMapping, base: FigureBase & Pick<HeatmapFigure, 'colorLabel' | 'zLog' | 'zDomain' | 'cellLabels'>): HeatmapFigure {
  const rs = where(rows, m.where);
  requireColumns(rs, [...columnsOf(m.x), ...columnsOf(m.y), m.z], `heat map '${base.title}'`);
  const xs = orderedLabels(rs, m.x);
  const ys = orderedLabels(rs, m.y);
  const z: MaybeNumber[][] = ys.map(() => xs.map(() => null));
  const seen = new Set<string>();
  for (const r of rs) {
    const [xl, yl] = [labelOf(r, m.x), labelOf(r, m.y)];
    const key = `${yl}\u0000${xl}`;
    if (seen.has(key)) throw new Error(`heat map '${base.title}': two rows for cell (${yl.replace(/\n/g, ' ')}, ${xl.replace(/\n/g, ' ')}) (narrow them with 'where')`);
    seen.add(key);
    z[ys.indexOf(yl)][xs.indexOf(xl)] = nullable(numberOf(r, m.z));
  }
  return { kind: 'heatmap', ...base, x: xs, y: ys, z };
}

/** Column mapping of {@link scatterFromRows}. */
export interface ScatterMapping {
  x: string;
  y: string;
  series?: Column;
  label?: Column;
  where?: Record<string, unknown>;
}

/** A scatter plot, one point set per distinct `series`. */
export function scatterFromRows(rows: Row[], m: ScatterMapping, base: FigureBase & Pick<ScatterFigure, 'refLine' | 'xLog' | 'yLog'>): ScatterFigure {
  const rs = where(rows, m.where);
  requireColumns(rs, [m.x, m.y, ...columnsOf(m.series), ...columnsOf(m.label)], `scatter plot '${base.title}'`);
  const names = m.series ? orderedLabels(rs, m.series) : [''];
  return {
    kind: 'scatter',
    ...base,
    series: names.map((name) => {
      const pts = rs.filter((r) => !m.series || labelOf(r, m.series) === name);
      return {
        name,
        x: pts.map((r) => nullable(numberOf(r, m.x))),
        y: pts.map((r) => nullable(numberOf(r, m.y))),
        ...(m.label ? { labels: pts.map((r) => labelOf(r, m.label!).replace(/\n/g, ' · ')) } : {}),
      };
    }),
  };
}
