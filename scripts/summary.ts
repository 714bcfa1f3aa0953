/**
 * The headline numbers of a preset, read from the experiments' `results/<experiment>/<preset>/summary.json`
 * (nothing is recomputed), as one table: experiment, cell, quantity, value and 95% CI.
 *
 *     npx tsx scripts/summary.ts [--preset quick] [--only 01,taylor-error] [--out DIR|none] [--json]
 *
 * Prints the table, and writes `<DIR>/headline.md` and `<DIR>/headline.json` (default DIR:
 * `results/reproduce/<preset>`). An experiment without a results file is listed as pending with the
 * command that writes it; a file whose shape is not understood gives one row that says so. Exit 0 unless
 * the flags are wrong.
 *
 * @module
 */
import fs from 'node:fs';
import path from 'node:path';
import { findings, getFinding, selectFindings } from '../lib/findings/registry.ts';
import type { Headline } from '../lib/findings/headline.ts';
import { resultsRoot } from '../lib/pipeline/paths.ts';
import { experimentCommand, readResults, ResultsNotFoundError } from '../lib/plot/results.ts';
import { checkPresetName, eachFlag, listOf, runScript } from './flags.ts';

export type { Headline } from '../lib/findings/headline.ts';
export { fmtLr } from '../lib/findings/headline.ts';

/** A selected experiment whose results file does not exist yet. */
export interface PendingExperiment {
  experiment: string;
  command: string;
}

/** Headline rows of `preset` for the selected findings (default: every registered finding). */
export function headlines(preset: string, experiments: string[] = findings().map((f) => f.id)): { rows: Headline[]; pending: PendingExperiment[] } {
  const rows: Headline[] = [];
  const pending: PendingExperiment[] = [];
  for (const experiment of experiments) {
    let summary: Record<string, unknown>;
    try {
      summary = readResults<Record<string, unknown>>(experiment, preset).summary;
    } catch (e) {
      if (e instanceof ResultsNotFoundError) {
        pending.push({ experiment, command: experimentCommand(experiment, preset) });
        continue;
      }
      rows.push({ experiment, cell: '—', quantity: `unreadable results: ${(e as Error).message}`, value: null });
      continue;
    }
    try {
      const got = getFinding(experiment).headline(summary);
      rows.push(...(got.length ? got : [{ experiment, cell: '—', quantity: 'results hold no headline rows', value: null }]));
    } catch (e) {
      rows.push({ experiment, cell: '—', quantity: `summary.json not understood (${(e as Error).message})`, value: null });
    }
  }
  return { rows, pending };
}

function fmt(v: number | null | undefined, f: Headline['format']): string {
  if (v === null || v === undefined) return '—';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (f === '%' || f === '+%') return `${f === '+%' && v > 0 ? '+' : ''}${(100 * v).toFixed(1)}%`;
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(2) : v.toFixed(3);
}

/** The value column: `value` formatted, and the CI when there is one. */
export function formatValue(h: Headline): { value: string; ci: string } {
  const value = typeof h.value === 'string' ? h.value : fmt(h.value, h.format);
  const ci = h.lo === undefined && h.hi === undefined ? '' : h.lo === null && h.hi === null ? '' : `[${fmt(h.lo, h.format)}, ${fmt(h.hi, h.format)}]`;
  return { value, ci };
}

const HEAD = ['experiment', 'cell', 'quantity', 'value', 'interval'];
const cells = (h: Headline) => {
  const v = formatValue(h);
  return [h.experiment, h.cell, h.quantity, v.value, v.ci];
};

/** The rows as an aligned plain-text table (the terminal summary). */
export function textTable(rows: Headline[]): string {
  const body = rows.map(cells);
  const w = HEAD.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 3 ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ').trimEnd();
  return [line(HEAD), w.map((n) => '-'.repeat(n)).join('  '), ...body.map(line)].join('\n');
}

/** The rows as a Markdown table. */
export function markdownTable(rows: Headline[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [`| ${HEAD.join(' | ')} |`, '|---|---|---|--:|---|', ...rows.map((h) => `| ${cells(h).map(esc).join(' | ')} |`)].join('\n');
}

/** Parsed flags of the CLI. */
export interface SummaryFlags {
  preset: string;
  only?: string[];
  /** Output folder, or null for none. */
  out: string | null;
  json: boolean;
}

/** Parses `--preset`, `--only`, `--out`, `--json`. */
export function parseSummaryFlags(args: string[]): SummaryFlags {
  const o: SummaryFlags = { preset: process.env.FTDA_PRESET || 'quick', out: '', json: false };
  eachFlag(args, (a, value) => {
    if (a === '--preset') o.preset = value();
    else if (a === '--only') o.only = listOf(value());
    else if (a === '--out') o.out = value();
    else if (a === '--json') o.json = true;
    else return false;
    return true;
  }, 'flags: --preset NAME --only LIST --out DIR|none --json');
  checkPresetName(o.preset);
  if (o.out === '') o.out = path.join(resultsRoot(), 'reproduce', o.preset);
  else if (o.out === 'none') o.out = null;
  return o;
}

/** Findings selected by `only` (notebook numbers or stems, or finding ids); all without it. */
export function selectedExperiments(only?: string[]): string[] {
  return selectFindings(only).map((f) => f.id);
}

/** Runs the CLI; returns the exit code. */
export function main(args: string[]): number {
  const o = parseSummaryFlags(args);
  const experiments = selectedExperiments(o.only);
  if (!experiments.length) throw new Error(`--only ${o.only?.join(',')} matches no experiment; known: ${findings().map((f) => f.id).join(', ')}`);
  const { rows, pending } = headlines(o.preset, experiments);
  if (o.json) console.log(JSON.stringify({ preset: o.preset, rows, pending }, null, 1));
  else {
    console.log(`headline numbers, preset ${o.preset} (from results/<experiment>/${o.preset}/summary.json):`);
    console.log(rows.length ? textTable(rows) : '(no results yet)');
    for (const p of pending) console.log(`pending: ${p.experiment} — no results for preset ${o.preset}; run \`${p.command}\``);
  }
  if (o.out) {
    fs.mkdirSync(o.out, { recursive: true });
    const md = [`# Headline numbers, preset ${o.preset}`, '', 'From `results/<experiment>/' + o.preset + '/summary.json` (scripts/summary.ts).', '', rows.length ? markdownTable(rows) : '(no results yet)', '', ...pending.map((p) => `- pending: \`${p.experiment}\` — run \`${p.command}\``), ''].join('\n');
    fs.writeFileSync(path.join(o.out, 'headline.md'), md);
    fs.writeFileSync(path.join(o.out, 'headline.json'), JSON.stringify({ preset: o.preset, rows, pending }, null, 1) + '\n');
  }
  return 0;
}

await runScript(import.meta.url, main);
