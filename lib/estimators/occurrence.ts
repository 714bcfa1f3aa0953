/**
 * Which (sample, step) pairs an estimator sums over, from the batch plan and the occurrence rule.
 *
 * @module
 */
import type { Occurrence } from '../train/trajectory.ts';

/** A row contribution at one step: result row `row`, training id `id`, position `pos` inside batch t. */
export interface RowAtStep {
  row: number;
  id: number;
  pos: number;
}

/**
 * For each step t, the selected samples whose removal is modelled at t.
 * @param batches the plan, `batches[t]` = ids of step t
 * @param trainIds the rows (duplicates are an error)
 * @returns `perStep[t]` (empty array when none)
 */
export function occurrenceRows(batches: number[][], trainIds: number[], occurrence: Occurrence = 'all'): RowAtStep[][] {
  const rowOf = new Map<number, number>();
  trainIds.forEach((id, r) => {
    if (rowOf.has(id)) throw new Error(`trainIds: id ${id} appears twice (rows ${rowOf.get(id)} and ${r})`);
    rowOf.set(id, r);
  });
  const all: { t: number; r: RowAtStep }[] = [];
  batches.forEach((b, t) =>
    b.forEach((id, pos) => {
      const row = rowOf.get(id);
      if (row !== undefined) all.push({ t, r: { row, id, pos } });
    })
  );
  let keep: { t: number; r: RowAtStep }[];
  if (occurrence === 'all') keep = all;
  else if (occurrence === 'first' || occurrence === 'last') {
    const pick = new Map<number, { t: number; r: RowAtStep }>();
    for (const e of all) {
      if (occurrence === 'last' || !pick.has(e.r.id)) pick.set(e.r.id, e);
    }
    keep = [...pick.values()];
  } else if (typeof occurrence === 'object' && Number.isInteger(occurrence.step)) {
    keep = all.filter((e) => e.t === occurrence.step);
  } else {
    throw new Error(`occurrence must be 'all' | 'first' | 'last' | {step}, got ${JSON.stringify(occurrence)}`);
  }
  const perStep: RowAtStep[][] = batches.map(() => []);
  for (const e of keep) perStep[e.t].push(e.r);
  return perStep;
}
