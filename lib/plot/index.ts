/**
 * Figures as data → files, with no browser: figure specs, a deterministic SVG renderer, Plotly specs and
 * HTML pages, atomic figure writing, the Deno-Jupyter display helper, builders from tidy result rows and
 * the per-finding figure builders.
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
export * from './figures.ts';
export { EXPERIMENTS, FINDINGS, findingFor, selectFindings, type Finding } from './catalog.ts';
export { experimentCommand, hasResults, inProjectRoot, readResults, resultsFile, ResultsNotFoundError } from './results.ts';
export { figuresDir, PROJECT_ROOT, presetFromEnv, projectPath } from './paths.ts';
export { ensureResults, type EnsureOutcome } from './notebook.ts';
export { formatTable, type TableColumn } from './table.ts';
