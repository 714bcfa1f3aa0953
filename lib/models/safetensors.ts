/**
 * safetensors reader and writer (https://github.com/huggingface/safetensors, format v0.x).
 *
 * Layout: `u64 LE N` · `N bytes of UTF-8 JSON header` · `byte buffer`. The header maps tensor names to
 * `{dtype, shape, data_offsets: [begin, end)}` (offsets relative to the byte buffer) plus an optional
 * `__metadata__` string→string map. Data is little-endian, row-major. The buffer must be covered
 * exactly (no holes, no overlaps), which is also how truncation is detected.
 *
 * Read: F32, F16, BF16 → Float32Array; I32 → Int32Array (others are listed but raise when decoded).
 * A path is read by byte ranges, one tensor at a time, so files over 2 GiB work.
 * Write: F32, F16 (round-to-nearest-even), I32; header padded with spaces to a multiple of 8 bytes;
 * written atomically (temp file + rename).
 *
 * Also home of the IEEE half / bfloat16 conversions used by gguf.ts.
 *
 * @module
 */
import * as fs from 'node:fs';
import { tf } from '../runtime/tf.ts';
import type { ParamSpec, Params } from './types.ts';

/** dtypes that can appear in a safetensors header, with their element size in bytes. */
export const SAFETENSORS_DTYPE_BYTES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E4M3: 1, F8_E5M2: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, I64: 8, U64: 8, F64: 8,
};

/** Largest header the format allows (bytes), as in the reference implementation. */
export const SAFETENSORS_MAX_HEADER = 100_000_000;

/** Header entry of one tensor. */
export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  /** Absolute byte range inside the file buffer. */
  begin: number;
  end: number;
}

/** A parsed safetensors file (data decoded on demand by {@link tensorData}). */
export interface SafetensorsFile {
  /** Where it came from (path or a label), for error messages. */
  source: string;
  /** Tensor names in header order. */
  names: string[];
  entries: Map<string, SafetensorsEntry>;
  /** `__metadata__` (empty object when absent). */
  metadata: Record<string, string>;
  /** File size in bytes. */
  size: number;
  /** Copy of the absolute byte range [begin, end) (from disk for path sources: nothing else is kept). */
  read(begin: number, end: number): Uint8Array;
}

