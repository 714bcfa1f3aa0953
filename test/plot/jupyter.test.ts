/**
 * The Deno-Jupyter display helper: a no-op outside the kernel (Node here; also when `Deno.jupyter`'s
 * getter throws, as it does under `deno run`), and one raw display_data bundle with SVG, HTML and plain
 * text inside it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayFigure, figureBundle, inJupyterKernel } from '../../lib/plot/jupyter.ts';
import type { BarFigure } from '../../lib/plot/spec.ts';

const spec: BarFigure = { kind: 'bar', title: 'A <figure>', subtitle: 'sub', categories: ['a'], series: [{ name: 's', values: [1] }] };
const g = globalThis as { Deno?: unknown };

test('outside the kernel: nothing is displayed', async () => {
  assert.equal(g.Deno, undefined);
  assert.equal(inJupyterKernel(), false);
  await displayFigure(spec);
  g.Deno = {
    get jupyter() {
      throw new Error('Deno.jupyter is only available in `deno jupyter` subcommand');
    },
  };
  try {
    assert.equal(inJupyterKernel(), false);
    await displayFigure(spec);
  } finally {
    delete g.Deno;
  }
});

test('inside the kernel: one raw bundle with image/svg+xml, text/html and text/plain (plotly JSON on request)', async () => {
  const calls: [Record<string, unknown>, unknown][] = [];
  g.Deno = { jupyter: { display: async (b: Record<string, unknown>, o: unknown) => void calls.push([b, o]) } };
  try {
    assert.equal(inJupyterKernel(), true);
    await displayFigure(spec);
    await displayFigure(spec, { plotly: true });
  } finally {
    delete g.Deno;
  }
  assert.equal(calls.length, 2);
  const [bundle, opts] = calls[0];
  assert.deepEqual(opts, { raw: true });
  assert.deepEqual(Object.keys(bundle), ['image/svg+xml', 'text/html', 'text/plain']);
  assert.match(bundle['image/svg+xml'] as string, /^<svg /);
  assert.match(bundle['text/html'] as string, /^<figure[^>]*><svg [\s\S]*<figcaption[^>]*>Grouped bar chart/);
  assert.equal(bundle['text/plain'], 'A <figure> — sub');
  assert.ok('application/vnd.plotly.v1+json' in calls[1][0]);
  assert.deepEqual(figureBundle(spec), bundle, 'deterministic');
});
