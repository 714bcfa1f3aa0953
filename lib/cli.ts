/**
 * Command-line entry point, the same source under Node and Deno:
 *
 *     tsx lib/cli.ts <command> [flags]           (npm run demo = tsx lib/cli.ts demo)
 *     deno run -A lib/cli.ts <command> [flags]
 *
 * Commands: `demo` (train the MLP setting, print its loss curve, write `<out>/summary.json`) and `help`.
 * Exit codes: 0 success, 1 a failure while running, 2 a usage error (unknown command, flag or value).
 *
 * @module
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BACKEND_CHOICES, initBackend, runtimeInfo, type BackendChoice } from './runtime/backend.ts';
import { cliArgs, flagValue } from './runtime/env.ts';
import { tf } from './runtime/tf.ts';
import { CacheMismatchError, exitCode, FtdaError, UsageError } from './runtime/errors.ts';
import { checkIn, parseIndex, parseIndexList, parseNameList, parseNumber, parseNumberList } from './runtime/flags.ts';
import { type Dataset } from './data/dataset.ts';
import { makeBatch } from './data/batch.ts';
import type { Model, Params } from './models/types.ts';
import { describeHash, loadMlpSetting, MLP_DEFAULT_LR, MLP_SETTING_PRESETS } from './settings/index.ts';
import { train } from './train/trainer.ts';
import { TrajectoryStore } from './train/store.ts';
import { writeAtomic } from './cache/integrity.ts';
import { trajectoryHash } from './train/trajectory.ts';
import type { StepInfo } from './train/engine.ts';

export { UsageError } from './runtime/errors.ts';

/** Parsed flags of `demo`. */
export interface DemoOptions {
  preset: string;
  seed: number;
  lr: number;
  backend?: BackendChoice;
  out: string;
}

const DEMO_FLAGS = ['preset', 'seed', 'lr', 'backend', 'out'] as const;

const HELP = `faithful-tda — how faithful is trajectory-based training-data attribution?

usage: tsx lib/cli.ts <command> [flags]        (or: deno run -A lib/cli.ts <command> [flags])

commands:
  demo    train the paper's MNIST MLP (784-16-16-10, AdamW), store its trajectory, print the loss curve
            --preset quick|full|paper  data size (default quick: ${MLP_SETTING_PRESETS.quick.trainSize} train / ${MLP_SETTING_PRESETS.quick.testSize} test; full = paper: ${MLP_SETTING_PRESETS.full.trainSize} / ${MLP_SETTING_PRESETS.full.testSize})
            --seed N                   subsets, init and batch order (default 0)
            --lr X                     constant learning rate (default ${MLP_DEFAULT_LR})
            --backend ${BACKEND_CHOICES.join('|')}  tfjs backend (default: FTDA_BACKEND, else auto)
            --out DIR                  output folder (default results/demo/<preset>-seed<seed>-lr<lr>): trajectory/ + summary.json
          an interrupted run resumes from <out>/trajectory; a finished one is reused.
  experiment NAME   run a finding's experiment and write its result files under results/NAME/<preset>/
            names: optimizer-mismatch (also takes --settings mlp,cnn and --cached-only: summarise the cells
                   already computed, compute nothing), selection (selection also takes --settings mlp,cnn and --budgets 0.5,0.8),
                   final-model, acc-epochs, cleansing (these take --preset, --seeds, --datasets adult,mnist and
                   --budget SECONDS: no new cached cell after that; rerun to resume),
                   taylor-error (also takes --steps 10,25), error-decomposition (both also take --settings and
                   --cached-only; --settings limits what is computed, the summary covers every cell on disk),
                   quickstart, custom-estimator (notebooks 00 and 07: --preset, --backend only)
            --preset quick|full|paper   (default quick; paper: optimizer-mismatch, GPU backend + checkpoints for gpt2/llama)
            --lrs 1e-3,1e-4             restrict the preset's learning rates
            --seeds 0,1,2               restrict the preset's seeds
            --backend ${BACKEND_CHOICES.join('|')}
          every phase (trajectory, TSLOO, estimator scores) is cached under results/cache and resumable.
  help    print this message

environment: FTDA_BACKEND, FTDA_DATA_MIRROR, FTDA_DATA_DIR, FTDA_OFFLINE (see README.md).
`;

/**
 * Parses `--name value` / `--name=value` flags, accepting only `known` names.
 * @throws UsageError on an unknown flag, a flag without a value, or a stray positional argument
 */
