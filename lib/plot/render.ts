/**
 * PNG rendering of figures with a headless Chromium from the system (Debian's `chromium` package), never
 * one downloaded behind the user's back.
 *
 * Two engines drive it:
 * - `playwright` (preferred): playwright-core, pure JS, launched once with `executablePath` for a whole
 *   batch. It opens the figure's standalone HTML page, waits until Plotly has drawn (`.main-svg`) and
 *   screenshots the chart element only.
 * - `cli` (fallback when playwright-core is not installed): one `chromium --headless --screenshot` per
 *   figure on a bare page that draws the chart at its layout size; `--virtual-time-budget` lets plotly.js
 *   load and draw before the shot.
 *
 * Every PNG is checked with {@link blankProblems}, and {@link renderFigures} skips a figure whose
 * inputs have not changed since its PNG was written (a content-hash cache beside the figures).
 *
 * @module
 */
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { figureHtml, scriptJson } from './html.ts';
import { plotlyJsPath } from './paths.ts';
import { blankProblems, decodePng, pngStats, type BlankThresholds, type PngStats } from './png.ts';
import type { FigureSpec } from './spec.ts';

/** Executables looked for on PATH, in order, after `FTDA_CHROMIUM`. */
export const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/** The command that installs the browser (Debian/Ubuntu package). */
export const CHROMIUM_INSTALL = 'sudo apt-get install -y chromium';

