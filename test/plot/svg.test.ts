/**
 * The SVG renderer, checked without snapshots: the output is well-formed XML with an accessible title and
 * description, identical bytes for identical input, one mark per finite value, error bars that land
 * exactly on the CI ends (read back through the axis ticks), and visible gaps for missing values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderSvg } from '../../lib/plot/render-svg.ts';
import type { BarFigure, HeatmapFigure, LineFigure, ScatterFigure } from '../../lib/plot/spec.ts';
import { byClass, findAll, parseXml, type XmlNode } from './xml.ts';

const bar = (): BarFigure => ({
  kind: 'bar',
  title: 'Fidelity <by> estimator & "LR"',
  subtitle: 'mean ± 95% CI',
  xLabel: 'setting',
  yLabel: 'Spearman',
  categories: ['mlp\nlr 1e-3', 'mlp\nlr 1e-4'],
  series: [
    { name: 'TracIn', values: [0.34, 0.2], lo: [0.29, 0.1], hi: [0.38, 0.31] },
    { name: 'SGD-influence', values: [0.36, null], lo: [0.3, null], hi: [0.41, null] },
    { name: 'AdamW-influence', values: [0.4, -0.05], lo: [0.35, -0.12], hi: [0.46, 0.02] },
  ],
});

/** The linear map value → pixel of the y axis, recovered from two tick marks. */
function yAxisMap(root: XmlNode): (v: number) => number {
  const ticks = findAll(root, (n) => n.name === 'g' && (n.attrs.class ?? '').includes('tick y')).map((g) => ({
    v: Number(g.attrs['data-value']),
    px: Number(/translate\(0,([-\d.]+)\)/.exec(g.attrs.transform)![1]),
  }));
  assert.ok(ticks.length >= 2, 'at least two y ticks');
  const [a, b] = [ticks[0], ticks[ticks.length - 1]];
  const k = (b.px - a.px) / (b.v - a.v);
  assert.ok(k < 0, 'larger values are higher up');
  return (v) => a.px + (v - a.v) * k;
}

test('bar chart: well-formed, accessible, escaped, deterministic', () => {
  const svg = renderSvg(bar());
  const root = parseXml(svg);
  assert.equal(root.name, 'svg');
  assert.equal(root.attrs.xmlns, 'http://www.w3.org/2000/svg');
  assert.equal(root.attrs.role, 'img');
  const [title, desc] = root.children;
  assert.equal(title.name, 'title');
  assert.equal(title.text, 'Fidelity <by> estimator & "LR"');
  assert.equal(desc.name, 'desc');
  assert.match(desc.text, /3 series .* over 2 categories/);
  for (const id of root.attrs['aria-labelledby'].split(' ')) assert.equal(findAll(root, (n) => n.attrs.id === id).length, 1, `id ${id} exists once`);
  assert.ok(svg.includes('&lt;by&gt; estimator &amp; &quot;LR&quot;'));
  assert.equal(renderSvg(bar()), svg, 'same input → same bytes');
  assert.equal(renderSvg(structuredClone(bar())), svg);
  assert.doesNotMatch(svg, /NaN|undefined|Infinity/);
  const other = renderSvg({ ...bar(), title: 'another' });
  assert.notEqual(parseXml(other).attrs['aria-labelledby'], root.attrs['aria-labelledby'], 'ids differ between figures (one page may hold several)');
});

test('bar chart: one bar per finite value, n/a for the missing one, error bars on the CI ends', () => {
  const spec = bar();
  const root = parseXml(renderSvg(spec));
  const bars = byClass(root, 'bar');
  assert.equal(bars.length, 5);
  const na = byClass(root, 'na');
  assert.equal(na.length, 1);
  assert.equal(na[0].attrs['data-series'], 'SGD-influence');
  assert.equal(na[0].text, 'n/a');
  const y = yAxisMap(root);
  for (const b of bars) {
    const v = Number(b.attrs['data-value']);
    const top = Number(b.attrs.y);
    const h = Number(b.attrs.height);
    // the bar spans [0, v] in data units
    assert.ok(Math.abs(Math.min(y(0), y(v)) - top) < 0.02 && Math.abs(Math.abs(y(v) - y(0)) - h) < 0.03, `bar ${b.attrs['data-series']} spans 0..${v}`);
  }
  const errs = byClass(root, 'err');
  assert.equal(errs.length, 5);
  for (const e of errs) {
    const s = spec.series.find((x) => x.name === e.attrs['data-series'])!;
    const c = spec.categories.findIndex((x) => x.replace(/\n/g, ' ') === e.attrs['data-category']);
    const [, ylo, yhi] = /^M[-\d.]+ ([-\d.]+)V([-\d.]+)/.exec(e.attrs.d)!.map(Number);
    assert.ok(Math.abs(ylo - y(s.lo![c] as number)) < 0.02, `lower end of ${s.name} at ${s.lo![c]}`);
    assert.ok(Math.abs(yhi - y(s.hi![c] as number)) < 0.02, `upper end of ${s.name} at ${s.hi![c]}`);
    assert.equal(Number(e.attrs['data-lo']), s.lo![c]);
  }
  // legend: one entry per series
  assert.deepEqual(byClass(root, 'legend-item').map((g) => g.children[1].text), ['TracIn', 'SGD-influence', 'AdamW-influence']);
});

