/**
 * The generated README blocks of the optimizer-mismatch finding (scripts/blocks.ts): the table of fidelity per
 * setting × LR and the gains, read from a summary (nothing is recomputed).
 *
 * @module
 */
import { ABLATION_IDS, VARIANTS } from '../../pipeline/variants.ts';
import { fmtLr } from '../headline.ts';
import type { MismatchSummary } from './experiment.ts';

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3).replace('-', '−') : '–');
const pct = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : '−'}${Math.abs(100 * x) >= 100 ? Math.abs(100 * x).toFixed(0) : Math.abs(100 * x).toPrecision(2)}` : '–');
const signed = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}` : '–');

/**
 * Spearman ρ with TSLOO, mean [95 % CI over seeds then queries], of TracIn, SGD-influence and AdamW-influence
 * (exact) on the AdamW runs, with the relative gain and the paired difference of AdamW-influence over
 * SGD-influence, and the Pearson gain. One row per setting × LR.
 */
export function mismatchTable(s: MismatchSummary): string {
  const [tr, sgd, adw] = [VARIANTS.tracin.id, VARIANTS.sgdInfluence.id, VARIANTS.adamwExact.id];
  const groups = [...new Map(s.rows.filter((r) => r.optimizer !== 'sgd').map((r) => [`${r.setting}|${r.lr}`, r])).values()];
  const cell = (setting: string, lr: number, id: string) => {
    const r = s.rows.find((x) => x.setting === setting && x.lr === lr && x.optimizer !== 'sgd' && x.metric === 'spearman' && x.estimatorId === id);
    return r ? `${f3(r.mean)} [${f3(r.lo)}, ${f3(r.hi)}]` : '–';
  };
  const gain = (setting: string, lr: number, metric: string) => s.gains.find((g) => g.setting === setting && g.lr === lr && g.optimizer !== 'sgd' && g.metric === metric && g.aId === adw && g.bId === sgd);
  const lines = [
    `| setting | LR | seeds | n: all (exact) | TracIn | SGD-influence | AdamW-influence (exact) | gain, Spearman | Δρ, Spearman | gain, Pearson |`,
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const g of groups) {
    const all = s.rows.find((x) => x.setting === g.setting && x.lr === g.lr && x.optimizer !== 'sgd' && x.metric === 'spearman' && x.estimatorId === tr);
    const gs = gain(g.setting, g.lr, 'spearman');
    const gp = gain(g.setting, g.lr, 'pearson');
    lines.push(
      `| ${g.setting} | ${fmtLr(g.lr)} | ${g.seeds.join(', ')} | ${all?.n ?? '–'} (${gs?.n ?? '–'}) | ${cell(g.setting, g.lr, tr)} | ${cell(g.setting, g.lr, sgd)} | ${cell(g.setting, g.lr, adw)} | ` +
        `${gs ? `${pct(gs.gain)} % [${pct(gs.lo)}, ${pct(gs.hi)}]` : '–'} | ${gs ? `${signed(gs.diff)} [${signed(gs.diffLo)}, ${signed(gs.diffHi)}]` : '–'} | ${gp ? `${pct(gp.gain)} % [${pct(gp.lo)}, ${pct(gp.hi)}]` : '–'} |`,
    );
  }
  return lines.join('\n');
}

/**
 * The two controls, one line each per setting × LR that has them: what each part of AdamW is worth (the full
 * estimator over each partial-accounting ablation, paired on the ablation's queries), and the SGD run, where
 * SGD-influence is the matched estimator (its gain over TracIn).
 */
export function mismatchControls(s: MismatchSummary): string {
  const adw = VARIANTS.adamwExact.id;
  const lines: string[] = [];
  const ablations = s.gains.filter((g) => g.aId === adw && ABLATION_IDS.includes(g.bId) && g.metric === 'spearman');
  for (const key of [...new Set(ablations.map((g) => `${g.setting}|${g.lr}`))]) {
    const gs = ablations.filter((g) => `${g.setting}|${g.lr}` === key);
    lines.push(`- ${gs[0].setting}, LR ${fmtLr(gs[0].lr)}: AdamW-influence (exact) over ${gs.map((g) => `${g.b.replace('AdamW-influence ', '')} ${pct(g.gain)} % [${pct(g.lo)}, ${pct(g.hi)}]`).join('; ')} (Spearman, ${gs[0].n} paired seed·query values).`);
  }
  const control = s.gains.filter((g) => g.optimizer === 'sgd' && g.aId === VARIANTS.sgdInfluence.id && g.bId === VARIANTS.tracin.id && g.metric === 'spearman');
  for (const g of control) {
    const row = (id: string) => s.rows.find((r) => r.setting === g.setting && r.lr === g.lr && r.optimizer === 'sgd' && r.metric === 'spearman' && r.estimatorId === id);
    const [a, b] = [row(VARIANTS.sgdInfluence.id), row(VARIANTS.tracin.id)];
    lines.push(`- SGD run (${g.setting}, LR ${fmtLr(g.lr)}): SGD-influence ${a ? `${f3(a.mean)} [${f3(a.lo)}, ${f3(a.hi)}]` : '–'} against TracIn ${b ? `${f3(b.mean)} [${f3(b.lo)}, ${f3(b.hi)}]` : '–'}, a gain of ${pct(g.gain)} % [${pct(g.lo)}, ${pct(g.hi)}].`);
  }
  return lines.join('\n');
}
