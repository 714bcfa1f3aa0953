/**
 * Writes one figure's files: `<name>.svg`, `<name>.plotly.json`, `<name>.data.json` (the numbers behind
 * it) and, on request, `<name>.html`. All files are first written to temporaries and then renamed, so a
 * reader never sees a half-written file and a failure leaves the previous set in place.
 *
 * @module
 */
import fs from 'node:fs';
import path from 'node:path';
import { figuresDir } from './paths.ts';
import { renderSvg } from './render-svg.ts';
import { toPlotly } from './plotly.ts';
import { figureHtml, type PlotlyMode } from './html.ts';
import type { FigureSpec } from './spec.ts';

/** The numbers behind a figure: the tidy records it was built from and where they came from. */
export interface FigureData {
  /** Results file (project-relative) the rows were read from, or null for hand-made data. */
  source: string | null;
  rows: Record<string, unknown>[];
}

/** A figure built from results: its file name stem, its spec and its data. */
export interface BuiltFigure {
  name: string;
  spec: FigureSpec;
  data: FigureData;
}

/** Options of {@link writeFigure}. */
export interface WriteOptions {
  /** Output folder (default {@link figuresDir}: `FTDA_FIGURES_DIR` or `<root>/figures`). */
  dir?: string;
  /** Also write `<name>.html`; `relative` links node_modules' plotly.js, `inline` embeds it (~10 MB). */
  html?: false | PlotlyMode;
  /** The numbers behind the figure (default: the spec alone). */
  data?: FigureData;
}

/** Paths written by {@link writeFigure}. */
export interface WrittenFigure {
  svg: string;
  plotly: string;
  data: string;
  html?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Writes `<dir>/<name>.{svg,plotly.json,data.json[,html]}` atomically and returns their paths. */
export function writeFigure(name: string, spec: FigureSpec, o: WriteOptions = {}): WrittenFigure {
  if (!NAME.test(name)) throw new Error(`writeFigure: name '${name}' must be a plain file stem (letters, digits, . _ -)`);
  const dir = path.resolve(o.dir ?? figuresDir());
  fs.mkdirSync(dir, { recursive: true });
  const base = path.join(dir, name);
  const files: [string, string][] = [
    [`${base}.svg`, renderSvg(spec)],
    [`${base}.plotly.json`, JSON.stringify(toPlotly(spec), null, 1) + '\n'],
    [`${base}.data.json`, JSON.stringify({ figure: name, title: spec.title, kind: spec.kind, source: o.data?.source ?? null, rows: o.data?.rows ?? [], spec }, null, 1) + '\n'],
  ];
  if (o.html) files.push([`${base}.html`, figureHtml(spec, { plotly: o.html, fromDir: dir })]);
  const tmps: string[] = [];
  try {
    for (const [file, text] of files) {
      const tmp = `${file}.tmp-${process.pid}`;
      tmps.push(tmp);
      fs.writeFileSync(tmp, text);
    }
  } catch (e) {
    for (const t of tmps) fs.rmSync(t, { force: true });
    throw e;
  }
  files.forEach(([file], i) => fs.renameSync(tmps[i], file));
  const [svg, plotly, data, html] = files.map(([f]) => f);
  return html ? { svg, plotly, data, html } : { svg, plotly, data };
}

/** Writes a {@link BuiltFigure} (its name, spec and data) with {@link writeFigure}. */
export function saveFigure(fig: BuiltFigure, o: Omit<WriteOptions, 'data'> = {}): WrittenFigure {
  return writeFigure(fig.name, fig.spec, { ...o, data: fig.data });
}
