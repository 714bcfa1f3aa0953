/** Scales, ticks and number formats, and the tidy-row builders and text tables on top of them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatExp, formatSig, formatValue, linearScale, logDomain, logScale, niceDomain } from '../../lib/plot/scale.ts';
import { barFromRows, heatmapFromRows, lineFromRows } from '../../lib/plot/from-rows.ts';
import { formatTable } from '../../lib/plot/table.ts';
import { num } from '../../lib/plot/svg.ts';

test('nice domains and ticks', () => {
  assert.deepEqual(niceDomain(0.29, 0.46, { includeZero: true }), [0, 0.5]);
  assert.deepEqual(niceDomain(-0.12, 0.46, { includeZero: true }), [-0.2, 0.5]);
  assert.deepEqual(niceDomain(3, 3), [2.7, 3.3], 'a single value is widened by 10%');
  const s = linearScale([0, 0.5], [100, 0]);
  assert.deepEqual(s.ticks(), [0, 0.1, 0.2, 0.3, 0.4, 0.5]);
  assert.equal(s.map(0.25), 50);
  assert.equal(s.invert(50), 0.25);
  assert.equal(s.format(0.1), '0.1');
  assert.deepEqual(logScale([1e-5, 1e-3], [0, 1]).ticks(), [1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3]);
  assert.deepEqual(logScale([1e-6, 1], [0, 1]).ticks().length, 7);
  assert.equal(logScale([1e-5, 1e-3], [0, 1]).format(1e-4), '1e-4');
  assert.equal(logScale([1, 100], [0, 1]).format(20), '20');
  assert.deepEqual(logDomain(0.002, 0.004), [0.001, 0.01]);
  assert.deepEqual(logDomain(1, 50), [1, 50]);
  assert.throws(() => logDomain(0, 1), /positive/);
});

test('number formats are short and deterministic', () => {
  assert.equal(formatSig(0.33925478859208585), '0.339');
  assert.equal(formatSig(0.0003), '3e-4');
  assert.equal(formatExp(0.001), '1e-3');
  assert.equal(formatExp(2.5e-4), '2.5e-4');
  assert.equal(formatExp(1), '1');
  assert.equal(formatValue(0.426, 'percent'), '43%');
  assert.equal(formatValue(NaN), 'n/a');
  assert.equal(num(-0.0001), '0');
  assert.equal(num(1.005, 2), '1');
  assert.throws(() => num(NaN), /non-finite coordinate/);
});

test('tidy rows → specs: missing cells are null, duplicates and missing columns are errors', () => {
  const rows = [
    { s: 'a', x: 2, y: 1 },
    { s: 'a', x: 1, y: 2 },
    { s: 'b', x: 1, y: null },
  ];
  const b = barFromRows(rows, { x: 'x', series: 's', y: 'y' }, { title: 't' });
  assert.deepEqual(b.categories, ['1', '2'], 'numeric categories sort');
  assert.deepEqual(b.series.map((s) => s.values), [[2, 1], [null, null]]);
  const l = lineFromRows(rows, { x: 'x', y: 'y', series: 's' }, { title: 't' });
  assert.deepEqual(l.series[0].x, [1, 2]);
  assert.deepEqual(l.series[0].y, [2, 1]);
  const h = heatmapFromRows(rows, { x: 'x', y: 's', z: 'y' }, { title: 't' });
  assert.deepEqual(h.z, [[2, 1], [null, null]]);
  assert.throws(() => barFromRows([...rows, { s: 'a', x: 1, y: 3 }], { x: 'x', series: 's', y: 'y' }, { title: 't' }), /two rows for series 'a' at '1'/);
  assert.throws(() => lineFromRows(rows, { x: 'x', y: 'z' }, { title: 't' }), /row 0 lacks column 'z' \(it has: s, x, y\)/);
  assert.throws(() => barFromRows([], { x: 'x', series: 's', y: 'y' }, { title: 't' }), /no rows to plot/);
});

test('text tables line up, numbers right-aligned, missing values as n/a', () => {
  const t = formatTable([{ a: 'x', b: 0.123456 }, { a: 'longer', b: null }], ['a', ['B', 'b'], ['twice', (r) => 2 * (r.b as number)]]);
  assert.equal(t, ['a           B  twice', '──────  ─────  ─────', 'x       0.123  0.247', 'longer    n/a      0'].join('\n'));
});
