/**
 * Plain-text tables of tidy rows for notebook and console output: chosen columns, numbers printed
 * compactly, columns padded to line up. The result files stay the source of truth; this only prints them.
 *
 * @module
 */
import { formatSig } from './scale.ts';

/** A column: a key, or `[header, key or accessor]`. */
export type TableColumn = string | [string, string | ((row: Record<string, unknown>) => unknown)];

function cellText(v: unknown): string {
  if (v === null || v === undefined) return 'n/a';
  if (typeof v === 'number') return Number.isFinite(v) ? formatSig(v, 3) : 'n/a';
  if (Array.isArray(v)) return v.map(cellText).join(',');
  return String(v);
}

/**
 * Formats `rows` as an aligned text table (header, rule, one line per row; numbers right-aligned).
 * Columns absent from a row print as "n/a".
 */
export function formatTable(rows: readonly object[], columns: TableColumn[]): string {
  const cols = columns.map((c) => (typeof c === 'string' ? { head: c, get: (r: Record<string, unknown>) => r[c] } : { head: c[0], get: typeof c[1] === 'string' ? ((k: string) => (r: Record<string, unknown>) => r[k])(c[1]) : c[1] }));
  const body = (rows as Record<string, unknown>[]).map((r) => cols.map((c) => c.get(r)));
  const text = body.map((vals) => vals.map(cellText));
  const numeric = cols.map((_, j) => body.every((vals) => typeof vals[j] === 'number' || vals[j] === null || vals[j] === undefined));
  const width = cols.map((c, j) => Math.max(c.head.length, ...text.map((t) => t[j].length)));
  const pad = (s: string, j: number) => (numeric[j] ? s.padStart(width[j]) : s.padEnd(width[j]));
  return [cols.map((c, j) => pad(c.head, j)).join('  '), width.map((w) => '─'.repeat(w)).join('  '), ...text.map((t) => t.map(pad).join('  '))].join('\n').replace(/ +$/gm, '');
}
