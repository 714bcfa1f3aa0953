import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, requestedBackend, runtimeInfo } from '../../lib/runtime/backend.ts';
import { flagValue } from '../../lib/runtime/env.ts';
import { ROOT, runTsJson } from './helpers.ts';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

test('auto selects wasm here and records versions and the fix set', async () => {
  const info = await initBackend();
  assert.equal(info.backend, 'wasm');
  assert.equal(info.versions['@tensorflow/tfjs-core'], '4.22.0');
  assert.ok(info.gradFixes.includes('tape-order'));
  assert.ok(info.skipped.some((s) => s.includes('tfjs-node')), 'auto should say why tfjs-node was skipped');
  assert.equal(runtimeInfo().backend, 'wasm');
  await assert.rejects(initBackend({ backend: 'cpu' }), /already initialised as 'wasm'/);
});

test('backend names are validated; flag beats env', () => {
  assert.throws(() => requestedBackend('gpu' as never), /unknown backend 'gpu'.*auto, tensorflow, wasm, cpu/);
  assert.equal(flagValue('backend', ['--backend', 'cpu']), 'cpu');
  assert.equal(flagValue('backend', ['--backend=wasm']), 'wasm');
});

test('FTDA_BACKEND and --backend select the backend in a fresh process', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ftda-'));
  const f = path.join(dir, 'which.mts');
  writeFileSync(f, `import { initBackend } from '${ROOT}/lib/runtime/backend.ts';\nconst i = await initBackend();\nconsole.log(JSON.stringify({ b: i.backend }));\n`);
  assert.deepEqual(runTsJson(f, [], { FTDA_BACKEND: 'cpu' }), { b: 'cpu' });
  assert.deepEqual(runTsJson(f, ['--backend', 'cpu'], { FTDA_BACKEND: 'wasm' }), { b: 'cpu' });
  assert.throws(() => runTsJson(f, [], { FTDA_BACKEND: 'tensorflow' }), /neither @tensorflow\/tfjs-node-gpu nor @tensorflow\/tfjs-node is usable/);
});
