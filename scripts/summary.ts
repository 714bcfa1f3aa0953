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
import { fileURLToPath } from 'node:url';
import { EXPERIMENTS, selectFindings } from '../lib/plot/catalog.ts';
import { projectPath } from '../lib/plot/paths.ts';
import { experimentCommand, readResults, ResultsNotFoundError } from '../lib/plot/results.ts';
import { checkPresetName, eachFlag, listOf } from './flags.ts';

/** One headline number. */
export interface Headline {
  experiment: string;
  /** Which setting / cell it is about, e.g. `mlp lr 1e-3`. */
  cell: string;
  quantity: string;
  /** A number, or a label (e.g. the best K of a selection run); null when the run produced none. */
  value: number | string | null;
  lo?: number | null;
  hi?: number | null;
  /** How to print `value`, `lo` and `hi`: plain (3 decimals), `%` (×100) or signed `+%` (relative change). */
  format?: 'num' | '%' | '+%';
}

type Obj = Record<string, unknown>;
type Extractor = (s: Obj, experiment: string) => Headline[];

const arr = (s: Obj, key: string): Obj[] => {
  const v = s[key];
  if (!Array.isArray(v)) throw new Error(`no '${key}' array`);
  return v as Obj[];
};
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const uniq = <T>(xs: T[]): T[] => [...new Set(xs)];
/** `0.001` → `1e-3`; other numbers as they are. */
export function fmtLr(lr: unknown): string {
  if (typeof lr !== 'number') return String(lr);
  const e = lr.toExponential();
  return /^\d(\.0+)?e/.test(e) ? e.replace(/\.0+e/, 'e').replace('e+', 'e') : String(lr);
}

/** Spearman ρ against TSLOO per estimator, from rows of the fidelity shape (setting, lr, estimator, metric, mean, lo, hi). */
function fidelitySpearman(s: Obj, experiment: string, label = (r: Obj) => String(r.estimator)): Headline[] {
  return arr(s, 'rows')
    .filter((r) => r.metric === 'spearman')
    .map((r) => ({ experiment, cell: `${r.setting} lr ${fmtLr(r.lr)}`, quantity: `Spearman ρ vs TSLOO, ${label(r)}`, value: num(r.mean), lo: num(r.lo), hi: num(r.hi) }));
}

