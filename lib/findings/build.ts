/**
 * Building a finding's figures from its results file (what scripts/figures.ts and the notebooks do), so both
 * routes read the same summary and promise the same files.
 *
 * @module
 */
import { readResults } from '../plot/results.ts';
import type { BuiltFigure } from '../plot/write.ts';
import type { AnyFinding } from './types.ts';

/**
 * Reads `results/<id>/<preset>/summary.json` and builds every figure of the finding.
 * @throws ResultsNotFoundError when the results file is missing (naming the command that writes it)
 */
export function buildFigures(f: AnyFinding, preset: string): BuiltFigure[] {
  const r = readResults<never>(f.id, preset);
  return f.figures.map((fig) => fig.build(r.summary, { source: r.source }));
}

/** Every figure stem of the given findings, in order. */
export function figureNames(fs: readonly AnyFinding[]): string[] {
  return fs.flatMap((f) => f.figures.map((x) => x.name));
}
