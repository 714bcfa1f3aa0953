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
import { findings, getFinding, loadFindingModules } from './findings/registry.ts';
import type { AnyFinding, ListFlag, RunOptions } from './findings/types.ts';
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

const HELP = () => `faithful-tda — how faithful is trajectory-based training-data attribution?

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
${experimentHelp()}
            list flags are comma-separated, checked against the preset's grid (a duplicate or unknown value is an
            error); --cached-only summarises the cells already computed and computes nothing; --budget SECONDS
            starts no new cached cell after that (rerun to resume). Every phase (trajectory, TSLOO, estimator
            scores) is cached under results/cache and resumable; two runs at once share the work.
  help    print this message

environment: FTDA_BACKEND, FTDA_BLAS, FTDA_DATA_MIRROR, FTDA_DATA_DIR, FTDA_RESULTS_DIR, FTDA_OFFLINE (see README.md).
`;

/** One help line per registered finding: its id, presets and flags. */
function experimentHelp(): string {
  return findings()
    .map((f) => {
      const flags = [...f.flags.lists.map((l) => (l === 'seeds' && f.flags.seedCount ? '--seeds N' : `--${l}`)), ...(f.flags.seedCount && !f.flags.lists.includes('seeds') ? ['--seeds N'] : []), ...(f.flags.cachedOnly ? ['--cached-only'] : []), ...(f.flags.budget ? ['--budget S'] : [])];
      return `            ${f.id.padEnd(20)} ${f.title}\n${' '.repeat(33)}--preset ${f.presets().join('|')}${flags.length ? ' ' + flags.join(' ') : ''}`;
    })
    .join('\n');
}

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
      `batch ${s.trainConfig.batchSize}, ${steps} steps, seed ${opts.seed}, backend ${rt.backend}`,
  );
  const bar = progress('train');
  const tTrain = performance.now();
  let ran = 0; // steps trained by this process: fewer than `steps` after a resume, 0 when a finished run is reused
  let traj;
  try {
    traj = await train({
      model: s.model,
      data: s.train,
      setting: s.trainConfig,
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

/** Parsed and checked list flags of an experiment. */
type Selection = Pick<RunOptions, ListFlag>;

/**
 * Parses a finding's list flags strictly and checks each value against the preset's grid: a duplicate, an empty
 * item or a value outside the grid is a usage error (so no selection can silently come out empty).
 */
function selection(f: Record<string, string>, finding: AnyFinding, preset: string): Selection {
  const where = `the ${finding.id} preset '${preset}'`;
  const out: Selection = {};
  const lists = finding.flags.lists;
  // Settings first: the LRs and steps a row allows depend on the settings chosen.
  if (f.settings !== undefined) {
    out.settings = parseNameList('settings', f.settings);
    const all = finding.grid(preset).settings;
    if (all) checkIn('settings', out.settings, all, where);
  }
  const grid = finding.grid(preset, out.settings);
  for (const k of lists) {
    if (k === 'settings' || f[k] === undefined) continue;
    if (k === 'seeds' && finding.flags.seedCount) continue;
    const v = k === 'datasets' ? parseNameList(k, f[k]) : k === 'seeds' || k === 'steps' ? parseIndexList(k, f[k]) : parseNumberList(k, f[k]);
    const allowed = grid[k] as (string | number)[] | undefined;
    if (allowed) checkIn(k, v as (string | number)[], allowed, where);
    (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

/** The flags `experiment <id>` accepts for a finding. */
function experimentFlags(finding: AnyFinding): { known: string[]; switches: string[] } {
  const known = ['preset', 'backend', ...finding.flags.lists];
  if (finding.flags.seedCount && !known.includes('seeds')) known.push('seeds');
  if (finding.flags.budget) known.push('budget');
  const switches = finding.flags.cachedOnly ? ['cached-only'] : [];
  return { known: [...known, ...switches], switches };
}

/** `experiment <id>`: validates the flags against the finding's grid, runs it, prints its report. */
async function experiment(args: string[]): Promise<void> {
  const [name, ...rest] = args;
  if (!name) throw new UsageError(`experiment: name missing; known: ${findings().map((f) => f.id).join(', ')}`);
  const finding = getFinding(name);
  // Two runs at once (identical, or parts of one grid) are safe: every cache entry has its own lock, so a second
  // process waits for an entry another one computes and reuses it; summaries are written under a short lock.
  const { known, switches } = experimentFlags(finding);
  const f = parseFlags(rest, known, switches);
  if (f.backend !== undefined && !BACKEND_CHOICES.includes(f.backend as BackendChoice)) {
    throw new UsageError(`unknown --backend '${f.backend}'; choose one of ${BACKEND_CHOICES.join(', ')}`);
  }
  const preset = f.preset ?? 'quick';
  if (!finding.presets().includes(preset)) throw new UsageError(`unknown --preset '${preset}'; choose one of ${finding.presets().join(', ')}`);
  const o: RunOptions = selection(f, finding, preset);
  if (finding.flags.seedCount && f.seeds !== undefined) {
    const max = finding.grid(preset).maxSeedCount ?? Infinity;
    const count = parseIndex('seeds', f.seeds);
    if (!(count >= 1 && count <= max)) throw new UsageError(`--seeds: ${finding.id} takes one number, the count of seeds, 1 to ${max} in the preset '${preset}'; got '${f.seeds}'`);
    o.seedCount = count;
  }
  if (f.budget !== undefined) {
    o.budgetSeconds = parseNumber('budget', f.budget);
    if (!(o.budgetSeconds > 0)) throw new UsageError(`--budget must be a positive number of seconds, got '${f.budget}'`);
  }
  if (f['cached-only'] === 'true') o.cachedOnly = true;
  await initBackend({ backend: f.backend as BackendChoice | undefined });
  const summary = await finding.run(preset, o);
  for (const line of finding.report(summary)) console.log(line);
}

/**
 * Runs one command line and returns the exit code (0 ok, 1 failure, 2 usage error).
 * @param argv arguments after the script path, e.g. `['demo', '--preset', 'quick']`
 */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    await loadFindingModules();
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
        process.stdout.write(HELP());
        return 0;
      case undefined:
        process.stderr.write(HELP());
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
