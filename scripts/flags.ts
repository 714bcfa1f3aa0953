/**
 * The flag loop shared by the scripts' parsers (`--name value` and value-less switches), and their entry point.
 *
 * @module
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFindingModules } from '../lib/findings/registry.ts';
import { exitCode, FtdaError } from '../lib/runtime/errors.ts';

/**
 * Runs a script's `main` when the module at `moduleUrl` is the program (not imported): the findings of
 * FTDA_FINDINGS are registered first, an error prints one line and exits with its kind's code (2 for a plain
 * Error: the scripts' own usage mistakes).
 */
export async function runScript(moduleUrl: string, main: (args: string[]) => number | Promise<number>): Promise<void> {
  if (!(process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(moduleUrl))) return;
  let code: number;
  try {
    await loadFindingModules();
    code = await main(process.argv.slice(2));
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    code = e instanceof FtdaError ? exitCode(e) : 2;
  }
  process.exit(code);
}

/**
 * Walks `args`, calling `on(flag, value)` for each; `value()` consumes the next argument (an error names the
 * flag when it is missing). `on` returns false for a flag it does not know, which throws with `usage`.
 */
export function eachFlag(args: readonly string[], on: (flag: string, value: () => string) => boolean, usage: string): void {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
      return v;
    };
    if (!on(a, value)) throw new Error(`unknown flag '${a}'; ${usage}`);
  }
}

/** A comma-separated list, trimmed, empty items dropped. */
export function listOf(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

/** Throws unless `preset` looks like a preset name (it becomes a folder name). */
export function checkPresetName(preset: string): void {
  if (!/^[a-z][a-z0-9-]*$/.test(preset)) throw new Error(`--preset must be a preset name, got '${preset}'`);
}
