/**
 * Model registry: build any model family from plain JSON (`{ family, preset?, config? }`).
 *
 * @module
 */
import { cnn, CNN_PRESETS, type CnnConfig } from './cnn.ts';
import { gpt2, GPT2_PRESETS, type Gpt2Config } from './gpt2.ts';
import { llama, LLAMA_PRESETS, type LlamaConfig } from './llama.ts';
import { mlp, MLP_PRESETS, type MlpConfig } from './mlp.ts';
import type { Model, ModelFamily } from './types.ts';
import { UsageError } from '../runtime/errors.ts';

/** JSON description of a model: a family plus a named preset and/or explicit config overrides. */
export interface ModelSpecJson {
  family: ModelFamily | string;
  preset?: string;
  config?: Record<string, unknown>;
}

interface FamilyEntry {
  presets: Record<string, unknown>;
  build: (config: never) => Model;
}

const FAMILIES: Record<string, FamilyEntry> = {
  mlp: { presets: MLP_PRESETS, build: (c: MlpConfig) => mlp(c) },
  cnn: { presets: CNN_PRESETS, build: (c: CnnConfig) => cnn(c) },
  gpt2: { presets: GPT2_PRESETS, build: (c: Gpt2Config) => gpt2(c) },
  llama: { presets: LLAMA_PRESETS, build: (c: LlamaConfig) => llama(c) },
};

/** Registers a model family (used by the transformer modules and by users plugging in their own). */
export function registerModelFamily(name: string, entry: FamilyEntry): void {
  FAMILIES[name] = entry;
}

/** Names of the registered families. */
export function modelFamilies(): string[] {
  return Object.keys(FAMILIES);
}

/**
 * Builds a model from its JSON description.
 * @throws naming the unknown family or preset and listing the known ones
 */
export function createModel(spec: ModelSpecJson): Model {
  const fam = FAMILIES[spec.family];
  if (!fam) {
    throw new UsageError(`unknown model family '${spec.family}'; known: ${Object.keys(FAMILIES).join(', ')}`);
  }
  let base: Record<string, unknown> = {};
  if (spec.preset !== undefined) {
    const p = fam.presets[spec.preset];
    if (!p) {
      throw new Error(
        `unknown preset '${spec.preset}' for model family '${spec.family}'; known: ${Object.keys(fam.presets).join(', ')}`,
      );
    }
    base = p as Record<string, unknown>;
  } else if (!spec.config) {
    throw new Error(`model '${spec.family}': give a preset or a config`);
  }
  return fam.build({ ...base, ...(spec.config ?? {}) } as never);
}
