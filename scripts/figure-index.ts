/**
 * The figure index: `figures/README.md` (tracked, so its bytes depend only on the registry and on which
 * figures are built from which preset — no timestamps) and `figures/index.html` (ignored; thumbnails,
 * links and the headline numbers of the run).
 *
 * Each figure's preset and source results file are read from its `<name>.data.json`, so the index says
 * what the files on disk really are, whichever route (notebook or scripts/figures.ts) wrote them.
 *
 * @module
 */
import fs from 'node:fs';
import path from 'node:path';
import { findings as allFindings } from '../lib/findings/registry.ts';
import type { AnyFinding } from '../lib/findings/types.ts';
import { esc } from '../lib/plot/svg.ts';
import { formatValue, type Headline } from './summary.ts';

/** One catalogue figure and what exists of it on disk. */
export interface IndexEntry {
  notebook: string;
  findingTitle: string;
  experiments: string[];
  name: string;
  /** The figure's own title (from data.json), or null when it is not built. */
  title: string | null;
  /** Preset of the results it was built from (from the source path), or null. */
  preset: string | null;
  /** Project-relative results file it was built from, or null. */
  source: string | null;
  files: { svg: boolean; png: boolean; html: boolean; plotly: boolean; data: boolean };
}

/** Reads what exists in `dir` for every figure of `findings` (default: the whole catalogue). */
export function collectIndex(dir: string, findings: readonly AnyFinding[] = allFindings()): IndexEntry[] {
  const out: IndexEntry[] = [];
  for (const f of findings) {
    for (const { name } of f.figures) {
      const has = (ext: string) => fs.existsSync(path.join(dir, `${name}.${ext}`));
      let title: string | null = null;
      let source: string | null = null;
      if (has('data.json')) {
        try {
          const d = JSON.parse(fs.readFileSync(path.join(dir, `${name}.data.json`), 'utf8')) as { title?: string; source?: string | null };
          title = d.title ?? null;
          source = d.source ?? null;
        } catch {
          // A corrupt data.json indexes as "not built"; rebuilding rewrites it.
        }
      }
      const preset = source ? (/^results\/[^/]+\/([^/]+)\//.exec(source)?.[1] ?? null) : null;
      out.push({
        notebook: f.notebook,
        findingTitle: f.title,
        experiments: [f.id],
        name,
        title,
        preset,
        source,
        files: { svg: has('svg'), png: has('png'), html: has('html'), plotly: has('plotly.json'), data: has('data.json') },
      });
    }
  }
  return out;
}

const FILE_KINDS: [keyof IndexEntry['files'], string][] = [
  ['svg', 'svg'],
  ['png', 'png'],
  ['html', 'html'],
  ['plotly', 'plotly.json'],
  ['data', 'data.json'],
];

const INTRO = `# figures/: generated, not committed

\`./reproduce.sh [--preset quick|full]\` regenerates this folder, and git ignores everything in it except this file,
which it rewrites: the table below lists every figure of the registered findings (\`lib/findings/registry.ts\`), the notebook that
draws it, the preset and the results file the copy on disk was built from. \`index.html\` shows the same figures as
thumbnails, with the run's headline numbers. Figures are built from \`results/<experiment>/<preset>/summary.json\`
only; nothing is recomputed.

| file | what it is |
|---|---|
| \`<name>.svg\` | the static figure: deterministic bytes, self-contained, with \`<title>\`/\`<desc>\` for screen readers |
| \`<name>.png\` | the Plotly chart rendered by headless Chromium (2× pixel density; needs Debian's \`chromium\`) |
| \`<name>.plotly.json\` | the same figure as a Plotly spec \`{data, layout}\` for \`Plotly.newPlot\` (plotly.js-dist) |
| \`<name>.data.json\` | the numbers behind it: the results file it came from, the tidy rows plotted, and the spec |
| \`<name>.html\` | an interactive page that shows the SVG until plotly.js loads (or instead of it, when plotly.js is unavailable) |

The HTML pages link plotly.js by a relative path (\`../node_modules/plotly.js-dist/plotly.js\`): small files that work
inside this checkout after \`npm install\`. \`npx tsx scripts/figures.ts --html inline\` embeds the library instead
(about 10 MB per page). PNGs are re-rendered only when a figure's \`.plotly.json\` changed (\`.png-cache.json\`);
\`npx tsx scripts/figures.ts render --force\` re-renders them all.

Routes: \`./reproduce.sh\` (experiments, notebooks, PNGs, this index, headline table);
\`npx tsx scripts/figures.ts [--preset quick] [--only 01] [--png]\` (figures straight from results, no Jupyter);
\`npx tsx scripts/notebooks.ts run [--preset quick]\` (the notebooks, headless).
`;

/** `figures/README.md`: the intro and one row per catalogue figure (deterministic for a given disk state). */
export function indexMarkdown(entries: IndexEntry[]): string {
  const rows = entries.map((e) => {
    const files = FILE_KINDS.filter(([k]) => e.files[k]).map(([, ext]) => `[${ext}](${e.name}.${ext})`).join(' · ');
    const built = e.files.svg || e.files.plotly;
    return `| \`${e.name}\`${e.title ? ` — ${e.title.replace(/\|/g, '\\|')}` : ''} | [${e.notebook}](../notebooks/${e.notebook}.ipynb) | ${e.preset ?? '—'} | ${e.source ? `\`${e.source}\`` : `not built (${e.experiments.map((x) => `\`results/${x}/<preset>/summary.json\``).join(', ')})`} | ${built ? files : '—'} |`;
  });
  return `${INTRO}
| figure | notebook | preset | results file | files |
|---|---|---|---|---|
${rows.join('\n')}
`;
}

