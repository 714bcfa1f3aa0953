/**
 * Argument checks shared by every setting loader (one wording of the errors everywhere).
 *
 * @module
 */

import { UsageError } from '../runtime/errors.ts';
/**
 * The preset `name` of setting `setting`.
 * @throws naming the unknown preset and listing the known ones
 */
export function pickPreset<P>(setting: string, presets: Record<string, P>, name: string): P {
  if (!Object.hasOwn(presets, name)) {
    throw new UsageError(`unknown preset '${name}' for the ${setting} setting; known: ${Object.keys(presets).join(', ')}`);
  }
  return presets[name];
}

/**
 * The learning rate (default `fallback`), checked to be a positive finite number.
 * @throws naming the setting and the bad value
 */
export function pickLr(setting: string, lr: number | undefined, fallback: number): number {
  const v = lr ?? fallback;
  if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw new Error(`${setting} setting: lr must be a positive number, got ${v}`);
  return v;
}
