/**
 * SVG heat map: viridis cells labelled with their values, a colour bar with ticks, and missing cells
 * drawn light grey with "n/a" (viridis never produces that grey).
 *
 * @module
 */
import { el, esc, num, textWidth } from './svg.ts';
import { extent, formatValue, linearScale, logScale, type Scale } from './scale.ts';
import { textOn, viridis } from './colors.ts';
import { INK, layoutFrame, MUTED, svgDocument, xAxisBands } from './svg-frame.ts';
import { toNum, type HeatmapFigure } from './spec.ts';

export const MISSING_FILL = '#e6e6e6';

/** The colour scale of a heat map: value → t ∈ [0, 1], and the scale used for colour-bar ticks. */
export function heatColor(spec: HeatmapFigure): { t: (v: number) => number; domain: [number, number] } {
  const vals = spec.z.flat().map(toNum).filter((v) => Number.isFinite(v) && (!spec.zLog || v > 0));
  const e = spec.zDomain ?? extent(vals) ?? [0, 1];
  let [lo, hi] = e;
  if (lo === hi) [lo, hi] = spec.zLog ? [lo / 2, hi * 2] : [lo - 0.5, hi + 0.5];
  const tf = spec.zLog ? Math.log10 : (v: number) => v;
  const [a, b] = [tf(lo), tf(hi)];
  return { t: (v) => (tf(v) - a) / (b - a), domain: [lo, hi] };
}

/** Renders a {@link HeatmapFigure} as an SVG document. */
export function renderHeatmapSvg(spec: HeatmapFigure): string {
  const color = heatColor(spec);
  const barScaleProbe: Scale = spec.zLog ? logScale(color.domain, [1, 0]) : linearScale(color.domain, [1, 0], 4);
  const barTickW = Math.max(0, ...barScaleProbe.ticks().map((t) => textWidth(barScaleProbe.format(t), 10.5)));
  const side = 14 + 6 + barTickW + (spec.colorLabel ? 22 : 0);
  const f = layoutFrame(spec, { yTickLabels: spec.y, xTickLines: Math.max(1, ...spec.x.map((c) => c.split('\n').length)), side });
  const { plot } = f;
  const cw = plot.w / spec.x.length;
  const ch = plot.h / spec.y.length;
  const fmt = spec.cellLabels ?? 'sig2';

  const cells: string[] = [];
  const labels: string[] = [];
  spec.y.forEach((rowName, i) => {
    // y[0] is the bottom row, as in Plotly
    const cy = plot.y + plot.h - (i + 1) * ch;
    spec.x.forEach((colName, j) => {
      const v = toNum(spec.z[i][j]);
      const ok = Number.isFinite(v) && (!spec.zLog || v > 0);
      const fill = ok ? viridis(color.t(v)) : MISSING_FILL;
      const cx = plot.x + j * cw;
      const text = ok ? formatValue(v, fmt) : 'n/a';
      cells.push(
        el('rect', { class: ok ? 'cell' : 'cell missing', 'data-x': colName, 'data-y': rowName, 'data-value': ok ? String(v) : undefined, x: cx, y: cy, width: cw, height: ch, fill, stroke: '#ffffff', 'stroke-width': 1 }, el('title', {}, esc(`${rowName} × ${colName}: ${text}`))),
      );
      if (cw >= textWidth(text, 11) + 4 && ch >= 14) {
        labels.push(el('text', { class: 'cell-label', x: cx + cw / 2, y: cy + ch / 2, 'font-size': 11, fill: ok ? textOn(fill) : MUTED, 'text-anchor': 'middle', 'dominant-baseline': 'middle' }, esc(text)));
      }
    });
  });
  const yLabels = spec.y.map((r, i) => el('text', { class: 'row', x: plot.x - 6, y: plot.y + plot.h - (i + 0.5) * ch, 'font-size': 11, fill: INK, 'text-anchor': 'end', 'dominant-baseline': 'middle' }, esc(r)));
  const body = [el('g', { class: 'cells' }, cells), el('g', { class: 'cell-labels' }, labels), el('g', { class: 'axis y' }, yLabels)];
  if (spec.yLabel) {
    const cx = 14;
    const cy = plot.y + plot.h / 2;
    body.push(el('text', { x: cx, y: cy, 'font-size': 12, fill: INK, 'text-anchor': 'middle', 'dominant-baseline': 'hanging', transform: `rotate(-90 ${num(cx)} ${num(cy)})` }, esc(spec.yLabel)));
  }
  body.push(xAxisBands(spec.x, (j) => plot.x + (j + 0.5) * cw, f, spec.xLabel));
  body.push(colorBar(spec, f.sideX, plot.y, plot.h, color.domain, `${f.id}-grad`));
  return svgDocument(spec, f, body);
}

function colorBar(spec: HeatmapFigure, x: number, y: number, h: number, domain: [number, number], id: string): string {
  const stops = Array.from({ length: 11 }, (_, i) => el('stop', { offset: `${i * 10}%`, 'stop-color': viridis(i / 10) }));
  const scale = spec.zLog ? logScale(domain, [y + h, y]) : linearScale(domain, [y + h, y], 4);
  const ticks = scale.ticks().map((t) =>
    el('g', { class: 'tick z', 'data-value': String(t), transform: `translate(0,${num(scale.map(t))})` }, [
      el('line', { x1: x + 14, x2: x + 18, stroke: MUTED }),
      el('text', { x: x + 20, 'font-size': 10.5, fill: MUTED, 'dominant-baseline': 'middle' }, esc(scale.format(t))),
    ]),
  );
  const parts = [
    el('defs', {}, el('linearGradient', { id, x1: 0, y1: 1, x2: 0, y2: 0 }, stops)),
    el('rect', { x, y, width: 14, height: h, fill: `url(#${id})`, stroke: MUTED, 'stroke-width': 0.5 }),
    ...ticks,
  ];
  if (spec.colorLabel) {
    const lx = x + 14 + 6 + Math.max(0, ...scale.ticks().map((t) => textWidth(scale.format(t), 10.5))) + 16;
    const ly = y + h / 2;
    parts.push(el('text', { x: lx, y: ly, 'font-size': 12, fill: INK, 'text-anchor': 'middle', transform: `rotate(-90 ${num(lx)} ${num(ly)})` }, esc(spec.colorLabel + (spec.zLog ? ' (log scale)' : ''))));
  }
  return el('g', { class: 'colorbar' }, parts);
}
