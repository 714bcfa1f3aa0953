/**
 * Notebook tooling: build the `.ipynb` files from their TypeScript sources, check them, install a
 * project-local Deno kernelspec, and execute every notebook headless, then verify the figure files each
 * one promises (the registry of findings, lib/findings/registry.ts). Saved notebook outputs are never trusted: the Deno kernel can go
 * idle before its last outputs arrive (anchors.md §7c), so success means "the expected files were
 * written during this run".
 *
 *     npx tsx scripts/notebooks.ts build                 regenerate notebooks/*.ipynb from notebooks/*.ts
 *     npx tsx scripts/notebooks.ts check                 sources and notebooks agree; notebooks are valid, output-free
 *     npx tsx scripts/notebooks.ts install-kernel        write .cache/jupyter/kernels/deno
 *     npx tsx scripts/notebooks.ts run [--preset quick] [--only 01,02] [--timeout 900] [--no-run] [--allow-pending]
 *
 * `run` writes executed copies to results/notebooks/<preset>/ (never over the committed notebooks),
 * passes FTDA_PRESET and NO_COLOR=1 to the kernel (and FTDA_RUN_EXPERIMENTS=never with --no-run: notebooks
 * then only read results, as reproduce.sh wants after running the experiments itself), and exits 1 when a
 * notebook misses an expected file —
 * except, with --allow-pending, notebooks whose results file does not exist yet (their experiment has
 * not run). Exit 3: Jupyter is not installed.
 *
 * @module
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../lib/runtime/root.ts';
import { resultsRoot } from '../lib/pipeline/paths.ts';
import { fileURLToPath } from 'node:url';
import { notebooks, selectFindings } from '../lib/findings/registry.ts';
import { figureNames } from '../lib/findings/build.ts';

/** A notebook and the figure stems its findings promise. */
export interface NotebookEntry {
  notebook: string;
  figures: string[];
}

/** Every notebook of the registry (or those of the findings selected by `only`), with its figures. */
export function notebookEntries(only?: string[]): NotebookEntry[] {
  const chosen = new Set(selectFindings(only).map((f) => f.notebook));
  return notebooks()
    .filter((n) => chosen.has(n.notebook))
    .map((n) => ({ notebook: n.notebook, figures: figureNames(n.findings) }));
}
import { figuresDir } from '../lib/plot/paths.ts';
import { notebookProblems, parseSource, serializeNotebook, toNotebook, type Notebook } from './ipynb.ts';
import { checkPresetName, eachFlag, listOf } from './flags.ts';

const ROOT = REPO_ROOT;
const NOTEBOOKS = path.join(ROOT, 'notebooks');

/**
 * Name of the project-local kernelspec: `deno`, the name the notebooks carry in their metadata, so Jupyter started
 * with JUPYTER_PATH=.cache/jupyter opens and executes them as they are (no "NoSuchKernel: deno").
 */
export const KERNEL_NAME = 'deno';
/** Folder put on JUPYTER_PATH; the kernelspec lives in its `kernels/` subfolder. */
export const JUPYTER_DIR = path.join(ROOT, '.cache', 'jupyter');

/** How to install Jupyter on Debian/Ubuntu (what .ci/run needs). */
export const JUPYTER_INSTALL_HINT = 'apt-get install -y --no-install-recommends jupyter-nbconvert jupyter-client python3-ipykernel';

/** Notebook stems with a source (`notebooks/NN_name.ts`, snake case after the number), sorted. */
export function notebookStems(): string[] {
  return fs
    .readdirSync(NOTEBOOKS)
    .filter((f) => /^\d\d_[a-z0-9_]+\.ts$/.test(f))
    .map((f) => f.slice(0, -3))
    .sort();
}

/** The notebook generated from `notebooks/<stem>.ts`, serialised. */
export function generatedNotebook(stem: string): string {
  const src = path.join(NOTEBOOKS, `${stem}.ts`);
  return serializeNotebook(toNotebook(parseSource(fs.readFileSync(src, 'utf8'), path.relative(ROOT, src)), `${stem}.ts`));
}

