/**
 * Adding a finding takes one folder (test/findings/fixtures/toy/) and one registration (`FTDA_FINDINGS`, or a line
 * in lib/findings/registry.ts): the CLI runs it with its grid checked, the figure builder draws it, the headline
 * summary quotes it, and reproduce.sh's list includes it — none of them names it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findings, getFinding, loadFindingModules, registerFinding, unregisterFinding } from '../../lib/findings/registry.ts';
import { UsageError } from '../../lib/runtime/errors.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TOY = 'test/findings/fixtures/toy/index.ts';

function run(script: string, args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000, env: { ...process.env, NO_COLOR: '1', FTDA_QUIET: '1', ...env } });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout + r.stderr };
}

test('a toy finding runs through the CLI, the figure builder, the headline summary and the experiment list', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ftda-toy-'));
  const env = { FTDA_FINDINGS: TOY, FTDA_RESULTS_DIR: path.join(tmp, 'results'), FTDA_FIGURES_DIR: path.join(tmp, 'figures') };
  try {
    const help = run('lib/cli.ts', ['help'], env);
    assert.equal(help.code, 0, help.out);
    assert.match(help.out, /\btoy\b/, 'help lists the registered finding');

    const bad = run('lib/cli.ts', ['experiment', 'toy', '--lrs', '0.2'], env);
    assert.equal(bad.code, 2, bad.out);
    assert.match(bad.out, /0\.2/, 'an LR outside its grid is a usage error naming the value');

    const ran = run('lib/cli.ts', ['experiment', 'toy', '--preset', 'quick'], env);
    assert.equal(ran.code, 0, ran.out);
    const summary = JSON.parse(readFileSync(path.join(tmp, 'results', 'toy', 'quick', 'summary.json'), 'utf8'));
    assert.deepEqual(summary.rows.map((r: { lr: number }) => r.lr), [0.01, 0.05]);
    for (const r of summary.rows) assert.ok(Number.isFinite(r.mean) && r.mean > -1 && r.mean <= 1 && r.lo <= r.mean && r.mean <= r.hi, JSON.stringify(r));
    assert.match(ran.out, /toy lr 0\.01: Spearman /, 'the finding’s report is printed');

    const figs = run('scripts/figures.ts', ['build', '--preset', 'quick', '--only', 'toy', '--html', 'none'], env);
    assert.equal(figs.code, 0, figs.out);
    const svg = readFileSync(path.join(tmp, 'figures', '99_toy_spearman.svg'), 'utf8');
    assert.match(svg, /Toy: TracIn vs TSLOO/);
    assert.match(svg, /lr 0\.05/);

    const sum = run('scripts/summary.ts', ['--preset', 'quick', '--only', 'toy'], env);
    assert.equal(sum.code, 0, sum.out);
    assert.match(sum.out, /Spearman ρ vs TSLOO, TracIn/);
    assert.ok(existsSync(path.join(tmp, 'results', 'reproduce', 'quick', 'headline.json')), 'headline files go under FTDA_RESULTS_DIR');

    const list = run('scripts/figures.ts', ['--list-experiments'], env);
    assert.equal(list.code, 0, list.out);
    const ids = list.out.trim().split(/\s+/);
    assert.equal(ids[ids.length - 1], 'toy', 'registered after the built-ins, so reproduce.sh runs it too');
    assert.ok(!run('scripts/figures.ts', ['--list-experiments'], {}).out.includes('toy'), 'without FTDA_FINDINGS it is not there');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('registration: in-process, idempotent per module, with clear errors', async () => {
  const before = findings().length;
  try {
    assert.deepEqual(await loadFindingModules(TOY), ['toy']);
    assert.deepEqual(await loadFindingModules(TOY), [], 'the same module is not loaded twice');
    assert.equal(getFinding('toy').notebook, '99_toy');
    assert.throws(() => registerFinding(getFinding('toy')), UsageError, 'ids are unique');
    assert.throws(() => registerFinding({ ...getFinding('toy'), id: 'toy-2', figures: [{ name: 'other', build: () => { throw new Error('unused'); } }] }), /must start with its notebook stem/);
    await assert.rejects(loadFindingModules('no/such/module.ts'), /does not exist/);
    await assert.rejects(loadFindingModules('test/findings/fixtures/not-a-finding.ts'), /exports no `finding`/);
  } finally {
    unregisterFinding('toy');
  }
  assert.equal(findings().length, before);
});
