/**
 * The estimator variants the findings compare, each with a stable id (code, result rows and figures match on
 * it) apart from its display label (tables and figures show it; renaming one changes no logic and no cache).
 * A variant is a registry name plus options (lib/estimators/registry.ts); cache keys use those, never the id or
 * the label.
 *
 * @example
 * ```ts
 * const gain = relativeGains(results, VARIANTS.adamwExact.id, VARIANTS.sgdInfluence.id);
 * ```
 * @module
 */
import type { EstimatorSpec } from './cell.ts';

/** A spec whose id is fixed. */
export type Variant = EstimatorSpec & { id: string };

/** The shared variants (ids in kebab case; never reuse an id for other numbers). */
export const VARIANTS = {
  adamwExact: { id: 'adamw-influence-exact', label: 'AdamW-influence (exact)', name: 'adamw-influence', options: { curvature: 'exact' } },
  adamwGgn: { id: 'adamw-influence-ggn', label: 'AdamW-influence (GGN)', name: 'adamw-influence', options: { curvature: 'ggn' } },
  adamwNone: { id: 'adamw-influence-none', label: 'AdamW-influence (none)', name: 'adamw-influence', options: { curvature: 'none' } },
  adamFirstOrder: { id: 'adam-first-order', label: 'Adam first-order', name: 'adam-first-order' },
  sgdInfluence: { id: 'sgd-influence-exact', label: 'SGD-influence', name: 'sgd-influence', options: { curvature: 'exact' } },
  tracin: { id: 'tracin', label: 'TracIn', name: 'tracin' },
  // Partial AdamW accounting (adamw-influence.ts `AdamWAblation`), exact curvature.
  adamwNoBiasCorrection: { id: 'adamw-influence-no-bias-correction', label: 'AdamW-influence (no bias corr.)', name: 'adamw-influence', options: { curvature: 'exact', ablation: 'no-bias-correction' } },
  adamwVFrozen: { id: 'adamw-influence-v-frozen', label: 'AdamW-influence (v frozen)', name: 'adamw-influence', options: { curvature: 'exact', ablation: 'v-frozen' } },
  adamwNoMomentum: { id: 'adamw-influence-no-momentum', label: 'AdamW-influence (no momentum)', name: 'adamw-influence', options: { curvature: 'exact', ablation: 'no-momentum' } },
} as const satisfies Record<string, Variant>;

/** Ids of the partial-accounting ablations. */
export const ABLATION_IDS: readonly string[] = [VARIANTS.adamwNoBiasCorrection.id, VARIANTS.adamwVFrozen.id, VARIANTS.adamwNoMomentum.id];

/** A variant restricted to the first `maxQueries` queries (undefined: all). */
export function onFirstQueries(v: Variant, maxQueries?: number): Variant {
  return maxQueries === undefined ? { ...v } : { ...v, maxQueries };
}
