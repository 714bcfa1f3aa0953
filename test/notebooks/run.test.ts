/**
 * Executing notebooks headless through the runner (needs `jupyter nbconvert`; skipped with the install
 * command otherwise). Notebook 01 reads a hand-made optimizer-mismatch summary under a throw-away preset
 * and must write its figure files; notebook 03, whose results do not exist under that preset, must be
 * reported as pending with the "results file not found" message. Notebooks 00 and 07 compute on the quick
 * preset (their phases are cached under results/cache) and must write Plotly figures with the expected
 * traces. Figures go to a temporary folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstCellError, hasJupyter, JUPYTER_INSTALL_HINT } from '../../scripts/notebooks.ts';
import type { Notebook } from '../../scripts/ipynb.ts';
import { VARIANTS } from '../../lib/pipeline/variants.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const jupyter = hasJupyter();

test('runner: notebook 01 writes its figures; notebook 03 is pending with a clear message', { skip: jupyter ? false : `jupyter nbconvert not found; install with: ${JUPYTER_INSTALL_HINT}`, timeout: 150_000 }, () => {
  const preset = `nbtest-${process.pid}`;
  const resultsDir = path.join(ROOT, 'results', 'optimizer-mismatch', preset);
  const figures = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-nbfig-'));
  const rows = [VARIANTS.tracin, VARIANTS.sgdInfluence, VARIANTS.adamwExact].flatMap((v, i) =>
    ['spearman', 'pearson'].map((metric) => ({ setting: 'mlp', preset: 'quick', lr: 1e-3, estimator: v.label, estimatorId: v.id, metric, seeds: [0], perSeed: [0.3 + i / 10], mean: 0.3 + i / 10, std: null, lo: 0.25 + i / 10, hi: 0.35 + i / 10, n: 40, skipped: 0, seconds: 1 })),
  );
  const gains = [{ setting: 'mlp', preset: 'quick', lr: 1e-3, optimizer: 'adamw', metric: 'spearman', a: VARIANTS.adamwExact.label, b: VARIANTS.sgdInfluence.label, aId: VARIANTS.adamwExact.id, bId: VARIANTS.sgdInfluence.id, gain: 0.25, lo: 0.1, hi: 0.5, diff: 0.1, diffLo: 0.04, diffHi: 0.16, n: 40 }];
  try {
    fs.mkdirSync(resultsDir, { recursive: true });
    fs.writeFileSync(path.join(resultsDir, 'summary.json'), JSON.stringify({ format: 'faithful-tda/optimizer-mismatch', version: 1, preset, rows, gains, cells: [] }));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/notebooks.ts', 'run', '--preset', preset, '--only', '01,03', '--no-run', '--allow-pending', '--timeout', '120'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 140_000,
      env: { ...process.env, FTDA_FIGURES_DIR: figures, NO_COLOR: '1' },
    });
    const out = r.stdout + r.stderr;
    assert.equal(r.status, 0, out);
    assert.match(out, /ok +01_optimizer_mismatch .* 9 files/);
    assert.match(out, /pending +03_error_decomposition/);
    assert.match(out, new RegExp(`results file not found: results/error-decomposition/${preset}/summary\\.json; run \`npx tsx lib/cli\\.ts experiment error-decomposition --preset ${preset}\``));
    for (const ext of ['svg', 'plotly.json', 'data.json', 'html']) assert.ok(fs.existsSync(path.join(figures, `01_optimizer_mismatch_spearman.${ext}`)), ext);
    const svg = fs.readFileSync(path.join(figures, '01_optimizer_mismatch_spearman.svg'), 'utf8');
    assert.equal((svg.match(/class="bar"/g) ?? []).length, 3, 'one bar per estimator of the fixture');
    assert.ok(fs.existsSync(path.join(figures, '01_optimizer_mismatch_gain.svg')), 'the gain figure from the fixture gains');
    const executed = path.join(ROOT, 'results', 'notebooks', preset, '01_optimizer_mismatch.ipynb');
    assert.ok(fs.existsSync(executed), 'the executed copy is kept, the committed notebook untouched');
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(ROOT, 'notebooks', '01_optimizer_mismatch.ipynb'), 'utf8')).cells.flatMap((c: { outputs?: unknown[] }) => c.outputs ?? []), []);
  } finally {
    fs.rmSync(resultsDir, { recursive: true, force: true });
    fs.rmSync(path.join(ROOT, 'results', 'notebooks', preset), { recursive: true, force: true });
    fs.rmSync(figures, { recursive: true, force: true });
  }
});

/** A figure's Plotly JSON: its traces as (type, mode, name, number of x values). */
function traces(file: string): { type: string; mode?: string; name: string; n: number }[] {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as { data: { type: string; mode?: string; name: string; x: unknown[] }[]; layout: unknown };
  assert.ok(p.layout && Array.isArray(p.data), `${file}: a Plotly {data, layout}`);
  return p.data.map((t) => ({ type: t.type, mode: t.mode, name: t.name, n: t.x.length }));
}

