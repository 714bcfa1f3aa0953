/**
 * The parts every SVG chart shares: page layout (margins from the labels that must fit), the document
 * wrapper with accessible `<title>`/`<desc>`, axes with grid lines, and the legend.
 *
 * @module
 */
import { el, esc, hashId, num, textEl, textWidth } from './svg.ts';
import type { Scale } from './scale.ts';
import { describeSpec, figureHeight, type FigureSpec } from './spec.ts';

/** Sans-serif stack that looks native on every platform and in Jupyter. */
export const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
export const INK = '#222222';
export const MUTED = '#666666';
export const GRID = '#e5e5e5';
const TICK_FONT = 11;
const LEGEND_FONT = 11.5;

/** The plot rectangle inside the page. */
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Page geometry of one chart. */
export interface Frame {
  width: number;
  height: number;
  plot: Rect;
  /** Left edge of the right-hand column (legend or colour bar). */
  sideX: number;
  /** Prefix for element ids, unique per figure content (several SVGs can share one HTML page). */
  id: string;
}

/** A legend entry; `shape` mirrors the mark it explains. */
export interface LegendItem {
  name: string;
  color: string;
  shape: 'rect' | 'line' | 'point' | 'dash';
}

/** What must fit around the plot. */
export interface FrameNeeds {
  /** Tick labels of the y axis (their width sets the left margin). */
  yTickLabels: string[];
  /** Lines of text under the x axis ticks (1 for numbers; more for wrapped category names). */
  xTickLines: number;
  /** Width of the right-hand column (legend, colour bar); 0 for none. */
  side: number;
}

/** Width of a legend column holding `names`. */
export function legendWidth(names: string[]): number {
  if (!names.length) return 0;
  return Math.min(240, Math.max(...names.map((n) => textWidth(n, LEGEND_FONT))) + 34);
}

/** Margins and the plot rectangle for `spec` given the labels it will draw. */
export function layoutFrame(spec: FigureSpec, needs: FrameNeeds): Frame {
  const width = spec.width ?? 760;
  const height = figureHeight(spec);
  const top = 14 + 20 + (spec.subtitle ? 18 : 0) + 12;
  const tickW = Math.max(0, ...needs.yTickLabels.map((l) => textWidth(l, TICK_FONT)));
  const left = 12 + (spec.yLabel ? 20 : 0) + tickW + 8;
  const bottom = 8 + needs.xTickLines * 13 + 8 + (spec.xLabel ? 20 : 0) + (spec.note ? 18 : 0);
  const right = needs.side > 0 ? needs.side + 16 : 20;
  const plot = { x: left, y: top, w: width - left - right, h: height - top - bottom };
  if (plot.w < 60 || plot.h < 60) throw new Error(`figure '${spec.title}': ${width}×${height} px leaves no room for the plot; make it larger`);
  return { width, height, plot, sideX: plot.x + plot.w + 16, id: `f${hashId(JSON.stringify(spec))}` };
}

/** Wraps the chart body in an accessible, self-contained `<svg>` document with title, subtitle and note. */
export function svgDocument(spec: FigureSpec, f: Frame, body: string[]): string {
  const desc = spec.description ?? describeSpec(spec);
  const head = [
    el('title', { id: `${f.id}-title` }, esc(spec.title)),
    el('desc', { id: `${f.id}-desc` }, esc(desc)),
    el('rect', { width: f.width, height: f.height, fill: '#ffffff' }),
    el('text', { x: 14, y: 28, 'font-size': 15, 'font-weight': 600, fill: INK }, esc(spec.title)),
  ];
  if (spec.subtitle) head.push(el('text', { x: 14, y: 46, 'font-size': 12, fill: MUTED }, esc(spec.subtitle)));
  if (spec.note) head.push(el('text', { x: 14, y: f.height - 8, 'font-size': 10.5, fill: MUTED }, esc(spec.note)));
  return (
    el(
      'svg',
      {
        xmlns: 'http://www.w3.org/2000/svg',
        width: f.width,
        height: f.height,
        viewBox: `0 0 ${num(f.width)} ${num(f.height)}`,
        role: 'img',
        'aria-labelledby': `${f.id}-title ${f.id}-desc`,
        'font-family': FONT,
      },
      [...head, ...body].join('\n'),
    ) + '\n'
  );
}