/** Options of {@link indexHtml}. */
export interface IndexHtmlOptions {
  /** The run's preset and headline rows, shown under the figures. */
  preset?: string;
  headlines?: Headline[];
  /** Shown in the footer (default: now). */
  generatedAt?: string;
}

/** `figures/index.html`: a thumbnail grid (PNG, else SVG) linking each figure's page and files. */
export function indexHtml(entries: IndexEntry[], o: IndexHtmlOptions = {}): string {
  const cards = entries.map((e) => {
    const img = e.files.png ? `${e.name}.png` : e.files.svg ? `${e.name}.svg` : null;
    const link = e.files.html ? `${e.name}.html` : img;
    const thumb = img ? `<a href="${esc(link!)}"><img src="${esc(img)}" alt="${esc(e.title ?? e.name)}" loading="lazy"></a>` : `<div class="missing">not built</div>`;
    const files = FILE_KINDS.filter(([k]) => e.files[k]).map(([, ext]) => `<a href="${esc(`${e.name}.${ext}`)}">${ext}</a>`).join(' · ');
    return `<figure>${thumb}<figcaption><b>${esc(e.title ?? e.name)}</b><br><code>${esc(e.name)}</code> · notebook <a href="../notebooks/${esc(e.notebook)}.ipynb">${esc(e.notebook)}</a><br>preset <b>${esc(e.preset ?? '—')}</b> · ${e.source ? `<code>${esc(e.source)}</code>` : 'no results yet'}<br>${files}</figcaption></figure>`;
  });
  const head = o.headlines?.length
    ? `<h2>Headline numbers${o.preset ? `, preset ${esc(o.preset)}` : ''}</h2>
<table><thead><tr><th>experiment</th><th>cell</th><th>quantity</th><th>value</th><th>interval</th></tr></thead><tbody>
${o.headlines
  .map((h) => {
    const v = formatValue(h);
    return `<tr><td>${esc(h.experiment)}</td><td>${esc(h.cell)}</td><td>${esc(h.quantity)}</td><td class="n">${esc(v.value)}</td><td>${esc(v.ci)}</td></tr>`;
  })
  .join('\n')}
</tbody></table>
<p class="note">Intervals are 95% bootstrap CIs unless the quantity says otherwise (scripts/summary.ts).</p>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>faithful-tda figures</title>
<style>
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:1.5rem;color:#222}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(380px,1fr));gap:1.2rem}
figure{margin:0;border:1px solid #ddd;border-radius:6px;padding:.6rem;background:#fff}
figure img{width:100%;height:auto;display:block}
figcaption{font-size:.85rem;color:#444;margin-top:.4rem;line-height:1.5}
.missing{height:180px;display:flex;align-items:center;justify-content:center;background:#f4f4f4;color:#888}
table{border-collapse:collapse;font-size:.85rem;margin-top:.5rem}th,td{border-bottom:1px solid #e4e4e4;padding:.25rem .6rem;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
.note,footer{color:#666;font-size:.8rem}
</style>
</head>
<body>
<h1>faithful-tda figures</h1>
<p>Every figure of the registered findings (<code>lib/findings/registry.ts</code>); click a thumbnail for the interactive page. Regenerate with <code>./reproduce.sh --preset quick</code>.</p>
<div class="grid">
${cards.join('\n')}
</div>
${head}
<footer><p>Generated ${esc(o.generatedAt ?? new Date().toISOString())} by scripts/figures.ts index.</p></footer>
</body>
</html>
`;
}

/** Writes `<dir>/README.md` and `<dir>/index.html`; returns their paths. */
export function writeIndex(dir: string, o: IndexHtmlOptions & { findings?: readonly AnyFinding[] } = {}): { readme: string; html: string; entries: IndexEntry[] } {
  const entries = collectIndex(dir, o.findings);
  fs.mkdirSync(dir, { recursive: true });
  const readme = path.join(dir, 'README.md');
  const html = path.join(dir, 'index.html');
  fs.writeFileSync(readme, indexMarkdown(entries));
  fs.writeFileSync(html, indexHtml(entries, o));
  return { readme, html, entries };
}
