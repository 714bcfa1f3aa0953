import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cosine, jaccardTop, jaccardTopBottom, kendallTau, meanOverQueries, pearson, perQuery, rank, relativeError,
  signAgreement, spearman, summarizeQueries, topBottomK,
} from '../../lib/analysis/metrics.ts';
import {
  addInPlace, checkSameShape, column, fromJSON, fromRows, negate, row, scale, scoreMatrix, toJSON,
} from '../../lib/analysis/score-matrix.ts';
import { Rng } from '../../lib/runtime/rng.ts';

const close = (a: number, b: number, tol = 1e-12, msg = '') =>
  assert.ok(Math.abs(a - b) <= tol, `${msg} expected ${b}, got ${a}`);

/** O(n²) tau-b straight from the definition: (C − D) / √((n0 − Tx)(n0 − Ty)), ties counted per pair. */
function kendallBrute(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let c = 0, d = 0, tx = 0, ty = 0;
  const n = x.length;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const sx = Math.sign(x[j] - x[i]), sy = Math.sign(y[j] - y[i]);
      if (sx === 0) tx++;
      if (sy === 0) ty++;
      if (sx * sy > 0) c++;
      else if (sx * sy < 0) d++;
    }
  }
  const n0 = (n * (n - 1)) / 2;
  return (c - d) / Math.sqrt((n0 - tx) * (n0 - ty));
}

test('rank: average ranks for ties (scipy rankdata), ordinal by index', () => {
  assert.deepEqual([...rank([10, 20, 20, 30])], [1, 2.5, 2.5, 4]);
  assert.deepEqual([...rank([3, 1, 3, 3, 2])], [4, 1, 4, 4, 2]);
  assert.deepEqual([...rank([20, 10, 20], 'ordinal')], [2, 1, 3]);
  assert.deepEqual([...rank([Infinity, -Infinity, 0])], [3, 1, 2]);
  assert.throws(() => rank([1, NaN]), /NaN/);
});

test('pearson / spearman: known values', () => {
  // mx=3, my=4; dx=(-2,-1,0,1,2), dy=(-2,0,1,0,1): sxy=6, sxx=10, syy=6 → 6/√60
  close(pearson([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]), 6 / Math.sqrt(60));
  close(pearson([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]), 0.7745966692414834); // scipy.stats.pearsonr
  close(pearson([1, 2, 3], [-2, -4, -6]), -1);
  close(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]), 0.8207826816681233); // scipy.stats.spearmanr
  close(spearman([1, 2, 2, 3], [1, 1, 2, 3]), 0.8333333333333335, 1e-12);
  // monotone transform → 1; decreasing → −1
  const x = [0.3, -1.2, 5, 2.2, 0.01, 7];
  close(spearman(x, x.map((v) => Math.exp(3 * v))), 1);
  close(spearman(x, x.map((v) => -(v ** 3))), -1);
});

test('kendallTau: hand values, scipy values, and brute force on random data with ties', () => {
  // y = 3,4,1,2,5: concordant (3,4)(3,5)(4,5)(1,2)(1,5)(2,5) = 6, discordant (3,1)(3,2)(4,1)(4,2) = 4 → 2/10
  close(kendallTau([1, 2, 3, 4, 5], [3, 4, 1, 2, 5]), 0.2);
  // x=[1,2,2,3], y=[1,1,2,3]: pair (0,1) tied in y, pair (1,2) tied in x, other 4 concordant;
  // n0=6, Tx=1, Ty=1 → 4/√(5·5) = 0.8 (scipy: 0.7999999999999999)
  close(kendallTau([1, 2, 2, 3], [1, 1, 2, 3]), 0.8);
  close(kendallTau([1, 1, 2, 2, 3], [1, 2, 1, 3, 3]), 0.5); // scipy: 0.49999999999999994
  close(kendallTau([1, 2, 3], [3, 2, 1]), -1);
  const rng = new Rng(11);
  for (let trial = 0; trial < 60; trial++) {
    const n = 2 + rng.int(120);
    const levels = 1 + rng.int(8); // few distinct values → many ties (incl. joint ties)
    const x = Float64Array.from({ length: n }, () => rng.int(levels));
    const y = Float64Array.from({ length: n }, (_, i) => (rng.next() < 0.5 ? x[i] : rng.int(levels)));
    const fast = kendallTau(x, y);
    const slow = kendallBrute(x, y);
    if (Number.isNaN(slow)) assert.ok(Number.isNaN(fast), `trial ${trial}: expected NaN`);
    else close(fast, slow, 1e-12, `trial ${trial} (n=${n})`);
  }
  // continuous data too, large-ish n (merge sort path)
  const x = Float64Array.from({ length: 3000 }, () => rng.normal());
  const y = Float64Array.from(x, (v) => v + rng.normal());
  close(kendallTau(x, y), kendallBrute(x, y), 1e-12);
});

