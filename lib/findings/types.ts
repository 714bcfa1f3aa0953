/**
 * The contract of a finding: one folder under lib/findings/ holds its experiment (presets, rows), its figures
 * and its headline numbers, and exports one {@link Finding}. The CLI, reproduce.sh, the figure builder, the
 * headline summary and the notebook runner iterate the registry (registry.ts) and know no finding by name.
 *
 * Adding a finding = one folder with an `index.ts` exporting a Finding + one line in registry.ts (or
 * `registerFinding` from user code); notebooks/07_add_your_estimator shows the same for estimators.
 *
 * @module
 */
import type { BuildOptions, BuiltFigure } from '../plot/tidy.ts';
import type { Headline } from './headline.ts';

/** The list flags a finding may take (each a comma-separated list checked against the preset's grid). */
export type ListFlag = 'settings' | 'lrs' | 'seeds' | 'steps' | 'budgets' | 'datasets';

/** A value list per list flag: setting names, learning rates, seeds, trajectory lengths, budgets, dataset names. */
export interface Lists {
  settings?: string[];
  lrs?: number[];
  seeds?: number[];
  steps?: number[];
  budgets?: number[];
  datasets?: string[];
}

/** The values a preset's grid allows for each list flag (absent: the flag is not restricted). */
export interface Grid extends Lists {
  /** For a `seedCount` finding: the largest count the preset allows. */
  maxSeedCount?: number;
}

/** What a run is restricted to (the lists), and where it writes. */
export interface RunOptions extends Lists {
  /** Summarise what is on disk, compute nothing. */
  cachedOnly?: boolean;
  /** Start no new cached cell after this many seconds (the summary says it is incomplete; rerun to resume). */
  budgetSeconds?: number;
  /** `--seeds N` of a `seedCount` finding: how many seeds (not which). */
  seedCount?: number;
  /** Results root of this finding (default `<results>/<id>`); files go to `<outDir>/<preset>/`. */
  outDir?: string;
  /** Cache root (default `<results>/cache`). */
  cacheDir?: string;
}

/** Which command-line flags a finding takes beyond `--preset` and `--backend`. */
export interface FindingFlags {
  lists: ListFlag[];
  /** `--cached-only`. */
  cachedOnly?: boolean;
  /** `--budget SECONDS`. */
  budget?: boolean;
  /** `--seeds N` is a count (final-model), not a list. */
  seedCount?: boolean;
}

/** One figure of a finding: its file stem and how it is built from the finding's summary. */
export interface FigureSpec<S = never> {
  /** File stem under figures/ (starts with the notebook stem). */
  name: string;
  build(summary: S, o: BuildOptions): BuiltFigure;
}

/** A finding of the study. */
export interface Finding<S = never> {
  /** Stable id: the CLI's `experiment <id>` and the results folder `results/<id>/`. */
  id: string;
  title: string;
  /** Notebook stem under notebooks/ that shows it (several findings may share one). */
  notebook: string;
  /** Preset names. */
  presets(): string[];
  flags: FindingFlags;
  /** The values each list flag may take in `preset` (lrs and steps restricted to `settings` when given). */
  grid(preset: string, settings?: string[]): Grid;
  /** Computes (cached) and writes `<outDir>/<preset>/summary.json` + tables; returns the summary. */
  run(preset: string, o: RunOptions): Promise<S>;
  /** The lines the CLI prints after a run. */
  report(summary: S): string[];
  figures: FigureSpec<S>[];
  /** The headline numbers of a summary (scripts/summary.ts; README and notebooks quote them). */
  headline(summary: S): Headline[];
  /**
   * Markdown blocks generated from a summary, by name: scripts/blocks.ts writes each between the markers
   * `<!-- results:<id>/<name> <preset> -->` … `<!-- /results -->` of the README (and docs), so no measured number
   * there is typed by hand; `--check` (CI) fails when a block differs from its results file.
   */
  blocks?: Record<string, (summary: S) => string>;
}

/** A finding of any summary type (what the registry holds). */
// deno-lint-ignore no-explicit-any
export type AnyFinding = Finding<any>;
