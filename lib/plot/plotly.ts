/**
 * The same figure as a Plotly spec (`{data, layout}` for `plotly.js-dist`'s `Plotly.newPlot`). Missing
 * values become `null`, which Plotly draws as gaps. Colours, titles and axis types match the SVG.
 *
 * @module
 */
import { seriesColor, viridisStops } from './colors.ts';
import { FONT } from './svg-frame.ts';
import { formatValue } from './scale.ts';
import { scatterFit, scatterPoints } from './svg-scatter.ts';
import { figureHeight, toNum, validateSpec, type FigureSpec, type LineSeries, type MaybeNumber } from './spec.ts';

/**
 * log10 as written into a figure file: Math.log10 differs in the last bit between V8 versions (Node 20 and the
 * Deno kernel), so the same figure drawn by a notebook and by scripts/figures.ts would differ; 12 significant
 * digits are far below what a colour scale shows and the same in both.
 */
function log10ForFile(v: number): number {
  return forFile(Math.log10(v));
}

/**
 * Colour-bar ticks of a log-coloured heat map labelled in the cells' own units (the cells print linear values, so a
 * bar in log10 units would not read against them): 1, 2, 5 × 10^k inside the range, at their log10 positions.
 */
function logColorbarTicks(logZ: (number | null)[], domain?: [number, number]): { tickvals: number[]; ticktext: string[] } | Record<string, never> {
  const fin = logZ.filter((v): v is number => v !== null && Number.isFinite(v));
  const [lo, hi] = domain ? [Math.log10(domain[0]), Math.log10(domain[1])] : [Math.min(...fin), Math.max(...fin)];
  if (!(hi >= lo)) return {};
  const vals: number[] = [];
  for (let e = Math.floor(lo) - 1; e <= Math.ceil(hi) + 1; e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      const l = Math.log10(v);
      if (l >= lo - 1e-9 && l <= hi + 1e-9) vals.push(v);
    }
  }
  if (vals.length < 2) vals.splice(0, vals.length, 10 ** lo, 10 ** hi);
  return { tickvals: vals.map(log10ForFile), ticktext: vals.map((v) => formatValue(v, 'sig2')) };
}

/** A derived value (through log / exp) as written into a figure file: 12 significant digits, see {@link log10ForFile}. */
function forFile(v: number): number {
  return Number.isFinite(v) ? Number(v.toPrecision(12)) : v;
}

