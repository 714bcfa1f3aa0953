/**
 * Issue #17 (7): an estimator killed midway resumes from its checkpoint, bit-identically, instead of step 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../../lib/runtime/backend.ts';
import { mlp, MLP_PRESETS } from '../../lib/models/mlp.ts';
import { train } from '../../lib/train/trainer.ts';
import { subset } from '../../lib/data/dataset.ts';
import { getEstimator } from '../../lib/estimators/registry.ts';
import { adamwSetting, teacherData } from '../train/fixtures/synth.ts';

await initBackend({ backend: 'wasm' });
const model = mlp(MLP_PRESETS.tiny);
const data = teacherData(40, 12, 4, 1);

for (const [name, setting] of [
  ['adamw-influence', adamwSetting({ epochs: 2 })],
  ['sgd-influence', adamwSetting({ epochs: 2, optimizer: { kind: 'sgd', momentum: 0, weightDecay: 0 }, schedule: { kind: 'constant', lr: 0.1 } })],
] as const) {
  test(`${name}: killed after 4 of 10 steps, the sweep resumes at step 5 and gives the uninterrupted scores bit for bit`, async () => {
    const trajectory = await train({ model, data, setting });
    const task = { model, data, trajectory, queries: subset(data, [0, 1, 2]), trainIds: [3, 4, 5, 6, 7] };
    const est = getEstimator(name);
    const whole = await est.score(task, { curvature: 'exact' } as never);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-resume-'));
    try {
      const checkpoint = { file: path.join(dir, 'sweep.resume'), key: 'k', everySeconds: 0 };
      await assert.rejects(
        est.score(task, { curvature: 'exact', checkpoint, onProgress: (d: number) => { if (d === 4) throw new Error('killed'); } } as never),
        /killed/,
      );
      assert.ok(fs.existsSync(checkpoint.file), 'a checkpoint is left behind');
      const seen: number[] = [];
      const resumed = await est.score(task, { curvature: 'exact', checkpoint, onProgress: (d: number) => seen.push(d) } as never);
      assert.equal(seen[0], 4, 'the resumed sweep reports the 4 steps already done');
      assert.equal(seen[1], 5, 'and goes on with the fifth');
      assert.deepEqual(Array.from(resumed.values), Array.from(whole.values));
      assert.ok(!fs.existsSync(checkpoint.file), 'the checkpoint is removed when the sweep finishes');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