/** Extractors per experiment name; each returns that experiment's headline rows. */
export const EXTRACTORS: Record<string, Extractor> = {
  quickstart: (s, experiment) => fidelitySpearman(s, experiment),
  'custom-estimator'(s, experiment) {
    const out = fidelitySpearman(s, experiment);
    for (const r of arr(s, 'rows').filter((r) => r.metric === 'fdRelErr' && r.kind === 'yours')) {
      out.push({ experiment, cell: `${r.setting} lr ${fmtLr(r.lr)}`, quantity: `relative error vs finite differences, ${r.estimator} (min–max)`, value: num(r.mean), lo: num(r.lo), hi: num(r.hi) });
    }
    return out;
  },
  'optimizer-mismatch'(s, experiment) {
    const rows = arr(s, 'rows');
    const out: Headline[] = [];
    for (const g of arr(s, 'gains').filter((g) => g.metric === 'spearman')) {
      // `optimizer` is absent in summaries written before the SGD control existed (all AdamW runs then)
      const opt = (x: Obj) => (x.optimizer as string | undefined) ?? 'adamw';
      const cell = `${g.setting}${opt(g) === 'sgd' ? ' (SGD run)' : ''} lr ${fmtLr(g.lr)}`;
      for (const est of [g.a, g.b]) {
        const r = rows.find((x) => x.setting === g.setting && x.lr === g.lr && opt(x) === opt(g) && x.metric === 'spearman' && x.estimator === est);
        out.push({ experiment, cell, quantity: `Spearman ρ vs TSLOO, ${est}`, value: num(r?.mean), lo: num(r?.lo), hi: num(r?.hi) });
      }
      out.push({ experiment, cell, quantity: `relative gain of ${g.a} over ${g.b}`, value: num(g.gain), lo: num(g.lo), hi: num(g.hi), format: '+%' });
    }
    return out;
  },
  'taylor-error'(s, experiment) {
    return arr(s, 'correlations')
      .filter((c) => c.primary === true)
      .map((c) => ({ experiment, cell: String(c.setting), quantity: `Spearman(${c.proxy}, ${c.error}) over ${c.cells} cells`, value: num(c.spearman), lo: num(c.lo), hi: num(c.hi) }));
  },
  'error-decomposition'(s, experiment) {
    const rows = arr(s, 'rows');
    const out: Headline[] = [];
    const key = (r: Obj) => `${r.setting}|${r.lr}|${r.seed}`;
    for (const k of uniq(rows.map(key))) {
      const cellRows = rows.filter((r) => key(r) === k);
      const ks = uniq(cellRows.map((r) => r.k as number)).sort((a, b) => a - b);
      const r0 = cellRows[0];
      const cell = `${r0.setting} lr ${fmtLr(r0.lr)} seed ${r0.seed}`;
      for (const r of cellRows.filter((r) => r.k === ks[0] && r.component !== 'total' && !String(r.component).includes('stride'))) {
        out.push({ experiment, cell, quantity: `share of squared error, ${r.component} (k=${r.k})`, value: num(r.share), lo: num(r.lo), hi: num(r.hi), format: '%' });
      }
      const kMax = ks[ks.length - 1];
      const stride = cellRows.find((r) => r.k === kMax && String(r.component).includes('stride'));
      if (stride && kMax !== ks[0]) out.push({ experiment, cell, quantity: `share of squared error, ${stride.component} (k=${kMax})`, value: num(stride.share), lo: num(stride.lo), hi: num(stride.hi), format: '%' });
    }
    return out;
  },
  selection(s, experiment) {
    const out: Headline[] = [];
    for (const b of arr(s, 'bestK')) {
      const cell = `${b.setting} lr ${fmtLr(b.lr)} budget ${Math.round(100 * (b.budget as number))}% ${b.family}`;
      out.push({ experiment, cell, quantity: 'best K by test loss', value: b.bestK === '' || b.bestK === undefined || b.bestK === null ? null : String(b.bestK) });
      out.push({ experiment, cell, quantity: 'Δ test loss, best K − offline', value: num(b.dVsOffline), lo: num(b.dVsOfflineLo), hi: num(b.dVsOfflineHi) });
    }
    return out;
  },
  'final-model'(s, experiment) {
    const rows = arr(s, 'rows').filter((r) => r.metric === 'spearman');
    const out: Headline[] = [];
    for (const ds of uniq(rows.map((r) => `${r.dataset}|${r.variant}`))) {
      const rs = rows.filter((r) => `${r.dataset}|${r.variant}` === ds);
      const epoch = Math.max(...rs.map((r) => r.epoch as number));
      const last = rs.filter((r) => r.epoch === epoch);
      const cell = `${last[0].dataset} ${last[0].variant}, epoch ${epoch}`;
      const finalOnly = last.filter((r) => !/GT|traj/i.test(String(r.method))).sort((a, b) => (num(b.mean) ?? -Infinity) - (num(a.mean) ?? -Infinity));
      const pick = [finalOnly[0], last.find((r) => /traj/i.test(String(r.method))), last.find((r) => /^GT/.test(String(r.method)))].filter(Boolean) as Obj[];
      for (const r of pick) {
        const role = r === finalOnly[0] ? 'best final-model-only: ' : '';
        out.push({ experiment, cell, quantity: `Spearman ρ vs further training, ${role}${r.method}`, value: num(r.mean), lo: num(r.lo), hi: num(r.hi) });
      }
    }
    return out;
  },
  'acc-epochs'(s, experiment) {
    const rows = arr(s, 'rows').filter((r) => r.metric === 'kendall-tau');
    const out: Headline[] = [];
    for (const ds of uniq(rows.map((r) => String(r.dataset)))) {
      const rs = rows.filter((r) => r.dataset === ds);
      const epochs = Math.max(...rs.map((r) => r.epochs as number));
      for (const r of rs.filter((r) => r.epochs === epochs)) {
        const sem = num(r.sem);
        const m = num(r.mean);
        out.push({ experiment, cell: `${ds}, ${epochs} epochs`, quantity: `Kendall τ vs TSLOO, ${r.estimator} (± 2 SEM over seeds)`, value: m, lo: m !== null && sem !== null ? m - 2 * sem : null, hi: m !== null && sem !== null ? m + 2 * sem : null });
      }
    }
    return out;
  },
  cleansing(s, experiment) {
    const rows = arr(s, 'rows');
    const out: Headline[] = [];
    for (const k of uniq(rows.map((r) => `${r.dataset}|${r.labelNoise}`))) {
      const rs = rows.filter((r) => `${r.dataset}|${r.labelNoise}` === k);
      const frac = Math.max(...rs.map((r) => r.fraction as number));
      for (const r of rs.filter((r) => r.fraction === frac && r.method !== 'none')) {
        out.push({ experiment, cell: `${r.dataset}, label noise ${Math.round(100 * (r.labelNoise as number))}%, remove ${Math.round(100 * frac)}%`, quantity: `Δ test loss after removal, ${r.method}`, value: num(r.testLossDeltaMean) });
      }
    }
    return out;
  },
};

/** A selected experiment whose results file does not exist yet. */
export interface PendingExperiment {
  experiment: string;
  command: string;
}

/** Headline rows of `preset` for the selected experiments (default: every experiment of the catalogue). */
export function headlines(preset: string, experiments: string[] = EXPERIMENTS): { rows: Headline[]; pending: PendingExperiment[] } {
  const rows: Headline[] = [];
  const pending: PendingExperiment[] = [];
  for (const experiment of experiments) {
    let summary: Obj;
    try {
      summary = readResults<Obj>(experiment, preset).summary;
    } catch (e) {
      if (e instanceof ResultsNotFoundError) {
        pending.push({ experiment, command: experimentCommand(experiment, preset) });
        continue;
      }
      rows.push({ experiment, cell: '—', quantity: `unreadable results: ${(e as Error).message}`, value: null });
      continue;
    }
    const x = EXTRACTORS[experiment];
    if (!x) {
      rows.push({ experiment, cell: '—', quantity: 'no headline extractor for this experiment (scripts/summary.ts)', value: null });
      continue;
    }
    try {
      const got = x(summary, experiment);
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
  if (o.out === '') o.out = projectPath('results', 'reproduce', o.preset);
  else if (o.out === 'none') o.out = null;
  return o;
}

/** Experiments selected by `only` (finding numbers, notebook stems or experiment names); all without it. */
export function selectedExperiments(only?: string[]): string[] {
  if (!only) return EXPERIMENTS;
  const fromFindings = selectFindings(only).flatMap((f) => f.experiments);
  return uniq([...fromFindings, ...EXPERIMENTS.filter((e) => only.includes(e))]);
}

/** Runs the CLI; returns the exit code. */
export function main(args: string[]): number {
  const o = parseSummaryFlags(args);
  const experiments = selectedExperiments(o.only);
  if (!experiments.length) throw new Error(`--only ${o.only?.join(',')} matches no experiment; known: ${EXPERIMENTS.join(', ')}`);
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

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let code: number;
  try {
    code = main(process.argv.slice(2));
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    code = 2;
  }
  process.exit(code);
}
