import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cellSpearmanCI, permutationP } from '../../lib/analysis/rank-test.ts';

test('Spearman across cells with a bootstrap CI over cells', () => {
  const x = [1, 2, 3, 4, 5, 6, 7, 8];
  const up = cellSpearmanCI(x, x.map((v) => v * v), 1, 500);
  const near = (a: number, b: number) => Math.abs(a - b) < 1e-12;
  assert.ok(near(up.spearman, 1) && near(up.lo, 1) && near(up.hi, 1), JSON.stringify(up));
  const down = cellSpearmanCI(x, x.map((v) => -v), 1, 500);
  assert.ok(near(down.spearman, -1), JSON.stringify(down));
  const noisy = cellSpearmanCI(x, [2, 1, 4, 3, 6, 5, 8, 7], 1, 500);
  assert.ok(noisy.spearman > 0.8 && noisy.spearman < 1 && noisy.lo < noisy.spearman && noisy.hi <= 1);
});

test('permutation p-value: exact for few cells, Monte Carlo for many, ~uniform under no association', () => {
  assert.ok(Math.abs(permutationP([1, 2, 3, 4, 5], [1, 2, 3, 4, 5]) - 1 / 120) < 1e-12);
  assert.equal(permutationP([1, 2, 3, 4, 5], [5, 4, 3, 2, 1]), 1); // the worst ordering: every ordering reaches it
  assert.ok(Number.isNaN(permutationP([1, 2], [1, 2])));
  const x = Array.from({ length: 20 }, (_, i) => i);
  assert.ok(permutationP(x, x.map((v) => v * v), 0, 2000) < 1e-3);
  const shuffled = [13, 2, 17, 8, 0, 11, 5, 19, 3, 14, 7, 16, 1, 10, 18, 6, 12, 4, 15, 9];
  const p = permutationP(x, shuffled, 0, 2000);
  assert.ok(p > 0.05 && p < 0.95, `no association should not look significant: p = ${p}`);
});