/** A host tensor to write. `data.length` must equal the product of `shape`. */
export interface HostTensor {
  shape: number[];
  data: Float32Array | Int32Array;
  /** Storage dtype: default F32 for Float32Array, I32 for Int32Array; F16 converts. */
  dtype?: 'F32' | 'F16' | 'I32';
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function prod(s: number[]): number {
  return s.reduce((a, b) => a * b, 1);
}

interface ByteSource {
  size: number;
  label: string;
  read(begin: number, end: number): Uint8Array;
}

/**
 * Random access to a path or a byte array. A path is read by ranges (fs.readSync), so files larger than
 * fs.readFileSync's 2 GiB limit (e.g. Llama 3.2-1B, 2.5 GB) load tensor by tensor.
 */
function byteSource(source: string | Uint8Array): ByteSource {
  if (typeof source !== 'string') {
    return { size: source.length, label: '<bytes>', read: (b, e) => source.slice(b, e) };
  }
  let size: number;
  try {
    size = fs.statSync(source).size;
  } catch (e) {
    throw new Error(`safetensors: cannot read '${source}': ${(e as Error).message}`);
  }
  return {
    size,
    label: source,
    read(b, e) {
      const out = new Uint8Array(e - b);
      const fd = fs.openSync(source, 'r');
      try {
        let done = 0;
        while (done < out.length) {
          const n = fs.readSync(fd, out, done, out.length - done, b + done);
          if (n <= 0) throw new Error(`safetensors '${source}': unexpected end of file at byte ${b + done}`);
          done += n;
        }
      } finally {
        fs.closeSync(fd);
      }
      return out;
    },
  };
}

/**
 * Parses a safetensors file and validates its header (dtypes, shapes, offsets, full coverage).
 * @param source file path or the file's bytes
 * @param label name used in error messages when `source` is bytes
 */
export function readSafetensors(source: string | Uint8Array, label?: string): SafetensorsFile {
  const src = byteSource(source);
  const where = label ?? src.label;
  if (src.size < 8) throw new Error(`safetensors '${where}': file is ${src.size} bytes, too short for the 8-byte header length`);
  const lenBytes = src.read(0, 8);
  const n64 = new DataView(lenBytes.buffer).getBigUint64(0, true);
  // The format's own limit (safetensors MAX_HEADER_SIZE): checked before any header byte is read.
  if (n64 > BigInt(SAFETENSORS_MAX_HEADER)) {
    throw new Error(`safetensors '${where}': header length ${n64} exceeds the format's limit of ${SAFETENSORS_MAX_HEADER} bytes (corrupt or not a safetensors file)`);
  }
  if (n64 > BigInt(src.size - 8)) {
    throw new Error(`safetensors '${where}': header length ${n64} exceeds the ${src.size - 8} bytes after it (truncated or not a safetensors file)`);
  }
  const n = Number(n64);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(src.read(8, 8 + n)));
  } catch (e) {
    throw new Error(`safetensors '${where}': header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) {
    throw new Error(`safetensors '${where}': header must be a JSON object`);
  }
  const start = 8 + n;
  const dataLen = src.size - start;
  const entries = new Map<string, SafetensorsEntry>();
  const names: string[] = [];
  let metadata: Record<string, string> = {};
  const ranges: [number, number, string][] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!v || typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
        throw new Error(`safetensors '${where}': __metadata__ must be a string→string object`);
      }
      metadata = v as Record<string, string>;
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const bad = (what: string) => new Error(`safetensors '${where}': tensor '${name}': ${what}`);
    if (!e || typeof e !== 'object') throw bad('entry must be an object');
    if (typeof e.dtype !== 'string' || !Object.hasOwn(SAFETENSORS_DTYPE_BYTES, e.dtype)) {
      throw bad(`unknown dtype ${JSON.stringify(e.dtype)} (known: ${Object.keys(SAFETENSORS_DTYPE_BYTES).join(', ')})`);
    }
    if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw bad(`shape must be an array of non-negative integers, got ${JSON.stringify(e.shape)}`);
    }
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || off.some((d) => !Number.isInteger(d) || d < 0) || off[1] < off[0]) {
      throw bad(`data_offsets must be [begin, end] with 0 ≤ begin ≤ end, got ${JSON.stringify(off)}`);
    }
    const shape = e.shape as number[];
    const want = prod(shape) * SAFETENSORS_DTYPE_BYTES[e.dtype];
    if (off[1] - off[0] !== want) {
      throw bad(`data_offsets [${off}] span ${off[1] - off[0]} bytes, but ${e.dtype} [${shape}] needs ${want}`);
    }
    if (off[1] > dataLen) {
      throw bad(`data_offsets [${off}] exceed the data section of ${dataLen} bytes (file truncated?)`);
    }
    entries.set(name, { dtype: e.dtype, shape, begin: start + off[0], end: start + off[1] });
    names.push(name);
    ranges.push([off[0], off[1], name]);
  }
  // The buffer must be covered exactly: catches overlapping entries and trailing garbage.
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let pos = 0;
  for (const [b, e, name] of ranges) {
    if (b !== pos) {
      throw new Error(`safetensors '${where}': tensor '${name}' starts at byte ${b} of the data section, expected ${pos} (hole or overlap)`);
    }
    pos = e;
  }
  if (pos !== dataLen) {
    throw new Error(`safetensors '${where}': data section has ${dataLen} bytes but the tensors cover ${pos}`);
  }
  return { source: where, names, entries, metadata, size: src.size, read: src.read };
}

/**
 * Decodes one tensor to a host array: F32/F16/BF16 → Float32Array, I32 → Int32Array (a fresh copy,
 * so it is aligned and independent of the source).
 */
export function tensorData(file: SafetensorsFile, name: string): Float32Array | Int32Array {
  const e = file.entries.get(name);
  if (!e) throw new Error(`safetensors '${file.source}': missing tensor '${name}'`);
  if (!LITTLE_ENDIAN) throw new Error('safetensors: big-endian hosts are not supported');
  const raw = file.read(e.begin, e.end);
  switch (e.dtype) {
    case 'F32':
      return new Float32Array(raw.buffer, 0, raw.length / 4);
    case 'I32':
      return new Int32Array(raw.buffer, 0, raw.length / 4);
    case 'F16':
      return halfToFloat32(new Uint16Array(raw.buffer, 0, raw.length / 2));
    case 'BF16':
      return bf16ToFloat32(new Uint16Array(raw.buffer, 0, raw.length / 2));
    default:
      throw new Error(`safetensors '${file.source}': tensor '${name}' has dtype ${e.dtype}; only F32, F16, BF16 and I32 can be decoded`);
  }
}

/**
 * Serialises tensors to safetensors bytes. Tensors are stored in the given order, stably sorted by
 * element size (largest first) so that every tensor starts at a multiple of its element size.
 */
export function encodeSafetensors(
  tensors: Array<[string, HostTensor]> | Record<string, HostTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  if (!LITTLE_ENDIAN) throw new Error('safetensors: big-endian hosts are not supported');
  const list = Array.isArray(tensors) ? tensors : Object.entries(tensors);
  const blobs: { name: string; dtype: string; shape: number[]; bytes: Uint8Array }[] = [];
  for (const [name, t] of list) {
    if (name === '__metadata__') throw new Error(`safetensors: '__metadata__' is reserved and cannot name a tensor`);
    if (t.data.length !== prod(t.shape)) {
      throw new Error(`safetensors: tensor '${name}' has ${t.data.length} values but shape [${t.shape}] needs ${prod(t.shape)}`);
    }
    const dtype = t.dtype ?? (t.data instanceof Int32Array ? 'I32' : 'F32');
    let bytes: Uint8Array;
    if (dtype === 'I32') {
      if (!(t.data instanceof Int32Array)) throw new Error(`safetensors: tensor '${name}': dtype I32 needs an Int32Array`);
      bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    } else if (dtype === 'F32' || dtype === 'F16') {
      if (!(t.data instanceof Float32Array)) throw new Error(`safetensors: tensor '${name}': dtype ${dtype} needs a Float32Array`);
      const d = dtype === 'F16' ? float32ToHalf(t.data) : t.data;
      bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
    } else {
      throw new Error(`safetensors: tensor '${name}': cannot write dtype ${String(dtype)} (F32, F16, I32)`);
    }
    blobs.push({ name, dtype, shape: t.shape, bytes });
  }
  const order = blobs.map((b, i) => i).sort((a, b) => SAFETENSORS_DTYPE_BYTES[blobs[b].dtype] - SAFETENSORS_DTYPE_BYTES[blobs[a].dtype] || a - b);
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let off = 0;
  for (const i of order) {
    const b = blobs[i];
    header[b.name] = { dtype: b.dtype, shape: b.shape, data_offsets: [off, off + b.bytes.length] };
    off += b.bytes.length;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) {
    const padded = new Uint8Array(json.length + pad).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const out = new Uint8Array(8 + json.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const i of order) {
    out.set(blobs[i].bytes, pos);
    pos += blobs[i].bytes.length;
  }
  return out;
}

let tmpCounter = 0;

/** Writes bytes atomically: to `path.tmp-<pid>-<n>` first, then renamed over `path`. */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}-${tmpCounter++}`;
  try {
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, path);
  } catch (e) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // nothing to clean up
    }
    throw new Error(`safetensors: cannot write '${path}': ${(e as Error).message}`);
  }
}

