/**
 * Figures as data → files, with no browser: figure specs, a deterministic SVG renderer, Plotly specs and
 * HTML pages, atomic figure writing, the Deno-Jupyter display helper and builders from tidy result rows (each
 * finding's own figures are in lib/findings/<id>/figures.ts).
 *
 * @module
 */
export * from './spec.ts';
export { renderSvg } from './render-svg.ts';
export { toPlotly, type PlotlySpec } from './plotly.ts';
export { figureHtml, type HtmlOptions, type PlotlyMode } from './html.ts';
export { saveFigure, writeFigure, type BuiltFigure, type FigureData, type WriteOptions, type WrittenFigure } from './write.ts';
export { displayFigure, figureBundle, inJupyterKernel } from './jupyter.ts';
export { barFromRows, heatmapFromRows, lineFromRows, scatterFromRows, where, type Row } from './from-rows.ts';
export * from './tidy.ts';
export { experimentCommand, hasResults, inProjectRoot, readResults, resultsFile, ResultsNotFoundError } from './results.ts';
export { figuresDir, PROJECT_ROOT, presetFromEnv, projectPath } from './paths.ts';
export { formatTable, type TableColumn } from './table.ts';

import { jupyterApi } from './jupyter.ts';
import { formatSig } from './scale.ts';
import { formatTable as textTable, type TableColumn as Column } from './table.ts';

/**
 * Shows `rows` as a table in the Deno Jupyter kernel: arquero's HTML table (numbers to 3 significant digits,
 * missing values "n/a") with the {@link formatTable} text as the `text/plain` fallback. Does nothing outside
 * the kernel; arquero is imported only inside it, so scripts and tests never load it. The notebooks still
 * print the text table first: headless runs can drop display outputs, and printed text is what logs keep.
 * @param rows tidy records (a results file's `rows`)
 * @param columns as {@link formatTable}: keys, or `[header, key or accessor]`
 */
export async function displayTable(rows: readonly object[], columns: Column[]): Promise<void> {
  const api = jupyterApi();
  // Outside a kernel (a plain `npx tsx notebooks/NN.ts`) the table goes to stdout; in one, once, as a rich display
  // with the same text as its plain fallback (printing it too showed every table twice).
  if (!api) {
    console.log(textTable(rows, columns));
    return;
  }
  const cols = columns.map((c) => (typeof c === 'string' ? { head: c, get: (r: Record<string, unknown>) => r[c] } : { head: c[0], get: typeof c[1] === 'string' ? ((k: string) => (r: Record<string, unknown>) => r[k])(c[1]) : c[1] }));
  // one plain record per row, arrays joined: arquero would print them as JSON
  const records = (rows as Record<string, unknown>[]).map((r) => Object.fromEntries(cols.map((c) => {
    const v = c.get(r);
    return [c.head, Array.isArray(v) ? v.join(', ') : v ?? null];
  })));
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? formatSig(v, 3) : 'n/a');
  const format = Object.fromEntries(cols.filter((c) => records.some((r) => typeof r[c.head] === 'number')).map((c) => [c.head, num]));
  const aq = await import('arquero');
  const html = aq.from(records).toHTML({ format, null: () => 'n/a' });
  await api.display({ 'text/html': html, 'text/plain': textTable(rows, columns) }, { raw: true });
}
