/**
 * The committed notebooks: generated from their TypeScript sources (in sync), valid nbformat 4.5 with the
 * Deno kernelspec and TypeScript language, free of outputs; the percent-format parser; and the sources
 * (which are also plain scripts) and the scripts/ tools type-check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { notebookProblems, parseSource, serializeNotebook, toNotebook } from '../../scripts/ipynb.ts';
import { checkNotebooks, firstCellError, notebookStems } from '../../scripts/notebooks.ts';
import { notebooks } from '../../lib/findings/registry.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('one notebook per finding, each in sync with its source, valid and output-free', () => {
  assert.deepEqual(notebookStems(), notebooks().map((n) => n.notebook));
  assert.deepEqual(checkNotebooks(), []);
  for (const stem of notebookStems()) {
    const nb = JSON.parse(fs.readFileSync(path.join(ROOT, 'notebooks', `${stem}.ipynb`), 'utf8'));
    assert.equal(nb.nbformat, 4);
    assert.equal(nb.metadata.kernelspec.name, 'deno');
    assert.equal(nb.metadata.kernelspec.language, 'typescript');
    assert.equal(nb.metadata.language_info.name, 'typescript');
    const code = nb.cells.filter((c: { cell_type: string }) => c.cell_type === 'code');
    assert.ok(code.length >= 3 && code.length <= 8, `${stem}: 3–8 code cells, got ${code.length}`);
    assert.equal(nb.cells[0].cell_type, 'markdown', `${stem}: prose first`);
    assert.ok(code.every((c: { outputs: unknown[]; execution_count: unknown }) => c.outputs.length === 0 && c.execution_count === null));
    const src = nb.cells.map((c: { source: string[] }) => c.source.join('')).join('\n');
    assert.match(src, /presetFromEnv\(\)/, `${stem}: the preset comes from FTDA_PRESET`);
    assert.match(src, /saveFigure\(/, `${stem}: writes its figure files`);
    assert.doesNotMatch(src, /import\.meta/, `${stem}: import.meta does not exist in the Deno REPL`);
    // rich output: every figure shown through the Plotly MIME bundle (with SVG / HTML fallbacks), tables through arquero
    const displays = src.match(/displayFigure\([^;]*\);/g) ?? [];
    assert.ok(displays.length >= 1 && displays.every((d: string) => /\{ plotly: true \}/.test(d)), `${stem}: displayFigure(spec, { plotly: true })`);
    assert.match(src, /displayTable\(/, `${stem}: shows a table`);
    // prose around the cells: a question, a method, and a closing guideline whose measured numbers the lead supplies
    const first = nb.cells[0].source.join('');
    assert.match(first, /\*\*The question\.\*\*/, `${stem}: opens with the question`);
    assert.match(first, /\*\*The method in a few equations\.\*\*|\*\*The contract\*\*/, `${stem}: states the method`);
    const last = nb.cells[nb.cells.length - 1];
    assert.equal(last.cell_type, 'markdown', `${stem}: ends with prose`);
    assert.match(last.source.join(''), /^## Practical guideline\n\*\*[^*]+\*\*/, `${stem}: ends with the practical guideline`);
    // measured numbers in prose carry their date, machine and preset
    assert.match(last.source.join(''), /\*Measured \d{4}-\d{2}-\d{2} on [^,]+, full preset: /, `${stem}: the dated, labelled full-preset numbers`);
  }
});

