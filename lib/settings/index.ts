/**
 * Settings registry: a setting name plus a preset → model, data and training setting
 * ({@link LoadedSetting}). Each setting lives in its own module here (mlp.ts; cnn, gpt2 and llama follow).
 *
 * @module
 */
import { loadMlpSetting, MLP_SETTING_PRESETS, type LoadedSetting } from './mlp.ts';

export * from './mlp.ts';

/** Options every setting accepts (a setting may accept more). */
export interface SettingOptions {
  seed?: number;
  lr?: number;
}

interface SettingEntry {
  presets: readonly string[];
  load: (preset: string, opts: SettingOptions) => Promise<LoadedSetting>;
}

const SETTINGS: Record<string, SettingEntry> = {
  mlp: { presets: Object.keys(MLP_SETTING_PRESETS), load: loadMlpSetting },
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
export function loadSetting(name: string, preset: string, opts: SettingOptions = {}): Promise<LoadedSetting> {
  return entry(name).load(preset, opts);
}

function entry(name: string): SettingEntry {
  if (!Object.hasOwn(SETTINGS, name)) throw new Error(`unknown setting '${name}'; known: ${settingNames().join(', ')}`);
  return SETTINGS[name];
}
