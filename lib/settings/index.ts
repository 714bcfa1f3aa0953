/**
 * Settings registry: a setting name plus a preset → model, data and training setting
 * ({@link Setting}). Each setting lives in its own module here: mlp.ts, cnn.ts, gpt2.ts (with the
 * in-suite pretraining of pretrain.ts) and llama.ts.
 *
 * @module
 */
import { loadMlpSetting, MLP_SETTING_PRESETS } from './mlp.ts';
import type { Setting } from './types.ts';
import { CNN_SETTING_PRESETS, loadCnnSetting } from './cnn.ts';
import { GPT2_SETTING_PRESETS, loadGpt2Setting } from './gpt2.ts';
import { LLAMA_SETTING_PRESETS, loadLlamaSetting } from './llama.ts';
import { UsageError } from '../runtime/errors.ts';

export * from './mlp.ts';
export type * from './types.ts';

/** Options every setting accepts (a setting may accept more). */
export interface SettingOptions {
  seed?: number;
  lr?: number;
}

interface SettingEntry {
  presets: readonly string[];
  load: (preset: string, opts: SettingOptions) => Promise<Setting>;
}

const SETTINGS: Record<string, SettingEntry> = {
  mlp: { presets: Object.keys(MLP_SETTING_PRESETS), load: loadMlpSetting },
  cnn: { presets: Object.keys(CNN_SETTING_PRESETS), load: loadCnnSetting },
  gpt2: { presets: Object.keys(GPT2_SETTING_PRESETS), load: loadGpt2Setting },
  llama: { presets: Object.keys(LLAMA_SETTING_PRESETS), load: loadLlamaSetting },
};

/** Names of the registered settings. */
export function settingNames(): string[] {
  return Object.keys(SETTINGS);
}

/** Preset names of a setting. @throws on an unknown setting */
export function settingPresets(name: string): readonly string[] {
  return entry(name).presets;
}

/**
 * Loads a setting by name and preset.
 * @throws naming the unknown setting or preset and listing the known ones
 */
export function loadSetting(name: string, preset: string, opts: SettingOptions = {}): Promise<Setting> {
  return entry(name).load(preset, opts);
}

function entry(name: string): SettingEntry {
  if (!Object.hasOwn(SETTINGS, name)) throw new UsageError(`unknown setting '${name}'; known: ${settingNames().join(', ')}`);
  return SETTINGS[name];
}
