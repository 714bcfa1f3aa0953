/**
 * Benchmark: tokens per second of the two language-model settings (GPT-2 continual pretraining, Llama
 * instruction tuning) for training and for the AdamW-influence sweep, on the settings' real data and
 * pretrained bases.
 *
 * - Training: `Runner.step` (the trainer's step path) on the setting's own batches; tokens/s = B·T / step time.
 * - AdamW-influence (exact curvature): the estimator itself on a short run of the same setting (the first
 *   `steps`·B training sequences, one epoch) with `queries` queries and 2 scored samples; its cost is one HVP
 *   per query per step, so tokens/s = queries·steps·B·T / seconds ("tokens pushed through curvature
 *   products"). Divide a cell's queries·steps·B·T by it to predict the cell's sweep time.
 *
 *     npx tsx bench/lm.bench.ts [--preset full|quick] [--settings gpt2,llama] [--steps 3] [--queries 2]
 *
 * Writes bench/results/lm.json (atomically, with the load average before and after: compare numbers only
 * on a quiet machine and within one backend).
 *
 * @module
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, runtimeInfo } from '../lib/runtime/backend.ts';
import { flagValue } from '../lib/runtime/env.ts';
import { tf } from '../lib/runtime/tf.ts';
import { loadSetting } from '../lib/settings/index.ts';
import { subset } from '../lib/data/dataset.ts';
import { numParams } from '../lib/models/types.ts';
import { flattenParams } from '../lib/models/params.ts';
import { rngFor } from '../lib/runtime/rng.ts';
import { makeEngine, Runner } from '../lib/train/engine.ts';
import { train } from '../lib/train/trainer.ts';
import { getEstimator } from '../lib/estimators/registry.ts';
import { writeAtomic } from '../lib/cache/integrity.ts';

const WARMUP = 1;
const TIMED = 4;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function benchSetting(name: string, preset: string, steps: number, nQueries: number): Promise<Record<string, unknown>> {
  const s = await loadSetting(name, preset, { seed: 0 });
  const { model, trainConfig: setting } = s;
  const B = setting.batchSize;
  const T = s.train.yShape[0];
  const tokensPerStep = B * T;

  // Training steps on the setting's own data.
  const engine = makeEngine({ model, data: s.train, setting });
  const init = model.init(rngFor(0, 'init'));
  const theta = flattenParams(init, model.spec);
  tf.dispose(Object.values(init));
  const runner = new Runner(engine, { theta, optStep: 0 }, 0);
  const stepMs: number[] = [];
  try {
    for (let i = 0; i < WARMUP; i++) runner.step();
    for (let i = 0; i < TIMED; i++) {
      const t0 = performance.now();
      runner.step();
      stepMs.push(performance.now() - t0);
    }
  } finally {
    runner.dispose();
  }

  // The AdamW-influence sweep on a short run of the same setting.
  const short = subset(s.train, Array.from({ length: steps * B }, (_, i) => i), `${s.train.name}[:${steps * B}]`);
  const traj = await train({ model, data: short, setting: { ...setting, epochs: 1 } });
  const queries = subset(s.test, Array.from({ length: nQueries }, (_, i) => i), `${s.test.name}[:${nQueries}]`);
  const t0 = performance.now();
  const scores = await getEstimator('adamw-influence').score({ model, data: short, trajectory: traj, queries, trainIds: [0, 1] }, { curvature: 'exact' });
  const sweepS = (performance.now() - t0) / 1000;
  if (!scores.values.every(Number.isFinite)) throw new Error(`lm bench ${name}: non-finite AdamW-influence scores`);
  const sweepTokens = nQueries * traj.manifest.steps * tokensPerStep;
  const trainMs = median(stepMs);
  return {
    setting: name,
    preset,
    params: numParams(model.spec),
    batch: B,
    tokensPerSequence: T,
    train: { msPerStep: trainMs, stepMs, tokensPerSecond: tokensPerStep / (trainMs / 1000) },
    adamwInfluenceExact: {
      steps: traj.manifest.steps,
      queries: nQueries,
      seconds: sweepS,
      secondsPerQueryStep: sweepS / (nQueries * traj.manifest.steps),
      tokensPerSecond: sweepTokens / sweepS,
    },
  };
}

async function main(): Promise<void> {
  await initBackend();
  const preset = flagValue('preset') ?? 'full';
  const settings = (flagValue('settings') ?? 'gpt2,llama').split(',').map((x) => x.trim());
  const steps = Number(flagValue('steps') ?? 3);
  const queries = Number(flagValue('queries') ?? 2);
  if (!(Number.isInteger(steps) && steps >= 1)) throw new Error(`--steps must be a positive integer, got ${flagValue('steps')}`);
  if (!(Number.isInteger(queries) && queries >= 1)) throw new Error(`--queries must be a positive integer, got ${flagValue('queries')}`);
  const loadBefore = os.loadavg();
  const cases = [];
  for (const name of settings) {
    const r = await benchSetting(name, preset, steps, queries);
    cases.push(r);
    const tr = r.train as { msPerStep: number; tokensPerSecond: number };
    const sw = r.adamwInfluenceExact as { tokensPerSecond: number; secondsPerQueryStep: number };
    console.log(
      `${name}/${preset}: train ${tr.msPerStep.toFixed(0)} ms/step = ${tr.tokensPerSecond.toFixed(0)} tokens/s; ` +
        `AdamW-influence (exact) ${sw.secondsPerQueryStep.toFixed(2)} s per query·step = ${sw.tokensPerSecond.toFixed(0)} tokens/s`,
    );
  }
  const rt = runtimeInfo();
  const doc = {
    bench: 'lm',
    date: new Date().toISOString(),
    method: `train: median of ${TIMED} Runner.step calls after ${WARMUP} warm-up; sweep: adamw-influence (exact) on a ${steps}-step run, ${queries} queries, 2 scored samples`,
    backend: rt.backend,
    runtime: rt.runtime,
    versions: rt.versions,
    host: { platform: `${os.platform()} ${os.arch()}`, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '' },
    loadAverage: { before: loadBefore, after: os.loadavg() },
    cases,
  };
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', 'lm.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeAtomic(file, JSON.stringify(doc, null, 2) + '\n');
  console.log(`wrote ${file}`);
}

await main();