/** Writes every `notebooks/<stem>.ipynb` from its source; returns the stems whose file changed. */
export function buildNotebooks(): string[] {
  const changed: string[] = [];
  for (const stem of notebookStems()) {
    const file = path.join(NOTEBOOKS, `${stem}.ipynb`);
    const text = generatedNotebook(stem);
    if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text) continue;
    fs.writeFileSync(`${file}.tmp`, text);
    fs.renameSync(`${file}.tmp`, file);
    changed.push(stem);
  }
  return changed;
}

/** Problems of the committed notebooks: out of sync with the source, invalid, or carrying outputs. */
export function checkNotebooks(): string[] {
  const problems: string[] = [];
  const stems = notebookStems();
  for (const f of notebookEntries()) if (!stems.includes(f.notebook)) problems.push(`${f.notebook}: no source notebooks/${f.notebook}.ts`);
  for (const stem of stems) {
    const file = path.join(NOTEBOOKS, `${stem}.ipynb`);
    if (!fs.existsSync(file)) {
      problems.push(`${stem}: notebooks/${stem}.ipynb missing (run \`npx tsx scripts/notebooks.ts build\`)`);
      continue;
    }
    const text = fs.readFileSync(file, 'utf8');
    let nb: unknown;
    try {
      nb = JSON.parse(text);
    } catch (e) {
      problems.push(`${stem}: not JSON (${(e as Error).message})`);
      continue;
    }
    problems.push(...notebookProblems(nb, { committed: true }).map((p) => `${stem}: ${p}`));
    if (text !== generatedNotebook(stem)) problems.push(`${stem}: out of date with notebooks/${stem}.ts (run \`npx tsx scripts/notebooks.ts build\`)`);
  }
  return problems;
}

/** Absolute path of the Deno binary installed by the `deno` npm package. */
export function denoBinary(): string {
  const bin = path.join(ROOT, 'node_modules', '.bin', 'deno');
  if (!fs.existsSync(bin)) throw new Error(`deno not found at ${path.relative(ROOT, bin)}; run \`npm install\``);
  return fs.realpathSync(bin);
}

/**
 * Writes the kernelspec `deno jupyter --install` would write (same argv, display name and language),
 * but under .cache/jupyter: deno 2.9.6 always installs into ~/.local/share/jupyter/kernels and ignores
 * JUPYTER_PATH / JUPYTER_DATA_DIR (measured), which would touch the user's Jupyter.
 * @returns the kernelspec folder
 */
export function installKernel(): string {
  const dir = path.join(JUPYTER_DIR, 'kernels', KERNEL_NAME);
  fs.mkdirSync(dir, { recursive: true });
  const spec = {
    argv: [denoBinary(), 'jupyter', '--kernel', '--conn', '{connection_file}'],
    display_name: 'Deno (faithful-tda)',
    language: 'typescript',
    env: { NO_COLOR: '1' },
  };
  fs.writeFileSync(path.join(dir, 'kernel.json'), JSON.stringify(spec, null, 2) + '\n');
  return dir;
}

/** True when `jupyter nbconvert` runs. */
export function hasJupyter(): boolean {
  const r = spawnSync('jupyter', ['nbconvert', '--version'], { encoding: 'utf8', env: quietEnv() });
  return !r.error && r.status === 0;
}

function quietEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // PYDEVD_…: silences the "frozen modules" debugger warning Python 3.11 prints on every kernel start
  return { ...process.env, NO_COLOR: '1', PYDEVD_DISABLE_FILE_VALIDATION: '1', ...extra };
}

/** Outcome of one notebook run. */
export interface NotebookRun {
  notebook: string;
  status: 'ok' | 'pending' | 'failed';
  seconds: number;
  /** Expected files that are missing or older than the run. */
  missing: string[];
  /** Files verified fresh. */
  written: string[];
  /** First error raised by a cell (from the executed notebook), or nbconvert's own failure. */
  error?: string;
  /** The executed copy. */
  output?: string;
}

/** The first error output of an executed notebook ("Name: message"), if any. */
export function firstCellError(nb: Notebook): string | undefined {
  for (const c of nb.cells) {
    for (const o of (c.outputs ?? []) as { output_type?: string; ename?: string; evalue?: string }[]) {
      if (o.output_type === 'error') return `${o.ename ?? 'Error'}: ${o.evalue ?? ''}`.trim();
    }
  }
  return undefined;
}

