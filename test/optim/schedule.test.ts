import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lrAt, lrSequence, roundHalfEven, validateSchedule, type Schedule } from '../../lib/optim/schedule.ts';

const close = (a: number, b: number, tol = 1e-15) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

test('schedule: constant', () => {
  assert.equal(lrAt({ kind: 'constant', lr: 0.1 }, 0, 5), 0.1);
  assert.equal(lrAt({ kind: 'constant', lr: 0.1 }, 4, 5), 0.1);
});

test('schedule: linear warm-up (t+1)/warm then linear decay (hand-computed)', () => {
  const s: Schedule = { kind: 'linear', lr: 1, warmupSteps: 2 };
  assert.deepEqual(lrSequence(s, 10), [0.5, 1, 1, 7 / 8, 6 / 8, 5 / 8, 4 / 8, 3 / 8, 2 / 8, 1 / 8]);
  // GPT-2 row: 48 steps, 10% warm-up → warm = round(4.8) = 5.
  const g: Schedule = { kind: 'linear', lr: 1e-4, warmupFrac: 0.1 };
  close(lrAt(g, 0, 48), 1e-4 / 5);
  close(lrAt(g, 4, 48), 1e-4);
  close(lrAt(g, 5, 48), 1e-4);
  close(lrAt(g, 47, 48), 1e-4 / 43);
  // Python round: 2.5 → 2 (half to even), so warm = 2 and step 1 already has the full LR.
  assert.equal(roundHalfEven(2.5), 2);
  assert.equal(roundHalfEven(3.5), 4);
  assert.equal(lrAt({ kind: 'linear', lr: 1, warmupFrac: 0.25 }, 1, 10), 1);
  // No warm-up: the first update uses the full LR, the last one lr/n.
  assert.equal(lrAt({ kind: 'linear', lr: 1, warmupSteps: 0 }, 0, 4), 1);
  assert.equal(lrAt({ kind: 'linear', lr: 1, warmupSteps: 0 }, 3, 4), 0.25);
});

test('schedule: cosine with warm-up and floor', () => {
  const s: Schedule = { kind: 'cosine', lr: 1, warmupSteps: 2, minLr: 0.1 };
  close(lrAt(s, 0, 10), 0.5);
  close(lrAt(s, 1, 10), 1);
  close(lrAt(s, 2, 10), 1);
  close(lrAt(s, 6, 10), 0.55);
  close(lrAt(s, 9, 10), 0.1 + 0.45 * (1 + Math.cos((7 * Math.PI) / 8)));
});

test('schedule: bad input names the field', () => {
  assert.throws(() => lrAt({ kind: 'constant', lr: -1 }, 0, 5), /schedule\.lr/);
  assert.throws(() => lrAt({ kind: 'constant', lr: NaN }, 0, 5), /schedule\.lr/);
  assert.throws(() => lrAt({ kind: 'linear', lr: 1, warmupSteps: 11 }, 0, 10), /warm-up \(11 steps\) exceeds totalSteps \(10\)/);
  assert.throws(() => validateSchedule({ kind: 'linear', lr: 1, warmupSteps: 1, warmupFrac: 0.1 }), /exactly one/);
  assert.throws(() => validateSchedule({ kind: 'linear', lr: 1, warmupFrac: 1.5 }), /warmupFrac/);
  assert.throws(() => validateSchedule({ kind: 'linear', lr: 1, warmupSteps: 1.5 }), /warmupSteps/);
  assert.throws(() => validateSchedule({ kind: 'cosine', lr: 0.1, warmupSteps: 0, minLr: 1 }), /minLr/);
  assert.throws(() => validateSchedule({ kind: 'step', lr: 1 } as never), /schedule\.kind/);
  assert.throws(() => lrAt({ kind: 'constant', lr: 1 }, 5, 5), /step must be an integer in \[0, 5\)/);
  assert.throws(() => lrAt({ kind: 'constant', lr: 1 }, 0, 0), /totalSteps/);
});
