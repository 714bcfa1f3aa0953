/**
 * Grid helpers for findings whose presets are rows of settings (`{grids: [{setting, lrs, steps?}], seeds}`): the
 * values their list flags may take.
 *
 * @module
 */
import type { Grid } from './types.ts';

/** Union of a preset's row values, for the rows of the chosen settings. */
export function rowsUnion<R extends { setting: string }, T extends number | string>(rows: readonly R[], pick: (r: R) => readonly T[] | undefined, settings?: string[]): T[] {
  return [...new Set(rows.filter((r) => !settings || settings.includes(r.setting)).flatMap((r) => [...(pick(r) ?? [])]))];
}

/** The grid of a settings × LRs (× steps) × seeds preset; LRs and steps of the chosen settings only. */
export function settingRowsGrid(p: { grids: readonly { setting: string; lrs: number[]; steps?: number[] }[]; seeds: number[] }, settings?: string[]): Grid {
  return {
    settings: rowsUnion(p.grids, (g) => [g.setting]),
    lrs: rowsUnion(p.grids, (g) => g.lrs, settings),
    steps: rowsUnion(p.grids, (g) => g.steps, settings),
    seeds: p.seeds,
  };
}
