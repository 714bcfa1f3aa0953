/**
 * Benchmark: milliseconds per AdamW training step (forward + backward + update) for each model family,
 * timed through the trainer's own step path (`Runner.step` of lib/train/engine.ts: batch upload,
 * weighted batch loss, `tf.valueAndGrads`, AdamW, non-finite probe — all in one `tf.tidy` that ends in
 * a `dataSync`), on synthetic data.
 *
 * Timing method (shared/research/engine.md §1): 2 warm-up steps, then at least 5 timed steps, continuing
 * until the timed total reaches the budget (default 3 s) or 200 steps; reports median, p10 and p90.
 *
 *     npm run bench [-- --backend wasm|cpu|tensorflow|auto] [--budget 3] [--cases mlp-small,gpt2-tiny]
 *     deno run -A bench/train_step.bench.ts [same flags]
 *
 * Writes bench/results/train_step.json (atomically) and prints a table.
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
import { Rng, rngFor } from '../lib/runtime/rng.ts';
import { createModel, type ModelSpecJson } from '../lib/models/registry.ts';
import { numParams, type Model } from '../lib/models/types.ts';
import { flattenParams } from '../lib/models/params.ts';
import type { Dataset } from '../lib/data/dataset.ts';
import { makeEngine, Runner } from '../lib/train/engine.ts';
import type { TrainConfig } from '../lib/train/setting.ts';
import { writeAtomic } from '../lib/cache/integrity.ts';

/** One benchmark case: a model, a batch size and (for language models) a sequence length. */
interface Case {
  name: string;
  model: ModelSpecJson;
  batch: number;
  /** Sequence length (language models only). */
  seq?: number;
  note?: string;
}

const CASES: Case[] = [
  { name: 'mlp-small', model: { family: 'mlp', preset: 'small' }, batch: 64, note: '784-16-16-10 ReLU (the MLP setting)' },
  { name: 'cnn-small', model: { family: 'cnn', preset: 'small' }, batch: 64, note: '28×28×1, channels 8/16' },
  { name: 'gpt2-tiny', model: { family: 'gpt2', preset: 'tiny' }, batch: 8, seq: 16, note: 'V=64 d=16 L=1' },
  {
    name: 'gpt2-medium-v512',
    model: { family: 'gpt2', config: { vocab: 512, ctx: 64, d: 64, heads: 4, layers: 2 } },
    batch: 8,
    seq: 64,
    note: 'the small preset with a 512-token vocabulary',
  },
  { name: 'gpt2-small-v50257', model: { family: 'gpt2', preset: 'small' }, batch: 4, seq: 64, note: 'full GPT-2 vocabulary: shows its cost' },
  { name: 'llama-stories260K', model: { family: 'llama', preset: 'stories260K' }, batch: 8, seq: 64, note: 'stories260K architecture, random init' },
];

const WARMUP = 2;
const MIN_ITERS = 5;
const MAX_ITERS = 200;

/** Linear-interpolation quantile of sorted values. */
function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Synthetic data of the shape a case needs: Gaussian images / features, or uniform random tokens. */
function syntheticData(model: Model, c: Case, n: number): Dataset {
  const rng = new Rng(1);
  const cfg = model.config as Record<string, unknown>;
  if (c.seq !== undefined) {
    const V = cfg.vocab as number;
    const T = c.seq;
    const x = new Int32Array(n * T);
    const y = new Int32Array(n * T);
    for (let i = 0; i < x.length; i++) x[i] = rng.int(V);
    for (let i = 0; i < y.length; i++) y[i] = rng.int(V);
    return { name: `tokens-${n}x${T}`, n, x, xShape: [T], y, yShape: [T], classes: V };
  }
  const xShape = model.family === 'cnn' ? (cfg.input as number[]) : [(cfg.sizes as number[])[0]];
  const classes = model.family === 'cnn' ? (cfg.classes as number) : (cfg.sizes as number[]).at(-1)!;
  const d = xShape.reduce((a, b) => a * b, 1);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = rng.int(classes);
  return { name: `gauss-${n}x${d}`, n, x: rng.normalArray(n * d), xShape, y, yShape: [], classes };
}

