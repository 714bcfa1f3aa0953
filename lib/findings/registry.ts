/**
 * The registry of findings, in notebook order. Everything that lists findings — the CLI's `experiment`
 * command, reproduce.sh (through `scripts/figures.ts --list-experiments`), the figure builder, the headline
 * summary and the notebook runner — iterates it.
 *
 * Adding a finding: a folder `lib/findings/<id>/` whose `index.ts` exports a {@link Finding}, and one line below
 * (or {@link registerFinding} from user code, e.g. a test or a notebook).
 *
 * @example
 * ```ts
 * const f = getFinding('optimizer-mismatch');
 * const summary = await f.run('quick', {});
 * ```
 * @module
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnyFinding } from './types.ts';
import { UsageError } from '../runtime/errors.ts';
import { getEnv } from '../runtime/env.ts';
import { quickstart } from './quickstart/index.ts';
import { optimizerMismatch } from './optimizer-mismatch/index.ts';
import { taylorError } from './taylor-error/index.ts';
import { errorDecomposition } from './error-decomposition/index.ts';
import { selection } from './selection/index.ts';
import { finalModel } from './final-model/index.ts';
import { accEpochs } from './acc-epochs/index.ts';
import { cleansing } from './cleansing/index.ts';
import { customEstimator } from './custom-estimator/index.ts';

const FINDINGS: AnyFinding[] = [
  quickstart,
  optimizerMismatch,
  taylorError,
  errorDecomposition,
  selection,
  finalModel,
  accEpochs,
  cleansing,
  customEstimator,
];

const loadedModules = new Set<string>();

/**
 * Registers the findings of user modules named in `FTDA_FINDINGS` (comma-separated file paths, relative to the
 * current directory): each module exports `finding`, a {@link Finding}. The CLI, scripts/figures.ts and
 * scripts/summary.ts call this first, so a finding kept outside lib/ runs through all of them (and through
 * reproduce.sh, which calls those). A module already loaded is skipped.
 * @returns the ids registered by this call
 * @throws UsageError when a module is missing or exports no `finding`
 */
export async function loadFindingModules(list: string | undefined = getEnv('FTDA_FINDINGS')): Promise<string[]> {
  const ids: string[] = [];
  for (const item of (list ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const file = path.resolve(item);
    if (loadedModules.has(file)) continue;
    if (!fs.existsSync(file)) throw new UsageError(`FTDA_FINDINGS: module ${file} does not exist`);
    const mod = (await import(pathToFileURL(file).href)) as { finding?: AnyFinding };
    const f = mod.finding;
    if (!f || typeof f.id !== 'string' || typeof f.run !== 'function') throw new UsageError(`FTDA_FINDINGS: ${file} exports no \`finding\` (a Finding, lib/findings/types.ts)`);
    registerFinding(f);
    loadedModules.add(file);
    ids.push(f.id);
  }
  return ids;
}

/** Every registered finding, in order. */
export function findings(): readonly AnyFinding[] {
  return FINDINGS;
}

/**
 * Adds a finding (user code, tests). Its figures must start with its notebook stem.
 * @throws UsageError when the id is taken or a figure name does not start with the notebook stem
 */
export function registerFinding(f: AnyFinding): void {
  if (FINDINGS.some((x) => x.id === f.id)) throw new UsageError(`a finding with id '${f.id}' is already registered`);
  if (!/^[a-z][a-z0-9-]*$/.test(f.id)) throw new UsageError(`finding id '${f.id}' must be lower-case words joined by '-'`);
  for (const fig of f.figures) {
    if (fig.name !== f.notebook && !fig.name.startsWith(`${f.notebook}_`)) throw new UsageError(`figure '${fig.name}' of finding '${f.id}' must start with its notebook stem '${f.notebook}'`);
  }
  FINDINGS.push(f);
}

/** Removes a finding registered with {@link registerFinding} (tests). */
export function unregisterFinding(id: string): void {
  const i = FINDINGS.findIndex((x) => x.id === id);
  if (i >= 0) FINDINGS.splice(i, 1);
}

/**
 * The finding with this id.
 * @throws UsageError listing the known ids
 */
export function getFinding(id: string): AnyFinding {
  const f = FINDINGS.find((x) => x.id === id);
  if (!f) throw new UsageError(`unknown experiment '${id}'; known: ${FINDINGS.map((x) => x.id).join(', ')}`);
  return f;
}

/** True when `key` is `stem` itself or its number prefix (`01` for `01_optimizer_mismatch`). */
function matchesStem(stem: string, key: string): boolean {
  return stem === key || stem.startsWith(`${key}_`);
}

/** Findings selected by `only` (notebook stems, their numbers such as `01`, or finding ids); all without it. */
export function selectFindings(only?: string[]): AnyFinding[] {
  return FINDINGS.filter((f) => !only || only.some((s) => matchesStem(f.notebook, s) || f.id === s));
}

/** Notebook stems in order, each with its findings. */
export function notebooks(): { notebook: string; findings: AnyFinding[] }[] {
  const out: { notebook: string; findings: AnyFinding[] }[] = [];
  for (const f of FINDINGS) {
    const nb = out.find((x) => x.notebook === f.notebook);
    if (nb) nb.findings.push(f);
    else out.push({ notebook: f.notebook, findings: [f] });
  }
  return out;
}

/** The findings a notebook shows (by stem or number prefix). @throws UsageError when none */
export function findingsOfNotebook(notebook: string): AnyFinding[] {
  const fs = FINDINGS.filter((x) => matchesStem(x.notebook, notebook));
  if (!fs.length) throw new UsageError(`no finding for notebook '${notebook}'; known: ${[...new Set(FINDINGS.map((x) => x.notebook))].join(', ')}`);
  return fs;
}
