/**
 * Writing an experiment's result files: every file atomically (temp + rename), JSON pretty-printed with
 * one-space indent, CSV from tidy rows. One place, so every finding's folder looks the same.
 *
 * @module
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeAtomic } from '../cache/integrity.ts';
import { toCsv } from './summary.ts';
import { EmptyResultError } from '../runtime/errors.ts';
import { lockSync } from '../cache/lock.ts';

/**
 * Writes `files` into `outDir` (created if needed): names ending in `.json` get `JSON.stringify(value)`,
 * names ending in `.csv` get {@link toCsv} of an array of rows.
 * @throws on any other extension, or a `.csv` value that is not an array; {@link EmptyResultError} when every
 *   table is empty (nothing is written)
 */
export function writeResultFiles(outDir: string, files: Record<string, unknown>): void {
  // A selection that matched nothing must not replace a summary computed earlier with empty tables.
  const tables = Object.entries(files).filter(([n]) => n.endsWith('.csv'));
  if (tables.length && tables.every(([, v]) => Array.isArray(v) && v.length === 0)) {
    throw new EmptyResultError(`nothing to write: the selection matches no computed cell, so ${outDir} is left as it was (check --settings, --lrs, --seeds against the preset)`);
  }
  fs.mkdirSync(outDir, { recursive: true });
  // Files of one summary are written together: two processes finishing at once do not interleave them.
  const release = lockSync(outDir);
  try {
    writeAll(outDir, files);
  } finally {
    release();
  }
}

function writeAll(outDir: string, files: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(files)) {
    let text: string;
    if (name.endsWith('.json')) text = JSON.stringify(value, null, 1) + '\n';
    else if (name.endsWith('.csv')) {
      if (!Array.isArray(value)) throw new Error(`writeResultFiles: ${name} needs an array of rows, got ${typeof value}`);
      text = toCsv(value);
    } else throw new Error(`writeResultFiles: unsupported file type '${name}' (use .json or .csv)`);
    writeAtomic(path.join(outDir, name), text);
  }
}
