/**
 * SVG line chart: lines with markers over a numeric (optionally log10) x, CI bands, and a break in the
 * line (and band) wherever a value is missing.
 *
 * @module
 */
import { el, esc, num } from './svg.ts';
import { extent, formatValue, linearScale, logDomain, logScale, niceDomain, type Scale } from './scale.ts';
import { seriesColor } from './colors.ts';
import { baseline, clipDef, layoutFrame, legend, legendWidth, MUTED, svgDocument, xAxisNumeric, yAxis } from './svg-frame.ts';
import { toNum, type LineFigure } from './spec.ts';

const INSET = 10; // px between the outermost markers and the axes

/** Builds a scale for `values` (linear: nice domain; log: whole decades of the positive values). */
export function axisScale(values: number[], log: boolean | undefined, range: [number, number], fixed?: [number, number]): Scale {
  if (log) {
    const e = fixed ?? extent(values.filter((v) => v > 0)) ?? [1, 10];
    return logScale(fixed ?? logDomain(e[0], e[1]), range);
  }
  const e = extent(values) ?? [0, 1];
  return linearScale(fixed ?? niceDomain(e[0], e[1]), range);
}

/** Index runs [start, end) where `ok(i)` holds. */
export function runs(n: number, ok: (i: number) => boolean): [number, number][] {
  const out: [number, number][] = [];
  let start = -1;
  for (let i = 0; i <= n; i++) {
    if (i < n && ok(i)) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      out.push([start, i]);
      start = -1;
    }
  }
  return out;
}

/** Renders a {@link LineFigure} as an SVG document. */
export function renderLineSvg(spec: LineFigure): string {
  const usable = (v: number, log?: boolean) => Number.isFinite(v) && (!log || v > 0);
  const xs = spec.series.flatMap((s) => s.x);
  const ref = spec.refLine !== undefined && usable(spec.refLine, spec.yLog) ? spec.refLine : undefined;
  const ys = [...spec.series.flatMap((s) => [...s.y, ...(s.lo ?? []), ...(s.hi ?? [])].map(toNum)), ...(ref === undefined ? [] : [ref])].filter((v) => usable(v, spec.yLog));
  const probe = axisScale(ys, spec.yLog, [1, 0], spec.yDomain);
  const named = spec.series.length > 1 || spec.series[0].name !== '';
  const f = layoutFrame(spec, { yTickLabels: probe.ticks().map((t) => probe.format(t)), xTickLines: 1, side: named ? legendWidth(spec.series.map((s) => s.name)) : 0 });
  const { plot } = f;
  const x = axisScale(xs, spec.xLog, [plot.x + INSET, plot.x + plot.w - INSET]);
  const y = axisScale(ys, spec.yLog, [plot.y + plot.h - INSET, plot.y + INSET], spec.yDomain);
  const clip = clipDef(f);

  const bands: string[] = [];
  const lines: string[] = [];
  const points: string[] = [];
  spec.series.forEach((s, si) => {
    const color = seriesColor(s.color ?? si);
    const yv = s.y.map(toNum);
    if (s.lo && s.hi) {
      const lo = s.lo.map(toNum);
      const hi = s.hi.map(toNum);
      for (const [a, b] of runs(s.x.length, (i) => usable(lo[i], spec.yLog) && usable(hi[i], spec.yLog))) {
        if (b - a === 1) {
          // an isolated point has no band to fill: draw its CI as an error bar
          const [px, cap] = [x.map(s.x[a]), 4];
          const [ylo, yhi] = [y.map(lo[a]), y.map(hi[a])];
          bands.push(el('path', { class: 'err', 'data-series': s.name, d: `M${num(px)} ${num(ylo)}V${num(yhi)}M${num(px - cap)} ${num(ylo)}H${num(px + cap)}M${num(px - cap)} ${num(yhi)}H${num(px + cap)}`, stroke: color, 'stroke-width': 1.4, fill: 'none' }));
          continue;
        }
        const up = [];
        const down = [];
        for (let i = a; i < b; i++) up.push(`${num(x.map(s.x[i]))},${num(y.map(hi[i]))}`);
        for (let i = b - 1; i >= a; i--) down.push(`${num(x.map(s.x[i]))},${num(y.map(lo[i]))}`);
        bands.push(el('polygon', { class: 'band', 'data-series': s.name, points: [...up, ...down].join(' '), fill: color, 'fill-opacity': 0.16, stroke: 'none' }));
      }
    }
    for (const [a, b] of runs(s.x.length, (i) => usable(yv[i], spec.yLog))) {
      let d = '';
      for (let i = a; i < b; i++) d += `${i === a ? 'M' : 'L'}${num(x.map(s.x[i]))} ${num(y.map(yv[i]))}`;
      lines.push(el('path', { class: 'line', 'data-series': s.name, d, fill: 'none', stroke: color, 'stroke-width': 2, 'stroke-linejoin': 'round', ...(s.dash ? { 'stroke-dasharray': '6 4' } : {}) }));
    }
    if (spec.markers !== false) {
      s.x.forEach((xi, i) => {
        if (!usable(yv[i], spec.yLog)) return;
        const lo = toNum(s.lo?.[i]);
        const hi = toNum(s.hi?.[i]);
        const ci = Number.isFinite(lo) && Number.isFinite(hi) ? ` [${formatValue(lo)}, ${formatValue(hi)}]` : '';
        points.push(
          el('circle', { class: 'point', 'data-series': s.name, 'data-x': String(xi), 'data-y': String(yv[i]), cx: x.map(xi), cy: y.map(yv[i]), r: 3.2, fill: color, stroke: '#ffffff', 'stroke-width': 1 }, el('title', {}, esc(`${s.name}: ${formatValue(xi)} → ${formatValue(yv[i])}${ci}`))),
        );
      });
    }
  });
  const body = [
    clip.def,
    yAxis(y, f, spec.yLabel),
    xAxisNumeric(x, f, spec.xLabel),
    baseline(f),
    ...(ref === undefined ? [] : [el('line', { class: 'ref', x1: plot.x, x2: plot.x + plot.w, y1: y.map(ref), y2: y.map(ref), stroke: MUTED, 'stroke-dasharray': '5 4', 'stroke-width': 1 })]),
    el('g', { class: 'bands', 'clip-path': clip.ref }, bands),
    el('g', { class: 'lines', 'clip-path': clip.ref }, lines),
    el('g', { class: 'points' }, points),
  ];
  if (named) body.push(legend(spec.series.map((s, i) => ({ name: s.name, color: seriesColor(s.color ?? i), shape: s.dash ? ('dash' as const) : ('line' as const) })), f));
  return svgDocument(spec, f, body);
}
