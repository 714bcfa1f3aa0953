/**
 * Regenerates every figure straight from the result files, without Jupyter: the same builders the
 * notebooks call (each finding's figures.ts, through the registry lib/findings/registry.ts), so figures never
 * depend on notebook output capture. Also renders
 * the figures to PNG with headless Chromium and writes the figure index.
 *
 *     npx tsx scripts/figures.ts [build] [--preset quick] [--only 01,02] [--html relative|inline|none] [--allow-pending] [--png] [--index]
 *     npx tsx scripts/figures.ts render [--only 01] [--force] [--png-from html|svg] [--engine auto|playwright|cli] [--require-png] [--index]
 *     npx tsx scripts/figures.ts index [--preset quick]
 *     npx tsx scripts/figures.ts --list-experiments [--only 01,02]   experiment names, one a line (reproduce.sh)
 *
 * `build` prints one status line per finding: `ok` (files written), `pending` (a results file does not
 * exist yet; the line names the command that writes it) or `failed` (the results file did not fit its
 * builder); it exits 1 on a failure, and on a pending finding unless --allow-pending. `render` (or
 * `--png`) turns every built figure of the selection into `<name>.png`, skipping figures whose
 * `.plotly.json` is unchanged since their PNG (`figures/.png-cache.json`); without Chromium it says how to
 * install it and exits 0, unless --require-png. `index` (or `--index`) writes `figures/README.md` and
 * `figures/index.html`, the latter with the headline numbers of `--preset` (scripts/summary.ts).
 *
 * @module
 */
import fs from 'node:fs';
import path from 'node:path';
import { findings, selectFindings } from '../lib/findings/registry.ts';
import { buildFigures } from '../lib/findings/build.ts';
import { figuresDir, PROJECT_ROOT } from '../lib/plot/paths.ts';
import { ResultsNotFoundError } from '../lib/plot/results.ts';
import { CHROMIUM_INSTALL, ChromiumNotFoundError, renderFigures, type PngSource, type RenderEngine } from '../lib/plot/render.ts';
import { saveFigure } from '../lib/plot/write.ts';
import type { PlotlyMode } from '../lib/plot/html.ts';
import { writeIndex } from './figure-index.ts';
import { headlines, selectedExperiments } from './summary.ts';
import { checkPresetName, eachFlag, listOf, runScript } from './flags.ts';

/** What to do. */
export type FigureCommand = 'build' | 'render' | 'index' | 'list-experiments';

/** Parsed flags. */
export interface FigureFlags {
  command: FigureCommand;
  preset: string;
  only?: string[];
  html: PlotlyMode;
  allowPending: boolean;
  /** Print the experiments of the selected findings instead of building figures (= command `list-experiments`). */
  listExperiments: boolean;
  /** Render PNGs (after `build`; always for `render`). */
  png: boolean;
  /** Write figures/README.md and figures/index.html (after `build`/`render`; always for `index`). */
  index: boolean;
  force: boolean;
  pngFrom: PngSource;
  engine: RenderEngine | 'auto';
  /** Exit 1 when PNGs cannot be rendered because Chromium is missing. */
  requirePng: boolean;
}

const USAGE = 'usage: scripts/figures.ts [build|render|index] [--preset NAME] [--only 01,02] [--html relative|inline|none] [--allow-pending] [--png] [--index] [--force] [--png-from html|svg] [--engine auto|playwright|cli] [--require-png] | --list-experiments';

