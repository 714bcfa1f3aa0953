/**
 * Figure specifications: plain JSON data describing one chart. Renderers (SVG, Plotly) read them;
 * nothing here draws. Values are numbers where `null` or NaN means "missing" (JSON turns NaN into
 * null, so result files carry missing values as null) and is drawn as a visible gap.
 *
 * @module
 */
import type { LabelFormat } from './scale.ts';

/** A number that may be missing. */
export type MaybeNumber = number | null;

/** Fields every figure kind shares. */
export interface FigureBase {
  /** Main title (also the SVG `<title>`). */
  title: string;
  /** One line under the title: what is plotted and how uncertainty is shown. */
  subtitle?: string;
  /** Long text for the SVG `<desc>` (screen readers); a summary of the data is generated when absent. */
  description?: string;
  xLabel?: string;
  yLabel?: string;
  /** Pixel size (default 760 × {@link figureHeight}: 420, taller for long legends). */
  width?: number;
  height?: number;
  /** A footnote under the plot (e.g. the results file it was read from). */
  note?: string;
}

/** One series of a bar chart: a value per category (and optionally a CI per category). */
export interface BarSeries {
  name: string;
  values: MaybeNumber[];
  lo?: MaybeNumber[];
  hi?: MaybeNumber[];
}

/**
 * Grouped (or stacked) bars: `categories` along x, one bar per series inside each category, error bars
 * from `lo`/`hi`. Missing values leave a gap labelled "n/a".
 */
export interface BarFigure extends FigureBase {
  kind: 'bar';
  categories: string[];
  series: BarSeries[];
  /** Stack the series (shares, decompositions) instead of grouping them. */
  stacked?: boolean;
  /** Fixed y range; otherwise a nice range that includes 0 and every CI. */
  yDomain?: [number, number];
  /** Print each value on its bar. */
  valueLabels?: LabelFormat;
  /** A dashed horizontal reference line (e.g. 0). */
  refLine?: number;
}

/** One series of a line chart; `lo`/`hi` draw a CI band. */
export interface LineSeries {
  name: string;
  x: number[];
  y: MaybeNumber[];
  lo?: MaybeNumber[];
  hi?: MaybeNumber[];
  /** Palette index of the colour (default: the series' position), so related series can share a colour. */
  color?: number;
  /** Draw the line dashed (a second grouping next to colour, e.g. dataset). */
  dash?: boolean;
}

/** Lines with markers over a numeric x (optionally log10), CI bands, gaps at missing values. */
export interface LineFigure extends FigureBase {
  kind: 'line';
  series: LineSeries[];
  xLog?: boolean;
  yLog?: boolean;
  yDomain?: [number, number];
  /** Draw markers (default true). */
  markers?: boolean;
  /** A dashed horizontal reference line (e.g. 0), kept inside the y range. */
  refLine?: number;
}

/** A heat map: `z[i][j]` is the cell of row `y[i]` and column `x[j]`; each cell is labelled with its value. */
export interface HeatmapFigure extends FigureBase {
  kind: 'heatmap';
  x: string[];
  y: string[];
  z: MaybeNumber[][];
  /** Title of the colour bar. */
  colorLabel?: string;
  /** Colour by log10(z) (all finite z must be > 0). */
  zLog?: boolean;
  zDomain?: [number, number];
  cellLabels?: LabelFormat;
}

/** One point set of a scatter plot. */
export interface ScatterSeries {
  name: string;
  x: MaybeNumber[];
  y: MaybeNumber[];
  /** Optional per-point labels (tooltips in Plotly; `<title>` in SVG). */
  labels?: string[];
}

/** Points with a y = x line or a least-squares fit (in log–log space when both axes are log). */
export interface ScatterFigure extends FigureBase {
  kind: 'scatter';
  series: ScatterSeries[];
  refLine?: 'identity' | 'fit';
  xLog?: boolean;
  yLog?: boolean;
}

/** Any figure. */
export type FigureSpec = BarFigure | LineFigure | HeatmapFigure | ScatterFigure;

/** null / undefined / NaN / ±Inf → NaN; numbers pass through. */
export function toNum(v: MaybeNumber | undefined): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : NaN;
}

function checkLength(what: string, arr: unknown[] | undefined, n: number): void {
  if (arr && arr.length !== n) throw new Error(`${what}: expected ${n} entries, got ${arr.length}`);
}

