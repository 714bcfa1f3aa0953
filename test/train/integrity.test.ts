/**
 * Issue #17 (1, 5): a stored trajectory is never used unverified. A corrupt checkpoint of a finished run is
 * regenerated bit for bit (or refused, naming the file); a corrupt newest checkpoint of an unfinished run makes
 * the resume fall back to the previous verified one; a damaged manifest is rebuilt from the checkpoints.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../../lib/runtime/backend.ts';
import { mlp, MLP_PRESETS } from '../../lib/models/mlp.ts';
import { train } from '../../lib/train/trainer.ts';
import { loadTrajectory } from '../../lib/train/replay.ts';
import { trajectoryHash } from '../../lib/train/trajectory.ts';
import { getEstimator } from '../../lib/estimators/registry.ts';
import { subset } from '../../lib/data/dataset.ts';
import { CorruptFileError } from '../../lib/runtime/errors.ts';
import { onWarning } from '../../lib/runtime/log.ts';
import { adamwSetting, teacherData } from './fixtures/synth.ts';

await initBackend({ backend: 'wasm' });

const model = mlp(MLP_PRESETS.tiny);
const data = teacherData(40, 12, 4, 1); // B = 8 → 5 steps per epoch
const setting = adamwSetting({ epochs: 2 }); // 10 steps
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-integrity-'));

/** Flips a few bytes in the middle of a file, keeping its size (what a bit rot or a bad copy does). */
function flipBytes(file: string): void {
  const b = fs.readFileSync(file);
  for (let i = 0; i < 8; i++) b[(b.length >> 1) + i] ^= 0xff;
  fs.writeFileSync(file, b);
}

function captureWarnings(): { seen: string[]; stop: () => void } {
  const seen: string[] = [];
  return { seen, stop: onWarning((m) => seen.push(m)) };
}

test('a corrupt checkpoint of a finished run is regenerated bit for bit, and the scores on it are unchanged', async () => {
  const dir = tmp();
  try {
    const store = path.join(dir, 'traj');
    const first = await train({ model, data, setting, store });
    const queries = subset(data, [0, 1, 2]);
    const task = { model, data, trajectory: first, queries, trainIds: [3, 4, 5, 6] };
    const before = await getEstimator('tracin').score(task);
    const state4 = first.states.at(4).theta.slice();
    const bin = path.join(store, 'steps', '000004.bin');
    const pristine = fs.readFileSync(bin);
    flipBytes(bin);

    const w = captureWarnings();
    let again;
    try {
      again = await train({ model, data, setting, store });
      assert.deepEqual(Array.from(again.states.at(4).theta), Array.from(state4), 'the state used is the original one');
      const after = await getEstimator('tracin').score({ ...task, trajectory: again });
      assert.deepEqual(Array.from(after.values), Array.from(before.values), 'TracIn on the repaired run is bit-identical');
    } finally {
      w.stop();
    }
    assert.ok(w.seen.some((m) => m.includes(bin) && /regenerated/.test(m)), `a warning names the file: ${w.seen.join(' | ')}`);
    assert.ok(fs.readFileSync(bin).equals(pristine), 'the file itself is repaired');
    assert.equal(trajectoryHash(again), trajectoryHash(first));

    // Opened without model and data, nothing can be regenerated: the read fails naming the file.
    flipBytes(bin);
    const bare = loadTrajectory(store);
    assert.throws(() => bare.states.at(4), (e: Error) => e instanceof CorruptFileError && e.message.includes(bin) && /delete .*traj to retrain|load it with \{ model, data \}/.test(e.message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('resume falls back to the last verified checkpoint when the newest one is corrupt', async () => {
  const dir = tmp();
  try {
    const whole = await train({ model, data, setting });
    const store = path.join(dir, 'traj');
    await train({ model, data, setting, store, until: 6 }); // an unfinished run: checkpoints 0..6
    flipBytes(path.join(store, 'steps', '000006.bin'));
    const w = captureWarnings();
    let resumed;
    const ran: number[] = [];
    try {
      resumed = await train({ model, data, setting, store, onStep: (i) => ran.push(i.step) });
    } finally {
      w.stop();
    }
    assert.equal(ran[0], 5, 'it resumed from state 5, the newest verified one');
    assert.ok(w.seen.some((m) => m.includes('000006.bin') && /previous verified checkpoint/.test(m)), w.seen.join(' | '));
    assert.equal(trajectoryHash(resumed), trajectoryHash(whole), 'the resumed run equals an uninterrupted one');
    assert.ok(fs.readdirSync(path.join(store, 'steps')).some((f) => f.startsWith('000006.bin.corrupt-')), 'the bad file is kept aside');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an edited manifest is not used: it is set aside and rebuilt from the verified checkpoints', async () => {
  const dir = tmp();
  try {
    const store = path.join(dir, 'traj');
    const first = await train({ model, data, setting, store });
    const man = path.join(store, 'manifest.json');
    fs.writeFileSync(man, fs.readFileSync(man, 'utf8').replace('"losses":[', '"losses":[9,'));
    const w = captureWarnings();
    let again;
    try {
      again = await train({ model, data, setting, store });
    } finally {
      w.stop();
    }
    assert.ok(w.seen.some((m) => m.includes(man)), w.seen.join(' | '));
    assert.deepEqual(again.losses, first.losses);
    assert.equal(trajectoryHash(again), trajectoryHash(first));
    assert.doesNotThrow(() => loadTrajectory(store), 'the rebuilt manifest verifies');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('divergence watchdog: a finite loss growing by orders of magnitude is reported, naming the step', async () => {
  const w = captureWarnings();
  try {
    await train({ model, data, setting: adamwSetting({ schedule: { kind: 'constant', lr: 1e9 }, optimizer: { kind: 'sgd', momentum: 0, weightDecay: 0 } }) }).catch(() => undefined);
  } finally {
    w.stop();
  }
  assert.ok(w.seen.some((m) => /training is diverging: loss .* at step \d+ \(lr 1000000000\)/.test(m)), w.seen.join(' | '));
  const quiet = captureWarnings();
  try {
    await train({ model, data, setting });
  } finally {
    quiet.stop();
  }
  assert.deepEqual(quiet.seen, [], 'a healthy run gives no warning');
});
