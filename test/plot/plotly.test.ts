/**
 * The Plotly spec and the HTML page: error bars as distances from the value to the CI ends, null for
 * missing values, log axes, the heat map in log10 with raw-value labels, and plotly.js linked relatively
 * or inlined (with `</script>` neutralised).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { toPlotly } from '../../lib/plot/plotly.ts';
import { figureHtml, scriptJson } from '../../lib/plot/html.ts';
import { plotlyJsPath } from '../../lib/plot/paths.ts';
import type { BarFigure, HeatmapFigure, LineFigure } from '../../lib/plot/spec.ts';

const bar: BarFigure = {
  kind: 'bar',
  title: 'bars',
  categories: ['a', 'b\nc'],
  series: [{ name: 's', values: [0.5, null], lo: [0.25, null], hi: [0.75, null] }],
};

test('bar: grouped traces with asymmetric error bars; missing values are null; line breaks become <br>', () => {
  const p = toPlotly(bar);
  assert.equal(p.data.length, 1);
  const t = p.data[0] as { x: string[]; y: (number | null)[]; error_y: { array: (number | null)[]; arrayminus: (number | null)[] } };
  assert.deepEqual(t.x, ['a', 'b<br>c']);
  assert.deepEqual(t.y, [0.5, null]);
  assert.deepEqual(t.error_y.array, [0.25, null]);
  assert.deepEqual(t.error_y.arrayminus, [0.25, null]);
  assert.equal(p.layout.barmode, 'group');
  assert.equal(toPlotly({ ...bar, stacked: true }).layout.barmode, 'relative');
  assert.equal(JSON.stringify(toPlotly(bar)), JSON.stringify(toPlotly(structuredClone(bar))), 'deterministic');
});

test('line: CI band traces before the line, log axis type', () => {
  const spec: LineFigure = { kind: 'line', title: 'l', xLog: true, series: [{ name: 'k', x: [1, 10], y: [1, NaN], lo: [0.5, 0.5], hi: [2, 2] }] };
  const p = toPlotly(spec);
  assert.equal(p.data.length, 3);
  assert.equal((p.data[1] as { fill: string }).fill, 'tonexty');
  assert.deepEqual((p.data[2] as { y: unknown[] }).y, [1, null]);
  assert.equal((p.layout.xaxis as { type: string }).type, 'log');
  assert.equal((p.layout.yaxis as { type: string }).type, 'linear');
  const styled = toPlotly({ kind: 'line', title: 's', series: [{ name: 'a', x: [1], y: [1] }, { name: 'b', x: [1], y: [2], color: 0, dash: true }] });
  const [a, b] = styled.data as { line: { color: string; dash?: string } }[];
  assert.equal(b.line.color, a.line.color);
  assert.equal(b.line.dash, 'dash');
  assert.equal(a.line.dash, undefined);
  // a CI at an isolated point shows as an error bar; points inside a band get none
  const iso = toPlotly({ kind: 'line', title: 'i', series: [{ name: 'p', x: [1, 2, 3, 4], y: [1, 2, null, 4], lo: [0.5, 1.5, null, 3], hi: [1.5, 2.5, null, 6] }] });
  const err = (iso.data[2] as { error_y: { array: (number | null)[]; arrayminus: (number | null)[] } }).error_y;
  assert.deepEqual(err.array, [null, null, null, 2]);
  assert.deepEqual(err.arrayminus, [null, null, null, 1]);
  const banded = toPlotly({ kind: 'line', title: 'b', series: [{ name: 'q', x: [1, 2], y: [1, 2], lo: [0, 1], hi: [2, 3] }] });
  assert.equal((banded.data[2] as { error_y?: unknown }).error_y, undefined, 'no error bars where the band shows');
});

test('heat map: log10 colours, raw-value text', () => {
  const spec: HeatmapFigure = { kind: 'heatmap', title: 'h', x: ['1', '2'], y: ['a'], z: [[0.01, null]], zLog: true };
  const t = toPlotly(spec).data[0] as { z: (number | null)[][]; text: string[][] };
  assert.deepEqual(t.z, [[-2, null]]);
  assert.deepEqual(t.text, [['0.01', 'n/a']]);
});

test('html: relative link to plotly.js from the page folder, static SVG fallback, inline mode embeds the library', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-html-'));
  try {
    const html = figureHtml(bar, { fromDir: dir });
    const src = /<script src="([^"]+)"><\/script>/.exec(html)![1];
    assert.equal(path.resolve(dir, src), plotlyJsPath());
    assert.match(html, /<div id="static"><svg /);
    assert.match(html, /Plotly\.newPlot\('plot'/);
    const fake = path.join(dir, 'fake-plotly.js');
    fs.writeFileSync(fake, 'window.Plotly = { newPlot() {} }; // "</script>" inside the library');
    const inline = figureHtml(bar, { plotly: 'inline', plotlyPath: fake });
    assert.ok(inline.includes('window.Plotly = { newPlot() {} }'));
    assert.ok(!inline.includes('"</script>" inside'), 'a </script> inside the library is neutralised');
    assert.ok(!/<script src=/.test(inline));
    assert.ok(!/Plotly/.test(figureHtml(bar, { plotly: 'none' }).replace(/<svg[\s\S]*<\/svg>/, '')), 'none: no plotly at all');
    assert.throws(() => figureHtml(bar, { plotly: 'inline', plotlyPath: path.join(dir, 'nope.js') }), /cannot inline plotly.js/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('scriptJson cannot close the script element', () => {
  const s = scriptJson({ t: '</script><script>alert(1)</script>' });
  assert.ok(!s.includes('</script'));
  assert.deepEqual(JSON.parse(s), { t: '</script><script>alert(1)</script>' });
});
