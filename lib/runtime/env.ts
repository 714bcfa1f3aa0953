/**
 * Runtime-neutral access to environment variables and command-line flags (Node and Deno).
 *
 * Deno exposes Node's `process` global, so one code path serves both; under Deno, reading the
 * environment needs `--allow-env` (a missing permission reads as "unset").
 *
 * @module
 */

/** Which JavaScript runtime is executing: `"deno"` or `"node"`. */
export function runtimeName(): 'deno' | 'node' {
  return typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined' ? 'deno' : 'node';
}

/** Version string of the runtime, e.g. `"node 20.20.2"` or `"deno 2.9.6"`. */
export function runtimeVersion(): string {
  const d = (globalThis as { Deno?: { version?: { deno?: string } } }).Deno;
  if (d?.version?.deno) return `deno ${d.version.deno}`;
  return `node ${process.versions.node}`;
}

/** Reads an environment variable; returns `undefined` when unset or when the runtime denies access. */
export function getEnv(name: string): string | undefined {
  try {
    const v = process.env[name];
    return v === undefined || v === '' ? undefined : v;
  } catch {
    return undefined;
  }
}

/** The user's command-line arguments (without the runtime and script path). */
export function cliArgs(): string[] {
  const d = (globalThis as { Deno?: { args?: string[] } }).Deno;
  if (d?.args) return [...d.args];
  return process.argv.slice(2);
}

/**
 * Value of a `--name value` or `--name=value` flag in `args`, or `undefined`.
 * @param args argument list (defaults to {@link cliArgs})
 */
export function flagValue(name: string, args: string[] = cliArgs()): string | undefined {
  const long = `--${name}`;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === long) return args[i + 1];
    if (a.startsWith(long + '=')) return a.slice(long.length + 1);
  }
  return undefined;
}
