/**
 * Benchmark: the cost of ground truth and of each estimator on the MLP setting, measured in one process
 * so the ratios are meaningful even on a noisy machine.
 *
 * - TSLOO counterfactual runs per second: vectorised replicas vs one-at-a-time branched reruns (ratio).
 * - Each estimator's wall time relative to one training run of the same setting (ratio), and
 *   AdamW-influence relative to SGD-influence (the paper: same O(T) cost, about 3× the state).
 *
 *     npx tsx bench/estimators.bench.ts [--preset quick|full] [--ids 32] [--queries 32] [--backend wasm]
 *
 * Writes bench/results/estimators.json (atomically) and prints a table.
 *
 * @module
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, runtimeInfo } from '../lib/runtime/backend.ts';
import { flagValue } from '../lib/runtime/env.ts';
import { loadSetting } from '../lib/settings/index.ts';
import { subset } from '../lib/data/dataset.ts';
import { selectSubset } from '../lib/data/subsets.ts';
import { train } from '../lib/train/trainer.ts';
import { writeAtomic } from '../lib/cache/integrity.ts';
import { tsloo } from '../lib/groundtruth/tsloo.ts';
import { getEstimator } from '../lib/estimators/registry.ts';
import type { AttributionTask } from '../lib/estimators/types.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const preset = flagValue('preset') ?? 'quick';
const nIds = Number(flagValue('ids') ?? 32);
const nQueries = Number(flagValue('queries') ?? 32);
await initBackend();

const L = await loadSetting('mlp', preset, { seed: 0, lr: 1e-3 });
const queries = subset(L.test, Array.from({ length: nQueries }, (_, i) => i));
const ids = selectSubset(L.train.n, nIds, 0, 'bench-ids');

const secs = async (f: () => Promise<unknown>) => {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / 1000;
};

// One training run (full recording, as the estimators need), timed twice; keep the faster.
let trajectory = await train({ model: L.model, data: L.train, setting: L.trainConfig });
const trainSeconds = Math.min(
  await secs(async () => (trajectory = await train({ model: L.model, data: L.train, setting: L.trainConfig }))),
  await secs(() => train({ model: L.model, data: L.train, setting: L.trainConfig })),
);
const T = trajectory.manifest.steps;

const gt: Record<string, { seconds: number; runsPerSecond: number }> = {};
for (const method of ['vectorised', 'sequential'] as const) {
  const r = await tsloo({ model: L.model, data: L.train, trajectory, queries, ids, method });
  gt[method] = { seconds: r.timing.seconds, runsPerSecond: r.timing.runsPerSecond };
}

const task: AttributionTask = { model: L.model, data: L.train, trajectory, queries, trainIds: ids };
const ESTIMATORS: { label: string; name: string; options?: Record<string, unknown> }[] = [
  { label: 'tracin', name: 'tracin' },
  { label: 'grad-dot', name: 'grad-dot' },
  { label: 'adam-first-order', name: 'adam-first-order' },
  { label: 'sgd-influence (exact)', name: 'sgd-influence', options: { curvature: 'exact' } },
  { label: 'adamw-influence (none)', name: 'adamw-influence', options: { curvature: 'none' } },
  { label: 'adamw-influence (ggn)', name: 'adamw-influence', options: { curvature: 'ggn' } },
  { label: 'adamw-influence (exact)', name: 'adamw-influence', options: { curvature: 'exact' } },
];
const est: { label: string; seconds: number; perQueryPerStepMs: number; vsTraining: number }[] = [];
for (const e of ESTIMATORS) {
  const s = await secs(() => getEstimator(e.name).score(task, e.options ?? {}));
  est.push({ label: e.label, seconds: s, perQueryPerStepMs: (1000 * s) / (nQueries * T), vsTraining: s / trainSeconds });
}
const sgd = est.find((e) => e.label === 'sgd-influence (exact)')!.seconds;
const adamw = est.find((e) => e.label === 'adamw-influence (exact)')!.seconds;

const result = {
  bench: 'estimators',
  setting: { name: 'mlp', preset, lr: 1e-3, nTrain: L.train.n, steps: T, scoredIds: nIds, queries: nQueries },
  trainSeconds,
  tsloo: { ...gt, vectorisedSpeedup: gt.vectorised.runsPerSecond / gt.sequential.runsPerSecond },
  estimators: est,
  adamwOverSgdInfluence: adamw / sgd,
  runtime: runtimeInfo(),
  host: { cpus: os.cpus().length, loadavg: os.loadavg() },
  date: new Date().toISOString(),
};
const out = path.join(root, 'bench', 'results', 'estimators.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
writeAtomic(out, JSON.stringify(result, null, 1) + '\n');

console.log(`mlp/${preset}: ${L.train.n} train, ${T} steps, ${nIds} scored ids × ${nQueries} queries; one training run ${trainSeconds.toFixed(2)} s`);
console.log(`TSLOO: vectorised ${gt.vectorised.runsPerSecond.toFixed(1)} runs/s, sequential ${gt.sequential.runsPerSecond.toFixed(1)} runs/s → ×${result.tsloo.vectorisedSpeedup.toFixed(2)}`);
for (const e of est) console.log(`${e.label.padEnd(26)} ${e.seconds.toFixed(2).padStart(8)} s  ${e.vsTraining.toFixed(1).padStart(7)}× a training run  ${e.perQueryPerStepMs.toFixed(2)} ms per query·step`);
console.log(`AdamW-influence / SGD-influence (exact curvature): ${result.adamwOverSgdInfluence.toFixed(2)}×`);
console.log(`→ ${path.relative(root, out)}`);