/** Times one case; returns its result record. */
function runCase(c: Case, budgetS: number): Record<string, unknown> {
  const model = createModel(c.model);
  const nPerEpoch = 16;
  const data = syntheticData(model, c, nPerEpoch * c.batch);
  const setting: TrainConfig = {
    seed: 0,
    batchSize: c.batch,
    // Enough steps for the warm-up and the most timed iterations.
    epochs: Math.ceil((WARMUP + MAX_ITERS) / nPerEpoch),
    optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0 },
    schedule: { kind: 'constant', lr: 1e-4 },
  };
  const engine = makeEngine({ model, data, setting });
  const init = model.init(rngFor(0, 'init'));
  const theta = flattenParams(init, model.spec);
  tf.dispose(Object.values(init));
  const tensorsBefore = tf.memory().numTensors;
  const runner = new Runner(engine, { theta, optStep: 0 }, 0);
  const times: number[] = [];
  try {
    for (let i = 0; i < WARMUP; i++) runner.step();
    let total = 0;
    while (times.length < MIN_ITERS || (total < budgetS * 1000 && times.length < MAX_ITERS)) {
      const t0 = performance.now();
      runner.step(); // tf.tidy(...) ending in dataSync: the step is complete when it returns
      const dt = performance.now() - t0;
      times.push(dt);
      total += dt;
    }
  } finally {
    runner.dispose();
  }
  const leaked = tf.memory().numTensors - tensorsBefore;
  const sorted = [...times].sort((a, b) => a - b);
  const rt = runtimeInfo();
  const xShape = [c.batch, ...data.xShape];
  return {
    name: c.name,
    family: model.family,
    config: model.config,
    note: c.note,
    params: numParams(model.spec),
    batchShape: { x: xShape, y: [c.batch, ...data.yShape] },
    ms: {
      median: quantile(sorted, 0.5),
      p10: quantile(sorted, 0.1),
      p90: quantile(sorted, 0.9),
      min: sorted[0],
      mean: times.reduce((a, b) => a + b, 0) / times.length,
    },
    iterations: times.length,
    warmup: WARMUP,
    // Tensors left after the runner is disposed (0 = the step path leaks nothing).
    tensorsLeaked: leaked,
    backend: rt.backend,
    runtime: rt.runtime,
    versions: rt.versions,
    date: new Date().toISOString(),
  };
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

async function main(): Promise<void> {
  const budgetS = Number(flagValue('budget') ?? '3');
  if (!(budgetS > 0)) throw new Error(`--budget must be a positive number of seconds, got '${flagValue('budget')}'`);
  const only = flagValue('cases')?.split(',');
  const unknown = only?.filter((n) => !CASES.some((c) => c.name === n)) ?? [];
  if (unknown.length) throw new Error(`unknown case(s) ${unknown.join(', ')}; known: ${CASES.map((c) => c.name).join(', ')}`);
  const cases = only ? CASES.filter((c) => only.includes(c.name)) : CASES;

  const rt = await initBackend(); // honours --backend and FTDA_BACKEND
  console.log(`train-step bench: backend ${rt.backend} (${rt.runtime}), budget ${budgetS} s per case, ${os.cpus().length} CPUs`);
  const results: Record<string, unknown>[] = [];
  for (const c of cases) {
    const r = runCase(c, budgetS);
    results.push(r);
    const ms = r.ms as Record<string, number>;
    console.log(`  ${pad(c.name, 20)} ${ms.median.toFixed(2)} ms (${r.iterations} iterations)`);
  }

  const here = path.dirname(fileURLToPath(import.meta.url));
  const outDir = path.join(here, 'results');
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, 'train_step.json');
  const doc = {
    format: 'faithful-tda/bench/train_step',
    version: 1,
    date: new Date().toISOString(),
    method: `Runner.step (trainer step path), AdamW; ${WARMUP} warm-up steps, then ≥${MIN_ITERS} timed steps until ${budgetS} s or ${MAX_ITERS} steps; median, p10, p90`,
    backend: rt.backend,
    runtime: rt.runtime,
    versions: rt.versions,
    gradFixes: rt.gradFixes,
    host: { platform: `${os.platform()} ${os.arch()}`, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '' },
    cases: results,
  };
  writeAtomic(file, JSON.stringify(doc, null, 2) + '\n');

  const head = ['case', 'params', 'batch (x)', 'median ms', 'p10', 'p90', 'iters'];
  const rows = results.map((r) => {
    const ms = r.ms as Record<string, number>;
    return [
      r.name as string,
      String(r.params),
      `[${(r.batchShape as { x: number[] }).x.join(',')}]`,
      ms.median.toFixed(2),
      ms.p10.toFixed(2),
      ms.p90.toFixed(2),
      String(r.iterations),
    ];
  });
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => '| ' + cells.map((s, i) => pad(s, w[i], i > 0)).join(' | ') + ' |';
  console.log('\n' + line(head));
  console.log('|' + w.map((n, i) => (i > 0 ? '-'.repeat(n + 1) + ':' : '-'.repeat(n + 2))).join('|') + '|');
  for (const r of rows) console.log(line(r));
  console.log(`\nbackend ${rt.backend}, ${rt.runtime}, tfjs ${rt.versions['@tensorflow/tfjs-core'] ?? '?'} → ${path.relative(process.cwd(), file)}`);
}

try {
  await main();
  process.exit(0);
} catch (e) {
  process.stderr.write(`error: ${(e as Error).message}\n`);
  process.exit(1);
}
