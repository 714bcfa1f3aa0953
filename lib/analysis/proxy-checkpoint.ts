/**
 * Resume files of the error proxy's step loop (error-proxy.ts). On a CNN cell the loop runs for 40 min;
 * a kill must not lose it. One file holds everything the loop carries from step to step:
 *
 *   [uint32 LE: n = byte length of the header][header: JSON, n bytes][zero padding to 8 bytes]
 *   [float64 LE payload: per sample, d1.{th, m, v}, dA.{th, m, v}, dB.{th, m, v}, p values each]
 *
 * The header names the next step, the per-step diagnostics so far, which samples have started, and how
 * many kink signs each sample has drawn (the signs are replayed from their seeded streams on resume, so a
 * resumed run is bit-identical to an uninterrupted one). It is written atomically (temporary name, then
 * rename) with an integrity record (lib/cache/integrity.ts) and keyed by the request: a file of another request
 * is an error, not a silent restart; a damaged file is moved aside with a warning and the loop starts over.
 *
 * @module
 */
import * as fs from 'node:fs';
import { quarantine, readVerified, RECORD_SUFFIX, writeVerified } from '../cache/integrity.ts';
import { CorruptFileError } from '../runtime/errors.ts';
import { warn } from '../runtime/log.ts';

/** A perturbation of the optimizer state (θ, m, v), float64, `[p]` each. */
export interface Vec3 {
  th: Float64Array;
  m: Float64Array;
  v: Float64Array;
}

/** The loop state saved after a completed step. */
export interface ProxyCheckpoint<Step> {
  /** Hash of everything that determines the loop (trajectory, ids, options). */
  key: string;
  /** The next step to run. */
  t: number;
  /** Parameters per vector. */
  p: number;
  /** Per-step diagnostics of the steps done (NaN survives the round trip). */
  steps: Step[];
  /** Per sample, `[nSamples]`. */
  started: boolean[];
  /** Kink signs drawn so far, per sample. */
  draws: number[];
  /** Per sample: first-order, recursion A and recursion B perturbations. */
  vectors: { d1: Vec3; dA: Vec3; dB: Vec3 }[];
}

const FORMAT = 'faithful-tda/error-proxy-checkpoint';
const PARTS = ['d1', 'dA', 'dB'] as const;
const SLOTS = ['th', 'm', 'v'] as const;

/** Writes `c` to `file` atomically. */
export function saveProxyCheckpoint<Step>(file: string, c: ProxyCheckpoint<Step>): void {
  const n = c.vectors.length;
  // NaN is not JSON: diagnostics are stored with NaN spelled as a string.
  const steps = JSON.parse(JSON.stringify(c.steps, (_, v) => (typeof v === 'number' && Number.isNaN(v) ? 'NaN' : v)));
  const header = Buffer.from(JSON.stringify({ format: FORMAT, version: 1, key: c.key, t: c.t, p: c.p, n, steps, started: c.started, draws: c.draws }), 'utf8');
  const start = Math.ceil((4 + header.length) / 8) * 8;
  const buf = Buffer.alloc(start + n * 9 * c.p * 8);
  buf.writeUInt32LE(header.length, 0);
  header.copy(buf, 4);
  const out = new Float64Array(buf.buffer, buf.byteOffset + start, n * 9 * c.p);
  let off = 0;
  for (const s of c.vectors) {
    for (const part of PARTS) {
      for (const slot of SLOTS) {
        const a = s[part][slot];
        if (a.length !== c.p) throw new Error(`saveProxyCheckpoint: ${part}.${slot} has ${a.length} values, expected ${c.p}`);
        out.set(a, off);
        off += c.p;
      }
    }
  }
  writeVerified(file, buf);
}

/** Removes a finished loop's checkpoint and its record. */
export function removeProxyCheckpoint(file: string): void {
  fs.rmSync(file, { force: true });
  fs.rmSync(file + RECORD_SUFFIX, { force: true });
}

/**
 * Reads a checkpoint written by {@link saveProxyCheckpoint}.
 * @returns undefined when `file` does not exist, or fails its integrity check (then it is moved aside with a
 *   warning, and the loop starts over)
 * @throws naming the file when it belongs to another request (`key`) or is not a checkpoint
 */
export function loadProxyCheckpoint<Step>(file: string, key: string): ProxyCheckpoint<Step> | undefined {
  let buf: Buffer | undefined;
  try {
    buf = readVerified(file);
  } catch (e) {
    if (!(e instanceof CorruptFileError)) throw e;
    const moved = quarantine(file);
    warn(`error-proxy checkpoint ${e.message}; moved it to ${moved}; the proxy loop starts over`);
    return undefined;
  }
  if (!buf) return undefined;
  const bad = (why: string) => new Error(`error-proxy checkpoint ${file}: ${why}; delete it to start the proxy over`);
  if (buf.length < 4) throw bad('truncated');
  const len = buf.readUInt32LE(0);
  if (4 + len > buf.length) throw bad('truncated header');
  let h: { format: string; version: number; key: string; t: number; p: number; n: number; steps: unknown[]; started: boolean[]; draws: number[] };
  try {
    h = JSON.parse(buf.subarray(4, 4 + len).toString('utf8'));
  } catch {
    throw bad('header is not JSON');
  }
  if (h.format !== FORMAT || h.version !== 1) throw bad(`format '${h.format}' v${h.version} is not ${FORMAT} v1`);
  if (h.key !== key) throw bad(`it belongs to another request (key ${String(h.key).slice(0, 12)}…, this one ${key.slice(0, 12)}…)`);
  const start = Math.ceil((4 + len) / 8) * 8;
  const count = h.n * 9 * h.p;
  if (buf.length !== start + count * 8) throw bad(`payload has ${buf.length - start} bytes, expected ${count * 8}`);
  // Copy out of the file buffer (its offset need not be 8-aligned).
  const all = new Float64Array(count);
  new Uint8Array(all.buffer).set(buf.subarray(start));
  let off = 0;
  const take = () => all.slice(off, (off += h.p));
  const vectors = Array.from({ length: h.n }, () => {
    const s = {} as { d1: Vec3; dA: Vec3; dB: Vec3 };
    for (const part of PARTS) s[part] = { th: take(), m: take(), v: take() };
    return s;
  });
  const steps = JSON.parse(JSON.stringify(h.steps), (_, v) => (v === 'NaN' ? NaN : v)) as Step[];
  return { key: h.key, t: h.t, p: h.p, steps, started: h.started, draws: h.draws, vectors };
}
