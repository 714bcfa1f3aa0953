/**
 * writeFigure: the SVG, Plotly JSON, data JSON and (optional) HTML land together, atomically (no
 * temporaries left), byte-identical on a rewrite, with the numbers and their source in data.json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { saveFigure, writeFigure } from '../../lib/plot/write.ts';
import type { BarFigure } from '../../lib/plot/spec.ts';

const spec: BarFigure = { kind: 'bar', title: 't', categories: ['a'], series: [{ name: 's', values: [1] }] };

test('writes svg + plotly.json + data.json (+ html), atomically and reproducibly', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-write-'));
  try {
    const w = writeFigure('01-test', spec, { dir, html: 'relative', data: { source: 'results/x/quick/summary.json', rows: [{ a: 1, b: null }] } });
    assert.deepEqual(Object.keys(w).sort(), ['data', 'html', 'plotly', 'svg']);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['01-test.data.json', '01-test.html', '01-test.plotly.json', '01-test.svg']);
    const data = JSON.parse(fs.readFileSync(w.data, 'utf8'));
    assert.equal(data.source, 'results/x/quick/summary.json');
    assert.deepEqual(data.rows, [{ a: 1, b: null }]);
    assert.equal(data.spec.kind, 'bar');
    assert.ok(JSON.parse(fs.readFileSync(w.plotly, 'utf8')).data.length === 1);
    const before = fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
    saveFigure({ name: '01-test', spec, data: { source: 'results/x/quick/summary.json', rows: [{ a: 1, b: null }] } }, { dir, html: 'relative' });
    assert.deepEqual(fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), 'utf8')), before, 'same input → same bytes');
    writeFigure('02-plain', spec, { dir });
    assert.ok(!fs.existsSync(path.join(dir, '02-plain.html')), 'no html unless asked');
    assert.ok(!fs.readdirSync(dir).some((f) => f.includes('.tmp-')), 'no temporaries left');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad spec or name writes nothing', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-write-'));
  try {
    assert.throws(() => writeFigure('../escape', spec, { dir }), /plain file stem/);
    assert.throws(() => writeFigure('bad', { ...spec, series: [{ name: 's', values: [1, 2] }] }, { dir }), /expected 1 entries/);
    assert.deepEqual(fs.readdirSync(dir), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