test('bar chart: the y range covers every CI and zero; stacked bars add up', () => {
  const root = parseXml(renderSvg(bar()));
  const ticks = findAll(root, (n) => (n.attrs.class ?? '').includes('tick y')).map((g) => Number(g.attrs['data-value']));
  assert.ok(Math.min(...ticks) <= -0.12 && Math.max(...ticks) >= 0.46, `ticks ${ticks} cover [-0.12, 0.46]`);
  const stacked: BarFigure = { kind: 'bar', title: 'shares', stacked: true, valueLabels: 'percent', categories: ['a', 'b'], series: [{ name: 'x', values: [0.5, 0.25] }, { name: 'y', values: [0.5, 0.75] }] };
  const sr = parseXml(renderSvg(stacked));
  const y = yAxisMap(sr);
  const rects = byClass(sr, 'bar');
  assert.equal(rects.length, 4);
  for (const cat of ['a', 'b']) {
    const mine = rects.filter((r) => r.attrs['data-category'] === cat);
    const top = Math.min(...mine.map((r) => Number(r.attrs.y)));
    assert.ok(Math.abs(top - y(1)) < 0.05, `stack ${cat} reaches 1`);
  }
  assert.deepEqual(byClass(sr, 'value').map((t) => t.text), ['50%', '50%', '25%', '75%']);
});

test('line chart: markers per finite value, a gap splits the line and band, log x ticks at powers of ten', () => {
  const spec: LineFigure = {
    kind: 'line',
    title: 'val loss vs K',
    xLog: true,
    series: [
      { name: 'lr 1e-3', x: [1, 10, 100, 1000], y: [1, 0.8, null, 0.9], lo: [0.9, 0.7, null, 0.8], hi: [1.1, 0.9, null, 1.0] },
      { name: 'lr 1e-4', x: [1, 10, 100, 1000], y: [1.2, 1.1, 1.0, NaN] },
    ],
  };
  const root = parseXml(renderSvg(spec));
  const points = byClass(root, 'point');
  assert.equal(points.length, 3 + 3);
  const lines = byClass(root, 'line');
  assert.equal(lines.filter((l) => l.attrs['data-series'] === 'lr 1e-3').length, 2, 'NaN splits the first series');
  assert.equal(lines.filter((l) => l.attrs['data-series'] === 'lr 1e-4').length, 1, 'a trailing NaN just ends the line');
  assert.equal(byClass(root, 'band').length, 1, 'one band over the first run of CIs');
  const errs = byClass(root, 'err');
  assert.equal(errs.length, 1, 'the isolated last point gets an error bar, not an invisible band');
  assert.equal(errs[0].attrs['data-series'], 'lr 1e-3');
  const xt = findAll(root, (n) => (n.attrs.class ?? '').includes('tick x')).map((g) => Number(g.attrs['data-value']));
  assert.deepEqual(xt, [1, 10, 100, 1000]);
  // equal ratios → equal pixel steps on a log axis
  const xs = points.filter((p) => p.attrs['data-series'] === 'lr 1e-4').map((p) => Number(p.attrs.cx));
  assert.ok(Math.abs(xs[1] - xs[0] - (xs[2] - xs[1])) < 0.02);
  assert.doesNotMatch(renderSvg(spec), /NaN/);
  assert.equal(renderSvg(spec), renderSvg(structuredClone(spec)));
});

test('line chart: a series may borrow another colour and be dashed; the legend shows both', () => {
  const spec: LineFigure = {
    kind: 'line',
    title: 'styles',
    series: [
      { name: 'a · m1', x: [1, 2], y: [1, 2] },
      { name: 'a · m2', x: [1, 2], y: [2, 3] },
      { name: 'b · m1', x: [1, 2], y: [0, 1], color: 0, dash: true },
    ],
  };
  const root = parseXml(renderSvg(spec));
  const stroke = (name: string) => byClass(root, 'line').find((l) => l.attrs['data-series'] === name)!.attrs;
  assert.equal(stroke('b · m1').stroke, stroke('a · m1').stroke, 'colour index 0 = the first series colour');
  assert.notEqual(stroke('a · m2').stroke, stroke('a · m1').stroke);
  assert.ok(stroke('b · m1')['stroke-dasharray'], 'dashed');
  assert.equal(stroke('a · m1')['stroke-dasharray'], undefined);
  const legendLines = findAll(byClass(root, 'legend')[0], (n) => n.name === 'line');
  assert.equal(legendLines.filter((l) => l.attrs['stroke-dasharray']).length, 1, 'one dashed legend mark');
});

