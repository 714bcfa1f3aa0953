/**
 * Regenerates every figure straight from the result files, without Jupyter: the same builders the
 * notebooks call (lib/plot/catalog.ts), so figures never depend on notebook output capture.
 *
 *     npx tsx scripts/figures.ts [--preset quick] [--only 01,02] [--html relative|inline|none] [--allow-pending]
 *     npx tsx scripts/figures.ts --list-experiments [--only 01,02]   experiment names, one a line (reproduce.sh)
 *
 * Prints one status line per finding: `ok` (files written), `pending` (a results file does not exist
 * yet; the line names the command that writes it) or `failed` (the results file did not fit its
 * builder). Exits 1 on a failure, and on a pending finding unless --allow-pending.
 *
 * @module
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXPERIMENTS, FINDINGS, selectFindings } from '../lib/plot/catalog.ts';
import { figuresDir, PROJECT_ROOT } from '../lib/plot/paths.ts';
import { ResultsNotFoundError } from '../lib/plot/results.ts';
import { saveFigure } from '../lib/plot/write.ts';
import type { PlotlyMode } from '../lib/plot/html.ts';

/** Parsed flags. */
export interface FigureFlags {
  preset: string;
  only?: string[];
  html: PlotlyMode;
  allowPending: boolean;
  /** Print the experiments of the selected findings instead of building figures. */
  listExperiments: boolean;
}

/** Parses the flags above. */
export function parseFigureFlags(args: string[]): FigureFlags {
  const o: FigureFlags = { preset: process.env.FTDA_PRESET || 'quick', html: 'relative', allowPending: false, listExperiments: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--preset') o.preset = value();
    else if (a === '--only') o.only = value().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--html') {
      const v = value();
      if (v !== 'relative' && v !== 'inline' && v !== 'none') throw new Error(`--html must be relative, inline or none, got '${v}'`);
      o.html = v;
    } else if (a === '--allow-pending') o.allowPending = true;
    else if (a === '--list-experiments') o.listExperiments = true;
    else throw new Error(`unknown flag '${a}'; flags: --preset NAME --only 01,02 --html relative|inline|none --allow-pending --list-experiments`);
  }
  if (!/^[a-z][a-z0-9-]*$/.test(o.preset)) throw new Error(`--preset must be a preset name, got '${o.preset}'`);
  return o;
}

/** Experiments of the selected findings, then (with no selection) those without a figure. */
export function experimentNames(only?: string[]): string[] {
  return only ? [...new Set(selectFindings(only).flatMap((f) => f.experiments))] : EXPERIMENTS;
}

/** Builds and writes the selected findings' figures; returns the exit code. */
export function writeAllFigures(o: FigureFlags): number {
  const dir = figuresDir();
  const selected = selectFindings(o.only);
  if (!selected.length) {
    console.error(`--only ${o.only?.join(',')} matches no finding; known: ${FINDINGS.map((f) => f.notebook).join(', ')}`);
    return 2;
  }
  const rel = path.relative(PROJECT_ROOT, dir);
  console.log(`figures: preset ${o.preset} → ${rel && !rel.startsWith('..') ? rel : dir}/ (no Jupyter involved)`);
  let failed = 0;
  let pending = 0;
  for (const f of selected) {
    try {
      const figs = f.build(o.preset);
      for (const fig of figs) saveFigure(fig, { dir, html: o.html === 'none' ? false : o.html });
      console.log(`  ok       ${f.notebook.padEnd(26)} ${figs.map((x) => `${x.name}.svg`).join(', ')}`);
    } catch (e) {
      const pend = e instanceof ResultsNotFoundError;
      pend ? pending++ : failed++;
      console.log(`  ${pend ? 'pending' : 'failed '}  ${f.notebook.padEnd(26)} ${(e as Error).message}`);
    }
  }
  console.log(`figures: ${selected.length - failed - pending} ok, ${pending} pending, ${failed} failed`);
  return failed || (pending && !o.allowPending) ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let code: number;
  try {
    const o = parseFigureFlags(process.argv.slice(2));
    if (o.listExperiments) {
      const names = experimentNames(o.only);
      if (!names.length) throw new Error(`--only ${o.only?.join(',')} matches no finding`);
      console.log(names.join('\n'));
      code = 0;
    } else code = writeAllFigures(o);
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    code = 2;
  }
  process.exit(code);
}
