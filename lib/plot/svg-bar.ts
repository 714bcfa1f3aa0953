/**
 * SVG grouped / stacked bar chart with error bars. A missing value draws no bar but a rotated "n/a"
 * at the baseline, so a gap is never mistaken for a zero.
 *
 * @module
 */
import { el, esc, num, textWidth } from './svg.ts';
import { extent, formatValue, linearScale, niceDomain } from './scale.ts';
import { seriesColor, textOn } from './colors.ts';
import { baseline, INK, layoutFrame, legend, legendWidth, MUTED, svgDocument, xAxisBands, yAxis } from './svg-frame.ts';
import { toNum, type BarFigure } from './spec.ts';

/** The y range a bar chart needs: every value, CI end and (stacked) running sum, plus 0. */
export function barDomain(spec: BarFigure): [number, number] {
  if (spec.yDomain) return spec.yDomain;
  const vals: number[] = [];
  if (spec.stacked) {
    spec.categories.forEach((_, c) => {
      let pos = 0;
      let neg = 0;
      for (const s of spec.series) {
        const v = toNum(s.values[c]);
        if (!Number.isFinite(v)) continue;
        const end = v >= 0 ? (pos += v) : (neg += v);
        vals.push(end, end - (v - toNum(s.lo?.[c])), end + (toNum(s.hi?.[c]) - v));
      }
      vals.push(pos, neg);
    });
  } else {
    for (const s of spec.series) vals.push(...s.values.map(toNum), ...(s.lo ?? []).map(toNum), ...(s.hi ?? []).map(toNum));
  }
  const e = extent(vals) ?? [0, 1];
  return niceDomain(e[0], e[1], { includeZero: true });
}

/** Renders a {@link BarFigure} as an SVG document. */
export function renderBarSvg(spec: BarFigure): string {
  const domain = barDomain(spec);
  const probe = linearScale(domain, [1, 0]);
  const named = spec.series.length > 1 || spec.series[0].name !== '';
  const f = layoutFrame(spec, {
    yTickLabels: probe.ticks().map((t) => probe.format(t)),
    xTickLines: Math.max(1, ...spec.categories.map((c) => c.split('\n').length)),
    side: named ? legendWidth(spec.series.map((s) => s.name)) : 0,
  });
  const { plot } = f;
  const y = linearScale(domain, [plot.y + plot.h, plot.y]);
  const nC = spec.categories.length;
  const nS = spec.series.length;
  const band = plot.w / nC;
  const groupW = band * 0.78;
  const slot = spec.stacked ? band * 0.55 : groupW / nS;
  const barW = spec.stacked ? slot : Math.max(1, slot * 0.88);
  const slotX = (c: number, s: number) => plot.x + c * band + (spec.stacked ? (band - slot) / 2 : (band - groupW) / 2 + s * slot);
  const zero = y.map(Math.min(Math.max(0, domain[0]), domain[1]));

  const bars: string[] = [];
  const errs: string[] = [];
  const labels: string[] = [];
  for (let c = 0; c < nC; c++) {
    let pos = 0;
    let neg = 0;
    for (let s = 0; s < nS; s++) {
      const ser = spec.series[s];
      const v = toNum(ser.values[c]);
      const x = slotX(c, s) + (slot - barW) / 2;
      const color = seriesColor(s);
      const cat = spec.categories[c].replace(/\n/g, ' ');
      if (!Number.isFinite(v)) {
        if (!spec.stacked || s === 0) {
          const tx = x + barW / 2;
          bars.push(el('text', { class: 'na', 'data-series': ser.name, 'data-category': cat, x: tx, y: zero - 4, 'font-size': 9.5, fill: MUTED, transform: `rotate(-90 ${num(tx)} ${num(zero - 4)})`, 'dominant-baseline': 'middle' }, 'n/a'));
        }
        continue;
      }
      let y0: number;
      let end = v; // where the bar ends in data units (the running sum when stacked)
      if (spec.stacked) {
        const from = v >= 0 ? pos : neg;
        end = from + v;
        v >= 0 ? (pos = end) : (neg = end);
        y0 = y.map(from);
      } else {
        y0 = zero;
      }
      const y1 = y.map(end);
      const top = Math.min(y0, y1);
      const h = Math.abs(y1 - y0);
      const lo = toNum(ser.lo?.[c]);
      const hi = toNum(ser.hi?.[c]);
      const ci = Number.isFinite(lo) && Number.isFinite(hi) ? ` [${formatValue(lo)}, ${formatValue(hi)}]` : '';
      bars.push(
        el('rect', { class: 'bar', 'data-series': ser.name, 'data-category': cat, 'data-value': String(v), x, y: top, width: barW, height: h, fill: color }, el('title', {}, esc(`${ser.name} · ${cat}: ${formatValue(v)}${ci}`))),
      );
      if (ci) {
        const cx = x + barW / 2;
        const cap = Math.min(barW * 0.35, 5);
        // a stacked segment's CI is drawn around the segment's end, as Plotly does
        const [ylo, yhi] = [y.map(end - (v - lo)), y.map(end + (hi - v))];
        errs.push(
          el('path', {
            class: 'err',
            'data-series': ser.name,
            'data-category': cat,
            'data-lo': String(lo),
            'data-hi': String(hi),
            d: `M${num(cx)} ${num(ylo)}V${num(yhi)}M${num(cx - cap)} ${num(ylo)}H${num(cx + cap)}M${num(cx - cap)} ${num(yhi)}H${num(cx + cap)}`,
            stroke: INK,
            'stroke-width': 1.2,
            fill: 'none',
          }),
        );
      }
      if (spec.valueLabels) {
        const text = formatValue(v, spec.valueLabels);
        if (spec.stacked) {
          if (h >= 14 && barW >= text.length * 6.5) labels.push(el('text', { class: 'value', x: x + barW / 2, y: top + h / 2, 'font-size': 10.5, fill: textOn(color), 'text-anchor': 'middle', 'dominant-baseline': 'middle' }, esc(text)));
        } else if (barW >= textWidth(text, 9.5) + 2) {
          // (skipped when bars are narrower than their label: crowded labels overlap; the <title> keeps the value)
          // beyond the bar's end and its error bar: above for positive values, below for negative ones
          const tip = v >= 0 ? Math.min(y1, Number.isFinite(hi) ? y.map(hi) : y1) - 4 : Math.max(y1, Number.isFinite(lo) ? y.map(lo) : y1) + 12;
          labels.push(el('text', { class: 'value', x: x + barW / 2, y: tip, 'font-size': 9.5, fill: INK, 'text-anchor': 'middle' }, esc(text)));
        }
      }
    }
  }
  const body = [yAxis(y, f, spec.yLabel), baseline(f, zero), el('g', { class: 'bars' }, bars), el('g', { class: 'errors' }, errs)];
  if (labels.length) body.push(el('g', { class: 'values' }, labels));
  if (spec.refLine !== undefined && Number.isFinite(spec.refLine)) {
    const ry = y.map(spec.refLine);
    body.push(el('line', { class: 'ref', x1: plot.x, x2: plot.x + plot.w, y1: ry, y2: ry, stroke: MUTED, 'stroke-dasharray': '5 4', 'stroke-width': 1 }));
  }
  body.push(xAxisBands(spec.categories, (c) => plot.x + (c + 0.5) * band, f, spec.xLabel));
  if (named) body.push(legend(spec.series.map((s, i) => ({ name: s.name, color: seriesColor(i), shape: 'rect' as const })), f));
  return svgDocument(spec, f, body);
}
