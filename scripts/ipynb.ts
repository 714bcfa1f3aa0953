/**
 * Notebook sources ↔ Jupyter notebooks. A notebook's source of truth is a TypeScript file in the
 * "percent" format (as jupytext writes it): `// %%` starts a code cell, `// %% [markdown]` a markdown
 * cell whose lines are `// `-comments; text before the first marker is a file header, not a cell. The
 * `.ipynb` is generated from it (nbformat 4.5, Deno kernel, no outputs), so diffs stay readable and the
 * committed notebook never carries stale outputs.
 *
 * @module
 */

/** One cell of a notebook source. */
export interface SourceCell {
  kind: 'code' | 'markdown';
  text: string;
}

/** The nbformat 4 JSON of a notebook (the fields this suite writes). */
export interface Notebook {
  nbformat: 4;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: NotebookCell[];
}

/** An nbformat 4 cell. */
export interface NotebookCell {
  cell_type: 'code' | 'markdown';
  id: string;
  metadata: Record<string, unknown>;
  source: string[];
  outputs?: unknown[];
  execution_count?: number | null;
}

const MARKER = /^\/\/ %%(?:\s+\[(markdown|md)\])?\s*$/;

function trimBlank(lines: string[]): string[] {
  let a = 0;
  let b = lines.length;
  while (a < b && lines[a].trim() === '') a++;
  while (b > a && lines[b - 1].trim() === '') b--;
  return lines.slice(a, b);
}

/**
 * Splits a percent-format source into cells.
 * @throws Error when there is no cell, a cell is empty, or a markdown line is not a `//` comment
 */
export function parseSource(text: string, file = 'notebook source'): SourceCell[] {
  const cells: SourceCell[] = [];
  let cur: { kind: SourceCell['kind']; lines: string[]; line: number } | undefined;
  const flush = () => {
    if (!cur) return;
    const lines = trimBlank(cur.lines);
    if (!lines.length) throw new Error(`${file}:${cur.line}: empty ${cur.kind} cell`);
    cells.push({ kind: cur.kind, text: lines.join('\n') });
  };
  text.replace(/\r\n/g, '\n').split('\n').forEach((line, i) => {
    const m = MARKER.exec(line);
    if (m) {
      flush();
      cur = { kind: m[1] ? 'markdown' : 'code', lines: [], line: i + 1 };
      return;
    }
    if (!cur) return; // file header
    if (cur.kind === 'markdown') {
      if (line.trim() === '') cur.lines.push('');
      else if (line.startsWith('// ')) cur.lines.push(line.slice(3));
      else if (line === '//') cur.lines.push('');
      else throw new Error(`${file}:${i + 1}: markdown lines must start with '// ' (got '${line.slice(0, 40)}')`);
    } else cur.lines.push(line);
  });
  flush();
  if (!cells.length) throw new Error(`${file}: no cells (start one with '// %%' or '// %% [markdown]')`);
  return cells;
}

/** nbformat stores source as lines that keep their '\n' (all but the last). */
function sourceLines(text: string): string[] {
  const lines = text.split('\n');
  return lines.map((l, i) => (i < lines.length - 1 ? l + '\n' : l));
}

/** The notebook metadata every generated notebook carries (kernelspec `deno`, TypeScript). */
export function notebookMetadata(sourceName: string): Record<string, unknown> {
  return {
    faithful_tda: { generated_from: sourceName, generator: 'npx tsx scripts/notebooks.ts build', note: 'edit the source, not this file' },
    kernelspec: { display_name: 'Deno', language: 'typescript', name: 'deno' },
    language_info: { codemirror_mode: 'typescript', file_extension: '.ts', mimetype: 'text/x.typescript', name: 'typescript', nbconvert_exporter: 'script', pygments_lexer: 'typescript' },
  };
}

/**
 * Escapes `_` outside code spans of a markdown cell. The sources write subscripts as in the papers (θ_t, m_t,
 * δs_{t+1}); Jupyter's and nbconvert's markdown (mistune) read a pair of them as emphasis, even across code spans,
 * which garbled whole paragraphs. Inside backticks nothing changes; an already escaped `\_` stays as it is.
 */
