/**
 * A small PNG codec (node:zlib only) and a "is this image blank?" check for rendered figures.
 *
 * The decoder reads what browsers write: 8- or 16-bit greyscale, grey+alpha, RGB, RGBA and palette
 * images, non-interlaced, with all five row filters. The encoder exists so tests can build exact
 * images (any row filter) without a browser.
 *
 * @module
 */
import zlib from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A decoded image: `width × height` pixels, 4 bytes each (RGBA, 8 bits per channel, row-major). */
export interface RgbaImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}

let crcTable: Uint32Array | undefined;
function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Channels per pixel of a PNG colour type. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * Decodes a PNG file's bytes to 8-bit RGBA.
 * @throws Error naming the problem: not a PNG, bad CRC, interlaced, unsupported depth, truncated data
 */
export function decodePng(bytes: Uint8Array): RgbaImage {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 8 || !buf.subarray(0, 8).equals(SIGNATURE)) throw new Error('decodePng: not a PNG file (bad signature)');
  let width = 0;
  let height = 0;
  let depth = 0;
  let type = -1;
  let palette: Uint8Array | undefined;
  let trns: Uint8Array | undefined;
  const idat: Buffer[] = [];
  for (let o = 8; o < buf.length; ) {
    if (o + 12 > buf.length) throw new Error('decodePng: truncated chunk');
    const len = buf.readUInt32BE(o);
    const name = buf.toString('latin1', o + 4, o + 8);
    if (o + 12 + len > buf.length) throw new Error(`decodePng: truncated ${name} chunk`);
    const data = buf.subarray(o + 8, o + 8 + len);
    if (crc32(buf.subarray(o + 4, o + 8 + len)) !== buf.readUInt32BE(o + 8 + len)) throw new Error(`decodePng: bad CRC in ${name} chunk`);
    if (name === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      depth = data[8];
      type = data[9];
      if (data[12] !== 0) throw new Error('decodePng: interlaced PNGs are not supported');
    } else if (name === 'PLTE') palette = data;
    else if (name === 'tRNS') trns = data;
    else if (name === 'IDAT') idat.push(data);
    else if (name === 'IEND') break;
    o += 12 + len;
  }
  const channels = CHANNELS[type];
  if (!width || !height || channels === undefined) throw new Error(`decodePng: missing or bad IHDR (colour type ${type})`);
  if (type === 3 ? depth !== 8 : depth !== 8 && depth !== 16) throw new Error(`decodePng: bit depth ${depth} of colour type ${type} is not supported`);
  if (type === 3 && !palette) throw new Error('decodePng: palette image without PLTE');
  const bpp = (channels * depth) / 8; // bytes per pixel (≥ 1 for the depths accepted)
  const stride = width * bpp;
  const raw = zlib.inflateSync(Buffer.concat(idat));
  if (raw.length < height * (stride + 1)) throw new Error(`decodePng: image data too short (${raw.length} < ${height * (stride + 1)} bytes)`);
  const cur = new Uint8Array(stride);
  let prev = new Uint8Array(stride);
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    if (f > 4) throw new Error(`decodePng: bad filter type ${f} in row ${y}`);
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp] : 0;
      const b = prev[i];
      const c = i >= bpp ? prev[i - bpp] : 0;
      const x = line[i];
      cur[i] = f === 0 ? x : f === 1 ? x + a : f === 2 ? x + b : f === 3 ? x + ((a + b) >> 1) : x + paeth(a, b, c);
    }
    for (let px = 0; px < width; px++) {
      // 16-bit samples keep their high byte.
      const s = (k: number) => cur[px * bpp + k * (depth / 8)];
      const out = (y * width + px) * 4;
      if (type === 3) {
        const idx = cur[px];
        rgba[out] = palette![idx * 3];
        rgba[out + 1] = palette![idx * 3 + 1];
        rgba[out + 2] = palette![idx * 3 + 2];
        rgba[out + 3] = trns && idx < trns.length ? trns[idx] : 255;
      } else if (type === 0 || type === 4) {
        rgba[out] = rgba[out + 1] = rgba[out + 2] = s(0);
        rgba[out + 3] = type === 4 ? s(1) : 255;
      } else {
        rgba[out] = s(0);
        rgba[out + 1] = s(1);
        rgba[out + 2] = s(2);
        rgba[out + 3] = type === 6 ? s(3) : 255;
      }
    }
    prev = Uint8Array.from(cur);
  }
  return { width, height, rgba };
}

