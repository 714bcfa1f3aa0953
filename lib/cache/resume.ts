/**
 * Resume files of long loops (an estimator's backward sweep): a JSON header plus float64 arrays, written
 * atomically with an integrity record. A file of another request is refused (its `key` differs); a damaged one
 * is moved aside with a warning and the loop starts over, so a resume is either bit-identical or not used.
 *
 * Layout: `[uint32 LE n][n bytes of JSON header][zero padding to 8][float64 LE arrays, back to back]`; the header
 * lists each array's length.
 *
 * @example
 * ```ts
 * saveResume(file, { key, t }, [U, scores]);
 * const r = loadResume(file, key); // { header, arrays } | undefined
 * ```
 * @module
 */
import * as fs from 'node:fs';
import { quarantine, readVerified, RECORD_SUFFIX, writeVerified } from './integrity.ts';
import { CacheMismatchError, CorruptFileError } from '../runtime/errors.ts';
import { warn } from '../runtime/log.ts';

/** Where a loop checkpoints, and which request it belongs to. */
export interface ResumeSpec {
  /** The resume file (removed when the loop finishes). */
  file: string;
  /** Hash of everything that determines the loop's numbers. */
  key: string;
  /** Seconds between saves (default 300; 0 saves after every unit, for tests). */
  everySeconds?: number;
}

/** A loaded resume file. */
export interface Resumed<H> {
  header: H & { key: string };
  arrays: Float64Array[];
}

const FORMAT = 'faithful-tda/resume';

/** Writes a resume file: `header` (JSON, must not use the names `format`, `lengths`) and `arrays`. */
export function saveResume(file: string, header: Record<string, unknown> & { key: string }, arrays: Float64Array[]): void {
  const head = Buffer.from(JSON.stringify({ ...header, format: FORMAT, lengths: arrays.map((a) => a.length) }), 'utf8');
  const start = Math.ceil((4 + head.length) / 8) * 8;
  const total = arrays.reduce((s, a) => s + a.length, 0);
  const buf = Buffer.alloc(start + total * 8);
  buf.writeUInt32LE(head.length, 0);
  head.copy(buf, 4);
  let off = start;
  for (const a of arrays) {
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(buf, off);
    off += a.byteLength;
  }
  writeVerified(file, buf);
}

/**
 * Reads a resume file of request `key`.
 * @returns undefined when absent, or damaged (moved aside with a warning)
 * @throws CacheMismatchError when it belongs to another request
 */
export function loadResume<H>(file: string, key: string): Resumed<H> | undefined {
  let buf: Buffer | undefined;
  try {
    buf = readVerified(file);
    if (!buf) return undefined;
    if (buf.length < 4) throw new CorruptFileError(file, 'is truncated');
    const n = buf.readUInt32LE(0);
    if (4 + n > buf.length) throw new CorruptFileError(file, 'has a truncated header');
    const header = JSON.parse(buf.subarray(4, 4 + n).toString('utf8')) as H & { key: string; format: string; lengths: number[] };
    if (header.format !== FORMAT) throw new CorruptFileError(file, `is not a ${FORMAT} file`);
    if (header.key !== key) throw new CacheMismatchError(`resume file ${file} belongs to another request (key ${String(header.key).slice(0, 12)}…, this one ${key.slice(0, 12)}…); delete it`, file);
    const start = Math.ceil((4 + n) / 8) * 8;
    const total = header.lengths.reduce((s, x) => s + x, 0);
    if (buf.length !== start + total * 8) throw new CorruptFileError(file, `holds ${buf.length - start} payload bytes, its header says ${total * 8}`);
    const all = new Float64Array(total);
    new Uint8Array(all.buffer).set(buf.subarray(start));
    let off = 0;
    const arrays = header.lengths.map((len) => all.slice(off, (off += len)));
    return { header, arrays };
  } catch (e) {
    if (!(e instanceof CorruptFileError) && !(e instanceof SyntaxError)) throw e;
    const moved = quarantine(file);
    warn(`resume file ${e instanceof CorruptFileError ? e.message : `${file}: header is not JSON`}; moved it to ${moved}; starting over`);
    return undefined;
  }
}

/** Removes a finished loop's resume file and its record. */
export function removeResume(file: string): void {
  fs.rmSync(file, { force: true });
  fs.rmSync(file + RECORD_SUFFIX, { force: true });
}
