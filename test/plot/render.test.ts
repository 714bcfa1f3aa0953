/**
 * PNG rendering: the PNG codec (every row filter round-trips), the blank check (a white or flat image
 * fails, a chart-like one passes), Chromium lookup (FTDA_CHROMIUM, PATH, the install hint), and — with a
 * Chromium installed — one figure rendered through its standalone HTML page is not blank, a blank page
 * fails the check, and the cache skips an unchanged figure but rerenders a changed one.
 * Without Chromium the browser tests are skipped with the install command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { blankProblems, decodePng, encodePng, pngStats, type RgbaImage } from '../../lib/plot/png.ts';
import { CHROMIUM_INSTALL, ChromiumNotFoundError, findChromium, loadPlaywright, openRenderer, RENDER_CACHE, renderFigures, requireChromium } from '../../lib/plot/render.ts';
import { writeFigure } from '../../lib/plot/write.ts';
import type { BarFigure } from '../../lib/plot/spec.ts';

/** A w×h image: white, with a coloured diagonal band and a grey gradient strip (many colours). */
function chartLike(w: number, h: number): RgbaImage {
  const rgba = new Uint8Array(w * h * 4).fill(255);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      if (Math.abs(x - y) < 4) [rgba[i], rgba[i + 1], rgba[i + 2]] = [0, 114, 178];
      if (y > h - 10) rgba[i] = rgba[i + 1] = rgba[i + 2] = Math.round((255 * x) / w);
      if (x < 3 && y < 3) rgba[i + 3] = 0; // transparent corner: counts as white
    }
  }
  return { width: w, height: h, rgba };
}

test('PNG codec: encode → decode is exact for every row filter', () => {
  const img = chartLike(64, 60);
  for (const f of [0, 1, 2, 3, 4, (row: number) => row % 5]) {
    const back = decodePng(encodePng(img, f));
    assert.equal(back.width, 64);
    assert.equal(back.height, 60);
    assert.deepEqual(back.rgba, img.rgba, `filter ${typeof f === 'function' ? 'mixed' : f}`);
  }
  assert.throws(() => decodePng(Buffer.from('not a png at all')), /not a PNG/);
  const bad = encodePng(img);
  bad[bad.length - 20] ^= 0xff; // inside IDAT's data or CRC
  assert.throws(() => decodePng(bad), /CRC|decodePng|incorrect|invalid/i);
});

test('blank check: white, flat and tiny images fail; a chart-like image passes', () => {
  const white: RgbaImage = { width: 200, height: 100, rgba: new Uint8Array(200 * 100 * 4).fill(255) };
  const s = pngStats(white);
  assert.equal(s.colours, 1);
  assert.equal(s.nonWhiteFraction, 0);
  assert.equal(blankProblems(s).length, 2, blankProblems(s).join('; '));
  const flat: RgbaImage = { width: 200, height: 100, rgba: new Uint8Array(200 * 100 * 4).map((_, i) => (i % 4 === 3 ? 255 : 40)) };
  assert.match(blankProblems(pngStats(flat)).join('; '), /1 distinct colours/, 'one dark colour is not a figure either');
  const chart = pngStats(chartLike(200, 120));
  assert.ok(chart.nonWhiteFraction > 0.01 && chart.colours > 20, JSON.stringify(chart));
  assert.deepEqual(blankProblems(chart), []);
  assert.match(blankProblems(pngStats(chartLike(20, 20))).join('; '), /only 20×20 px/);
});

