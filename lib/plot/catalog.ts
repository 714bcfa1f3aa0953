/**
 * The catalogue of findings: for each notebook, the experiments whose results it reads and the figure
 * files it must produce. scripts/figures.ts builds from it without Jupyter, and scripts/notebooks.ts
 * checks a notebook's run against it, so the two routes always promise the same files.
 *
 * Naming: a notebook stem is `NN_snake_case` (notebooks/NN_name.ts), and every figure stem starts with its
 * notebook's stem (`NN_name` or `NN_name_suffix`), so a figure names the notebook that draws it.
 *
 * @module
 */
import { readResults } from './results.ts';
import {
  accVsSgdFigure,
  cleansingFigure,
  customEstimatorFdFigure,
  customEstimatorSpearmanFigure,
  errorDecompositionFigure,
  finalModelFigures,
  optimizerMismatchFigure,
  optimizerMismatchGainFigure,
  quickstartScatterFigure,
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
    notebook: '00_quickstart',
    title: 'Quickstart: train the MLP, attribute with AdamW-influence, compare with TSLOO',
    experiments: ['quickstart'],
    figures: ['00_quickstart_scatter'],
    build(preset) {
      const [s, o] = load('quickstart', preset);
      return [quickstartScatterFigure(s, o)];
    },
  },
  {
    notebook: '01_optimizer_mismatch',
    title: 'Optimizer mismatch: SGD-derived estimators vs AdamW-influence',
    experiments: ['optimizer-mismatch'],
    figures: ['01_optimizer_mismatch_spearman', '01_optimizer_mismatch_pearson', '01_optimizer_mismatch_gain'],
    build(preset) {
      const [s, o] = load('optimizer-mismatch', preset);
      return [optimizerMismatchFigure(s, { ...o, metric: 'spearman' }), optimizerMismatchFigure(s, { ...o, metric: 'pearson' }), optimizerMismatchGainFigure(s, o)];
    },
  },
  {
    notebook: '02_taylor_error',
    title: 'Taylor error vs learning rate and trajectory length',
    experiments: ['taylor-error'],
    figures: ['02_taylor_error_heatmap', '02_taylor_error_proxy'],
    build(preset) {
      const [s, o] = load('taylor-error', preset);
      return [taylorErrorHeatmap(s, o), taylorProxyScatter(s, o)];
    },
  },
  {
    notebook: '03_error_decomposition',
    title: 'Error decomposition: config, algorithm, system',
    experiments: ['error-decomposition'],
    figures: ['03_error_decomposition'],
    build(preset) {
      const [s, o] = load('error-decomposition', preset);
      return [errorDecompositionFigure(s, o)];
    },
  },
  {
    notebook: '04_lookahead_selection',
    title: 'K-step look-ahead data selection',
    experiments: ['selection'],
    figures: ['04_lookahead_selection_val_loss', '04_lookahead_selection_best_k'],
    build(preset) {
      const [s, o] = load('selection', preset);
      return [selectionValLossFigure(s, o), selectionBestKFigure(s, o)];
    },
  },
  {
    notebook: '05_final_model_only',
    title: 'Final-model-only attribution vs further training',
    experiments: ['final-model'],
    figures: ['05_final_model_only_agreement_sgd', '05_final_model_only_agreement_adamw'],
    build(preset) {
      const [s, o] = load('final-model', preset);
      return finalModelFigures(s, o);
    },
  },
  {
    notebook: '06_accumulative_sgd',
    title: 'ACC-SGD-IE vs SGD-IE over epochs, and data cleansing with them',
    experiments: ['acc-epochs', 'cleansing'],
    figures: ['06_accumulative_sgd_acc_vs_sgd_ie', '06_accumulative_sgd_cleansing'],
    build(preset) {
      const [acc, o1] = load('acc-epochs', preset);
      const [cl, o2] = load('cleansing', preset);
      return [accVsSgdFigure(acc, o1), cleansingFigure(cl, o2)];
    },
  },
  {
    notebook: '07_add_your_estimator',
    title: 'Add your estimator: register it, score it against TSLOO and the finite-difference oracle',
    experiments: ['custom-estimator'],
    figures: ['07_add_your_estimator_spearman', '07_add_your_estimator_fd_error'],
    build(preset) {
      const [s, o] = load('custom-estimator', preset);
      return [customEstimatorSpearmanFigure(s, o), customEstimatorFdFigure(s, o)];
    },
  },
];

/** Experiments reproduce.sh runs, in order: every finding's (each once). */
export const EXPERIMENTS: string[] = [...new Set(FINDINGS.flatMap((f) => f.experiments))];

/** True when `key` is `stem` itself or its number prefix (`01` for `01_optimizer_mismatch`). */
function matchesStem(stem: string, key: string): boolean {
  return stem === key || stem.startsWith(`${key}_`);
}

/** Findings selected by `only` (notebook stems, their numbers such as `01`, or experiment names); all without it. */
export function selectFindings(only?: string[]): Finding[] {
  return FINDINGS.filter((f) => !only || only.some((s) => matchesStem(f.notebook, s) || f.experiments.includes(s)));
}

/** The finding of a notebook stem (or of its number prefix, e.g. `01`). */
export function findingFor(notebook: string): Finding {
  const f = FINDINGS.find((x) => matchesStem(x.notebook, notebook));
  if (!f) throw new Error(`no finding for notebook '${notebook}'; known: ${FINDINGS.map((x) => x.notebook).join(', ')}`);
  return f;
}
