/**
 * SVG rendering entry point: validates a {@link FigureSpec} and dispatches to the renderer of its kind.
 * Output is deterministic (same spec → same bytes) and self-contained (no fonts, scripts or links).
 *
 * @module
 */
import { validateSpec, type FigureSpec } from './spec.ts';
import { renderBarSvg } from './svg-bar.ts';
import { renderLineSvg } from './svg-line.ts';
import { renderHeatmapSvg } from './svg-heatmap.ts';
import { renderScatterSvg } from './svg-scatter.ts';

/** Renders `spec` as a standalone SVG document (a string ending in a newline). */
export function renderSvg(spec: FigureSpec): string {
  validateSpec(spec);
  switch (spec.kind) {
    case 'bar':
      return renderBarSvg(spec);
    case 'line':
      return renderLineSvg(spec);
    case 'heatmap':
      return renderHeatmapSvg(spec);
    case 'scatter':
      return renderScatterSvg(spec);
  }
}
