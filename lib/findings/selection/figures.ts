/**
 * Figures of the K-step look-ahead selection finding (notebook 04).
 *
 * @module
 */
import { checkShape, data, lineFromRows, note, numberOf, presetOf, rowsOf, sortRows, varyingLabel, type BuildOptions, type BuiltFigure, type Row, type TidySummary } from '../../plot/tidy.ts';

const SELECTION_SHAPE = '{setting, lr, budget?, method, K (number | "offline"), valLoss, testLoss?, testLossLo?, testLossHi?} (+ bestK: [{setting, lr, budget?, family, bestK}]) (lib/findings/selection/experiment.ts)';

/** Methods drawn as flat baselines in the loss-vs-K figure. */
const BASELINES = ['offline', 'random-online', 'none'];

/** Options of the selection builders. */
export interface SelectionOptions extends BuildOptions {
  /** Selection method whose lines are drawn (default `online`; rows without a method column are all kept). */
  method?: string;
  /** Value column (default `valLoss`); `testLoss` gets the bootstrap band from `testLossLo`/`testLossHi`. */
  y?: 'valLoss' | 'testLoss';
}

/**
 * Figure 4a — K-step look-ahead selection: loss after selection vs look-ahead K, one line per learning rate
 * (and budget / setting when several). Rows with K = 'offline' are not on the K axis. Name `04_lookahead_selection_val_loss`.
 */
export function selectionValLossFigure(summary: TidySummary, o: SelectionOptions = {}): BuiltFigure {
  const what = 'selection loss-vs-K figure';
  const all = rowsOf(summary, what, SELECTION_SHAPE);
  const method = o.method ?? 'online';
  const byMethod = all.some((r) => 'method' in r) ? all.filter((r) => r.method === method) : all;
  if (!byMethod.length) throw new Error(`${what}: no rows with method '${method}' (have: ${[...new Set(all.map((r) => String(r.method)))].join(', ')})`);
  const kCol = byMethod.every((r) => 'K' in r) ? 'K' : 'k';
  const y = o.y ?? 'valLoss';
  checkShape(byMethod, ['lr', kCol, y], what, SELECTION_SHAPE);
  const rows = byMethod.filter((r) => typeof r[kCol] === 'number');
  if (!rows.length) throw new Error(`${what}: no rows with a numeric ${kCol} for method '${method}'`);
  const ci = rows.every((r) => `${y}Lo` in r && `${y}Hi` in r);
  const spec = lineFromRows(
    sortRows(rows, ['setting', 'budget', 'lr']),
    { x: kCol, y, series: varyingLabel(rows, ['setting', 'budget', 'lr'], ['lr']), lo: ci ? `${y}Lo` : undefined, hi: ci ? `${y}Hi` : undefined },
    {
      title: `K-step look-ahead selection: ${y === 'valLoss' ? 'validation' : 'test'} loss vs K`,
      subtitle: `preset ${presetOf(summary, rows)} · method ${method} · one line per learning rate${ci ? ' · bands: 95% bootstrap CI' : ''}`,
      xLabel: 'look-ahead K (steps)',
      yLabel: `${y === 'valLoss' ? 'validation' : 'test'} loss after selection`,
      note: note(o),
    },
  );
  // Baselines at the same budget, as dashed flat lines (one colour per method): the offline selection (scored once on
  // the reference run), random selection, and training on everything (`none`).
  const ks = rows.map((r) => numberOf(r, kCol));
  const [k0, k1] = [Math.min(...ks), Math.max(...ks)];
  const keyOf = (r: Row) => `${r.setting ?? ''}|${r.budget ?? ''}|${r.lr}`;
  const label = varyingLabel(rows, ['setting', 'budget', 'lr'], ['lr']);
  const lineOf = new Map(rows.map((r) => [keyOf(r), label(r)]));
  const baselines = all.filter((r) => BASELINES.includes(String(r.method)) && Number.isFinite(numberOf(r, y)) && (lineOf.has(keyOf(r)) || (r.method === 'none' && [...lineOf.keys()].some((k) => k.startsWith(`${r.setting ?? ''}|`) && k.endsWith(`|${r.lr}`)))));
  const added: string[] = [];
  for (const b of baselines) {
    const key = lineOf.has(keyOf(b)) ? keyOf(b) : [...lineOf.keys()].find((k) => k.startsWith(`${b.setting ?? ''}|`) && k.endsWith(`|${b.lr}`))!;
    const line = lineOf.get(key)!;
    const color = spec.series.findIndex((x) => x.name === line);
    const name = `${line} · ${b.method === 'none' ? 'all data' : b.method}`;
    if (color < 0 || spec.series.some((x) => x.name === name)) continue;
    // one colour per baseline method, after the lines' colours; dashed
    const methodColor = lineOf.size + BASELINES.indexOf(String(b.method));
    spec.series.push({ name, x: k0 === k1 ? [k0] : [k0, k1], y: k0 === k1 ? [numberOf(b, y)] : [numberOf(b, y), numberOf(b, y)], color: methodColor, dash: true });
    added.push(String(b.method));
  }
  if (added.length) spec.subtitle += ` · dashed: ${[...new Set(added)].map((m) => (m === 'none' ? 'all data' : m)).join(', ')}`;
  return { name: '04_lookahead_selection_val_loss', spec, data: data(o, [...rows, ...baselines]) };
}

