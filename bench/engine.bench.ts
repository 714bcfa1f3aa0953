/**
 * Side-by-side benchmark of the engine's unit costs against PyTorch on the same core (issue #14).
 *
 *     npx tsx bench/engine.bench.ts [--units mlp-step,gpt2-hvp] [--rounds 2] [--min-ms 300] [--no-peer] [--tag NAME] [--no-write]
 *
 * For each unit the TypeScript side is timed in this process, then the PyTorch peer (bench/peer/torch_units.py,
 * Debian's python3-torch, float32, one thread, OPENBLAS_NUM_THREADS=1) in a child process, interleaved unit by
 * unit and round by round, so both see the same machine load. Times are main-thread CPU (Linux
 * /proc/self/task/<pid>/stat, Python time.thread_time()): on a shared machine that is the single-core-fair measure;
 * wall time is recorded too. Without torch the benchmark still reports our own numbers.
 *
 * OpenBLAS settings are the environment's for both engines (OPENBLAS_CORETYPE, if set, is respected by both). The
 * stretch comparison with a correctly configured AVX-512 BLAS runs both with it and its own tag:
 *
 *     OPENBLAS_CORETYPE=SkylakeX npx tsx bench/engine.bench.ts --tag avx512
 *
 * Writes bench/results/engine[-TAG].json (committed: the tables are generated from it) and regenerates the table
 * between the markers of that tag in bench/README.md.
 *
 * @module
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { initBackend, runtimeInfo } from '../lib/runtime/backend.ts';
import { tf } from '../lib/runtime/tf.ts';
import { flagValue } from '../lib/runtime/env.ts';
import { rngFor } from '../lib/runtime/rng.ts';
import { loadSetting } from '../lib/settings/index.ts';
import { makeBatch, disposeBatch } from '../lib/data/batch.ts';
import { lossAndGrad } from '../lib/autodiff/loss.ts';
import { hvp, hvpMany } from '../lib/autodiff/hvp.ts';
import { numParams } from '../lib/models/types.ts';
import { disposeParams, flattenParams } from '../lib/models/params.ts';
import { makeEngine, Runner } from '../lib/train/engine.ts';
import { train } from '../lib/train/trainer.ts';
import { subset } from '../lib/data/dataset.ts';
import { getEstimator } from '../lib/estimators/registry.ts';
import { tsloo } from '../lib/groundtruth/tsloo.ts';
import { writeAtomic } from '../lib/cache/integrity.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ALL_UNITS = ['gemm', 'mlp-step', 'mlp-hvp-k64', 'mlp-sweep', 'tsloo-mlp', 'cnn-grad', 'cnn-hvp', 'cnn-hvp-k16', 'gpt2-grad', 'gpt2-hvp', 'gpt2-hvp-k16', 'llama-grad', 'llama-hvp', 'llama-hvp-k16'];
const units = (flagValue('units') ?? ALL_UNITS.join(',')).split(',').map((s) => s.trim());
for (const u of units) if (!ALL_UNITS.includes(u)) throw new Error(`--units: unknown unit '${u}'; known: ${ALL_UNITS.join(', ')}`);
const rounds = Number(flagValue('rounds') ?? 2);
const minMs = Number(flagValue('min-ms') ?? 300);
const usePeer = !process.argv.includes('--no-peer');
const tag = flagValue('tag');
const write = !process.argv.includes('--no-write'); // --no-write: print only (a partial run must not replace the table)
if (tag !== undefined && !/^[a-z0-9-]+$/.test(tag)) throw new Error(`--tag must be lower-case letters, digits and '-', got '${tag}'`);
process.env.FTDA_QUIET = '1';
await initBackend({ backend: 'wasm' });
const rt = runtimeInfo();

/** Main-thread CPU time of this process in ms (10 ms ticks; loops are sized to ≥ minMs). */
function threadCpuMs(): number {
  try {
    const stat = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, USER_HZ = 100
  } catch {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median main-thread CPU and wall ms per call of f (each sample loops f for ≥ minMs). */
async function measure(f: () => unknown | Promise<unknown>, per = 1, reps = 3): Promise<{ cpuMs: number; wallMs: number }> {
  await f();
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let r = 0; r < reps; r++) {
    let n = 0;
    const c0 = threadCpuMs();
    const w0 = performance.now();
    do {
      await f();
      n++;
    } while (performance.now() - w0 < minMs);
    cpu.push((threadCpuMs() - c0) / n / per);
    wall.push((performance.now() - w0) / n / per);
  }
  return { cpuMs: median(cpu), wallMs: median(wall) };
}

/** Builds the TypeScript side of each unit: a function to time and how many unit items one call covers. */
async function tsUnit(name: string): Promise<{ f: () => unknown | Promise<unknown>; per: number; gflop?: number; cleanup?: () => void }> {
  if (name === 'gemm') {
    const a = tf.randomNormal([1024, 1024], 0, 1, 'float32', 1);
    const b = tf.randomNormal([1024, 1024], 0, 1, 'float32', 2);
    // Not tf.tidy(() => c.dataSync()): tidy walks a returned TypedArray element by element (20× the GEMM).
    const f = () => {
      const c = tf.matMul(a, b);
      c.dataSync();
      c.dispose();
    };
    return { f, per: 1, gflop: 2 * 1024 ** 3 / 1e9, cleanup: () => tf.dispose([a, b]) };
  }
  if (name.startsWith('mlp') || name === 'tsloo-mlp') {
    const s = await loadSetting('mlp', 'full', { seed: 0, lr: 1e-3 });
    if (name === 'mlp-step') {
      const engine = makeEngine({ model: s.model, data: s.train, setting: s.trainConfig });
      const p0 = s.model.init(rngFor(0, 'init'));
      const theta = flattenParams(p0, s.model.spec);
      disposeParams(p0);
      let runner = new Runner(engine, { theta, optStep: 0 }, 0);
      return {
        f: () => {
          if (runner.t >= engine.T) {
            runner.dispose();
            runner = new Runner(engine, { theta, optStep: 0 }, 0);
          }
          runner.step();
        },
        per: 1,
        cleanup: () => runner.dispose(),
      };
    }
    if (name === 'mlp-hvp-k64') {
      const params = s.model.init(rngFor(0, 'init'));
      const batch = makeBatch(s.train, Array.from({ length: 64 }, (_, i) => i));
      const p = numParams(s.model.spec);
      const V = new Float64Array(rngFor(1, 'v').normalArray(64 * p));
      return { f: () => hvpMany(s.model, params, batch, V, { divisor: 64 }), per: 1, cleanup: () => (disposeParams(params), disposeBatch(batch)) };
    }
    const traj = await train({ model: s.model, data: s.train, setting: { ...s.trainConfig, maxSteps: name === 'mlp-sweep' ? 10 : s.trainConfig.maxSteps } });
    if (name === 'mlp-sweep') {
      const queries = subset(s.test, Array.from({ length: 50 }, (_, i) => i));
      const trainIds = traj.batches.flatMap((b) => b.slice(0, 2)).slice(0, 16);
      const est = getEstimator('adamw-influence');
      return { f: () => est.score({ model: s.model, data: s.train, trajectory: traj, queries, trainIds }, { curvature: 'exact' } as never), per: 50 * 10 };
    }
    // tsloo-mlp: 32 counterfactual reruns of the 94-step run in one vectorised group (branch at step 0).
    const ids = traj.batches[0].slice(0, 32);
    const queries = subset(s.test, Array.from({ length: 16 }, (_, i) => i));
    return { f: () => tsloo({ model: s.model, data: s.train, trajectory: traj, queries, ids, method: 'vectorised', replicas: 32 }), per: 32 };
  }
  // cnn / gpt2 / llama: one full-batch gradient or HVP of the full preset, random θ.
  const setting = name.slice(0, name.indexOf('-'));
  const kind = name.slice(setting.length + 1); // grad | hvp | hvp-k16
  const L = await loadSetting(setting, 'full', { seed: 0 });
  const params = L.model.init(rngFor(0, 'bench-init'));
  const B = L.trainConfig.batchSize;
  const batch = makeBatch(L.train, Array.from({ length: Math.min(B, L.train.n) }, (_, i) => i));
  const p = numParams(L.model.spec);
  const v = new Float32Array(rngFor(1, 'bench-v').normalArray(p, 1));
  const opts = { divisor: B };
  const cleanup = () => (disposeParams(params), disposeBatch(batch));
  if (kind === 'grad') return { f: () => lossAndGrad(L.model, params, batch, opts), per: 1, cleanup };
  if (kind === 'hvp') return { f: () => hvp(L.model, params, batch, v, opts), per: 1, cleanup };
  // hvp-k16: 16 directions through one taped gradient (what an exact sweep does per step), per direction.
  const V = new Float32Array(rngFor(2, 'bench-V').normalArray(16 * p, 1));
  return { f: () => hvpMany(L.model, params, batch, V, opts), per: 16, cleanup };
}

function peer(unit: string, env: NodeJS.ProcessEnv): { cpuMs: number; wallMs: number; torch: string } | { error: string } {
  const r = spawnSync('/usr/bin/python3', [path.join(root, 'bench', 'peer', 'torch_units.py'), unit, '--reps', '3', '--min-ms', String(minMs)], {
    encoding: 'utf8',
    env: { ...env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
    timeout: 600_000,
  });
  if (r.status !== 0) return { error: (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').slice(-1)[0] };
  const j = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  return { cpuMs: j.cpu_ms, wallMs: j.wall_ms, torch: j.torch };
}

const haveTorch = usePeer && spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
const load0 = os.loadavg();
const rows: Record<string, { ts: { cpuMs: number; wallMs: number }[]; torch: { cpuMs: number; wallMs: number }[]; torchError?: string; gflop?: number }> = {};
let torchVersion = '';
for (let round = 0; round < rounds; round++) {
  for (const u of units) {
    const t = await tsUnit(u);
    const m = await measure(t.f, t.per);
    t.cleanup?.();
    const row = (rows[u] ??= { ts: [], torch: [], gflop: t.gflop });
    row.ts.push(m);
    let line = `[round ${round + 1}/${rounds}] ${u.padEnd(12)} ours ${m.cpuMs.toFixed(3)} ms`;
    if (haveTorch) {
      const pm = peer(u, process.env);
      if ('error' in pm) row.torchError = pm.error;
      else {
        row.torch.push(pm);
        torchVersion = pm.torch;
        line += `  torch ${pm.cpuMs.toFixed(3)} ms  ratio ${(m.cpuMs / pm.cpuMs).toFixed(2)}`;
      }
    }
    console.log(line);
  }
}
const load1 = os.loadavg();
const table = Object.entries(rows).map(([unit, r]) => {
  const ours = median(r.ts.map((x) => x.cpuMs));
  const torch = r.torch.length ? median(r.torch.map((x) => x.cpuMs)) : null;
  return {
    unit,
    oursCpuMs: ours,
    oursWallMs: median(r.ts.map((x) => x.wallMs)),
    torchCpuMs: torch,
    torchWallMs: r.torch.length ? median(r.torch.map((x) => x.wallMs)) : null,
    ratio: torch ? ours / torch : null,
    oursGflops: r.gflop ? r.gflop / (ours / 1000) : undefined,
    torchGflops: r.gflop && torch ? r.gflop / (torch / 1000) : undefined,
    torchError: r.torchError,
  };
});
const result = {
  bench: 'engine',
  date: new Date().toISOString(),
  rounds,
  minMs,
  measure: 'main-thread CPU ms per unit item (median over rounds of medians of 3 samples)',
  units: table,
  runtime: rt,
  torch: haveTorch ? torchVersion : null,
  env: { OPENBLAS_CORETYPE: process.env.OPENBLAS_CORETYPE ?? null, OPENBLAS_NUM_THREADS: process.env.OPENBLAS_NUM_THREADS ?? null },
  host: { cpu: os.cpus()[0]?.model, cpus: os.cpus().length, loadavgBefore: load0, loadavgAfter: load1 },
};
const outFile = path.join(root, 'bench', 'results', `engine${tag ? `-${tag}` : ''}.json`);
if (write) {
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  writeAtomic(outFile, JSON.stringify(result, null, 1) + '\n');
}

const UNIT_NOTES: Record<string, string> = {
  gemm: 'f32 GEMM 1024² (GFLOP/s in brackets)',
  'mlp-step': 'MLP 784-16-16-10 AdamW training step, B 64',
  'mlp-hvp-k64': 'MLP batched exact HVP, K = 64 directions, B 64',
  'mlp-sweep': 'AdamW-influence exact sweep, per query·step (N 50)',
  'tsloo-mlp': 'TSLOO, per counterfactual run (MLP, 94 steps, 32 replicas)',
  'cnn-grad': 'CNN full (conv [8,16], B 64): gradient',
  'cnn-hvp': 'CNN full: exact HVP',
  'gpt2-grad': 'GPT-2 full (d64 L2, B 32 × T 64, V 4,096): gradient',
  'gpt2-hvp': 'GPT-2 full: exact HVP',
  'llama-grad': 'Llama stories260K (B 8 × T 64): gradient',
  'llama-hvp': 'Llama stories260K: exact HVP',
  'cnn-hvp-k16': 'CNN full: 16 HVPs through one taped gradient, per direction',
  'gpt2-hvp-k16': 'GPT-2 full: 16 HVPs through one taped gradient, per direction',
  'llama-hvp-k16': 'Llama stories260K: 16 HVPs through one taped gradient, per direction',
};
const fmt = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(3));
const md = [
  `Measured ${result.date.slice(0, 10)} by \`${tag ? `OPENBLAS_CORETYPE=${result.env.OPENBLAS_CORETYPE ?? ''} ` : ''}npx tsx bench/engine.bench.ts${tag ? ` --tag ${tag}` : ''}\` (${rounds} interleaved rounds; ${result.measure}); data: \`${path.relative(root, outFile)}\`.`,
  `Machine: ${result.host.cpu}, ${result.host.cpus} cores, load average ${load0.map((x) => x.toFixed(2)).join('/')} before, ${load1.map((x) => x.toFixed(2)).join('/')} after.`,
  `Ours: tfjs ${rt.versions['@tensorflow/tfjs-core']} ${rt.backend}${rt.blas ? ` + ${rt.blas.id} (${rt.blas.ffi})` : ' (no native GEMM)'}, ${rt.runtime}. Peer: ${haveTorch ? `PyTorch ${torchVersion}, float32, 1 thread` : 'not installed'}. OPENBLAS_CORETYPE=${result.env.OPENBLAS_CORETYPE ?? '(unset)'}.`,
  '',
  '| unit | ours (ms) | PyTorch (ms) | ratio |',
  '|---|---|---|---|',
  ...table.map((r) => `| ${UNIT_NOTES[r.unit] ?? r.unit} | ${fmt(r.oursCpuMs)}${r.oursGflops ? ` (${r.oursGflops.toFixed(0)})` : ''} | ${fmt(r.torchCpuMs)}${r.torchGflops ? ` (${r.torchGflops.toFixed(0)})` : ''}${r.torchError ? ` (${r.torchError})` : ''} | ${r.ratio === null ? '–' : r.ratio.toFixed(2)} |`),
].join('\n');
const readme = path.join(root, 'bench', 'README.md');
const BEGIN = `<!-- engine-table${tag ? `-${tag}` : ''}:begin (generated by bench/engine.bench.ts from ${path.relative(root, outFile)}) -->`;
const END = `<!-- engine-table${tag ? `-${tag}` : ''}:end -->`;
const text = fs.existsSync(readme) ? fs.readFileSync(readme, 'utf8') : '';
const block = `${BEGIN}\n${md}\n${END}`;
const next = text.includes(BEGIN) ? text.replace(new RegExp(`${BEGIN.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[\\s\\S]*?${END}`), block) : `${text.trimEnd()}\n\n## Engine units against PyTorch${tag ? ` (${tag})` : ''}\n\n${block}\n`;
console.log(md);
if (write) {
  writeAtomic(readme, next);
  console.log(`→ ${path.relative(root, outFile)}, bench/README.md`);
}