test('percent-format sources: markdown and code cells, header skipped, round trip to nbformat', () => {
  const cells = parseSource('// header, not a cell\n\n// %% [markdown]\n// # Title\n//\n// text\n\n// %%\nconst a = 1;\n\n\nconsole.log(a);\n');
  assert.deepEqual(cells, [
    { kind: 'markdown', text: '# Title\n\ntext' },
    { kind: 'code', text: 'const a = 1;\n\n\nconsole.log(a);' },
  ]);
  const nb = toNotebook(cells, 'x.ts');
  assert.deepEqual(nb.cells[1].source, ['const a = 1;\n', '\n', '\n', 'console.log(a);']);
  assert.deepEqual(notebookProblems(nb, { committed: true }), []);
  const text = serializeNotebook(nb);
  assert.ok(text.endsWith('}\n') && text.startsWith('{\n "cells"'), 'nbformat layout: indent 1, sorted keys');
  assert.throws(() => parseSource('// %% [markdown]\nnot a comment\n', 'f.ts'), /f\.ts:2: markdown lines must start with '\/\/ '/);
  assert.throws(() => parseSource('// %%\n\n// %%\nx\n', 'f.ts'), /f\.ts:1: empty code cell/);
  assert.throws(() => parseSource('just code\n', 'f.ts'), /no cells/);
});

test('notebookProblems catches outputs, a foreign kernel and bad ids; firstCellError reads errors back', () => {
  const nb = toNotebook([{ kind: 'code', text: 'x' }, { kind: 'code', text: 'y' }], 'x.ts');
  nb.cells[0].outputs = [{ output_type: 'error', ename: 'ResultsNotFoundError', evalue: 'results file not found: …', traceback: [] }];
  nb.cells[0].execution_count = 1;
  nb.cells[1].id = nb.cells[0].id;
  (nb.metadata.kernelspec as Record<string, string>).name = 'python3';
  const p = notebookProblems(nb, { committed: true });
  assert.ok(p.some((x) => /carries 1 output/.test(x)));
  assert.ok(p.some((x) => /execution_count 1/.test(x)));
  assert.ok(p.some((x) => /duplicate id c01/.test(x)));
  assert.ok(p.some((x) => /kernelspec.name is "python3"/.test(x)));
  assert.equal(firstCellError(nb), 'ResultsNotFoundError: results file not found: …');
});

test('notebook sources and scripts/ type-check (they are not in tsconfig.json include)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-tsc-'));
  try {
    const cfg = path.join(dir, 'tsconfig.json');
    const files = [...notebookStems().map((s) => path.join(ROOT, 'notebooks', `${s}.ts`)), ...fs.readdirSync(path.join(ROOT, 'scripts')).filter((f) => f.endsWith('.ts')).map((f) => path.join(ROOT, 'scripts', f))];
    // typeRoots: `types: ["node"]` would otherwise be looked up beside this temporary config
    fs.writeFileSync(cfg, JSON.stringify({ extends: path.join(ROOT, 'tsconfig.json'), compilerOptions: { noEmit: true, typeRoots: [path.join(ROOT, 'node_modules', '@types')] }, include: [], files }));
    const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', cfg], { cwd: ROOT, encoding: 'utf8', timeout: 110_000 });
    assert.equal(r.error, undefined);
    // errors in lib/ (work in progress elsewhere) are `npm run typecheck`'s business; ours and global ones fail here
    const errors = (r.stdout + r.stderr).split('\n').filter((l) => /error TS\d+/.test(l) && !/^(lib|test|bench|node_modules)\//.test(l));
    assert.deepEqual(errors, []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('markdown cells escape subscript underscores outside code spans (mistune read them as emphasis)', async () => {
  const { escapeUnderscores } = await import('../../scripts/ipynb.ts');
  assert.equal(escapeUnderscores('θ_t and (m_t, v_t): `δs_{t+1} = J_t δs_t`, a\\_b, x__y'), 'θ\\_t and (m\\_t, v\\_t): `δs_{t+1} = J_t δs_t`, a\\_b, x\\_\\_y');
  const nb = JSON.parse(fs.readFileSync(path.join(ROOT, 'notebooks', '00_quickstart.ipynb'), 'utf8')) as { cells: { cell_type: string; source: string[] }[] };
  const md = nb.cells.filter((c) => c.cell_type === 'markdown').map((c) => c.source.join('')).join('\n');
  assert.match(md, /θ\\_t and AdamW's moments \(m\\_t, v\\_t\)/);
  assert.match(md, /`δs_\{t\+1\} = J_t δs_t \+ push_t\(z\)`/, 'code spans untouched');
});