/** A Plotly figure: plain JSON. */
export interface PlotlySpec {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

const nul = (v: MaybeNumber | undefined): number | null => {
  const n = toNum(v);
  return Number.isFinite(n) ? n : null;
};
const br = (s: string) => s.replace(/\n/g, '<br>');

function rgba(hex: string, a: number): string {
  return `rgba(${parseInt(hex.slice(1, 3), 16)},${parseInt(hex.slice(3, 5), 16)},${parseInt(hex.slice(5, 7), 16)},${a})`;
}

/**
 * Error-bar arrays for the points of a line series whose CI has no finite neighbour (a band cannot show there),
 * null elsewhere; undefined when there is no such point.
 */
function isolatedCi(s: LineSeries): { array: (number | null)[]; arrayminus: (number | null)[] } | undefined {
  if (!s.lo || !s.hi) return undefined;
  const ok = (i: number) => i >= 0 && i < s.x.length && Number.isFinite(toNum(s.y[i])) && Number.isFinite(toNum(s.lo![i])) && Number.isFinite(toNum(s.hi![i]));
  const lone = s.x.map((_, i) => ok(i) && !ok(i - 1) && !ok(i + 1));
  if (!lone.some(Boolean)) return undefined;
  return {
    array: lone.map((l, i) => (l ? toNum(s.hi![i]) - toNum(s.y[i]) : null)),
    arrayminus: lone.map((l, i) => (l ? toNum(s.y[i]) - toNum(s.lo![i]) : null)),
  };
}

function baseLayout(spec: FigureSpec): Record<string, unknown> {
  const title = spec.subtitle ? `${spec.title}<br><sup>${spec.subtitle}</sup>` : spec.title;
  return {
    title: { text: title, x: 0.02, xanchor: 'left' },
    font: { family: FONT, size: 12, color: '#222222' },
    width: spec.width ?? 760,
    height: figureHeight(spec),
    paper_bgcolor: '#ffffff',
    plot_bgcolor: '#ffffff',
    margin: { t: spec.subtitle ? 70 : 50, l: 70, r: 20, b: spec.note ? 100 : 60 },
    legend: { x: 1.02, xanchor: 'left', y: 1, yanchor: 'top' },
    ...(spec.note ? { annotations: [{ text: spec.note, xref: 'paper', yref: 'paper', x: 0, y: 0, yanchor: 'top', yshift: -56, showarrow: false, xanchor: 'left', font: { size: 10.5, color: '#666666' } }] } : {}),
  };
}

function axis(label: string | undefined, log?: boolean, extra: Record<string, unknown> = {}): Record<string, unknown> {
  // Linear axes: plain numbers with thousands separators (exponent notation printed "0.5e+4"); log axes: one
  // labelled tick per decade (1e−4, 1e−3), without Plotly's minor-digit labels between them.
  const ticks = log ? { exponentformat: 'e', dtick: 1 } : { exponentformat: 'none', separatethousands: true };
  return { title: { text: label ?? '' }, type: log ? 'log' : 'linear', gridcolor: '#e5e5e5', zeroline: false, ...ticks, ...extra };
}

/** Converts a {@link FigureSpec} into a Plotly spec. */
export function toPlotly(spec: FigureSpec): PlotlySpec {
  validateSpec(spec);
  const layout = baseLayout(spec);
  switch (spec.kind) {
    case 'bar': {
      const x = spec.categories.map(br);
      const data = spec.series.map((s, i) => {
        const y = s.values.map(nul);
        const trace: Record<string, unknown> = { type: 'bar', name: s.name, x, y, marker: { color: seriesColor(i) } };
        if (s.lo && s.hi) {
          // asymmetric error bars from the CI ends; null where the value or CI is missing
          const up = y.map((v, c) => (v === null || nul(s.hi![c]) === null ? null : (nul(s.hi![c]) as number) - v));
          const down = y.map((v, c) => (v === null || nul(s.lo![c]) === null ? null : v - (nul(s.lo![c]) as number)));
          trace.error_y = { type: 'data', symmetric: false, array: up, arrayminus: down, color: '#222222', thickness: 1.2, width: 3 };
        }
        // value labels only when bars are wide enough (grouped: about 24 bars or fewer), as in the SVG
        if (spec.valueLabels && (spec.stacked || spec.categories.length * spec.series.length <= 24)) {
          trace.text = y.map((v) => (v === null ? 'n/a' : formatValue(v, spec.valueLabels)));
          // With error bars an outside label sits on the whisker: put it inside, at the bar's base.
          const whiskers = !!(s.lo && s.hi);
          trace.textposition = spec.stacked || whiskers ? 'inside' : 'outside';
          if (whiskers && !spec.stacked) Object.assign(trace, { insidetextanchor: 'start', textfont: { color: '#ffffff' } });
        }
        return trace;
      });
      const shapes = spec.refLine !== undefined ? [{ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: spec.refLine, y1: spec.refLine, line: { dash: 'dash', color: '#666666', width: 1 } }] : [];
      return {
        data,
        layout: { ...layout, barmode: spec.stacked ? 'relative' : 'group', xaxis: axis(spec.xLabel, false, { type: 'category' }), yaxis: axis(spec.yLabel, false, spec.yDomain ? { range: spec.yDomain } : {}), shapes },
      };
    }
    case 'line': {
      const data: Record<string, unknown>[] = [];
      spec.series.forEach((s, i) => {
        const color = seriesColor(s.color ?? i);
        if (s.lo && s.hi) {
          // CI band: the lower edge, then the upper edge filled down to it
          data.push({ type: 'scatter', mode: 'lines', x: s.x, y: s.lo.map(nul), line: { width: 0, color }, legendgroup: s.name, showlegend: false, hoverinfo: 'skip', name: `${s.name} (CI low)` });
          data.push({ type: 'scatter', mode: 'lines', x: s.x, y: s.hi.map(nul), line: { width: 0, color }, fill: 'tonexty', fillcolor: rgba(color, 0.16), legendgroup: s.name, showlegend: false, hoverinfo: 'skip', name: `${s.name} (CI high)` });
        }
        const trace: Record<string, unknown> = { type: 'scatter', mode: spec.markers === false ? 'lines' : 'lines+markers', name: s.name, x: s.x, y: s.y.map(nul), line: { color, width: 2, ...(s.dash ? { dash: 'dash' } : {}) }, marker: { color, size: 6 }, legendgroup: s.name, connectgaps: false };
        const isolated = isolatedCi(s);
        if (isolated) trace.error_y = { type: 'data', symmetric: false, ...isolated, color, thickness: 1.4, width: 4 };
        data.push(trace);
      });
      const shapes = spec.refLine !== undefined ? [{ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: spec.refLine, y1: spec.refLine, line: { dash: 'dash', color: '#666666', width: 1 } }] : [];
      return { data, layout: { ...layout, xaxis: axis(spec.xLabel, spec.xLog), yaxis: axis(spec.yLabel, spec.yLog, spec.yDomain ? { range: spec.yLog ? spec.yDomain.map(log10ForFile) : spec.yDomain } : {}), shapes } };
    }
    case 'heatmap': {
      const z = spec.z.map((row) => row.map((v) => {
        const n = nul(v);
        return n === null || (spec.zLog && n <= 0) ? null : spec.zLog ? log10ForFile(n) : n;
      }));
      const text = spec.z.map((row) => row.map((v) => formatValue(toNum(v), spec.cellLabels ?? 'sig2')));
      const trace: Record<string, unknown> = {
        type: 'heatmap',
        x: spec.x.map(br),
        y: spec.y.map(br),
        z,
        text,
        texttemplate: '%{text}',
        hovertemplate: '%{y} × %{x}: %{text}<extra></extra>',
        colorscale: viridisStops(),
        colorbar: { title: { text: (spec.colorLabel ?? '') + (spec.zLog ? ' (log scale)' : '') }, ...(spec.zLog ? logColorbarTicks(z.flat(), spec.zDomain) : {}) },
      };
      if (spec.zDomain) Object.assign(trace, spec.zLog ? { zmin: log10ForFile(spec.zDomain[0]), zmax: log10ForFile(spec.zDomain[1]) } : { zmin: spec.zDomain[0], zmax: spec.zDomain[1] });
      return { data: [trace], layout: { ...layout, xaxis: axis(spec.xLabel, false, { type: 'category' }), yaxis: axis(spec.yLabel, false, { type: 'category' }), plot_bgcolor: '#e6e6e6' } };
    }
    case 'scatter': {
      const data: Record<string, unknown>[] = spec.series.map((s, i) => ({
        type: 'scatter',
        mode: 'markers',
        name: s.name,
        x: s.x.map(nul),
        y: s.y.map(nul),
        ...(s.labels ? { text: s.labels } : {}),
        marker: { color: seriesColor(i), size: 7, opacity: 0.85 },
      }));
      const pts = scatterPoints(spec);
      const xs = pts.map((p) => p.x);
      const ys = pts.map((p) => p.y);
      if (pts.length && spec.refLine === 'identity') {
        const lo = Math.min(...xs, ...ys);
        const hi = Math.max(...xs, ...ys);
        data.push({ type: 'scatter', mode: 'lines', name: 'y = x', x: [lo, hi], y: [lo, hi], line: { dash: 'dash', color: '#666666', width: 1.2 } });
      } else if (pts.length && spec.refLine === 'fit') {
        const fit = scatterFit(spec);
        if (Number.isFinite(fit.b)) {
          const lo = Math.min(...xs);
          const hi = Math.max(...xs);
          const tx = spec.xLog ? Math.log10 : (v: number) => v;
          const fy = (v: number) => (spec.yLog ? 10 ** (fit.a + fit.b * tx(v)) : fit.a + fit.b * tx(v));
          data.push({ type: 'scatter', mode: 'lines', name: `fit: slope ${formatValue(fit.b, 'sig2')}, r = ${formatValue(fit.r, 'fixed2')}`, x: [lo, hi], y: [fy(lo), fy(hi)].map(forFile), line: { dash: 'dash', color: '#666666', width: 1.2 } });
        }
      }
      return { data, layout: { ...layout, xaxis: axis(spec.xLabel, spec.xLog), yaxis: axis(spec.yLabel, spec.yLog) } };
    }
  }
}
