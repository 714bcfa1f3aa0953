/**
 * A standalone HTML page for one figure: the interactive Plotly chart, with the static SVG shown until
 * (or instead of, when plotly.js cannot be loaded) the chart renders.
 *
 * plotly.js is either linked by a relative path to `node_modules/plotly.js-dist/plotly.js` (small files,
 * but they work only inside this checkout and only after `npm install`) or inlined (self-contained and
 * portable, but plotly.js-dist 4.x is about 10 MB unminified, so every page is that large).
 *
 * @module
 */
import fs from 'node:fs';
import path from 'node:path';
import { esc } from './svg.ts';
import { plotlyJsPath } from './paths.ts';
import { renderSvg } from './render-svg.ts';
import { toPlotly } from './plotly.ts';
import { describeSpec, type FigureSpec } from './spec.ts';

/** How an HTML page gets plotly.js. */
export type PlotlyMode = 'relative' | 'inline' | 'none';

/** Options of {@link figureHtml}. */
export interface HtmlOptions {
  /** `relative` (default): a `<script src>` relative to `fromDir`; `inline`: the whole library in the page; `none`: the SVG only. */
  plotly?: PlotlyMode;
  /** The folder the page will be written to, for the relative link (default: the current directory). */
  fromDir?: string;
  /** plotly.js to link or inline (default: node_modules/plotly.js-dist/plotly.js). */
  plotlyPath?: string;
}

/** JSON that is safe inside a `<script>` element. */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** The page as a string (deterministic for a given spec and options). */
export function figureHtml(spec: FigureSpec, o: HtmlOptions = {}): string {
  const mode = o.plotly ?? 'relative';
  const svg = renderSvg(spec);
  const plotly = toPlotly(spec);
  const lib = o.plotlyPath ?? plotlyJsPath();
  let loader = '';
  if (mode === 'relative') {
    const rel = path.relative(path.resolve(o.fromDir ?? process.cwd()), lib).split(path.sep).join('/');
    loader = `<script src="${esc(rel)}"></script>`;
  } else if (mode === 'inline') {
    if (!fs.existsSync(lib)) throw new Error(`figureHtml: cannot inline plotly.js: ${lib} not found (run npm install)`);
    loader = `<script>${fs.readFileSync(lib, 'utf8').replace(/<\/script/gi, '<\\/script')}</script>`;
  }
  const draw =
    mode === 'none'
      ? ''
      : `<script>
if (typeof Plotly !== 'undefined') {
  document.getElementById('static').hidden = true;
  Plotly.newPlot('plot', ${scriptJson(plotly.data)}, ${scriptJson(plotly.layout)}, { responsive: true, displaylogo: false });
} else {
  document.getElementById('status').textContent = 'plotly.js could not be loaded; showing the static figure.';
}
</script>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(spec.title)}</title>
<style>body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:1.5rem;color:#222}figcaption{color:#555;max-width:48rem;font-size:.9rem}#status{color:#a33;font-size:.85rem}</style>
</head>
<body>
<figure>
<div id="plot"></div>
<div id="static">${svg.trimEnd()}</div>
<figcaption>${esc(spec.description ?? describeSpec(spec))}</figcaption>
<p id="status"></p>
</figure>
${loader}
${draw}
</body>
</html>
`;
}