test('cosine, signAgreement, relativeError', () => {
  close(cosine([1, 0], [0, 1]), 0);
  close(cosine([1, 2, 3], [2, 4, 6]), 1);
  close(cosine([1, 1], [1, 0]), Math.SQRT1_2);
  assert.ok(Number.isNaN(cosine([0, 0], [1, 2])));
  close(signAgreement([1, -2, 0, 3], [2, 2, 0, -1]), 0.5);
  // ‖(1,1,0)−(1,0,0)‖ / ‖(1,0,0)‖ = 1; ‖(3,4)−(0,0)‖ undefined against zero truth
  close(relativeError([1, 1, 0], [1, 0, 0]), 1);
  close(relativeError([2, 2], [1, 1]), 1);
  close(relativeError([1.5, 0], [1, 0]), 0.5);
  assert.ok(Number.isNaN(relativeError([3, 4], [0, 0])));
});

test('jaccard: hand examples and tie breaking by index', () => {
  const x = [5, 1, 4, 2, 3, 0];
  const y = [5, 0, 3, 2, 4, 1];
  // k=1: A = top{0} ∪ bottom{5}, B = top{0} ∪ bottom{1} → |{0}| / |{0,1,5}| = 1/3
  close(jaccardTopBottom(x, y, 1), 1 / 3);
  // k=2: A = {0,2} ∪ {5,1}, B = {0,4} ∪ {1,5} → |{0,1,5}| / |{0,1,2,4,5}| = 3/5
  close(jaccardTopBottom(x, y, 2), 0.6);
  close(jaccardTop(x, y, 2), 1 / 3); // {0,2} vs {0,4}
  close(jaccardTopBottom(x, x, 3), 1);
  // ties: [2,2,0,0] → top-1 = {0} (earlier index), bottom-1 = {2}; [2,2,0,0] vs [2,2,2,2] whose top/bottom are {0}
  close(jaccardTopBottom([2, 2, 0, 0], [2, 2, 2, 2], 1), 1 / 2);
  assert.throws(() => jaccardTop(x, y, 0), /k must be an integer in \[1, 6\]/);
  assert.throws(() => jaccardTop(x, y, 7), /k must be/);
  assert.equal(topBottomK(400, 70), 140); // paper 2: int(400·0.7)=280 → 140 per side
  assert.equal(topBottomK(400, 10), 20);
  assert.equal(topBottomK(5, 10), 1);
});

test('metric input errors: length mismatch and n < 2', () => {
  for (const f of [pearson, spearman, kendallTau, cosine, signAgreement, relativeError]) {
    assert.throws(() => f([1, 2, 3], [1, 2]), /length mismatch, x has 3, y has 2/);
    assert.throws(() => f([1], [1]), /at least 2/);
  }
  assert.throws(() => jaccardTopBottom([1, 2], [1], 1), /length mismatch/);
});

