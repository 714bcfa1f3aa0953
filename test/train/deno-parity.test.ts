/**
 * Acceptance: the same seed and backend give a bit-identical trajectory in Node and in Deno (and
 * across two Node processes). The fixture trains a tiny MLP with AdamW for 30 steps on wasm and prints
 * its trajectoryHash; each run is a separate process, so nothing is shared but the source.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURE = path.join('test', 'train', 'fixtures', 'parity-run.ts');
// The `deno` npm package installs the binary here; calling it directly skips npx's start-up.
const DENO = path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'deno.cmd' : 'deno');

interface ParityOut {
  hash: string;
  steps: number;
  firstLoss: number;
  lastLoss: number;
  backend: string;
  runtime: string;
}

function run(cmd: string, args: string[]): ParityOut {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
  if (r.error) throw new Error(`could not start ${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')} exited with ${r.status}:\n${r.stderr}`);
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(last) as ParityOut;
  } catch {
    throw new Error(`${path.basename(cmd)}: expected a JSON line on stdout, got:\n${r.stdout}\n${r.stderr}`);
  }
}

test('same seed + backend → bit-identical trajectory in Node (twice) and in Deno', () => {
  assert.ok(existsSync(DENO), `Deno binary not found at ${DENO}; run \`npm ci\` (the 'deno' npm package provides it)`);
  const node1 = run(process.execPath, ['--import', 'tsx', FIXTURE]);
  const node2 = run(process.execPath, ['--import', 'tsx', FIXTURE]);
  const deno = run(DENO, ['run', '--allow-read', '--allow-env', FIXTURE]);
  assert.match(node1.runtime, /^node /);
  assert.match(deno.runtime, /^deno /);
  for (const r of [node1, node2, deno]) {
    assert.equal(r.backend, 'wasm');
    assert.equal(r.steps, 30);
    assert.match(r.hash, /^[0-9a-f]{64}$/);
    assert.ok(r.lastLoss < r.firstLoss, `training reduces the loss (${r.runtime}: ${r.firstLoss} → ${r.lastLoss})`);
  }
  assert.equal(node2.hash, node1.hash, 'two Node runs differ');
  assert.equal(deno.hash, node1.hash, `Node (${node1.runtime}) and Deno (${deno.runtime}) trajectories differ`);
});