export function escapeUnderscores(md: string): string {
  return md
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/(^|[^\\])_/g, '$1\\_').replace(/(^|[^\\])_/g, '$1\\_')))
    .join('');
}

/** Builds the notebook of a source: cell ids `c01`, `c02`, …; code cells without outputs. */
export function toNotebook(cells: SourceCell[], sourceName: string): Notebook {
  return {
    cells: cells.map((c, i): NotebookCell => {
      const id = `c${String(i + 1).padStart(2, '0')}`;
      return c.kind === 'markdown'
        ? { cell_type: 'markdown', id, metadata: {}, source: sourceLines(escapeUnderscores(c.text)) }
        : { cell_type: 'code', execution_count: null, id, metadata: {}, outputs: [], source: sourceLines(c.text) };
    }),
    metadata: notebookMetadata(sourceName),
    nbformat: 4,
    nbformat_minor: 5,
  };
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}

/** Serialises like nbformat's writer (indent 1, sorted keys, trailing newline), so Jupyter saves diff cleanly. */
export function serializeNotebook(nb: Notebook): string {
  return JSON.stringify(sortKeys(nb), null, 1) + '\n';
}

/**
 * Structural check of a notebook for this suite: nbformat 4 (minor ≥ 5, cell ids), Deno kernelspec,
 * TypeScript language, and — for committed notebooks — no outputs or execution counts.
 * @returns the problems found (empty when valid)
 */
export function notebookProblems(nb: unknown, o: { committed?: boolean } = {}): string[] {
  const p: string[] = [];
  const n = nb as Partial<Notebook>;
  if (!n || typeof n !== 'object') return ['not a JSON object'];
  if (n.nbformat !== 4) p.push(`nbformat is ${n.nbformat}, expected 4`);
  if (typeof n.nbformat_minor !== 'number' || n.nbformat_minor < 5) p.push(`nbformat_minor is ${n.nbformat_minor}, expected ≥ 5 (cell ids)`);
  const ks = (n.metadata?.kernelspec ?? {}) as Record<string, unknown>;
  if (ks.name !== 'deno') p.push(`kernelspec.name is ${JSON.stringify(ks.name)}, expected "deno"`);
  if (ks.language !== 'typescript') p.push(`kernelspec.language is ${JSON.stringify(ks.language)}, expected "typescript"`);
  if ((n.metadata?.language_info as { name?: string } | undefined)?.name !== 'typescript') p.push('language_info.name is not "typescript"');
  if (!Array.isArray(n.cells) || !n.cells.length) return [...p, 'no cells'];
  const ids = new Set<string>();
  n.cells.forEach((c, i) => {
    if (c.cell_type !== 'code' && c.cell_type !== 'markdown') p.push(`cell ${i}: cell_type ${JSON.stringify(c.cell_type)}`);
    if (typeof c.id !== 'string' || !/^[a-zA-Z0-9-_]{1,64}$/.test(c.id)) p.push(`cell ${i}: bad id ${JSON.stringify(c.id)}`);
    else if (ids.has(c.id)) p.push(`cell ${i}: duplicate id ${c.id}`);
    else ids.add(c.id);
    if (!Array.isArray(c.source) || c.source.some((s) => typeof s !== 'string')) p.push(`cell ${i}: source must be a list of strings`);
    if (typeof c.metadata !== 'object' || c.metadata === null) p.push(`cell ${i}: metadata must be an object`);
    if (c.cell_type === 'code') {
      if (!Array.isArray(c.outputs)) p.push(`cell ${i}: code cell without outputs list`);
      else if (o.committed && c.outputs.length) p.push(`cell ${i}: committed notebook carries ${c.outputs.length} output(s)`);
      if (o.committed && c.execution_count !== null) p.push(`cell ${i}: committed notebook carries execution_count ${c.execution_count}`);
    } else if ('outputs' in c) p.push(`cell ${i}: markdown cell with outputs`);
  });
  return p;
}
