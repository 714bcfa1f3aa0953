/**
 * Numeric scales (linear and log10) with "nice" domains, ticks and tick labels, plus the value
 * formats figures use for labels. Pure functions; no rendering.
 *
 * @module
 */

/** A map from data values to pixels, with its ticks. */
export interface Scale {
  readonly kind: 'linear' | 'log';
  readonly domain: readonly [number, number];
  readonly range: readonly [number, number];
  /** Pixel position of `v` (no clamping; callers drop non-finite values first). */
  map(v: number): number;
  /** Inverse of {@link Scale.map}. */
  invert(px: number): number;
  /** Tick values inside the domain, ascending. */
  ticks(): number[];
  /** Label of a tick value. */
  format(v: number): string;
}

/** Finite minimum and maximum of `values` (NaN / ±Inf / null ignored), or `undefined` if there are none. */
export function extent(values: Iterable<number | null | undefined>): [number, number] | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : undefined;
}

/** Tick step from {1, 2, 5}·10^k giving about `count` intervals over `span`. */
export function niceStep(span: number, count = 5): number {
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

/** Removes binary noise such as 0.30000000000000004. */
function clean(v: number): number {
  return Number(v.toPrecision(12));
}

/**
 * Expands [min, max] to multiples of a nice step; `includeZero` stretches it to 0 (bar charts). A degenerate
 * range is widened so that the scale stays invertible.
 */
export function niceDomain(min: number, max: number, o: { includeZero?: boolean; count?: number } = {}): [number, number] {
  if (o.includeZero) {
    min = Math.min(min, 0);
    max = Math.max(max, 0);
  }
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
    if (o.includeZero) [min, max] = [Math.min(min, 0), Math.max(max, 0)];
  }
  const step = niceStep(max - min, o.count ?? 5);
  return [clean(Math.floor(min / step + 1e-9) * step), clean(Math.ceil(max / step - 1e-9) * step)];
}

/** Decimal places needed to print multiples of `step` exactly. */
function decimalsFor(step: number): number {
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}

/** A linear scale; ticks are the nice multiples inside the domain. */
export function linearScale(domain: readonly [number, number], range: readonly [number, number], count = 5): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  if (!(Number.isFinite(d0) && Number.isFinite(d1)) || d0 === d1) throw new Error(`linearScale: bad domain [${d0}, ${d1}]`);
  const k = (r1 - r0) / (d1 - d0);
  const step = niceStep(Math.abs(d1 - d0), count);
  const digits = decimalsFor(step);
  return {
    kind: 'linear',
    domain: [d0, d1],
    range: [r0, r1],
    map: (v) => r0 + (v - d0) * k,
    invert: (px) => d0 + (px - r0) / k,
    ticks() {
      const lo = Math.min(d0, d1);
      const hi = Math.max(d0, d1);
      const out: number[] = [];
      for (let i = Math.ceil(lo / step - 1e-9); i * step <= hi + step * 1e-9; i++) out.push(clean(i * step));
      return out;
    },
    format: (v) => formatFixed(v, digits),
  };
}

/**
 * Log-axis domain of positive data: the data's own range when it spans at least a decade (ticks fall
 * inside), else the whole decade(s) around it so that the axis carries at least two labelled ticks.
 */
export function logDomain(min: number, max: number): [number, number] {
  if (!(min > 0 && max > 0)) throw new Error(`logDomain: a log axis needs positive values, got [${min}, ${max}]`);
  if (max / min >= 10) return [min, max];
  let lo = Math.floor(Math.log10(min) + 1e-9);
  let hi = Math.ceil(Math.log10(max) - 1e-9);
  if (lo === hi) {
    // A single power of ten: one decade either side keeps it centred.
    lo -= 1;
    hi += 1;
  }
  return [10 ** lo, 10 ** hi];
}

/** A log10 scale; ticks at powers of ten (plus 2× and 5× when the domain spans at most two decades). */
export function logScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  if (!(d0 > 0 && d1 > 0) || d0 === d1) throw new Error(`logScale: domain must be positive and non-empty, got [${d0}, ${d1}]`);
  const l0 = Math.log10(d0);
  const k = (r1 - r0) / (Math.log10(d1) - l0);
  const decades = Math.abs(Math.log10(d1) - l0);
  return {
    kind: 'log',
    domain: [d0, d1],
    range: [r0, r1],
    map: (v) => r0 + (Math.log10(v) - l0) * k,
    invert: (px) => 10 ** (l0 + (px - r0) / k),
    ticks() {
      const lo = Math.min(d0, d1) * (1 - 1e-9);
      const hi = Math.max(d0, d1) * (1 + 1e-9);
      const out: number[] = [];
      for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
        for (const m of decades <= 2 ? [1, 2, 5] : [1]) {
          const v = clean(m * 10 ** e);
          if (v >= lo && v <= hi) out.push(v);
        }
      }
      return out;
    },
    // one notation per axis: exponents throughout when any tick needs one
    format: Math.min(d0, d1) < 1e-2 || Math.max(d0, d1) >= 1e4 ? formatExp : formatSig,
  };
}

/** `v` in exponent notation with at most `sig` significant digits: `1e-3`, `2.5e-4`; exponent 0 prints bare (`1`, `2.5`). */
export function formatExp(v: number, sig = 3): string {
  if (!Number.isFinite(v)) return 'n/a';
  if (v === 0) return '0';
  const [m, e] = v.toExponential(sig - 1).split('e');
  return Number(e) === 0 ? String(Number(m)) : `${String(Number(m))}e${Number(e)}`;
}

/** `v` with `digits` decimals, never `-0`. */
export function formatFixed(v: number, digits: number): string {
  const s = v.toFixed(digits);
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

/** Compact label: plain decimals for 1e-3 ≤ |v| < 1e4, else `2e-5` style; at most `sig` significant digits. */
export function formatSig(v: number, sig = 3): string {
  if (!Number.isFinite(v)) return 'n/a';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e4) return String(Number(v.toPrecision(sig)));
  const [m, e] = v.toExponential(sig - 1).split('e');
  return `${String(Number(m))}e${Number(e)}`;
}

/** How figure labels print numbers. */
export type LabelFormat = 'fixed2' | 'fixed3' | 'percent' | 'sig2' | 'sig3';

/** Formats a value for a label; non-finite → "n/a". */
export function formatValue(v: number, f: LabelFormat = 'sig3'): string {
  if (!Number.isFinite(v)) return 'n/a';
  switch (f) {
    case 'fixed2':
      return formatFixed(v, 2);
    case 'fixed3':
      return formatFixed(v, 3);
    case 'percent':
      return `${formatFixed(100 * v, 0)}%`;
    case 'sig2':
      return formatSig(v, 2);
    case 'sig3':
      return formatSig(v, 3);
  }
}
