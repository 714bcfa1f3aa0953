/**
 * Estimator registry: adding an estimator is one file plus one line here (or `registerEstimator` from
 * user code).
 *
 * @module
 */
import { accSgdIe } from './acc-sgd-ie.ts';
import { adamFirstOrder } from './adam-first-order.ts';
import { adamwInfluence } from './adamw-influence.ts';
import { gradCos, gradDot } from './grad-similarity.ts';
import { ifCg, ifExplicit, ifLissa } from './influence-function.ts';
import { sgdInfluence } from './sgd-influence.ts';
import { tracin, tracinCp } from './tracin.ts';
import type { Estimator } from './types.ts';
import { UsageError } from '../runtime/errors.ts';

const REGISTRY = new Map<string, Estimator<never>>();

/** Adds (or replaces) an estimator under its name. */
export function registerEstimator(e: Estimator<never>): void {
  if (!e.name || typeof e.score !== 'function') throw new Error('registerEstimator: an estimator needs a name and a score function');
  REGISTRY.set(e.name, e);
}

/** The estimator registered as `name`; throws listing the known names. */
export function getEstimator<O = unknown>(name: string): Estimator<O & Record<string, unknown>> {
  const e = REGISTRY.get(name);
  if (!e) throw new UsageError(`unknown estimator '${name}'; known: ${[...REGISTRY.keys()].join(', ')}`);
  return e as unknown as Estimator<O & Record<string, unknown>>;
}

/** Registered names with their one-line summaries. */
export function listEstimators(): { name: string; summary: string }[] {
  return [...REGISTRY.values()].map((e) => ({ name: e.name, summary: e.summary }));
}

for (const e of [adamwInfluence, sgdInfluence, tracin, tracinCp, gradDot, gradCos, adamFirstOrder, accSgdIe, ifExplicit, ifCg, ifLissa]) {
  registerEstimator(e as Estimator<never>);
}