/** Files a finding's notebook must write: each figure as .svg, .plotly.json and .data.json. */
export function expectedFiles(f: NotebookEntry, dir = figuresDir()): string[] {
  return f.figures.flatMap((name) => ['svg', 'plotly.json', 'data.json'].map((ext) => path.join(dir, `${name}.${ext}`)));
}

/** Splits expected files into fresh (modified at or after `since`, ms) and missing/stale. */
export function verifyFiles(files: string[], since: number): { written: string[]; missing: string[] } {
  const written: string[] = [];
  const missing: string[] = [];
  for (const f of files) {
    // 2 s slack for filesystems with coarse timestamps
    const ok = fs.existsSync(f) && fs.statSync(f).mtimeMs >= since - 2000 && (!f.endsWith('.svg') || /<\/svg>\s*$/.test(fs.readFileSync(f, 'utf8')));
    (ok ? written : missing).push(f);
  }
  return { written, missing };
}

/** Executes one notebook headless with nbconvert and verifies its files. */
export function runNotebook(f: NotebookEntry, o: { preset: string; timeout: number; outDir: string; noRun?: boolean }): NotebookRun {
  const input = path.join(NOTEBOOKS, `${f.notebook}.ipynb`);
  const t0 = Date.now();
  fs.mkdirSync(o.outDir, { recursive: true });
  const output = path.join(o.outDir, `${f.notebook}.ipynb`);
  fs.rmSync(output, { force: true });
  const jupyterPath = [JUPYTER_DIR, process.env.JUPYTER_PATH].filter(Boolean).join(path.delimiter);
  const r = spawnSync(
    'jupyter',
    [
      'nbconvert',
      '--to',
      'notebook',
      '--execute',
      '--allow-errors',
      `--ExecutePreprocessor.kernel_name=${KERNEL_NAME}`,
      `--ExecutePreprocessor.timeout=${o.timeout}`,
      '--output-dir',
      o.outDir,
      '--output',
      f.notebook,
      input,
    ],
    {
      cwd: ROOT,
      encoding: 'utf8',
      env: quietEnv({ JUPYTER_PATH: jupyterPath, JUPYTER_RUNTIME_DIR: path.join(JUPYTER_DIR, 'runtime'), FTDA_PRESET: o.preset, ...(o.noRun ? { FTDA_RUN_EXPERIMENTS: 'never' } : {}) }),
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const seconds = (Date.now() - t0) / 1000;
  let error: string | undefined;
  if (r.error) error = `could not start jupyter: ${r.error.message}`;
  else if (r.status !== 0) {
    const tail = (r.stderr || r.stdout || '').trim().split('\n').filter((l) => l.trim() && !/Debugger warning|frozen modules|PYDEVD|Xfrozen_modules|Debugging will proceed/.test(l));
    error = `nbconvert exited ${r.status}: ${tail.slice(-3).join(' | ')}`;
  }
  if (fs.existsSync(output)) {
    try {
      error = firstCellError(JSON.parse(fs.readFileSync(output, 'utf8')) as Notebook) ?? error;
    } catch {
      /* a truncated notebook: keep nbconvert's error */
    }
  }
  const { written, missing } = verifyFiles(expectedFiles(f), t0);
  // Pending = the kernel stopped on the typed error of a missing results file (its class name, not its text).
  const status = !missing.length ? 'ok' : error?.startsWith('ResultsNotFoundError') ? 'pending' : 'failed';
  return { notebook: f.notebook, status, seconds, missing, written, error, output: fs.existsSync(output) ? output : undefined };
}

/** Parsed flags of `run`. */
export interface RunOptions {
  preset: string;
  only?: string[];
  timeout: number;
  allowPending: boolean;
  /** Notebooks only read results (FTDA_RUN_EXPERIMENTS=never). */
  noRun: boolean;
}

/** Parses `--preset`, `--only`, `--timeout`, `--no-run`, `--allow-pending`. */
export function parseRunFlags(args: string[]): RunOptions {
  const o: RunOptions = { preset: process.env.FTDA_PRESET || 'quick', timeout: 900, allowPending: false, noRun: false };
  eachFlag(args, (a, value) => {
    if (a === '--preset') o.preset = value();
    else if (a === '--only') o.only = listOf(value());
    else if (a === '--timeout') {
      o.timeout = Number(value());
      if (!(o.timeout > 0)) throw new Error('--timeout must be a positive number of seconds (per cell)');
    } else if (a === '--allow-pending') o.allowPending = true;
    else if (a === '--no-run') o.noRun = true;
    else return false;
    return true;
  }, 'run flags: --preset NAME --only 01,02 --timeout SECONDS --no-run --allow-pending');
  checkPresetName(o.preset);
  return o;
}

/** Runs the selected notebooks and prints a status line for each; returns the exit code. */
export function runAll(o: RunOptions): number {
  if (!hasJupyter()) {
    console.error(`jupyter nbconvert is not installed. Install it with:\n  ${JUPYTER_INSTALL_HINT}\n(or: pip install nbconvert jupyter_client ipykernel). The figures do not need it: npx tsx scripts/figures.ts`);
    return 3;
  }
  const stale = checkNotebooks().filter((p) => /out of date|missing/.test(p));
  for (const p of stale) console.warn(`warning: ${p}`);
  installKernel();
  const selected = notebookEntries(o.only);
  if (!selected.length) {
    console.error(`--only ${o.only?.join(',')} matches no notebook; known: ${notebookEntries().map((f) => f.notebook).join(', ')}`);
    return 2;
  }
  const outDir = path.join(resultsRoot(), 'notebooks', o.preset);
  console.log(`notebooks: preset ${o.preset}, kernel ${KERNEL_NAME} (${path.relative(ROOT, JUPYTER_DIR)}), executed copies in ${path.relative(ROOT, outDir)}/`);
  const runs: NotebookRun[] = [];
  for (const f of selected) {
    const r = runNotebook(f, { preset: o.preset, timeout: o.timeout, outDir, noRun: o.noRun });
    runs.push(r);
    const svgs = (names: string[]) => names.filter((m) => m.endsWith('.svg')).map((m) => path.basename(m));
    const files = r.status === 'ok' ? `${r.written.length} files: ${svgs(r.written).join(', ')}` : `missing ${r.missing.length} of ${r.missing.length + r.written.length} files (${svgs(r.missing).join(', ') || 'see above'})`;
    console.log(`  ${r.status.padEnd(7)} ${f.notebook.padEnd(26)} ${r.seconds.toFixed(1).padStart(6)} s  ${files}`);
    if (r.status !== 'ok' && r.error) console.log(`          ${r.error}`);
  }
  const count = (s: NotebookRun['status']) => runs.filter((r) => r.status === s).length;
  console.log(`notebooks: ${count('ok')} ok, ${count('pending')} pending (results not produced yet), ${count('failed')} failed`);
  return count('failed') || (count('pending') && !o.allowPending) ? 1 : 0;
}

function main(argv: string[]): number {
  const [cmd = 'run', ...rest] = argv;
  try {
    switch (cmd) {
      case 'build': {
        const changed = buildNotebooks();
        console.log(changed.length ? `rebuilt ${changed.map((s) => `notebooks/${s}.ipynb`).join(', ')}` : 'notebooks are up to date');
        return 0;
      }
      case 'check': {
        const problems = checkNotebooks();
        for (const p of problems) console.error(p);
        console.log(problems.length ? `${problems.length} problem(s)` : `${notebookStems().length} notebooks valid and in sync with their sources`);
        return problems.length ? 1 : 0;
      }
      case 'install-kernel':
        console.log(`kernelspec '${KERNEL_NAME}' → ${path.relative(ROOT, installKernel())}\nuse it with: JUPYTER_PATH=${JUPYTER_DIR} jupyter …`);
        return 0;
      case 'run':
        return runAll(parseRunFlags(rest));
      default:
        console.error(`unknown command '${cmd}'; commands: build, check, install-kernel, run`);
        return 2;
    }
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    return 2;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exit(main(process.argv.slice(2)));