/** Encodes and writes a safetensors file atomically (see {@link encodeSafetensors}). */
export function writeSafetensors(
  path: string,
  tensors: Array<[string, HostTensor]> | Record<string, HostTensor>,
  metadata?: Record<string, string>,
): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/**
 * Saves a parameter record under our own names, in `spec` order, as F32 (or F16).
 * Reads the tensors with `dataSync` (one sync per tensor).
 */
export function saveParams(
  path: string,
  spec: ParamSpec[],
  params: Params,
  metadata?: Record<string, string>,
  dtype: 'F32' | 'F16' = 'F32',
): void {
  const list: Array<[string, HostTensor]> = spec.map((s) => {
    const t = params[s.name];
    if (!t) throw new Error(`saveParams: missing parameter '${s.name}'`);
    return [s.name, { shape: t.shape, data: t.dataSync() as Float32Array, dtype }];
  });
  writeSafetensors(path, list, metadata);
}

/**
 * Loads a parameter record saved by {@link saveParams} (our own names), checking every name and shape
 * against `spec`; tensors not in the spec are an error.
 */
export function loadParams(source: string | Uint8Array | SafetensorsFile, spec: ParamSpec[]): Params {
  const f = isFile(source) ? source : readSafetensors(source);
  const specNames = new Set(spec.map((s) => s.name));
  const extra = f.names.filter((n) => !specNames.has(n));
  if (extra.length) throw new Error(`safetensors '${f.source}': unexpected tensors ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''}`);
  for (const s of spec) {
    const e = f.entries.get(s.name);
    if (!e) throw new Error(`safetensors '${f.source}': missing tensor '${s.name}'`);
    if (e.shape.length !== s.shape.length || e.shape.some((d, i) => d !== s.shape[i])) {
      throw new Error(`safetensors '${f.source}': tensor '${s.name}' has shape [${e.shape}], expected [${s.shape}]`);
    }
  }
  const out: Params = {};
  for (const s of spec) {
    const d = tensorData(f, s.name);
    out[s.name] = tf.tensor(d, s.shape, d instanceof Int32Array ? 'int32' : 'float32');
  }
  return out;
}