/**
 * Encodes 8-bit RGBA as a PNG. `filter` picks the row filter (0–4) for every row, or per row from a
 * function, so tests can exercise each of the decoder's unfilter paths.
 */
export function encodePng(img: RgbaImage, filter: number | ((row: number) => number) = 0): Buffer {
  const { width, height, rgba } = img;
  if (rgba.length !== width * height * 4) throw new Error(`encodePng: expected ${width * height * 4} bytes, got ${rgba.length}`);
  const stride = width * 4;
  const raw = Buffer.alloc(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const f = typeof filter === 'function' ? filter(y) : filter;
    raw[y * (stride + 1)] = f;
    for (let i = 0; i < stride; i++) {
      const x = rgba[y * stride + i];
      const a = i >= 4 ? rgba[y * stride + i - 4] : 0;
      const b = y > 0 ? rgba[(y - 1) * stride + i] : 0;
      const c = y > 0 && i >= 4 ? rgba[(y - 1) * stride + i - 4] : 0;
      const pred = f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : paeth(a, b, c);
      raw[y * (stride + 1) + 1 + i] = (x - pred) & 0xff;
    }
  }
  const chunk = (name: string, data: Buffer) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(name, 4, 'latin1');
    data.copy(out, 8);
    out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** What {@link pngStats} measures. */
export interface PngStats {
  width: number;
  height: number;
  /** Distinct RGB colours after compositing over white (capped at `colourCap`, default 4096). */
  colours: number;
  /** Share of pixels that are not (near-)white after compositing over white: any channel below 245. */
  nonWhiteFraction: number;
}

/** Measures an image for {@link blankProblems}; transparent pixels count as the white page behind them. */
export function pngStats(img: RgbaImage, colourCap = 4096): PngStats {
  const seen = new Set<number>();
  let nonWhite = 0;
  const n = img.width * img.height;
  for (let p = 0; p < n; p++) {
    const al = img.rgba[p * 4 + 3] / 255;
    const r = Math.round(img.rgba[p * 4] * al + 255 * (1 - al));
    const g = Math.round(img.rgba[p * 4 + 1] * al + 255 * (1 - al));
    const b = Math.round(img.rgba[p * 4 + 2] * al + 255 * (1 - al));
    if (r < 245 || g < 245 || b < 245) nonWhite++;
    if (seen.size < colourCap) seen.add((r << 16) | (g << 8) | b);
  }
  return { width: img.width, height: img.height, colours: seen.size, nonWhiteFraction: n ? nonWhite / n : 0 };
}

/** Thresholds of {@link blankProblems}. */
export interface BlankThresholds {
  /** Minimum share of non-white pixels (default 0.01: a chart has axes, bars, text). */
  minNonWhite?: number;
  /** Minimum number of distinct colours (default 20: anti-aliased text alone gives more). */
  minColours?: number;
  /** Minimum width and height in pixels (default 50). */
  minSize?: number;
}

/**
 * Why an image looks blank (or too small to be a figure): an empty list when it passes. A rendered
 * chart passes easily; a white page, a single flat colour or a 1-pixel image does not.
 */
export function blankProblems(s: PngStats, t: BlankThresholds = {}): string[] {
  const { minNonWhite = 0.01, minColours = 20, minSize = 50 } = t;
  const out: string[] = [];
  if (s.width < minSize || s.height < minSize) out.push(`only ${s.width}×${s.height} px (< ${minSize})`);
  if (!(s.nonWhiteFraction > minNonWhite)) out.push(`${(100 * s.nonWhiteFraction).toFixed(2)}% non-white pixels (need > ${100 * minNonWhite}%)`);
  if (!(s.colours > minColours)) out.push(`${s.colours} distinct colours (need > ${minColours})`);
  return out;
}
