/**
 * SVG scatter plot with a y = x line (shared axes) or a least-squares fit. Points with a missing or
 * (on a log axis) non-positive coordinate are left out and counted in the legend.
 *
 * @module
 */
import { el, esc } from './svg.ts';
import { extent, formatValue } from './scale.ts';
import { seriesColor } from './colors.ts';
import { baseline, clipDef, layoutFrame, legend, legendWidth, MUTED, svgDocument, xAxisNumeric, yAxis, type LegendItem } from './svg-frame.ts';
import { axisScale } from './svg-line.ts';
import { toNum, type ScatterFigure } from './spec.ts';

const INSET = 10;

/** Least-squares line y = a + b·x with Pearson r; NaN fields when fewer than two distinct x. */
export function leastSquares(xs: number[], ys: number[]): { a: number; b: number; r: number; n: number } {
  const n = xs.length;
  if (n < 2) return { a: NaN, b: NaN, r: NaN, n };
  const mx = xs.reduce((s, v) => s + v, 0) / n;
  const my = ys.reduce((s, v) => s + v, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - mx) ** 2;
    sxy += (xs[i] - mx) * (ys[i] - my);
    syy += (ys[i] - my) ** 2;
  }
  if (sxx === 0) return { a: NaN, b: NaN, r: NaN, n };
  const b = sxy / sxx;
  return { a: my - b * mx, b, r: syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy), n };
}

/** The usable points of a scatter figure (finite, positive on log axes), pooled over series. */
export function scatterPoints(spec: ScatterFigure): { series: number; i: number; x: number; y: number }[] {
  const ok = (v: number, log?: boolean) => Number.isFinite(v) && (!log || v > 0);
  return spec.series.flatMap((s, si) =>
    s.x.map((xv, i) => ({ series: si, i, x: toNum(xv), y: toNum(s.y[i]) })).filter((p) => ok(p.x, spec.xLog) && ok(p.y, spec.yLog)),
  );
}

/** The fit drawn by `refLine: 'fit'`, computed in the axes' own (log10 where log) coordinates. */
export function scatterFit(spec: ScatterFigure): ReturnType<typeof leastSquares> {
  const pts = scatterPoints(spec);
  const tx = spec.xLog ? Math.log10 : (v: number) => v;
  const ty = spec.yLog ? Math.log10 : (v: number) => v;
  return leastSquares(pts.map((p) => tx(p.x)), pts.map((p) => ty(p.y)));
}

/** Renders a {@link ScatterFigure} as an SVG document. */
export function renderScatterSvg(spec: ScatterFigure): string {
  const pts = scatterPoints(spec);
  const total = spec.series.reduce((n, s) => n + s.x.length, 0);
  let xs = pts.map((p) => p.x);
  let ys = pts.map((p) => p.y);
  if (spec.refLine === 'identity' && spec.xLog === spec.yLog) {
    // one shared range, so that y = x is the diagonal
    const e = extent([...xs, ...ys]);
    if (e) xs = ys = e;
  }
  const fit = spec.refLine === 'fit' ? scatterFit(spec) : undefined;
  const items: LegendItem[] = spec.series.flatMap((s, i) => (s.name === '' ? [] : [{ name: s.name, color: seriesColor(i), shape: 'point' as const }]));
  if (spec.refLine === 'identity') items.push({ name: 'y = x', color: MUTED, shape: 'dash' });
  if (fit) items.push({ name: Number.isFinite(fit.b) ? `fit: slope ${formatValue(fit.b, 'sig2')}, r = ${formatValue(fit.r, 'fixed2')}` : 'fit: too few points', color: MUTED, shape: 'dash' });
  if (pts.length < total) items.push({ name: `${total - pts.length} point(s) missing (not drawn)`, color: '#cccccc', shape: 'point' });
  const probe = axisScale(ys, spec.yLog, [1, 0]);
  const f = layoutFrame(spec, { yTickLabels: probe.ticks().map((t) => probe.format(t)), xTickLines: 1, side: legendWidth(items.map((i) => i.name)) });
  const { plot } = f;
  const x = axisScale(xs, spec.xLog, [plot.x + INSET, plot.x + plot.w - INSET]);
  const y = axisScale(ys, spec.yLog, [plot.y + plot.h - INSET, plot.y + INSET]);
  const clip = clipDef(f);

  const body = [clip.def, yAxis(y, f, spec.yLabel), xAxisNumeric(x, f, spec.xLabel), baseline(f)];
  const [d0, d1] = x.domain;
  if (spec.refLine === 'identity') {
    body.push(el('line', { class: 'ref identity', 'clip-path': clip.ref, x1: x.map(d0), y1: y.map(d0), x2: x.map(d1), y2: y.map(d1), stroke: MUTED, 'stroke-dasharray': '5 4', 'stroke-width': 1.2 }));
  } else if (fit && Number.isFinite(fit.b)) {
    // straight in display coordinates because the fit is done in the axes' own coordinates
    const tx = spec.xLog ? Math.log10 : (v: number) => v;
    const fy = (v: number) => (spec.yLog ? 10 ** (fit.a + fit.b * tx(v)) : fit.a + fit.b * tx(v));
    body.push(el('line', { class: 'ref fit', 'clip-path': clip.ref, x1: x.map(d0), y1: y.map(fy(d0)), x2: x.map(d1), y2: y.map(fy(d1)), stroke: MUTED, 'stroke-dasharray': '5 4', 'stroke-width': 1.2 }));
  }
  const marks = pts.map((p) => {
    const s = spec.series[p.series];
    const label = s.labels?.[p.i];
    return el('circle', { class: 'point', 'data-series': s.name, 'data-x': String(p.x), 'data-y': String(p.y), cx: x.map(p.x), cy: y.map(p.y), r: 3.6, fill: seriesColor(p.series), 'fill-opacity': 0.85, stroke: '#ffffff', 'stroke-width': 0.8 }, el('title', {}, esc(`${label ? label + ': ' : ''}${formatValue(p.x)}, ${formatValue(p.y)}`)));
  });
  body.push(el('g', { class: 'points' }, marks), legend(items, f));
  return svgDocument(spec, f, body);
}