/** Thrown when no Chromium is found; the message names what was tried and how to install it. */
export class ChromiumNotFoundError extends Error {
  constructor(readonly tried: string[]) {
    super(
      `headless Chromium not found (tried ${tried.join(', ')}). Install it with \`${CHROMIUM_INSTALL}\` ` +
        `(or \`./reproduce.sh --setup\`), or point FTDA_CHROMIUM at a Chromium/Chrome executable.`,
    );
    this.name = 'ChromiumNotFoundError';
  }
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * The Chromium executable to use: `FTDA_CHROMIUM` (a path or a name on PATH) when set, else the first of
 * {@link CHROMIUM_NAMES} on PATH; null when there is none. An `FTDA_CHROMIUM` that does not resolve is
 * not silently replaced by another browser: the result is null.
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  const dirs = (env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const onPath = (name: string) => {
    if (name.includes('/')) return isExecutable(name) ? path.resolve(name) : null;
    for (const d of dirs) if (isExecutable(path.join(d, name))) return path.join(d, name);
    return null;
  };
  const forced = env.FTDA_CHROMIUM;
  if (forced) return onPath(forced);
  for (const name of CHROMIUM_NAMES) {
    const p = onPath(name);
    if (p) return p;
  }
  return null;
}

/** {@link findChromium}, or a {@link ChromiumNotFoundError}. */
export function requireChromium(env: NodeJS.ProcessEnv = process.env): string {
  const p = findChromium(env);
  if (!p) throw new ChromiumNotFoundError(env.FTDA_CHROMIUM ? [`FTDA_CHROMIUM=${env.FTDA_CHROMIUM}`] : CHROMIUM_NAMES);
  return p;
}

/** How pages are driven: see the module comment. */
export type RenderEngine = 'playwright' | 'cli';

/** Options of {@link openRenderer}. */
export interface RendererOptions {
  /** Chromium executable (default {@link requireChromium}). */
  executable?: string;
  /** `auto` (default): playwright when playwright-core can be imported, else cli. */
  engine?: RenderEngine | 'auto';
  /** Device pixels per CSS pixel (default 2: sharp on paper and on high-DPI screens). */
  scale?: number;
  /** Per-page limit in ms (default 60 000 — a cold plotly.js parse takes seconds on a slow core). */
  timeoutMs?: number;
}

/** What to shoot on a page. */
export interface ShotOptions {
  /** Wait until this CSS selector matches (playwright only). */
  waitFor?: string;
  /** After waiting: an element whose non-empty text means the page failed (its text is the error; playwright only). */
  failText?: string;
  /** Screenshot only this element (playwright only; default: the viewport). */
  element?: string;
  /** Viewport in CSS pixels (default 1000 × 800). */
  width?: number;
  height?: number;
}

/** A headless browser that turns pages into PNGs. Close it when done. */
export interface Renderer {
  engine: RenderEngine;
  executable: string;
  /** Browser version, e.g. `156.0.8078.79`. */
  version: string;
  /** Screenshots a local HTML or SVG file into `png`. */
  shoot(file: string, png: string, o?: ShotOptions): Promise<void>;
  close(): Promise<void>;
}

// The few playwright-core calls used here, typed locally so this module type-checks (and falls back to
// the CLI) when playwright-core is not installed.
interface PwLocator {
  first(): PwLocator;
  screenshot(o: { path: string; timeout?: number; animations?: 'disabled' }): Promise<unknown>;
}
interface PwPage {
  goto(url: string, o?: { timeout?: number; waitUntil?: 'load' }): Promise<unknown>;
  setViewportSize(s: { width: number; height: number }): Promise<void>;
  waitForSelector(sel: string, o?: { timeout?: number; state?: 'attached' | 'visible' }): Promise<unknown>;
  evaluate<T>(fn: () => T | Promise<T>): Promise<T>;
  evaluate<T, A>(fn: (arg: A) => T | Promise<T>, arg: A): Promise<T>;
  screenshot(o: { path: string; timeout?: number }): Promise<unknown>;
  locator(sel: string): PwLocator;
}
interface PwBrowser {
  version(): string;
  newPage(o: { viewport: { width: number; height: number }; deviceScaleFactor: number }): Promise<PwPage>;
  close(): Promise<void>;
}
interface PwChromium {
  launch(o: { executablePath: string; headless: boolean; args: string[]; timeout?: number }): Promise<PwBrowser>;
}

/** playwright-core's `chromium`, or null when the package is not installed. */
export async function loadPlaywright(): Promise<PwChromium | null> {
  const name = 'playwright-core'; // a variable, so tsc does not need the package's types
  try {
    const mod = (await import(name)) as { chromium?: PwChromium; default?: { chromium?: PwChromium } };
    return mod.chromium ?? mod.default?.chromium ?? null;
  } catch {
    return null;
  }
}

/** Flags every launch gets: local trusted files only, so no sandbox (needed as root in containers). */
const BASE_ARGS = ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--hide-scrollbars', '--mute-audio', '--no-first-run'];

/** Opens a renderer: one browser for every page shot with it (cli: one process per page). */
export async function openRenderer(o: RendererOptions = {}): Promise<Renderer> {
  const executable = o.executable ?? requireChromium();
  const scale = o.scale ?? 2;
  const timeout = o.timeoutMs ?? 60_000;
  const want = o.engine ?? 'auto';
  const pw = want === 'cli' ? null : await loadPlaywright();
  if (want === 'playwright' && !pw) throw new Error('engine playwright: playwright-core is not installed (npm install playwright-core), or use engine cli');
  if (pw) {
    const browser = await pw.launch({ executablePath: executable, headless: true, args: BASE_ARGS, timeout });
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 }, deviceScaleFactor: scale });
    return {
      engine: 'playwright',
      executable,
      version: browser.version(),
      async shoot(file, png, s = {}) {
        await page.setViewportSize({ width: s.width ?? 1000, height: s.height ?? 800 });
        await page.goto(pathToFileURL(path.resolve(file)).href, { timeout, waitUntil: 'load' });
        if (s.waitFor) await page.waitForSelector(s.failText ? `${s.waitFor}, ${s.failText}:not(:empty)` : s.waitFor, { timeout, state: 'attached' });
        if (s.failText) {
          const text = await page.evaluate((sel: string) => document.querySelector(sel)?.textContent ?? '', s.failText);
          if (text.trim()) throw new Error(`${path.basename(file)}: ${text.trim()}`);
        }
        await page.evaluate(() => document.fonts.ready.then(() => true));
        const tmp = `${png}.tmp-${process.pid}.png`;
        if (s.element) await page.locator(s.element).first().screenshot({ path: tmp, timeout, animations: 'disabled' });
        else await page.screenshot({ path: tmp, timeout });
        fs.renameSync(tmp, png);
      },
      close: () => browser.close(),
    };
  }
  const v = spawnSync(executable, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  const version = /(\d+\.\d+\.\d+\.\d+)/.exec(v.stdout ?? '')?.[1] ?? 'unknown';
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-chromium-'));
  return {
    engine: 'cli',
    executable,
    version,
    async shoot(file, png, s = {}) {
      const tmp = `${png}.tmp-${process.pid}.png`;
      const args = [
        '--headless',
        ...BASE_ARGS,
        `--user-data-dir=${profile}`,
        `--force-device-scale-factor=${scale}`,
        `--window-size=${s.width ?? 1000},${s.height ?? 800}`,
        // Virtual time runs only while the page is idle, so loading and drawing finish first.
        '--virtual-time-budget=20000',
        `--screenshot=${tmp}`,
        pathToFileURL(path.resolve(file)).href,
      ];
      const r = await runProcess(executable, args, timeout);
      if (!fs.existsSync(tmp)) throw new Error(`chromium --screenshot wrote nothing (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      fs.renameSync(tmp, png);
    },
    async close() {
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

function runProcess(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => (clearTimeout(timer), reject(e)));
    child.on('close', (code) => (clearTimeout(timer), resolve({ code, stderr })));
  });
}

/** Layout size of a figure's Plotly JSON (CSS pixels). */
function layoutSize(plotly: { layout?: { width?: number; height?: number } }): { width: number; height: number } {
  return { width: Math.ceil(plotly.layout?.width ?? 760), height: Math.ceil(plotly.layout?.height ?? 420) };
}

/** Where a figure's PNG comes from: the Plotly chart of its HTML page, or its static SVG. */
export type PngSource = 'html' | 'svg';

/**
 * Renders one figure (`<dir>/<name>.*`) to `<dir>/<name>.png` and checks the result is not blank.
 * `html`: playwright opens `<name>.html` (written from `<name>.data.json`'s spec when missing) and waits
 * for Plotly; cli draws `<name>.plotly.json` on a bare page. `svg`: shoots `<name>.svg` at its size.
 * @returns the PNG's {@link PngStats}
 * @throws when a page fails to load or draw, or the PNG looks blank
 */
export async function renderFigurePng(r: Renderer, dir: string, name: string, source: PngSource = 'html', t?: BlankThresholds): Promise<PngStats> {
  const base = path.join(dir, name);
  const png = `${base}.png`;
  const temps: string[] = [];
  try {
    if (source === 'svg') {
      const svg = fs.readFileSync(`${base}.svg`, 'utf8');
      const m = /<svg[^>]*\bwidth="([\d.]+)"[^>]*\bheight="([\d.]+)"/.exec(svg);
      const [width, height] = m ? [Math.ceil(+m[1]), Math.ceil(+m[2])] : [760, 420];
      await r.shoot(`${base}.svg`, png, { element: 'svg', width, height });
    } else {
      if (!fs.existsSync(plotlyJsPath())) throw new Error(`plotly.js not found at ${plotlyJsPath()}; run npm install`);
      const plotly = JSON.parse(fs.readFileSync(`${base}.plotly.json`, 'utf8')) as { data: unknown[]; layout: Record<string, unknown> };
      const size = layoutSize(plotly as { layout?: { width?: number; height?: number } });
      if (r.engine === 'playwright') {
        let html = `${base}.html`;
        if (!fs.existsSync(html)) {
          const spec = (JSON.parse(fs.readFileSync(`${base}.data.json`, 'utf8')) as { spec: FigureSpec }).spec;
          html = `${base}.render-${process.pid}.html`;
          temps.push(html);
          fs.writeFileSync(html, figureHtml(spec, { plotly: 'relative', fromDir: dir }));
        }
        await r.shoot(html, png, { waitFor: '#plot .main-svg', failText: '#status', element: '#plot .svg-container', width: size.width + 200, height: size.height + 300 });
      } else {
        const page = path.join(os.tmpdir(), `ftda-render-${process.pid}-${name}.html`);
        temps.push(page);
        fs.writeFileSync(page, bareChartPage(plotly, size));
        await r.shoot(page, png, size);
      }
    }
  } finally {
    for (const f of temps) fs.rmSync(f, { force: true });
  }
  const stats = pngStats(decodePng(fs.readFileSync(png)));
  const problems = blankProblems(stats, t);
  if (problems.length) throw new Error(`${path.basename(png)} looks blank: ${problems.join('; ')}`);
  return stats;
}

/** A page with nothing but the chart at its layout size (cli engine: the screenshot is the window). */
function bareChartPage(plotly: { data: unknown[]; layout: Record<string, unknown> }, size: { width: number; height: number }): string {
  return `<!doctype html><html><head><meta charset="utf-8"><style>html,body{margin:0;padding:0;background:#fff;overflow:hidden}</style></head>
<body><div id="plot" style="width:${size.width}px;height:${size.height}px"></div>
<script src="${pathToFileURL(plotlyJsPath()).href}"></script>
<script>Plotly.newPlot('plot', ${scriptJson(plotly.data)}, ${scriptJson(plotly.layout)}, { staticPlot: true, displayModeBar: false });</script>
</body></html>
`;
}

/** One figure's outcome in {@link renderFigures}. */
export interface RenderOutcome {
  name: string;
  /** `rendered` (new PNG), `cached` (inputs unchanged), `missing` (no figure files), `failed`. */
  status: 'rendered' | 'cached' | 'missing' | 'failed';
  ms: number;
  stats?: PngStats;
  error?: string;
}

/** Options of {@link renderFigures}. */
export interface RenderFiguresOptions extends RendererOptions {
  /** Figures folder (the PNGs and `.png-cache.json` go here too). */
  dir: string;
  source?: PngSource;
  /** Rerender even when the cache says the PNG is current. */
  force?: boolean;
  /** Called after each figure (progress output). */
  onFigure?: (o: RenderOutcome, index: number, total: number) => void;
}

/** The cache file: per figure, the key of the inputs its PNG was rendered from and the PNG's hash. */
export const RENDER_CACHE = '.png-cache.json';

interface CacheEntry {
  key: string;
  png: string;
}

const sha256 = (b: Uint8Array | string) => crypto.createHash('sha256').update(b).digest('hex');

/**
 * The cache key of a figure's PNG: a hash of the file it is drawn from (`.plotly.json` or `.svg`), the
 * source, scale, plotly.js's size and the code version of this renderer. Anything else that changes
 * the pixels (the browser version) is not in the key: `--force` rerenders.
 */
export function renderKey(dir: string, name: string, source: PngSource, scale: number): string | null {
  const input = path.join(dir, `${name}.${source === 'svg' ? 'svg' : 'plotly.json'}`);
  if (!fs.existsSync(input)) return null;
  const lib = source === 'html' && fs.existsSync(plotlyJsPath()) ? String(fs.statSync(plotlyJsPath()).size) : '-';
  return sha256(`render-v1|${source}|${scale}|${lib}|${sha256(fs.readFileSync(input))}`);
}

function readCache(file: string): Record<string, CacheEntry> {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, CacheEntry>;
  } catch {
    return {};
  }
}

/**
 * Renders `names` (figure stems in `o.dir`) to PNG with one browser, skipping each figure whose PNG
 * is still current (same {@link renderKey} and the PNG untouched since). The browser is only started
 * when some figure needs it.
 * @throws ChromiumNotFoundError when a figure needs rendering and no Chromium is found
 */
export async function renderFigures(names: string[], o: RenderFiguresOptions): Promise<{ outcomes: RenderOutcome[]; renderer?: Pick<Renderer, 'engine' | 'version' | 'executable'> }> {
  const source = o.source ?? 'html';
  const scale = o.scale ?? 2;
  const cacheFile = path.join(o.dir, RENDER_CACHE);
  const cache = readCache(cacheFile);
  const outcomes: RenderOutcome[] = [];
  let r: Renderer | undefined;
  try {
    for (const [i, name] of names.entries()) {
      const t0 = performance.now();
      const key = renderKey(o.dir, name, source, scale);
      const png = path.join(o.dir, `${name}.png`);
      let out: RenderOutcome;
      if (!key) out = { name, status: 'missing', ms: 0 };
      else if (!o.force && cache[name]?.key === key && fs.existsSync(png) && cache[name].png === sha256(fs.readFileSync(png))) out = { name, status: 'cached', ms: 0 };
      else {
        r ??= await openRenderer({ ...o, scale });
        try {
          const stats = await renderFigurePng(r, o.dir, name, source);
          cache[name] = { key, png: sha256(fs.readFileSync(png)) };
          out = { name, status: 'rendered', ms: performance.now() - t0, stats };
        } catch (e) {
          delete cache[name];
          out = { name, status: 'failed', ms: performance.now() - t0, error: (e as Error).message.split('\n')[0] };
        }
        // Written after every figure, so an interrupted batch keeps what it finished; entries whose PNG is
        // gone (renamed or deleted figures) are dropped.
        for (const k of Object.keys(cache)) if (!fs.existsSync(path.join(o.dir, `${k}.png`))) delete cache[k];
        fs.writeFileSync(cacheFile, JSON.stringify(cache, null, 1) + '\n');
      }
      outcomes.push(out);
      o.onFigure?.(out, i, names.length);
    }
  } finally {
    await r?.close();
  }
  return { outcomes, renderer: r && { engine: r.engine, version: r.version, executable: r.executable } };
}

/** True when `FTDA_CHROMIUM` or PATH offers a Chromium (for skipping tests and phases). */
export function hasChromium(): boolean {
  return findChromium() !== null;
}