/**
 * The figure's pixel height: `spec.height`, else 420 grown so the legend fits beside the plot without
 * scrolling (Plotly draws about 29 px per entry at this font and keeps about 170 px for title, axis and note).
 */
export function figureHeight(spec: FigureSpec): number {
  if (spec.height !== undefined) return spec.height;
  const entries = spec.kind === 'heatmap' ? 0 : spec.series.length;
  return Math.max(420, 190 + 30 * entries);
}

/**
 * Checks a spec's shapes (array lengths, log axes with positive data) and throws a message that names
 * the offending series; renderers call it first.
 */
export function validateSpec(spec: FigureSpec): void {
  if (!spec || typeof spec !== 'object') throw new Error('figure spec: expected an object');
  if (typeof spec.title !== 'string') throw new Error('figure spec: title must be a string');
  switch (spec.kind) {
    case 'bar':
      if (!spec.categories.length) throw new Error(`bar figure '${spec.title}': no categories`);
      if (!spec.series.length) throw new Error(`bar figure '${spec.title}': no series`);
      for (const s of spec.series) {
        checkLength(`bar series '${s.name}' values`, s.values, spec.categories.length);
        checkLength(`bar series '${s.name}' lo`, s.lo, spec.categories.length);
        checkLength(`bar series '${s.name}' hi`, s.hi, spec.categories.length);
      }
      return;
    case 'line':
      if (!spec.series.length) throw new Error(`line figure '${spec.title}': no series`);
      for (const s of spec.series) {
        checkLength(`line series '${s.name}' y`, s.y, s.x.length);
        checkLength(`line series '${s.name}' lo`, s.lo, s.x.length);
        checkLength(`line series '${s.name}' hi`, s.hi, s.x.length);
        if (s.x.some((v) => !Number.isFinite(v))) throw new Error(`line series '${s.name}': every x must be a finite number`);
        if (spec.xLog && s.x.some((v) => v <= 0)) throw new Error(`line series '${s.name}': a log x axis needs x > 0`);
      }
      return;
    case 'heatmap':
      if (!spec.x.length || !spec.y.length) throw new Error(`heatmap '${spec.title}': empty x or y`);
      checkLength(`heatmap '${spec.title}' rows of z`, spec.z, spec.y.length);
      spec.z.forEach((row, i) => checkLength(`heatmap '${spec.title}' z[${i}]`, row, spec.x.length));
      if (spec.zLog && spec.z.flat().some((v) => Number.isFinite(toNum(v)) && (v as number) <= 0)) {
        throw new Error(`heatmap '${spec.title}': zLog needs every finite z > 0`);
      }
      return;
    case 'scatter':
      if (!spec.series.length) throw new Error(`scatter figure '${spec.title}': no series`);
      for (const s of spec.series) {
        checkLength(`scatter series '${s.name}' y`, s.y, s.x.length);
        checkLength(`scatter series '${s.name}' labels`, s.labels, s.x.length);
      }
      return;
    default:
      throw new Error(`figure spec: unknown kind '${(spec as { kind?: unknown }).kind}' (bar, line, heatmap, scatter)`);
  }
}

/** A plain-language summary of the data, used as `<desc>` when the spec gives none. */
export function describeSpec(spec: FigureSpec): string {
  const axes = `${spec.yLabel ?? 'y'} against ${spec.xLabel ?? 'x'}`;
  switch (spec.kind) {
    case 'bar':
      return `${spec.stacked ? 'Stacked' : 'Grouped'} bar chart of ${axes}: ${spec.series.length} series (${spec.series.map((s) => s.name).join(', ')}) over ${spec.categories.length} categories (${spec.categories.map((c) => c.replace(/\n/g, ' ')).join('; ')}).`;
    case 'line':
      return `Line chart of ${axes}${spec.xLog ? ' (log x)' : ''}: ${spec.series.length} series (${spec.series.map((s) => s.name).join(', ')}).`;
    case 'heatmap':
      return `Heat map of ${spec.colorLabel ?? 'value'} over ${spec.yLabel ?? 'rows'} (${spec.y.length}) × ${spec.xLabel ?? 'columns'} (${spec.x.length}); each cell is labelled with its value.`;
    case 'scatter':
      return `Scatter plot of ${axes}: ${spec.series.reduce((n, s) => n + s.x.length, 0)} points in ${spec.series.length} series${spec.refLine ? `, with a ${spec.refLine === 'identity' ? 'y = x' : 'least-squares fit'} line` : ''}.`;
  }
}