test('constant vectors and NaN give NaN; aggregators skip and count them', () => {
  for (const f of [pearson, spearman, kendallTau]) {
    assert.ok(Number.isNaN(f([1, 1, 1], [1, 2, 3])), f.name);
    assert.ok(Number.isNaN(f([1, 2, 3], [4, 4, 4])), f.name);
    assert.ok(Number.isNaN(f([1, NaN, 3], [1, 2, 3])), f.name);
  }
  // a constant of a value whose mean rounds (0.1·3/3 ≠ 0.1 in floats) must still be NaN, not ±1
  assert.ok(Number.isNaN(pearson([0.1, 0.1, 0.1], [1, 2, 3])));
  // truth column 1 is constant → skipped
  const est = fromRows([[1, 1, 3], [2, 5, 2], [3, 0, 1]]);
  const truth = fromRows([[1, 7, 1], [2, 7, 2], [3, 7, 3]]);
  const pq = perQuery(spearman, est, truth);
  assert.equal(pq.length, 3);
  close(pq[0], 1);
  assert.ok(Number.isNaN(pq[1]));
  close(pq[2], -1);
  const s = meanOverQueries(spearman, est, truth);
  assert.equal(s.n, 2);
  assert.equal(s.skipped, 1);
  close(s.mean, 0);
  close(s.std, Math.SQRT2);
  close(s.sem, 1);
  const none = summarizeQueries([NaN, NaN]);
  assert.ok(Number.isNaN(none.mean));
  assert.equal(none.n, 0);
  assert.equal(none.skipped, 2);
  // parameterised metric through a closure; top-1 of est columns {2},{1},{0} vs truth {2},{0} (tie → index 0),{2}
  const j = perQuery((a, b) => jaccardTop(a, b, 1), est, truth);
  assert.deepEqual([...j], [1, 0, 0]);
});

test('score matrix: layout, helpers, JSON round trip, shape errors', () => {
  const m = fromRows([[1, 2], [3, 4], [5, 6]]);
  assert.equal(m.nTrain, 3);
  assert.equal(m.nQuery, 2);
  assert.deepEqual([...m.values], [1, 2, 3, 4, 5, 6]); // values[i*nQuery + q]
  assert.deepEqual([...column(m, 1)], [2, 4, 6]);
  assert.deepEqual([...row(m, 1)], [3, 4]);
  assert.deepEqual([...negate(m).values], [-1, -2, -3, -4, -5, -6]);
  assert.deepEqual([...scale(m, 2).values], [2, 4, 6, 8, 10, 12]);
  assert.deepEqual([...m.values], [1, 2, 3, 4, 5, 6]); // scale/negate do not mutate
  const acc = scoreMatrix(3, 2);
  addInPlace(addInPlace(acc, m), m);
  assert.deepEqual([...acc.values], [2, 4, 6, 8, 10, 12]);
  assert.throws(() => column(m, 2), /out of range for \[nTrain=3, nQuery=2\]/);
  assert.throws(() => scoreMatrix(2, 2, [1, 2, 3]), /length 3, expected .* = 4/);
  assert.throws(() => fromRows([[1, 2], [3]]), /row 1 has length 1/);
  assert.throws(() => fromRows([]), /at least one row/);

  const other = scoreMatrix(2, 3);
  assert.throws(() => checkSameShape(m, other, 'cmp'), /cmp: shape mismatch, \[nTrain=3, nQuery=2\] vs \[nTrain=2, nQuery=3\]/);
  assert.throws(() => perQuery(spearman, m, other), /\[nTrain=3, nQuery=2\] vs \[nTrain=2, nQuery=3\]/);
  assert.throws(() => addInPlace(m, other), /\[nTrain=3, nQuery=2\] vs \[nTrain=2, nQuery=3\]/);

  const withNaN = scoreMatrix(1, 3, [0.5, NaN, -Infinity]);
  const back = fromJSON(JSON.stringify(toJSON(withNaN)));
  assert.equal(back.nTrain, 1);
  assert.equal(back.nQuery, 3);
  assert.equal(back.values[0], 0.5);
  assert.ok(Number.isNaN(back.values[1]) && Number.isNaN(back.values[2])); // JSON has no NaN/∞: null → NaN
  assert.deepEqual(fromJSON(toJSON(m)), m);
  assert.throws(() => fromJSON({ nTrain: 2, nQuery: 2, values: [1] }), /length 1, expected 4/);
  assert.throws(() => fromJSON({ nTrain: -1, nQuery: 2, values: [] }), /nTrain must be a non-negative integer/);
});