/** Horizontal grid lines, y tick labels and the rotated y-axis title. */
export function yAxis(scale: Scale, f: Frame, label?: string): string {
  const { plot } = f;
  const parts: string[] = [];
  for (const t of scale.ticks()) {
    const y = scale.map(t);
    parts.push(
      el('g', { class: 'tick y', 'data-value': String(t), transform: `translate(0,${num(y)})` }, [
        el('line', { x1: plot.x, x2: plot.x + plot.w, stroke: GRID, 'stroke-width': 1 }),
        el('text', { x: plot.x - 6, 'font-size': TICK_FONT, fill: MUTED, 'text-anchor': 'end', 'dominant-baseline': 'middle' }, esc(scale.format(t))),
      ]),
    );
  }
  if (label) {
    const cx = 14;
    const cy = plot.y + plot.h / 2;
    parts.push(el('text', { x: cx, y: cy, 'font-size': 12, fill: INK, 'text-anchor': 'middle', 'dominant-baseline': 'hanging', transform: `rotate(-90 ${num(cx)} ${num(cy)})` }, esc(label)));
  }
  return el('g', { class: 'axis y' }, parts);
}

/** Tick marks and labels of a numeric x axis, vertical grid lines and the axis title. */
export function xAxisNumeric(scale: Scale, f: Frame, label?: string): string {
  const { plot } = f;
  const base = plot.y + plot.h;
  const parts: string[] = [];
  for (const t of scale.ticks()) {
    const x = scale.map(t);
    parts.push(
      el('g', { class: 'tick x', 'data-value': String(t), transform: `translate(${num(x)},0)` }, [
        el('line', { y1: plot.y, y2: base, stroke: GRID, 'stroke-width': 1 }),
        el('line', { y1: base, y2: base + 4, stroke: MUTED, 'stroke-width': 1 }),
        el('text', { y: base + 17, 'font-size': TICK_FONT, fill: MUTED, 'text-anchor': 'middle' }, esc(scale.format(t))),
      ]),
    );
  }
  if (label) parts.push(xTitle(f, label, 1));
  return el('g', { class: 'axis x' }, parts);
}

/** Category labels centred under each band (`\n` wraps) and the axis title. */
export function xAxisBands(categories: string[], centre: (i: number) => number, f: Frame, label?: string): string {
  const base = f.plot.y + f.plot.h;
  const parts = categories.map((c, i) =>
    textEl(c, { class: 'category', x: centre(i), y: base + 17, 'font-size': TICK_FONT, fill: INK, 'text-anchor': 'middle' }),
  );
  const lines = Math.max(1, ...categories.map((c) => c.split('\n').length));
  if (label) parts.push(xTitle(f, label, lines));
  return el('g', { class: 'axis x' }, parts);
}

function xTitle(f: Frame, label: string, tickLines: number): string {
  const y = f.plot.y + f.plot.h + 8 + tickLines * 13 + 8 + 14;
  return el('text', { x: f.plot.x + f.plot.w / 2, y, 'font-size': 12, fill: INK, 'text-anchor': 'middle' }, esc(label));
}

/** The axis line along the bottom of the plot (at the value 0 for bar charts when given). */
export function baseline(f: Frame, y = f.plot.y + f.plot.h): string {
  return el('line', { class: 'baseline', x1: f.plot.x, x2: f.plot.x + f.plot.w, y1: y, y2: y, stroke: MUTED, 'stroke-width': 1 });
}

/** A vertical legend in the right-hand column. */
export function legend(items: LegendItem[], f: Frame): string {
  if (!items.length) return '';
  const x = f.sideX;
  const parts = items.map((it, i) => {
    const y = f.plot.y + 8 + i * 20;
    let mark: string;
    switch (it.shape) {
      case 'rect':
        mark = el('rect', { x, y: y - 6, width: 14, height: 12, fill: it.color });
        break;
      case 'line':
        mark = el('line', { x1: x, x2: x + 16, y1: y, y2: y, stroke: it.color, 'stroke-width': 2 }) + el('circle', { cx: x + 8, cy: y, r: 3.2, fill: it.color });
        break;
      case 'dash':
        mark = el('line', { x1: x, x2: x + 16, y1: y, y2: y, stroke: it.color, 'stroke-width': 1.5, 'stroke-dasharray': '4 3' });
        break;
      case 'point':
        mark = el('circle', { cx: x + 8, cy: y, r: 4, fill: it.color, 'fill-opacity': 0.85 });
        break;
    }
    return el('g', { class: 'legend-item' }, [mark, el('text', { x: x + 22, y, 'font-size': LEGEND_FONT, fill: INK, 'dominant-baseline': 'middle' }, esc(it.name))]);
  });
  return el('g', { class: 'legend' }, parts);
}

/** A clip path for the plot rectangle (lines and bands must not spill over the axes). */
export function clipDef(f: Frame): { def: string; ref: string } {
  const id = `${f.id}-clip`;
  const { x, y, w, h } = f.plot;
  return { def: el('defs', {}, el('clipPath', { id }, el('rect', { x, y, width: w, height: h }))), ref: `url(#${id})` };
}