/** Parses the command and flags above. */
export function parseFigureFlags(args: string[]): FigureFlags {
  const o: FigureFlags = {
    command: 'build',
    preset: process.env.FTDA_PRESET || 'quick',
    html: 'relative',
    allowPending: false,
    listExperiments: false,
    png: false,
    index: false,
    force: false,
    pngFrom: 'html',
    engine: 'auto',
    requirePng: false,
  };
  const rest = [...args];
  if (rest[0] && !rest[0].startsWith('-')) {
    const c = rest.shift()!;
    if (c !== 'build' && c !== 'render' && c !== 'index') throw new Error(`unknown command '${c}'; ${USAGE}`);
    o.command = c;
  }
  const oneOf = <T extends string>(flag: string, v: string, allowed: readonly T[]): T => {
    if (!allowed.includes(v as T)) throw new Error(`${flag} must be ${allowed.join(', ')}; got '${v}'`);
    return v as T;
  };
  eachFlag(rest, (a, value) => {
    if (a === '--preset') o.preset = value();
    else if (a === '--only') o.only = listOf(value());
    else if (a === '--html') o.html = oneOf(a, value(), ['relative', 'inline', 'none'] as const);
    else if (a === '--allow-pending') o.allowPending = true;
    else if (a === '--list-experiments') o.listExperiments = true;
    else if (a === '--png') o.png = true;
    else if (a === '--index') o.index = true;
    else if (a === '--force') o.force = true;
    else if (a === '--png-from') o.pngFrom = oneOf(a, value(), ['html', 'svg'] as const);
    else if (a === '--engine') o.engine = oneOf(a, value(), ['auto', 'playwright', 'cli'] as const);
    else if (a === '--require-png') o.requirePng = true;
    else return false;
    return true;
  }, USAGE);
  if (o.listExperiments) o.command = 'list-experiments';
  if (o.command === 'render') o.png = true;
  if (o.command === 'index') o.index = true;
  checkPresetName(o.preset);
  return o;
}

/** Ids of the selected findings (all of them without a selection), in registry order: what reproduce.sh runs. */
export function experimentNames(only?: string[]): string[] {
  return selectFindings(only).map((f) => f.id);
}

function selection(o: Pick<FigureFlags, 'only'>) {
  const selected = selectFindings(o.only);
  if (!selected.length) throw new Error(`--only ${o.only?.join(',')} matches no finding; known: ${findings().map((f) => `${f.id} (${f.notebook})`).join(', ')}`);
  return selected;
}

/** Builds and writes the selected findings' figures; returns the exit code. */
export function writeAllFigures(o: Pick<FigureFlags, 'preset' | 'only' | 'html' | 'allowPending'>): number {
  const dir = figuresDir(o.preset);
  const selected = selection(o);
  const rel = path.relative(PROJECT_ROOT, dir);
  console.log(`figures: preset ${o.preset} → ${rel && !rel.startsWith('..') ? rel : dir}/ (no Jupyter involved)`);
  let failed = 0;
  let pending = 0;
  for (const f of selected) {
    try {
      const figs = buildFigures(f, o.preset);
      for (const fig of figs) saveFigure(fig, { dir, html: o.html === 'none' ? false : o.html });
      console.log(`  ok       ${f.id.padEnd(26)} ${figs.map((x) => `${x.name}.svg`).join(', ')}`);
    } catch (e) {
      const pend = e instanceof ResultsNotFoundError;
      pend ? pending++ : failed++;
      console.log(`  ${pend ? 'pending' : 'failed '}  ${f.id.padEnd(26)} ${(e as Error).message}`);
    }
  }
  console.log(`figures: ${selected.length - failed - pending} ok, ${pending} pending, ${failed} failed`);
  return failed || (pending && !o.allowPending) ? 1 : 0;
}

/** `12.3 s`, `4m05s`. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s - 60 * m)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/**
 * One progress line: a 20-cell bar, `done/total`, elapsed time and an ETA from the mean time of the items
 * done so far (the same format reproduce.sh prints for experiments).
 */
export function progressLine(done: number, total: number, elapsedS: number, label = ''): string {
  const width = 20;
  const fill = total ? Math.round((width * done) / total) : width;
  const eta = done > 0 && done < total ? `  ETA ~${formatSeconds((elapsedS / done) * (total - done))}` : '';
  return `[${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${done}/${total}  elapsed ${formatSeconds(elapsedS)}${eta}${label ? `  ${label}` : ''}`;
}