/**
 * Figure 4b — best K per learning rate, one line per horizon family. Reads `bestK` (or `best`) rows
 * `{lr, bestK | k, family?}`; without them, takes the argmin of valLoss over numeric K per (setting, LR).
 * A best K of 'offline' is not a number and shows as a gap. Name `04_lookahead_selection_best_k`.
 */
export function selectionBestKFigure(summary: TidySummary, o: SelectionOptions = {}): BuiltFigure {
  const what = 'selection best-K figure';
  const s = summary as TidySummary & { bestK?: readonly object[] };
  let best = (Array.isArray(s.bestK) ? s.bestK : Array.isArray(s.best) ? s.best : undefined) as Row[] | undefined;
  let derived = false;
  if (!best) {
    const rows = rowsOf(summary, what, SELECTION_SHAPE).filter((r) => !('method' in r) || r.method === (o.method ?? 'online'));
    const kCol = rows.every((r) => 'K' in r) ? 'K' : 'k';
    checkShape(rows, ['lr', kCol, 'valLoss'], what, SELECTION_SHAPE);
    const groups = new Map<string, Row>();
    for (const r of rows) {
      if (typeof r[kCol] !== 'number' || !Number.isFinite(numberOf(r, 'valLoss'))) continue;
      const key = `${r.setting ?? ''}|${r.budget ?? ''}|${r.lr}`;
      const cur = groups.get(key);
      if (!cur || numberOf(r, 'valLoss') < numberOf(cur, 'valLoss')) groups.set(key, r);
    }
    best = [...groups.values()].map((r) => ({ setting: r.setting, budget: r.budget, lr: r.lr, family: 'argmin valLoss', bestK: r[kCol] }));
    derived = true;
  }
  const kCol = best.every((r) => 'bestK' in r) ? 'bestK' : 'k';
  checkShape(best, ['lr', kCol], what, SELECTION_SHAPE);
  const spec = lineFromRows(
    sortRows(best, ['setting', 'budget', 'lr']),
    { x: 'lr', y: kCol, series: varyingLabel(best, ['setting', 'budget', 'family'], best.every((r) => 'family' in r) ? ['family'] : []) },
    {
      title: 'Best look-ahead K vs learning rate',
      subtitle: `preset ${presetOf(summary, best)}${derived ? ' · best K = argmin of validation loss over K' : ' · best K by mean test loss'} · 'offline' shows as a gap`,
      xLabel: 'learning rate',
      yLabel: 'best K (steps)',
      xLog: best.every((r) => numberOf(r, 'lr') > 0),
      // K ≥ 0: the axis starts at 0 (a range of −1…1 around a single K = 0 suggested negative horizons)
      yDomain: [0, Math.max(1, ...best.map((r) => numberOf(r, kCol)).filter((v) => Number.isFinite(v)))],
      note: note(o),
    },
  );
  return { name: '04_lookahead_selection_best_k', spec, data: data(o, best) };
}
