import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../../lib/runtime/backend.ts';
import { mlp, MLP_PRESETS } from '../../lib/models/mlp.ts';
import { train } from '../../lib/train/trainer.ts';
import { loadTrajectory } from '../../lib/train/replay.ts';
import { TrajectoryStore } from '../../lib/train/store.ts';
import { trajectoryHash, type FlatState } from '../../lib/train/trajectory.ts';
import { adamwSetting, teacherData } from './fixtures/synth.ts';
import { KILL_CASE } from './fixtures/kill-case.ts';

await initBackend({ backend: 'wasm' });

const model = mlp(MLP_PRESETS.tiny);
const data = teacherData(40, 12, 4, 1);
const setting = adamwSetting({ epochs: 3, schedule: { kind: 'linear', lr: 1e-2, warmupFrac: 0.1 } }); // 15 steps
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-store-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
const dir = (name: string) => path.join(root, name);

const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const sameState = (a: FlatState, b: FlatState) =>
  a.optStep === b.optStep && same(a.theta, b.theta) && (['m', 'v', 'buf'] as const).every((k) => (!a[k] && !b[k]) || (!!a[k] && !!b[k] && same(a[k]!, b[k]!)));

test('disk store: write, reload, equal to the in-memory run; layout as documented', async () => {
  const mem = await train({ model, data, setting });
  const disk = await train({ model, data, setting, store: dir('a') });
  const loaded = loadTrajectory(dir('a'));
  assert.equal(trajectoryHash(disk), trajectoryHash(mem));
  assert.equal(trajectoryHash(loaded), trajectoryHash(mem));
  assert.deepEqual(loaded.losses, mem.losses);
  assert.deepEqual(loaded.lrs, mem.lrs);
  const man = JSON.parse(fs.readFileSync(path.join(dir('a'), 'manifest.json'), 'utf8'));
  assert.equal(man.trajectoryHash, trajectoryHash(mem));
  assert.equal(man.complete, true);
  assert.deepEqual(man.slots, ['m', 'v']);
  // steps/000007.bin is raw little-endian float32 [θ | m | v].
  const raw = fs.readFileSync(path.join(dir('a'), 'steps', '000007.bin'));
  const P = man.nParams;
  assert.equal(raw.byteLength, 3 * P * 4);
  const st = mem.states.at(7);
  for (const [i, part] of [st.theta, st.m!, st.v!].entries()) {
    for (const k of [0, P - 1]) assert.equal(raw.readFloatLE((i * P + k) * 4), part[k]);
  }
  // A finished store is returned as is (no training).
  let steps = 0;
  const again = await train({ model, data, setting, store: dir('a'), onStep: () => steps++ });
  assert.equal(steps, 0);
  assert.equal(trajectoryHash(again), trajectoryHash(mem));
});

test('a store holding a different run is an error, not overwritten', async () => {
  await assert.rejects(train({ model, data, setting: { ...setting, seed: 9 }, store: dir('a') }), /holds a different run/);
  await assert.rejects(train({ model, data, setting, store: dir('a'), removal: { ids: [1], occurrence: 'all', divisor: 'original' } }), /holds a different run/);
  await assert.rejects(train({ model, data, setting, store: dir('w'), weights: () => 1 }), /weightsKey/);
  assert.equal(loadTrajectory(dir('a')).manifest.setting.seed, 0);
});

test('checkpoint stride: non-stored states replay bit-exactly (memory and disk)', async () => {
  const full = await train({ model, data, setting });
  const mem = await train({ model, data, setting, checkpointEvery: 4 });
  const params = await train({ model, data, setting, record: 'params', checkpointEvery: 4 });
  await train({ model, data, setting, store: dir('k4'), checkpointEvery: 4 });
  assert.deepEqual(mem.states.recorded, [0, 4, 8, 12, 15]);
  const disk = loadTrajectory(dir('k4'), { model, data });
  assert.deepEqual(fs.readdirSync(path.join(dir('k4'), 'steps')).filter((f) => f.endsWith('.bin')), ['000000.bin', '000004.bin', '000008.bin', '000012.bin', '000015.bin']);
  for (const t of [14, 13, 5, 0, 11, 9, 10, 15, 1]) {
    assert.ok(sameState(mem.states.at(t), full.states.at(t)), `memory t=${t}`);
    assert.ok(sameState(disk.states.at(t), full.states.at(t)), `disk t=${t}`);
    assert.ok(same(params.states.at(t).theta, full.states.at(t).theta), `params t=${t}`);
  }
  assert.throws(() => loadTrajectory(dir('k4')).states.at(5), /not stored/);
  assert.throws(() => mem.states.at(16), /does not exist/);
});

test('resume after a clean stop (until) gives the uninterrupted trajectory', async () => {
  const ref = await train({ model, data, setting, checkpointEvery: 5 });
  const part = await train({ model, data, setting, store: dir('u'), checkpointEvery: 5, until: 7 });
  assert.equal(part.manifest.complete, false);
  assert.equal(part.manifest.endStep, 7);
  assert.ok(!fs.existsSync(path.join(dir('u'), 'manifest.json')));
  assert.throws(() => loadTrajectory(dir('u')), /unfinished run/);
  let first = -1;
  const done = await train({ model, data, setting, store: dir('u'), checkpointEvery: 5, onStep: (i) => first < 0 && (first = i.step) });
  assert.equal(first, 7, 'resumed at the stop point');
  assert.equal(trajectoryHash(done), trajectoryHash(ref));
  assert.equal(trajectoryHash(loadTrajectory(dir('u'))), trajectoryHash(ref));
});

test('resume after SIGKILL of a training child process gives the uninterrupted trajectory', async () => {
  const kdata = teacherData(KILL_CASE.n, 12, 4, 1);
  const ksetting = adamwSetting(KILL_CASE.setting);
  const kdir = dir('kill');
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixtures/child-train.ts', import.meta.url)), kdir], {
    stdio: ['ignore', 'ignore', 'pipe'],
    cwd: fileURLToPath(new URL('../../', import.meta.url)), // where `tsx` resolves
  });
  let stderr = '';
  child.stderr.on('data', (b) => (stderr += b));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const markers = () => (fs.existsSync(path.join(kdir, 'steps')) ? fs.readdirSync(path.join(kdir, 'steps')).filter((f) => /^\d+\.json$/.test(f)).length : 0);
  const deadline = Date.now() + 60_000;
  while (markers() < 3 && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(child.exitCode, null, `child ended before it could be killed: ${stderr}`);
  child.kill('SIGKILL');
  await exited;
  assert.ok(!fs.existsSync(path.join(kdir, 'manifest.json')), 'the child was killed mid-run');
  const ckBefore = new TrajectoryStore(kdir).listCheckpoints();
  assert.ok(ckBefore.length >= 3 && ckBefore.at(-1)! < 48, `checkpoints at kill: ${ckBefore}`);
  let first = -1;
  const resumed = await train({ model, data: kdata, setting: ksetting, store: kdir, checkpointEvery: KILL_CASE.checkpointEvery, onStep: (i) => first < 0 && (first = i.step) });
  assert.ok(first >= ckBefore.at(-1)! && first > 0, `resumed at ${first}`);
  const ref = await train({ model, data: kdata, setting: ksetting, checkpointEvery: KILL_CASE.checkpointEvery });
  assert.equal(trajectoryHash(resumed), trajectoryHash(ref));
});
