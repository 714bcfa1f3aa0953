/**
 * scripts/figures.ts and the figure index: commands and flags parse (with clear errors), the progress
 * line's ETA is the mean so far times what is left, and the index lists every catalogue figure with its
 * notebook, the preset and results file its copy on disk came from, and only the files that exist —
 * the README part byte-identical for the same disk state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatSeconds, parseFigureFlags, progressLine } from '../../scripts/figures.ts';
import { collectIndex, indexHtml, indexMarkdown, writeIndex } from '../../scripts/figure-index.ts';
import { findings } from '../../lib/findings/registry.ts';
import { writeFigure } from '../../lib/plot/write.ts';
import type { BarFigure } from '../../lib/plot/spec.ts';

test('flags: build by default, render and index commands, --list-experiments, errors name the flag', () => {
  const b = parseFigureFlags(['--preset', 'full', '--only', '01, 02', '--png', '--index']);
  assert.deepEqual([b.command, b.preset, b.only, b.png, b.index, b.html], ['build', 'full', ['01', '02'], true, true, 'relative']);
  const r = parseFigureFlags(['render', '--force', '--png-from', 'svg', '--engine', 'cli']);
  assert.deepEqual([r.command, r.png, r.force, r.pngFrom, r.engine], ['render', true, true, 'svg', 'cli']);
  assert.equal(parseFigureFlags(['index']).index, true);
  assert.equal(parseFigureFlags(['--list-experiments']).command, 'list-experiments');
  assert.throws(() => parseFigureFlags(['draw']), /unknown command 'draw'/);
  assert.throws(() => parseFigureFlags(['--engine', 'firefox']), /--engine must be auto, playwright, cli; got 'firefox'/);
  assert.throws(() => parseFigureFlags(['--preset']), /--preset needs a value/);
  assert.throws(() => parseFigureFlags(['--preset', 'Bad Name']), /preset name/);
});

test('progress line: bar, counts, elapsed and ETA from the mean so far', () => {
  assert.equal(progressLine(1, 4, 30), '[#####---------------] 1/4  elapsed 30 s  ETA ~1m30s');
  assert.equal(progressLine(4, 4, 125), '[####################] 4/4  elapsed 2m05s');
  assert.equal(progressLine(0, 3, 0, 'x'), '[--------------------] 0/3  elapsed 0.0 s  x');
  assert.equal(formatSeconds(7260), '2h01m');
});

const spec: BarFigure = { kind: 'bar', title: 'A | title', categories: ['a'], series: [{ name: 's', values: [1] }] };

test('index: every registered figure, with notebook, preset and source of what is on disk', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-index-'));
  try {
    const f = findings().find((x) => x.figures.length > 0)!;
    const name = f.figures[0].name;
    const source = `results/${f.id}/full/summary.json`;
    writeFigure(name, spec, { dir, html: 'relative', data: { source, rows: [] } });
    const entries = collectIndex(dir);
    assert.equal(entries.length, findings().reduce((n, x) => n + x.figures.length, 0));
    const e = entries.find((x) => x.name === name)!;
    assert.deepEqual([e.notebook, e.preset, e.source, e.title], [f.notebook, 'full', source, 'A | title']);
    assert.deepEqual(e.files, { svg: true, png: false, html: true, plotly: true, data: true });
    const md = indexMarkdown(entries);
    assert.ok(md.includes(`| \`${name}\` — A \\| title | [${f.notebook}](../notebooks/${f.notebook}.ipynb) | full | \`${source}\` |`), 'row with escaped pipe');
    assert.ok(!md.includes(`(${name}.png)`), 'no link to a PNG that does not exist');
    for (const other of entries.filter((x) => x.name !== name)) assert.ok(md.includes(`| \`${other.name}\` |`), `${other.name} listed as not built`);
    // Each table row has the same number of cells as the header.
    const table = md.slice(md.indexOf('| figure | notebook |')).split('\n').filter((l) => l.startsWith('| `'));
    assert.equal(table.length, entries.length);
    for (const l of table) assert.equal(l.replace(/\\\|/g, '').split('|').length, 7, l);

    const html = indexHtml(entries, { preset: 'full', headlines: [{ experiment: 'e', cell: 'c', quantity: 'q <b>', value: 0.5 }], generatedAt: 'T' });
    assert.ok(html.includes(`<img src="${name}.svg"`), 'SVG thumbnail when there is no PNG');
    assert.ok(html.includes('q &lt;b&gt;'), 'escaped');
    fs.writeFileSync(path.join(dir, `${name}.png`), 'x');
    assert.ok(indexHtml(collectIndex(dir)).includes(`<img src="${name}.png"`), 'PNG thumbnail when there is one');

    const w1 = writeIndex(dir, { generatedAt: 'T1' });
    const readme1 = fs.readFileSync(w1.readme, 'utf8');
    writeIndex(dir, { generatedAt: 'T2' });
    assert.equal(fs.readFileSync(w1.readme, 'utf8'), readme1, 'README.md has no timestamp: same disk state, same bytes');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
