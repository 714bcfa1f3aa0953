/**
 * The catalogue of findings: for each notebook, the experiments whose results it reads and the figure
 * files it must produce. scripts/figures.ts builds from it without Jupyter, and scripts/notebooks.ts
 * checks a notebook's run against it, so the two routes always promise the same files.
 *
 * @module
 */
import { readResults } from './results.ts';
import {
  accVsSgdFigure,
  errorDecompositionFigure,
  finalModelFigure,
  optimizerMismatchFigure,
  selectionBestKFigure,
  selectionValLossFigure,
  taylorErrorHeatmap,
  taylorProxyScatter,
  type TidySummary,
} from './figures.ts';
import type { BuiltFigure } from './write.ts';

/** One finding: its notebook, experiments and figures. */
export interface Finding {
  /** Notebook stem under notebooks/ (also the figure-name prefix). */
  notebook: string;
  title: string;
  /** `lib/cli.ts experiment` names whose results the figures read. */
  experiments: string[];
  /** Figure stems written under figures/ (each as .svg, .plotly.json, .data.json). */
  figures: string[];
  /** Reads the results of `preset` and builds the figures (throws ResultsNotFoundError when missing). */
  build(preset: string): BuiltFigure[];
}

function load(experiment: string, preset: string): [TidySummary, { source: string }] {
  const r = readResults<TidySummary>(experiment, preset);
  return [r.summary, { source: r.source }];
}

/** Every finding, in notebook order. */
export const FINDINGS: Finding[] = [
  {
    notebook: '01-optimizer-mismatch',
    title: 'Optimizer mismatch: SGD-derived estimators vs AdamW-influence',
    experiments: ['optimizer-mismatch'],
    figures: ['01-optimizer-mismatch-spearman', '01-optimizer-mismatch-pearson'],
    build(preset) {
      const [s, o] = load('optimizer-mismatch', preset);
      return [optimizerMismatchFigure(s, { ...o, metric: 'spearman' }), optimizerMismatchFigure(s, { ...o, metric: 'pearson' })];
    },
  },
  {
    notebook: '02-taylor-error',
    title: 'Taylor error vs learning rate and trajectory length',
    experiments: ['taylor-error'],
    figures: ['02-taylor-error-heatmap', '02-taylor-error-proxy'],
    build(preset) {
      const [s, o] = load('taylor-error', preset);
      return [taylorErrorHeatmap(s, o), taylorProxyScatter(s, o)];
    },
  },
  {
    notebook: '03-error-decomposition',
    title: 'Error decomposition: config, algorithm, system',
    experiments: ['error-decomposition'],
    figures: ['03-error-decomposition'],
    build(preset) {
      const [s, o] = load('error-decomposition', preset);
      return [errorDecompositionFigure(s, o)];
    },
  },
  {
    notebook: '04-kstep-selection',
    title: 'K-step look-ahead data selection',
    experiments: ['selection'],
    figures: ['04-kstep-val-loss', '04-kstep-best-k'],
    build(preset) {
      const [s, o] = load('selection', preset);
      return [selectionValLossFigure(s, o), selectionBestKFigure(s, o)];
    },
  },
  {
    notebook: '05-final-model-and-acc',
    title: 'Final-model-only attribution and ACC-SGD-IE over epochs',
    experiments: ['final-model', 'acc-epochs'],
    figures: ['05-final-model-agreement', '05-acc-vs-sgd-ie'],
    build(preset) {
      const [fm, o1] = load('final-model', preset);
      const [acc, o2] = load('acc-epochs', preset);
      return [finalModelFigure(fm, o1), accVsSgdFigure(acc, o2)];
    },
  },
];

/** Experiments reproduce.sh runs, in order: every finding's, then those with no figure yet. */
export const EXPERIMENTS: string[] = [...new Set([...FINDINGS.flatMap((f) => f.experiments), 'cleansing'])];

/** Findings selected by `only` (notebook stems, their numbers such as `01`, or experiment names); all without it. */
export function selectFindings(only?: string[]): Finding[] {
  return FINDINGS.filter((f) => !only || only.some((s) => f.notebook === s || f.notebook.startsWith(`${s}-`) || f.experiments.includes(s)));
}

/** The finding of a notebook stem (or of its number prefix, e.g. `01`). */
export function findingFor(notebook: string): Finding {
  const f = FINDINGS.find((x) => x.notebook === notebook || x.notebook.startsWith(`${notebook}-`));
  if (!f) throw new Error(`no finding for notebook '${notebook}'; known: ${FINDINGS.map((x) => x.notebook).join(', ')}`);
  return f;
}