function isFile(x: unknown): x is SafetensorsFile {
  return typeof x === 'object' && x !== null && 'entries' in x && 'read' in x;
}

// ---------------------------------------------------------------------------------------------------
// IEEE 754 binary16 and bfloat16

/** binary16 bit patterns → float32 values (exact; subnormals, inf and NaN included). */
export function halfToFloat32(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < h.length; i++) {
    const x = h[i];
    const sign = (x & 0x8000) << 16;
    const exp = (x >> 10) & 0x1f;
    const man = x & 0x3ff;
    if (exp === 0) {
      // zero or subnormal: man · 2^-24
      out[i] = (sign ? -1 : 1) * man * 5.960464477539063e-8;
    } else if (exp === 31) {
      u[i] = sign | 0x7f800000 | (man << 13);
    } else {
      u[i] = sign | ((exp + 112) << 23) | (man << 13);
    }
  }
  return out;
}

/** float32 values → binary16 bit patterns, round to nearest even (overflow → ±inf). */
export function float32ToHalf(f: Float32Array): Uint16Array {
  const out = new Uint16Array(f.length);
  const u = new Uint32Array(f.buffer, f.byteOffset, f.length);
  for (let i = 0; i < f.length; i++) {
    const x = u[i];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let man = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (man ? 0x200 | (man >>> 13) : 0);
      continue;
    }
    let e = exp - 127 + 15;
    if (e >= 31) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      man |= 0x800000;
      const shift = 14 - e;
      let hm = man >>> shift;
      const rem = man & ((1 << shift) - 1);
      const halfway = 1 << (shift - 1);
      if (rem > halfway || (rem === halfway && hm & 1)) hm++;
      out[i] = sign | hm;
      continue;
    }
    let hm = man >>> 13;
    const rem = man & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && hm & 1)) {
      hm++;
      if (hm === 0x400) {
        hm = 0;
        e++;
        if (e >= 31) {
          out[i] = sign | 0x7c00;
          continue;
        }
      }
    }
    out[i] = sign | (e << 10) | hm;
  }
  return out;
}

/** bfloat16 bit patterns → float32 values (exact: bf16 is the top half of a float32). */
export function bf16ToFloat32(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < h.length; i++) u[i] = h[i] << 16;
  return out;
}
