/**
 * The flag loop shared by the scripts' parsers (`--name value` and value-less switches).
 *
 * @module
 */

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