test('heat map: one cell per (row, column) with its label, missing cells grey, a referenced colour bar', () => {
  const spec: HeatmapFigure = {
    kind: 'heatmap',
    title: 'Taylor error',
    x: ['1e-4', '1e-3', '1e-2'],
    y: ['10', '50'],
    z: [
      [0.001, 0.01, 0.1],
      [0.002, null, 0.3],
    ],
    zLog: true,
    colorLabel: 'relative error',
  };
  const root = parseXml(renderSvg(spec));
  const cells = byClass(root, 'cell');
  assert.equal(cells.length, 6);
  assert.equal(byClass(root, 'missing').length, 1);
  const labels = byClass(root, 'cell-label').map((t) => t.text);
  assert.deepEqual(labels.sort(), ['0.001', '0.002', '0.01', '0.1', '0.3', 'n/a'].sort());
  // viridis: the largest value gets the brightest fill, missing cells a grey outside the map
  const fill = (v: string) => cells.find((c) => c.attrs['data-value'] === v)!.attrs.fill;
  assert.equal(fill('0.3'), '#fde725');
  assert.equal(fill('0.001'), '#440154');
  assert.equal(byClass(root, 'missing')[0].attrs.fill, '#e6e6e6');
  const grad = findAll(root, (n) => n.name === 'linearGradient')[0];
  assert.ok(findAll(root, (n) => n.attrs.fill === `url(#${grad.attrs.id})`).length === 1);
  assert.throws(() => renderSvg({ ...spec, z: [[0, 1, 2], [1, 2, 3]] }), /zLog needs every finite z > 0/);
});

test('scatter: one circle per finite pair, y = x on the diagonal, fit slope in the legend', () => {
  const spec: ScatterFigure = {
    kind: 'scatter',
    title: 'proxy vs error',
    refLine: 'identity',
    series: [{ name: 'mlp', x: [0.1, 0.2, 0.4, null], y: [0.12, 0.18, 0.5, 0.3] }],
  };
  const root = parseXml(renderSvg(spec));
  assert.equal(byClass(root, 'point').length, 3);
  const id = byClass(root, 'identity')[0];
  const y = yAxisMap(root);
  const xTicks = findAll(root, (n) => (n.attrs.class ?? '').includes('tick x')).map((g) => ({ v: Number(g.attrs['data-value']), px: Number(/translate\(([-\d.]+),0\)/.exec(g.attrs.transform)![1]) }));
  const kx = (xTicks[1].px - xTicks[0].px) / (xTicks[1].v - xTicks[0].v);
  const xv = (px: number) => xTicks[0].v + (px - xTicks[0].px) / kx;
  const yv = (px: number) => (px - y(0)) / (y(1) - y(0));
  for (const [xa, ya] of [['x1', 'y1'], ['x2', 'y2']]) assert.ok(Math.abs(xv(Number(id.attrs[xa])) - yv(Number(id.attrs[ya]))) < 1e-3, 'identity endpoints satisfy y = x');
  assert.ok(byClass(root, 'legend-item').some((g) => /1 point\(s\) missing/.test(g.children[1].text)));
  const fit = parseXml(renderSvg({ ...spec, refLine: 'fit', xLog: true, yLog: true, series: [{ name: 's', x: [1, 10, 100], y: [2, 20, 200] }] }));
  assert.ok(byClass(fit, 'legend-item').some((g) => g.children[1].text === 'fit: slope 1, r = 1.00'));
});

test('bad specs fail with a message naming the series', () => {
  assert.throws(() => renderSvg({ ...bar(), series: [{ name: 'short', values: [1] }] }), /bar series 'short' values: expected 2 entries, got 1/);
  assert.throws(() => renderSvg({ kind: 'line', title: 't', xLog: true, series: [{ name: 'neg', x: [0, 1], y: [1, 2] }] }), /line series 'neg': a log x axis needs x > 0/);
  assert.throws(() => renderSvg({ kind: 'pie', title: 't' } as never), /unknown kind 'pie'/);
  assert.throws(() => renderSvg({ ...bar(), width: 50 }), /no room for the plot/);
});
