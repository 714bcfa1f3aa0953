/**
 * The generated README blocks of the optimizer-mismatch finding (scripts/blocks.ts): the table of fidelity per
 * setting × LR and the gains, read from a summary (nothing is recomputed).
 *
 * @module
 */
import { VARIANTS } from '../../pipeline/variants.ts';
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