test('Chromium lookup: FTDA_CHROMIUM wins, then PATH; a missing one names the install command', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-chromium-path-'));
  try {
    const fake = path.join(dir, 'chromium-browser');
    fs.writeFileSync(fake, '#!/bin/sh\necho fake\n', { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'chromium'), 'not executable', { mode: 0o644 });
    assert.equal(findChromium({ PATH: dir }), fake, 'the non-executable `chromium` is passed over');
    assert.equal(findChromium({ PATH: '/nonexistent', FTDA_CHROMIUM: fake }), fake);
    assert.equal(findChromium({ PATH: dir, FTDA_CHROMIUM: '/no/such/chrome' }), null, 'a wrong FTDA_CHROMIUM is not silently replaced');
    assert.equal(findChromium({ PATH: '/nonexistent' }), null);
    assert.throws(() => requireChromium({ PATH: '/nonexistent' }), (e: Error) => {
      assert.ok(e instanceof ChromiumNotFoundError);
      assert.ok(e.message.includes(CHROMIUM_INSTALL) && e.message.includes('--setup') && e.message.includes('chromium-browser'), e.message);
      return true;
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const chromium = findChromium();
const skipBrowser = chromium ? false : `no headless Chromium found; install it with \`${CHROMIUM_INSTALL}\` (or ./reproduce.sh --setup), or set FTDA_CHROMIUM`;

const spec: BarFigure = {
  kind: 'bar',
  title: 'Render test',
  subtitle: 'three groups, two series',
  categories: ['a', 'b', 'c'],
  series: [
    { name: 'first', values: [0.4, 0.8, 0.2], lo: [0.3, 0.7, 0.1], hi: [0.5, 0.9, 0.3] },
    { name: 'second', values: [0.6, 0.5, 0.9] },
  ],
  yLabel: 'value',
};

test('Chromium: a figure rendered from its HTML page is not blank; the cache skips it until its Plotly JSON changes', { skip: skipBrowser, timeout: 180_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-render-'));
  try {
    writeFigure('render-test', spec, { dir, html: 'relative' });
    const first = await renderFigures(['render-test', 'not-built'], { dir });
    const [o, missing] = first.outcomes;
    assert.equal(o.status, 'rendered', o.error);
    assert.equal(missing.status, 'missing');
    const stats = pngStats(decodePng(fs.readFileSync(path.join(dir, 'render-test.png'))));
    assert.ok(stats.nonWhiteFraction > 0.01, `non-white ${stats.nonWhiteFraction}`);
    assert.ok(stats.colours > 20, `colours ${stats.colours}`);
    assert.equal(stats.width, 2 * 760, 'the chart element at 2× density, not the whole page');
    assert.ok(fs.existsSync(path.join(dir, RENDER_CACHE)));

    const again = await renderFigures(['render-test'], { dir });
    assert.equal(again.outcomes[0].status, 'cached');
    assert.equal(again.renderer, undefined, 'no browser started when everything is cached');

    // Changed Plotly JSON → rerendered; the page is gone too, so it is rebuilt (temporarily) from data.json.
    writeFigure('render-test', { ...spec, title: 'Render test, changed' }, { dir });
    fs.rmSync(path.join(dir, 'render-test.html'));
    const changed = await renderFigures(['render-test'], { dir });
    assert.equal(changed.outcomes[0].status, 'rendered', changed.outcomes[0].error);
    assert.ok(!fs.existsSync(path.join(dir, 'render-test.html')), 'the temporary page is not left behind');
    assert.ok(!fs.readdirSync(dir).some((f) => f.includes('.tmp-') || f.includes('.render-')), 'no temporaries left');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('Chromium: a blank page fails the blank check (so the check can fail)', { skip: skipBrowser, timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-render-blank-'));
  const r = await openRenderer({ executable: chromium! });
  try {
    const page = path.join(dir, 'blank.html');
    fs.writeFileSync(page, '<!doctype html><html><body style="background:#fff"></body></html>');
    await r.shoot(page, path.join(dir, 'blank.png'), { width: 400, height: 300 });
    const s = pngStats(decodePng(fs.readFileSync(path.join(dir, 'blank.png'))));
    assert.ok(blankProblems(s).length > 0, `a white page must fail: ${JSON.stringify(s)}`);
    // A figure whose page draws nothing (an empty Plotly spec) is reported as blank, not written as a success.
    fs.writeFileSync(path.join(dir, 'empty.plotly.json'), JSON.stringify({ data: [], layout: { width: 300, height: 200, xaxis: { visible: false }, yaxis: { visible: false } } }));
    const out = await renderFigures(['empty'], { dir, engine: 'cli', timeoutMs: 60_000 });
    assert.equal(out.outcomes[0].status, 'failed');
    assert.match(out.outcomes[0].error!, /looks blank/);
  } finally {
    await r.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('Chromium, both engines: playwright-core (when installed) and the plain CLI give the same-size, non-blank PNG', { skip: skipBrowser, timeout: 180_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-render-engines-'));
  try {
    writeFigure('engines', spec, { dir, html: 'relative' });
    const cli = await renderFigures(['engines'], { dir, engine: 'cli', force: true });
    assert.equal(cli.outcomes[0].status, 'rendered', cli.outcomes[0].error);
    assert.equal(cli.renderer?.engine, 'cli');
    const a = cli.outcomes[0].stats!;
    if (!(await loadPlaywright())) {
      t.diagnostic('playwright-core is not installed: only the CLI engine was checked');
      return;
    }
    const pw = await renderFigures(['engines'], { dir, engine: 'playwright', force: true });
    assert.equal(pw.outcomes[0].status, 'rendered', pw.outcomes[0].error);
    const b = pw.outcomes[0].stats!;
    assert.deepEqual([a.width, a.height], [b.width, b.height]);
    assert.ok(Math.abs(a.nonWhiteFraction - b.nonWhiteFraction) < 0.02, `${a.nonWhiteFraction} vs ${b.nonWhiteFraction}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