export function parseFlags(args: string[], known: readonly string[], switches: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument '${a}' (flags look like --name value)`);
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    if (!known.includes(name)) throw new UsageError(`unknown flag '--${name}'; known: ${known.map((k) => '--' + k).join(', ')}`);
    let value: string | undefined;
    if (switches.includes(name)) {
      // a switch takes no value
      if (eq >= 0) throw new UsageError(`flag '--${name}' takes no value`);
      out[name] = 'true';
      continue;
    }
    if (eq >= 0) value = a.slice(eq + 1);
    else if (i + 1 < args.length && !args[i + 1].startsWith('--')) value = args[++i];
    if (value === undefined || value === '') throw new UsageError(`flag '--${name}' needs a value`);
    out[name] = value;
  }
  return out;
}

/**
 * Validates the flags of `demo` and fills in defaults.
 * @throws UsageError naming the flag and the accepted values
 */
export function demoOptions(args: string[]): DemoOptions {
  const f = parseFlags(args, DEMO_FLAGS);
  const presets = Object.keys(MLP_SETTING_PRESETS);
  const preset = f.preset ?? 'quick';
  if (!presets.includes(preset)) throw new UsageError(`unknown --preset '${preset}'; choose one of ${presets.join(', ')}`);
  const seed = f.seed === undefined ? 0 : parseIndex('seed', f.seed);
  const lr = f.lr === undefined ? MLP_DEFAULT_LR : parseNumber('lr', f.lr);
  if (!(lr > 0)) throw new UsageError(`--lr must be a positive number, got '${f.lr}'`);
  if (f.backend !== undefined && !BACKEND_CHOICES.includes(f.backend as BackendChoice)) {
    throw new UsageError(`unknown --backend '${f.backend}'; choose one of ${BACKEND_CHOICES.join(', ')}`);
  }
  return { preset, seed, lr, backend: f.backend as BackendChoice | undefined, out: f.out ?? path.join('results', 'demo', `${preset}-seed${seed}-lr${lr}`) };
}

/** Mean cross-entropy and accuracy of `params` on all of `ds` (call inside `tf.tidy`). */
function evaluate(model: Model, params: Params, ds: Dataset): { loss: number; accuracy: number } {
  const ids = Array.from({ length: ds.n }, (_, i) => i);
  const batch = makeBatch(ds, ids);
  const loss = tf.mean(model.perExampleLoss(params, batch));
  const acc = tf.mean(tf.cast(tf.equal(tf.argMax(model.logits(params, batch.x), -1), batch.y), 'float32'));
  const [l, a] = tf.stack([loss, acc]).dataSync();
  return { loss: l, accuracy: a };
}

const BLOCKS = '▁▂▃▄▅▆▇█';

/** A sparkline of `values` averaged into at most `width` bins (min → ▁, max → █). */
export function sparkline(values: number[], width = 48): string {
  if (!values.length) return '';
  const bins = Math.min(width, values.length);
  const means: number[] = [];
  for (let b = 0; b < bins; b++) {
    const lo = Math.floor((b * values.length) / bins);
    const hi = Math.floor(((b + 1) * values.length) / bins);
    let s = 0;
    for (let i = lo; i < hi; i++) s += values[i];
    means.push(s / (hi - lo));
  }
  const min = Math.min(...means);
  const span = Math.max(...means) - min || 1;
  return means.map((m) => BLOCKS[Math.min(BLOCKS.length - 1, Math.floor(((m - min) / span) * BLOCKS.length))]).join('');
}

/** `k` evenly spaced entries of `values` (first and last included), with their indices. */
export function evenlySpaced(values: number[], k = 10): { step: number; value: number }[] {
  if (values.length <= k) return values.map((value, step) => ({ step, value }));
  return Array.from({ length: k }, (_, j) => {
    const step = Math.round((j * (values.length - 1)) / (k - 1));
    return { step, value: values[step] };
  });
}

/** Progress reporter: one line rewritten with \r on a TTY, else a plain line about every 10 %. */
function progress(label: string): { step(info: StepInfo): void; done(): void } {
  const stream = process.stderr;
  const tty = !!stream.isTTY;
  const t0 = performance.now();
  let lastDecile = -1;
  let lastDraw = 0;
  let drawn = false;
  return {
    step(info) {
      const done = info.step + 1;
      const pct = Math.floor((100 * done) / info.total);
      const line = `${label}: step ${done}/${info.total} (${pct}%) loss ${info.loss.toFixed(4)} · ${((performance.now() - t0) / 1000).toFixed(1)} s`;
      if (tty) {
        const now = performance.now();
        // Redraw at most ~20 times a second; always draw the last step.
        if (now - lastDraw > 50 || done === info.total) {
          stream.write(`\r${line}\x1b[K`);
          lastDraw = now;
          drawn = true;
        }
      } else {
        const decile = Math.floor((10 * done) / info.total);
        if (decile !== lastDecile) {
          stream.write(line + '\n');
          lastDecile = decile;
        }
      }
    },
    done() {
      if (tty && drawn) stream.write('\n');
    },
  };
}

/** `demo`: trains the MLP setting into `<out>/trajectory`, evaluates it, prints and writes the summary. */
export async function demo(opts: DemoOptions): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  await initBackend({ backend: opts.backend });
  const rt = runtimeInfo();
  const s = await loadMlpSetting(opts.preset, { seed: opts.seed, lr: opts.lr });
  const out = path.resolve(opts.out);
  const dir = path.join(out, 'trajectory');
  fs.mkdirSync(out, { recursive: true });
  const store = new TrajectoryStore(dir);

  const steps = s.describe.steps;
  console.log(
    `demo: mlp/${opts.preset} — ${s.train.n} train / ${s.test.n} test MNIST, 784-16-16-10 ReLU, AdamW lr ${opts.lr}, ` +
      `batch ${s.setting.batchSize}, ${steps} steps, seed ${opts.seed}, backend ${rt.backend}`,
  );
  const bar = progress('train');
  const tTrain = performance.now();
  let ran = 0; // steps trained by this process: fewer than `steps` after a resume, 0 when a finished run is reused
  let traj;
  try {
    traj = await train({
      model: s.model,
      data: s.train,
      setting: s.setting,
      store,
      onStep: (info) => {
        ran++;
        bar.step(info);
      },
      evalFn: (params) => evaluate(s.model, params, s.test),
    });
  } catch (e) {
    if (e instanceof CacheMismatchError) {
      throw new CacheMismatchError(`${e.message}\n(another seed, preset, LR or backend was trained into ${opts.out}: pass a different --out, or delete ${dir})`, dir);
    }
    throw e;
  } finally {
    bar.done();
  }
  const trainS = (performance.now() - tTrain) / 1000;
  const status = ran === 0 ? 'reused' : ran < steps ? 'resumed' : 'trained';
  if (status !== 'trained') console.log(`demo: ${status === 'reused' ? 'reused the finished' : `resumed the unfinished (${ran} steps left)`} run in ${dir}`);
  const manifest = store.readManifest();
  const hash = manifest?.trajectoryHash ?? trajectoryHash(traj);
  const losses = traj.losses;
  const final = traj.evals.find((e) => e.t === steps)?.value as { loss: number; accuracy: number } | undefined;
  if (!final || typeof final !== 'object') throw new Error(`demo: the trajectory in ${dir} has no final test evaluation`);
  let minStep = 0;
  losses.forEach((l, t) => (l < losses[minStep] ? (minStep = t) : 0));
  const wallS = (performance.now() - t0) / 1000;

  const summary = {
    format: 'faithful-tda/demo-summary',
    version: 1,
    command: 'demo',
    createdAt: new Date().toISOString(),
    config: { setting: 'mlp', preset: opts.preset, seed: opts.seed, lr: opts.lr, backendRequested: opts.backend ?? null, out: opts.out },
    seed: opts.seed,
    backend: rt.backend,
    runtime: rt.runtime,
    versions: rt.versions,
    runtimeInfo: rt,
    setting: s.describe,
    settingHash: describeHash(s.describe),
    trainSettingHash: traj.manifest.settingHash,
    trajectory: { dir: path.relative(out, dir), status, runHash: traj.manifest.runHash, trajectoryHash: hash, steps },
    lossCurve: {
      steps: losses.length,
      first: losses[0],
      last: losses[losses.length - 1],
      min: losses[minStep],
      minStep,
      losses,
    },
    test: { n: s.test.n, loss: final.loss, accuracy: final.accuracy },
    timing: { wallS, trainS },
  };
  writeAtomic(path.join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');

  const fmt = (x: number) => x.toFixed(4);
  const lines = [
    `loss curve (training batch loss, ${losses.length} steps):`,
    `  first ${fmt(summary.lossCurve.first)}   last ${fmt(summary.lossCurve.last)}   min ${fmt(summary.lossCurve.min)} (step ${minStep})`,
    `  ${sparkline(losses)}`,
    `  ${evenlySpaced(losses).map((p) => `${p.step}:${p.value.toFixed(3)}`).join('  ')}`,
    `test (${s.test.n} examples): loss ${fmt(final.loss)}   accuracy ${(100 * final.accuracy).toFixed(1)}%`,
    `wall time ${wallS.toFixed(1)} s (training ${trainS.toFixed(1)} s${status === 'trained' ? '' : ', ' + status})   backend ${rt.backend} (${rt.runtime})`,
    `trajectory ${hash.slice(0, 16)}…  → ${dir}`,
    `summary → ${path.join(out, 'summary.json')}`,
  ];
  console.log(lines.join('\n'));
  return summary;
}

/** The values a preset's grid allows for each list flag (absent: the flag is not restricted here). */
interface Grid {
  settings?: string[];
  lrs?: number[];
  seeds?: number[];
  steps?: number[];
  budgets?: number[];
  datasets?: string[];
}

/** Parsed and checked list flags of an experiment. */
interface Selection {
  settings?: string[];
  lrs?: number[];
  seeds?: number[];
  steps?: number[];
  budgets?: number[];
  datasets?: string[];
}

/**
 * Parses the list flags in `f` strictly and checks each value against the preset's grid: a duplicate, an empty
 * item or a value outside the grid is a usage error (so no selection can silently come out empty).
 */
function selection(f: Record<string, string>, grid: Grid, where: string): Selection {
  const out: Selection = {};
  const names = (k: 'settings' | 'datasets') => {
    if (f[k] === undefined) return;
    const v = parseNameList(k, f[k]);
    if (grid[k]) checkIn(k, v, grid[k]!, where);
    out[k] = v;
  };
  const nums = (k: 'lrs' | 'steps' | 'budgets', int = false) => {
    if (f[k] === undefined) return;
    const v = int ? parseIndexList(k, f[k]) : parseNumberList(k, f[k]);
    if (grid[k]) checkIn(k, v, grid[k]!, where);
    out[k] = v;
  };
  names('settings');
  names('datasets');
  nums('lrs');
  nums('steps', true);
  nums('budgets');
  if (f.seeds !== undefined) {
    const v = parseIndexList('seeds', f.seeds);
    if (grid.seeds) checkIn('seeds', v, grid.seeds, where);
    out.seeds = v;
  }
  return out;
}

/** {@link selection} for a preset of setting rows (`grids`, each with `lrs` and maybe `steps`) and `seeds`. */
function gridSelection(f: Record<string, string>, p: { grids: { setting: string; lrs: number[]; steps?: number[] }[]; seeds: number[] }, where: string): Selection {
  const all = rowsUnion(p.grids, (g) => [g.setting]);
  const settings = f.settings === undefined ? undefined : selection({ settings: f.settings }, { settings: all }, where).settings;
  return selection(f, { settings: all, lrs: rowsUnion(p.grids, (g) => g.lrs, settings), steps: rowsUnion(p.grids, (g) => g.steps, settings), seeds: p.seeds }, where);
}

/** Union of a preset's row values, for the rows of the chosen settings. */
function rowsUnion<R extends { setting: string }>(rows: R[], pick: (r: R) => readonly (number | string)[] | undefined, settings?: string[]): never[] {
  return [...new Set(rows.filter((r) => !settings || settings.includes(r.setting)).flatMap((r) => [...(pick(r) ?? [])]))] as never[];
}

/** `experiment selection`: K-step look-ahead data selection (flags as the other experiments, plus --settings, --budgets). */
async function selectionExperiment(args: string[]): Promise<void> {
  const f = parseFlags(args, ['preset', 'lrs', 'seeds', 'backend', 'settings', 'budgets'] as const);
  if (f.backend !== undefined && !BACKEND_CHOICES.includes(f.backend as BackendChoice)) {
    throw new UsageError(`unknown --backend '${f.backend}'; choose one of ${BACKEND_CHOICES.join(', ')}`);
  }
  const { runSelection, SELECTION_PRESETS } = await import('./experiments/selection.ts');
  const preset = f.preset ?? 'quick';
  if (!SELECTION_PRESETS[preset]) throw new UsageError(`unknown --preset '${preset}'; choose one of ${Object.keys(SELECTION_PRESETS).join(', ')}`);
  const p = SELECTION_PRESETS[preset];
  const settings = f.settings === undefined ? undefined : selection({ settings: f.settings }, { settings: rowsUnion(p.grids, (g) => [g.setting]) }, `the selection preset '${preset}'`).settings;
  const sel = selection(f, {
    settings: rowsUnion(p.grids, (g) => [g.setting]),
    lrs: rowsUnion(p.grids, (g) => g.lrs, settings),
    seeds: p.seeds,
    budgets: [...new Set([...p.budgets, ...rowsUnion(p.grids, (g) => g.budgets, settings)])],
  }, `the selection preset '${preset}'`);
  await initBackend({ backend: f.backend as BackendChoice | undefined });
  const s = await runSelection(preset, { lrs: sel.lrs, seeds: sel.seeds, budgets: sel.budgets, settings: sel.settings });
  for (const r of s.rows) {
    console.log(`${r.setting}/${r.preset} lr ${r.lr} budget ${r.budget} ${r.method.padEnd(14)} ${String(r.K).padEnd(7)} test loss ${r.testLoss.toFixed(4)} ± ${r.testLossStd.toFixed(4)} acc ${r.testAcc.toFixed(4)} (seeds ${r.seeds.join(',')})` +
      (r.baseline ? `  vs ${r.baseline}: Δloss ${r.dTestLoss.toFixed(4)} [${r.dTestLossLo.toFixed(4)}, ${r.dTestLossHi.toFixed(4)}]` : ''));
  }
  for (const b of s.bestK) console.log(`best K (${b.family}) ${b.setting} lr ${b.lr} budget ${b.budget}: ${b.bestK} (test loss ${b.bestTestLoss.toFixed(4)}; offline ${b.offlineTestLoss.toFixed(4)}, Δ ${b.dVsOffline.toFixed(4)} [${b.dVsOfflineLo.toFixed(4)}, ${b.dVsOfflineHi.toFixed(4)}]); by K: ${b.byK}`);
  for (const x of s.skipped) console.log(`skipped: ${x}`);
}

/**
 * `experiment final-model | acc-epochs | cleansing` (the neighbour papers' findings): flags --preset, --seeds,
 * --datasets (final-model, acc-epochs), --budget SECONDS (start no new cached cell after that; rerun resumes).
 */
async function neighbourExperiment(name: 'final-model' | 'acc-epochs' | 'cleansing', args: string[]): Promise<void> {
  const f = parseFlags(args, ['preset', 'seeds', 'datasets', 'budget', 'backend'] as const);
  if (f.backend !== undefined && !BACKEND_CHOICES.includes(f.backend as BackendChoice)) {
    throw new UsageError(`unknown --backend '${f.backend}'; choose one of ${BACKEND_CHOICES.join(', ')}`);
  }
  const preset = f.preset ?? 'quick';
  const datasets = f.datasets === undefined ? undefined : parseNameList('datasets', f.datasets);
  const budgetSeconds = f.budget === undefined ? undefined : parseNumber('budget', f.budget);
  if (budgetSeconds !== undefined && !(budgetSeconds > 0)) throw new UsageError(`--budget must be a positive number of seconds, got '${f.budget}'`);
  const where = `the ${name} preset '${preset}'`;
  const fmt = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : x.toFixed(4));
  if (name === 'final-model') {
    const { runFinalModel, FINAL_MODEL_PRESETS } = await import('./experiments/final-model.ts');
    if (!FINAL_MODEL_PRESETS[preset]) throw new UsageError(`unknown --preset '${preset}'; choose one of ${Object.keys(FINAL_MODEL_PRESETS).join(', ')}`);
    const p = FINAL_MODEL_PRESETS[preset];
    if (datasets) checkIn('datasets', datasets, p.specs.map((x) => x.dataset), where);
    // Here --seeds is one number: how many further-training seeds (the preset's count at most).
    const count = f.seeds === undefined ? undefined : parseIndex('seeds', f.seeds);
    if (count !== undefined && !(count >= 1 && count <= p.seeds)) throw new UsageError(`--seeds: final-model takes one number, the count of further-training seeds, 1 to ${p.seeds} in ${where}; got '${f.seeds}'`);
    await initBackend({ backend: f.backend as BackendChoice | undefined });
    const s = await runFinalModel(preset, { seeds: count, datasets, budgetSeconds });
    for (const r of s.rows) console.log(`${r.dataset}/${r.variant} epoch ${r.epoch} ${r.method.padEnd(27)} ${r.metric.padEnd(8)} ${fmt(r.mean)} ± ${fmt(r.sem)} (SEM, ${r.nQueries} queries, ${r.seeds} seeds)`);
    console.log(`complete: ${s.complete}; seeds used: ${JSON.stringify(s.seedsUsed)}; max |Δ| at 0 epochs: ${s.epoch0MaxAbs}`);
  } else if (name === 'acc-epochs') {
    const { runAccEpochs, ACC_EPOCHS_PRESETS } = await import('./experiments/acc-epochs.ts');
    if (!ACC_EPOCHS_PRESETS[preset]) throw new UsageError(`unknown --preset '${preset}'; choose one of ${Object.keys(ACC_EPOCHS_PRESETS).join(', ')}`);
    const p = ACC_EPOCHS_PRESETS[preset];
    const sel = selection(f, { seeds: p.seeds, datasets: p.specs.map((x) => x.dataset) }, where);
    await initBackend({ backend: f.backend as BackendChoice | undefined });
    const s = await runAccEpochs(preset, { seeds: sel.seeds, datasets: sel.datasets, budgetSeconds });
    for (const r of s.rows) console.log(`${r.dataset} E=${r.epochs} ${r.estimator.padEnd(10)} ${r.metric.padEnd(11)} ${fmt(r.mean)} ± ${fmt(r.std)} (std, seeds ${r.seeds.join(',')})`);
    console.log(`complete: ${s.complete}${s.missing.length ? `; missing ${s.missing.length} cells` : ''}`);
  } else {
    const { runCleansing, CLEANSING_PRESETS } = await import('./experiments/cleansing.ts');
    if (!CLEANSING_PRESETS[preset]) throw new UsageError(`unknown --preset '${preset}'; choose one of ${Object.keys(CLEANSING_PRESETS).join(', ')}`);
    const p = CLEANSING_PRESETS[preset];
    const sel = selection(f, { seeds: p.seeds, datasets: p.specs.map((x) => x.dataset) }, where);
    await initBackend({ backend: f.backend as BackendChoice | undefined });
    const s = await runCleansing(preset, { seeds: sel.seeds, datasets: sel.datasets, budgetSeconds });
    for (const r of s.rows) console.log(`${r.dataset} noise ${r.labelNoise} k ${String(r.k).padStart(3)} ${r.method.padEnd(14)} test loss ${fmt(r.testLossMean)} (Δ vs none ${fmt(r.testLossDeltaMean)} ± ${fmt(r.testLossDeltaStd)}) error ${fmt(r.testErrorMean)} (Δ ${fmt(r.testErrorDeltaMean)} ± ${fmt(r.testErrorDeltaStd)})`);
    console.log(`complete: ${s.complete}${s.missing.length ? `; missing ${s.missing.length} cells` : ''}`);
  }
}

/** `experiment quickstart | custom-estimator` (notebooks 00 and 07): flags --preset, --backend. */
async function notebookExperiment(name: 'quickstart' | 'custom-estimator', args: string[]): Promise<void> {
  const f = parseFlags(args, ['preset', 'backend'] as const);
  if (f.backend !== undefined && !BACKEND_CHOICES.includes(f.backend as BackendChoice)) {
    throw new UsageError(`unknown --backend '${f.backend}'; choose one of ${BACKEND_CHOICES.join(', ')}`);
  }
  const preset = f.preset ?? 'quick';
  const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : 'n/a');
  if (name === 'quickstart') {
    const { runQuickstart, QUICKSTART_PRESETS } = await import('./experiments/quickstart.ts');
    if (!QUICKSTART_PRESETS[preset]) throw new UsageError(`unknown --preset '${preset}'; choose one of ${Object.keys(QUICKSTART_PRESETS).join(', ')}`);
    await initBackend({ backend: f.backend as BackendChoice | undefined });
    const s = await runQuickstart(preset);
    for (const r of s.rows) console.log(`${r.setting}/${r.preset} lr ${r.lr} ${r.estimator.padEnd(26)} ${r.metric.padEnd(8)} ${fmt(r.mean)} [${fmt(r.lo)}, ${fmt(r.hi)}] over ${r.n} queries`);
    console.log(`quickstart: ${s.seconds.toFixed(1)} s`);
  } else {
    const { runCustomEstimator, CUSTOM_ESTIMATOR_PRESETS } = await import('./experiments/custom-estimator.ts');
    if (!CUSTOM_ESTIMATOR_PRESETS[preset]) throw new UsageError(`unknown --preset '${preset}'; choose one of ${Object.keys(CUSTOM_ESTIMATOR_PRESETS).join(', ')}`);
    await initBackend({ backend: f.backend as BackendChoice | undefined });
    const s = await runCustomEstimator(preset);
    for (const r of s.rows) console.log(`${r.kind.padEnd(8)} ${r.estimator.padEnd(26)} ${r.metric.padEnd(8)} ${fmt(r.mean)} [${fmt(r.lo)}, ${fmt(r.hi)}] (n ${r.n})`);
    console.log(`custom-estimator: ${s.seconds.toFixed(1)} s`);
  }
}

/** `experiment NAME`: runs a finding's experiment preset. */
async function experiment(args: string[]): Promise<void> {
  const [name, ...rest] = args;
  const known = ['quickstart', 'optimizer-mismatch', 'taylor-error', 'error-decomposition', 'selection', 'final-model', 'acc-epochs', 'cleansing', 'custom-estimator'];
  if (!name || !known.includes(name)) throw new UsageError(`experiment: unknown name '${name ?? ''}'; known: ${known.join(', ')}`);
  // Two runs at once (identical, or parts of one grid) are safe: every cache entry has its own lock, so a second
  // process waits for an entry another one computes and reuses it; summaries are written under a short lock.
  const preset = flagValue('preset', rest) ?? 'quick';
  if (!/^[\w-]+$/.test(preset)) throw new UsageError(`unknown --preset '${preset}'`);
  return runExperiment(name, rest);
}

async function runExperiment(name: string, rest: string[]): Promise<void> {
  if (name === 'quickstart' || name === 'custom-estimator') return notebookExperiment(name, rest);
  if (name === 'selection') return selectionExperiment(rest);
  if (name === 'final-model' || name === 'acc-epochs' || name === 'cleansing') return neighbourExperiment(name, rest);
  const f = parseFlags(rest, name === 'taylor-error' ? (['preset', 'lrs', 'steps', 'seeds', 'settings', 'cached-only', 'backend'] as const) : (['preset', 'lrs', 'seeds', 'settings', 'cached-only', 'backend'] as const), ['cached-only']);
  if (f.backend !== undefined && !BACKEND_CHOICES.includes(f.backend as BackendChoice)) {
    throw new UsageError(`unknown --backend '${f.backend}'; choose one of ${BACKEND_CHOICES.join(', ')}`);
  }
  const preset = f.preset ?? 'quick';
  if (name === 'taylor-error') return taylorErrorCommand(preset, f);
  if (name === 'error-decomposition') return errorDecompositionCommand(preset, f);
  const { runOptimizerMismatch, MISMATCH_PRESETS } = await import('./experiments/optimizer-mismatch.ts');
  if (!MISMATCH_PRESETS[preset]) throw new UsageError(`unknown --preset '${preset}'; choose one of ${Object.keys(MISMATCH_PRESETS).join(', ')}`);
  const sel = gridSelection(f, MISMATCH_PRESETS[preset], `the optimizer-mismatch preset '${preset}'`);
  const cachedOnly = f['cached-only'] === 'true';
  await initBackend({ backend: f.backend as BackendChoice | undefined });
  const s = await runOptimizerMismatch(preset, { lrs: sel.lrs, seeds: sel.seeds, settings: sel.settings, cachedOnly });
  for (const r of s.rows.filter((x) => x.metric === 'spearman')) {
    console.log(`${r.setting}/${r.preset} ${r.optimizer} lr ${r.lr}  ${r.estimator.padEnd(31)} spearman ${r.mean.toFixed(4)}${r.seeds.length > 1 ? ` ± ${r.std.toFixed(4)}` : ''} (seeds ${r.seeds.join(',')}; 95% CI ${r.lo.toFixed(4)}–${r.hi.toFixed(4)})`);
  }
  for (const g of s.gains) console.log(`gain ${g.a} over ${g.b} (${g.metric}, ${g.setting} ${g.optimizer} lr ${g.lr}): ${(100 * g.gain).toFixed(1)}% [${(100 * g.lo).toFixed(1)}, ${(100 * g.hi).toFixed(1)}], difference ${g.diff.toFixed(3)} [${g.diffLo.toFixed(3)}, ${g.diffHi.toFixed(3)}]`);
}

/** `experiment taylor-error`: measured Taylor error and its proxy over LR × trajectory length. */
async function taylorErrorCommand(preset: string, f: Record<string, string>): Promise<void> {
  const { runTaylorError, TAYLOR_PRESETS } = await import('./experiments/taylor-error.ts');
  if (!TAYLOR_PRESETS[preset]) throw new UsageError(`unknown --preset '${preset}'; choose one of ${Object.keys(TAYLOR_PRESETS).join(', ')}`);
  const sel = gridSelection(f, TAYLOR_PRESETS[preset], `the taylor-error preset '${preset}'`);
  await initBackend({ backend: f.backend as BackendChoice | undefined });
  const s = await runTaylorError(preset, { lrs: sel.lrs, steps: sel.steps, seeds: sel.seeds, settings: sel.settings, cachedOnly: f['cached-only'] === 'true' });
  for (const r of s.rows) {
    console.log(`${r.setting}/${r.preset} lr ${r.lr} T ${r.T}: relErr ${r.relErr.toFixed(3)} [${r.relErrLo.toFixed(3)}, ${r.relErrHi.toFixed(3)}]  1−ρ ${r.oneMinusSpearman.toFixed(3)}  proxy Π_Q ${r.queryProxy.toFixed(3)} Π ${r.proxy.toFixed(3)}${r.noiseRelErr !== null ? `  float32 noise relErr ${r.noiseRelErr.toFixed(3)}` : ''}`);
  }
  for (const c of s.correlations.filter((x) => x.primary)) console.log(`${c.setting}: Spearman(Π_Q, relErr) over ${c.cells} cells = ${c.spearman.toFixed(3)} [${c.lo.toFixed(3)}, ${c.hi.toFixed(3)}], permutation p = ${c.pPerm.toPrecision(2)}`);
  if (s.missing.length) console.log(`${s.missing.length} cell(s) of the preset not computed yet`);
}

/** `experiment error-decomposition`: system / config / algorithm shares of SGD-influence's error. */
async function errorDecompositionCommand(preset: string, f: Record<string, string>): Promise<void> {
  const { runErrorDecomposition, DECOMPOSITION_PRESETS } = await import('./experiments/error-decomposition.ts');
  if (!DECOMPOSITION_PRESETS[preset]) throw new UsageError(`unknown --preset '${preset}'; choose one of ${Object.keys(DECOMPOSITION_PRESETS).join(', ')}`);
  const sel = gridSelection(f, DECOMPOSITION_PRESETS[preset], `the error-decomposition preset '${preset}'`);
  await initBackend({ backend: f.backend as BackendChoice | undefined });
  const s = await runErrorDecomposition(preset, { lrs: sel.lrs, seeds: sel.seeds, settings: sel.settings, cachedOnly: f['cached-only'] === 'true' });
  for (const r of s.rows) console.log(`${r.setting}/${r.preset} lr ${r.lr} k ${r.k}  ${r.component.padEnd(34)} share ${r.share.toFixed(3)} [${r.lo.toFixed(3)}, ${r.hi.toFixed(3)}]`);
}

/**
 * Runs one command line and returns the exit code (0 ok, 1 failure, 2 usage error).
 * @param argv arguments after the script path, e.g. `['demo', '--preset', 'quick']`
 */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'demo':
        await demo(demoOptions(rest));
        return 0;
      case 'experiment':
        await experiment(rest);
        return 0;
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(HELP);
        return 0;
      case undefined:
        process.stderr.write(HELP);
        return 2;
      default:
        throw new UsageError(`unknown command '${cmd}'; commands: demo, experiment, help`);
    }
  } catch (e) {
    const code = exitCode(e);
    const hint = e instanceof UsageError ? '\n(run `tsx lib/cli.ts help` for usage)' : '';
    const kind = e instanceof FtdaError && e.kind !== 'usage' ? ` [${e.kind}]` : '';
    process.stderr.write(`error${kind}: ${(e as Error).message}${hint}\n`);
    return code;
  }
}

/** True when this file is the program being run (not imported), under Node or Deno. */
function isEntry(): boolean {
  const m = (import.meta as { main?: boolean }).main;
  if (typeof m === 'boolean') return m;
  const argv1 = process.argv[1];
  return !!argv1 && path.resolve(argv1) === fileURLToPath(import.meta.url);
}

/**
 * `tsx lib/cli.ts` runs this file in a child node process; `kill -9` of tsx cannot forward the signal, and the
 * orphan would go on writing the caches. So when the parent is tsx, the child exits once it is reparented.
 */
function exitWithTsxParent(): void {
  const ppid = process.ppid;
  let parent = '';
  try {
    parent = fs.readFileSync(`/proc/${ppid}/cmdline`, 'utf8');
  } catch {
    return; // no /proc (macOS, Deno without --allow-read): nothing to watch
  }
  if (!/[\\/]tsx[\\/]|\btsx\b/.test(parent.replaceAll('\0', ' '))) return;
  setInterval(() => {
    if (process.ppid !== ppid) {
      process.stderr.write(`error: the parent tsx process (${ppid}) is gone; stopping\n`);
      process.exit(137);
    }
  }, 1000).unref();
}

if (isEntry()) {
  exitWithTsxParent();
  // No signal handlers: they would wait for the event loop, which a long kernel blocks, so Ctrl-C keeps Node's
  // immediate exit; a lock left by a killed process is stale and is taken over (lib/cache/lock.ts).
  const code = await main(cliArgs());
  // Exit explicitly: an initialised tfjs backend may keep the event loop alive.
  process.exit(code);
}
