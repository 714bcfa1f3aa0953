/**
 * Executing notebooks headless through the runner (needs `jupyter nbconvert`; skipped with the install
 * command otherwise). Notebook 01 reads a hand-made optimizer-mismatch summary under a throw-away preset
 * and must write its figure files; notebook 03, whose results do not exist under that preset, must be
 * reported as pending with the "results file not found" message. Figures go to a temporary folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasJupyter, JUPYTER_INSTALL_HINT } from '../../scripts/notebooks.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const jupyter = hasJupyter();

test('runner: notebook 01 writes its figures; notebook 03 is pending with a clear message', { skip: jupyter ? false : `jupyter nbconvert not found; install with: ${JUPYTER_INSTALL_HINT}`, timeout: 150_000 }, () => {
  const preset = `nbtest-${process.pid}`;
  const resultsDir = path.join(ROOT, 'results', 'optimizer-mismatch', preset);
  const figures = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-nbfig-'));
  const rows = ['TracIn', 'AdamW-influence (exact)'].flatMap((estimator, i) =>
    ['spearman', 'pearson'].map((metric) => ({ setting: 'mlp', preset: 'quick', lr: 1e-3, estimator, metric, seeds: [0], perSeed: [0.3 + i / 10], mean: 0.3 + i / 10, std: null, lo: 0.25 + i / 10, hi: 0.35 + i / 10, n: 40, skipped: 0, seconds: 1 })),
  );
  const gains = [{ setting: 'mlp', preset: 'quick', lr: 1e-3, metric: 'spearman', a: 'AdamW-influence (exact)', b: 'TracIn', gain: 0.33, lo: 0.1, hi: 0.5, n: 40 }];
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
    assert.match(out, /ok +01-optimizer-mismatch .* 6 files/);
    assert.match(out, /pending +03-error-decomposition/);
    assert.match(out, new RegExp(`results file not found: results/error-decomposition/${preset}/summary\\.json; run \`npx tsx lib/cli\\.ts experiment error-decomposition --preset ${preset}\``));
    for (const ext of ['svg', 'plotly.json', 'data.json', 'html']) assert.ok(fs.existsSync(path.join(figures, `01-optimizer-mismatch-spearman.${ext}`)), ext);
    const svg = fs.readFileSync(path.join(figures, '01-optimizer-mismatch-spearman.svg'), 'utf8');
    assert.equal((svg.match(/class="bar"/g) ?? []).length, 2, 'one bar per estimator of the fixture');
    const executed = path.join(ROOT, 'results', 'notebooks', preset, '01-optimizer-mismatch.ipynb');
    assert.ok(fs.existsSync(executed), 'the executed copy is kept, the committed notebook untouched');
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(ROOT, 'notebooks', '01-optimizer-mismatch.ipynb'), 'utf8')).cells.flatMap((c: { outputs?: unknown[] }) => c.outputs ?? []), []);
  } finally {
    fs.rmSync(resultsDir, { recursive: true, force: true });
    fs.rmSync(path.join(ROOT, 'results', 'notebooks', preset), { recursive: true, force: true });
    fs.rmSync(figures, { recursive: true, force: true });
  }
});
