/**
 * What a setting is: one of the paper's experimental settings (MLP, CNN, GPT-2, Llama) at a preset, loaded —
 * the model, its data splits, the training configuration (`TrainConfig`, lib/train/setting.ts) and a JSON
 * description for result files. "Setting" means this everywhere in the library; the training configuration
 * is always called a train config (its stored field in manifests keeps the name `setting`).
 *
 * @module
 */
import type { Model } from '../models/types.ts';
import type { Dataset } from '../data/dataset.ts';
import type { TrainConfig } from '../train/setting.ts';

/** A loaded setting: everything `train()` needs plus a JSON description for result files. */
export interface Setting {
  model: Model;
  train: Dataset;
  test: Dataset;
  trainConfig: TrainConfig;
  /** Plain JSON naming the data, model and training (what the content hash of a result should cover). */
  describe: SettingDescription;
}

/** JSON description of a loaded setting. */
export interface SettingDescription {
  name: string;
  preset: string;
  data: {
    dataset: string;
    train: { from: string; poolSize: number; size: number; stream: string };
    test: { from: string; poolSize: number; size: number; stream: string };
    files: Record<string, unknown>;
  };
  model: { family: string; preset: string; config: unknown; nParams: number };
  training: TrainConfig;
  steps: number;
}

