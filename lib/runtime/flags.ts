/**
 * Strict parsing of command-line values: every malformed, repeated or unknown value is a {@link UsageError}
 * naming the flag, so a typo can never select a different grid or shrink a statistic.
 *
 * - numbers are plain decimals (`1e-3`, `0.1`, `5`): no hex, no empty string, no `Infinity`;
 * - lists are comma-separated with no empty items and no duplicates (`--seeds 0,0` would count seed 0 twice);
 * - {@link checkIn} restricts values to a preset's grid.
 *
 * @example
 * ```ts
 * const lrs = parseNumberList('lrs', '1e-3,1e-4'); // [0.001, 0.0001]
 * checkIn('lrs', lrs, [1e-3, 1e-4, 1e-5], "the preset 'full'");
 * ```
 * @module
 */
import { UsageError } from './errors.ts';

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * A plain decimal number.
 * @throws UsageError for anything else (`0x10`, `1e3x`, ``, `Infinity`)
 */
export function parseNumber(flag: string, text: string): number {
  const t = text.trim();
  const v = Number(t);
  if (!DECIMAL.test(t) || !Number.isFinite(v)) throw new UsageError(`--${flag}: '${text}' is not a decimal number`);
  return v;
}

/**
 * A non-negative integer written in decimal digits.
 * @throws UsageError otherwise (`1.5`, `-1`, `1e2`)
 */
export function parseIndex(flag: string, text: string): number {
  const t = text.trim();
  if (!/^\d+$/.test(t) || !Number.isSafeInteger(Number(t))) throw new UsageError(`--${flag}: '${text}' is not a non-negative integer`);
  return Number(t);
}

/**
 * A comma-separated list, each item parsed by `item`.
 * @throws UsageError on an empty item (`1e-3,`) or a repeated value (`0,0`)
 */
export function parseList<T>(flag: string, text: string, item: (flag: string, text: string) => T): T[] {
  const parts = text.split(',');
  const out: T[] = [];
  parts.forEach((p, i) => {
    if (p.trim() === '') throw new UsageError(`--${flag}: item ${i + 1} of '${text}' is empty`);
    const v = item(flag, p);
    if (out.includes(v)) throw new UsageError(`--${flag}: '${p.trim()}' is listed twice in '${text}'`);
    out.push(v);
  });
  return out;
}

/** {@link parseList} of decimal numbers. */
export function parseNumberList(flag: string, text: string): number[] {
  return parseList(flag, text, parseNumber);
}

/** {@link parseList} of non-negative integers. */
export function parseIndexList(flag: string, text: string): number[] {
  return parseList(flag, text, parseIndex);
}

/** {@link parseList} of names (trimmed, non-empty). */
export function parseNameList(flag: string, text: string): string[] {
  return parseList(flag, text, (_f, t) => t.trim());
}

/**
 * Checks that every value is one of `allowed`.
 * @param where what `allowed` belongs to, for the message (e.g. "the preset 'full'")
 * @throws UsageError naming the first value that is not allowed and listing the allowed ones
 */
export function checkIn<T extends number | string>(flag: string, values: readonly T[], allowed: readonly T[], where: string): void {
  for (const v of values) {
    if (!allowed.includes(v)) throw new UsageError(`--${flag}: ${v} is not in ${where} (choose from ${[...new Set(allowed)].join(', ')})`);
  }
}