test('runner: notebooks 00 and 07 train, attribute and score on the quick preset and write their Plotly figures', { skip: jupyter ? false : `jupyter nbconvert not found; install with: ${JUPYTER_INSTALL_HINT}`, timeout: 400_000 }, () => {
  const figures = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-nbfig-'));
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/notebooks.ts', 'run', '--preset', 'quick', '--only', '00,07', '--timeout', '300'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 380_000,
      env: { ...process.env, FTDA_FIGURES_DIR: figures, NO_COLOR: '1' },
    });
    const out = r.stdout + r.stderr;
    assert.equal(r.status, 0, out);
    assert.match(out, /ok +00_quickstart .* 3 files/);
    assert.match(out, /ok +07_add_your_estimator .* 6 files/);
    for (const nb of ['00_quickstart', '07_add_your_estimator']) {
      const executed = JSON.parse(fs.readFileSync(path.join(ROOT, 'results', 'notebooks', 'quick', `${nb}.ipynb`), 'utf8')) as Notebook;
      assert.equal(firstCellError(executed), undefined, `${nb}: no cell raised`);
    }
    // 00: one marker trace per estimator over (first queries × scored samples), then the y = x line
    const q = traces(path.join(figures, '00_quickstart_scatter.plotly.json'));
    assert.deepEqual(q.map((t) => [t.type, t.mode]), [['scatter', 'markers'], ['scatter', 'markers'], ['scatter', 'lines']]);
    assert.match(q[0].name, /^AdamW-influence \(exact\) · ρ -?\d\.\d\d$/);
    assert.match(q[1].name, /^TracIn · ρ /);
    assert.equal(q[0].n, 4 * 40, 'quick: 4 queries × 40 scored samples');
    assert.equal(q[2].name, 'y = x');
    const data = JSON.parse(fs.readFileSync(path.join(figures, '00_quickstart_scatter.data.json'), 'utf8'));
    assert.equal(data.source, 'results/quickstart/quick/summary.json');
    // 07: one bar trace each, yours first, then the four built-ins
    for (const name of ['07_add_your_estimator_spearman', '07_add_your_estimator_fd_error']) {
      const t = traces(path.join(figures, `${name}.plotly.json`));
      assert.deepEqual(t.map((x) => [x.type, x.n]), [['bar', 5]], name);
      const p = JSON.parse(fs.readFileSync(path.join(figures, `${name}.plotly.json`), 'utf8'));
      assert.equal(p.data[0].x[0], 'tracin-adam (yours)', `${name}: the notebook's estimator comes first`);
      assert.ok(p.data[0].y.every((v: unknown) => typeof v === 'number' && Number.isFinite(v)), `${name}: every bar has a value`);
    }
    const s = JSON.parse(fs.readFileSync(path.join(ROOT, 'results', 'custom-estimator', 'quick', 'summary.json'), 'utf8'));
    assert.equal(s.yours.name, 'tracin-adam');
    const fdExact = s.rows.find((x: { estimator: string; metric: string }) => x.estimator === 'AdamW-influence (exact)' && x.metric === 'fdRelErr');
    assert.ok(fdExact.mean < 0.3, `AdamW-influence (exact) agrees with the FD oracle (relative error ${fdExact.mean})`);
  } finally {
    fs.rmSync(figures, { recursive: true, force: true });
  }
});
