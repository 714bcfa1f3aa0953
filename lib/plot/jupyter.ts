/**
 * Showing a figure in a Deno Jupyter notebook: one display_data message with `image/svg+xml` (what
 * static viewers such as GitHub render), a `text/html` fallback (the same SVG inline, with its
 * description as a caption) and `text/plain`; optionally the Plotly JSON for frontends that bundle
 * plotly.js. Outside the Deno kernel (Node, `deno run`) it does nothing, so notebook sources also run as
 * plain scripts. Never rely on the displayed output: cells write figure files (see write.ts) because
 * headless runs can lose trailing outputs (anchors.md §7c).
 *
 * @module
 */
import { esc } from './svg.ts';
import { renderSvg } from './render-svg.ts';
import { toPlotly } from './plotly.ts';
import { describeSpec, type FigureSpec } from './spec.ts';

/** The part of `Deno.jupyter` this module uses. */
interface JupyterApi {
  display(bundle: Record<string, unknown>, options?: { raw?: boolean }): Promise<void>;
}

/** `Deno.jupyter` when running inside `deno jupyter --kernel`, else `undefined`. */
export function jupyterApi(): JupyterApi | undefined {
  const deno = (globalThis as { Deno?: { jupyter?: JupyterApi } }).Deno;
  if (!deno) return undefined;
  try {
    // the getter throws outside the kernel ("only available in `deno jupyter` subcommand")
    const j = deno.jupyter;
    return j && typeof j.display === 'function' ? j : undefined;
  } catch {
    return undefined;
  }
}

/** True inside the Deno Jupyter kernel. */
export function inJupyterKernel(): boolean {
  return jupyterApi() !== undefined;
}

/** The MIME bundle {@link displayFigure} sends. */
export function figureBundle(spec: FigureSpec, o: { plotly?: boolean } = {}): Record<string, unknown> {
  const svg = renderSvg(spec);
  const desc = spec.description ?? describeSpec(spec);
  const bundle: Record<string, unknown> = {
    'image/svg+xml': svg,
    'text/html': `<figure style="margin:0">${svg.trimEnd()}<figcaption style="color:#555;font-size:0.85em;max-width:46em">${esc(desc)}</figcaption></figure>`,
    'text/plain': `${spec.title}${spec.subtitle ? ' — ' + spec.subtitle : ''}`,
  };
  if (o.plotly) bundle['application/vnd.plotly.v1+json'] = toPlotly(spec);
  return bundle;
}

/**
 * Displays `spec` in the notebook; does nothing outside the kernel (see {@link inJupyterKernel}). Resolves
 * to nothing, so that a cell ending with it prints no stray value.
 * @param o.plotly also send `application/vnd.plotly.v1+json` (rendered only by frontends bundling plotly.js)
 */
export async function displayFigure(spec: FigureSpec, o: { plotly?: boolean } = {}): Promise<void> {
  const api = jupyterApi();
  if (api) await api.display(figureBundle(spec, o), { raw: true });
}
