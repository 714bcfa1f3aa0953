/**
 * Deno-native smoke test (`deno task test`, or `npm run test:deno`): the library loads under Deno,
 * trains a tiny run and scores it. The Node suite also spawns Deno to check bit parity of trajectories
 * (test/train/deno-parity.test.ts); this file is for users who work in Deno only.
 */
import { initBackend } from '../../lib/runtime/backend.ts';
import { mlp } from '../../lib/models/mlp.ts';
import { train } from '../../lib/train/trainer.ts';
import { getEstimator } from '../../lib/estimators/registry.ts';
import { teacherData, adamwSetting } from '../train/fixtures/synth.ts';

Deno.test('train a tiny MLP and score it with AdamW-influence under Deno', async () => {
  const info = await initBackend({ backend: 'wasm' });
  if (info.runtime.split(' ')[0] !== 'deno') throw new Error(`expected the deno runtime, got ${info.runtime}`);
  const model = mlp({ sizes: [6, 8, 3], activation: 'tanh' });
  const data = teacherData(16, 6, 3, 1);
  const queries = teacherData(4, 6, 3, 2);
  const traj = await train({ model, data, setting: adamwSetting({ batchSize: 4, epochs: 1 }) });
  const s = await getEstimator('adamw-influence').score({ model, data, trajectory: traj, queries, trainIds: [0, 1, 2] });
  if (s.nTrain !== 3 || s.nQuery !== 4 || !s.values.every(Number.isFinite)) throw new Error('bad score matrix');
  if (!s.values.some((v) => v !== 0)) throw new Error('all scores are zero');
});