/**
 * Renders the PNGs of the selected findings' built figures; returns the exit code (1 when a figure
 * failed or looked blank, or when Chromium is missing under --require-png).
 */
export async function renderAll(o: Pick<FigureFlags, 'preset' | 'only' | 'force' | 'pngFrom' | 'engine' | 'requirePng'>): Promise<number> {
  const dir = figuresDir(o.preset);
  const all = selection(o).flatMap((f) => f.figures.map((x) => x.name));
  const built = all.filter((n) => fs.existsSync(path.join(dir, `${n}.${o.pngFrom === 'svg' ? 'svg' : 'plotly.json'}`)));
  if (!built.length) {
    console.log('png: no built figures to render');
    return 0;
  }
  const t0 = performance.now();
  const counts = { rendered: 0, cached: 0, failed: 0, missing: 0 };
  try {
    const { outcomes, renderer } = await renderFigures(built, {
      dir,
      source: o.pngFrom,
      force: o.force,
      engine: o.engine,
      onFigure(r, i, n) {
        const what = r.status === 'failed' ? `FAILED ${r.name}: ${r.error}` : `${r.status} ${r.name}.png${r.status === 'rendered' ? ` (${formatSeconds(r.ms / 1000)})` : ''}`;
        console.log(`  ${progressLine(i + 1, n, (performance.now() - t0) / 1000)}  ${what}`);
      },
    });
    for (const r of outcomes) counts[r.status]++;
    const via = renderer ? ` via ${renderer.engine}, Chromium ${renderer.version} (${renderer.executable})` : '';
    console.log(`png: ${counts.rendered} rendered, ${counts.cached} unchanged (cached), ${counts.failed} failed in ${formatSeconds((performance.now() - t0) / 1000)}${via}`);
  } catch (e) {
    if (!(e instanceof ChromiumNotFoundError)) throw e;
    // Chromium is looked up only when some figure needs rendering, so a fully cached run needs no browser.
    console.log(`png: skipped — ${e.message}`);
    console.log(`     install: ${CHROMIUM_INSTALL}   (or: ./reproduce.sh --setup)`);
    return o.requirePng ? 1 : 0;
  }
  return counts.failed ? 1 : 0;
}

/** Writes figures/README.md and figures/index.html (with the headline numbers of `preset`). */
export function writeFigureIndex(o: Pick<FigureFlags, 'preset'>): void {
  const dir = figuresDir(o.preset);
  const { rows } = headlines(o.preset);
  const w = writeIndex(dir, { preset: o.preset, headlines: rows });
  const built = w.entries.filter((e) => e.files.svg).length;
  const rel = (p: string) => path.relative(PROJECT_ROOT, p) || p;
  console.log(`index: ${rel(w.readme)}, ${rel(w.html)} — ${built} of ${w.entries.length} figures built, ${w.entries.filter((e) => e.files.png).length} with PNG`);
  // Files of figures no longer in the catalogue (renamed or removed) are left alone, but named.
  const known = new Set(w.entries.map((e) => e.name));
  const stale = [...new Set(fs.readdirSync(dir).filter((f) => /\.(svg|plotly\.json)$/.test(f)).map((f) => f.replace(/\.(svg|plotly\.json)$/, '')))].filter((n) => !known.has(n)).sort();
  if (stale.length) console.log(`index: ${stale.length} figure(s) in ${rel(dir)}/ are not in the catalogue (stale, safe to delete): ${stale.join(', ')}`);
}

/** Runs the command; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const o = parseFigureFlags(args);
  if (o.command === 'list-experiments') {
    const names = experimentNames(o.only);
    if (!names.length) throw new Error(`--only ${o.only?.join(',')} matches no finding`);
    console.log(names.join('\n'));
    return 0;
  }
  let code = 0;
  if (o.command === 'build') code = writeAllFigures(o);
  if (o.png) code = Math.max(code, await renderAll(o));
  if (o.index) writeFigureIndex(o);
  return code;
}

await runScript(import.meta.url, main);
